#include "netproxy/ruleset.h"

#include <algorithm>
#include <cctype>
#include <sstream>
#include <unordered_set>

namespace skiff::netproxy {
namespace {

constexpr const char* kProtocols[] = {"tcp", "udp", "sctp"};
constexpr int kAffinityMapSize = 1048576;

std::string str(int v) {
  return std::to_string(v);
}

// All addresses a Service port answers on besides node ports, in order, unique.
std::vector<std::string> serviceAddresses(const ServiceInfo& s) {
  std::vector<std::string> out;
  for (const auto* list : {&s.clusterIPs, &s.externalIPs, &s.loadBalancerIPs}) {
    for (const auto& ip : *list) {
      if (std::find(out.begin(), out.end(), ip) == out.end()) out.push_back(ip);
    }
  }
  return out;
}

bool isClusterIP(const ServiceInfo& s, const std::string& ip) {
  return std::find(s.clusterIPs.begin(), s.clusterIPs.end(), ip) != s.clusterIPs.end();
}

// The declarations and rules that do not depend on the Services.
// `existing`: sets already in the table (not re-declared); `flush`: empty each
// chain before adding its rules, so the text can be applied over a live table.
void writeSkeleton(std::ostringstream& o, const RulesetConfig& c, bool flush = false,
                   const std::set<std::string>& existing = {}) {
  const std::string t = "ip " + c.table;
  auto map = [&](const std::string& name, const std::string& spec) {
    if (!existing.count(name)) o << "add map " << t << " " << name << " { " << spec << " ; }\n";
  };
  auto set = [&](const std::string& name, const std::string& spec) {
    if (!existing.count(name)) o << "add set " << t << " " << name << " { " << spec << " ; }\n";
  };
  auto chain = [&](const std::string& name, const std::string& spec = "") {
    o << "add chain " << t << " " << name;
    if (!spec.empty()) o << " { " << spec << " ; policy accept ; }";
    o << "\n";
    if (flush) o << "flush chain " << t << " " << name << "\n";
  };
  auto rule = [&](const std::string& chainName, const std::string& r) {
    o << "add rule " << t << " " << chainName << " " << r << "\n";
  };
  const std::string svcKey = "type ipv4_addr . inet_proto . inet_service";
  const std::string npKey = "type inet_proto . inet_service";
  map("svc", svcKey + " : verdict");
  map("nodeport", npKey + " : verdict");
  map("post", svcKey + " : verdict");
  map("post_np", npKey + " : verdict");
  map("aff_rec", svcKey + " : verdict");
  map("aff_rec_np", npKey + " : verdict");
  set("noep", svcKey);
  set("noep_np", npKey);
  set("cluster_ips", "type ipv4_addr");
  set("hairpin", "type ipv4_addr . ipv4_addr . ipv4_addr");
  set("np_localnet", npKey);
  set("fw_svc", svcKey);
  set("fw_allow", "type ipv4_addr . inet_proto . inet_service . ipv4_addr ; flags interval");
  map("aff",
      "type ipv4_addr . ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service ; size " +
          str(kAffinityMapSize) + " ; flags dynamic,timeout ; timeout 3h");

  // NAT: Service addresses and node ports.
  chain("services");
  rule("services", "ip daddr . meta l4proto . th dport vmap @svc");
  // np_localnet holds the node ports with endpoints: its lookup turns every other
  // packet away before the route lookup of fib.
  rule("services",
       "meta l4proto . th dport @np_localnet fib daddr type local meta l4proto . th dport vmap "
       "@nodeport");
  // Prerouting sees every bridge's pods (br_netfilter included: iifname is the
  // bridge, not the port). With our bridge known, another bridge's packets are
  // another cluster's business (see RulesetConfig::podBridge).
  const std::string otherBridge =
      validInterfaceName(c.podBridge)
          ? "iifname != \"" + c.podBridge + "\" meta iifkind \"bridge\" "
          : std::string();
  chain("nat_prerouting", "type nat hook prerouting priority -100");
  if (!otherBridge.empty()) rule("nat_prerouting", otherBridge + "return");
  rule("nat_prerouting", "jump services");
  chain("nat_output", "type nat hook output priority -100");
  rule("nat_output", "jump services");

  // Masquerade decisions, from the conntrack original tuple. The host's own
  // connection keeps its source when that address belongs to the interface the
  // packet leaves by (a pod behind the bridge answers through the host, which
  // undoes the DNAT): a masquerade costs ~2 us of a ~65 us connection. It is
  // masqueraded when the source was chosen for another route: an endpoint
  // outside the machine (a hand-written Endpoints) would answer an address it
  // cannot reach, and a loopback source can be answered by no one.
  // (Not `meta iif` for "the host's own": a pod's packet DNAT'ed back into its
  // own bridge is bridged by br_netfilter, whose postrouting has no input
  // interface either.)
  // (`fib saddr . oif type local` implies `fib saddr type local`.)
  chain("masq_always");
  rule("masq_always", "fib saddr . oif type local return");
  rule("masq_always", "masquerade");
  chain("masq_internal");
  rule("masq_internal", "ip saddr . ct original ip daddr . ip daddr @hairpin masquerade");
  rule("masq_internal", "fib saddr type local fib saddr . oif type != local masquerade");
  chain("masquerading");
  for (const char* p : kProtocols) {
    rule("masquerading",
         std::string("meta l4proto ") + p +
             " ct original ip daddr . meta l4proto . ct original proto-dst vmap @post");
  }
  for (const char* p : kProtocols) {
    rule("masquerading",
         std::string("meta l4proto ") + p + " meta l4proto . ct original proto-dst vmap @post_np");
  }
  chain("nat_postrouting", "type nat hook postrouting priority 100");
  rule("nat_postrouting", "ct status dnat jump masquerading");

  // Refusals: no ready endpoint (before NAT); un-NATed service addresses (after).
  chain("do_reject");
  rule("do_reject", "meta l4proto tcp reject with tcp reset");
  rule("do_reject", "reject");
  chain("reject_check");
  // loadBalancerSourceRanges: a source outside them is dropped, as kube-proxy does.
  rule("reject_check",
       "ip daddr . meta l4proto . th dport @fw_svc ip daddr . meta l4proto . th dport . ip saddr "
       "!= @fw_allow drop");
  rule("reject_check", "ip daddr . meta l4proto . th dport @noep goto do_reject");
  rule("reject_check", "meta l4proto . th dport @noep_np fib daddr type local goto do_reject");
  // Every packet passes the base chains below: the cheapest test comes first.
  chain("filter_prerouting", "type filter hook prerouting priority -110");
  rule("filter_prerouting", "ct state != new return");
  if (!otherBridge.empty()) rule("filter_prerouting", otherBridge + "return");
  rule("filter_prerouting", "jump reject_check");
  chain("filter_output", "type filter hook output priority -110");
  rule("filter_output", "ct state new jump reject_check");

  // After NAT: record affinity choices; refuse what no Service took.
  chain("aff_record");
  for (const char* p : kProtocols) {
    rule("aff_record",
         std::string("meta l4proto ") + p +
             " ct original ip daddr . meta l4proto . ct original proto-dst vmap @aff_rec");
  }
  for (const char* p : kProtocols) {
    rule("aff_record", std::string("meta l4proto ") + p +
                           " meta l4proto . ct original proto-dst vmap @aff_rec_np");
  }
  chain("unnated");  // our addresses that no table's NAT rewrote: never routed out
  rule("unnated", "ip daddr @cluster_ips goto do_reject");
  if (validCidr(c.serviceCidr)) rule("unnated", "ip daddr " + c.serviceCidr + " goto do_reject");
  if (validCidr(c.loadBalancerCidr))
    rule("unnated", "ip daddr " + c.loadBalancerCidr + " goto do_reject");
  chain("after_nat");
  rule("after_nat", "ct state new ct status dnat jump aff_record");
  rule("after_nat", "jump unnated");
  // A connection's later packets were checked with its first (related, invalid
  // and untracked ones are checked each time; a related connection's first
  // packet is not "new"). A connection conntrack recorded before this table
  // existed is not re-checked: the host's unreachable routes for the ranges
  // (ctl/host_routes.h) keep it from leaving the machine.
  const std::string checked = "ct state established return";
  chain("after_prerouting", "type filter hook prerouting priority -90");
  rule("after_prerouting", checked);
  if (!otherBridge.empty()) rule("after_prerouting", otherBridge + "goto unnated");
  rule("after_prerouting", "jump after_nat");
  chain("after_output", "type filter hook output priority -90");
  rule("after_output", checked);
  rule("after_output", "jump after_nat");

  // 127.0.0.1 NodePorts without route_localnet (see the header).
  std::string l = c.localnetSource();
  if (!l.empty()) {
    chain("localnet_out", "type filter hook output priority -300");
    rule(
        "localnet_out",
        "ip saddr 127.0.0.1 ip daddr 127.0.0.1 meta l4proto . th dport @np_localnet ip saddr set " +
            l);
    chain("localnet_in", "type filter hook input priority 101");
    rule("localnet_in", "ct direction reply ct original ip saddr " + l +
                            " ct original ip daddr 127.0.0.1 ip daddr set 127.0.0.1");
  }
}

// Chains and maps of endpoint-count class N. `flush` makes re-adding idempotent.
void writeCountClass(std::ostringstream& o, const RulesetConfig& c, int n, bool flush,
                     bool declareMaps = true) {
  const std::string t = "ip " + c.table;
  const std::string mod = "numgen random mod " + str(n);
  if (declareMaps) {
    o << "add map " << t << " ep_" << n << " { typeof ip daddr . meta l4proto . th dport . " << mod
      << " : ip daddr . th dport ; }\n";
    o << "add map " << t << " npep_" << n << " { typeof meta l4proto . th dport . " << mod
      << " : ip daddr . th dport ; }\n";
  }
  const std::string pick =
      "dnat ip to ip daddr . meta l4proto . th dport . " + mod + " map @ep_" + str(n);
  const std::string npPick = "dnat ip to meta l4proto . th dport . " + mod + " map @npep_" + str(n);
  const std::string sticky = "dnat ip to ip saddr . ip daddr . meta l4proto . th dport map @aff";
  struct {
    std::string name;
    std::vector<std::string> rules;
  } chains[] = {{"svc_" + str(n), {pick}},
                {"aff_" + str(n), {sticky, pick}},
                {"np_" + str(n), {npPick}},
                {"npaff_" + str(n), {sticky, npPick}}};
  for (const auto& ch : chains) {
    o << "add chain " << t << " " << ch.name << "\n";
    if (flush) o << "flush chain " << t << " " << ch.name << "\n";
    for (const auto& r : ch.rules) o << "add rule " << t << " " << ch.name << " " << r << "\n";
  }
}

// The affinity record chain for timeoutSeconds T.
void writeTimeoutClass(std::ostringstream& o, const RulesetConfig& c, int seconds, bool flush) {
  const std::string t = "ip " + c.table;
  const std::string name = "rec_" + str(seconds);
  o << "add chain " << t << " " << name << "\n";
  if (flush) o << "flush chain " << t << " " << name << "\n";
  for (const char* p : kProtocols) {
    o << "add rule " << t << " " << name << " meta l4proto " << p
      << " update @aff { ip saddr . ct original ip daddr . meta l4proto . ct original proto-dst "
         "timeout "
      << seconds << "s : ip daddr . th dport }\n";
  }
}

// Writes `add element` / `delete element` commands, one per set, for `elems`.
void writeElements(std::ostringstream& o, const RulesetConfig& c, const char* verb,
                   const Elements& elems, bool withValues) {
  const std::string* current = nullptr;
  bool open = false;
  for (const auto& [k, v] : elems) {
    if (!current || *current != k.set) {
      if (open) o << " }\n";
      o << verb << " element ip " << c.table << " " << k.set << " { ";
      current = &k.set;
      open = true;
    } else {
      o << ", ";
    }
    o << k.key;
    if (withValues && !v.empty()) o << " : " << v;
  }
  if (open) o << " }\n";
}

std::string protoText(const api::Json& j) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_number_integer()) {
    switch (j.get<int>()) {
      case 6:
        return "tcp";
      case 17:
        return "udp";
      case 132:
        return "sctp";
    }
  }
  return "";
}

