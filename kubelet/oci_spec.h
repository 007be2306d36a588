// ContainerConfig + SandboxInfo -> the OCI runtime spec (config.json) runc runs,
// as a pure function, unit-tested without root.
//
// What it writes, following containerd's CRI plugin (pkg/cri/opts/spec*.go):
//   process   args, env, cwd, user uid/gid/additionalGids, no terminal;
//             capabilities containerd's default set (bounding, effective,
//             permitted), then capDrop ("ALL" drops all of them) and capAdd
//             ("ALL" adds every capability this host can grant), Kubernetes
//             spelling without "CAP_"; privileged: every capability available.
//   root      "rootfs" (the overlay mounted in the bundle), readonly when asked.
//   hostname  the pod's, when the pod has its own network (UTS namespace).
//   mounts    /proc, /dev (tmpfs), /dev/pts, /dev/shm (64 MiB), /dev/mqueue,
//             /sys (read-only unless privileged), /sys/fs/cgroup (read-only),
//             the sandbox's /etc/hosts, /etc/resolv.conf, /etc/hostname (unless
//             a user mount covers them), then the user mounts, parents before
//             children: bind mounts (rbind, ro when asked) and tmpfs.
//   linux     namespaces pid, ipc, uts, mount and network = the sandbox's netns
//             path (hostNetwork: network and uts shared with the host);
//             resources memory limit (swap = limit: no swap), cpu quota over a
//             100000 us period, pids limit; devices deny-all but the usual
//             (privileged: allow all, and every host device node listed);
//             masked and read-only /proc paths unless privileged; cgroupsPath.
//
// Errors (kBadRequest): an unknown capability, a relative mount destination or
// bind source, empty args.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "api/json.h"
#include "base/result.h"
#include "kubelet/runtime.h"

namespace skiff::kubelet {

// A device node of the host, for privileged containers.
struct HostDevice {
  std::string path;  // "/dev/null"
  char type = 'c';   // 'c' or 'b'
  int64_t major = 0;
  int64_t minor = 0;
  uint32_t fileMode = 0666;  // permission bits
  uint32_t uid = 0;
  uint32_t gid = 0;
};

struct OciSpecOptions {
  std::string rootfs = "rootfs";  // root.path, relative to the bundle
  std::string hostname;           // the pod's hostname
  std::string cgroupsPath;        // linux.cgroupsPath, e.g. "skiff/<container id>"
  // Capabilities this host can grant ("CAP_CHOWN", ...); empty = every known one.
  // Privileged containers and capAdd "ALL" get exactly these.
  std::vector<std::string> availableCapabilities;
  std::vector<HostDevice> hostDevices;  // listed in privileged containers
};

// containerd's default capability set, "CAP_" spelling.
const std::vector<std::string>& defaultCapabilities();
// Every capability Linux knows (CAP_CHOWN .. CAP_CHECKPOINT_RESTORE), in bit order.
const std::vector<std::string>& knownCapabilities();
// The bounding/effective/permitted set for a container.
Result<std::vector<std::string>> containerCapabilities(const ContainerConfig& config,
                                                       const std::vector<std::string>& available);

Result<api::Json> buildOciSpec(const ContainerConfig& config, const SandboxInfo& sandbox,
                               const OciSpecOptions& options);

}  // namespace skiff::kubelet
