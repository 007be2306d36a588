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

}  // namespace

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
