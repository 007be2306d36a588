// Bulk set-element operations built with libnftnl and sent with libmnl, for
// full syncs at scale: libnftables' text parser costs ~1 s of CPU for the
// ~115,000 elements of 10,000 Services; the same elements as a binary netlink
// batch take a fraction of that (see bench/bench_netproxy.cpp).
//
// Elements come as nft text (the ruleset's own spelling, "10.96.0.1 . tcp . 80")
// and are encoded here in nftables register layout: each component padded to 4
// bytes; IPv4 and ports in network order; the numgen slot (last component of
// ep_N/npep_N keys) in host order; "goto <chain>" values as verdicts.
//
// Thread-safety: each call opens its own netlink socket; safe from any thread.
#pragma once

#include <map>
#include <set>
#include <string>

#include "base/result.h"
#include "netproxy/ruleset.h"

namespace skiff::netproxy {

// Names of the sets and maps in `ip <table>`. kNotFound if the table does not exist.
Result<std::set<std::string>> listSetNames(const std::string& table);

// Rules per chain of `ip <table>` (chains without rules are absent), from one
// rule dump: no set elements are read, so it is cheap at 10,000 Services.
Result<std::map<std::string, int>> listRuleCounts(const std::string& table);

// One atomic batch: flush every set in `flush`, then add all `elements`.
// kInternal with the kernel's reason if anything is refused (nothing applied).
Status refillSets(const std::string& table, const std::set<std::string>& flush,
                  const ElementsBySet& elements);

}  // namespace skiff::netproxy
