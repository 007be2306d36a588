// Helpers the workload controllers (replicaset, deployment, gc) share: owner
// references, pod readiness and availability, times, and int-or-percent
// values. All pure functions over objects as JSON; no I/O.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "api/json.h"
#include "api/meta.h"
#include "api/time.h"
#include "client/informer.h"

namespace skiff::controllers {

using api::Json;
using TimePoint = std::chrono::system_clock::time_point;

inline constexpr const char* kPodTemplateHashLabel = "pod-template-hash";
inline constexpr const char* kRevisionAnnotation = "deployment.kubernetes.io/revision";
inline constexpr const char* kDesiredReplicasAnnotation =
    "deployment.kubernetes.io/desired-replicas";
inline constexpr const char* kMaxReplicasAnnotation = "deployment.kubernetes.io/max-replicas";

// "2026-11-27T02:09:16Z" and back (nullopt for junk).
using api::formatTime;
using api::parseTime;

// String / int fields by path, "" / fallback when absent or of another type.
std::string str(const Json& obj, const char* a, const char* b = nullptr, const char* c = nullptr);
long long num(const Json& obj, const char* a, const char* b, long long fallback);

// "ns/name".
std::string keyOf(const Json& obj);
std::string uidOf(const Json& obj);
using api::isDeleting;

// The ownerReference with controller: true, or nullptr.
const Json* controllerRef(const Json& obj);
// An ownerReference to `owner` (apiVersion/kind given), controller and
// blockOwnerDeletion true.
Json makeControllerRef(const Json& owner, const std::string& apiVersion, const std::string& kind);

// Pods: active = not Succeeded/Failed and not being deleted.
bool podIsActive(const Json& pod);
bool podIsReady(const Json& pod);
// Ready for at least minReadySeconds at `now` (the Ready condition's
// lastTransitionTime; a missing time counts as ready since forever).
bool podIsAvailable(const Json& pod, long long minReadySeconds, TimePoint now);

// maxSurge / maxUnavailable: an int, or "N%" of `total` rounded up (roundUp)
// or down. Absent -> `fallback` ("25%").
long long resolveIntOrPercent(const Json* value, long long total, bool roundUp);

// Stops informers side by side (each takes up to a second to notice), joins all.
void stopInformers(const std::vector<client::Informer*>& informers);

}  // namespace skiff::controllers
