// ruleset: Model -> nftables text, full and partial. No root needed.
#include <catch2/catch.hpp>

#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "netproxy/ruleset.h"
#include "tests/netproxy/model_util.h"

using namespace skiff;
using namespace skiff::netproxy;
using namespace skiff::netproxy::testing;

namespace {

RulesetConfig config() {
  RulesetConfig c;
  c.table = "skiff_test";
  c.nodeAddresses = {"127.0.0.1", "192.168.1.10"};
  return c;
}

size_t countLines(const std::string& text, const std::string& prefix) {
  std::istringstream in(text);
  size_t n = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(prefix, 0) == 0) ++n;
  }
  return n;
}

// A partial sync against a table that a full sync of `before` created.
std::string partial(const Model& before, const Model& after, const std::set<std::string>& changed) {
  KnownClasses known = classesOf(before);
  return partialSyncText(before, after, changed, config(), known);
}

bool has(const Elements& e, const std::string& set, const std::string& key,
         const std::string& value = "") {
  auto it = e.find({set, key});
  return it != e.end() && it->second == value;
}

}  // namespace

TEST_CASE("A ClusterIP with endpoints: service map, endpoint slots, hairpin", "[ruleset]") {
  auto r = serviceRules(service("web", "10.96.0.10", podEndpoints(2)));
  const Elements& e = r.elements;
  CHECK(has(e, "svc", "10.96.0.10 . tcp . 80", "goto svc_2"));
  CHECK(has(e, "ep_2", "10.96.0.10 . tcp . 80 . 0", "10.244.0.10 . 8080"));
  CHECK(has(e, "ep_2", "10.96.0.10 . tcp . 80 . 1", "10.244.0.11 . 8080"));
  CHECK(has(e, "post", "10.96.0.10 . tcp . 80", "goto masq_internal"));  // pods keep their source
  CHECK(has(e, "hairpin", "10.244.0.10 . 10.96.0.10 . 10.244.0.10"));
  CHECK(has(e, "cluster_ips", "10.96.0.10"));
  CHECK_FALSE(e.count({"noep", "10.96.0.10 . tcp . 80"}));
  CHECK_FALSE(e.count({"aff_rec", "10.96.0.10 . tcp . 80"}));
  CHECK(r.endpointCounts == std::set<int>{2});
  CHECK(r.affinityTimeouts.empty());
}

TEST_CASE("No ready endpoint: rejected, never DNATed", "[ruleset]") {
  auto r = serviceRules(service("empty", "10.96.0.11", podEndpoints(0), 30011));
  const Elements& e = r.elements;
  CHECK(has(e, "noep", "10.96.0.11 . tcp . 80"));
  CHECK(has(e, "noep_np", "tcp . 30011"));
  CHECK_FALSE(e.count({"svc", "10.96.0.11 . tcp . 80"}));
  CHECK_FALSE(e.count({"nodeport", "tcp . 30011"}));
  CHECK(r.endpointCounts.empty());
  // The reject path exists in the skeleton: TCP reset, else ICMP port unreachable.
  std::string text =
      fullSyncText(modelOf({service("empty", "10.96.0.11", podEndpoints(0))}), config());
  CHECK(text.find("add rule ip skiff_test reject_check ip daddr . meta l4proto . th dport @noep "
                  "goto do_reject") != std::string::npos);
  CHECK(text.find("do_reject meta l4proto tcp reject with tcp reset") != std::string::npos);
  CHECK(text.find("add element ip skiff_test noep { 10.96.0.11 . tcp . 80 }") != std::string::npos);
}

