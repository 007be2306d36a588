// Graceful removal from Services: a pod being deleted leaves every Endpoints
// object before its containers get SIGTERM, so a client of a Service sees
// no refused or reset connection during a rollout.
//
// Two components race when a pod is deleted: the endpoints controller (it
// drops a pod with deletionTimestamp from its Services' Endpoints, and
// netproxy then reprograms the kernel's rules), and this kubelet (it stops
// the containers). Nothing orders them: a kubelet that signals at once lets
// the server exit while the rules still send it new connections. So the pod
// worker, seeing the deletion, first reports the pod not ready (Ready and
// ContainersReady False), then holds the SIGTERM back until no Endpoints of
// the pod's namespace lists the pod's IP among its ready `addresses`, as the
// kubelet's endpoints informer shows them — or until a bound passes:
//   - at most `maxWait` (2 s by default) after the worker first saw the
//     deletion, and never beyond the grace period (deletionGracePeriodSeconds);
//   - not at all with a grace period of 0: whoever asks for 0 asks for the
//     pod to stop now (`kubectl delete --grace-period=0`, a Job's pods, test
//     fixtures), as Kubernetes' kubelet kills such pods at once;
//   - not at all for a pod without an IP of its own (hostNetwork, or no
//     sandbox yet), or with no running container (nothing to signal).
// Endpoints not yet listed by the informer count as still listing the pod:
// the bound then decides.
//
// What this cannot see: netproxy's rules. Endpoints reach the kernel one
// netproxy sync later (rate-limited to one per 10 ms; typically a few ms
// through the API); the hold covers the Endpoints update, not that sync. A
// lagging netproxy still routes new connections to the pod while it stops,
// and those see a refused connection once the server closed its socket —
// Kubernetes has the same gap (hence preStop sleeps there).
//
// Thread-safety: pure functions.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "kubelet/pod_status.h"

namespace skiff::kubelet {

// True when the Endpoints object's subsets[].addresses (ready addresses;
// notReadyAddresses carry no traffic) hold ip.
bool endpointsListIP(const Json& endpoints, const std::string& ip);
// The same, for an Endpoints object in namespace `ns`.
bool endpointsHoldPod(const Json& endpoints, const std::string& ns, const std::string& ip);
// Names of the Endpoints among `endpoints` in namespace `ns` whose
// ready addresses hold `ip`.
std::vector<std::string> endpointsListingIP(const std::vector<Json>& endpoints,
                                            const std::string& ns, const std::string& ip);

struct DrainInput {
  long long graceSeconds = 0;  // the deletion's grace period
  bool hostNetwork = false;
  std::string podIP;  // "" = none (no sandbox)
  bool anyRunning = false;
  // How many Endpoints still list podIP; nullopt while the endpoints informer
  // has not listed yet.
  std::optional<size_t> listedIn;
  TimePoint since;  // when the worker first saw the deletion
  TimePoint now;
  std::chrono::milliseconds maxWait{2000};
  std::chrono::milliseconds pollEvery{20};
};

struct DrainDecision {
  bool hold = false;   // keep the containers running for now
  TimePoint nextLook;  // when holding: when to look again
  std::string reason;  // why, for the log: "grace period 0", "not in any Endpoints", ...
};

// Whether a pod being deleted should still keep its containers from SIGTERM.
DrainDecision drainDecision(const DrainInput& in);

// Why the drain does not apply at all (grace 0, no pod IP of its own, nothing
// running), or nullptr when it does and the Endpoints are worth asking.
const char* drainSkipReason(const DrainInput& in);

}  // namespace skiff::kubelet
