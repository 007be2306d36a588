// Routing of a cluster's address ranges on the host (see netproxy/netproxy.h,
// "No packet to a cluster range leaves the machine").
//
// Each refused range (every skiff cluster's service range, 10.96.0.0/12, and
// LoadBalancer pools, 10.255.0.0/16, or what the user configured) gets an
// `unreachable` route in the main table, kept after the cluster is gone: what
// is addressed there and not rewritten by a cluster's nft table is refused,
// never routed off the machine. Such a route alone would fail every host
// connect() to a ClusterIP with EHOSTUNREACH, since connect() looks the route
// up before the first packet meets the nft output hook; so the host's own
// traffic (ip rule `iif lo`, which matches locally generated packets) first
// looks in table kHostRouteTable, where the cluster's own ranges point at its
// pod bridge. connect() then succeeds, the output hook DNATs or refuses the
// first packet, and when the bridge is deleted its routes go with it: a
// connection to a Service of a cluster that is gone gets "No route to host".
//
// Thread-safety: free function; netlink state is the kernel's.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"

namespace skiff::ctl {

inline constexpr int kHostRouteTable = 29547;    // "sk"
inline constexpr int kHostRulePriority = 2000;   // before the main table's 32766

struct ClusterRange {
  std::string refused;  // routed `unreachable` ("10.96.0.0/12")
  std::string own;      // this cluster's part of it, routed via the bridge for the host
};

// Idempotent; the bridge must exist. Empty ranges are skipped.
Status routeClusterRanges(const std::string& bridge, const std::vector<ClusterRange>& ranges);

}  // namespace skiff::ctl