TEST_CASE("NodePort, externalIPs, LoadBalancer IPs and traffic policy", "[ruleset]") {
  ServiceInfo s = service("lb", "10.96.0.12", podEndpoints(3), 30012);
  s.type = "LoadBalancer";
  s.externalIPs = {"192.0.2.7"};
  s.loadBalancerIPs = {"172.18.255.1"};
  auto cluster = serviceRules(s).elements;
  CHECK(has(cluster, "nodeport", "tcp . 30012", "goto np_3"));
  CHECK(has(cluster, "npep_3", "tcp . 30012 . 2", "10.244.0.12 . 8080"));
  CHECK(has(cluster, "np_localnet", "tcp . 30012"));  // 127.0.0.1 too
  CHECK(has(cluster, "post_np", "tcp . 30012", "goto masq_always"));
  for (const std::string ip : {"192.0.2.7", "172.18.255.1"}) {
    CHECK(has(cluster, "svc", ip + " . tcp . 80", "goto svc_3"));
    CHECK(has(cluster, "ep_3", ip + " . tcp . 80 . 0", "10.244.0.10 . 8080"));
    CHECK(has(cluster, "post", ip + " . tcp . 80", "goto masq_always"));
  }
  CHECK_FALSE(cluster.count({"cluster_ips", "192.0.2.7"}));  // host services on it stay reachable

  s.externalLocal = true;
  auto local = serviceRules(s).elements;
  CHECK(has(local, "post_np", "tcp . 30012", "goto masq_internal"));
  CHECK(has(local, "post", "192.0.2.7 . tcp . 80", "goto masq_internal"));
  CHECK(has(local, "post", "10.96.0.12 . tcp . 80", "goto masq_internal"));

  // loadBalancerSourceRanges: the ingress IP's ports, and each allowed range.
  CHECK_FALSE(local.count({"fw_svc", "172.18.255.1 . tcp . 80"}));
  s.restrictSources = true;
  s.sourceRanges = {"10.0.0.0/8", "192.168.1.0/24"};
  auto fw = serviceRules(s).elements;
  CHECK(has(fw, "fw_svc", "172.18.255.1 . tcp . 80"));
  CHECK(has(fw, "fw_allow", "172.18.255.1 . tcp . 80 . 10.0.0.0/8"));
  CHECK(has(fw, "fw_allow", "172.18.255.1 . tcp . 80 . 192.168.1.0/24"));
  CHECK_FALSE(fw.count({"fw_svc", "192.0.2.7 . tcp . 80"}));   // externalIPs: no firewall
  CHECK_FALSE(fw.count({"fw_svc", "10.96.0.12 . tcp . 80"}));  // nor the ClusterIP
}

TEST_CASE("ClientIP affinity: sticky chains and a record chain per timeout", "[ruleset]") {
  ServiceInfo s = service("sticky", "10.96.0.13", podEndpoints(2), 30013);
  s.affinity = true;
  s.affinityTimeoutSeconds = 5;
  auto r = serviceRules(s);
  CHECK(has(r.elements, "svc", "10.96.0.13 . tcp . 80", "goto aff_2"));
  CHECK(has(r.elements, "nodeport", "tcp . 30013", "goto npaff_2"));
  CHECK(has(r.elements, "aff_rec", "10.96.0.13 . tcp . 80", "goto rec_5"));
  CHECK(has(r.elements, "aff_rec_np", "tcp . 30013", "goto rec_5"));
  CHECK(r.affinityTimeouts == std::set<int>{5});
  std::string text = fullSyncText(modelOf({s}), config());
  CHECK(text.find("add rule ip skiff_test aff_2 dnat ip to ip saddr . ip daddr . meta l4proto . "
                  "th dport map @aff\n") != std::string::npos);
  CHECK(text.find(
            "add rule ip skiff_test rec_5 meta l4proto tcp update @aff { ip saddr . ct original "
            "ip daddr . meta l4proto . ct original proto-dst timeout 5s : ip daddr . th dport }") !=
        std::string::npos);
  CHECK(text.find("flags dynamic,timeout") != std::string::npos);
}

TEST_CASE("The number of chains and rules does not grow with the number of Services", "[ruleset]") {
  auto build = [](int n) {
    Model m;
    for (int i = 0; i < n; ++i) {
      ServiceInfo s =
          service("s" + std::to_string(i),
                  "10.96." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1),
                  podEndpoints(4), i < 2000 ? 30000 + i % 2000 : 0);
      s.affinity = i % 2 == 0;
      m.services[s.key()] = s;
    }
    return fullSyncText(m, config());
  };
  std::string small = build(10), large = build(5000);
  CHECK(countLines(small, "add chain") == countLines(large, "add chain"));
  CHECK(countLines(small, "add rule") == countLines(large, "add rule"));
  CHECK(countLines(large, "add rule") < 70);
  // All elements of one set travel in one command.
  CHECK(countLines(large, "add element ip skiff_test ep_4 ") == 1);
  CHECK(large.find("10.96.19.250 . tcp . 80 . 3 : 10.244.0.13 . 8080") != std::string::npos);
}