std::string jsonScalar(const api::Json& j) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_number_integer()) return std::to_string(j.get<long long>());
  return "";
}

}  // namespace

std::string RulesetConfig::localnetSource() const {
  if (!localnetSourceAddress.empty())
    return isIPv4(localnetSourceAddress) ? localnetSourceAddress : "";
  for (const auto& a : nodeAddresses) {
    if (isIPv4(a) && a.rfind("127.", 0) != 0) return a;
  }
  return "";
}

ServiceRules serviceRules(const ServiceInfo& s) {
  ServiceRules out;
  auto& e = out.elements;
  const std::vector<std::string> addrs = serviceAddresses(s);
  for (const auto& ip : s.clusterIPs) e[{"cluster_ips", ip}] = "";
  for (const auto& p : s.ports) {
    const std::string proto = protocolName(p.protocol);
    const int n = static_cast<int>(p.endpoints.size());
    const std::string tail = " . " + proto + " . " + str(p.port);
    for (const auto& a : addrs) {
      const std::string key = a + tail;
      if (n == 0) {
        e[{"noep", key}] = "";
        continue;
      }
      e[{"svc", key}] = std::string(s.affinity ? "goto aff_" : "goto svc_") + str(n);
      for (int i = 0; i < n; ++i) {
        e[{"ep_" + str(n), key + " . " + str(i)}] =
            p.endpoints[i].ip + " . " + str(p.endpoints[i].port);
      }
      bool internal = isClusterIP(s, a) || s.externalLocal;
      e[{"post", key}] = internal ? "goto masq_internal" : "goto masq_always";
      if (s.affinity) e[{"aff_rec", key}] = "goto rec_" + str(s.affinityTimeoutSeconds);
      for (const auto& ep : p.endpoints) e[{"hairpin", ep.ip + " . " + a + " . " + ep.ip}] = "";
    }
    if (s.restrictSources) {
      for (const auto& lb : s.loadBalancerIPs) {
        const std::string key = lb + tail;
        e[{"fw_svc", key}] = "";
        for (const auto& cidr : s.sourceRanges) e[{"fw_allow", key + " . " + cidr}] = "";
      }
    }
    if (p.nodePort != 0) {
      const std::string key = proto + " . " + str(p.nodePort);
      if (n == 0) {
        e[{"noep_np", key}] = "";
      } else {
        e[{"nodeport", key}] = std::string(s.affinity ? "goto npaff_" : "goto np_") + str(n);
        for (int i = 0; i < n; ++i) {
          e[{"npep_" + str(n), key + " . " + str(i)}] =
              p.endpoints[i].ip + " . " + str(p.endpoints[i].port);
        }
        e[{"post_np", key}] = s.externalLocal ? "goto masq_internal" : "goto masq_always";
        e[{"np_localnet", key}] = "";
        if (s.affinity) e[{"aff_rec_np", key}] = "goto rec_" + str(s.affinityTimeoutSeconds);
      }
    }
    if (n > 0 && (!addrs.empty() || p.nodePort != 0)) {
      out.endpointCounts.insert(n);
      if (s.affinity) out.affinityTimeouts.insert(s.affinityTimeoutSeconds);
    }
  }
  return out;
}

