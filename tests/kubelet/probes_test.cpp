#include "kubelet/probes.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

#include "tests/kubelet/fake_runtime.h"
#include "tests/test_util.h"

using namespace skiff::kubelet;
using skiff::api::Json;
using skiff::kubelet::testing::FakeRuntime;

namespace {

using TimePoint = std::chrono::system_clock::time_point;
const TimePoint kT0 = std::chrono::system_clock::from_time_t(1800000000);
TimePoint at(int s) {
  return kT0 + std::chrono::seconds(s);
}

// A loopback server answering each connection with one fixed HTTP response.
class TinyServer {
 public:
  explicit TinyServer(std::string response) : response_(std::move(response)) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    socklen_t len = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    listen(fd_, 8);
    thread_ = std::thread([this] {
      while (true) {
        int c = accept(fd_, nullptr, nullptr);
        if (c < 0 || stop_) {
          if (c >= 0) close(c);
          return;
        }
        char buf[4096];
        ssize_t n = read(c, buf, sizeof buf);
        if (n > 0) request_.assign(buf, static_cast<size_t>(n));
        (void)!write(c, response_.data(), response_.size());
        close(c);
      }
    });
  }
  ~TinyServer() {
    stop_ = true;
    shutdown(fd_, SHUT_RDWR);
    // Wake accept() with one last connection.
    int c = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(port_));
    connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a);
    close(c);
    thread_.join();
    close(fd_);
  }
  int port() const { return port_; }
  std::string request() const { return request_; }

 private:
  std::string response_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::string request_;
  std::thread thread_;
};

}  // namespace

TEST_CASE("parseProbe: Kubernetes' defaults, handlers and named ports", "[probes]") {
  Json c = Json::parse(R"J({
    "name": "web",
    "ports": [{"name": "http", "containerPort": 8080}],
    "readinessProbe": {"httpGet": {"port": "http", "path": "healthz",
                                   "httpHeaders": [{"name": "X-A", "value": "b"}]}},
    "livenessProbe": {"tcpSocket": {"port": 8080}, "initialDelaySeconds": 3, "periodSeconds": 5,
                      "timeoutSeconds": 2, "failureThreshold": 1},
    "startupProbe": {"exec": {"command": ["cat", "/ready"]}, "successThreshold": 1}
  })J");
  auto r = parseProbe(c, ProbeKind::kReadiness);
  REQUIRE(r);
  REQUIRE(*r);
  CHECK((*r)->handler == ProbeSpec::Handler::kHttpGet);
  CHECK((*r)->port == 8080);
  CHECK((*r)->path == "/healthz");
  CHECK((*r)->scheme == "HTTP");
  CHECK((*r)->headers == std::vector<std::pair<std::string, std::string>>{{"X-A", "b"}});
  CHECK((*r)->period == std::chrono::seconds(10));
  CHECK((*r)->timeout == std::chrono::seconds(1));
  CHECK((*r)->successThreshold == 1);
  CHECK((*r)->failureThreshold == 3);
  auto l = parseProbe(c, ProbeKind::kLiveness);
  REQUIRE((l && *l));
  CHECK((*l)->handler == ProbeSpec::Handler::kTcpSocket);
  CHECK((*l)->initialDelay == std::chrono::seconds(3));
  CHECK((*l)->period == std::chrono::seconds(5));
  CHECK((*l)->timeout == std::chrono::seconds(2));
  CHECK((*l)->failureThreshold == 1);
  auto s = parseProbe(c, ProbeKind::kStartup);
  REQUIRE((s && *s));
  CHECK((*s)->command == std::vector<std::string>{"cat", "/ready"});

  auto none = parseProbe(Json{{"name", "x"}}, ProbeKind::kLiveness);
  REQUIRE(none);
  CHECK_FALSE(*none);
  auto badPort =
      parseProbe(Json::parse(R"J({"name":"x","livenessProbe":{"httpGet":{"port":"web"}}})J"),
                 ProbeKind::kLiveness);
  REQUIRE_FALSE(badPort);
  CHECK(badPort.error().message ==
        "livenessProbe of container x: couldn't find port: web in container x");
  auto grpc = parseProbe(Json::parse(R"J({"name":"x","livenessProbe":{"grpc":{"port":1}}})J"),
                         ProbeKind::kLiveness);
  CHECK_FALSE(grpc);
}

