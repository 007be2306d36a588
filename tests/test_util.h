// Small helpers that unit tests in more than one folder share: a temporary
// directory, a file's mode, a shell command's output, polling for a state.
// Failures to set up stop the test with a Catch2 REQUIRE.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <system_error>
#include <thread>
#include <utility>

namespace skiff::testing {

// A new empty directory /tmp/skiff-<name>-XXXXXX; the test removes it.
inline std::string makeTempDir(const std::string& name) {
  std::string tmpl = "/tmp/skiff-" + name + "-XXXXXX";
  REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
  return tmpl;
}

// makeTempDir's directory, removed with whatever the test left in it when the
// object goes, the test failed or not.
struct ScopedTempDir {
  explicit ScopedTempDir(const std::string& name = "test") : path(makeTempDir(name)) {}
  ~ScopedTempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  ScopedTempDir(const ScopedTempDir&) = delete;
  ScopedTempDir& operator=(const ScopedTempDir&) = delete;
  const std::string path;
};

// A 127.0.0.1 port nothing listens on: bound (SOCK_STREAM or SOCK_DGRAM), then
// closed. Another process may take it meanwhile; tests use it at once.
inline int unusedLoopbackPort(int type = SOCK_STREAM) {
  int fd = ::socket(AF_INET, type, 0);
  REQUIRE(fd >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// The permission bits (0777) of an existing file.
inline unsigned modeOf(const std::string& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 0777;
}

// Runs `cmd` with sh; returns (exit status, or -1 when it did not exit, and
// its stdout and stderr together).
inline std::pair<int, std::string> runCommand(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  REQUIRE(p != nullptr);
  std::array<char, 4096> buf;
  size_t n;
  while ((n = ::fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  int status = ::pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

// Polls pred() `polls` times, `every` apart, and once more at the end: true as
// soon as it holds. The defaults wait about 20 s, for a controller loop.
inline bool eventually(const std::function<bool()>& pred, int polls = 2000,
                       std::chrono::milliseconds every = std::chrono::milliseconds(10)) {
  for (int i = 0; i < polls; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(every);
  }
  return pred();
}

}  // namespace skiff::testing
