// [root] tests: the ruleset loaded into a real kernel (inside a throw-away
// network namespace, in a uniquely named table) and real TCP connections.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <chrono>
#include <map>
#include <set>
#include <thread>

#include "netproxy/nft.h"
#include "netproxy/proxier.h"
#include "tests/netproxy/kernel_test_util.h"
#include "tests/netproxy/model_util.h"

using namespace skiff;
using namespace skiff::netproxy;
using namespace skiff::netproxy::testing;

namespace {

// Deletes the test table however the test ends.
struct TableGuard {
  NftExecutor& nft;
  RulesetConfig config;
  ~TableGuard() { (void)nft.apply(deleteTableText(config.table)); }
};

const Endpoint kS1{"10.250.2.2", 8080};
const Endpoint kS2{"10.250.3.2", 8080};

RulesetConfig testConfig() {
  RulesetConfig c;
  c.table = "skiff_t" + std::to_string(getpid());
  c.nodeAddresses = {"127.0.0.1", "10.250.1.1", "10.250.2.1", "10.250.3.1"};
  c.serviceCidr = "10.96.0.0/12";
  return c;
}

// The first word of each answer ("S1"/"S2"), or the whole line for errors.
std::vector<std::string> names(const std::vector<std::string>& lines) {
  std::vector<std::string> out;
  for (const auto& l : lines) out.push_back(l.rfind("ERR", 0) == 0 ? l : l.substr(0, l.find(' ')));
  return out;
}

std::set<std::string> distinct(const std::vector<std::string>& v) {
  return {v.begin(), v.end()};
}

// Everything a kernel test needs; REQUIREs root and a working network.
struct Fixture {
  TestNetwork net;
  std::unique_ptr<InNetns> inNode;
  std::unique_ptr<LibNftExecutor> nft;
  std::unique_ptr<TableGuard> guard;
  RulesetConfig config = testConfig();

  bool setUp() {
    if (geteuid() != 0) {
      WARN("not root: skipped");
      return false;
    }
    REQUIRE(net.ok());
    INFO(net.error());
    inNode = std::make_unique<InNetns>(net.node);
    REQUIRE(inNode->ok());
    auto e = LibNftExecutor::create();
    REQUIRE(e.ok());
    nft = std::move(*e);
    guard = std::make_unique<TableGuard>(TableGuard{*nft, config});
    return true;
  }
  ~Fixture() {
    guard.reset();   // table first, from inside the node namespace
    inNode.reset();  // then back to the original namespace; net is removed last
  }
};

}  // namespace

