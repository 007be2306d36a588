// Garbage collector: deletes objects whose owners are gone, and carries out
// foreground and orphan deletions, as Kubernetes' garbage collector for the
// kinds skiff serves with owners (pods, replicasets, deployments).
//
//   - An object whose every ownerReference names an object that no longer
//     exists (or exists with another uid) is deleted (Background). Owners that
//     are gone while others remain are removed from its ownerReferences.
//   - An owner being deleted with the finalizer "foregroundDeletion" (the
//     apiserver adds it for propagationPolicy=Foreground) gets its dependents
//     deleted; the finalizer is removed once no dependent with
//     blockOwnerDeletion is left, and the apiserver then removes the owner.
//   - An owner being deleted with the finalizer "orphan" (propagationPolicy=
//     Orphan) has itself removed from every dependent's ownerReferences, then
//     the finalizer removed.
// Absence in the cache is confirmed by a live GET before anything is deleted,
// so a lagging informer never costs a dependent its life.
//
// Thread-safety: as ReplicaSetController (start/stop from one thread).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "api/json.h"
#include "base/result.h"
#include "client/informer.h"
#include "client/kubeconfig.h"
#include "client/rest_client.h"
#include "controllers/worker_pool.h"
#include "controllers/workload_util.h"
#include "controllers/workqueue.h"

namespace skiff::controllers {

inline constexpr const char* kForegroundFinalizer = "foregroundDeletion";
inline constexpr const char* kOrphanFinalizer = "orphan";

// What the collector decides about one object given each owner's state (pure).
enum class OwnerState { kExists, kGone, kWaitingForDependents };
struct OwnerVerdict {
  enum class Action { kNothing, kRemoveRefs, kDelete } action = Action::kNothing;
  std::vector<std::string> removeUids;  // for kRemoveRefs
  std::string propagation;              // for kDelete: "Background" or "Foreground"
};
// `owners[i]` is the state of ownerReferences[i]. `hasDependents` says whether
// the object itself owns something (then a waiting owner gets a foreground
// delete so the chain finishes before it).
OwnerVerdict judgeOwners(const std::vector<std::string>& ownerUids,
                         const std::vector<OwnerState>& owners, bool hasDependents);

bool hasFinalizer(const Json& obj, const std::string& finalizer);

using GarbageCollectorOptions = ControllerOptions;

class GarbageCollector {
 public:
  GarbageCollector(client::ClientConfig config, GarbageCollectorOptions options = {});
  ~GarbageCollector();
  GarbageCollector(const GarbageCollector&) = delete;
  GarbageCollector& operator=(const GarbageCollector&) = delete;

  Status start();
  void stop();

 private:
  struct Kind;
  void worker();
  void resync();  // enqueues everything again (the pool's resync)
  Status process(const std::string& item);
  Status processOwner(const Kind& kind, const Json& owner);
  Status checkOwners(const Kind& kind, const Json& obj);
  Result<OwnerState> ownerState(const Json& ref, const std::string& ns);
  Status removeFinalizer(const Kind& kind, const Json& obj, const std::string& finalizer);
  // Deletes `obj` only as the cache holds it (its uid and resourceVersion): the
  // cache may not have seen a change to its owner references yet (an orphaning
  // patch). Gone already is success; a conflict (it changed) is returned, and
  // its update event, or the caller's retry, brings it back to be judged afresh.
  Status deleteAsCached(const Kind& kind, const Json& obj, const std::string& propagation);
  std::vector<std::pair<const Kind*, Json>> dependentsOf(const std::string& uid);
  void enqueueRelated(const Kind& kind, const Json& obj, bool deleted);
  const Kind* kindNamed(const std::string& kind) const;

  client::ClientConfig config_;
  GarbageCollectorOptions options_;
  std::unique_ptr<client::RestClient> client_;
  std::unique_ptr<client::RestClient> watchClient_;
  std::vector<std::unique_ptr<Kind>> kinds_;
  WorkQueue queue_;
  bool started_ = false;        // owner thread only: informers and workers exist
  WorkerPool workers_{queue_, "gc"};  // last: stopped before what its threads use
};

}  // namespace skiff::controllers