ElementsBySet elementsBySet(const Model& model) {
  ElementsBySet out;
  std::unordered_set<std::string> seen;  // "set|key": on a conflicting key the first Service wins
  for (const auto& [key, s] : model.services) {
    for (auto& [k, v] : serviceRules(s).elements) {
      if (seen.insert(k.set + "|" + k.key).second) out[k.set].emplace_back(k.key, v);
    }
  }
  return out;
}

std::string fullSyncText(const Model& model, const RulesetConfig& config) {
  std::ostringstream o;
  const std::string t = "ip " + config.table;
  o << "add table " << t << "\ndelete table " << t << "\nadd table " << t << "\n";
  writeSkeleton(o, config);
  KnownClasses classes = classesOf(model);
  for (int n : classes.endpointCounts) writeCountClass(o, config, n, false);
  for (int sec : classes.affinityTimeouts) writeTimeoutClass(o, config, sec, false);
  // One command per set; a global ordered map of ~115,000 strings would cost more
  // than the rest of the text at 10,000 Services.
  std::string list;
  for (const auto& [set, elems] : elementsBySet(model)) {
    list.clear();
    for (const auto& [k, v] : elems) {
      if (!list.empty()) list += ", ";
      list += k;
      if (!v.empty()) {
        list += " : ";
        list += v;
      }
    }
    o << "add element ip " << config.table << " " << set << " { " << list << " }\n";
  }
  return o.str();
}

