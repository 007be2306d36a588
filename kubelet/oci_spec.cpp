#include "kubelet/oci_spec.h"

#include <algorithm>
#include <set>

namespace skiff::kubelet {

using api::Json;

const std::vector<std::string>& defaultCapabilities() {
  static const std::vector<std::string> caps = {
      "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
      "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
      "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
      "CAP_KILL",    "CAP_AUDIT_WRITE"};
  return caps;
}

const std::vector<std::string>& knownCapabilities() {
  static const std::vector<std::string> caps = {"CAP_CHOWN",
                                                "CAP_DAC_OVERRIDE",
                                                "CAP_DAC_READ_SEARCH",
                                                "CAP_FOWNER",
                                                "CAP_FSETID",
                                                "CAP_KILL",
                                                "CAP_SETGID",
                                                "CAP_SETUID",
                                                "CAP_SETPCAP",
                                                "CAP_LINUX_IMMUTABLE",
                                                "CAP_NET_BIND_SERVICE",
                                                "CAP_NET_BROADCAST",
                                                "CAP_NET_ADMIN",
                                                "CAP_NET_RAW",
                                                "CAP_IPC_LOCK",
                                                "CAP_IPC_OWNER",
                                                "CAP_SYS_MODULE",
                                                "CAP_SYS_RAWIO",
                                                "CAP_SYS_CHROOT",
                                                "CAP_SYS_PTRACE",
                                                "CAP_SYS_PACCT",
                                                "CAP_SYS_ADMIN",
                                                "CAP_SYS_BOOT",
                                                "CAP_SYS_NICE",
                                                "CAP_SYS_RESOURCE",
                                                "CAP_SYS_TIME",
                                                "CAP_SYS_TTY_CONFIG",
                                                "CAP_MKNOD",
                                                "CAP_LEASE",
                                                "CAP_AUDIT_WRITE",
                                                "CAP_AUDIT_CONTROL",
                                                "CAP_SETFCAP",
                                                "CAP_MAC_OVERRIDE",
                                                "CAP_MAC_ADMIN",
                                                "CAP_SYSLOG",
                                                "CAP_WAKE_ALARM",
                                                "CAP_BLOCK_SUSPEND",
                                                "CAP_AUDIT_READ",
                                                "CAP_PERFMON",
                                                "CAP_BPF",
                                                "CAP_CHECKPOINT_RESTORE"};
  return caps;
}

namespace {

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// "net_admin", "NET_ADMIN", "CAP_NET_ADMIN" -> "CAP_NET_ADMIN"; "ALL" stays.
Result<std::string> normalizeCapability(const std::string& name) {
  std::string up;
  for (char c : name) up += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (up == "ALL") return up;
  if (up.rfind("CAP_", 0) != 0) up = "CAP_" + up;
  if (!contains(knownCapabilities(), up)) {
    return makeError(Code::kBadRequest, "unknown capability \"" + name + "\"");
  }
  return up;
}

Json bindMount(const std::string& dest, const std::string& source, bool readOnly) {
  return Json{{"destination", dest},
              {"type", "bind"},
              {"source", source},
              {"options", Json::array({"rbind", "rprivate", readOnly ? "ro" : "rw"})}};
}

size_t depth(const std::string& path) {
  return static_cast<size_t>(std::count(path.begin(), path.end(), '/'));
}

std::string cleanPath(const std::string& p) {
  std::string out;
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i] == '/' && !out.empty() && out.back() == '/') continue;
    out += p[i];
  }
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

}  // namespace

Result<std::vector<std::string>> containerCapabilities(const ContainerConfig& config,
                                                       const std::vector<std::string>& available) {
  const std::vector<std::string>& all = available.empty() ? knownCapabilities() : available;
  std::vector<std::string> adds, drops;
  for (const auto& c : config.capAdd) {
    auto n = normalizeCapability(c);
    if (!n) return n.error();
    adds.push_back(*n);
  }
  for (const auto& c : config.capDrop) {
    auto n = normalizeCapability(c);
    if (!n) return n.error();
    drops.push_back(*n);
  }
  if (config.privileged) return all;
  // containerd's TweakCapabilities: the defaults less the drops, then the adds.
  std::vector<std::string> caps;
  if (!contains(drops, "ALL")) {
    for (const auto& c : defaultCapabilities()) {
      if (!contains(drops, c)) caps.push_back(c);
    }
  }
  if (contains(adds, "ALL")) return all;
  for (const auto& c : adds) {
    if (!contains(caps, c)) caps.push_back(c);
  }
  return caps;
}

