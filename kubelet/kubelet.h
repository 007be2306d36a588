// Kubelet: the node agent. It registers this machine as a Node and keeps its
// status fresh, watches the pods bound to the node (and the Services, for
// their environment variables), and runs one PodWorker per pod, which drives
// the Runtime towards the pod's spec and writes the pod's status.
//
//   Kubelet k(clientConfig, options, std::make_unique<RuncRuntime>(...));
//   if (auto st = k.start(); !st) ...;   // returns at once; the API may be late
//   ...
//   k.stop();                            // containers keep running
//
// Threads: three informers (pods with fieldSelector=spec.nodeName=<node>,
// services, and endpoints — a deleted pod leaves them before SIGTERM,
// termination.h), a heartbeat thread (registers the Node, retrying until the API
// answers, then PATCHes nodes/<name>/status every heartbeatPeriod), a
// housekeeping thread (reaps finished workers; after the first pod list and
// every resyncPeriod, removes runtime sandboxes and containers of pods the
// API no longer has — what a kubelet killed while pods were deleted left),
// and one thread per pod.
//
// A restarted kubelet re-adopts what the runtime has: workers find their
// containers through Runtime::listContainers, so nothing running restarts.
// stop() leaves containers running, as a kubelet that exits does.
//
// Thread-safety: start()/stop() from one thread; the rest is internal.
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
#include <vector>

#include "api/json.h"
#include "base/result.h"
#include "client/event_recorder.h"
#include "client/informer.h"
#include "client/kubeconfig.h"
#include "client/rest_client.h"
#include "kubelet/images.h"
#include "kubelet/node_status.h"
#include "kubelet/pod_worker.h"
#include "kubelet/runtime.h"

namespace skiff::kubelet {

struct KubeletOptions {
  std::string nodeName;                    // "" = the host name, lower-cased
  std::string dataDir = "/var/lib/skiff";  // DATA: images in DATA/images, pods in DATA/pods
  std::string podCIDR;                     // the Node's spec.podCIDR; "" = unset
  std::string clusterDNS = "10.96.0.10";   // "" = pods get the host's DNS
  std::string clusterDomain = "cluster.local";
  std::string nodeIP;  // InternalIP / hostIP; "" = detectNodeIP()
  std::chrono::milliseconds heartbeatPeriod{10000};
  std::chrono::milliseconds resyncPeriod{60000};
  std::chrono::milliseconds pollPeriod{1000};   // how soon a container's exit is seen
  int64_t podPidsLimit = 0;                     // pids.max per container; 0 = none
  std::string resolvConf = "/etc/resolv.conf";  // the host's, for dnsPolicy Default
  int kubeletPort = 10250;                      // daemonEndpoints (the logs/exec server's port)
  int maxPods = 110;
  // Pods creating their sandbox or starting containers at once
  // (start_gate.h); 0 = StartGate::defaultSlots() (two per core).
  int parallelStarts = 0;
  // Resolves images; unset = the ImageStore at DATA/images (tests set it).
  std::function<Result<ResolvedImage>(const std::string&)> imageResolver;
};

class Kubelet : private PodHost {
 public:
  Kubelet(client::ClientConfig config, KubeletOptions options, std::unique_ptr<Runtime> runtime);
  ~Kubelet() override;
  Kubelet(const Kubelet&) = delete;
  Kubelet& operator=(const Kubelet&) = delete;

  // Reads the machine's facts, opens the image store and starts every thread.
  // Errors: the image store or /proc cannot be read. Does not wait for the API.
  Status start();
  // Stops every thread (a worker in the middle of stopping a container
  // finishes that first); containers keep running. Idempotent.
  void stop();

  const std::string& nodeName() const { return options_.nodeName; }
  Runtime& runtime() { return *runtime_; }
  // True once the Node is registered and its status written at least once.
  bool registered() const { return registered_.load(); }

 private:
  // PodHost
  Status patchPodStatus(const Json& pod, const Json& patch) override;
  Status deletePod(const Json& pod) override;
  std::vector<std::pair<std::string, std::string>> serviceEnv(const Json& pod) override;
  Result<ResolvedImage> resolveImage(const std::string& ref) override;
  Result<std::map<std::string, std::string>> objectData(const std::string& resource,
                                                        const std::string& ns,
                                                        const std::string& name) override;
  std::optional<std::vector<std::string>> endpointsListing(const std::string& ns,
                                                           const std::string& ip) override;
  Result<ServiceAccountToken> serviceAccountToken(const Json& pod, const std::string& name,
                                                  const std::string& audience,
                                                  int64_t expirationSeconds) override;
  Result<bool> serviceAccountAutomounts(const Json& pod, const std::string& name) override;
  void recordEvent(const Json& pod, const std::string& type, const std::string& reason,
                   const std::string& message) override;

  void onPod(const Json& pod);
  void onPodDeleted(const Json& pod);
  void heartbeatLoop();
  Status registerNode();
  Status writeNodeStatus();
  void housekeepingLoop();
  void removeOrphans();
  // Sleeps up to `d`; false when stopping.
  bool sleepFor(std::chrono::milliseconds d);

  client::ClientConfig clientConfig_;
  KubeletOptions options_;
  std::unique_ptr<Runtime> runtime_;
  PodWorkerConfig workerConfig_;
  NodeConfig node_;
  MachineInfo machine_;
  std::unique_ptr<ImageStore> images_;
  std::unique_ptr<client::RestClient> client_;       // requests (status, deletes, node)
  std::unique_ptr<client::RestClient> watchClient_;  // informers
  std::unique_ptr<client::EventRecorder> events_;    // the pods' events
  std::unique_ptr<client::Informer> pods_;
  std::unique_ptr<client::Informer> services_;
  std::unique_ptr<client::Informer> endpoints_;  // for graceful removal (termination.h)

  std::mutex workersMu_;
  std::map<std::string, std::unique_ptr<PodWorker>> workers_;  // by pod uid; guarded by workersMu_
  Json nodeStatus_;  // the last written; heartbeat thread only

  std::mutex stopMu_;
  std::condition_variable stopCv_;
  bool stopping_ = false;  // guarded by stopMu_
  bool started_ = false;
  std::atomic<bool> registered_{false};
  std::vector<std::thread> threads_;
};

}  // namespace skiff::kubelet
