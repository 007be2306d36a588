// LoadBalancer health checks: kube-proxy's answer, and a real server on
// loopback ports following update().
#include "netproxy/health_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

#include "tests/test_util.h"

using namespace skiff::netproxy;

namespace {

// GET / on 127.0.0.1:port: the whole answer, or "refused".
std::string ask(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(uint16_t(port));
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return "refused";
  }
  std::string req = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  (void)!write(fd, req.data(), req.size());
  std::string out;
  char buf[1024];
  for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) out.append(buf, size_t(n));
  close(fd);
  return out;
}

// Retries `ask` until `pred` holds (the server reconciles on its own thread).
template <typename Pred>
std::string askUntil(int port, Pred pred) {
  std::string out;
  for (int i = 0; i < 200; ++i) {
    out = ask(port);
    if (pred(out)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return out;
}

}  // namespace

TEST_CASE("the health check answer is kube-proxy's", "[health]") {
  std::string ok = healthCheckResponse({"default", "web", 2}, true);
  CHECK(ok ==
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Content-Type-Options: nosniff\r\n"
        "X-Load-Balancing-Endpoint-Weight: 2\r\nContent-Length: 114\r\nConnection: close\r\n\r\n"
        "{\n\t\"service\": {\n\t\t\"namespace\": \"default\",\n\t\t\"name\": \"web\"\n\t},\n"
        "\t\"localEndpoints\": 2,\n\t\"serviceProxyHealthy\": true\n}");
  CHECK(ok.size() - ok.find("\r\n\r\n") - 4 == 114);
  // No endpoint, or a proxy whose last sync failed: 503.
  CHECK(healthCheckResponse({"default", "web", 0}, true).rfind("HTTP/1.1 503 ", 0) == 0);
  std::string sick = healthCheckResponse({"default", "web", 2}, false);
  CHECK(sick.rfind("HTTP/1.1 503 ", 0) == 0);
  CHECK(sick.find("\"serviceProxyHealthy\": false") != std::string::npos);
}

TEST_CASE("the health check server follows update()", "[health]") {
  HealthServer server;
  int a = skiff::testing::unusedLoopbackPort(), b = skiff::testing::unusedLoopbackPort();
  REQUIRE(a != b);
  server.update({{a, {"default", "web", 3}}, {b, {"shop", "cart", 0}}}, true);
  auto has = [](const char* s) {
    return [s](const std::string& out) { return out.find(s) != std::string::npos; };
  };
  std::string out = askUntil(a, has("200 OK"));
  CHECK(out.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(out.find("\"name\": \"web\"") != std::string::npos);
  CHECK(out.find("\"localEndpoints\": 3") != std::string::npos);
  out = askUntil(b, has("503"));
  CHECK(out.rfind("HTTP/1.1 503 Service Unavailable\r\n", 0) == 0);
  CHECK(out.find("\"namespace\": \"shop\"") != std::string::npos);

  // The endpoints change; then b's Service goes.
  server.update({{a, {"default", "web", 0}}}, true);
  out = askUntil(a, has("503"));
  CHECK(out.find("\"localEndpoints\": 0") != std::string::npos);
  CHECK(askUntil(b, [](const std::string& o) { return o == "refused"; }) == "refused");
  CHECK(server.listening() == std::set<int>{a});

  server.stop();
  CHECK(ask(a) == "refused");
  CHECK(server.listening().empty());
}
