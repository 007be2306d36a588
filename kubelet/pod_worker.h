// PodWorker: the kubelet's loop for one pod, level-triggered.
//
// Each pass (syncOnce) looks at the pod as the API last showed it and at what
// the runtime has, and moves one step closer to what the spec asks:
//   1. the pod being deleted (deletionTimestamp) or gone from the API: stop
//      every container with the grace period (deletionGracePeriodSeconds; 2 s
//      for a pod already gone), remove them and the sandbox, then DELETE the
//      object with gracePeriodSeconds 0 and the uid precondition; done.
//   2. ensure the sandbox (hostname, DNS config from dnsPolicy, host aliases);
//   3. init containers in order, each must exit 0 before the next starts (a
//      failed one restarts unless restartPolicy is Never, which fails the pod);
//   4. then every app container: start it, run its probes while it runs (a
//      liveness or startup failure stops it), restart it per restartPolicy when
//      it exits — at once the first time, then after CrashLoopBackOff's delay;
//   5. compute the status (pod_status.h) and PATCH it when it changed.
// A pass never waits for a container: it returns when the next one is due
// (the next probe, the end of a back-off, or the poll period while
// containers run, to notice exits). Containers are found again from the
// runtime every pass, so a restarted kubelet re-adopts them as they are: a
// running container keeps running and its restartCount (the attempt number)
// stays; one that exited meanwhile is reported with its exit code.
//
// Thread-safety: the worker's own thread runs syncOnce(); update()/removed()
// may be called from any thread (they only record the newest pod and wake
// the thread). Tests call syncOnce() directly without start().
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "api/json.h"
#include "base/result.h"
#include "kubelet/backoff.h"
#include "kubelet/images.h"
#include "kubelet/pod_status.h"
#include "kubelet/probes.h"
#include "kubelet/process_spec.h"
#include "kubelet/runtime.h"
#include "kubelet/start_gate.h"
#include "kubelet/termination.h"