TEST_CASE("Full sync is one atomic replacement of this table only", "[ruleset]") {
  std::string text = fullSyncText(modelOf({service("a", "10.96.0.1", podEndpoints(1))}), config());
  CHECK(text.rfind("add table ip skiff_test\ndelete table ip skiff_test\nadd table ip skiff_test\n",
                   0) == 0);
  CHECK(text.find("flush ruleset") == std::string::npos);
  std::regex otherTable(R"((table|chain|rule|element|map|set) ip (?!skiff_test )\S+ )");
  CHECK_FALSE(std::regex_search(text, otherTable));
  CHECK(text.find("type nat hook prerouting priority -100") != std::string::npos);
  CHECK(text.find("type nat hook output priority -100") != std::string::npos);
  CHECK(deleteTableText(config().table) == "add table ip skiff_test\ndelete table ip skiff_test\n");
}

TEST_CASE("127.0.0.1 NodePorts: source rewrite only with a local address", "[ruleset]") {
  RulesetConfig c = config();
  std::string with = fullSyncText(Model{}, c);
  CHECK(with.find("ip saddr 127.0.0.1 ip daddr 127.0.0.1 meta l4proto . th dport @np_localnet ip "
                  "saddr set 192.168.1.10") != std::string::npos);
  CHECK(with.find("ct direction reply ct original ip saddr 192.168.1.10 ct original ip daddr "
                  "127.0.0.1 ip daddr set 127.0.0.1") != std::string::npos);
  c.nodeAddresses = {"127.0.0.1"};
  CHECK(fullSyncText(Model{}, c).find("localnet_out") == std::string::npos);
  c.localnetSourceAddress = "10.244.0.1";
  CHECK(fullSyncText(Model{}, c).find("ip saddr set 10.244.0.1") != std::string::npos);
}

TEST_CASE("Service CIDR catch-all is optional and validated", "[ruleset]") {
  RulesetConfig c = config();
  CHECK(fullSyncText(Model{}, c).find("10.96.0.0/12") == std::string::npos);
  c.serviceCidr = "10.96.0.0/12";
  CHECK(fullSyncText(Model{}, c)
            .find("add rule ip skiff_test unnated ip daddr 10.96.0.0/12 goto do_reject") !=
        std::string::npos);
  c.serviceCidr = "10.96.0.0/12; flush ruleset";
  CHECK(fullSyncText(Model{}, c).find("flush ruleset") == std::string::npos);
}

// The rules of `chain`, in order, without the "add rule ip TABLE CHAIN " prefix.
std::vector<std::string> rulesOf(const std::string& text, const std::string& chain) {
  std::vector<std::string> out;
  std::istringstream in(text);
  const std::string prefix = "add rule ip skiff_test " + chain + " ";
  for (std::string line; std::getline(in, line);)
    if (line.rfind(prefix, 0) == 0) out.push_back(line.substr(prefix.size()));
  return out;
}

TEST_CASE("Pod bridge: prerouting leaves other bridges' traffic alone, output is untouched",
          "[ruleset]") {
  RulesetConfig c = config();
  c.serviceCidr = "10.96.16.0/20";
  c.loadBalancerCidr = "10.255.1.0/24";
  Model m = modelOf({service("a", "10.96.16.5", podEndpoints(1), 30080)});

  SECTION("no bridge: every interface, as before") {
    std::string text = fullSyncText(m, c);
    CHECK(text.find("iifname") == std::string::npos);
    CHECK(text.find("iifkind") == std::string::npos);
    CHECK(rulesOf(text, "nat_prerouting") == std::vector<std::string>{"jump services"});
  }
  SECTION("with the bridge: a guard first in each prerouting hook chain, none in output") {
    c.podBridge = "sk-abc12";
    const std::string guard = "iifname != \"sk-abc12\" meta iifkind \"bridge\" ";
    for (const std::string& text :
         {fullSyncText(m, c), refillRulesText(m, c, {"svc", "nodeport", "noep", "cluster_ips"})}) {
      CHECK(rulesOf(text, "nat_prerouting") ==
            std::vector<std::string>{guard + "return", "jump services"});
      CHECK(rulesOf(text, "filter_prerouting") == std::vector<std::string>{"ct state != new return",
                                                                           guard + "return",
                                                                           "jump reject_check"});
      // Not another cluster's affinity, but our ranges are refused for everyone.
      const std::string checked = "ct state established return";
      CHECK(rulesOf(text, "after_prerouting") ==
            std::vector<std::string>{checked, guard + "goto unnated", "jump after_nat"});
      CHECK(rulesOf(text, "nat_output") == std::vector<std::string>{"jump services"});
      CHECK(rulesOf(text, "filter_output") ==
            std::vector<std::string>{"ct state new jump reject_check"});
      CHECK(rulesOf(text, "after_output") == std::vector<std::string>{checked, "jump after_nat"});
      CHECK(rulesOf(text, "unnated") ==
            std::vector<std::string>{"ip daddr @cluster_ips goto do_reject",
                                     "ip daddr 10.96.16.0/20 goto do_reject",
                                     "ip daddr 10.255.1.0/24 goto do_reject"});
      // The chain a guard jumps to is declared before the guard.
      CHECK(text.find("add chain ip skiff_test unnated") < text.find(guard + "goto unnated"));
    }
  }
  SECTION("a name that is not an interface name is ignored, never spliced into the text") {
    for (const char* bad : {"sk\" ; flush ruleset ; \"", "a-name-longer-than-15", "br 0"}) {
      c.podBridge = bad;
      std::string text = fullSyncText(m, c);
      CHECK(text.find("iifname") == std::string::npos);
      CHECK(text.find("flush ruleset") == std::string::npos);
    }
  }
}