TEST_CASE("kernel: ClusterIP, refusal, NodePorts incl. 127.0.0.1, external IPs, hairpin",
          "[root][kernel]") {
  Fixture f;
  if (!f.setUp()) return;
  Model m;
  auto add = [&](ServiceInfo s) { m.services[s.key()] = std::move(s); };
  add(service("one", "10.96.0.10", {kS1}, 30080));
  add(service("none", "10.96.0.11", {}, 30081));
  ServiceInfo ext = service("ext", "10.96.0.12", {kS2});
  ext.type = "LoadBalancer";
  ext.externalIPs = {"192.0.2.10"};
  ext.loadBalancerIPs = {"192.0.2.20"};
  add(ext);
  ServiceInfo local = service("local", "10.96.0.13", {kS2}, 30083);
  local.externalIPs = {"192.0.2.30"};
  local.externalLocal = true;
  add(local);
  Proxier proxier(*f.nft, f.config);
  Status st = proxier.sync(m);
  INFO((st.ok() ? "" : st.error().message));
  REQUIRE(st.ok());

  // From a pod: ClusterIP reaches the endpoint, client source kept.
  CHECK(f.net.connect(f.net.pod, "10.96.0.10", 80) == std::vector<std::string>{"S1 10.250.1.2"});
  // From the node itself (output hook).
  CHECK(names(f.net.connect(f.net.node, "10.96.0.10", 80)) == std::vector<std::string>{"S1"});

  // No endpoint: refused at once (TCP reset), from a pod and from the node.
  for (const auto& ns : {f.net.pod, f.net.node}) {
    auto r = f.net.connect(ns, "10.96.0.11", 80);
    REQUIRE(r.size() == 1);
    CHECK(r[0].rfind("ERR ECONNREFUSED", 0) == 0);
    CHECK(std::stoi(r[0].substr(r[0].rfind(' '))) < 500);
  }
  // An unknown port on a ClusterIP, and an unused address of the range: refused too.
  CHECK(f.net.connect(f.net.pod, "10.96.0.10", 81)[0].rfind("ERR ECONNREFUSED", 0) == 0);
  CHECK(f.net.connect(f.net.pod, "10.96.5.5", 80)[0].rfind("ERR ECONNREFUSED", 0) == 0);

  // NodePort on the node's address from a pod (masqueraded: Cluster policy), on
  // 127.0.0.1 and on the node address from the node, and refused without endpoints.
  CHECK(f.net.connect(f.net.pod, "10.250.1.1", 30080) == std::vector<std::string>{"S1 10.250.2.1"});
  CHECK(names(f.net.connect(f.net.node, "127.0.0.1", 30080, 3)) ==
        std::vector<std::string>{"S1", "S1", "S1"});
  // The host's own connection from an address that is not on the endpoint's
  // link is masqueraded (an endpoint off the machine could not answer it).
  CHECK(f.net.connect(f.net.node, "10.250.3.1", 30080) ==
        std::vector<std::string>{"S1 10.250.2.1"});
  CHECK(f.net.connect(f.net.node, "127.0.0.1", 30081)[0].rfind("ERR ECONNREFUSED", 0) == 0);
  CHECK(f.net.connect(f.net.pod, "10.250.1.1", 30081)[0].rfind("ERR ECONNREFUSED", 0) == 0);

  // externalIPs and LoadBalancer ingress IPs act like the ClusterIP; Cluster policy
  // masquerades external traffic, Local keeps the client's source.
  CHECK(f.net.connect(f.net.pod, "192.0.2.10", 80) == std::vector<std::string>{"S2 10.250.3.1"});
  CHECK(f.net.connect(f.net.pod, "192.0.2.20", 80) == std::vector<std::string>{"S2 10.250.3.1"});
  CHECK(f.net.connect(f.net.pod, "192.0.2.30", 80) == std::vector<std::string>{"S2 10.250.1.2"});
  CHECK(f.net.connect(f.net.pod, "10.250.1.1", 30083) == std::vector<std::string>{"S2 10.250.1.2"});

  // Hairpin: the endpoint reaches its own Service and lands on itself (masqueraded).
  CHECK(f.net.connect(f.net.server1, "10.96.0.10", 80) ==
        std::vector<std::string>{"S1 10.250.2.1"});
}

