#include "controllers/workqueue.h"

#include <algorithm>

namespace skiff::controllers {

void WorkQueue::addLocked(const std::string& key) {
  if (shutDown_ || dirty_.count(key)) return;
  dirty_.insert(key);
  if (processing_.count(key)) return;  // requeued by done()
  queue_.push_back(key);
  cv_.notify_one();
}

void WorkQueue::add(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  addLocked(key);
}

void WorkQueue::addAfter(const std::string& key, std::chrono::milliseconds delay) {
  if (delay.count() <= 0) return add(key);
  std::lock_guard<std::mutex> lock(mu_);
  if (shutDown_) return;
  delayed_.emplace(Clock::now() + delay, key);
  cv_.notify_all();
}

void WorkQueue::addRateLimited(const std::string& key) {
  int n;
  {
    std::lock_guard<std::mutex> lock(mu_);
    n = failures_[key]++;
  }
  long long ms = 5LL << std::min(n, 13);
  addAfter(key, std::chrono::milliseconds(std::min(ms, 30000LL)));
}

void WorkQueue::forget(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  failures_.erase(key);
}

std::optional<std::string> WorkQueue::get() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    if (shutDown_) return std::nullopt;
    auto now = Clock::now();
    while (!delayed_.empty() && delayed_.begin()->first <= now) {
      std::string key = delayed_.begin()->second;
      delayed_.erase(delayed_.begin());
      addLocked(key);
    }
    if (!queue_.empty()) {
      std::string key = std::move(queue_.front());
      queue_.pop_front();
      dirty_.erase(key);
      processing_.insert(key);
      return key;
    }
    if (delayed_.empty())
      cv_.wait(lock);
    else
      cv_.wait_until(lock, delayed_.begin()->first);
  }
}

void WorkQueue::done(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  processing_.erase(key);
  if (dirty_.count(key)) {
    queue_.push_back(key);
    cv_.notify_one();
  }
}

void WorkQueue::shutDown() {
  std::lock_guard<std::mutex> lock(mu_);
  shutDown_ = true;
  cv_.notify_all();
}

size_t WorkQueue::length() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.size();
}

}  // namespace skiff::controllers
