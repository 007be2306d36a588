// Timing and statistics helpers shared by the benchmarks (bench_*.cpp). Header
// only; pure functions, thread-safe.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <vector>

namespace skiff::bench {

using Clock = std::chrono::steady_clock;

// Milliseconds elapsed since t0.
inline double msSince(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// The p-quantile (0..1) of v by nearest rank; 0 for an empty v.
inline double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = std::min(v.size() - 1, static_cast<size_t>(p * (v.size() - 1) + 0.5));
  return v[i];
}

}  // namespace skiff::bench
