#include "netproxy/health_server.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "api/json.h"
#include "base/log.h"
#include "base/thread.h"

namespace skiff::netproxy {
namespace {

int listenOn(int port, std::string* error) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    *error = std::strerror(errno);
    return -1;
  }
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_ANY);
  a.sin_port = htons(uint16_t(port));
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(fd, 64) != 0) {
    *error = std::strerror(errno);
    close(fd);
    return -1;
  }
  return fd;
}

void wake(int fd) {
  if (fd < 0) return;
  char c = 1;
  ssize_t n = write(fd, &c, 1);
  (void)n;  // a full pipe already wakes the poll
}

}  // namespace

std::string healthCheckResponse(const HealthService& s, bool proxyHealthy) {
  // kube-proxy's text, tabs and all (a JSON-encoded string is Go's %q here:
  // names are DNS labels).
  std::string body = "{\n\t\"service\": {\n\t\t\"namespace\": " + api::Json(s.ns).dump() +
                     ",\n\t\t\"name\": " + api::Json(s.name).dump() +
                     "\n\t},\n\t\"localEndpoints\": " + std::to_string(s.localEndpoints) +
                     ",\n\t\"serviceProxyHealthy\": " + (proxyHealthy ? "true" : "false") + "\n}";
  bool ok = s.localEndpoints > 0 && proxyHealthy;
  return std::string(ok ? "HTTP/1.1 200 OK\r\n" : "HTTP/1.1 503 Service Unavailable\r\n") +
         "Content-Type: application/json\r\nX-Content-Type-Options: nosniff\r\n"
         "X-Load-Balancing-Endpoint-Weight: " +
         std::to_string(s.localEndpoints) + "\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\n\r\n" + body;
}

HealthServer::HealthServer() = default;

HealthServer::~HealthServer() {
  stop();
}

void HealthServer::update(std::map<int, HealthService> byPort, bool proxyHealthy) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stopping_) return;
  if (byPort == services_ && proxyHealthy == healthy_ && (thread_.joinable() || byPort.empty()))
    return;
  services_ = std::move(byPort);
  healthy_ = proxyHealthy;
  if (!thread_.joinable()) {
    if (services_.empty()) return;
    if (pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) {
      logWarn("netproxy health checks: no pipe", {{"error", std::strerror(errno)}});
      return;
    }
    thread_ = std::thread([this] { run(); });
  }
  wake(wake_[1]);
}

void HealthServer::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    wake(wake_[1]);
  }
  if (thread_.joinable()) thread_.join();
  for (int& fd : wake_) {
    if (fd >= 0) close(fd);
    fd = -1;
  }
}

std::set<int> HealthServer::listening() const {
  std::lock_guard<std::mutex> lock(mu_);
  return listening_;
}

void HealthServer::reconcile(std::map<int, int>& listeners) {
  std::set<int> wanted;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [port, _] : services_) wanted.insert(port);
  }
  for (auto it = listeners.begin(); it != listeners.end();) {
    if (wanted.count(it->first)) {
      ++it;
      continue;
    }
    close(it->second);
    it = listeners.erase(it);
  }
  for (int port : wanted) {
    if (listeners.count(port)) continue;
    std::string error;
    int fd = listenOn(port, &error);
    if (fd < 0) {
      logWarn("netproxy health checks: cannot listen",
              {{"port", std::to_string(port)}, {"error", error}});
      continue;
    }
    listeners[port] = fd;
  }
  std::lock_guard<std::mutex> lock(mu_);
  listening_.clear();
  for (const auto& [port, _] : listeners) listening_.insert(port);
}

void HealthServer::run() {
  nameThisThread("health-checks");
  std::map<int, int> listeners;  // port -> fd
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) break;
    }
    reconcile(listeners);
    std::vector<pollfd> fds;
    std::vector<int> ports;
    fds.push_back({wake_[0], POLLIN, 0});
    for (const auto& [port, fd] : listeners) {
      fds.push_back({fd, POLLIN, 0});
      ports.push_back(port);
    }
    if (poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR) {
      logWarn("netproxy health checks: poll failed", {{"error", std::strerror(errno)}});
      break;
    }
    if (fds[0].revents) {
      char buf[64];
      while (read(wake_[0], buf, sizeof buf) > 0) {
      }
    }
    for (size_t i = 1; i < fds.size(); ++i) {
      if (!(fds[i].revents & POLLIN)) continue;
      int conn = accept4(fds[i].fd, nullptr, nullptr, SOCK_CLOEXEC);
      if (conn >= 0) answer(conn, ports[i - 1]);
    }
  }
  for (const auto& [port, fd] : listeners) close(fd);
  std::lock_guard<std::mutex> lock(mu_);
  listening_.clear();
}

void HealthServer::answer(int fd, int port) {
  timeval timeout{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  // Read the request head (its content does not matter), at most 8 KiB.
  std::string request;
  char buf[2048];
  while (request.size() < 8192 && request.find("\r\n\r\n") == std::string::npos) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    request.append(buf, size_t(n));
  }
  std::string response;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = services_.find(port);
    if (it != services_.end()) response = healthCheckResponse(it->second, healthy_);
  }
  size_t off = 0;
  while (off < response.size()) {
    ssize_t n = send(fd, response.data() + off, response.size() - off, MSG_NOSIGNAL);
    if (n <= 0) break;
    off += size_t(n);
  }
  close(fd);
}

}  // namespace skiff::netproxy
