// The pure decision of netproxy: Model + node addresses -> nftables ruleset text.
//
// How the table is shaped, and why. kube-proxy's nftables mode writes a chain per
// Service and per endpoint; on this kernel loading 10,000 Services that way takes
// ~24 s (see /work/shared/notes/nftables-at-scale.md), because chain loading, not
// lookup, explodes. Here the number of chains and rules is fixed: every
// per-Service and per-endpoint fact is an element of a set or map, so a full load
// is one pass of element inserts and a one-Service change touches only its own
// elements. The chains that do exist are per *class*, never per Service:
//
//   svc       map  daddr . l4proto . dport -> goto svc_N | aff_N   (N = ready endpoint count)
//   nodeport  map  l4proto . dport         -> goto np_N  | npaff_N (on any local address: fib)
//   np_localnet set l4proto . dport of the node ports with endpoints: looked up before
//             fib's route lookup, and for 127.0.0.1 (below)
//   ep_N      map  daddr . l4proto . dport . (numgen random mod N) -> endpoint ip . port
//   npep_N    map  l4proto . dport . (numgen random mod N)         -> endpoint ip . port
//   svc_N     one rule: dnat to the ep_N lookup            (one chain per distinct N; the
//                                                           balance is exactly 1/N each)
//   aff       dynamic map, timeouts: saddr . service daddr . l4proto . dport -> endpoint.
//             aff_N first dnats from it, else picks at random like svc_N. The choice is
//             recorded after NAT (filter hooks at priority -90) from the conntrack
//             original tuple by rec_T (`update @aff {... timeout Ts : ...}`, one chain per
//             distinct timeoutSeconds), so each new connection refreshes the timeout.
//             Turning affinity off moves the Service back to svc_N: effective at once.
//             Entries pointing at removed endpoints are deleted by the Proxier (it
//             lists @aff; see affinityCleanupText).
//   fw_svc, fw_allow   sets: LoadBalancer ingress ports with loadBalancerSourceRanges,
//             and (interval) their allowed sources: any other source is dropped
//             before NAT, as kube-proxy's firewall chains do.
//   noep, noep_np   sets: Service ports with no ready endpoint -> reject (TCP reset,
//             else ICMP port unreachable) before NAT, so the client is refused at once.
//   cluster_ips set: a ClusterIP still addressed after NAT (unknown port) is rejected,
//             as is anything in the optional service CIDR; nothing is routed out.
//   post, post_np   maps -> goto masq_always | masq_internal: masquerade decisions in
//             postrouting from the conntrack original tuple. masq_internal masquerades
//             only hairpin (pod -> own Service -> itself; set `hairpin` of ep . svc . ep);
//             masq_always (external addresses and node ports of Cluster-policy
//             Services) masquerades all that came in through an interface, so
//             externalTrafficPolicy: Local keeps the client source. The host's own
//             connections keep theirs in both when the address is on the interface
//             the packet leaves by (pods answer through the host; a masquerade
//             costs ~2 us per connection); otherwise (an endpoint off the machine, a
//             loopback source) they are masqueraded.
//   127.0.0.1 NodePorts without route_localnet: a DNAT'ed packet with source
//             127.0.0.1 cannot be routed out of the host. localnet_out (output, priority
//             -300, before conntrack) rewrites the source to a local non-loopback
//             address L; conntrack and NAT then work as for any host
//             client, and localnet_in (input, priority 101, after NAT undid the DNAT)
//             rewrites the reply's destination L back to 127.0.0.1 for the socket.
//
// Full sync recreates the table in one transaction (add; delete; add ...), an
// atomic swap: established connections keep their conntrack NAT bindings;
// affinity entries start afresh. Partial sync is flush-free: it deletes the
// changed Services' old elements and adds their new ones, creating any class
// chain/map a new endpoint count or timeout needs.
//
// Thread-safety: pure functions.
#pragma once

#include <compare>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "api/json.h"
#include "netproxy/service_state.h"