TEST_CASE("Partial sync touches only the changed Service's elements", "[ruleset]") {
  Model before = modelOf(
      {service("a", "10.96.0.1", podEndpoints(2)), service("b", "10.96.0.2", podEndpoints(2))});
  Model after = before;
  after.services["default/a"].ports[0].endpoints[1] = {"10.244.0.99", 8080};
  auto changed = changedServices(before, after);
  CHECK(changed == std::set<std::string>{"default/a"});
  std::string text = partial(before, after, changed);
  CHECK(text.find("delete element ip skiff_test ep_2 { 10.96.0.1 . tcp . 80 . 1 }") !=
        std::string::npos);
  CHECK(text.find(
            "add element ip skiff_test ep_2 { 10.96.0.1 . tcp . 80 . 1 : 10.244.0.99 . 8080 }") !=
        std::string::npos);
  CHECK(text.find("10.96.0.2") == std::string::npos);                 // b untouched
  CHECK(text.find("10.96.0.1 . tcp . 80 . 0") == std::string::npos);  // unchanged slot kept
  CHECK(text.find("flush table") == std::string::npos);
  CHECK(text.find("delete table") == std::string::npos);
  // Deletes come before adds (a key may be deleted and re-added with a new value).
  CHECK(text.find("delete element") < text.find("add element"));
  CHECK(partial(before, before, changedServices(before, before)).empty());
}

TEST_CASE("Partial sync: a new endpoint count creates its class idempotently", "[ruleset]") {
  Model before = modelOf({service("a", "10.96.0.1", podEndpoints(2))});
  Model after = modelOf({service("a", "10.96.0.1", podEndpoints(3))});
  std::string text = partial(before, after, {"default/a"});
  CHECK(text.find("add map ip skiff_test ep_3 { typeof ip daddr . meta l4proto . th dport . numgen "
                  "random mod 3 : ip daddr . th dport ; }") != std::string::npos);
  CHECK(text.find("flush chain ip skiff_test svc_3\nadd rule ip skiff_test svc_3 dnat ip to") !=
        std::string::npos);
  CHECK(text.find("delete element ip skiff_test ep_2 { 10.96.0.1 . tcp . 80 . 0, 10.96.0.1 . tcp . "
                  "80 . 1 }") != std::string::npos);
  CHECK(text.find("add element ip skiff_test svc { 10.96.0.1 . tcp . 80 : goto svc_3 }") !=
        std::string::npos);
  CHECK(text.find("delete element ip skiff_test svc { 10.96.0.1 . tcp . 80 }") !=
        std::string::npos);
  // Back to 2 endpoints: class 2 exists (from the full sync) and is not re-declared.
  KnownClasses known = classesOf(before);
  partialSyncText(before, after, {"default/a"}, config(), known);
  CHECK(known.endpointCounts == std::set<int>{2, 3});
  std::string back = partialSyncText(after, before, {"default/a"}, config(), known);
  CHECK(back.find("add map") == std::string::npos);
  CHECK(back.find("add element ip skiff_test ep_2 {") != std::string::npos);
}

TEST_CASE("Partial sync: removing a Service and losing all endpoints", "[ruleset]") {
  Model before = modelOf(
      {service("a", "10.96.0.1", podEndpoints(1)), service("b", "10.96.0.2", podEndpoints(1))});
  Model after = modelOf({service("b", "10.96.0.2", podEndpoints(0))});
  std::string text = partial(before, after, changedServices(before, after));
  CHECK(text.find("delete element ip skiff_test cluster_ips { 10.96.0.1 }") != std::string::npos);
  CHECK(text.find(
            "delete element ip skiff_test svc { 10.96.0.1 . tcp . 80, 10.96.0.2 . tcp . 80 }") !=
        std::string::npos);
  CHECK(text.find("add element ip skiff_test noep { 10.96.0.2 . tcp . 80 }") != std::string::npos);
  CHECK(text.find("add element ip skiff_test cluster_ips") == std::string::npos);
}

