#include "controllers/node_lifecycle.h"

#include "base/log.h"
#include "base/thread.h"
#include "controllers/workload_util.h"

namespace skiff::controllers {

using api::Json;

std::optional<Json> staleNodeConditions(const Json& node, std::chrono::system_clock::time_point now,
                                        std::chrono::milliseconds gracePeriod) {
  const Json* status =
      node.contains("status") && node["status"].is_object() ? &node["status"] : nullptr;
  Json conditions = status && status->contains("conditions") && (*status)["conditions"].is_array()
                        ? (*status)["conditions"]
                        : Json::array();
  std::optional<TimePoint> newest;
  bool hasReady = false, allUnknown = true;
  for (const auto& c : conditions) {
    if (!c.is_object()) continue;
    if (c.value("type", "") == "Ready") hasReady = true;
    if (c.value("status", "") != "Unknown") allUnknown = false;
    if (auto t = parseTime(c.value("lastHeartbeatTime", "")); t && (!newest || *t > *newest))
      newest = t;
  }
  std::string nowText = formatTime(now);
  if (!hasReady) {
    // Never posted: judge by the node's age.
    auto created = parseTime(node["metadata"].value("creationTimestamp", ""));
    if (created && now - *created < gracePeriod) return std::nullopt;
    conditions.push_back({{"type", "Ready"},
                          {"status", "Unknown"},
                          {"reason", "NodeStatusNeverUpdated"},
                          {"message", "Kubelet never posted node status."},
                          {"lastHeartbeatTime", nowText},
                          {"lastTransitionTime", nowText}});
    return conditions;
  }
  if (allUnknown || (newest && now - *newest < gracePeriod)) return std::nullopt;
  for (auto& c : conditions) {
    if (!c.is_object() || c.value("status", "") == "Unknown") continue;
    c["status"] = "Unknown";
    c["reason"] = "NodeStatusUnknown";
    c["message"] = "Kubelet stopped posting node status.";
    c["lastTransitionTime"] = nowText;
  }
  return conditions;
}

NodeLifecycleController::NodeLifecycleController(client::ClientConfig config,
                                                 NodeLifecycleControllerOptions options)
    : config_(std::move(config)), options_(options) {}

NodeLifecycleController::~NodeLifecycleController() {
  stop();
}

Status NodeLifecycleController::start() {
  client_ = std::make_unique<client::RestClient>(config_);
  nodes_ = std::make_unique<client::Informer>(*client_, "/api/v1/nodes");
  nodes_->start();
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
  logInfo("node lifecycle controller started");
  return Status();
}

void NodeLifecycleController::stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
  if (nodes_) nodes_->stop();
}

void NodeLifecycleController::run() {
  nameThisThread("node-lifecycle");
  while (!stopping_) {
    if (nodes_->hasSynced()) {
      auto now = std::chrono::system_clock::now();
      for (const Json& node : nodes_->list()) {
        auto conditions = staleNodeConditions(node, now, options_.gracePeriod);
        if (!conditions) continue;
        std::string name = node["metadata"].value("name", "");
        auto r =
            client_->patch("/api/v1/nodes/" + name + "/status",
                           Json{{"status", {{"conditions", *conditions}}}}, client::kMergePatch);
        if (r)
          logInfo("node stopped posting status", {{"node", name}});
        else
          logWarn("node status update failed", {{"node", name}, {"error", r.error().message}});
      }
    }
    for (auto slept = std::chrono::milliseconds(0); slept < options_.period && !stopping_;
         slept += std::chrono::milliseconds(50))
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace skiff::controllers
