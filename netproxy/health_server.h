// Service health checks, as kube-proxy serves them: for every LoadBalancer
// Service with externalTrafficPolicy: Local, an HTTP server on its
// spec.healthCheckNodePort, on every address of the node, that tells a load
// balancer whether this node has endpoints of the Service (so it sends clients
// only to nodes that keep their source address and can serve them).
//
// Any method and path gets
//   200 (some endpoint and netproxy's last sync succeeded) or 503, with
//   Content-Type: application/json, X-Content-Type-Options: nosniff,
//   X-Load-Balancing-Endpoint-Weight: N and kube-proxy's body:
//   {
//   	"service": {
//   		"namespace": "default",
//   		"name": "web"
//   	},
//   	"localEndpoints": 1,
//   	"serviceProxyHealthy": true
//   }
// skiff has one node, so every ready endpoint counts as local.
//
// A port that cannot be bound (another process holds it) is logged and tried
// again at the next update that still lists it.
//
// Threads: one, polling the listeners; it answers each connection in turn with
// a 1 s read and write timeout (health checks are small and rare). update() and
// stop() may be called from any thread.
#pragma once

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>

namespace skiff::netproxy {

struct HealthService {
  std::string ns, name;
  int localEndpoints = 0;
  bool operator==(const HealthService&) const = default;
};

// The whole HTTP response for `service` (pure).
std::string healthCheckResponse(const HealthService& service, bool proxyHealthy);

class HealthServer {
 public:
  HealthServer();
  ~HealthServer();
  HealthServer(const HealthServer&) = delete;
  HealthServer& operator=(const HealthServer&) = delete;

  // Serves exactly these ports from now on (port -> Service), and answers with
  // `proxyHealthy`. Starts the thread on first use.
  void update(std::map<int, HealthService> byPort, bool proxyHealthy);
  // Closes every listener and joins; idempotent.
  void stop();
  // Ports with a bound listener (tests).
  std::set<int> listening() const;

 private:
  void run();
  void reconcile(std::map<int, int>& listeners);
  void answer(int fd, int port);

  mutable std::mutex mu_;
  std::map<int, HealthService> services_;  // guarded by mu_
  bool healthy_ = true;                    // guarded by mu_
  std::set<int> listening_;                // guarded by mu_
  bool stopping_ = false;                  // guarded by mu_
  int wake_[2] = {-1, -1};                 // pipe: update() and stop() wake the poll
  std::thread thread_;
};

}  // namespace skiff::netproxy
