// WorkerPool: the threads of a level-triggered controller: N workers that
// drain its WorkQueue and one resync loop that re-enqueues everything
// periodically (the safety net against a missed event).
//
// The controller gives the pool its reconcile loop (`work`, drainQueue below for
// the ReplicaSet, Deployment and garbage-collector controllers) and its own idea
// of "everything" (`resync`); the pool owns only the threads and how they end: stop() shuts
// the queue down (so every get() returns nullopt and the workers return),
// wakes the resync loop and joins them all.
//
// Thread-safety: start() and stop() are meant for one owner thread (the
// controller's start/stop); stop() may race with itself harmlessly (one caller
// does the work, the others return false at once). `work` and `resync` run on
// the pool's threads, concurrently with each other.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/result.h"
#include "client/informer.h"
#include "controllers/workqueue.h"

namespace skiff::controllers {

// The knobs every WorkerPool-driven controller shares (ReplicaSet, Deployment,
// garbage collector).
struct ControllerOptions {
  int workers = 2;                  // worker threads (at least 1 runs)
  std::chrono::seconds resync{30};  // how often everything is enqueued again
};

class WorkerPool {
 public:
  // `queue` must outlive the pool; stop() shuts it down. The workers' threads
  // are called `name`, the resync loop's `name`-resync (see base/thread.h).
  explicit WorkerPool(WorkQueue& queue, std::string name = "worker")
      : queue_(queue), name_(std::move(name)) {}
  // Stops (and joins) if still running.
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Runs `work` on max(1, workers) threads, and `resync` every `period` on one
  // more until stop(); the first resync comes one period after start. Does
  // nothing when the pool was started before (a pool runs once).
  void start(int workers, std::chrono::milliseconds period, std::function<void()> work,
             std::function<void()> resync);

  // Shuts the queue down, wakes the resync loop and joins every thread.
  // Returns true when this call stopped a running pool; false when the pool
  // was never started or is already stopped (so callers tear down what they
  // own exactly once).
  bool stop();

 private:
  void resyncLoop(std::chrono::milliseconds period, const std::function<void()>& resync);

  WorkQueue& queue_;
  const std::string name_;
  std::vector<std::thread> threads_;  // owner thread only (start/stop)
  std::mutex mu_;
  std::condition_variable cv_;  // signalled when stopping_ turns true
  bool started_ = false;        // guarded by mu_
  bool stopping_ = false;       // guarded by mu_
};

// The worker loop the pool's controllers share (the `work` of start()): takes
// keys until the queue shuts down. While any of `informers` has not synced, a
// key goes back for 100 ms (after waiting up to a second for each cache).
// Otherwise `sync(key)` runs: success forgets the key's backoff, failure adds
// it again rate-limited and logs "<what> sync failed" ("<what> sync conflict"
// at debug level for a conflict: a newer object is on its way, and its event
// enqueues the key).
void drainQueue(WorkQueue& queue, const std::vector<client::Informer*>& informers,
                const char* what, const std::function<Status(const std::string&)>& sync);

}  // namespace skiff::controllers
