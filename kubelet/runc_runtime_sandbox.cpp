// RuncRuntime's sandboxes: the pod directory, network namespace, veth, address
// and the generated /etc files. (Containers: runc_runtime.cpp.)
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <memory>

#include "base/file.h"
#include "base/log.h"
#include "kubelet/images_util.h"
#include "kubelet/mounts.h"
#include "kubelet/netlink.h"
#include "kubelet/runc_runtime.h"
#include "kubelet/runc_runtime_util.h"
#include "kubelet/sandbox.h"

namespace skiff::kubelet {

using api::Json;
using images_detail::Fd;
using images_detail::sysError;
using namespace runtime_detail;

namespace {

SandboxInfo infoFromJson(const Json& j) {
  SandboxInfo i;
  i.podUid = j.value("podUid", "");
  i.ip = j.value("ip", "");
  i.netnsPath = j.value("netnsPath", "");
  i.hostsPath = j.value("hostsPath", "");
  i.resolvPath = j.value("resolvPath", "");
  i.hostnamePath = j.value("hostnamePath", "");
  return i;
}

std::string hostHostname() {
  char buf[256] = {0};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  return buf;
}

std::vector<std::string> subdirs(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return out;
  std::unique_ptr<DIR, int (*)(DIR*)> closer(d, ::closedir);
  while (struct dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n == "." || n == ".." || n[0] == '.') continue;
    out.push_back(n);
  }
  return out;
}

}  // namespace

std::string RuncRuntime::hostVethName(const std::string& podUid) {
  uint32_t h = 2166136261u;  // FNV-1a
  for (unsigned char c : podUid) {
    h ^= c;
    h *= 16777619u;
  }
  char buf[16];
  std::snprintf(buf, sizeof buf, "veth%08x", h);
  return buf;
}

Status RuncRuntime::ensureNetwork() {
  std::lock_guard<std::mutex> lock(networkMu_);
  if (auto s = netlink::ensureBridge(options_.bridgeName, options_.bridgeAddress); !s) return s;
  Fd f(::open("/proc/sys/net/ipv4/ip_forward", O_RDWR | O_CLOEXEC));
  char cur = '0';
  if (f.valid() && ::read(f.get(), &cur, 1) == 1 && cur != '1') {
    if (::pwrite(f.get(), "1\n", 2, 0) != 2) {
      logWarn("cannot enable net.ipv4.ip_forward", {{"error", std::strerror(errno)}});
    }
  }
  return {};
}

Status RuncRuntime::removeBridge() {
  std::lock_guard<std::mutex> lock(networkMu_);
  return netlink::deleteLink(options_.bridgeName);
}

Status RuncRuntime::buildPodNetwork(const std::string& podUid, const std::string& ip,
                                    const std::string& netnsPath, const std::string& veth) {
  if (auto s = netlink::deleteLink(veth); !s) return s;  // a leftover's peer is elsewhere
  Fd ns(::open(netnsPath.c_str(), O_RDONLY | O_CLOEXEC));
  if (!ns.valid()) return sysError("open network namespace", netnsPath, errno);
  if (auto s = netlink::createVeth(veth, "eth0", ns.get(), options_.bridgeName, options_.mtu); !s) {
    return s;
  }
  std::string cidr = ip + "/" + std::to_string(podPrefixLength_);
  return inNetns(netnsPath, [&]() -> Status {
    if (auto s = netlink::setLinkUp("lo"); !s) return s;
    if (auto s = netlink::addAddress("eth0", cidr); !s) return s;
    if (auto s = netlink::setLinkUp("eth0"); !s) return s;
    return netlink::addDefaultRoute("eth0", gateway_);
  });
}

Status RuncRuntime::writePodFiles(const SandboxConfig& c, const SandboxInfo& info) {
  std::string hosts;
  std::string hostname = c.hostname.empty() ? c.podName : c.hostname;
  if (hostname.size() > 63) hostname.resize(63);
  if (c.hostNetwork) {
    auto h = readWholeFile("/etc/hosts", kSmallFileLimit);
    hosts = hostNetworkHostsFile(h ? *h : "127.0.0.1\tlocalhost\n", c.hostAliases);
    hostname = hostHostname();
  } else {
    hosts = podHostsFile(info.ip, hostname, c.hostAliases);
  }
  auto hostResolv = readWholeFile("/etc/resolv.conf", kSmallFileLimit);
  std::string resolv =
      resolvConf(c.dnsServers, c.dnsSearches, c.dnsOptions, hostResolv ? *hostResolv : "");
  if (auto s = replaceFile(info.hostsPath, hosts); !s) return s;
  if (auto s = replaceFile(info.resolvPath, resolv); !s) return s;
  return replaceFile(info.hostnamePath, hostname + "\n");
}

