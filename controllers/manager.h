// ControllerManager: runs every controller of controllers/ in one process, as
// kube-controller-manager: ReplicaSet, Deployment, the garbage collector and
// Endpoints. `skiff controller-manager` runs it alone; `skiff
// up` embeds it.
//
// Each controller has its own informers and clients built from the same
// ClientConfig. start() starts them all (non-blocking); stop() stops them in
// reverse order and joins. Not thread-safe: start/stop from one thread.
#pragma once

#include <memory>

#include "base/result.h"
#include "client/kubeconfig.h"
#include "controllers/deployment.h"
#include "controllers/gc.h"
#include "controllers/node_lifecycle.h"
#include "controllers/replicaset.h"

namespace skiff::controllers {

struct ControllerManagerOptions {
  bool replicaSets = true;
  bool deployments = true;
  bool garbageCollector = true;
  bool endpoints = true;
  bool nodeLifecycle = true;  // Ready=Unknown when a kubelet stops posting status
  ReplicaSetControllerOptions replicaSet;
  DeploymentControllerOptions deployment;
  GarbageCollectorOptions gc;
  NodeLifecycleControllerOptions nodeLifecycleOptions;
};

class ControllerManager {
 public:
  ControllerManager(client::ClientConfig config, ControllerManagerOptions options = {});
  ~ControllerManager();
  ControllerManager(const ControllerManager&) = delete;
  ControllerManager& operator=(const ControllerManager&) = delete;

  // Starts every enabled controller; on failure stops those already started.
  Status start();
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace skiff::controllers
