// Internal to kubelet/runc_runtime*.cpp: where a pod's and a container's files
// live, the container's meta.json record, and small process helpers.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>

#include "api/json.h"
#include "base/result.h"

namespace skiff::kubelet::runtime_detail {

// A container id split, and every path derived from it.
struct ContainerPaths {
  std::string podUid, name;
  int attempt = 0;
  std::string pod;  // DATA/pods/UID
  std::string dir;  // the bundle: DATA/pods/UID/containers/ID
  std::string rootfs, upper, work, config, meta, pidfile, conmonPidfile;
  std::string exitDir;   // DATA/pods/UID/exits
  std::string exitFile;  // exitDir/ID
  std::string logDir;    // DATA/pods/UID/logs/NAME
  std::string log;       // logDir/ATTEMPT.log
};

// kBadRequest unless id is "<podUid>_<name>_<attempt>".
Result<ContainerPaths> containerPaths(const std::string& podsDir, const std::string& id);

// A pod UID usable in paths and names: [A-Za-z0-9-], 1..128 characters.
bool validPodUid(const std::string& uid);
// A container name: a DNS label (RFC 1123), as Kubernetes validates it.
bool validContainerName(const std::string& name);

int64_t toNanos(std::chrono::system_clock::time_point t);
std::chrono::system_clock::time_point fromNanos(int64_t ns);

// The process's start time (field 22 of /proc/PID/stat), "" when it is gone.
std::string processStartTime(pid_t pid);
// True when pid runs and started at startTime.
bool processAlive(pid_t pid, const std::string& startTime);

// The process's memory cgroup directory (v1 memory hierarchy, else v2), "".
std::string memoryCgroupDir(pid_t pid);
// The OOM kill count of a memory cgroup directory (v1 memory.oom_control or
// v2 memory.events), -1 when unreadable.
int64_t oomKillCount(const std::string& cgroupDir);

// The text runc printed as its error (msg="..." of its log line), else the
// output trimmed.
std::string runcErrorMessage(const std::string& output);

// meta.json: read (kNotFound when missing) and replace.
Result<api::Json> readMeta(const std::string& path);
Status writeMeta(const std::string& path, const api::Json& meta);

}  // namespace skiff::kubelet::runtime_detail
