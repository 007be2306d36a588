// Deployment controller: rolls a Deployment's pods from one template to the
// next through ReplicaSets, as Kubernetes' pkg/controller/deployment.
//
// Each template gets a ReplicaSet named "<deployment>-<hash>" (hash: FNV-32a of
// the template and status.collisionCount, encoded as Kubernetes'
// SafeEncodeString) whose template and selector carry the pod-template-hash
// label. The newest template's ReplicaSet is "new", the rest are "old".
//   RollingUpdate: scale new up while sum(replicas) <= replicas + maxSurge
//   (percent rounded up; each ReplicaSet counts max(spec, status.replicas), so
//   pods an old set still has count too), scale old down while available >=
//   replicas - maxUnavailable (percent rounded down; an old set never counts
//   more available pods than its spec), unhealthy old pods first.
//   Recreate: old to 0, wait until their pods are gone, then new to replicas.
// Revisions live in the annotation deployment.kubernetes.io/revision on each
// ReplicaSet and on the Deployment; old ReplicaSets at 0 replicas beyond
// spec.revisionHistoryLimit are deleted. Status follows the ReplicaSets; the
// Progressing condition (NewReplicaSetCreated, ReplicaSetUpdated,
// NewReplicaSetAvailable, ProgressDeadlineExceeded, DeploymentPaused,
// DeploymentResumed) and Available (MinimumReplicasAvailable /
// MinimumReplicasUnavailable) as Kubernetes sets them. A paused Deployment only
// scales. Every step recomputes from the API, so a controller restarted
// mid-rollout continues where the objects say it is.
//
// Thread-safety: pure functions are plain; the controller as ReplicaSetController.
#pragma once

#include <map>
#include <memory>
#include <mutex>
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

// Kubernetes' SafeEncodeString of the decimal FNV-32a hash of the template's
// canonical JSON (and the collision count when > 0). Stable across runs.
std::string podTemplateHash(const Json& podTemplate, long long collisionCount);
// Templates equal once the pod-template-hash label is ignored.
bool equalIgnoreHash(const Json& a, const Json& b);

long long revisionOf(const Json& rs);     // the revision annotation, 0 when absent
long long specReplicas(const Json& obj);  // spec.replicas, default 1

// maxSurge (rounded up) and maxUnavailable (rounded down) against
// spec.replicas; both 0 makes unavailable 1. Recreate: {0, 0}.
struct Fenceposts {
  long long surge = 0;
  long long unavailable = 0;
};
Fenceposts resolveFenceposts(const Json& deployment);
// MaxUnavailable as the Available condition uses it (0 for Recreate).
long long maxUnavailable(const Json& deployment);

// New ReplicaSet's replicas for the next RollingUpdate step (Recreate:
// spec.replicas). `newRs` may be null.
long long newReplicaSetReplicas(const Json& deployment, const std::vector<Json>& allRs,
                                const Json* newRs);

// One old ReplicaSet scale-down: name -> new replicas. Old sets are taken
// oldest first, unhealthy pods first, then available pods while at least
// replicas - maxUnavailable stay available.
std::map<std::string, long long> oldReplicaSetScaleDown(const Json& deployment,
                                                        const std::vector<Json>& oldRs,
                                                        const Json* newRs);

// Names of old ReplicaSets to delete beyond revisionHistoryLimit (lowest
// revisions first; only those at 0 replicas and fully observed).
std::vector<std::string> replicaSetsToCleanUp(const Json& deployment,
                                              const std::vector<Json>& oldRs);

// Deployment status from its ReplicaSets (conditions kept, Available set).
Json calculateStatus(const Json& deployment, const std::vector<Json>& allRs, const Json* newRs,
                     TimePoint now);
// As calculateStatus, plus the Progressing condition as syncRolloutStatus.
Json rolloutStatus(const Json& deployment, const std::vector<Json>& allRs, const Json* newRs,
                   TimePoint now);
bool deploymentComplete(const Json& deployment, const Json& status);
// Sets (or replaces) a condition in status.conditions with Kubernetes'
// SetDeploymentCondition rules (same status and reason: unchanged; same
// status: keep lastTransitionTime).
void setCondition(Json& status, const std::string& type, const std::string& condStatus,
                  const std::string& reason, const std::string& message, TimePoint now);
const Json* findCondition(const Json& status, const std::string& type);

// What `kubectl rollout status` prints for a Deployment now.
struct RolloutView {
  std::string message;  // with trailing newline
  bool done = false;
  std::string error;  // non-empty: give up with this error
};
RolloutView viewRollout(const Json& deployment);

// ---- the controller ----

using DeploymentControllerOptions = ControllerOptions;

class DeploymentController {
 public:
  DeploymentController(client::ClientConfig config, DeploymentControllerOptions options = {});
  ~DeploymentController();
  DeploymentController(const DeploymentController&) = delete;
  DeploymentController& operator=(const DeploymentController&) = delete;

  Status start();
  void stop();

 private:
  struct SyncState;
  void worker();
  void resync();  // enqueues everything again (the pool's resync)
  Status sync(const std::string& key);
  void enqueueOwner(const Json& obj);
  std::vector<Json> replicaSetsIn(const std::string& ns);
  void remember(const Json& rs);
  Result<std::vector<Json>> claimReplicaSets(const Json& d);
  Result<Json> scaleReplicaSet(const Json& d, const Json& rs, long long replicas);
  Result<Json> getNewReplicaSet(SyncState& s, bool create);
  Status rolling(SyncState& s);
  Status recreate(SyncState& s);
  Status scaleOnly(SyncState& s);
  Status cleanup(SyncState& s);
  Status writeStatus(const SyncState& s, const Json& status);

  client::ClientConfig config_;
  DeploymentControllerOptions options_;
  std::unique_ptr<client::RestClient> client_;
  std::unique_ptr<client::RestClient> watchClient_;
  std::unique_ptr<client::EventRecorder> events_;  // ScalingReplicaSet
  std::unique_ptr<client::Informer> deployments_;
  std::unique_ptr<client::Informer> replicaSets_;
  std::unique_ptr<client::Informer> pods_;
  WorkQueue queue_;
  // ReplicaSets as this controller last wrote them, until the informer catches
  // up (read-your-writes, so a lagging cache never undoes a step).
  std::mutex writtenMu_;
  std::map<std::string, Json> written_;  // guarded by writtenMu_; key ns/name
  bool started_ = false;                 // owner thread only: informers and workers exist
  WorkerPool workers_{queue_, "deploy"};  // last: stopped before what its threads use
};

}  // namespace skiff::controllers