namespace skiff::kubelet {

// A service account's token from the API (TokenRequest), and when it expires.
struct ServiceAccountToken {
  std::string token;
  TimePoint expires;
};

// What a pod worker asks of the rest of the kubelet: the API and the node.
// The Kubelet implements it; tests fake it. Methods may be called from
// several workers at once.
class PodHost {
 public:
  virtual ~PodHost() = default;
  // PATCH pods/<name>/status with the merge patch `patch` ({"status": {...}}).
  virtual Status patchPodStatus(const Json& pod, const Json& patch) = 0;
  // DELETE the pod with gracePeriodSeconds 0 and preconditions.uid. A pod
  // already gone (or replaced by one of another uid) is success.
  virtual Status deletePod(const Json& pod) = 0;
  // The Service variables for a container of `pod` starting now (service_env.h).
  virtual std::vector<std::pair<std::string, std::string>> serviceEnv(const Json& pod) = 0;
  // ImageStore::resolve: kNotFound when the image was never loaded.
  virtual Result<ResolvedImage> resolveImage(const std::string& ref) = 0;
  // The data of a ConfigMap ("configmaps") or Secret ("secrets", decoded) in
  // namespace ns; kNotFound when it does not exist.
  virtual Result<std::map<std::string, std::string>> objectData(const std::string& resource,
                                                                const std::string& ns,
                                                                const std::string& name) = 0;
  // Names of the Endpoints in namespace ns whose ready addresses hold ip
  // (termination.h); nullopt while the host does not know the Endpoints yet.
  // A host that does not track Endpoints says none.
  virtual std::optional<std::vector<std::string>> endpointsListing(const std::string& ns,
                                                                   const std::string& ip) {
    (void)ns;
    (void)ip;
    return std::vector<std::string>{};
  }
  // A token for ServiceAccount `name` in the pod's namespace, bound to the pod
  // (POST serviceaccounts/<name>/token), for `audience` ("": the API server's).
  // A host that cannot mint one says so.
  virtual Result<ServiceAccountToken> serviceAccountToken(const Json& pod, const std::string& name,
                                                          const std::string& audience,
                                                          int64_t expirationSeconds) {
    (void)pod;
    (void)name;
    (void)audience;
    (void)expirationSeconds;
    return makeError(Code::kUnavailable, "service account tokens are not available");
  }
  // False when ServiceAccount `name` says automountServiceAccountToken: false.
  virtual Result<bool> serviceAccountAutomounts(const Json& pod, const std::string& name) {
    (void)pod;
    (void)name;
    return true;
  }
  // An event about the pod (client/event_recorder.h): `type` "Normal" or
  // "Warning". Returns at once. A host that keeps no events drops it.
  virtual void recordEvent(const Json& pod, const std::string& type, const std::string& reason,
                           const std::string& message) {
    (void)pod;
    (void)type;
    (void)reason;
    (void)message;
  }
};

// resolv.conf, parsed.
struct DnsConfig {
  std::vector<std::string> servers;
  std::vector<std::string> searches;
  std::vector<std::string> options;
};
DnsConfig parseResolvConf(const std::string& text);

struct PodWorkerConfig {
  std::string nodeName;
  std::string dataDir;               // DATA: emptyDir volumes under DATA/pods/<uid>/volumes
  // The API server's CA (PEM). Set: every pod, unless automountServiceAccountToken
  // is false, gets its service account's token, this ca.crt and its namespace
  // at /var/run/secrets/kubernetes.io/serviceaccount, as Kubernetes'
  // kube-api-access volume, the token renewed at 80% of its life.
  std::string caPem;
  std::vector<std::string> hostIPs;  // the node's addresses
  std::string clusterDNS = "10.96.0.10";
  std::string clusterDomain = "cluster.local";
  DnsConfig hostDNS;                           // the host's /etc/resolv.conf, for dnsPolicy Default
  int64_t pidsLimit = 0;                       // per container; 0 = none
  std::chrono::milliseconds pollPeriod{1000};  // re-list while containers run
  std::chrono::milliseconds retryPeriod{2000};       // after a failed runtime or API call
  std::chrono::milliseconds imageRetryPeriod{5000};  // a missing image, a bad config
  // configMap, secret and downwardAPI volumes are re-read this often while a
  // container runs, and rewritten when they changed (Kubernetes: about a minute).
  std::chrono::milliseconds volumeRefreshPeriod{10000};
  std::chrono::milliseconds resyncPeriod{60000};     // a pass at least this often
  // How long a pod being deleted may wait to leave its Services' Endpoints
  // before SIGTERM (termination.h); never longer than its grace period.
  std::chrono::milliseconds drainTimeout{2000};
  Backoff::Duration backoffInitial = std::chrono::seconds(10);
  Backoff::Duration backoffMax = std::chrono::minutes(5);
  std::function<TimePoint()> clock;  // default: system_clock::now
  // Shared by the node's workers: creating a sandbox or starting a container
  // takes a slot (start_gate.h). Null: no limit.
  std::shared_ptr<StartGate> startGate;
};

// The sandbox for a pod: hostname (spec.hostname or the name, at most 63),
// DNS per dnsPolicy (ClusterFirst: nameserver clusterDNS, search
// <ns>.svc.<domain> svc.<domain> <domain> plus the host's, options ndots:5;
// Default, or ClusterFirst with hostNetwork or without clusterDNS: the host's;
// None: nothing) merged with spec.dnsConfig, host aliases, hostNetwork.
SandboxConfig sandboxConfig(const Json& pod, const PodWorkerConfig& config);

// Where a container finds its service account's credentials, and whether the
// pod may get them (PodWorkerConfig::caPem set, its automountServiceAccountToken
// not false; its ServiceAccount has the last word when the pod says nothing).
inline constexpr const char* kServiceAccountMountPath =
    "/var/run/secrets/kubernetes.io/serviceaccount";
bool mountsServiceAccountToken(const Json& pod, const PodWorkerConfig& config);

// A container's runtime config, and directories to create before starting it.
struct ContainerPlan {
  ContainerConfig config;
  std::vector<std::string> dirs;
};
// From the spec: resources.limits (memory → bytes, cpu → quota per 100 ms),
// securityContext, stdin, volumeMounts of emptyDir (DATA/pods/<uid>/volumes/
// <name>; medium Memory sets tmpfs, the runtime mounting one tmpfs on that
// directory for every container of the pod), hostPath volumes, and read-only
// mounts of the configMap, secret, downwardAPI and projected volumes the worker
// writes to DATA/pods/<uid>/volumes/<name> (volume_files.h), and, with
// serviceAccountVolume, the service account's credentials at
// kServiceAccountMountPath unless the container mounts something there.
// kBadRequest for other volume kinds, a missing volume or a bad subPath.
Result<ContainerPlan> containerPlan(const Json& pod, const Json& container, int attempt,
                                    ProcessSpec process, const PodWorkerConfig& config,
                                    bool serviceAccountVolume = false);

class PodWorker {
 public:
  PodWorker(Json pod, PodWorkerConfig config, Runtime& runtime, PodHost& host);
  ~PodWorker();
  PodWorker(const PodWorker&) = delete;
  PodWorker& operator=(const PodWorker&) = delete;

