// Runtime: everything the kubelet asks of the kernel and the OCI runtime, as
// one interface, so the pod lifecycle (kubelet/pod_worker, status, restarts,
// probes) is decided by pure code and unit-tested against a fake, while the
// real implementation (kubelet/runc_runtime: netns + veth + bridge + IPAM via
// libnl, overlayfs rootfs, config.json, conmon + runc) is tested as root.
//
// Naming: a sandbox is identified by the pod UID; a container by
// "<podUid>_<containerName>_<attempt>". Every kernel object and directory the
// runtime creates is derived from these ids and lives under DATA/pods/<podUid>/
// (bundles, logs, exit files, IPAM lease), so a restarted kubelet re-adopts
// everything from disk (listSandboxes / listContainers) without restarting a
// container.
//
// Thread-safety: implementations are safe to call from several threads for
// different pods; calls for one pod are serialised by the caller.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "api/json.h"
#include "base/result.h"
#include "kubelet/process_spec.h"

namespace skiff::kubelet {

struct SandboxConfig {
  std::string podUid;
  std::string podName;
  std::string podNamespace;
  std::string hostname;                   // pod name (or spec.hostname), max 63
  std::vector<std::string> dnsServers;    // resolv.conf "nameserver" lines
  std::vector<std::string> dnsSearches;   // resolv.conf "search"
  std::vector<std::string> dnsOptions;    // e.g. "ndots:5"
  // Extra /etc/hosts lines (spec.hostAliases); the pod's own "IP hostname" line
  // and the localhost lines are always written.
  std::vector<std::pair<std::string, std::vector<std::string>>> hostAliases;
  bool hostNetwork = false;               // no netns: the host's network
};

struct SandboxInfo {
  std::string podUid;
  std::string ip;          // the pod's address ("" with hostNetwork)
  std::string netnsPath;   // /run/netns/skiff-<...> ("" with hostNetwork)
  std::string hostsPath;   // generated /etc/hosts, bind-mounted into containers
  std::string resolvPath;  // generated /etc/resolv.conf
  std::string hostnamePath;
};

struct Mount {
  std::string destination;  // path in the container
  std::string source;       // host path (hostPath, emptyDir dir) or "tmpfs"
  bool readOnly = false;
  bool tmpfs = false;       // emptyDir medium: Memory
};

struct ContainerConfig {
  std::string podUid;
  std::string name;         // the container's name in the pod
  int attempt = 0;          // restartCount at creation
  std::string image;        // as the pod names it; the runtime resolves it in the ImageStore
  ProcessSpec process;      // argv, env, cwd, uid/gid (kubelet/process_spec)
  std::vector<Mount> mounts;
  // resources.limits, converted: 0 = none.
  int64_t memoryLimitBytes = 0;
  int64_t cpuQuotaMicros = 0;  // per 100 ms period
  int64_t pidsLimit = 0;
  // securityContext
  bool privileged = false;
  bool readOnlyRootfs = false;
  std::vector<std::string> capAdd;   // "NET_ADMIN" (Kubernetes spelling, no CAP_)
  std::vector<std::string> capDrop;  // "ALL" allowed
  bool stdinOpen = false;            // keep stdin open (kubectl run -i)
};

enum class ContainerState { kCreated, kRunning, kExited, kUnknown };

struct ContainerStatus {
  std::string id;             // "<podUid>_<name>_<attempt>"
  std::string name;
  int attempt = 0;
  ContainerState state = ContainerState::kUnknown;
  int exitCode = 0;           // when kExited
  std::string reason;         // when kExited: "Completed", "Error", "OOMKilled",
                              // "ContainerCannotRun", "ContainerStatusUnknown" (its
                              // monitor died before recording the exit code: 137)
  std::string message;        // runtime's words when it could not run (ContainerCannotRun)
  std::chrono::system_clock::time_point startedAt{};
  std::chrono::system_clock::time_point finishedAt{};
  std::string logPath;        // CRI-format log file written by conmon
  int pid = 0;                // init process on the host, when running
};

class Runtime {
 public:
  virtual ~Runtime() = default;

  // Creates (or, when it exists already, returns) the pod's sandbox: netns,
  // veth into the bridge, address (kept across restarts), loopback up, hosts,
  // resolv.conf, hostname files.
  virtual Result<SandboxInfo> ensureSandbox(const SandboxConfig& config) = 0;
  // Removes everything the sandbox had: containers must be removed first. Idempotent.
  virtual Status removeSandbox(const std::string& podUid) = 0;
  // Sandboxes found on disk/in the kernel (for re-adoption after a restart).
  virtual Result<std::vector<SandboxInfo>> listSandboxes() = 0;

  // Creates and starts a container in the pod's sandbox. A command that does
  // not exist or cannot run is not an error here: the status then says
  // kExited, exitCode 128, reason "ContainerCannotRun" and the runtime's message.
  // Errors are for what prevents even trying (image missing: kNotFound with
  // the ImageStore's message; bad config: kBadRequest).
  virtual Result<ContainerStatus> startContainer(const ContainerConfig& config,
                                                 const SandboxInfo& sandbox) = 0;
  // Sends SIGTERM, waits up to `grace`, then SIGKILL; returns when it has exited.
  virtual Status stopContainer(const std::string& id, std::chrono::seconds grace) = 0;
  // Removes a stopped container's runc state, rootfs mount and bundle (keeps
  // nothing but, while the pod exists, its log file for `logs --previous`).
  virtual Status removeContainer(const std::string& id) = 0;
  virtual Result<ContainerStatus> containerStatus(const std::string& id) = 0;
  // Every container of the pod ("" = of all pods) known on disk.
  virtual Result<std::vector<ContainerStatus>> listContainers(const std::string& podUid) = 0;

  // Runs argv in the container (as `runc exec`), for exec probes and
  // `kubectl exec`. Output is collected up to a limit; exitCode is the command's.
  struct ExecResult {
    int exitCode = 0;
    std::string output;  // stdout and stderr, interleaved
    bool timedOut = false;
  };
  virtual Result<ExecResult> execSync(const std::string& id, const std::vector<std::string>& argv,
                                      std::chrono::milliseconds timeout) = 0;
  // The host command line that runs argv inside the running container with
  // the container's environment, user and cwd (e.g. {"runc", "--root", R,
  // "exec", ...}), for a streaming exec whose caller wires stdin/stdout/stderr
  // (kubectl exec). `tty` asks for a terminal (runc exec -t needs a console
  // socket; callers may refuse tty).
  virtual Result<std::vector<std::string>> execCommand(const std::string& id,
                                                       const std::vector<std::string>& argv,
                                                       bool tty) = 0;
};

}  // namespace skiff::kubelet
