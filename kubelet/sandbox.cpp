#include "kubelet/sandbox.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <thread>

#include "kubelet/images_util.h"

#ifndef NSFS_MAGIC
#define NSFS_MAGIC 0x6e736673
#endif

namespace skiff::kubelet {

using images_detail::Fd;
using images_detail::sysError;

namespace {

// DIR as iproute2 leaves /run/netns: a directory that is a shared mount point,
// so namespace mounts under it propagate to other mount namespaces.
Status prepareNetnsDir(const std::string& dir) {
  static std::mutex mu;  // two threads must not both bind the directory onto itself
  std::lock_guard<std::mutex> lock(mu);
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return sysError("mkdir", dir, errno);
  bool bound = false;
  while (::mount("", dir.c_str(), "none", MS_SHARED | MS_REC, nullptr) != 0) {
    if (errno != EINVAL || bound) return sysError("make shared mount", dir, errno);
    if (::mount(dir.c_str(), dir.c_str(), "none", MS_BIND | MS_REC, nullptr) != 0) {
      return sysError("bind mount", dir, errno);
    }
    bound = true;
  }
  return {};
}

}  // namespace

bool isNetns(const std::string& path) {
  struct statfs st;
  return ::statfs(path.c_str(), &st) == 0 &&
         st.f_type == static_cast<decltype(st.f_type)>(NSFS_MAGIC);
}

Result<std::string> createNetns(const std::string& dir, const std::string& name) {
  std::string path = dir + "/" + name;
  if (isNetns(path))
    return makeError(Code::kAlreadyExists, "network namespace " + path + " exists");
  if (auto s = prepareNetnsDir(dir); !s) return s.error();
  {
    Fd f(::open(path.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, 0));
    if (!f.valid()) return sysError("create", path, errno);
  }
  Status result;
  std::thread t([&] {
    if (::unshare(CLONE_NEWNET) != 0) {
      result = sysError("unshare network namespace for", path, errno);
      return;
    }
    if (::mount("/proc/thread-self/ns/net", path.c_str(), "none", MS_BIND, nullptr) != 0) {
      result = sysError("bind mount network namespace onto", path, errno);
    }
  });
  t.join();
  if (!result) {
    ::unlink(path.c_str());
    return result.error();
  }
  return path;
}

Status removeNetns(const std::string& path) {
  if (::umount2(path.c_str(), MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT) {
    return sysError("unmount", path, errno);
  }
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return sysError("remove", path, errno);
  return {};
}

Status inNetns(const std::string& path, const std::function<Status()>& fn) {
  Fd ns(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!ns.valid()) return sysError("open network namespace", path, errno);
  Status result;
  std::thread t([&] {
    if (::setns(ns.get(), CLONE_NEWNET) != 0) {
      result = sysError("enter network namespace", path, errno);
      return;
    }
    result = fn();
  });
  t.join();
  return result;
}

namespace {

void appendAliases(std::string& out,
                   const std::vector<std::pair<std::string, std::vector<std::string>>>& aliases) {
  if (aliases.empty()) return;
  out += "\n# Entries added by HostAliases.\n";
  for (const auto& [ip, names] : aliases) {
    out += ip;
    for (const auto& n : names) out += "\t" + n;
    out += "\n";
  }
}

}  // namespace

std::string podHostsFile(
    const std::string& ip, const std::string& hostname,
    const std::vector<std::pair<std::string, std::vector<std::string>>>& hostAliases) {
  std::string out =
      "# Kubernetes-managed hosts file.\n"
      "127.0.0.1\tlocalhost\n"
      "::1\tlocalhost ip6-localhost ip6-loopback\n"
      "fe00::0\tip6-localnet\n"
      "fe00::0\tip6-mcastprefix\n"
      "fe00::1\tip6-allnodes\n"
      "fe00::2\tip6-allrouters\n";
  if (!ip.empty()) out += ip + "\t" + hostname + "\n";
  appendAliases(out, hostAliases);
  return out;
}

std::string hostNetworkHostsFile(
    const std::string& hostHosts,
    const std::vector<std::pair<std::string, std::vector<std::string>>>& hostAliases) {
  std::string out = "# Kubernetes-managed hosts file (host network).\n" + hostHosts;
  if (!out.empty() && out.back() != '\n') out += "\n";
  appendAliases(out, hostAliases);
  return out;
}

std::string resolvConf(const std::vector<std::string>& servers,
                       const std::vector<std::string>& searches,
                       const std::vector<std::string>& options, const std::string& fallback) {
  if (servers.empty() && searches.empty() && options.empty()) return fallback;
  std::string out;
  if (!searches.empty()) {
    out += "search";
    for (const auto& s : searches) out += " " + s;
    out += "\n";
  }
  for (const auto& s : servers) out += "nameserver " + s + "\n";
  if (!options.empty()) {
    out += "options";
    for (const auto& o : options) out += " " + o;
    out += "\n";
  }
  return out;
}

}  // namespace skiff::kubelet
