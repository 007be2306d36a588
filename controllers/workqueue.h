// WorkQueue: the keys a controller still has to reconcile, as client-go's
// rate-limited work queue.
//
// Handlers add keys ("namespace/name"); worker threads get() a key, reconcile
// it and call done(). A key is held at most once while waiting (adding it again
// is a no-op) and is never handed to two workers at once: a key added while it
// is being processed is queued again when done() is called. addAfter() delays
// a key (resync at a deadline); addRateLimited() delays it by a per-key
// exponential backoff (5 ms doubling up to 30 s) until forget() resets it.
//
// Thread-safe. shutDown() wakes every get(), which then returns nullopt.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>

namespace skiff::controllers {

class WorkQueue {
 public:
  using Clock = std::chrono::steady_clock;

  void add(const std::string& key);
  void addAfter(const std::string& key, std::chrono::milliseconds delay);
  void addRateLimited(const std::string& key);
  void forget(const std::string& key);

  // Blocks until a key is ready or the queue is shut down (nullopt).
  std::optional<std::string> get();
  void done(const std::string& key);
  void shutDown();

  // Keys waiting now (not delayed, not processing); for tests.
  size_t length() const;

 private:
  void addLocked(const std::string& key);

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;                          // guarded by mu_
  std::set<std::string> dirty_;                            // guarded by mu_: queued or to requeue
  std::set<std::string> processing_;                       // guarded by mu_
  std::multimap<Clock::time_point, std::string> delayed_;  // guarded by mu_
  std::map<std::string, int> failures_;                    // guarded by mu_
  bool shutDown_ = false;                                  // guarded by mu_
};

}  // namespace skiff::controllers