TEST_CASE("kernel: spreading, ClientIP affinity, affinity off, removed endpoints, timeout",
          "[root][kernel]") {
  Fixture f;
  if (!f.setUp()) return;
  Model m;
  ServiceInfo s = service("web", "10.96.0.20", {kS1, kS2}, 30090);
  m.services[s.key()] = s;
  Proxier proxier(*f.nft, f.config);
  REQUIRE(proxier.sync(m).ok());

  // Without affinity both endpoints answer (all 30 on one: p = 2^-29).
  CHECK(distinct(names(f.net.connect(f.net.pod, "10.96.0.20", 80, 30))) ==
        std::set<std::string>{"S1", "S2"});

  // Affinity on: 15 identical answers in a row, on the ClusterIP and on the NodePort.
  m.services[s.key()].affinity = true;
  m.services[s.key()].affinityTimeoutSeconds = 2;
  REQUIRE(proxier.sync(m).ok());
  CHECK_FALSE(proxier.lastSync().full);
  auto sticky = names(f.net.connect(f.net.pod, "10.96.0.20", 80, 15));
  REQUIRE(sticky.size() == 15);
  CHECK(distinct(sticky).size() == 1);
  CHECK(sticky[0].rfind("S", 0) == 0);
  auto stickyNp = names(f.net.connect(f.net.pod, "10.250.1.1", 30090, 15));
  CHECK(distinct(stickyNp).size() == 1);
  CHECK(distinct(names(f.net.connect(f.net.node, "127.0.0.1", 30090, 15))).size() == 1);

  // A full sync that keeps the table (as after a netproxy restart) keeps stickiness.
  proxier.forceFullSync();
  REQUIRE(proxier.sync(m).ok());
  CHECK(proxier.lastSync().mode == "refill");
  CHECK(names(f.net.connect(f.net.pod, "10.96.0.20", 80, 5)) ==
        std::vector<std::string>(5, sticky[0]));

  // The kernel's affinity map holds the choice, and it expires after the timeout.
  auto listing = f.nft->listJson(listAffinityCommand(f.config));
  REQUIRE(listing.ok());
  CHECK(listing->find("10.250.1.2") != std::string::npos);
  std::this_thread::sleep_for(std::chrono::milliseconds(3200));
  listing = f.nft->listJson(listAffinityCommand(f.config));
  REQUIRE(listing.ok());
  CHECK(listing->find("10.250.1.2") == std::string::npos);

  // Removing the endpoint a client sticks to: the client moves to the other at
  // once (its affinity entry is deleted, the server itself still runs).
  m.services[s.key()].affinityTimeoutSeconds = 60;
  REQUIRE(proxier.sync(m).ok());
  std::string first = names(f.net.connect(f.net.pod, "10.96.0.20", 80))[0];
  REQUIRE((first == "S1" || first == "S2"));
  const Endpoint& keep = first == "S1" ? kS2 : kS1;
  const std::string other = first == "S1" ? "S2" : "S1";
  m.services[s.key()].ports[0].endpoints = {keep};
  REQUIRE(proxier.sync(m).ok());
  CHECK_FALSE(proxier.lastSync().full);
  CHECK(distinct(names(f.net.connect(f.net.pod, "10.96.0.20", 80, 5))) ==
        std::set<std::string>{other});

  // Both endpoints back, affinity off: spreading again at once.
  m.services[s.key()].ports[0].endpoints = {kS1, kS2};
  REQUIRE(proxier.sync(m).ok());
  CHECK(distinct(names(f.net.connect(f.net.pod, "10.96.0.20", 80, 5))).size() == 1);
  m.services[s.key()].affinity = false;
  REQUIRE(proxier.sync(m).ok());
  CHECK(distinct(names(f.net.connect(f.net.pod, "10.96.0.20", 80, 30))) ==
        std::set<std::string>{"S1", "S2"});
}

TEST_CASE("kernel: loadBalancerSourceRanges let only their sources reach the ingress IP",
          "[root][kernel]") {
  Fixture f;
  if (!f.setUp()) return;
  Model m;
  ServiceInfo lb = service("fw", "10.96.0.14", {kS1});
  lb.type = "LoadBalancer";
  lb.loadBalancerIPs = {"192.0.2.40"};
  lb.restrictSources = true;
  lb.sourceRanges = {"10.250.1.0/24"};  // the pod's subnet, not S2's
  m.services[lb.key()] = lb;
  Proxier proxier(*f.nft, f.config);
  REQUIRE(proxier.sync(m).ok());
  auto allowed = [&](const std::string& ns) {
    auto r = f.net.connect(ns, "192.0.2.40", 80);
    return r.size() == 1 && r[0].rfind("S1 ", 0) == 0;
  };
  auto dropped = [&](const std::string& ns) {
    auto r = f.net.connect(ns, "192.0.2.40", 80);
    return r.size() == 1 && r[0].rfind("ERR ETIMEDOUT", 0) == 0;
  };
  CHECK(allowed(f.net.pod));
  CHECK(dropped(f.net.server2));
  // The ClusterIP is not the load balancer's: every source reaches it.
  CHECK(names(f.net.connect(f.net.server2, "10.96.0.14", 80)) == std::vector<std::string>{"S1"});

  // A full sync over the table loads the interval elements through libnftnl.
  proxier.forceFullSync();
  REQUIRE(proxier.sync(m).ok());
  CHECK(proxier.lastSync().mode == "refill");
  CHECK(allowed(f.net.pod));
  CHECK(dropped(f.net.server2));

  // Changed ranges (a partial sync): S2's subnet in, the pod's out.
  m.services[lb.key()].sourceRanges = {"10.250.3.0/24"};
  REQUIRE(proxier.sync(m).ok());
  CHECK_FALSE(proxier.lastSync().full);
  CHECK(dropped(f.net.pod));
  CHECK(allowed(f.net.server2));

  // No ranges: every source.
  m.services[lb.key()].restrictSources = false;
  m.services[lb.key()].sourceRanges.clear();
  REQUIRE(proxier.sync(m).ok());
  CHECK(allowed(f.net.pod));
  CHECK(allowed(f.net.server2));
}

