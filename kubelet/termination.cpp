#include "kubelet/termination.h"

#include <algorithm>

namespace skiff::kubelet {

bool endpointsListIP(const Json& endpoints, const std::string& ip) {
  if (ip.empty()) return false;
  const Json& subsets = member(endpoints, "subsets");
  if (!subsets.is_array()) return false;
  for (const auto& s : subsets) {
    const Json& addresses = member(s, "addresses");
    if (!addresses.is_array()) continue;
    for (const auto& a : addresses)
      if (textOf(a, "ip") == ip) return true;
  }
  return false;
}

bool endpointsHoldPod(const Json& endpoints, const std::string& ns, const std::string& ip) {
  return textOf(member(endpoints, "metadata"), "namespace") == ns && endpointsListIP(endpoints, ip);
}

std::vector<std::string> endpointsListingIP(const std::vector<Json>& endpoints,
                                            const std::string& ns, const std::string& ip) {
  std::vector<std::string> out;
  for (const auto& ep : endpoints)
    if (endpointsHoldPod(ep, ns, ip)) out.push_back(textOf(member(ep, "metadata"), "name"));
  return out;
}

const char* drainSkipReason(const DrainInput& in) {
  if (in.graceSeconds <= 0) return "grace period 0";
  if (in.hostNetwork || in.podIP.empty()) return "no pod IP of its own";
  if (!in.anyRunning) return "no running container";
  return nullptr;
}

DrainDecision drainDecision(const DrainInput& in) {
  auto go = [](const char* reason) { return DrainDecision{false, {}, reason}; };
  if (const char* skip = drainSkipReason(in)) return go(skip);
  if (in.listedIn && *in.listedIn == 0) return go("not in any Endpoints");
  auto bound =
      std::min<std::chrono::milliseconds>(in.maxWait, std::chrono::seconds(in.graceSeconds));
  TimePoint deadline = in.since + bound;
  if (in.now >= deadline)
    return go(in.listedIn ? "still in Endpoints at the deadline"
                          : "Endpoints unknown at the deadline");
  return DrainDecision{true, std::min(deadline, in.now + in.pollEvery),
                       in.listedIn ? "still in Endpoints" : "Endpoints not listed yet"};
}

}  // namespace skiff::kubelet
