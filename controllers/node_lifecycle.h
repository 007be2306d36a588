// NodeLifecycleController: a node whose kubelet stopped posting its status
// turns NotReady, as kube-controller-manager's node lifecycle controller does.
//
// Every `period` it looks at each Node's Ready condition; when the newest
// heartbeat (lastHeartbeatTime of its conditions) is older than `gracePeriod`,
// every condition the kubelet owns becomes status Unknown, reason
// NodeStatusUnknown, message "Kubelet stopped posting node status." (with
// lastTransitionTime now), written to nodes/NAME/status. A node that never
// posted a Ready condition gets one, Unknown with "Kubelet never posted node
// status.". The kubelet's next heartbeat sets them back.
//
// Thread-safety: start()/stop() from one thread.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <thread>

#include "api/json.h"
#include "base/result.h"
#include "client/informer.h"
#include "client/kubeconfig.h"
#include "client/rest_client.h"

namespace skiff::controllers {

struct NodeLifecycleControllerOptions {
  std::chrono::milliseconds gracePeriod{
      40000};                              // kube-controller-manager's node-monitor-grace-period
  std::chrono::milliseconds period{5000};  // node-monitor-period
};

// The Node's new status.conditions when its heartbeats are too old at `now`,
// else nullopt (pure; `node` is a Node object).
std::optional<api::Json> staleNodeConditions(const api::Json& node,
                                             std::chrono::system_clock::time_point now,
                                             std::chrono::milliseconds gracePeriod);

class NodeLifecycleController {
 public:
  NodeLifecycleController(client::ClientConfig config, NodeLifecycleControllerOptions options = {});
  ~NodeLifecycleController();
  NodeLifecycleController(const NodeLifecycleController&) = delete;
  NodeLifecycleController& operator=(const NodeLifecycleController&) = delete;

  Status start();
  void stop();

 private:
  void run();

  client::ClientConfig config_;
  NodeLifecycleControllerOptions options_;
  std::unique_ptr<client::RestClient> client_;
  std::unique_ptr<client::Informer> nodes_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace skiff::controllers
