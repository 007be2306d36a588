#include "ctl/host_routes.h"

#include "kubelet/netlink.h"

namespace skiff::ctl {

Status routeClusterRanges(const std::string& bridge, const std::vector<ClusterRange>& ranges) {
  namespace nl = kubelet::netlink;
  for (const auto& r : ranges) {
    if (r.refused.empty() || r.own.empty()) continue;
    // The bridge's route first: once the unreachable route exists, the host's
    // connections need it.
    if (auto s = nl::replaceLinkRoute(r.own, bridge, kHostRouteTable); !s) return s;
    if (auto s = nl::addHostLookupRule(r.refused, kHostRouteTable, kHostRulePriority); !s) return s;
    if (auto s = nl::addUnreachableRoute(r.refused); !s) return s;
  }
  return {};
}

}  // namespace skiff::ctl
