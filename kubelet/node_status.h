// Node status: what the kubelet reports about its machine — the Node it
// registers (labels, spec.podCIDR) and the status it keeps fresh (capacity,
// allocatable, conditions with heartbeats, addresses, nodeInfo,
// daemonEndpoints) — as pure functions of the machine's facts, which
// readMachineInfo() gathers from /proc and /etc.
//
// Capacity: cpu (online processors), memory (MemTotal, in Ki), pods (110).
// Allocatable: the same less the kubelet's default hard eviction threshold of
// 100Mi memory. Conditions: MemoryPressure, DiskPressure, PIDPressure False and
// Ready True (reason KubeletReady, "kubelet is posting ready status"), each
// with lastHeartbeatTime = now and lastTransitionTime kept while its status holds.
//
// Thread-safety: pure functions, except readMachineInfo / detectNodeIP /
// defaultNodeName, which read the system and are reentrant.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "api/json.h"
#include "base/result.h"

namespace skiff::kubelet {

// The version the kubelet reports (the API server's, see apiserver/rest.h).
inline constexpr const char* kKubeletVersion = "v1.32.0-skiff.0.1.0";

struct MachineInfo {
  int64_t cpus = 1;
  int64_t memoryBytes = 0;
  std::string kernelVersion;  // uname -r
  std::string osImage;        // os-release PRETTY_NAME
  std::string architecture;   // GOARCH spelling: amd64, arm64
  std::string machineID;      // /etc/machine-id
  std::string bootID;         // /proc/sys/kernel/random/boot_id
};

// Reads procDir/cpuinfo, procDir/meminfo, procDir/sys/kernel/random/boot_id,
// etcDir/os-release, etcDir/machine-id and uname(2). kInternal when meminfo
// has no MemTotal; other missing facts are left empty.
Result<MachineInfo> readMachineInfo(const std::string& procDir = "/proc",
                                    const std::string& etcDir = "/etc");

struct NodeConfig {
  std::string name;
  std::string internalIP;
  std::string hostname;  // the Hostname address; defaults to name
  std::string podCIDR;   // "" = not set
  int kubeletPort = 10250;
  int maxPods = 110;
};

// The Node to create: metadata.name, labels kubernetes.io/hostname, os, arch;
// spec.podCIDR(s) when set.
api::Json nodeObject(const NodeConfig& node, const MachineInfo& machine);
// The whole status, keeping lastTransitionTime of unchanged conditions from `oldStatus`.
api::Json nodeStatus(const NodeConfig& node, const MachineInfo& machine, const api::Json& oldStatus,
                     std::chrono::system_clock::time_point now);

// The host's name, lower-cased (the kubelet's default node name).
std::string defaultNodeName();
// The first IPv4 address of an interface that is up, not loopback and not
// one of skiff's (skiff*, veth*); "127.0.0.1" when there is none.
std::string detectNodeIP();

}  // namespace skiff::kubelet