std::string refillRulesText(const Model& model, const RulesetConfig& config,
                            const std::set<std::string>& existingSets) {
  std::ostringstream o;
  o << "add table ip " << config.table << "\n";
  writeSkeleton(o, config, true, existingSets);
  KnownClasses classes = classesOf(model);
  for (int n : classes.endpointCounts) {
    // An existing class is left as it is: its rules depend on N alone, and nft
    // 1.0.6 cannot add a rule that uses an existing `typeof ... th dport` map.
    bool have = existingSets.count("ep_" + str(n)) && existingSets.count("npep_" + str(n));
    if (!have) writeCountClass(o, config, n, true);
  }
  for (int sec : classes.affinityTimeouts) writeTimeoutClass(o, config, sec, true);
  return o.str();
}

std::set<std::string> changedServices(const Model& before, const Model& after) {
  std::set<std::string> out;
  for (const auto& [k, s] : before.services) {
    auto it = after.services.find(k);
    if (it == after.services.end() || !(it->second == s)) out.insert(k);
  }
  for (const auto& [k, s] : after.services) {
    if (!before.services.count(k)) out.insert(k);
  }
  return out;
}

KnownClasses classesOf(const Model& model) {
  KnownClasses k;
  for (const auto& [key, s] : model.services) {
    ServiceRules r = serviceRules(s);
    k.endpointCounts.insert(r.endpointCounts.begin(), r.endpointCounts.end());
    k.affinityTimeouts.insert(r.affinityTimeouts.begin(), r.affinityTimeouts.end());
  }
  return k;
}

