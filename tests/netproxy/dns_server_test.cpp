// Cluster DNS server on 127.0.0.1 (a free port): real UDP and TCP queries built
// and parsed with ldns; forwarding against a fake upstream on 127.0.0.1.
#include "netproxy/dns_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <atomic>
#include <memory>
#include <thread>

#include <ldns/ldns.h>

#include "tests/netproxy/dns_test_util.h"
#include "tests/test_util.h"

using namespace skiff::netproxy;
using namespace skiff::netproxy::testing;
using skiff::api::Json;

namespace {

uint16_t idOf(const std::string& wire) {
  return wire.size() >= 2 ? static_cast<uint16_t>((static_cast<unsigned char>(wire[0]) << 8) |
                                                  static_cast<unsigned char>(wire[1]))
                          : 0;
}

sockaddr_in loopback(int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

std::string udpAsk(int port, const std::string& q) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a = loopback(port);
  sendto(fd, q.data(), q.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a);
  pollfd p{fd, POLLIN, 0};
  std::string out;
  if (poll(&p, 1, 5000) == 1) {
    char buf[4096];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n > 0) out.assign(buf, n);
  }
  close(fd);
  return out;
}

std::string tcpAsk(int port, const std::string& q) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a = loopback(port);
  std::string out;
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    std::string framed = {static_cast<char>(q.size() >> 8), static_cast<char>(q.size() & 0xff)};
    framed += q;
    send(fd, framed.data(), framed.size(), 0);
    unsigned char len[2];
    if (recv(fd, len, 2, MSG_WAITALL) == 2) {
      std::string body((len[0] << 8) | len[1], '\0');
      if (recv(fd, body.data(), body.size(), MSG_WAITALL) == static_cast<ssize_t>(body.size()))
        out = body;
    }
  }
  close(fd);
  return out;
}

// A fake upstream resolver on 127.0.0.1: answers every query with one A record
// 192.0.2.99 for the name asked, and counts the queries.
struct FakeUpstream {
  int fd = -1;
  int port = 0;
  std::atomic<int> queries{0};
  std::atomic<bool> stop{false};
  std::thread thread;
  FakeUpstream() {
    fd = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a = loopback(0);
    REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
    thread = std::thread([this] {
      char buf[4096];
      while (!stop) {
        pollfd p{fd, POLLIN, 0};
        if (poll(&p, 1, 100) != 1) continue;
        sockaddr_in from{};
        socklen_t fl = sizeof from;
        ssize_t n = recvfrom(fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &fl);
        if (n <= 0) continue;
        ++queries;
        Pkt q;
        if (ldns_wire2pkt(&q.p, reinterpret_cast<uint8_t*>(buf), n) != LDNS_STATUS_OK) continue;
        ldns_rr* question = ldns_rr_list_rr(ldns_pkt_question(q.p), 0);
        char* owner = ldns_rdf2str(ldns_rr_owner(question));
        ldns_rr* rr = nullptr;
        ldns_rr_new_frm_str(&rr, (std::string(owner) + " 60 IN A 192.0.2.99").c_str(), 0, nullptr,
                            nullptr);
        free(owner);
        ldns_pkt_set_qr(q.p, true);
        ldns_pkt_push_rr(q.p, LDNS_SECTION_ANSWER, rr);
        uint8_t* wire = nullptr;
        size_t size = 0;
        ldns_pkt2wire(&wire, q.p, &size);
        sendto(fd, wire, size, 0, reinterpret_cast<sockaddr*>(&from), fl);
        free(wire);
      }
    });
  }
  ~FakeUpstream() {
    stop = true;
    thread.join();
    close(fd);
  }
};

Json service(const std::string& name, Json spec) {
  return {{"kind", "Service"},
          {"metadata", {{"name", name}, {"namespace", "default"}}},
          {"spec", spec}};
}

}  // namespace

TEST_CASE("dns: resolv.conf nameservers (IPv4 only)", "[dns]") {
  CHECK(parseResolvConf("# c\nnameserver 10.0.0.2\nsearch x\nnameserver ::1\n"
                        "nameserver   127.0.0.53 \noptions ndots:5\n") ==
        std::vector<std::string>{"10.0.0.2", "127.0.0.53"});
}