Result<Json> buildOciSpec(const ContainerConfig& c, const SandboxInfo& sandbox,
                          const OciSpecOptions& o) {
  if (c.process.args.empty()) {
    return makeError(Code::kBadRequest, "container " + c.name + ": no command specified");
  }
  auto caps = containerCapabilities(c, o.availableCapabilities);
  if (!caps) return caps.error();
  const bool hostNetwork = sandbox.netnsPath.empty();

  Json user = {{"uid", c.process.uid}, {"gid", c.process.gid}};
  if (!c.process.additionalGids.empty()) user["additionalGids"] = c.process.additionalGids;
  Json capSet = *caps;
  Json process = {
      {"terminal", false},
      {"user", user},
      {"args", c.process.args},
      {"env", c.process.env},
      {"cwd", c.process.cwd.empty() ? "/" : c.process.cwd},
      {"capabilities", {{"bounding", capSet}, {"effective", capSet}, {"permitted", capSet}}},
      {"noNewPrivileges", false}};

  // User mounts first, to know which defaults they replace.
  std::vector<Mount> user_mounts = c.mounts;
  std::set<std::string> userDests;
  for (auto& m : user_mounts) {
    if (m.destination.empty() || m.destination[0] != '/') {
      return makeError(Code::kBadRequest, "container " + c.name + ": mount destination \"" +
                                              m.destination + "\" is not an absolute path");
    }
    m.destination = cleanPath(m.destination);
    bool isTmpfs = m.tmpfs && (m.source.empty() || m.source == "tmpfs");
    if (!isTmpfs && (m.source.empty() || m.source[0] != '/')) {
      return makeError(Code::kBadRequest, "container " + c.name + ": mount source \"" + m.source +
                                              "\" for " + m.destination +
                                              " is not an absolute path");
    }
    userDests.insert(m.destination);
  }
  std::stable_sort(user_mounts.begin(), user_mounts.end(), [](const Mount& a, const Mount& b) {
    return depth(a.destination) < depth(b.destination);
  });

  Json mounts = Json::array();
  auto addDefault = [&](Json m) {
    if (!userDests.count(m["destination"].get<std::string>())) mounts.push_back(std::move(m));
  };
  addDefault({{"destination", "/proc"},
              {"type", "proc"},
              {"source", "proc"},
              {"options", {"nosuid", "noexec", "nodev"}}});
  addDefault({{"destination", "/dev"},
              {"type", "tmpfs"},
              {"source", "tmpfs"},
              {"options", {"nosuid", "strictatime", "mode=755", "size=65536k"}}});
  addDefault(
      {{"destination", "/dev/pts"},
       {"type", "devpts"},
       {"source", "devpts"},
       {"options", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}}});
  addDefault({{"destination", "/dev/shm"},
              {"type", "tmpfs"},
              {"source", "shm"},
              {"options", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}}});
  addDefault({{"destination", "/dev/mqueue"},
              {"type", "mqueue"},
              {"source", "mqueue"},
              {"options", {"nosuid", "noexec", "nodev"}}});
  addDefault({{"destination", "/sys"},
              {"type", "sysfs"},
              {"source", "sysfs"},
              {"options", {"nosuid", "noexec", "nodev", c.privileged ? "rw" : "ro"}}});
  addDefault({{"destination", "/sys/fs/cgroup"},
              {"type", "cgroup"},
              {"source", "cgroup"},
              {"options", {"nosuid", "noexec", "nodev", "relatime", c.privileged ? "rw" : "ro"}}});
  if (!sandbox.hostsPath.empty()) addDefault(bindMount("/etc/hosts", sandbox.hostsPath, false));
  if (!sandbox.resolvPath.empty()) {
    addDefault(bindMount("/etc/resolv.conf", sandbox.resolvPath, false));
  }
  if (!sandbox.hostnamePath.empty()) {
    addDefault(bindMount("/etc/hostname", sandbox.hostnamePath, false));
  }
  for (const auto& m : user_mounts) {
    if (m.tmpfs && (m.source.empty() || m.source == "tmpfs")) {
      Json opts = {"nosuid", "nodev", "mode=1777"};
      if (m.readOnly) opts.push_back("ro");
      mounts.push_back({{"destination", m.destination},
                        {"type", "tmpfs"},
                        {"source", "tmpfs"},
                        {"options", opts}});
    } else {
      mounts.push_back(bindMount(m.destination, m.source, m.readOnly));
    }
  }

  Json namespaces = Json::array({{{"type", "pid"}}, {{"type", "ipc"}}, {{"type", "mount"}}});
  if (!hostNetwork) {
    namespaces.push_back({{"type", "uts"}});
    namespaces.push_back({{"type", "network"}, {"path", sandbox.netnsPath}});
  }

  Json resources = Json::object();
  Json devices = Json::array();
  if (c.privileged) {
    devices.push_back({{"allow", true}, {"access", "rwm"}});
  } else {
    devices.push_back({{"allow", false}, {"access", "rwm"}});
  }
  resources["devices"] = devices;
  if (c.memoryLimitBytes > 0) {
    resources["memory"] = {{"limit", c.memoryLimitBytes}, {"swap", c.memoryLimitBytes}};
  }
  if (c.cpuQuotaMicros > 0) {
    resources["cpu"] = {{"quota", c.cpuQuotaMicros}, {"period", 100000}};
  }
  if (c.pidsLimit > 0) resources["pids"] = {{"limit", c.pidsLimit}};

  Json linuxSpec = {{"namespaces", namespaces}, {"resources", resources}};
  if (!o.cgroupsPath.empty()) linuxSpec["cgroupsPath"] = o.cgroupsPath;
  if (c.privileged) {
    Json devs = Json::array();
    for (const auto& d : o.hostDevices) {
      devs.push_back({{"path", d.path},
                      {"type", std::string(1, d.type)},
                      {"major", d.major},
                      {"minor", d.minor},
                      {"fileMode", d.fileMode},
                      {"uid", d.uid},
                      {"gid", d.gid}});
    }
    if (!devs.empty()) linuxSpec["devices"] = devs;
  } else {
    linuxSpec["maskedPaths"] = {"/proc/acpi",        "/proc/asound",        "/proc/kcore",
                                "/proc/keys",        "/proc/latency_stats", "/proc/timer_list",
                                "/proc/timer_stats", "/proc/sched_debug",   "/sys/firmware",
                                "/proc/scsi"};
    linuxSpec["readonlyPaths"] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                                  "/proc/sysrq-trigger"};
  }

  Json spec = {{"ociVersion", "1.0.2"},
               {"process", process},
               {"root", {{"path", o.rootfs}, {"readonly", c.readOnlyRootfs}}},
               {"mounts", mounts},
               {"linux", linuxSpec}};
  if (!hostNetwork && !o.hostname.empty()) spec["hostname"] = o.hostname;
  return spec;
}

}  // namespace skiff::kubelet