TEST_CASE("kernel: incremental changes take effect; failures fall back to a full sync",
          "[root][kernel]") {
  Fixture f;
  if (!f.setUp()) return;
  Model m;
  m.services["default/a"] = service("a", "10.96.0.30", {});
  m.services["default/b"] = service("b", "10.96.0.31", {kS2});
  Proxier proxier(*f.nft, f.config);
  REQUIRE(proxier.sync(m).ok());
  CHECK(proxier.lastSync().full);
  CHECK(f.net.connect(f.net.pod, "10.96.0.30", 80)[0].rfind("ERR ECONNREFUSED", 0) == 0);

  // An endpoint appears: partial sync, live on return.
  m.services["default/a"].ports[0].endpoints = {kS1};
  REQUIRE(proxier.sync(m).ok());
  CHECK_FALSE(proxier.lastSync().full);
  CHECK(names(f.net.connect(f.net.pod, "10.96.0.30", 80)) == std::vector<std::string>{"S1"});
  // The endpoint moves; the count grows (a new class chain); a Service goes away.
  m.services["default/a"].ports[0].endpoints = {kS2};
  REQUIRE(proxier.sync(m).ok());
  CHECK(names(f.net.connect(f.net.pod, "10.96.0.30", 80)) == std::vector<std::string>{"S2"});
  m.services["default/a"].ports[0].endpoints = {kS1, kS2};
  REQUIRE(proxier.sync(m).ok());
  CHECK(distinct(names(f.net.connect(f.net.pod, "10.96.0.30", 80, 30))) ==
        std::set<std::string>{"S1", "S2"});
  m.services.erase("default/b");
  REQUIRE(proxier.sync(m).ok());
  CHECK_FALSE(proxier.lastSync().full);
  CHECK(f.net.connect(f.net.pod, "10.96.0.31", 80)[0].rfind("ERR ECONNREFUSED", 0) == 0);

  // Drift: someone deletes an element; the partial sync that depends on it fails
  // atomically (nothing changes), and the next sync is full and repairs the table.
  REQUIRE(
      f.nft->apply("delete element ip " + f.config.table + " svc { 10.96.0.30 . tcp . 80 }").ok());
  m.services["default/a"].ports[0].endpoints = {kS1};
  Status st = proxier.sync(m);
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().message.find("Error") != std::string::npos);  // libnftables' own words
  CHECK(proxier.needsFullSync());
  REQUIRE(proxier.sync(m).ok());
  CHECK(proxier.lastSync().full);
  CHECK(proxier.lastSync().mode == "refill");
  CHECK(names(f.net.connect(f.net.pod, "10.96.0.30", 80)) == std::vector<std::string>{"S1"});
  CHECK(f.net.connect(f.net.pod, "10.96.0.31", 80)[0].rfind("ERR ECONNREFUSED", 0) == 0);
  // Someone deletes the whole table: the next full sync recreates it.
  REQUIRE(f.nft->apply(deleteTableText(f.config.table)).ok());
  proxier.forceFullSync();
  REQUIRE(proxier.sync(m).ok());
  CHECK(proxier.lastSync().mode == "recreate");
  CHECK(names(f.net.connect(f.net.pod, "10.96.0.30", 80)) == std::vector<std::string>{"S1"});

  // A bad transaction is refused whole, with libnftables' error text.
  Status bad = f.nft->apply("add element ip " + f.config.table +
                            " svc { 10.96.0.99 . tcp . 80 : goto nosuchchain }");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message.find("nosuchchain") != std::string::npos);
}

