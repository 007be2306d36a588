// Scheduler: binds pending pods to nodes through the API.
//
// It watches pods and nodes (client::Informer) and schedules every pod that has
// no spec.nodeName, is not being deleted and names this scheduler in
// spec.schedulerName. The decision is schedulePod() (algorithm.h); the effect is
// POST pods/<name>/binding. A pod that fits nowhere gets the condition
// PodScheduled=False, reason Unschedulable, with Kubernetes' message (PATCH
// pods/<name>/status) and a Warning Event "FailedScheduling" (when the
// apiserver serves events), both only when the message changes; it is tried
// again when a node is added or changes, when a bound pod goes away or ends,
// and every retryInterval.
//
// Assume cache: a pod is counted on its node from the moment the binding is
// sent, before the watch shows it bound, so a burst of pods cannot overcommit a
// node. One worker thread makes the decisions, so they are serial, as
// Kubernetes' scheduling cycle.
//
// Component shape: construct, start() (non-blocking), stop() (prompt, joins;
// also done by the destructor). Not copyable. start()/stop() from one thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "base/result.h"
#include "client/event_recorder.h"
#include "client/informer.h"
#include "client/kubeconfig.h"
#include "client/rest_client.h"
#include "scheduler/algorithm.h"

namespace skiff::scheduler {

struct SchedulerOptions {
  // Pods whose spec.schedulerName is this are ours (the apiserver defaults the
  // field to "default-scheduler").
  std::string schedulerName = "default-scheduler";
  // Unschedulable pods are retried at least this often.
  std::chrono::milliseconds retryInterval{10000};
};

class Scheduler {
 public:
  Scheduler(client::ClientConfig config, SchedulerOptions options = {});
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Starts the informers and the worker thread; returns at once. Scheduling
  // begins once both informers have listed.
  Status start();
  // Stops the worker and the informers and waits for them (about a second).
  void stop();

  // Bindings made so far (for tests and logs).
  uint64_t bound() const { return bound_.load(); }

 private:
  void run();
  void scheduleOne(const std::string& key);
  void recordUnschedulable(const api::Json& pod, const std::string& message);
  // Queue operations (callers hold mu_).
  void enqueueLocked(const std::string& key);
  void flushUnschedulableLocked();

  void onPod(const api::Json* oldPod, const api::Json& pod);
  void onPodDeleted(const api::Json& pod);
  void onNode();

  const SchedulerOptions options_;
  client::RestClient client_;
  std::unique_ptr<client::EventRecorder> events_;  // Scheduled, FailedScheduling
  std::unique_ptr<client::Informer> pods_;
  std::unique_ptr<client::Informer> nodes_;
  std::thread worker_;
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> bound_{0};
  bool started_ = false;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> active_;       // guarded by mu_: pods to try, in order
  std::set<std::string> queued_;         // guarded by mu_: the keys in active_
  std::set<std::string> unschedulable_;  // guarded by mu_: tried, did not fit
  // The usage of every pod on a node, kept from the informer's events (plus
  // the assumed ones), so a cycle sums small records instead of every pod's JSON.
  struct PodOnNode {
    std::string node;
    Usage usage;
  };
  std::map<std::string, PodOnNode> onNodes_;  // guarded by mu_: pod key -> record
  // Pods we bound whose binding the watch has not shown yet.
  std::set<std::string> assumed_;  // guarded by mu_
};

}  // namespace skiff::scheduler
