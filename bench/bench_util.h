// Timing and statistics helpers shared by the benchmarks (bench_*.cpp). Header
// only; pure functions, thread-safe.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
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

// Runs a shell command; returns its stdout without the trailing newlines and,
// when rc is given, its exit code (-1 when it did not exit normally).
inline std::string sh(const std::string& cmd, int* rc = nullptr) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int status = ::pclose(p);
  if (rc) *rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

// A numeric field of /proc/PID/status: in kB for VmRSS (all), RssAnon (heap,
// stacks), RssFile (code); a count for "Threads:"; 0 when absent.
inline long statusKb(pid_t pid, const std::string& field = "VmRSS:") {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind(field, 0) == 0) return std::atol(line.c_str() + field.size());
  return 0;
}
inline long rssKb(pid_t pid) {
  return statusKb(pid);
}

// The 1-minute load average, printed next to figures taken on a shared machine.
inline double loadAverage() {
  double l = 0;
  if (FILE* f = std::fopen("/proc/loadavg", "r")) {
    if (std::fscanf(f, "%lf", &l) != 1) l = 0;
    std::fclose(f);
  }
  return l;
}

// CPU seconds the whole machine has spent busy since boot, all CPUs together
// (/proc/stat: user, nice, system, irq and softirq; not idle, iowait or the
// hypervisor's steal). Its difference over a stretch of work, divided by the
// work done, is that work's cost, kernel and every process included, which a
// rate alone hides when the CPUs also wait on each other.
inline double machineBusySeconds() {
  std::ifstream f("/proc/stat");
  std::string cpu;
  long long user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0;
  f >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq;
  return static_cast<double>(user + nice + system + irq + softirq) /
         static_cast<double>(sysconf(_SC_CLK_TCK));
}

}  // namespace skiff::bench
