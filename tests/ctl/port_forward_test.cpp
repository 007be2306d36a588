// pods/portforward without root: a real ApiServer (TLS, on a free loopback
// port), a real KubeletServer over a fake Runtime whose one pod has the host's
// network (no namespace: the kubelet dials the host's 127.0.0.1), an echo
// server here standing in for the pod's port, and the real /usr/bin/kubectl
// port-forward in a child process — over its default WebSocket tunnel and
// over its SPDY fallback. tests/e2e/test_port_forward.sh does the same as
// root against a real pod in its own network namespace.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include "apiserver/server.h"
#include "client/kubeconfig.h"
#include "client/rest_client.h"
#include "kubelet/server.h"
#include "tests/ctl/kubelet_cluster.h"
#include "tests/test_util.h"

extern char** environ;

using namespace skiff;
using api::Json;

namespace {

// One sandbox, with the host's network; nothing else.
class OneSandboxRuntime : public kubelet::Runtime {
 public:
  std::string podUid;

  Result<kubelet::SandboxInfo> ensureSandbox(const kubelet::SandboxConfig&) override {
    return makeError(Code::kInternal, "fake");
  }
  Status removeSandbox(const std::string&) override { return {}; }
  Result<std::vector<kubelet::SandboxInfo>> listSandboxes() override {
    kubelet::SandboxInfo s;
    s.podUid = podUid;  // netnsPath "": the host's network
    return std::vector<kubelet::SandboxInfo>{s};
  }
  Result<kubelet::ContainerStatus> startContainer(const kubelet::ContainerConfig&,
                                                  const kubelet::SandboxInfo&) override {
    return makeError(Code::kInternal, "fake");
  }
  Status stopContainer(const std::string&, std::chrono::seconds) override { return {}; }
  Status removeContainer(const std::string&) override { return {}; }
  Result<kubelet::ContainerStatus> containerStatus(const std::string& id) override {
    return makeError(Code::kNotFound, "no container " + id);
  }
  Result<std::vector<kubelet::ContainerStatus>> listContainers(const std::string&) override {
    return std::vector<kubelet::ContainerStatus>{};
  }
  Result<ExecResult> execSync(const std::string&, const std::vector<std::string>&,
                              std::chrono::milliseconds) override {
    return makeError(Code::kInternal, "fake");
  }
  Result<std::vector<std::string>> execCommand(const std::string&, const std::vector<std::string>&,
                                               bool) override {
    return makeError(Code::kInternal, "fake");
  }
};

// A loopback echo server: each connection gets back what it sent, and EOF
// after the client's EOF.
class EchoServer {
 public:
  EchoServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
    REQUIRE(::listen(fd_, 16) == 0);
    REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&sa), &len) == 0);
    port = ntohs(sa.sin_port);
    thread_ = std::thread([this] {
      for (;;) {
        int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (c < 0) return;
        std::thread([c] {
          char buf[16 * 1024];
          ssize_t n;
          while ((n = ::recv(c, buf, sizeof buf, 0)) > 0)
            if (::send(c, buf, size_t(n), MSG_NOSIGNAL) != n) break;
          ::close(c);
        }).detach();
      }
    });
  }
  ~EchoServer() {
    ::shutdown(fd_, SHUT_RDWR);
    thread_.join();
    ::close(fd_);
  }
  uint16_t port = 0;

 private:
  int fd_ = -1;
  std::thread thread_;
};

struct Cluster : testing::KubeletCluster<OneSandboxRuntime> {
  Cluster() : KubeletCluster("node-pf") {
    Json pod = {{"apiVersion", "v1"},
                {"kind", "Pod"},
                {"metadata", {{"name", "web"}}},
                {"spec",
                 {{"nodeName", "node-pf"},
                  {"containers", Json::array({{{"name", "app"}, {"image", "busybox"}}})}}}};
    auto p = client->post("/api/v1/namespaces/default/pods", pod);
    REQUIRE(p);
    runtime.podUid = (*p)["metadata"]["uid"].get<std::string>();
    (*p)["status"] = {{"phase", "Running"}};  // kubectl refuses pods that are not
    REQUIRE(client->put("/api/v1/namespaces/default/pods/web/status", *p));
  }
};

// `kubectl port-forward pod/web :PORT` in a child, its output in a file.
class Forward {
 public:
  Forward(const Cluster& c, uint16_t remotePort, bool websocket) : out_(c.dir + "/pf.out") {
    std::string target = ":" + std::to_string(remotePort);
    std::vector<std::string> args = {"/usr/bin/kubectl", "--kubeconfig", c.kubeconfig,
                                     "port-forward",     "pod/web",      target};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> env;
    for (char** e = environ; *e; ++e)
      if (std::string(*e).rfind("KUBECTL_PORT_FORWARD_WEBSOCKETS=", 0) != 0) env.push_back(*e);
    if (!websocket) env.push_back("KUBECTL_PORT_FORWARD_WEBSOCKETS=false");
    std::vector<char*> envp;
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    int rc = posix_spawn(&pid_, argv[0], &fa, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&fa);
    REQUIRE(rc == 0);
    // "Forwarding from 127.0.0.1:NNNNN -> PORT"
    std::regex line("Forwarding from 127\\.0\\.0\\.1:([0-9]+) -> " + std::to_string(remotePort));
    for (int i = 0; i < 200 && localPort == 0; ++i) {
      std::smatch m;
      std::string text = output();
      if (std::regex_search(text, m, line)) localPort = uint16_t(std::stoi(m[1]));
      if (localPort == 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    INFO(output());
    REQUIRE(localPort != 0);
  }
  ~Forward() {
    if (pid_ > 0 && !exited_) {
      ::kill(pid_, SIGTERM);
      int status;
      ::waitpid(pid_, &status, 0);
    }
  }
  std::string output() const {
    std::ifstream f(out_);
    return std::string(std::istreambuf_iterator<char>(f), {});
  }
  // True once kubectl exited (within `seconds`), with its exit code.
  bool exited(int seconds, int& code) {
    for (int i = 0; i < seconds * 20; ++i) {
      int status;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        exited_ = true;
        code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }
  uint16_t localPort = 0;

 private:
  std::string out_;
  pid_t pid_ = -1;
  bool exited_ = false;
};

// Connects to 127.0.0.1:port, sends `data`, half-closes, returns all that
// came back before EOF (or what came within 10 s).
std::string roundTrip(uint16_t port, const std::string& data) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
  std::string out;
  std::thread writer([&] {
    std::string_view rest = data;
    while (!rest.empty()) {
      ssize_t n = ::send(fd, rest.data(), rest.size(), MSG_NOSIGNAL);
      if (n <= 0) break;
      rest.remove_prefix(size_t(n));
    }
    ::shutdown(fd, SHUT_WR);
  });
  char buf[16 * 1024];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 10000) != 1) break;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, size_t(n));
  }
  writer.join();
  ::close(fd);
  return out;
}