TEST_CASE("dns: answerQuery codes (pure)", "[dns]") {
  DnsZone zone;
  zone.setService("default/web", serviceDnsRecords(service("web", {{"clusterIP", "10.96.0.20"}}),
                                                   nullptr, "cluster.local"));
  bool fwd = true;
  std::string a =
      answerQuery(query("web.default.svc.cluster.local.", LDNS_RR_TYPE_A, 7), zone, 5, &fwd);
  CHECK_FALSE(fwd);
  CHECK(idOf(a) == 7);
  CHECK(describe(a) == "NOERROR web.default.svc.cluster.local. A 10.96.0.20");
  CHECK(describe(answerQuery(query("web.default.svc.cluster.local.", LDNS_RR_TYPE_AAAA), zone,
                             5)) == "NOERROR");
  CHECK(describe(answerQuery(query("nope.default.svc.cluster.local.", LDNS_RR_TYPE_A), zone, 5)) ==
        "NXDOMAIN");
  CHECK(answerQuery(query("example.com.", LDNS_RR_TYPE_A), zone, 5, &fwd).empty());
  CHECK(fwd);
  CHECK(describe(answerQuery(query("20.0.96.10.in-addr.arpa.", LDNS_RR_TYPE_PTR), zone, 5, &fwd)) ==
        "NOERROR 20.0.96.10.in-addr.arpa. PTR web.default.svc.cluster.local.");
  CHECK_FALSE(fwd);
  CHECK(answerQuery(query("1.2.0.192.in-addr.arpa.", LDNS_RR_TYPE_PTR), zone, 5, &fwd).empty());
  CHECK(fwd);
  // Garbage with a header gets FORMERR; too short for a header gets nothing.
  CHECK(describe(answerQuery(std::string("\x01\x02\x00\x00\x00\x05\x00\x00\x00\x00\x00\x00zz", 14),
                             zone, 5)) == "FORMERR");
  CHECK(answerQuery("abc", zone, 5).empty());
}

TEST_CASE("dns server: UDP and TCP on 127.0.0.1, forwarding to a fake upstream", "[dns]") {
  FakeUpstream up;
  DnsServerOptions o;
  o.listen = "127.0.0.1:0";
  o.upstreams = {"127.0.0.1:" + std::to_string(up.port)};
  o.forwardTimeoutMillis = 1000;
  DnsServer server(o);
  auto st = server.start();
  INFO((st.ok() ? "" : st.error().message));
  REQUIRE(st.ok());
  REQUIRE(server.port() > 0);
  server.setService(
      "default/web",
      serviceDnsRecords(
          service("web", {{"clusterIP", "10.96.0.20"},
                          {"ports", Json::array({{{"name", "http"}, {"port", 80}}})}}),
          nullptr, "cluster.local"));
  server.setService(
      "default/ext",
      serviceDnsRecords(service("ext", {{"type", "ExternalName"}, {"externalName", "example.org"}}),
                        nullptr, "cluster.local"));

  CHECK(describe(udpAsk(server.port(), query("web.default.svc.cluster.local.", LDNS_RR_TYPE_A))) ==
        "NOERROR web.default.svc.cluster.local. A 10.96.0.20");
  CHECK(describe(tcpAsk(server.port(), query("web.default.svc.cluster.local.", LDNS_RR_TYPE_A))) ==
        "NOERROR web.default.svc.cluster.local. A 10.96.0.20");
  CHECK(describe(udpAsk(server.port(),
                        query("_http._tcp.web.default.svc.cluster.local.", LDNS_RR_TYPE_SRV))) ==
        "NOERROR _http._tcp.web.default.svc.cluster.local. SRV 0 100 80 "
        "web.default.svc.cluster.local.");
  CHECK(describe(udpAsk(server.port(), query("ext.default.svc.cluster.local.", LDNS_RR_TYPE_A))) ==
        "NOERROR ext.default.svc.cluster.local. CNAME example.org.");
  CHECK(describe(udpAsk(server.port(), query("gone.default.svc.cluster.local.", LDNS_RR_TYPE_A))) ==
        "NXDOMAIN");
  CHECK(up.queries == 0);  // nothing in the zone was forwarded

  std::string fwd = udpAsk(server.port(), query("www.example.com.", LDNS_RR_TYPE_A, 99));
  CHECK(idOf(fwd) == 99);
  CHECK(describe(fwd) == "NOERROR www.example.com. A 192.0.2.99");
  CHECK(describe(tcpAsk(server.port(), query("tcp.example.com.", LDNS_RR_TYPE_A))) ==
        "NOERROR tcp.example.com. A 192.0.2.99");
  CHECK(up.queries == 2);

  // Records follow the zone.
  server.setService("default/web", {});
  CHECK(describe(udpAsk(server.port(), query("web.default.svc.cluster.local.", LDNS_RR_TYPE_A))) ==
        "NXDOMAIN");
  server.stop();
}

TEST_CASE("dns server: no upstream answering gives SERVFAIL", "[dns]") {
  // An upstream port on 127.0.0.1 nobody listens on.
  int deadPort = skiff::testing::unusedLoopbackPort(SOCK_DGRAM);
  DnsServerOptions o;
  o.listen = "127.0.0.1:0";
  o.upstreams = {"127.0.0.1:" + std::to_string(deadPort)};
  o.forwardTimeoutMillis = 300;
  DnsServer server(o);
  REQUIRE(server.start().ok());
  CHECK(describe(udpAsk(server.port(), query("example.com.", LDNS_RR_TYPE_A))) == "SERVFAIL");
}

TEST_CASE("dns server: bad listen address is a clear error", "[dns]") {
  DnsServerOptions o;
  o.listen = "localhost:53x";
  DnsServer server(o);
  auto st = server.start();
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().message.find("dns listen address \"localhost:53x\"") != std::string::npos);
}
