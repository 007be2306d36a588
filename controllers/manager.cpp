#include "controllers/manager.h"

#include <thread>
#include <vector>

#include "base/log.h"
#include "controllers/endpoints.h"
#include "controllers/node_lifecycle.h"

namespace skiff::controllers {

struct ControllerManager::Impl {
  client::ClientConfig config;
  ControllerManagerOptions options;
  std::unique_ptr<ReplicaSetController> replicaSets;
  std::unique_ptr<DeploymentController> deployments;
  std::unique_ptr<GarbageCollector> gc;
  std::unique_ptr<EndpointsController> endpoints;
  std::unique_ptr<NodeLifecycleController> nodes;
  bool started = false;
};

ControllerManager::ControllerManager(client::ClientConfig config, ControllerManagerOptions options)
    : impl_(std::make_unique<Impl>()) {
  impl_->config = std::move(config);
  impl_->options = options;
}

ControllerManager::~ControllerManager() {
  stop();
}

Status ControllerManager::start() {
  Impl& m = *impl_;
  if (m.started) return {};
  m.started = true;
  auto fail = [&](const Error& e, const char* what) -> Status {
    stop();
    return e.wrap(std::string("start ") + what);
  };
  if (m.options.replicaSets) {
    m.replicaSets = std::make_unique<ReplicaSetController>(m.config, m.options.replicaSet);
    if (Status s = m.replicaSets->start(); !s) return fail(s.error(), "replicaset controller");
  }
  if (m.options.deployments) {
    m.deployments = std::make_unique<DeploymentController>(m.config, m.options.deployment);
    if (Status s = m.deployments->start(); !s) return fail(s.error(), "deployment controller");
  }
  if (m.options.garbageCollector) {
    m.gc = std::make_unique<GarbageCollector>(m.config, m.options.gc);
    if (Status s = m.gc->start(); !s) return fail(s.error(), "garbage collector");
  }
  if (m.options.endpoints) {
    m.endpoints = std::make_unique<EndpointsController>(m.config, EndpointsControllerOptions{});
    if (Status s = m.endpoints->start(); !s) return fail(s.error(), "endpoints controller");
  }
  if (m.options.nodeLifecycle) {
    m.nodes = std::make_unique<NodeLifecycleController>(m.config, m.options.nodeLifecycleOptions);
    if (Status s = m.nodes->start(); !s) return fail(s.error(), "node lifecycle controller");
  }
  logInfo("controller manager started");
  return {};
}

void ControllerManager::stop() {
  Impl& m = *impl_;
  // Side by side: each waits up to a second for its watches to notice.
  std::vector<std::thread> stopping;
  if (m.nodes) stopping.emplace_back([&] { m.nodes->stop(); });
  if (m.endpoints) stopping.emplace_back([&] { m.endpoints->stop(); });
  if (m.gc) stopping.emplace_back([&] { m.gc->stop(); });
  if (m.deployments) stopping.emplace_back([&] { m.deployments->stop(); });
  if (m.replicaSets) stopping.emplace_back([&] { m.replicaSets->stop(); });
  for (auto& t : stopping) t.join();
  m.started = false;
}

}  // namespace skiff::controllers
