// Cluster DNS server: a small authoritative server for the cluster domain
// (`cluster.local`) on UDP and TCP, with ldns as the wire codec. The records
// come from a DnsZone (dns_records.h) that netproxy keeps up to date from its
// Service and Endpoints informers; names outside the zone are forwarded, as
// they are, to the host's resolvers (/etc/resolv.conf) and the answer relayed.
//
//   in the zone, with records  -> NOERROR, authoritative, the records (TTL 5 s)
//   in the zone, other type    -> NOERROR, no answer, the zone's SOA (NODATA)
//   in the zone, unknown name  -> NXDOMAIN with the SOA
//   outside the zone           -> forwarded over UDP (2 s timeout, next upstream
//                                 on timeout); SERVFAIL when none answers
//   not a query / unparseable  -> NOTIMP / FORMERR (nothing for garbage)
//
// Forwarding happens only for queries that arrive; nothing is sent at start.
// Pods reach the server through the kube-dns Service (10.96.0.10:53), whose
// hand-written Endpoints point at the address this server listens on (see
// NetProxy::bootstrapDnsService in netproxy.h).
//
// Threads: one for UDP, one for TCP (connections served one at a time, 2 s
// read timeout), two forwarding workers. Thread-safe: setService() may be
// called from any thread while serving.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/result.h"
#include "netproxy/dns_records.h"

namespace skiff::netproxy {

struct DnsServerOptions {
  // "IP:PORT" to listen on (UDP and TCP); port 0 picks a free port (tests).
  std::string listen = "10.244.0.1:53";
  std::string domain = "cluster.local";
  // Resolvers for other names, "IP" or "IP:PORT"; empty = the `nameserver`
  // lines of resolvConf (IPv4 only) when the server starts.
  std::vector<std::string> upstreams;
  std::string resolvConf = "/etc/resolv.conf";
  int forwardTimeoutMillis = 2000;
  int ttlSeconds = 5;
};

// The IPv4 `nameserver` addresses of a resolv.conf text, in order.
std::vector<std::string> parseResolvConf(const std::string& text);

// Answers one DNS query message from `zone` (pure; used by the server and by
// tests). Returns the response bytes, or "" when the query is outside the zone
// and must be forwarded (or is garbage with no header to answer).
std::string answerQuery(const std::string& query, const DnsZone& zone, int ttlSeconds,
                        bool* forward = nullptr);

class DnsServer {
 public:
  explicit DnsServer(DnsServerOptions options);
  ~DnsServer();
  DnsServer(const DnsServer&) = delete;
  DnsServer& operator=(const DnsServer&) = delete;

  // Binds UDP and TCP and starts serving. kUnavailable (naming the address)
  // when it cannot bind, kInvalid for a bad listen address.
  Status start();
  // Stops within about 200 ms and joins every thread.
  void stop();

  // The bound port (after start()).
  int port() const { return port_; }
  const std::string& address() const { return address_; }

  void setService(const std::string& key, std::vector<DnsRecord> records);
  void clearServices();

 private:
  struct Forward {
    std::string query;
    std::function<void(const std::string&)> reply;
  };
  void serveUdp();
  void serveTcp();
  void forwardLoop();
  std::string respond(const std::string& query, std::function<void(const std::string&)> later);
  std::string forwardNow(const std::string& query);

  DnsServerOptions options_;
  std::string address_;
  int port_ = 0;
  int udp_ = -1, tcp_ = -1;
  std::vector<std::string> upstreams_;

  mutable std::mutex zoneMu_;
  DnsZone zone_;

  std::mutex fwdMu_;
  std::condition_variable fwdCv_;
  std::deque<Forward> forwards_;

  std::atomic<bool> stopping_{false};
  std::vector<std::thread> threads_;
};

}  // namespace skiff::netproxy