namespace skiff::netproxy {

struct RulesetConfig {
  std::string table = "skiff";  // `ip <table>`; tests use a unique name
  // Local IPv4 addresses of the node (for the 127.0.0.1 NodePort source rewrite).
  std::vector<std::string> nodeAddresses;
  // The local address 127.0.0.1 NodePort clients are rewritten to; "" = the first
  // non-loopback IPv4 in nodeAddresses; if none, NodePorts skip 127.0.0.1.
  std::string localnetSourceAddress;
  // e.g. "10.96.0.0/12": traffic to it that no Service DNAT'ed is rejected. "" = off.
  std::string serviceCidr;
  // e.g. "10.255.0.0/24", the LoadBalancer ingress pool: the same refusal for its
  // addresses no Service took. "" = off.
  std::string loadBalancerCidr;
  // The bridge this cluster's pods hang off ("sk-abc"); "" = unknown. When set,
  // traffic that arrives on any OTHER bridge (another cluster's pods, whose
  // ranges may overlap ours) passes the prerouting chains untouched: no DNAT,
  // no no-endpoint refusal, no affinity record. Traffic from our bridge, from
  // non-bridge interfaces (an outside client on a NIC or a veth) and from the
  // host itself (output hooks) is served as before. Anything still addressed
  // to our ranges after every table's NAT is refused from any interface, so
  // nothing addressed to a cluster range is routed out. Must be an interface
  // name (at most 15 of [A-Za-z0-9_.-]); anything else counts as "".
  std::string podBridge;

  std::string localnetSource() const;
};

// One element of a named set or map in the table.
struct ElementKey {
  std::string set;  // "svc", "ep_4", ...
  std::string key;  // nft text: "10.96.0.1 . tcp . 80"
  auto operator<=>(const ElementKey&) const = default;
};
// key -> value ("" for plain sets).
using Elements = std::map<ElementKey, std::string>;

// What one Service contributes to the table.
struct ServiceRules {
  Elements elements;
  std::set<int> endpointCounts;    // classes N it needs (svc_N, ep_N, ...)
  std::set<int> affinityTimeouts;  // rec_T chains it needs
};
ServiceRules serviceRules(const ServiceInfo& service);

// Text that atomically replaces the whole table with the one for `model`.
std::string fullSyncText(const Model& model, const RulesetConfig& config);

// Every element of the table for `model`, by set, in nft text ("key", "value"
// or "" for plain sets). A key claimed by two Services goes to the first.
using ElementsBySet = std::map<std::string, std::vector<std::pair<std::string, std::string>>>;
ElementsBySet elementsBySet(const Model& model);

// Full sync in two steps, for a table that exists (affinity entries survive):
// 1. this text re-creates every fixed chain's rules (flush chain + add rule) and
//    declares the sets and classes missing from `existingSets`, leaving all
//    elements in place (still consistent: old elements only name chains that
//    exist). Existing class chains (svc_N ...) are kept as they are: their rules
//    depend on N alone, and nft 1.0.6 cannot add a rule using an existing
//    `typeof ... th dport` map;
// 2. the executor's refill() empties every set but `aff` and loads
//    elementsBySet(model), in one batch. Each step is atomic; if either fails,
//    fullSyncText() (which recreates the table) is the fallback.
std::string refillRulesText(const Model& model, const RulesetConfig& config,
                            const std::set<std::string>& existingSets);

// Class chains/maps known to exist in the kernel table. nft 1.0.6 cannot
// re-declare an existing `typeof ... th dport . numgen` map ("conflicting
// protocols specified: ip vs. th"), so a partial sync declares only new classes.
struct KnownClasses {
  std::set<int> endpointCounts;
  std::set<int> affinityTimeouts;
};

// The classes a full sync of `model` creates.
KnownClasses classesOf(const Model& model);

// Flush-free text that turns the table for `before` into the one for `after`,
// touching only Services whose key is in `changed` (added, removed or edited).
// Classes the new elements need and `known` lacks are declared, and added to
// `known` (the caller keeps it only if the text is applied). Empty when nothing
// changes. Valid only if the kernel holds `before` exactly.
std::string partialSyncText(const Model& before, const Model& after,
                            const std::set<std::string>& changed, const RulesetConfig& config,
                            KnownClasses& known);

// The keys of Services that differ between two models.
std::set<std::string> changedServices(const Model& before, const Model& after);

// Deletes the table (`add` first, so it succeeds when absent).
std::string deleteTableText(const std::string& table);

// The command that lists the affinity map, for affinityCleanupText (JSON output).
std::string listAffinityCommand(const RulesetConfig& config);

// Given the JSON listing of @aff (libnftables JSON output), the text deleting the
// entries that must go after `before` -> `after` for the Services in `changed`:
// entries whose Service port no longer has affinity, or whose endpoint is no
// longer one of that port's ready endpoints. Empty when nothing must go.
std::string affinityCleanupText(const api::Json& listing, const Model& before, const Model& after,
                                const std::set<std::string>& changed, const RulesetConfig& config);

}  // namespace skiff::netproxy
