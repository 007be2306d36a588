#include "kubelet/mounts.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/file.h"
#include "kubelet/images_util.h"

namespace skiff::kubelet {

using images_detail::Fd;
using images_detail::sysError;
namespace fs = std::filesystem;

Result<std::string> overlayOptions(const std::vector<std::string>& lowerDirs,
                                   const std::string& upper, const std::string& work) {
  if (lowerDirs.empty()) return makeError(Code::kBadRequest, "overlay: no lower directory");
  std::string out = "lowerdir=";
  for (size_t i = 0; i < lowerDirs.size(); ++i) {
    if (lowerDirs[i].find_first_of(",:") != std::string::npos) {
      return makeError(Code::kBadRequest, "overlay: unusable path " + lowerDirs[i]);
    }
    out += (i ? ":" : "") + lowerDirs[i];
  }
  for (const auto* p : {&upper, &work}) {
    if (p->find_first_of(",:") != std::string::npos) {
      return makeError(Code::kBadRequest, "overlay: unusable path " + *p);
    }
  }
  out += ",upperdir=" + upper + ",workdir=" + work;
  if (out.size() >= 4096) {
    return makeError(Code::kBadRequest, "overlay: " + std::to_string(lowerDirs.size()) +
                                            " layers make mount options longer than a page");
  }
  return out;
}

Status mountOverlay(const std::vector<std::string>& lowerDirs, const std::string& upper,
                    const std::string& work, const std::string& target) {
  auto opts = overlayOptions(lowerDirs, upper, work);
  if (!opts) return opts.error();
  if (::mount("overlay", target.c_str(), "overlay", 0, opts->c_str()) != 0) {
    return sysError("mount overlay on", target, errno);
  }
  return {};
}

Status mountTmpfs(const std::string& target) {
  if (::mount("tmpfs", target.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777") != 0) {
    return sysError("mount tmpfs on", target, errno);
  }
  return {};
}

bool isMountPoint(const std::string& path) {
  struct statx sx;
  if (::statx(AT_FDCWD, path.c_str(), AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &sx) != 0) {
    return false;
  }
  if (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) {
    return (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
  }
  struct stat self, parent;
  if (::stat(path.c_str(), &self) != 0 || ::stat((path + "/..").c_str(), &parent) != 0) {
    return false;
  }
  return self.st_dev != parent.st_dev || self.st_ino == parent.st_ino;
}

namespace {

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescapeMountPath(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1]))) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 3), nullptr, 8));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace

std::vector<std::string> mountsUnder(const std::string& dir) {
  std::vector<std::string> out;
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  std::string prefix = dir;
  while (prefix.size() > 1 && prefix.back() == '/') prefix.pop_back();
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, parent, devno, root, mountPoint;
    fields >> id >> parent >> devno >> root >> mountPoint;
    std::string mp = unescapeMountPath(mountPoint);
    if (mp == prefix || mp.rfind(prefix + "/", 0) == 0) out.push_back(mp);
  }
  std::sort(out.begin(), out.end(), [](const std::string& a, const std::string& b) {
    return a.size() != b.size() ? a.size() > b.size() : a > b;
  });
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Status unmountAll(const std::string& dir) {
  // A path can be mounted over more than once: repeat until nothing is left.
  for (int round = 0; round < 8; ++round) {
    auto mounts = mountsUnder(dir);
    if (mounts.empty()) return {};
    for (const auto& m : mounts) {
      if (::umount2(m.c_str(), MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT) {
        return sysError("unmount", m, errno);
      }
    }
  }
  if (!mountsUnder(dir).empty()) {
    return makeError(Code::kInternal, "unmount " + dir + ": mounts remain");
  }
  return {};
}

Status removeTreeUnmounted(const std::string& dir) {
  if (::access(dir.c_str(), F_OK) != 0 && errno == ENOENT) return {};
  if (auto s = unmountAll(dir); !s) return s;
  if (!mountsUnder(dir).empty()) {
    return makeError(Code::kInternal, "refusing to remove " + dir + ": it still has mounts");
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  if (ec) return makeError(Code::kInternal, "remove " + dir + ": " + ec.message());
  return {};
}

Status replaceFile(const std::string& path, const std::string& data) {
  return writeFileAtomic(path, data, {.durable = false});
}

}  // namespace skiff::kubelet