Result<SandboxInfo> RuncRuntime::ensureSandbox(const SandboxConfig& c) {
  auto fail = [&](const Error& e) { return e.wrap("create sandbox for pod " + c.podUid); };
  if (!validPodUid(c.podUid)) {
    return makeError(Code::kBadRequest, "invalid pod UID \"" + c.podUid + "\"");
  }
  std::string dir = podDir(c.podUid);
  std::string record = dir + "/sandbox.json";
  std::string veth = hostVethName(c.podUid);
  if (auto text = readWholeFile(record, kSmallFileLimit); text) {
    auto j = api::parseJson(*text);
    if (j && j->is_object()) {
      SandboxInfo info = infoFromJson(*j);
      bool filesThere = ::access(info.hostsPath.c_str(), F_OK) == 0;
      if (c.hostNetwork && j->value("hostNetwork", false) && filesThere) return info;
      if (!c.hostNetwork && !info.netnsPath.empty() && filesThere && isNetns(info.netnsPath)) {
        auto exists = netlink::linkExists(veth);
        if (exists && *exists) return info;
      }
    }
    // Incomplete or damaged (a reboot empties /run): build what is missing.
  }
  auto t0 = std::chrono::steady_clock::now();
  for (const std::string& d : {dir, dir + "/containers", dir + "/exits", dir + "/logs"}) {
    if (::mkdir(d.c_str(), 0700) != 0 && errno != EEXIST) return fail(sysError("mkdir", d, errno));
  }
  SandboxInfo info;
  info.podUid = c.podUid;
  info.hostsPath = dir + "/hosts";
  info.resolvPath = dir + "/resolv.conf";
  info.hostnamePath = dir + "/hostname";
  if (!c.hostNetwork) {
    if (auto s = ensureNetwork(); !s) return fail(s.error());
    auto ip = ipam_->allocate(c.podUid);
    if (!ip) return fail(ip.error());
    info.ip = *ip;
    info.netnsPath = options_.netnsDir + "/" + options_.netnsPrefix + c.podUid;
    if (!isNetns(info.netnsPath)) {
      auto ns = createNetns(options_.netnsDir, options_.netnsPrefix + c.podUid);
      if (!ns) return fail(ns.error());
    }
    if (auto s = buildPodNetwork(c.podUid, info.ip, info.netnsPath, veth); !s) {
      return fail(s.error());
    }
  }
  if (auto s = writePodFiles(c, info); !s) return fail(s.error());
  Json j = {{"podUid", c.podUid},
            {"podName", c.podName},
            {"podNamespace", c.podNamespace},
            {"hostNetwork", c.hostNetwork},
            {"ip", info.ip},
            {"netnsPath", info.netnsPath},
            {"veth", c.hostNetwork ? "" : veth},
            {"hostsPath", info.hostsPath},
            {"resolvPath", info.resolvPath},
            {"hostnamePath", info.hostnamePath},
            {"createdAt", toNanos(std::chrono::system_clock::now())}};
  if (auto s = replaceFile(record, j.dump(2) + "\n"); !s) return fail(s.error());
  logInfo("sandbox ready",
          {{"pod", c.podNamespace + "/" + c.podName},
           {"uid", c.podUid},
           {"ip", info.ip.empty() ? "host" : info.ip},
           {"ms", std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::steady_clock::now() - t0)
                                     .count())}});
  return info;
}

Status RuncRuntime::removeSandbox(const std::string& podUid) {
  auto fail = [&](const Error& e) { return e.wrap("remove sandbox of pod " + podUid); };
  if (!validPodUid(podUid)) {
    return makeError(Code::kBadRequest, "invalid pod UID \"" + podUid + "\"");
  }
  std::string dir = podDir(podUid);
  std::string netnsPath = options_.netnsDir + "/" + options_.netnsPrefix + podUid;
  std::string veth = hostVethName(podUid);
  if (auto text = readWholeFile(dir + "/sandbox.json", kSmallFileLimit); text) {
    if (auto j = api::parseJson(*text); j && j->is_object()) {
      if (!j->value("netnsPath", "").empty()) netnsPath = j->value("netnsPath", "");
      if (!j->value("veth", "").empty()) veth = j->value("veth", "");
    }
  }
  for (const auto& id : subdirs(dir + "/containers")) {
    if (auto s = removeContainer(id); !s) return fail(s.error());
  }
  if (auto s = netlink::deleteLink(veth); !s) return fail(s.error());
  if (auto s = removeNetns(netnsPath); !s) return fail(s.error());
  // The lease goes before the directory: a lease whose pod directory is gone
  // is then always garbage (create() collects such leases).
  if (auto s = ipam_->release(podUid); !s) return fail(s.error());
  if (auto s = removeTreeUnmounted(dir); !s) return fail(s.error());
  logInfo("sandbox removed", {{"uid", podUid}});
  return {};
}

Result<std::vector<SandboxInfo>> RuncRuntime::listSandboxes() {
  std::vector<SandboxInfo> out;
  for (const auto& uid : subdirs(options_.dataDir + "/pods")) {
    auto text = readWholeFile(podDir(uid) + "/sandbox.json", kSmallFileLimit);
    if (!text) continue;  // still being created, or half removed
    auto j = api::parseJson(*text);
    if (!j || !j->is_object()) continue;
    out.push_back(infoFromJson(*j));
  }
  return out;
}

}  // namespace skiff::kubelet
