// Backoff: the kubelet's per-container restart delay (client-go's
// flowcontrol.Backoff as the kubelet configures it for CrashLoopBackOff).
//
// A container that exits and is to be restarted is restarted at once the first
// time; next() then arms a delay of `initial` (10 s), doubling on every later
// restart up to `max` (5 min). While now - finishedAt is below the current
// delay the container stays in CrashLoopBackOff. An entry not touched for more
// than 2 × max (the container ran for 10 minutes) starts over at `initial`.
//
// Times are passed in, never read from a clock, so decisions are testable.
//
// Thread-safety: none; each pod worker owns its Backoff.
#pragma once

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>
#include <string>

namespace skiff::kubelet {

class Backoff {
 public:
  using TimePoint = std::chrono::system_clock::time_point;
  using Duration = std::chrono::system_clock::duration;

  explicit Backoff(Duration initial = std::chrono::seconds(10),
                   Duration max = std::chrono::minutes(5))
      : initial_(initial), max_(max) {}

  // The current delay when `key` is still backing off from a failure that
  // happened at `eventTime`; nullopt when it may restart now.
  std::optional<Duration> inBackoff(const std::string& key, TimePoint eventTime,
                                    TimePoint now) const {
    auto it = entries_.find(key);
    if (it == entries_.end() || expired(it->second, now)) return std::nullopt;
    if (now - eventTime < it->second.delay) return it->second.delay;
    return std::nullopt;
  }

  // Records a restart at `now` and arms the next delay.
  void next(const std::string& key, TimePoint now) {
    auto it = entries_.find(key);
    if (it == entries_.end() || expired(it->second, now)) {
      entries_[key] = Entry{initial_, now};
      return;
    }
    it->second.delay = std::min(it->second.delay * 2, max_);
    it->second.lastUpdate = now;
  }

  // The delay next() last armed (0 when none).
  Duration delay(const std::string& key) const {
    auto it = entries_.find(key);
    return it == entries_.end() ? Duration::zero() : it->second.delay;
  }

  void forget(const std::string& key) { entries_.erase(key); }

 private:
  struct Entry {
    Duration delay;
    TimePoint lastUpdate;
  };
  bool expired(const Entry& e, TimePoint now) const { return now - e.lastUpdate > 2 * max_; }

  Duration initial_;
  Duration max_;
  std::map<std::string, Entry> entries_;
};

// "10s", "1m20s", "5m0s": Go's time.Duration.String() for whole seconds, as
// the kubelet's CrashLoopBackOff message prints the delay.
inline std::string goDuration(std::chrono::system_clock::duration d) {
  long long s = std::chrono::duration_cast<std::chrono::seconds>(d).count();
  if (s < 60) return std::to_string(s) + "s";
  long long m = s / 60;
  s %= 60;
  if (m < 60) return std::to_string(m) + "m" + std::to_string(s) + "s";
  return std::to_string(m / 60) + "h" + std::to_string(m % 60) + "m" + std::to_string(s) + "s";
}

}  // namespace skiff::kubelet