TEST_CASE("Turning affinity off switches the chain at once", "[ruleset]") {
  ServiceInfo on = service("s", "10.96.0.5", podEndpoints(2));
  on.affinity = true;
  ServiceInfo off = on;
  off.affinity = false;
  std::string text = partial(modelOf({on}), modelOf({off}), {"default/s"});
  CHECK(text.find("add element ip skiff_test svc { 10.96.0.5 . tcp . 80 : goto svc_2 }") !=
        std::string::npos);
  CHECK(text.find("delete element ip skiff_test aff_rec { 10.96.0.5 . tcp . 80 }") !=
        std::string::npos);
}

TEST_CASE("Affinity cleanup deletes entries of removed endpoints only", "[ruleset]") {
  ServiceInfo before = service("s", "10.96.0.5", podEndpoints(2), 30005);
  before.affinity = true;
  ServiceInfo after = before;
  after.ports[0].endpoints = {{"10.244.0.10", 8080}};  // 10.244.0.11 removed
  // The shape libnftables prints for `list map` with JSON output.
  auto listing = api::parseJson(R"({"nftables": [{"metainfo": {}}, {"map": {"family": "ip",
    "name": "aff", "table": "skiff_test", "elem": [
      [{"elem": {"val": {"concat": ["10.250.0.2", "10.96.0.5", "tcp", 80]}, "timeout": 10800, "expires": 100}},
       {"concat": ["10.244.0.11", 8080]}],
      [{"elem": {"val": {"concat": ["10.250.0.3", "10.96.0.5", "tcp", 80]}, "timeout": 10800, "expires": 100}},
       {"concat": ["10.244.0.10", 8080]}],
      [{"elem": {"val": {"concat": ["10.250.0.4", "192.168.1.10", "tcp", 30005]}}},
       {"concat": ["10.244.0.11", 8080]}],
      [{"elem": {"val": {"concat": ["10.250.0.5", "10.96.9.9", "tcp", 80]}}},
       {"concat": ["10.244.0.11", 8080]}]]}}]})");
  REQUIRE(listing.ok());
  std::string text =
      affinityCleanupText(*listing, modelOf({before}), modelOf({after}), {"default/s"}, config());
  CHECK(text ==
        "delete element ip skiff_test aff { 10.250.0.2 . 10.96.0.5 . tcp . 80, 10.250.0.4 . "
        "192.168.1.10 . tcp . 30005 }\n");
  // Affinity off: every entry of the Service goes; other Services' entries stay.
  ServiceInfo off = before;
  off.affinity = false;
  std::string all =
      affinityCleanupText(*listing, modelOf({before}), modelOf({off}), {"default/s"}, config());
  CHECK(all.find("10.250.0.3 . 10.96.0.5") != std::string::npos);
  CHECK(all.find("10.96.9.9") == std::string::npos);
  // Nothing changed with affinity: no listing needed, no text.
  CHECK(affinityCleanupText(*listing, modelOf({before}), modelOf({before}), {}, config()).empty());
}

TEST_CASE("UDP and SCTP ports are keyed by their protocol", "[ruleset]") {
  ServiceInfo s = service("dns", "10.96.0.10", podEndpoints(1), 30053);
  s.ports[0].protocol = Protocol::kUdp;
  s.ports[0].port = 53;
  ServicePortInfo sctp = s.ports[0];
  sctp.protocol = Protocol::kSctp;
  sctp.nodePort = 0;
  sctp.endpoints.clear();
  s.ports.push_back(sctp);
  auto e = serviceRules(s).elements;
  CHECK(has(e, "svc", "10.96.0.10 . udp . 53", "goto svc_1"));
  CHECK(has(e, "nodeport", "udp . 30053", "goto np_1"));
  CHECK(has(e, "noep", "10.96.0.10 . sctp . 53"));  // refused with ICMP port unreachable
  CHECK_FALSE(e.count({"svc", "10.96.0.10 . tcp . 53"}));
  std::string text = fullSyncText(modelOf({s}), config());
  CHECK(text.find("add rule ip skiff_test do_reject reject\n") != std::string::npos);
  CHECK(text.find("meta l4proto udp ct original ip daddr . meta l4proto . ct original proto-dst "
                  "vmap @post") != std::string::npos);
}
