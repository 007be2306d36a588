#include "kubelet/node_status.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cctype>
#include <fstream>
#include <sstream>

#include "kubelet/pod_status.h"

namespace skiff::kubelet {

using api::Json;

namespace {

std::string firstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

std::string goArch(const std::string& machine) {
  if (machine == "x86_64") return "amd64";
  if (machine == "aarch64") return "arm64";
  if (machine.size() == 4 && machine[0] == 'i' && machine.substr(2) == "86") return "386";
  return machine;
}

constexpr int64_t kEvictionReserve = 100 * 1024 * 1024;  // memory.available<100Mi

Json resources(const MachineInfo& m, int maxPods, int64_t reserve) {
  int64_t mem = m.memoryBytes - reserve;
  if (mem < 0) mem = 0;
  return {{"cpu", std::to_string(m.cpus)},
          {"memory", std::to_string(mem / 1024) + "Ki"},
          {"pods", std::to_string(maxPods)}};
}

}  // namespace

Result<MachineInfo> readMachineInfo(const std::string& procDir, const std::string& etcDir) {
  MachineInfo info;
  {
    std::ifstream in(procDir + "/cpuinfo");
    std::string line;
    int64_t n = 0;
    while (std::getline(in, line))
      if (line.rfind("processor", 0) == 0) ++n;
    if (n == 0) n = sysconf(_SC_NPROCESSORS_ONLN);
    info.cpus = n > 0 ? n : 1;
  }
  {
    std::ifstream in(procDir + "/meminfo");
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("MemTotal:", 0) != 0) continue;
      std::istringstream s(line.substr(9));
      int64_t kb = 0;
      s >> kb;
      info.memoryBytes = kb * 1024;
    }
    if (info.memoryBytes <= 0)
      return makeError(Code::kInternal, "read " + procDir + "/meminfo: no MemTotal");
  }
  info.bootID = firstLine(procDir + "/sys/kernel/random/boot_id");
  info.machineID = firstLine(etcDir + "/machine-id");
  {
    std::ifstream in(etcDir + "/os-release");
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("PRETTY_NAME=", 0) != 0) continue;
      std::string v = line.substr(12);
      if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
      info.osImage = v;
    }
  }
  utsname u{};
  if (uname(&u) == 0) {
    info.kernelVersion = u.release;
    info.architecture = goArch(u.machine);
  }
  return info;
}

Json nodeObject(const NodeConfig& node, const MachineInfo& machine) {
  Json n = {{"apiVersion", "v1"},
            {"kind", "Node"},
            {"metadata",
             {{"name", node.name},
              {"labels",
               {{"kubernetes.io/hostname", node.hostname.empty() ? node.name : node.hostname},
                {"kubernetes.io/os", "linux"},
                {"kubernetes.io/arch", machine.architecture},
                {"beta.kubernetes.io/os", "linux"},
                {"beta.kubernetes.io/arch", machine.architecture}}}}},
            {"spec", Json::object()}};
  if (!node.podCIDR.empty()) {
    n["spec"]["podCIDR"] = node.podCIDR;
    n["spec"]["podCIDRs"] = {node.podCIDR};
  }
  return n;
}

Json nodeStatus(const NodeConfig& node, const MachineInfo& machine, const Json& oldStatus,
                std::chrono::system_clock::time_point now) {
  std::string nowText = formatTime(now);
  auto condition = [&](const std::string& type, const std::string& status,
                       const std::string& reason, const std::string& message) {
    std::string transition = nowText;
    const Json& old = member(oldStatus, "conditions");
    if (old.is_array())
      for (const auto& c : old)
        if (textOf(c, "type") == type && textOf(c, "status") == status &&
            !textOf(c, "lastTransitionTime").empty())
          transition = textOf(c, "lastTransitionTime");
    return Json{{"type", type},
                {"status", status},
                {"reason", reason},
                {"message", message},
                {"lastHeartbeatTime", nowText},
                {"lastTransitionTime", transition}};
  };
  Json addresses = Json::array();
  if (!node.internalIP.empty())
    addresses.push_back({{"type", "InternalIP"}, {"address", node.internalIP}});
  addresses.push_back(
      {{"type", "Hostname"}, {"address", node.hostname.empty() ? node.name : node.hostname}});
  return {{"capacity", resources(machine, node.maxPods, 0)},
          {"allocatable", resources(machine, node.maxPods, kEvictionReserve)},
          {"conditions",
           {condition("MemoryPressure", "False", "KubeletHasSufficientMemory",
                      "kubelet has sufficient memory available"),
            condition("DiskPressure", "False", "KubeletHasNoDiskPressure",
                      "kubelet has no disk pressure"),
            condition("PIDPressure", "False", "KubeletHasSufficientPID",
                      "kubelet has sufficient PID available"),
            condition("Ready", "True", "KubeletReady", "kubelet is posting ready status")}},
          {"addresses", addresses},
          {"daemonEndpoints", {{"kubeletEndpoint", {{"Port", node.kubeletPort}}}}},
          {"nodeInfo",
           {{"machineID", machine.machineID},
            {"systemUUID", machine.machineID},
            {"bootID", machine.bootID},
            {"kernelVersion", machine.kernelVersion},
            {"osImage", machine.osImage},
            {"containerRuntimeVersion", "runc://skiff"},
            {"kubeletVersion", kKubeletVersion},
            {"kubeProxyVersion", kKubeletVersion},
            {"operatingSystem", "linux"},
            {"architecture", machine.architecture}}}};
}

std::string defaultNodeName() {
  char buf[256] = {0};
  if (gethostname(buf, sizeof buf - 1) != 0 || !buf[0]) return "localhost";
  std::string name = buf;
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name;
}

std::string detectNodeIP() {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return "127.0.0.1";
  std::string found;
  for (ifaddrs* a = list; a && found.empty(); a = a->ifa_next) {
    if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET) continue;
    if (!(a->ifa_flags & IFF_UP) || (a->ifa_flags & IFF_LOOPBACK)) continue;
    std::string name = a->ifa_name ? a->ifa_name : "";
    if (name.rfind("skiff", 0) == 0 || name.rfind("veth", 0) == 0) continue;
    char text[INET_ADDRSTRLEN] = {0};
    auto* sin = reinterpret_cast<sockaddr_in*>(a->ifa_addr);
    if (inet_ntop(AF_INET, &sin->sin_addr, text, sizeof text)) found = text;
  }
  freeifaddrs(list);
  return found.empty() ? "127.0.0.1" : found;
}

}  // namespace skiff::kubelet
