// Network helpers shared by the data-path benchmarks (bench_datapath.cpp,
// bench_first_conn.cpp): a private network namespace held by a file
// descriptor, a TCP server running inside one, and timed TCP connects.
//
// Namespaces here are never named (no /run/netns entry, no bind mount): a
// namespace lives while its fd is open or a thread or process is inside it,
// so whatever a benchmark builds inside one (links, addresses, nft tables,
// iptables rules) disappears with the benchmark, even when it is killed.
//
// Connections are closed with an RST (SO_LINGER 0) by the client, so no side
// keeps a TIME_WAIT socket: a connect loop can run for seconds without running
// out of source ports or colliding with the 4-tuple of an earlier connection
// (see /work/shared/notes/machine.md on TIME_WAIT in benchmarks).
//
// Header only. Thread-safety: AcceptServer's methods from one thread; the free
// functions from any thread.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <future>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "base/result.h"

namespace skiff::bench {

inline Error errnoError(const std::string& what) {
  return makeError(Code::kInternal, what + ": " + std::strerror(errno));
}

// A new, empty network namespace (only `lo`, down), as an O_CLOEXEC fd. Made
// by a short-lived thread, so the caller's own namespace does not change.
inline Result<int> newNetns() {
  auto made = std::async(std::launch::async, []() -> Result<int> {
    if (::unshare(CLONE_NEWNET) != 0) return errnoError("unshare(CLONE_NEWNET)");
    int fd = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errnoError("open /proc/thread-self/ns/net");
    return fd;
  });
  return made.get();
}

// "/proc/self/fd/N": a path to the namespace behind fd N, for functions that
// take a path (kubelet::inNetns).
inline std::string netnsPath(int fd) {
  return "/proc/self/fd/" + std::to_string(fd);
}

inline bool parseV4(const std::string& ip, int port, sockaddr_in& sa) {
  std::memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  return ::inet_pton(AF_INET, ip.c_str(), &sa.sin_addr) == 1;
}

// Closes fd with an RST: no TIME_WAIT on either side.
inline void resetClose(int fd) {
  linger l{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  ::close(fd);
}

// Connects to ip:port, then (greeting) reads the server's one-byte greeting, so
// the connection provably reached the server and not only a proxy in between.
// Returns the connected socket (the caller closes it) or -1; `micros` gets the
// connect() time (SYN -> established) when given. Blocks at most timeoutMs.
inline int connectTimed(const std::string& ip, int port, bool greeting, int timeoutMs,
                        double* micros = nullptr) {
  sockaddr_in sa;
  if (!parseV4(ip, port, sa)) return -1;
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  timeval tv{timeoutMs / 1000, (timeoutMs % 1000) * 1000};
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);  // bounds connect()
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  auto t0 = std::chrono::steady_clock::now();
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    ::close(fd);
    return -1;
  }
  if (micros)
    *micros =
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
  if (greeting) {
    char c;
    if (::recv(fd, &c, 1, 0) != 1) {
      resetClose(fd);
      return -1;
    }
  }
  return fd;
}

// New TCP connections per second to ip:port from one client for `seconds`:
// connect, read the greeting, close with an RST; repeat. Failed attempts are
// counted in *failures and not in the rate.
inline double connectionsPerSecond(const std::string& ip, int port, double seconds,
                                   long* failures = nullptr, long* count = nullptr) {
  long ok = 0, failed = 0;
  auto t0 = std::chrono::steady_clock::now();
  auto end = t0 + std::chrono::duration<double>(seconds);
  auto now = t0;
  while ((now = std::chrono::steady_clock::now()) < end) {
    int fd = connectTimed(ip, port, true, 2000);
    if (fd < 0) {
      ++failed;
      continue;
    }
    resetClose(fd);
    ++ok;
  }
  if (failures) *failures = failed;
  if (count) *count = ok;
  return ok / std::chrono::duration<double>(now - t0).count();
}

