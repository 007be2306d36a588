#include "controllers/worker_pool.h"

#include <algorithm>
#include <utility>

#include "base/log.h"
#include "base/thread.h"

namespace skiff::controllers {

WorkerPool::~WorkerPool() {
  stop();
}

void WorkerPool::start(int workers, std::chrono::milliseconds period, std::function<void()> work,
                       std::function<void()> resync) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (started_) return;
    started_ = true;
  }
  for (int i = 0; i < std::max(1, workers); ++i) {
    threads_.emplace_back([this, work] {
      nameThisThread(name_);
      work();
    });
  }
  threads_.emplace_back([this, period, resync = std::move(resync)] {
    nameThisThread(name_ + "-resync");
    resyncLoop(period, resync);
  });
}

bool WorkerPool::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!started_ || stopping_) return false;
    stopping_ = true;
  }
  queue_.shutDown();
  cv_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
  return true;
}

void WorkerPool::resyncLoop(std::chrono::milliseconds period, const std::function<void()>& resync) {
  std::unique_lock<std::mutex> lock(mu_);
  while (!cv_.wait_for(lock, period, [this] { return stopping_; })) {
    // Unlocked: a resync may take a while, and stop() must not wait for it to
    // set stopping_.
    lock.unlock();
    resync();
    lock.lock();
  }
}

void drainQueue(WorkQueue& queue, const std::vector<client::Informer*>& informers,
                const char* what, const std::function<Status(const std::string&)>& sync) {
  while (auto key = queue.get()) {
    bool synced = true;
    for (client::Informer* i : informers) synced = synced && i->hasSynced();
    if (!synced) {
      for (client::Informer* i : informers) i->waitForSync(std::chrono::seconds(1));
      queue.done(*key);
      queue.addAfter(*key, std::chrono::milliseconds(100));
      continue;
    }
    Status s = sync(*key);
    if (s) {
      queue.forget(*key);
    } else {
      if (s.error().code == Code::kConflict)
        logDebug(std::string(what) + " sync conflict", {{"key", *key}, {"error", s.error().message}});
      else
        logWarn(std::string(what) + " sync failed", {{"key", *key}, {"error", s.error().message}});
      queue.addRateLimited(*key);
    }
    queue.done(*key);
  }
}

}  // namespace skiff::controllers