std::string partialSyncText(const Model& before, const Model& after,
                            const std::set<std::string>& changed, const RulesetConfig& config,
                            KnownClasses& known) {
  Elements oldE, newE;
  std::set<int> counts, timeouts;
  for (const auto& key : changed) {
    if (auto it = before.services.find(key); it != before.services.end()) {
      ServiceRules r = serviceRules(it->second);
      oldE.insert(r.elements.begin(), r.elements.end());
    }
    if (auto it = after.services.find(key); it != after.services.end()) {
      ServiceRules r = serviceRules(it->second);
      newE.insert(r.elements.begin(), r.elements.end());
      counts.insert(r.endpointCounts.begin(), r.endpointCounts.end());
      timeouts.insert(r.affinityTimeouts.begin(), r.affinityTimeouts.end());
    }
  }
  Elements removed, added;
  for (const auto& [k, v] : oldE) {
    auto it = newE.find(k);
    if (it == newE.end() || it->second != v) removed[k] = v;
  }
  for (const auto& [k, v] : newE) {
    auto it = oldE.find(k);
    if (it == oldE.end() || it->second != v) added[k] = v;
  }
  if (removed.empty() && added.empty()) return "";
  std::ostringstream o;
  // Classes used by the added elements that the table does not have yet.
  std::set<int> neededCounts, neededTimeouts;
  for (const auto& [k, v] : added) {
    auto classOf = [&](const std::string& prefix, const std::string& s) -> int {
      return s.rfind(prefix, 0) == 0 ? std::atoi(s.c_str() + prefix.size()) : 0;
    };
    if (int n = classOf("ep_", k.set)) neededCounts.insert(n);
    if (int n = classOf("npep_", k.set)) neededCounts.insert(n);
    if (int sec = classOf("goto rec_", v)) neededTimeouts.insert(sec);
  }
  for (int n : neededCounts) {
    if (known.endpointCounts.insert(n).second) writeCountClass(o, config, n, true);
  }
  for (int sec : neededTimeouts) {
    if (known.affinityTimeouts.insert(sec).second) writeTimeoutClass(o, config, sec, true);
  }
  writeElements(o, config, "delete", removed, false);
  writeElements(o, config, "add", added, true);
  return o.str();
}