// A TCP server on 0.0.0.0 (the given ports) on its own thread, optionally
// inside another network namespace. Each accepted connection gets a one-byte
// greeting (when `greet`) and is closed once the client closes or resets it;
// without `greet` it is closed at once. Stops and joins when destroyed.
class AcceptServer {
 public:
  // netnsFd < 0: the caller's namespace. kInternal when a port cannot be bound.
  static Result<std::unique_ptr<AcceptServer>> start(const std::vector<int>& ports, int netnsFd,
                                                     bool greet) {
    std::unique_ptr<AcceptServer> s(new AcceptServer());
    s->stopFd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (s->stopFd_ < 0) return errnoError("eventfd");
    std::promise<Status> ready;
    auto started = ready.get_future();
    s->thread_ = std::thread(
        // The thread owns the promise: it may still be inside set_value()
        // when the future wakes this one.
        [srv = s.get(), ports, netnsFd, greet, ready = std::move(ready)]() mutable {
          srv->run(ports, netnsFd, greet, ready);
        });
    Status st = started.get();
    if (!st.ok()) return st.error();
    return s;
  }
  ~AcceptServer() {
    uint64_t one = 1;
    if (::write(stopFd_, &one, sizeof one) < 0) {
    }
    if (thread_.joinable()) thread_.join();
    ::close(stopFd_);
  }
  AcceptServer(const AcceptServer&) = delete;
  AcceptServer& operator=(const AcceptServer&) = delete;

  uint64_t accepted() const { return accepted_.load(); }

 private:
  AcceptServer() = default;

  void run(const std::vector<int>& ports, int netnsFd, bool greet, std::promise<Status>& ready) {
    if (netnsFd >= 0 && ::setns(netnsFd, CLONE_NEWNET) != 0) {
      ready.set_value(errnoError("setns"));
      return;
    }
    int ep = ::epoll_create1(EPOLL_CLOEXEC);
    std::vector<int> listeners;
    auto fail = [&](const std::string& what) {
      Error e = errnoError(what);
      for (int l : listeners) ::close(l);
      if (ep >= 0) ::close(ep);
      ready.set_value(e);
    };
    if (ep < 0) return fail("epoll_create1");
    for (int port : ports) {
      int l = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (l < 0) return fail("socket");
      listeners.push_back(l);
      int one = 1;
      ::setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      sockaddr_in sa;
      parseV4("0.0.0.0", port, sa);
      if (::bind(l, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0)
        return fail("bind port " + std::to_string(port));
      if (::listen(l, 4096) != 0) return fail("listen");
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.fd = l;
      ::epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev);
    }
    epoll_event stopEv{};
    stopEv.events = EPOLLIN;
    stopEv.data.fd = stopFd_;
    ::epoll_ctl(ep, EPOLL_CTL_ADD, stopFd_, &stopEv);
    ready.set_value(Status{});
    std::set<int> conns;
    std::vector<epoll_event> evs(256);
    for (bool stop = false; !stop;) {
      int n = ::epoll_wait(ep, evs.data(), static_cast<int>(evs.size()), -1);
      for (int i = 0; i < n; ++i) {
        int fd = evs[i].data.fd;
        if (fd == stopFd_) {
          stop = true;
        } else if (std::find(listeners.begin(), listeners.end(), fd) != listeners.end()) {
          for (;;) {
            int c = ::accept4(fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (c < 0) break;
            accepted_++;
            if (!greet || ::send(c, "x", 1, MSG_NOSIGNAL) != 1) {
              ::close(c);
              continue;
            }
            epoll_event ev{};
            ev.events = EPOLLIN | EPOLLRDHUP;
            ev.data.fd = c;
            if (::epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev) != 0)
              ::close(c);
            else
              conns.insert(c);
          }
        } else {
          char buf[256];
          ssize_t r = ::recv(fd, buf, sizeof buf, 0);
          if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
            conns.erase(fd);
            ::close(fd);
          }
        }
      }
    }
    for (int c : conns) ::close(c);
    for (int l : listeners) ::close(l);
    ::close(ep);
  }

  int stopFd_ = -1;
  std::thread thread_;
  std::atomic<uint64_t> accepted_{0};
};

}  // namespace skiff::bench