TEST_CASE("ProbeTracker: initial results, initial delay, period and thresholds", "[probes]") {
  ProbeSpec spec;
  spec.initialDelay = std::chrono::seconds(5);
  spec.period = std::chrono::seconds(2);
  spec.failureThreshold = 3;
  spec.successThreshold = 2;

  ProbeTracker readiness(ProbeKind::kReadiness, spec, at(0));
  CHECK(readiness.result() == ProbeResult::kFailure);
  CHECK_FALSE(readiness.due(at(4)));
  CHECK(readiness.due(at(5)));
  CHECK(readiness.record(true, at(5)) == ProbeResult::kFailure);  // 1 of 2 successes
  CHECK(readiness.nextRun() == at(7));
  CHECK(readiness.record(true, at(7)) == ProbeResult::kSuccess);
  CHECK(readiness.record(false, at(9)) == ProbeResult::kSuccess);
  CHECK(readiness.record(false, at(11)) == ProbeResult::kSuccess);
  CHECK(readiness.record(true, at(13)) == ProbeResult::kSuccess);  // a success resets the run
  CHECK(readiness.record(false, at(15)) == ProbeResult::kSuccess);
  CHECK(readiness.record(false, at(17)) == ProbeResult::kSuccess);
  CHECK(readiness.record(false, at(19)) == ProbeResult::kFailure);  // 3 in a row

  ProbeTracker liveness(ProbeKind::kLiveness, spec, at(0));
  CHECK(liveness.result() == ProbeResult::kSuccess);
  ProbeTracker startup(ProbeKind::kStartup, spec, at(0));
  CHECK(startup.result() == ProbeResult::kUnknown);
  startup.record(false, at(5));
  startup.record(false, at(7));
  CHECK(startup.result() == ProbeResult::kUnknown);
  CHECK(startup.record(false, at(9)) == ProbeResult::kFailure);
}

TEST_CASE("runProbe: exec through the runtime", "[probes]") {
  FakeRuntime rt;
  ContainerConfig cc;
  cc.podUid = "u";
  cc.name = "c";
  SandboxConfig sc;
  sc.podUid = "u";
  auto sb = rt.ensureSandbox(sc);
  REQUIRE(sb);
  REQUIRE(rt.startContainer(cc, *sb));
  ProbeSpec spec;
  spec.command = {"check"};
  CHECK(runProbe(spec, rt, "u_c_0", "").success);
  rt.execExit("check", 1);
  auto o = runProbe(spec, rt, "u_c_0", "");
  CHECK_FALSE(o.success);
  CHECK(o.message.find("exited 1") != std::string::npos);
  CHECK(rt.called("exec u_c_0 check"));
  CHECK_FALSE(runProbe(spec, rt, "u_c_9", "").success);  // no such container
}

TEST_CASE("runProbe: httpGet counts 200-399 as success, sends path and headers", "[probes]") {
  ProbeSpec spec;
  spec.handler = ProbeSpec::Handler::kHttpGet;
  spec.path = "/healthz";
  spec.headers = {{"X-Probe", "yes"}};
  FakeRuntime rt;  // not used by network probes
  {
    TinyServer ok("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
    spec.port = ok.port();
    CHECK(runProbe(spec, rt, "", "127.0.0.1").success);
    CHECK(ok.request().rfind("GET /healthz HTTP/1.1\r\n", 0) == 0);
    CHECK(ok.request().find("X-Probe: yes") != std::string::npos);
    CHECK(ok.request().find("User-Agent: kube-probe/") != std::string::npos);
  }
  {
    TinyServer redirect("HTTP/1.1 302 Found\r\nLocation: /x\r\nContent-Length: 0\r\n\r\n");
    spec.port = redirect.port();
    CHECK(runProbe(spec, rt, "", "127.0.0.1").success);
  }
  {
    TinyServer bad("HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n");
    spec.port = bad.port();
    auto o = runProbe(spec, rt, "", "127.0.0.1");
    CHECK_FALSE(o.success);
    CHECK(o.message == "HTTP probe failed with statuscode: 500");
  }
  spec.port = skiff::testing::unusedLoopbackPort();
  CHECK_FALSE(runProbe(spec, rt, "", "127.0.0.1").success);
}

TEST_CASE("runProbe: tcpSocket succeeds when the port accepts", "[probes]") {
  ProbeSpec spec;
  spec.handler = ProbeSpec::Handler::kTcpSocket;
  FakeRuntime rt;
  TinyServer server("");
  spec.port = server.port();
  CHECK(runProbe(spec, rt, "", "127.0.0.1").success);
  spec.port = skiff::testing::unusedLoopbackPort();
  auto o = runProbe(spec, rt, "", "127.0.0.1");
  CHECK_FALSE(o.success);
  CHECK(o.message.find("connection refused") != std::string::npos);
}
