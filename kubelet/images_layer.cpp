#include "kubelet/images_layer.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <deque>
#include <vector>

#include "base/log.h"
#include "kubelet/images_util.h"

namespace skiff::kubelet::images_detail {
namespace {

constexpr size_t kBufSize = 1 << 16;

// The decompressing reader whose output the tar reader pulls, hashing as it goes.
struct RawStream {
  archive* raw = nullptr;
  Sha256 hash;
  uint64_t size = 0;
  std::vector<char> buf = std::vector<char>(kBufSize);
  std::string error;

  ~RawStream() {
    if (raw) archive_read_free(raw);
  }

  // <0 error (error set), 0 end, >0 bytes in buf.
  la_ssize_t pull() {
    la_ssize_t n = archive_read_data(raw, buf.data(), buf.size());
    if (n < 0) {
      const char* msg = archive_error_string(raw);
      error = msg ? msg : "read error";
      return -1;
    }
    hash.update(buf.data(), n);
    size += n;
    return n;
  }
};

Status openRaw(RawStream& s, const std::string& path) {
  s.raw = archive_read_new();
  archive_read_support_filter_all(s.raw);
  archive_read_support_format_raw(s.raw);
  if (archive_read_open_filename(s.raw, path.c_str(), kBufSize) != ARCHIVE_OK) {
    const char* msg = archive_error_string(s.raw);
    return makeError(Code::kBadRequest, std::string("read layer: ") + (msg ? msg : "open failed"));
  }
  archive_entry* e = nullptr;
  int r = archive_read_next_header(s.raw, &e);
  if (r == ARCHIVE_EOF) return makeError(Code::kBadRequest, "read layer: empty layer blob");
  if (r != ARCHIVE_OK) {
    const char* msg = archive_error_string(s.raw);
    return makeError(Code::kBadRequest, std::string("read layer: ") + (msg ? msg : "bad data"));
  }
  return {};
}

Status drain(RawStream& s) {
  for (;;) {
    la_ssize_t n = s.pull();
    if (n < 0) return makeError(Code::kBadRequest, "read layer: " + s.error);
    if (n == 0) return {};
  }
}

la_ssize_t pullCallback(archive* a, void* ctx, const void** out) {
  auto* s = static_cast<RawStream*>(ctx);
  la_ssize_t n = s->pull();
  if (n < 0) {
    archive_set_error(a, EIO, "%s", s->error.c_str());
    return -1;
  }
  *out = s->buf.data();
  return n;
}

Error refuse(const std::string& entry, const std::string& why) {
  return makeError(Code::kBadRequest, "refusing layer entry \"" + entry + "\": " + why);
}

// Splits a path into components, dropping "" and "."; refuses absolute paths and
// ".." components. `what` names the path in errors ("path", "hardlink target ...").
Result<std::vector<std::string>> components(const std::string& path, const std::string& entry,
                                            const std::string& what) {
  if (!path.empty() && path[0] == '/') return refuse(entry, what + " is absolute");
  std::vector<std::string> out;
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    std::string c = path.substr(i, j - i);
    if (c == "..") return refuse(entry, what + " has a \"..\" component");
    if (!c.empty() && c != ".") out.push_back(c);
    i = j + 1;
  }
  return out;
}

std::string join(const std::vector<std::string>& c, size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) s += (i ? "/" : "") + c[i];
  return s;
}

