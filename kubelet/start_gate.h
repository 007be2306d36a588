// StartGate: how many pods may be starting (sandbox, containers) at once on
// this node, first come first served.
//
// Starting a container is mostly CPU work in short-lived helper processes
// (conmon, `runc create`, `runc init`, `runc start`): ~25-50 ms of CPU each.
// When 100 pods arrive together and every pod worker starts at once, the
// machine shares its cores among all of them and every pod turns Running at
// about the same time, near the end — the median pod waits as long as the
// last. With a few starts at a time, in arrival order, the same work finishes
// pod after pod: the first pods run within a start's latency, the median one
// after half of the total. A few more slots than cores keep the cores busy
// while a start waits for a child process.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <list>
#include <mutex>

namespace skiff::kubelet {

class StartGate {
 public:
  // At most `slots` holders at once (at least 1).
  explicit StartGate(int slots);
  StartGate(const StartGate&) = delete;
  StartGate& operator=(const StartGate&) = delete;

  // Blocks until a slot is free and every earlier caller got one, or until
  // cancelled() is true (checked at the start and after every wakeAll()).
  // True when a slot was taken: the caller must release() it.
  bool acquire(const std::function<bool()>& cancelled);
  void release();
  // Makes waiters look at their cancelled() again.
  void wakeAll();

  // Callers waiting now (for tests and logs).
  size_t waiting() const;

  // The default width for a machine: two per core, at least 2.
  static int defaultSlots();

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  int free_;                   // guarded by mu_
  std::list<uint64_t> queue_;  // waiters' tickets in arrival order; guarded by mu_
  uint64_t nextTicket_ = 0;    // guarded by mu_
};

}  // namespace skiff::kubelet
