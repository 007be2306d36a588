// ReplicaSet controller: keeps exactly spec.replicas active pods that match a
// ReplicaSet's selector and name it as their controller, as Kubernetes'
// pkg/controller/replicaset.
//
// Level-triggered. Informers on pods and replicasets only enqueue ReplicaSet
// keys; a worker reconciles one key from the caches:
//   1. claim pods: owned pods that still match stay, owned pods that stopped
//      matching are released (ownerReference removed), orphans that match are
//      adopted (ownerReference added, controller: true);
//   2. if its expectations are satisfied (no create/delete of its own still
//      unseen in the pod informer), create pods from the template (generateName
//      "<rs>-") or delete the surplus in Kubernetes' order (podsToDelete);
//   3. write status (replicas, fullyLabeledReplicas, readyReplicas,
//      availableReplicas with minReadySeconds, observedGeneration).
// A pod that becomes ready re-enqueues its ReplicaSet after minReadySeconds so
// availableReplicas follows; a periodic resync is the safety net.
//
// Thread-safety: the pure functions are plain; the controller is driven by
// start()/stop() from one thread; its workers share only the informers (which
// are thread-safe) and Expectations (locked).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "api/json.h"
#include "base/result.h"
#include "client/event_recorder.h"
#include "client/informer.h"
#include "client/kubeconfig.h"
#include "client/rest_client.h"
#include "controllers/worker_pool.h"
#include "controllers/workload_util.h"
#include "controllers/workqueue.h"

namespace skiff::controllers {

// ---- decisions (pure) ----

// Kubernetes' ActivePodsWithRanks order: true when `a` should be deleted
// before `b`: unscheduled < scheduled; Pending < Unknown < Running; not ready <
// ready; ready for less time < longer; more restarts < fewer; newer < older.
bool deleteFirst(const Json& a, const Json& b);
// The `count` pods to remove from `pods` (all active, owned), in that order.
std::vector<Json> podsToDelete(std::vector<Json> pods, size_t count);

// A new pod for `rs`: template labels/annotations, generateName "<rs>-",
// the controller ownerReference, the template's spec.
Json podFromTemplate(const Json& rs);

// ReplicaSet status from its owned active pods.
Json replicaSetStatus(const Json& rs, const std::vector<Json>& pods, TimePoint now);

// Seconds until the next pod of `pods` becomes available (ready, waiting out
// minReadySeconds), or -1 when none is waiting.
long long secondsUntilNextAvailable(const std::vector<Json>& pods, long long minReadySeconds,
                                    TimePoint now);

// Creates and deletes a controller issued but has not yet seen in its
// informer, per controller key (client-go's UIDTrackingControllerExpectations).
// A key with pending expectations is not acted on again until they are seen
// or kExpectationsTimeout passes, so a slow informer never causes
// over-creation. Thread-safe.
class Expectations {
 public:
  static constexpr std::chrono::seconds kExpectationsTimeout{60};
  bool satisfied(const std::string& key) const;
  void expectCreations(const std::string& key, int count);
  void creationObserved(const std::string& key);
  void expectDeletions(const std::string& key, const std::vector<std::string>& podUids);
  void deletionObserved(const std::string& key, const std::string& podUid);
  void forget(const std::string& key);

 private:
  struct Entry {
    int adds = 0;
    std::set<std::string> deletes;
    std::chrono::steady_clock::time_point at;
  };
  mutable std::mutex mu_;
  std::map<std::string, Entry> entries_;  // guarded by mu_
};

// ---- the controller ----

using ReplicaSetControllerOptions = ControllerOptions;

class ReplicaSetController {
 public:
  ReplicaSetController(client::ClientConfig config, ReplicaSetControllerOptions options = {});
  ~ReplicaSetController();
  ReplicaSetController(const ReplicaSetController&) = delete;
  ReplicaSetController& operator=(const ReplicaSetController&) = delete;

  // Starts informers and workers; returns without waiting for the first list.
  Status start();
  // Stops workers and informers; joins. Idempotent.
  void stop();

 private:
  void worker();
  void resync();  // enqueues everything again (the pool's resync)
  Status sync(const std::string& key);
  void enqueueForPod(const Json& pod);
  Status updateStatus(const Json& rs, const Json& status);

  client::ClientConfig config_;
  ReplicaSetControllerOptions options_;
  std::unique_ptr<client::RestClient> client_;       // requests
  std::unique_ptr<client::RestClient> watchClient_;  // informers
  std::unique_ptr<client::EventRecorder>
      events_;  // SuccessfulCreate, SuccessfulDelete, FailedCreate
  std::unique_ptr<client::Informer> pods_;
  std::unique_ptr<client::Informer> replicaSets_;
  WorkQueue queue_;
  Expectations expectations_;
  bool started_ = false;        // owner thread only: informers and workers exist
  WorkerPool workers_{queue_, "rs"};  // last: stopped before what its threads use
};

}  // namespace skiff::controllers
