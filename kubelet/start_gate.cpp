#include "kubelet/start_gate.h"

#include <algorithm>
#include <thread>

namespace skiff::kubelet {

StartGate::StartGate(int slots) : free_(std::max(1, slots)) {}

int StartGate::defaultSlots() {
  unsigned cores = std::thread::hardware_concurrency();
  return std::max(2, 2 * static_cast<int>(cores));
}

bool StartGate::acquire(const std::function<bool()>& cancelled) {
  std::unique_lock<std::mutex> lock(mu_);
  uint64_t ticket = nextTicket_++;
  auto me = queue_.insert(queue_.end(), ticket);
  for (;;) {
    if (cancelled && cancelled()) {
      queue_.erase(me);
      cv_.notify_all();  // the next in line may be first now
      return false;
    }
    if (free_ > 0 && queue_.front() == ticket) break;
    cv_.wait(lock);
  }
  queue_.pop_front();
  --free_;
  cv_.notify_all();  // the next in line may take another free slot
  return true;
}

void StartGate::release() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++free_;
  }
  cv_.notify_all();
}

void StartGate::wakeAll() {
  { std::lock_guard<std::mutex> lock(mu_); }
  cv_.notify_all();
}

size_t StartGate::waiting() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.size();
}

}  // namespace skiff::kubelet
