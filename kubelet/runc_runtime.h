// RuncRuntime: the real Runtime (kubelet/runtime.h). Pods get a network
// namespace, a veth into the node's bridge and an address from the node's pod
// range; containers get an overlayfs root over the image's layers and run under
// runc, each watched by its own conmon (as CRI-O does), which writes the
// CRI-format log and, when the container ends, its exit code.
//
// Create one per process:
//
//   RuncRuntimeOptions o;              // defaults: /var/lib/skiff, skiff0,
//   o.dataDir = "/var/lib/skiff";      // 10.244.0.0/24, gateway 10.244.0.1/16
//   auto rt = RuncRuntime::create(o);  // Result<std::unique_ptr<RuncRuntime>>
//   if (!rt) ... rt.error().message    // e.g. runc or conmon missing
//
// It needs root. Construction only checks the options, the binaries and the
// directories (it works for a kubelet that runs only hostNetwork pods); the
// bridge and net.ipv4.ip_forward=1 are set up at the first pod with its own
// network.
//
// On disk (everything derived from the pod UID and container id):
//   DATA/pods/UID/sandbox.json              what ensureSandbox made (complete
//                                           sandboxes only; written last)
//   DATA/pods/UID/{hosts,resolv.conf,hostname}
//   DATA/pods/UID/containers/ID/            the bundle: config.json, meta.json,
//                                           rootfs/ (overlay), upper/, work/,
//                                           conmon's pidfile, ctl, winsz
//   DATA/pods/UID/exits/ID                  conmon's exit file (the exit code)
//   DATA/pods/UID/logs/NAME/ATTEMPT.log     CRI-format log (kept until the pod goes)
//   DATA/ipam/ADDRESS                       the pod's address lease (ipam.h)
//   /run/netns/skiff-UID                    the pod's network namespace
//   veth link "veth" + 8 hex of hash(UID)   host end, in the bridge (hostVethName)
//   RUNC_ROOT/ID                            runc's state
//   cgroups CGROUP_PARENT/ID                per container, in every hierarchy;
//                                           a relative parent sits under the
//                                           kubelet's own cgroup (runc's rule)
// A container's state is derived from these: meta.json (what startContainer
// did), the exit file, the init process (/proc/PID, checked against its start
// time), else `runc state`. Once a container has ended, its final status
// (exit code, reason — OOMKilled from the memory cgroup's oom_kill count —,
// finish time) is written into meta.json, so it stays the same after the
// cgroup is gone and across kubelet restarts. conmon runs in its own session
// and outlives the kubelet: a new RuncRuntime over the same directories finds
// every sandbox and container as it was.
//
// Thread-safety: as Runtime — calls for different pods may run in parallel.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "kubelet/images.h"
#include "kubelet/ipam.h"
#include "kubelet/runtime.h"
#include "kubelet/subprocess.h"

namespace skiff::kubelet {

struct RuncRuntimeOptions {
  std::string dataDir = "/var/lib/skiff";  // pods in DATA/pods, leases in DATA/ipam
  std::string imagesDir;                   // "" = DATA/images (ImageStore::open)
  std::string bridgeName = "skiff0";
  std::string podCidr = "10.244.0.0/24";        // addresses handed to pods
  std::string bridgeAddress = "10.244.0.1/16";  // the gateway, on the bridge; pods
                                                // get this prefix length too
  std::string runcRoot = "/run/skiff/runc";     // runc --root
  std::string cgroupParent = "skiff";           // relative: under our own cgroup
  std::string runcPath = "/usr/sbin/runc";
  std::string conmonPath = "/usr/bin/conmon";
  std::string netnsDir = "/run/netns";
  std::string netnsPrefix = "skiff-";  // namespace name = prefix + pod UID
  int mtu = 0;                         // veth MTU; 0 = kernel default
};

class RuncRuntime : public Runtime {
 public:
  // kBadRequest for unusable options (bad CIDR, gateway outside the bridge
  // prefix), kNotFound when runc or conmon is missing, kInternal for I/O.
  static Result<std::unique_ptr<RuncRuntime>> create(RuncRuntimeOptions options);
  ~RuncRuntime() override;

  Result<SandboxInfo> ensureSandbox(const SandboxConfig& config) override;
  Status removeSandbox(const std::string& podUid) override;
  Result<std::vector<SandboxInfo>> listSandboxes() override;

  Result<ContainerStatus> startContainer(const ContainerConfig& config,
                                         const SandboxInfo& sandbox) override;
  Status stopContainer(const std::string& id, std::chrono::seconds grace) override;
  Status removeContainer(const std::string& id) override;
  Result<ContainerStatus> containerStatus(const std::string& id) override;
  Result<std::vector<ContainerStatus>> listContainers(const std::string& podUid) override;

  Result<ExecResult> execSync(const std::string& id, const std::vector<std::string>& argv,
                              std::chrono::milliseconds timeout) override;
  Result<std::vector<std::string>> execCommand(const std::string& id,
                                               const std::vector<std::string>& argv,
                                               bool tty) override;

  // Node-wide leftovers, for `skiff up --ephemeral` or a test's cleanup, once
  // every sandbox is removed: the cgroup parent directories (every hierarchy;
  // fails while a container cgroup is left in them) and the bridge.
  Status removeCgroupParent();
  Status removeBridge();

  const RuncRuntimeOptions& options() const { return options_; }
  ImageStore& images() { return *images_; }
  // The host end of a pod's veth ("veth" + 8 hex digits).
  static std::string hostVethName(const std::string& podUid);
  // "<podUid>_<name>_<attempt>"
  static std::string containerId(const std::string& podUid, const std::string& name, int attempt);

 private:
  RuncRuntime(RuncRuntimeOptions options, std::unique_ptr<ImageStore> images,
              std::unique_ptr<Ipam> ipam);

  std::string podDir(const std::string& podUid) const;
  Status ensureNetwork();
  Status buildPodNetwork(const std::string& podUid, const std::string& ip,
                         const std::string& netnsPath, const std::string& veth);
  Status writePodFiles(const SandboxConfig& config, const SandboxInfo& info);
  Result<ContainerStatus> statusFromDisk(const std::string& id, bool waitForExitFile);
  Status waitForExit(const std::string& id, std::chrono::milliseconds timeout);
  Result<RunResult> runc(const std::vector<std::string>& args,
                         std::chrono::milliseconds timeout = std::chrono::seconds(30));
  std::vector<std::string> cgroupParentDirs() const;

  const RuncRuntimeOptions options_;
  const std::unique_ptr<ImageStore> images_;
  const std::unique_ptr<Ipam> ipam_;
  int podPrefixLength_ = 16;  // of bridgeAddress
  std::string gateway_;       // bridgeAddress without the length
  std::vector<std::string> availableCaps_;

  std::mutex networkMu_;  // serialises bridge setup
};

}  // namespace skiff::kubelet
