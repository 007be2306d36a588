// Pod status: the pure function from what the kubelet observed of a pod (its
// spec and last status, the sandbox's address, every container attempt the
// runtime knows, the worker's waiting reasons and the probe results) to the
// PodStatus it reports, as the kubelet's generateAPIPodStatus does.
//
// Containers (convertToAPIContainerStatuses):
//   - no attempt yet: waiting, reason from the worker (ErrImageNeverPull,
//     CreateContainerConfigError, ...) or the default: PodInitializing when the
//     pod has init containers, else ContainerCreating;
//   - latest attempt running: running{startedAt}; created: waiting;
//   - latest attempt exited: terminated{exitCode, reason (the runtime's, else
//     Completed / Error), message, startedAt, finishedAt, containerID}; if the
//     worker set a waiting reason (CrashLoopBackOff) the state is waiting and
//     that attempt moves to lastState;
//   - lastState otherwise is the attempt before the latest, terminated.
//   ready: a running app container whose readiness passed; an init container
//   that exited 0.
//   restartCount is the latest attempt number (attempt = restarts before it),
//   so it survives a kubelet restart; containerID is skiff://<runtime id>.
// Phase (getPhase): an init container that failed with restartPolicy Never
// → Failed; init containers not all done, or any app container waiting without
// a previous termination → Pending; any running → Running; all stopped →
// Succeeded if all exited 0, else Running for Always (and for OnFailure while a
// failed one will restart), else Failed. A terminal phase never changes back.
// Conditions, in Kubernetes' order: Initialized, Ready, ContainersReady,
// PodScheduled, each keeping its lastTransitionTime while its status holds.
// Ready and ContainersReady say `containers with unready status: [a b]`
// (reason ContainersNotReady), or reason PodCompleted once terminal.
//
// Also: the JSON helpers and RFC 3339 times the kubelet's files share.
//
// Thread-safety: pure functions.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "api/json.h"
#include "api/time.h"
#include "kubelet/runtime.h"

namespace skiff::kubelet {

using api::Json;
using TimePoint = std::chrono::system_clock::time_point;

// What the pod worker knows about one container of the spec.
struct ContainerObservation {
  // Every attempt the runtime knows for this name, oldest first (by attempt).
  std::vector<ContainerStatus> attempts;
  // Set when the container waits for a reason of the worker's: CrashLoopBackOff,
  // ErrImageNeverPull, CreateContainerConfigError, CreateContainerError.
  std::string waitingReason;
  std::string waitingMessage;
  std::string imageID;   // "docker.io/library/busybox@sha256:…"; "" when unresolved
  bool ready = false;    // the readiness probe passed (or there is none); running only
  bool started = false;  // the startup probe passed (or there is none); running only
};

struct PodObservation {
  Json pod;                          // the API object; its status is the previous one
  std::vector<std::string> podIPs;   // the sandbox's addresses ("" none yet)
  std::vector<std::string> hostIPs;  // the node's
  std::map<std::string, ContainerObservation> containers;  // by container name
};

// The full PodStatus to report.
Json computePodStatus(const PodObservation& obs, TimePoint now);

// The pod's phase from its spec and computed container statuses.
std::string podPhase(const Json& pod, const Json& initContainerStatuses,
                     const Json& containerStatuses);

// True for a restartPolicy (Always, OnFailure, Never; "" = Always) that
// restarts a container exited with `exitCode`.
bool shouldRestart(const std::string& restartPolicy, int exitCode);

// A merge patch turning status `from` into `to` ({"status": {changed fields,
// removed ones as null}}); null when nothing differs.
Json statusPatch(const Json& from, const Json& to);

// "skiff://<id>".
std::string containerIdUri(const std::string& id);

// ---- shared helpers ----

// "2026-11-27T02:09:16Z" (seconds precision, as metav1.Time) and back.
using api::formatTime;
using api::parseTime;
// obj[key] when obj is an object holding it, else a static null.
const Json& member(const Json& obj, const char* key);
// obj[key] as a string, "" when missing or not a string.
std::string textOf(const Json& obj, const char* key);
// obj[key] as an integer, `fallback` when missing or not an integer.
long long intOf(const Json& obj, const char* key, long long fallback);

}  // namespace skiff::kubelet