size_t openFds() {
  size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) (void)e, ++n;
  return n;
}

size_t threads() {
  size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/task")) (void)e, ++n;
  return n;
}

bool haveKubectl() {
  return access("/usr/bin/kubectl", X_OK) == 0;
}

}  // namespace

TEST_CASE("kubectl port-forward: WebSocket tunnel and SPDY fallback, bytes both ways",
          "[port_forward]") {
  if (!haveKubectl()) {
    WARN("kubectl not installed; skipped");
    return;
  }
  Cluster c;
  EchoServer echo;
  std::string big(1 << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = char(i * 7 % 251);
  for (bool websocket : {true, false}) {
    INFO((websocket ? "WebSocket" : "SPDY"));
    Forward f(c, echo.port, websocket);
    CHECK(roundTrip(f.localPort, "hello") == "hello");
    CHECK(roundTrip(f.localPort, big) == big);
    // Connections at once.
    std::vector<std::thread> threads;
    std::atomic<int> good{0};
    for (int i = 0; i < 4; ++i)
      threads.emplace_back([&, i] {
        std::string msg = "connection " + std::to_string(i);
        if (roundTrip(f.localPort, msg) == msg) ++good;
      });
    for (auto& t : threads) t.join();
    CHECK(good == 4);
    INFO(f.output());
    CHECK(f.output().find("Handling connection for " + std::to_string(f.localPort)) !=
          std::string::npos);
    CHECK(f.output().find("rror") == std::string::npos);
  }
}

TEST_CASE("kubectl port-forward: finished connections leave no sockets or threads behind",
          "[port_forward]") {
  if (!haveKubectl()) {
    WARN("kubectl not installed; skipped");
    return;
  }
  Cluster c;
  EchoServer echo;
  Forward f(c, echo.port, true);
  CHECK(roundTrip(f.localPort, "warm-up") == "warm-up");
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  size_t fds = openFds(), tasks = threads();
  for (int i = 0; i < 40; ++i)
    REQUIRE(roundTrip(f.localPort, "n" + std::to_string(i)) == "n" + std::to_string(i));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  // Each connection held a kubelet-side socket and pump thread (and the echo
  // server's); a few of the last may wait for the session's next frame.
  CHECK(openFds() <= fds + 4);
  CHECK(threads() <= tasks + 4);
}

TEST_CASE("kubectl port-forward: a port where nothing listens", "[port_forward]") {
  if (!haveKubectl()) {
    WARN("kubectl not installed; skipped");
    return;
  }
  Cluster c;
  uint16_t closed;
  {
    EchoServer gone;  // a port that was free a moment ago
    closed = gone.port;
  }
  Forward f(c, closed, true);
  CHECK(roundTrip(f.localPort, "x").empty());
  int code = 0;
  REQUIRE(f.exited(10, code));
  CHECK(code == 1);  // kubectl (client-go >= 1.23) gives up after an error stream message
  std::string p = std::to_string(closed);
  std::string out = f.output();
  INFO(out);
  // kubectl quotes the message (klog): its own quotes come escaped.
  CHECK(out.find("an error occurred forwarding " + std::to_string(f.localPort) + " -> " + p +
                 ": error forwarding port " + p + " to pod " + c.runtime.podUid +
                 ", uid : failed to connect to localhost:" + p + " inside namespace ") !=
        std::string::npos);
  CHECK(out.find("IPv4: dial tcp4 127.0.0.1:" + p + ": connect: connection refused") !=
        std::string::npos);
  CHECK(out.find("error: lost connection to pod") != std::string::npos);
}

TEST_CASE("kubectl port-forward: a pod the kubelet does not run", "[port_forward]") {
  if (!haveKubectl()) {
    WARN("kubectl not installed; skipped");
    return;
  }
  Cluster c;
  std::string uid = c.runtime.podUid;
  c.runtime.podUid = "some-other-pod";
  auto r = testing::runCommand("/usr/bin/kubectl --kubeconfig " + c.kubeconfig +
                               " port-forward pod/web :80");
  CHECK(r.first == 1);
  // Both upgrades tried (WebSocket, then SPDY), the kubelet's words as with Kubernetes.
  CHECK(r.second ==
        "error: error upgrading connection: unable to upgrade connection: pod does not exist\n");
  c.runtime.podUid = uid;
}