TEST_CASE("kernel: two clusters' tables with the same addresses; each serves only its own bridge",
          "[root][kernel]") {
  Fixture f;
  if (!f.setUp()) return;
  // Two clusters on one node whose ranges overlap (as two lasting clusters with
  // default ranges would): same ClusterIPs, same LoadBalancer IP.
  const std::string podA = f.net.addBridgedPod("bra", 11);
  const std::string podB = f.net.addBridgedPod("brb", 12);
  INFO(f.net.error());
  REQUIRE(!podA.empty());
  REQUIRE(!podB.empty());
  RulesetConfig configA = f.config;  // older table
  configA.podBridge = "bra";
  RulesetConfig configB = f.config;  // newer: its hooks come first
  configB.table = f.config.table + "b";
  configB.podBridge = "brb";
  TableGuard guardB{*f.nft, configB};

  auto lb = [](ServiceInfo s, const std::string& ip) {
    s.type = "LoadBalancer";
    s.loadBalancerIPs = {ip};
    return s;
  };
  Model a, b;
  auto add = [](Model& m, ServiceInfo s) { m.services[s.key()] = std::move(s); };
  add(a, lb(service("dns", "10.96.0.10", {kS1}), "10.255.0.1"));
  add(a, service("none", "10.96.0.11", {}));
  add(a, service("only-a", "10.96.0.20", {kS1}, 30080));
  add(b, lb(service("dns", "10.96.0.10", {kS2}), "10.255.0.1"));
  add(b, service("busy", "10.96.0.11", {kS2}));
  Proxier proxierA(*f.nft, configA);
  REQUIRE(proxierA.sync(a).ok());
  Proxier proxierB(*f.nft, configB);
  REQUIRE(proxierB.sync(b).ok());

  // Each cluster's pods reach their own cluster's Service at the shared address.
  CHECK(f.net.connect(podA, "10.96.0.10", 80, 3) == std::vector<std::string>(3, "S1 10.250.11.2"));
  CHECK(f.net.connect(podB, "10.96.0.10", 80, 3) == std::vector<std::string>(3, "S2 10.250.12.2"));
  CHECK(names(f.net.connect(podA, "10.255.0.1", 80)) == std::vector<std::string>{"S1"});
  CHECK(names(f.net.connect(podB, "10.255.0.1", 80)) == std::vector<std::string>{"S2"});
  // A's "no endpoints" refusal (hooked before any NAT) is for A's pods only.
  CHECK(f.net.connect(podA, "10.96.0.11", 80)[0].rfind("ERR ECONNREFUSED", 0) == 0);
  CHECK(names(f.net.connect(podB, "10.96.0.11", 80)) == std::vector<std::string>{"S2"});
  // B's pods get nothing of A's: not its ClusterIP (refused, never routed out),
  // not its NodePort on the node's bridge address (nobody listens there).
  CHECK(f.net.connect(podB, "10.96.0.20", 80)[0].rfind("ERR ECONNREFUSED", 0) == 0);
  CHECK(f.net.connect(podB, "10.250.12.1", 30080)[0].rfind("ERR ECONNREFUSED", 0) == 0);
  CHECK(names(f.net.connect(podA, "10.250.11.1", 30080)) == std::vector<std::string>{"S1"});

  // Clients that are not behind a bridge are served as before: the host
  // (output hooks) on a ClusterIP and on 127.0.0.1, and an outside client on a
  // plain veth, on the NodePort and the ClusterIP.
  CHECK(names(f.net.connect(f.net.node, "10.96.0.20", 80)) == std::vector<std::string>{"S1"});
  CHECK(names(f.net.connect(f.net.node, "127.0.0.1", 30080)) == std::vector<std::string>{"S1"});
  CHECK(f.net.connect(f.net.pod, "10.250.1.1", 30080) == std::vector<std::string>{"S1 10.250.2.1"});
  CHECK(f.net.connect(f.net.pod, "10.96.0.20", 80) == std::vector<std::string>{"S1 10.250.1.2"});

  // Without its bridge guard, A's refusal catches B's pods again: the
  // isolation above is the guard's doing.
  configA.podBridge = "";
  Proxier unguardedA(*f.nft, configA);
  REQUIRE(unguardedA.sync(a).ok());
  CHECK(f.net.connect(podB, "10.96.0.11", 80)[0].rfind("ERR ECONNREFUSED", 0) == 0);
}