// Opens the directory comps[0..n) under rootFd without following any symlink,
// creating missing directories when `create`.
Result<Fd> openDir(int rootFd, const std::vector<std::string>& comps, size_t n,
                   const std::string& entry, bool create) {
  Fd cur(::openat(rootFd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!cur.valid()) return sysError("open", "layer root", errno);
  for (size_t i = 0; i < n; ++i) {
    int fd = ::openat(cur.get(), comps[i].c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && create) {
      if (::mkdirat(cur.get(), comps[i].c_str(), 0755) != 0 && errno != EEXIST) {
        return sysError("mkdir", join(comps, i + 1), errno);
      }
      fd = ::openat(cur.get(), comps[i].c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
    if (fd < 0) {
      if (errno == ELOOP || errno == ENOTDIR) {
        return refuse(
            entry, "path component \"" + join(comps, i + 1) + "\" is a symlink or not a directory");
      }
      if (errno == ENOENT) return refuse(entry, "\"" + join(comps, i + 1) + "\" does not exist");
      return sysError("open", join(comps, i + 1), errno);
    }
    cur = Fd(fd);
  }
  return cur;
}

// Removes parentFd/name and everything below it, never following symlinks.
Status removeTreeAt(int parentFd, const std::string& name) {
  struct stat st;
  if (::fstatat(parentFd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return errno == ENOENT ? Status{} : sysError("stat", name, errno);
  }
  if (S_ISDIR(st.st_mode)) {
    int fd = ::openat(parentFd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return sysError("open", name, errno);
    DIR* d = ::fdopendir(fd);
    if (!d) {
      ::close(fd);
      return sysError("opendir", name, errno);
    }
    std::vector<std::string> children;
    while (dirent* de = ::readdir(d)) {
      std::string c = de->d_name;
      if (c != "." && c != "..") children.push_back(c);
    }
    Status st2;
    for (const auto& c : children) {
      st2 = removeTreeAt(::dirfd(d), c);
      if (!st2) break;
    }
    ::closedir(d);
    if (!st2) return st2;
    if (::unlinkat(parentFd, name.c_str(), AT_REMOVEDIR) != 0)
      return sysError("rmdir", name, errno);
    return {};
  }
  if (::unlinkat(parentFd, name.c_str(), 0) != 0) return sysError("unlink", name, errno);
  return {};
}

// Clears the way for a new entry; returns true when an existing directory is kept
// (a directory entry over a directory only updates its metadata).
Result<bool> clearFor(int parentFd, const std::string& name, bool newIsDir) {
  struct stat st;
  if (::fstatat(parentFd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return false;
    return sysError("stat", name, errno);
  }
  if (S_ISDIR(st.st_mode) && newIsDir) return true;
  auto r = removeTreeAt(parentFd, name);
  if (!r) return r.error();
  return false;
}

void applyXattrs(archive_entry* e, int fd, const std::string& entry) {
  archive_entry_xattr_reset(e);
  const char* name;
  const void* value;
  size_t size;
  while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
    std::string n = name;
    if (n.rfind("trusted.", 0) == 0) continue;  // could forge overlayfs metadata
    if (::fsetxattr(fd, name, value, size, 0) != 0) {
      logDebug("layer xattr not applied", {{"entry", entry}, {"xattr", n}});
    }
  }
}

struct PendingDir {
  std::vector<std::string> comps;
  mode_t mode;
  struct timespec mtime;
};

struct PendingLink {
  std::vector<std::string> comps;  // of the link itself
  std::string target;
  std::string entry;
};

// True when following `target` from the link's directory climbs above the root,
// expanding symlinks of the unpacked layer on the way.
bool symlinkEscapes(int rootFd, const PendingLink& link) {
  if (!link.target.empty() && link.target[0] == '/') return false;  // resolves in the root
  std::vector<std::string> stack(link.comps.begin(), link.comps.end() - 1);
  std::deque<std::string> pending;
  auto push = [&](const std::string& path) {
    std::deque<std::string> parts;
    size_t i = 0;
    while (i <= path.size()) {
      size_t j = path.find('/', i);
      if (j == std::string::npos) j = path.size();
      parts.push_back(path.substr(i, j - i));
      i = j + 1;
    }
    pending.insert(pending.begin(), parts.begin(), parts.end());
  };
  push(link.target);
  int hops = 0;
  while (!pending.empty()) {
    std::string c = pending.front();
    pending.pop_front();
    if (c.empty() || c == ".") continue;
    if (c == "..") {
      if (stack.empty()) return true;
      stack.pop_back();
      continue;
    }
    stack.push_back(c);
    auto parent = openDir(rootFd, stack, stack.size() - 1, "", false);
    if (!parent) continue;  // missing: a plain name from here on
    char buf[4096];
    ssize_t n = ::readlinkat(parent->get(), c.c_str(), buf, sizeof buf);
    if (n < 0) continue;
    if (++hops > 40) return true;  // a loop: refuse rather than guess
    stack.pop_back();
    std::string target(buf, n);
    if (!target.empty() && target[0] == '/') stack.clear();
    push(target);
  }
  return false;
}

Status writeData(archive* a, int fd, const std::string& entry, int64_t size) {
  for (;;) {
    const void* buf;
    size_t len;
    la_int64_t offset;
    int r = archive_read_data_block(a, &buf, &len, &offset);
    if (r == ARCHIVE_EOF) break;
    if (r != ARCHIVE_OK) {
      const char* msg = archive_error_string(a);
      return makeError(Code::kBadRequest,
                       "read layer entry \"" + entry + "\": " + (msg ? msg : "read error"));
    }
    const char* p = static_cast<const char*>(buf);
    while (len > 0) {
      ssize_t n = ::pwrite(fd, p, len, offset);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return sysError("write", entry, errno);
      p += n;
      len -= n;
      offset += n;
    }
  }
  if (::ftruncate(fd, size) != 0) return sysError("truncate", entry, errno);
  return {};
}

Status unpackEntries(archive* tar, int rootFd) {
  const bool root = ::geteuid() == 0;
  std::vector<PendingDir> dirs;
  std::vector<PendingLink> links;
  archive_entry* e = nullptr;
  for (;;) {
    int r = archive_read_next_header(tar, &e);
    if (r == ARCHIVE_EOF) break;
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
      const char* msg = archive_error_string(tar);
      return makeError(Code::kBadRequest, std::string("read layer: ") + (msg ? msg : "bad tar"));
    }
    const char* rawName = archive_entry_pathname(e);
    if (!rawName) return makeError(Code::kBadRequest, "read layer: entry without a name");
    const std::string name = rawName;
    auto comps = components(name, name, "path");
    if (!comps) return comps.error();
    if (comps->empty()) continue;  // the root itself
    const std::string base = comps->back();
    const size_t n = comps->size();
    const uid_t uid = archive_entry_uid(e);
    const gid_t gid = archive_entry_gid(e);
    const mode_t mode = archive_entry_perm(e) & 07777;
    struct timespec times[2] = {{archive_entry_mtime(e), archive_entry_mtime_nsec(e)},
                                {archive_entry_mtime(e), archive_entry_mtime_nsec(e)}};

    if (base.rfind(".wh.", 0) == 0) {
      if (base == ".wh..wh..opq") {
        auto dir = openDir(rootFd, *comps, n - 1, name, true);
        if (!dir) return dir.error();
        if (::fsetxattr(dir->get(), "trusted.overlay.opaque", "y", 1, 0) != 0) {
          return sysError("set trusted.overlay.opaque on", join(*comps, n - 1), errno);
        }
        continue;
      }
      if (base.rfind(".wh..wh.", 0) == 0) continue;  // aufs bookkeeping
      std::string hidden = base.substr(4);
      if (hidden.empty() || hidden == "." || hidden == "..") {
        return refuse(name, "invalid whiteout name");
      }
      auto parent = openDir(rootFd, *comps, n - 1, name, true);
      if (!parent) return parent.error();
      auto cleared = clearFor(parent->get(), hidden, false);
      if (!cleared) return cleared.error();
      if (::mknodat(parent->get(), hidden.c_str(), S_IFCHR, makedev(0, 0)) != 0) {
        return sysError("create whiteout", join(*comps, n - 1) + "/" + hidden, errno);
      }
      continue;
    }

    auto parent = openDir(rootFd, *comps, n - 1, name, true);
    if (!parent) return parent.error();
    const int pfd = parent->get();

    if (const char* hl = archive_entry_hardlink(e)) {
      const std::string target = hl;
      auto tcomps = components(target, name, "hardlink target \"" + target + "\"");
      if (!tcomps) {
        return refuse(name, "hardlink target \"" + target + "\" escapes the layer root");
      }
      if (tcomps->empty()) return refuse(name, "hardlink to the layer root");
      if (*tcomps == *comps) continue;
      auto tparent = openDir(rootFd, *tcomps, tcomps->size() - 1, name, false);
      if (!tparent) return tparent.error();
      struct stat st;
      if (::fstatat(tparent->get(), tcomps->back().c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        return refuse(name, "hardlink target \"" + target + "\" not found in the layer");
      }
      if (S_ISDIR(st.st_mode)) return refuse(name, "hardlink to a directory");
      auto cleared = clearFor(pfd, base, false);
      if (!cleared) return cleared.error();
      if (::linkat(tparent->get(), tcomps->back().c_str(), pfd, base.c_str(), 0) != 0) {
        return sysError("link", name, errno);
      }
      continue;
    }

    switch (archive_entry_filetype(e)) {
      case AE_IFDIR: {
        auto kept = clearFor(pfd, base, true);
        if (!kept) return kept.error();
        if (!*kept && ::mkdirat(pfd, base.c_str(), 0700) != 0)
          return sysError("mkdir", name, errno);
        Fd d(::openat(pfd, base.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!d.valid()) return sysError("open", name, errno);
        if (root && ::fchown(d.get(), uid, gid) != 0) return sysError("chown", name, errno);
        applyXattrs(e, d.get(), name);
        dirs.push_back({*comps, mode, times[1]});
        break;
      }
      case AE_IFREG: {
        auto cleared = clearFor(pfd, base, false);
        if (!cleared) return cleared.error();
        Fd f(::openat(pfd, base.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                      0600));
        if (!f.valid()) return sysError("create", name, errno);
        auto w = writeData(tar, f.get(), name, archive_entry_size(e));
        if (!w) return w;
        if (root && ::fchown(f.get(), uid, gid) != 0) return sysError("chown", name, errno);
        if (::fchmod(f.get(), mode) != 0) return sysError("chmod", name, errno);
        applyXattrs(e, f.get(), name);
        if (::futimens(f.get(), times) != 0) return sysError("set times", name, errno);
        break;
      }
      case AE_IFLNK: {
        const char* t = archive_entry_symlink(e);
        if (!t || !*t) return refuse(name, "symlink without a target");
        auto cleared = clearFor(pfd, base, false);
        if (!cleared) return cleared.error();
        if (::symlinkat(t, pfd, base.c_str()) != 0) return sysError("symlink", name, errno);
        if (root && ::fchownat(pfd, base.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW) != 0) {
          return sysError("chown", name, errno);
        }
        ::utimensat(pfd, base.c_str(), times, AT_SYMLINK_NOFOLLOW);
        links.push_back({*comps, t, name});
        break;
      }
      case AE_IFIFO: {
        auto cleared = clearFor(pfd, base, false);
        if (!cleared) return cleared.error();
        if (::mkfifoat(pfd, base.c_str(), mode) != 0) return sysError("mkfifo", name, errno);
        if (root && ::fchownat(pfd, base.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW) != 0) {
          return sysError("chown", name, errno);
        }
        ::utimensat(pfd, base.c_str(), times, AT_SYMLINK_NOFOLLOW);
        break;
      }
      case AE_IFCHR:
      case AE_IFBLK:
        return refuse(name, "device nodes are not allowed in image layers");
      case AE_IFSOCK:
        break;  // sockets are not archived content
      default:
        return refuse(name, "unsupported entry type");
    }
  }
  for (const auto& link : links) {
    if (symlinkEscapes(rootFd, link)) {
      return refuse(link.entry, "symlink target \"" + link.target + "\" escapes the layer root");
    }
  }
  // Directory modes and times last: creating children changes a directory's mtime.
  for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) {
    auto d = openDir(rootFd, it->comps, it->comps.size(), "", false);
    if (!d) continue;  // replaced by a later entry
    if (::fchmod(d->get(), it->mode) != 0)
      return sysError("chmod", join(it->comps, it->comps.size()), errno);
    struct timespec t[2] = {it->mtime, it->mtime};
    ::futimens(d->get(), t);
  }
  return {};
}

}  // namespace

Result<LayerInfo> unpackLayer(const std::string& blobPath, const std::string& destDir) {
  RawStream raw;
  if (auto s = openRaw(raw, blobPath); !s) return s.error();
  Fd rootFd(::open(destDir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!rootFd.valid()) return sysError("open", destDir, errno);
  archive* tar = archive_read_new();
  archive_read_support_format_tar(tar);
  archive_read_support_format_gnutar(tar);
  Status st;
  if (archive_read_open(tar, &raw, nullptr, pullCallback, nullptr) != ARCHIVE_OK) {
    const char* msg = archive_error_string(tar);
    st = makeError(Code::kBadRequest, std::string("read layer: ") + (msg ? msg : "not a tar"));
  } else {
    st = unpackEntries(tar, rootFd.get());
  }
  archive_read_free(tar);
  if (!st) {
    // A read error inside the pull callback is the more useful message.
    if (!raw.error.empty() && st.error().message.find(raw.error) == std::string::npos) {
      return makeError(Code::kBadRequest, "read layer: " + raw.error);
    }
    return st.error();
  }
  if (auto d = drain(raw); !d) return d.error();
  return LayerInfo{raw.hash.digest(), raw.size};
}

Result<LayerInfo> hashLayer(const std::string& blobPath) {
  RawStream raw;
  if (auto s = openRaw(raw, blobPath); !s) return s.error();
  if (auto d = drain(raw); !d) return d.error();
  return LayerInfo{raw.hash.digest(), raw.size};
}

}  // namespace skiff::kubelet::images_detail