std::string deleteTableText(const std::string& table) {
  return "add table ip " + table + "\ndelete table ip " + table + "\n";
}

std::string listAffinityCommand(const RulesetConfig& config) {
  return "list map ip " + config.table + " aff";
}

std::string affinityCleanupText(const api::Json& listing, const Model& before, const Model& after,
                                const std::set<std::string>& changed, const RulesetConfig& config) {
  // Service port -> endpoints an affinity entry may still point at ("ip . port").
  using Allowed = std::set<std::string>;
  std::map<std::string, Allowed> byAddr;      // "addr . proto . port"
  std::map<std::string, Allowed> byNodePort;  // "proto . nodePort"
  auto allowedAfter = [&](const std::string& svcKey, const ServicePortInfo& old,
                          const std::string& addr) -> Allowed {
    Allowed out;
    auto it = after.services.find(svcKey);
    if (it == after.services.end() || !it->second.affinity) return out;
    for (const auto& p : it->second.ports) {
      if (p.protocol != old.protocol) continue;
      bool same = addr.empty() ? p.nodePort == old.nodePort : p.port == old.port && [&] {
        auto a = serviceAddresses(it->second);
        return std::find(a.begin(), a.end(), addr) != a.end();
      }();
      if (!same) continue;
      for (const auto& ep : p.endpoints) out.insert(ep.ip + " . " + str(ep.port));
    }
    return out;
  };
  for (const auto& key : changed) {
    auto it = before.services.find(key);
    if (it == before.services.end() || !it->second.affinity) continue;
    for (const auto& p : it->second.ports) {
      const std::string proto = protocolName(p.protocol);
      for (const auto& a : serviceAddresses(it->second)) {
        byAddr[a + " . " + proto + " . " + str(p.port)] = allowedAfter(key, p, a);
      }
      if (p.nodePort) byNodePort[proto + " . " + str(p.nodePort)] = allowedAfter(key, p, "");
    }
  }
  if (byAddr.empty() && byNodePort.empty()) return "";
  Elements doomed;
  if (!listing.is_object() || !listing.contains("nftables") || !listing["nftables"].is_array()) {
    return "";
  }
  for (const auto& item : listing["nftables"]) {
    if (!item.is_object() || !item.contains("map")) continue;
    const auto& m = item["map"];
    if (!m.contains("elem") || !m["elem"].is_array()) continue;
    for (const auto& pair : m["elem"]) {
      // [ {"elem": {"val": {"concat": [saddr, daddr, proto, port]}, ...}} | {"concat": ...}, value
      // ]
      if (!pair.is_array() || pair.size() != 2) continue;
      const api::Json* k = &pair[0];
      if (k->is_object() && k->contains("elem")) k = &(*k)["elem"]["val"];
      if (!k->is_object() || !k->contains("concat")) continue;
      const auto& kc = (*k)["concat"];
      const auto& v = pair[1];
      if (!kc.is_array() || kc.size() != 4 || !v.is_object() || !v.contains("concat")) continue;
      const auto& vc = v["concat"];
      if (!vc.is_array() || vc.size() != 2) continue;
      std::string saddr = jsonScalar(kc[0]), daddr = jsonScalar(kc[1]), proto = protoText(kc[2]),
                  port = jsonScalar(kc[3]);
      std::string value = jsonScalar(vc[0]) + " . " + jsonScalar(vc[1]);
      if (!isIPv4(saddr) || !isIPv4(daddr) || proto.empty() || port.empty()) continue;
      const Allowed* allowed = nullptr;
      if (auto a = byAddr.find(daddr + " . " + proto + " . " + port); a != byAddr.end()) {
        allowed = &a->second;
      } else if (auto n = byNodePort.find(proto + " . " + port); n != byNodePort.end()) {
        allowed = &n->second;
      }
      if (allowed && !allowed->count(value)) {
        doomed[{"aff", saddr + " . " + daddr + " . " + proto + " . " + port}] = "";
      }
    }
  }
  std::ostringstream o;
  writeElements(o, config, "delete", doomed, false);
  return o.str();
}

}  // namespace skiff::netproxy