  // Runs syncOnce() on a thread of its own until done() or stop().
  void start();
  // Stops the thread, leaving containers as they are (kubelet shutdown). Idempotent.
  void stop();
  // The newest version of the pod from the API.
  void update(Json pod);
  // The pod is gone from the API: tear everything down.
  void removed();
  // True once the pod's containers and sandbox are removed (and the object deleted).
  bool done() const { return done_.load(); }
  const std::string& uid() const { return uid_; }

  // One pass (see above). Returns when the next pass is due; nullopt when
  // only a change (update/removed) or the resync period calls for one.
  std::optional<TimePoint> syncOnce();
  // The status last written to the API (null before the first write).
  Json lastStatus() const;

 private:
  enum class Progress { kRunning, kSucceeded, kFailed, kWaiting };
  struct Waiting {
    std::string reason, message;
  };

  TimePoint now() const;
  // The sandbox's addresses (the node's with hostNetwork); none before the sandbox.
  std::vector<std::string> podIPs() const;
  void run();
  std::optional<TimePoint> teardown(const Json& pod, bool gone);
  Progress advance(const Json& pod, const Json& container, bool isInit,
                   std::vector<ContainerStatus>& attempts, TimePoint now, TimePoint& wake);
  Progress start(const Json& pod, const Json& container, int attempt,
                 std::vector<ContainerStatus>& attempts, TimePoint now, TimePoint& wake);
  // Runs due probes of a running container; when liveness or startup failed
  // it stops the container and refreshes `latest`.
  void probe(const Json& pod, const Json& container, ContainerStatus& latest, TimePoint now,
             TimePoint& wake);
  // What a container of `pod` sees (process_spec.h), but the Service
  // variables, which only a start needs (they copy every Service).
  PodContext context(const Json& pod);
  // Writes the pod's configMap, secret, downwardAPI and projected volumes
  // (volume_files.h). Errors read "MountVolume.SetUp failed for volume ...".
  Status setUpVolumes(const Json& pod, const PodContext& ctx);
  void observeProbes(const Json& container, const ContainerStatus& latest,
                     ContainerObservation& out) const;
  using ContainersByName = std::map<std::string, std::vector<ContainerStatus>>;
  // What the status computation needs, from the runtime's containers; sets
  // anyRunning. terminating: every container reported not ready.
  PodObservation observe(const Json& pod, ContainersByName& byName, bool terminating,
                         bool& anyRunning);
  Status writeStatus(const Json& pod, PodObservation obs, TimePoint now);
  // Takes a start slot unless this pass holds one already; false when the
  // pod is being deleted or the worker stops meanwhile (no slot then).
  bool enterGate();
  void leaveGate();
  // Stopping, gone, or deletionTimestamp set: a start would be wasted.
  bool startCancelled() const;

  const std::string uid_;
  const PodWorkerConfig config_;
  Runtime& runtime_;
  PodHost& host_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  Json pod_;               // guarded by mu_
  bool gone_ = false;      // guarded by mu_
  bool dirty_ = false;     // guarded by mu_
  bool stopping_ = false;  // guarded by mu_
  Json lastWritten_;       // guarded by mu_ (written by the sync thread)
  std::atomic<bool> done_{false};
  std::thread thread_;

  // Owned by the sync thread.
  std::optional<SandboxInfo> sandbox_;
  bool holdingGate_ = false;
  // Deletion (termination.h): when first seen, whether the not-ready status
  // is written, and whether the pod has left its Endpoints (or the wait ended).
  std::optional<TimePoint> terminatingSince_;
  bool notReadyWritten_ = false;
  bool drained_ = false;
  Backoff backoff_;
  std::map<std::string, Waiting> waiting_;                   // by container name
  std::map<std::string, TimePoint> retryAt_;                 // by container name
  // By container name: the dead attempt whose back-off an event reported.
  std::map<std::string, std::string> backoffReported_;
  TimePoint volumesRefreshAt_{};  // the next re-read of the pod's file volumes
  // Tokens of the pod's ServiceAccount, by audience and lifetime, each renewed
  // at 80% of its life, as the kubelet's token manager.
  struct CachedToken {
    std::string token;
    TimePoint renewAt;
  };
  std::map<std::pair<std::string, int64_t>, CachedToken> tokens_;
  Result<std::string> token(const Json& pod, const std::string& audience, int64_t seconds);
  // The automatic credentials: decided on the first start (the pod's setting,
  // else its ServiceAccount's).
  std::optional<bool> automount_;
  std::map<std::string, std::string> imageIDs_;              // by container name
  std::map<std::string, std::vector<ProbeTracker>> probes_;  // by runtime container id
};

}  // namespace skiff::kubelet
