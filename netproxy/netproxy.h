// NetProxy: the netproxy component. It keeps the node's `ip <table>` equal to
// the Services and Endpoints in the API, and serves cluster DNS from the same
// data — kube-proxy's nftables proxier plus a small CoreDNS in one.
//
//   Service/Endpoints informers --(keys)--> dirty set --> sync thread:
//       rebuild the changed Services' ServiceInfo (service_state.h) and DNS
//       records, then Proxier::sync(desired, changed)  (partial, flush-free)
//
// Syncs are rate-limited (at most one per minSyncInterval; changes arriving in
// between are batched). The first sync, any sync after a failure, and one every
// resyncPeriod are full syncs: the full sync refills the existing table (its
// rules rewritten, its sets emptied and reloaded in one batch), so if someone
// deleted or edited the table it is back within the period.
//
// Start and stop keep traffic flowing: start() never flushes or deletes the
// table, it refills it (conntrack keeps established connections' NAT, affinity
// entries survive); stop() leaves the rules in place for the next netproxy.
//
// "No packet to a cluster range leaves the machine": the table rejects (TCP
// reset, else ICMP port unreachable) traffic to a service port without ready
// endpoints, and after NAT anything still addressed to a ClusterIP, the service
// CIDR or the LoadBalancer pool. Routing backs that up, set by `skiff up` and
// by `skiff netproxy --bridge` (ctl/host_routes.h), not here: the ranges are
// routed `unreachable`, except for the host's own connections, which go via
// the pod bridge (a plain unreachable route would fail every host connect() to
// a ClusterIP: the route is looked up before the first packet reaches the nft
// output hook). Without a bridge, the host needs an ordinary route for the
// ranges (e.g. `ip route add 10.96.0.0/12 dev skiff0`).
//
// LoadBalancer ingress IPs (from the apiserver's pool, status.loadBalancer.
// ingress[].ip) need not be local addresses: the table DNATs them in prerouting
// (pods) and output (host), like ClusterIPs.
//
// Thread-safety: start()/stop() from one thread; stats() from any.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "client/informer.h"
#include "client/kubeconfig.h"
#include "client/rest_client.h"
#include "netproxy/dns_server.h"
#include "netproxy/health_server.h"
#include "netproxy/nft.h"
#include "netproxy/proxier.h"

namespace skiff::netproxy {

struct NetProxyOptions {
  std::string table = "skiff";  // `ip <table>`; tests use unique names
  std::string serviceCidr = "10.96.0.0/12";
  std::string loadBalancerCidr = "10.255.0.0/24";  // the apiserver's pool (refused when unused)
  // The cluster's pod bridge: traffic from other bridges (other clusters' pods)
  // is left alone in prerouting (RulesetConfig::podBridge). "" = any interface.
  std::string podBridge;
  // Local IPv4 addresses NodePorts answer on; empty = every local IPv4 address
  // (127.0.0.1 included) when start() runs.
  std::vector<std::string> nodeAddresses;
  // See RulesetConfig. "" = podBridge's address when it has one (on the pods'
  // link, so those connections need no masquerade), else the first non-loopback.
  std::string localnetSourceAddress;
  std::chrono::milliseconds resyncPeriod{30000};
  std::chrono::milliseconds minSyncInterval{10};
  bool dns = true;  // serve cluster DNS
  // Serve LoadBalancer health check ports (health_server.h).
  bool healthChecks = true;
  DnsServerOptions dnsOptions;
  // Tests: an executor to use (not owned; e.g. one created inside a netns).
  // nullptr = a LibNftExecutor created by start().
  NftExecutor* executor = nullptr;
};

struct NetProxyStats {
  uint64_t syncs = 0;
  uint64_t fullSyncs = 0;
  uint64_t failures = 0;
  SyncRecord last;
  SyncRecord lastFull;  // "refill" when the table was kept, "recreate" otherwise
  // When the last successful sync finished (steady clock).
  std::chrono::steady_clock::time_point lastSyncAt{};
  size_t services = 0;  // Services with rules
};

// Every local IPv4 address (getifaddrs), 127.0.0.1 included; or, given an
// interface name, that interface's addresses alone (none when it has none).
std::vector<std::string> localIPv4Addresses(const std::string& interface = "");

class NetProxy {
 public:
  NetProxy(client::ClientConfig config, NetProxyOptions options);
  ~NetProxy();
  NetProxy(const NetProxy&) = delete;
  NetProxy& operator=(const NetProxy&) = delete;

  // Starts the DNS server (kUnavailable if it cannot bind), the informers and
  // the sync thread. Non-blocking: rules appear once the informers have listed.
  Status start();
  // Stops promptly and joins; leaves the table in place.
  void stop();

  NetProxyStats stats() const;
  // The DNS server (nullptr when options.dns is false or before start()).
  DnsServer* dns() { return dns_.get(); }
  // The health check server (nullptr when options.healthChecks is false or
  // before start()).
  HealthServer* healthChecks() { return health_.get(); }
  // Waits until a sync that began after this call completed successfully
  // (tests, benchmarks); false on timeout.
  bool waitForSync(std::chrono::milliseconds timeout);

 private:
  void enqueue(const std::string& key);
  void run();
  void syncOnce(bool full);
  // Hands the health check ports of `desired_` to health_ (sync thread).
  void updateHealthChecks(bool full, const std::set<std::string>& changed, bool healthy);

  client::ClientConfig config_;
  NetProxyOptions options_;
  std::unique_ptr<client::RestClient> client_;
  std::unique_ptr<NftExecutor> ownedExecutor_;
  std::unique_ptr<Proxier> proxier_;
  std::unique_ptr<DnsServer> dns_;
  std::unique_ptr<HealthServer> health_;
  std::unique_ptr<client::Informer> services_, endpoints_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::set<std::string> dirty_;  // guarded by mu_
  bool stopping_ = false;        // guarded by mu_
  NetProxyStats stats_;          // guarded by mu_
  uint64_t completed_ = 0;       // successful syncs, guarded by mu_
  uint64_t started_ = 0;         // syncs begun, guarded by mu_
  std::thread thread_;
  Model desired_;  // sync thread only
  std::set<std::string> healthKeys_;  // sync thread only: keys with a health check port
  bool healthChecksHealthy_ = true;   // sync thread only: what health_ was last told
};

// The kube-dns bootstrap: creates or updates Service kube-system/kube-dns
// (clusterIP `serviceIP`, ports 53/UDP "dns" and 53/TCP "dns-tcp", no
// selector) and its hand-written Endpoints pointing at `dnsAddress`:`dnsPort`,
// where the DNS server listens. Creates namespace kube-system if missing.
// Idempotent.
Status bootstrapDnsService(client::RestClient& client, const std::string& dnsAddress, int dnsPort,
                           const std::string& serviceIP = "10.96.0.10");

}  // namespace skiff::netproxy
