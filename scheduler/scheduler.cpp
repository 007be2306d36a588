#include "scheduler/scheduler.h"

#include <time.h>

#include "api/meta.h"
#include "api/time.h"
#include "base/log.h"
#include "base/thread.h"
#include "scheduler/algorithm.h"

namespace skiff::scheduler {
namespace {

using api::Json;

std::string str(const Json& obj, const char* a, const char* b) {
  if (!obj.is_object() || !obj.contains(a) || !obj[a].is_object()) return "";
  const Json& o = obj[a];
  auto it = o.find(b);
  return it != o.end() && it->is_string() ? it->get<std::string>() : "";
}

std::string podPath(const std::string& ns, const std::string& name) {
  return "/api/v1/namespaces/" + ns + "/pods/" + name;
}

// The pod's PodScheduled condition, or null.
Json scheduledCondition(const Json& pod) {
  if (!pod.contains("status") || !pod["status"].is_object()) return nullptr;
  const Json& conds = pod["status"].value("conditions", Json::array());
  if (!conds.is_array()) return nullptr;
  for (const Json& c : conds)
    if (c.is_object() && c.value("type", "") == "PodScheduled") return c;
  return nullptr;
}

// Unbound, not being deleted, not ended: a pod waiting for a node.
bool isPending(const Json& pod) {
  return str(pod, "spec", "nodeName").empty() && !api::isDeleting(pod) && !isTerminated(pod);
}

}  // namespace

Scheduler::Scheduler(client::ClientConfig config, SchedulerOptions options)
    : options_(std::move(options)),
      client_(config),
      events_(std::make_unique<client::EventRecorder>(std::move(config), options_.schedulerName)) {}

Scheduler::~Scheduler() {
  stop();
}

Status Scheduler::start() {
  if (started_) return {};
  started_ = true;
  stopping_ = false;
  pods_ = std::make_unique<client::Informer>(client_, "/api/v1/pods");
  nodes_ = std::make_unique<client::Informer>(client_, "/api/v1/nodes");
  pods_->addHandlers({[this](const Json& p) { onPod(nullptr, p); },
                      [this](const Json& o, const Json& p) { onPod(&o, p); },
                      [this](const Json& p) { onPodDeleted(p); }});
  nodes_->addHandlers({[this](const Json&) { onNode(); },
                       [this](const Json&, const Json&) { onNode(); }, [this](const Json&) {}});
  pods_->start();
  nodes_->start();
  worker_ = std::thread([this] { run(); });
  logInfo("scheduler started", {{"schedulerName", options_.schedulerName}});
  return {};
}

void Scheduler::stop() {
  if (!started_) return;
  stopping_ = true;
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
  // Each informer takes up to a second to notice; stop them side by side.
  std::thread podsStop([this] { pods_->stop(); });
  nodes_->stop();
  podsStop.join();
  started_ = false;
}

void Scheduler::enqueueLocked(const std::string& key) {
  unschedulable_.erase(key);
  if (queued_.insert(key).second) active_.push_back(key);
  cv_.notify_one();
}

void Scheduler::flushUnschedulableLocked() {
  std::set<std::string> keys;
  keys.swap(unschedulable_);
  for (const std::string& k : keys) enqueueLocked(k);
}

void Scheduler::onPod(const Json* oldPod, const Json& pod) {
  std::string key = client::Informer::keyOf(pod);
  std::string node = str(pod, "spec", "nodeName");
  std::lock_guard<std::mutex> lock(mu_);
  if (!node.empty()) {
    assumed_.erase(key);
    if (isTerminated(pod))
      onNodes_.erase(key);
    else
      onNodes_[key] = {node, podUsage(pod)};
    // A bound pod that ends frees its resources and ports.
    if (oldPod && !isTerminated(*oldPod) && isTerminated(pod)) flushUnschedulableLocked();
    return;
  }
  if (!assumed_.count(key)) onNodes_.erase(key);
  if (!isPending(pod)) return;
  if (pod["spec"].value("schedulerName", "default-scheduler") != options_.schedulerName) return;
  // A pod we already found unschedulable is tried again only when its spec
  // changed: our own status patch must not start a loop.
  if (oldPod && unschedulable_.count(key) && (*oldPod)["spec"] == pod["spec"] &&
      (*oldPod)["metadata"].value("labels", Json()) == pod["metadata"].value("labels", Json()))
    return;
  enqueueLocked(key);
}

void Scheduler::onPodDeleted(const Json& pod) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string key = client::Informer::keyOf(pod);
  unschedulable_.erase(key);
  assumed_.erase(key);
  onNodes_.erase(key);
  if (!str(pod, "spec", "nodeName").empty()) flushUnschedulableLocked();
}

void Scheduler::onNode() {
  std::lock_guard<std::mutex> lock(mu_);
  flushUnschedulableLocked();
}

