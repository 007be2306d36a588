#include "base/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

namespace skiff {

namespace {

Error stepFailed(const char* step, const std::string& path, int err) {
  return makeError(Code::kInternal, std::string(step) + " " + path + ": " + std::strerror(err));
}

Error tooLarge(const std::string& path, uint64_t size, size_t maxBytes) {
  return makeError(Code::kTooLarge, path + ": file too large (" + std::to_string(size) +
                                        " bytes, limit " + std::to_string(maxBytes) + ")");
}

}  // namespace

Result<std::string> readWholeFile(const std::string& path, size_t maxBytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    Error e = stepFailed("open", path, err);
    if (err == ENOENT) e.code = Code::kNotFound;
    return e;
  }
  struct CloseOnExit {
    int fd;
    ~CloseOnExit() { ::close(fd); }
  } closer{fd};
  // The size is a hint (files in /proc say 0); the read goes to the end.
  struct stat st;
  if (::fstat(fd, &st) != 0) return stepFailed("stat", path, errno);
  if (static_cast<uint64_t>(st.st_size) > maxBytes) return tooLarge(path, st.st_size, maxBytes);
  std::string out;
  out.reserve(static_cast<size_t>(st.st_size));
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return stepFailed("read", path, errno);
    if (n == 0) return out;
    if (static_cast<size_t>(n) > maxBytes - out.size()) {
      return tooLarge(path, out.size() + static_cast<size_t>(n), maxBytes);
    }
    out.append(buf, static_cast<size_t>(n));
  }
}

Status writeFileAtomic(const std::string& path, std::string_view data,
                       const WriteFileOptions& options) {
  // Unique per process and call, so concurrent writers never share one.
  static std::atomic<uint64_t> seq{0};
  std::string tmp = path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(++seq);
  int fd =
      ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, options.mode.value_or(0644));
  if (fd < 0) return stepFailed("create", path, errno);
  // The first step that failed and its errno; every later step is skipped.
  const char* step = nullptr;
  int err = 0;
  auto check = [&](bool ok, const char* what) {
    if (!ok && !step) {
      step = what;
      err = errno;
    }
    return ok;
  };
  if (options.mode) check(::fchmod(fd, *options.mode) == 0, "create");
  for (size_t done = 0; !step && done < data.size();) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (check(n >= 0, "write")) done += static_cast<size_t>(n);
  }
  if (!step && options.durable) check(::fsync(fd) == 0, "fsync");
  ::close(fd);
  if (!step) check(::rename(tmp.c_str(), path.c_str()) == 0, "rename");
  if (step) {
    ::unlink(tmp.c_str());
    return stepFailed(step, path, err);
  }
  if (options.durable) {
    // The rename itself lives in the directory.
    auto slash = path.rfind('/');
    std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
    int d = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (d >= 0) {
      ::fsync(d);
      ::close(d);
    }
  }
  return {};
}

}  // namespace skiff