void Scheduler::run() {
  nameThisThread("scheduler");
  while (!stopping_ && !(pods_->hasSynced() && nodes_->hasSynced())) {
    (void)pods_->waitForSync(std::chrono::milliseconds(100));
    (void)nodes_->waitForSync(std::chrono::milliseconds(100));
  }
  auto nextFlush = std::chrono::steady_clock::now() + options_.retryInterval;
  while (!stopping_) {
    std::string key;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_until(lock, nextFlush, [&] { return stopping_ || !active_.empty(); });
      if (stopping_) return;
      if (std::chrono::steady_clock::now() >= nextFlush) {
        flushUnschedulableLocked();
        nextFlush = std::chrono::steady_clock::now() + options_.retryInterval;
      }
      if (active_.empty()) continue;
      key = active_.front();
      active_.pop_front();
      queued_.erase(key);
    }
    scheduleOne(key);
  }
}

void Scheduler::scheduleOne(const std::string& key) {
  std::optional<Json> pod = pods_->get(key);
  if (!pod || !isPending(*pod) ||
      (*pod)["spec"].value("schedulerName", "default-scheduler") != options_.schedulerName)
    return;

  // The cluster as this cycle sees it: nodes, and the summed usage of the
  // pods on each (bound, or bound by us and not yet seen so).
  std::vector<NodeState> states;
  std::map<std::string, size_t> index;
  for (Json& n : nodes_->list()) {
    index[str(n, "metadata", "name")] = states.size();
    states.push_back({std::move(n), {}});
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (assumed_.count(key)) return;  // bound already; the watch is behind
    for (const auto& [k, rec] : onNodes_) {
      auto it = index.find(rec.node);
      if (it != index.end()) states[it->second].usage.add(rec.usage);
    }
  }

  ScheduleResult result = scheduleWithUsage(*pod, states);
  std::string ns = str(*pod, "metadata", "namespace");
  std::string name = str(*pod, "metadata", "name");
  if (!result.scheduled) {
    recordUnschedulable(*pod, result.message);
    std::lock_guard<std::mutex> lock(mu_);
    if (!queued_.count(key)) unschedulable_.insert(key);
    return;
  }

  {
    std::lock_guard<std::mutex> lock(mu_);
    assumed_.insert(key);
    onNodes_[key] = {result.node, podUsage(*pod)};
  }
  Json binding = {{"apiVersion", "v1"},
                  {"kind", "Binding"},
                  {"metadata", {{"name", name}, {"namespace", ns}}},
                  {"target", {{"apiVersion", "v1"}, {"kind", "Node"}, {"name", result.node}}}};
  auto r = client_.post(podPath(ns, name) + "/binding", binding);
  if (!r) {
    std::lock_guard<std::mutex> lock(mu_);
    // Unless the watch has meanwhile shown the pod bound, forget the assumption.
    if (assumed_.erase(key)) onNodes_.erase(key);
    // Conflict: bound by someone else or being deleted; the watch will say.
    if (r.error().code != Code::kConflict && r.error().code != Code::kNotFound) {
      logWarn("binding failed",
              {{"pod", key}, {"node", result.node}, {"error", r.error().message}});
      unschedulable_.insert(key);  // retried at the next flush
    }
    return;
  }
  ++bound_;
  logDebug("pod bound", {{"pod", key}, {"node", result.node}});
  events_->record(*pod, "Normal", "Scheduled",
                  "Successfully assigned " + ns + "/" + name + " to " + result.node);
}

void Scheduler::recordUnschedulable(const Json& pod, const std::string& message) {
  Json cond = scheduledCondition(pod);
  if (cond.is_object() && cond.value("status", "") == "False" &&
      cond.value("reason", "") == "Unschedulable" && cond.value("message", "") == message)
    return;  // already says so
  logInfo("pod unschedulable",
          {{"pod", str(pod, "metadata", "namespace") + "/" + str(pod, "metadata", "name")},
           {"message", message}});
  std::string ns = str(pod, "metadata", "namespace");
  std::string name = str(pod, "metadata", "name");
  std::string now = api::nowRfc3339();
  Json patch = {{"status",
                 {{"conditions", Json::array({{{"type", "PodScheduled"},
                                               {"status", "False"},
                                               {"reason", "Unschedulable"},
                                               {"message", message},
                                               {"lastProbeTime", nullptr},
                                               {"lastTransitionTime", now}}})}}}};
  auto r = client_.patch(podPath(ns, name) + "/status", patch, client::kStrategicMergePatch);
  if (!r && r.error().code != Code::kNotFound)
    logWarn("pod status update failed", {{"pod", ns + "/" + name}, {"error", r.error().message}});

  events_->record(pod, "Warning", "FailedScheduling", message);
}

}  // namespace skiff::scheduler
