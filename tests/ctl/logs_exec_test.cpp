// pods/log and pods/exec end to end: a real ApiServer (TLS, on a free
// loopback port), a real KubeletServer over a fake Runtime whose containers'
// logs are CRI files written here and whose exec runs plain host commands, a
// Node advertising the kubelet's port, and then the real /usr/bin/kubectl and
// `skiff logs` / `skiff exec` (run in-process) against them.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>

#include "apiserver/server.h"
#include "client/kubeconfig.h"
#include "client/rest_client.h"
#include "ctl/commands.h"
#include "kubelet/server.h"
#include "tests/ctl/kubelet_cluster.h"
#include "tests/test_util.h"

using namespace skiff;
using api::Json;

namespace {

// Containers whose logs are files and whose exec is the host's argv.
class FakeRuntime : public kubelet::Runtime {
 public:
  std::mutex mu;
  std::vector<kubelet::ContainerStatus> containers;  // guarded by mu
  std::string podUid;

  void add(const std::string& name, int attempt, const std::string& logPath, bool running) {
    kubelet::ContainerStatus c;
    c.id = podUid + "_" + name + "_" + std::to_string(attempt);
    c.name = name;
    c.attempt = attempt;
    c.state = running ? kubelet::ContainerState::kRunning : kubelet::ContainerState::kExited;
    c.logPath = logPath;
    std::lock_guard<std::mutex> lock(mu);
    containers.push_back(c);
  }
  void exitAll() {
    std::lock_guard<std::mutex> lock(mu);
    for (auto& c : containers) c.state = kubelet::ContainerState::kExited;
  }

  Result<kubelet::SandboxInfo> ensureSandbox(const kubelet::SandboxConfig&) override {
    return makeError(Code::kInternal, "fake");
  }
  Status removeSandbox(const std::string&) override { return {}; }
  Result<std::vector<kubelet::SandboxInfo>> listSandboxes() override {
    return std::vector<kubelet::SandboxInfo>{};
  }
  Result<kubelet::ContainerStatus> startContainer(const kubelet::ContainerConfig&,
                                                  const kubelet::SandboxInfo&) override {
    return makeError(Code::kInternal, "fake");
  }
  Status stopContainer(const std::string&, std::chrono::seconds) override { return {}; }
  Status removeContainer(const std::string&) override { return {}; }
  Result<kubelet::ContainerStatus> containerStatus(const std::string& id) override {
    std::lock_guard<std::mutex> lock(mu);
    for (auto& c : containers)
      if (c.id == id) return c;
    return makeError(Code::kNotFound, "no container " + id);
  }
  Result<std::vector<kubelet::ContainerStatus>> listContainers(const std::string& uid) override {
    std::lock_guard<std::mutex> lock(mu);
    std::vector<kubelet::ContainerStatus> out;
    for (auto& c : containers)
      if (uid.empty() || c.id.rfind(uid + "_", 0) == 0) out.push_back(c);
    return out;
  }
  Result<ExecResult> execSync(const std::string&, const std::vector<std::string>&,
                              std::chrono::milliseconds) override {
    return makeError(Code::kInternal, "fake");
  }
  Result<std::vector<std::string>> execCommand(const std::string&,
                                               const std::vector<std::string>& argv,
                                               bool) override {
    return argv;  // runs on the host: the streaming path is real
  }
};

using testing::runCommand;

// Runs a skiff verb in this process with stdin from `input` and stdout and
// stderr captured (in that order in the result).
struct Captured {
  int code;
  std::string out, err;
};
Captured runVerb(int (*verb)(int, char**), std::vector<std::string> args, const std::string& dir,
                 const std::string& input = "") {
  std::string inPath = dir + "/cap.in", outPath = dir + "/cap.out", errPath = dir + "/cap.err";
  {
    std::ofstream f(inPath);
    f << input;
  }
  std::fflush(stdout);
  std::fflush(stderr);
  int saved[3] = {dup(0), dup(1), dup(2)};
  int in = open(inPath.c_str(), O_RDONLY);
  int out = open(outPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  int err = open(errPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  dup2(in, 0);
  dup2(out, 1);
  dup2(err, 2);
  close(in);
  close(out);
  close(err);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int code = verb(int(args.size()), argv.data());
  std::fflush(stdout);
  std::fflush(stderr);
  for (int i = 0; i < 3; ++i) {
    dup2(saved[i], i);
    close(saved[i]);
  }
  auto slurp = [](const std::string& p) {
    std::ifstream f(p);
    return std::string(std::istreambuf_iterator<char>(f), {});
  };
  return {code, slurp(outPath), slurp(errPath)};
}

struct Cluster : testing::KubeletCluster<FakeRuntime> {
  std::string logPath, sideLog;

  Cluster() : KubeletCluster("node-l") {
    Json pod = {{"apiVersion", "v1"},
                {"kind", "Pod"},
                {"metadata", {{"name", "web"}}},
                {"spec",
                 {{"nodeName", "node-l"},
                  {"containers", Json::array({{{"name", "app"}, {"image", "busybox"}}})}}}};
    auto p = client->post("/api/v1/namespaces/default/pods", pod);
    REQUIRE(p);
    runtime.podUid = (*p)["metadata"]["uid"].get<std::string>();
    (*p)["status"] = {
        {"phase", "Running"},
        {"containerStatuses",
         Json::array({{{"name", "app"},
                       {"ready", true},
                       {"restartCount", 1},
                       {"image", "busybox"},
                       {"imageID", ""},
                       {"state", {{"running", {{"startedAt", "2026-01-01T00:00:00Z"}}}}}}})}};
    REQUIRE(client->put("/api/v1/namespaces/default/pods/web/status", *p));

    Json two = pod;
    two["metadata"]["name"] = "two";
    two["spec"]["containers"] =
        Json::array({{{"name", "a"}, {"image", "busybox"}}, {{"name", "b"}, {"image", "busybox"}}});
    REQUIRE(client->post("/api/v1/namespaces/default/pods", two));

    logPath = dir + "/app-1.log";
    std::string previousLog = dir + "/app-0.log";
    appendLog(previousLog, "2026-01-01T00:00:00Z stdout F from the previous run\n");
    appendLog(logPath,
              "2026-01-01T00:00:01.5Z stdout F line one\n"
              "2026-01-01T00:00:02Z stderr P line t\n"
              "2026-01-01T00:00:02Z stderr F wo\n"
              "2026-01-01T00:00:03Z stdout F line three\n");
    runtime.add("app", 0, previousLog, false);
    runtime.add("app", 1, logPath, true);
  }
  static void appendLog(const std::string& path, const std::string& text) {
    std::ofstream f(path, std::ios::app);
    f << text;
  }
  std::string kubectl(const std::string& args) const {
    return "/usr/bin/kubectl --kubeconfig " + kubeconfig + " " + args;
  }
};

bool haveKubectl() {
  return access("/usr/bin/kubectl", X_OK) == 0;
}

}  // namespace

TEST_CASE("kubectl logs through the apiserver and the kubelet server", "[logs]") {
  if (!haveKubectl()) {
    WARN("kubectl not installed; skipped");
    return;
  }
  Cluster c;
  auto [code, out] = runCommand(c.kubectl("logs web"));
  CHECK(code == 0);
  CHECK(out == "line one\nline two\nline three\n");

  auto tail = runCommand(c.kubectl("logs web --tail=1"));
  CHECK(tail.first == 0);
  CHECK(tail.second == "line three\n");

  auto ts = runCommand(c.kubectl("logs web -c app --tail=2 --timestamps"));
  CHECK(ts.second == "2026-01-01T00:00:02Z line two\n2026-01-01T00:00:03Z line three\n");

  auto prev = runCommand(c.kubectl("logs web --previous"));
  CHECK(prev.second == "from the previous run\n");

  auto limit = runCommand(c.kubectl("logs web --limit-bytes=7"));
  CHECK(limit.second == "line on");

  // kubectl checks the container and the pod itself, in its own words...
  auto wrong = runCommand(c.kubectl("logs web -c nope"));
  CHECK(wrong.first == 1);
  CHECK(wrong.second == "error: container nope is not valid for pod web\n");
  auto missing = runCommand(c.kubectl("logs ghost"));
  CHECK(missing.first == 1);
  CHECK(missing.second ==
        "error: error from server (NotFound): pods \"ghost\" not found in namespace "
        "\"default\"\n");
  // ...and the server says the same to any client.
  auto rawWrong = c.client->get("/api/v1/namespaces/default/pods/web/log?container=nope");
  REQUIRE_FALSE(rawWrong);
  CHECK(rawWrong.error().code == Code::kBadRequest);
  CHECK(rawWrong.error().message == "container nope is not valid for pod web");
  auto rawMissing = c.client->get("/api/v1/namespaces/default/pods/ghost/log");
  REQUIRE_FALSE(rawMissing);
  CHECK(rawMissing.error().code == Code::kNotFound);

  // Two containers and none chosen: the server asks which (kubectl itself
  // would default, so ask the API directly).
  auto raw = c.client->request("GET", "/api/v1/namespaces/default/pods/two/log");
  REQUIRE(raw);
  CHECK(raw->status == 400);
  CHECK(raw->body.find("a container name must be specified for pod two, choose one of: [a b]") !=
        std::string::npos);

  // Known to the pod, unknown to the kubelet.
  auto notThere = runCommand(c.kubectl("logs two -c b"));
  CHECK(notThere.first == 1);
  CHECK(notThere.second ==
        "Error from server (BadRequest): container \"b\" in pod \"two\" is not available\n");
}

TEST_CASE("kubectl logs -f follows the file until the container stops", "[logs]") {
  if (!haveKubectl()) {
    WARN("kubectl not installed; skipped");
    return;
  }
  Cluster c;
  FILE* p = popen((c.kubectl("logs -f --tail=1 web") + " 2>&1").c_str(), "r");
  REQUIRE(p != nullptr);
  char line[256];
  REQUIRE(fgets(line, sizeof line, p) != nullptr);
  CHECK(std::string(line) == "line three\n");
  Cluster::appendLog(c.logPath, "2026-01-01T00:00:04Z stdout F appended later\n");
  REQUIRE(fgets(line, sizeof line, p) != nullptr);
  CHECK(std::string(line) == "appended later\n");
  c.runtime.exitAll();  // the stream ends with the container
  CHECK(fgets(line, sizeof line, p) == nullptr);
  int status = pclose(p);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("kubectl exec over WebSocket: output, exit code, stdin", "[exec]") {
  if (!haveKubectl()) {
    WARN("kubectl not installed; skipped");
    return;
  }
  Cluster c;
  auto hi = runCommand(c.kubectl("exec web -- echo hi"));
  CHECK(hi.first == 0);
  CHECK(hi.second == "hi\n");

  auto three = runCommand(c.kubectl("exec web -- sh -c 'echo out; echo err >&2; exit 3'"));
  CHECK(three.first == 3);
  CHECK(three.second.find("out\n") != std::string::npos);
  CHECK(three.second.find("err\n") != std::string::npos);
  CHECK(three.second.find("command terminated with exit code 3") != std::string::npos);

  // stdin reaches the command, and so does its end (cat returns).
  auto in =
      runCommand("printf 'abc\\ndef\\n' | " + c.kubectl("exec -i web -- sh -c 'cat; echo done'"));
  CHECK(in.first == 0);
  CHECK(in.second == "abc\ndef\ndone\n");

  // -t under a terminal (script(1) gives kubectl one): the command runs on a
  // pseudo-terminal, and its exit code still comes back.
  if (access("/usr/bin/script", X_OK) == 0) {
    auto t = runCommand("/usr/bin/script -qec \"" +
                        c.kubectl("exec -it web -- sh -c 'test -t 0 && test -t 1 && echo on-a-tty; "
                                  "exit 5'") +
                        "\" /dev/null < /dev/null");
    CHECK(t.first == 5);
    CHECK(t.second.find("on-a-tty") != std::string::npos);
  }

  auto wrong = runCommand(c.kubectl("exec web -c nope -- true"));
  CHECK(wrong.first == 1);
  CHECK(wrong.second.find("container nope is not valid for pod web") != std::string::npos);
}

TEST_CASE("skiff logs and skiff exec use the same endpoints", "[logs][exec]") {
  Cluster c;
  std::string kc = "--kubeconfig=" + c.kubeconfig;
  auto logs = runVerb(ctl::runLogsCommand, {"logs", kc, "web"}, c.dir);
  CHECK(logs.code == 0);
  CHECK(logs.out == "line one\nline two\nline three\n");

  auto tail =
      runVerb(ctl::runLogsCommand, {"logs", kc, "web", "--tail", "1", "--timestamps"}, c.dir);
  CHECK(tail.out == "2026-01-01T00:00:03Z line three\n");

  auto wrong = runVerb(ctl::runLogsCommand, {"logs", kc, "web", "-c", "nope"}, c.dir);
  CHECK(wrong.code == 1);
  CHECK(wrong.err.find("error: container nope is not valid for pod web\n") != std::string::npos);
  auto missing = runVerb(ctl::runLogsCommand, {"logs", kc, "ghost"}, c.dir);
  CHECK(missing.code == 1);
  CHECK(missing.err.find("error: error from server (NotFound): pods \"ghost\" not found in "
                         "namespace \"default\"\n") != std::string::npos);
  auto notThere = runVerb(ctl::runLogsCommand, {"logs", kc, "two", "-c", "b"}, c.dir);
  CHECK(notThere.err.find("Error from server (BadRequest): container \"b\" in pod \"two\" is "
                          "not available\n") != std::string::npos);

  auto hi = runVerb(ctl::runExecCommand, {"exec", kc, "web", "--", "echo", "hi"}, c.dir);
  CHECK(hi.code == 0);
  CHECK(hi.out == "hi\n");

  auto three = runVerb(ctl::runExecCommand, {"exec", kc, "web", "--", "sh", "-c", "exit 3"}, c.dir);
  CHECK(three.code == 3);
  CHECK(three.err.find("command terminated with exit code 3\n") != std::string::npos);

  auto in =
      runVerb(ctl::runExecCommand, {"exec", kc, "-i", "web", "--", "cat"}, c.dir, "from stdin\n");
  CHECK(in.code == 0);
  CHECK(in.out == "from stdin\n");

  // -it needs a terminal: the built binary under script(1), when both exist.
  std::string skiff =
      std::filesystem::read_symlink("/proc/self/exe").parent_path().parent_path() / "skiff";
  if (access(skiff.c_str(), X_OK) == 0 && access("/usr/bin/script", X_OK) == 0) {
    auto t = runCommand("/usr/bin/script -qec \"" + skiff + " exec " + kc +
                        " -it web -- sh -c 'test -t 0 && test -t 1 && echo on-a-tty; exit 5'\" "
                        "/dev/null < /dev/null");
    CHECK(t.first == 5);
    CHECK(t.second.find("on-a-tty") != std::string::npos);
  } else {
    WARN("no " + skiff + " or script(1): skiff exec -it not tested");
  }

  auto defaulted = runVerb(ctl::runExecCommand, {"exec", kc, "two", "--", "true"}, c.dir);
  CHECK(defaulted.err.find("Defaulted container \"a\" out of: a, b") != std::string::npos);
}

TEST_CASE("the kubelet server refuses requests without the token", "[logs]") {
  Cluster c;
  auto [code, out] = runCommand("curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:" +
                                std::to_string(c.kubelet->port()) + "/healthz");
  if (code == 127) return;  // no curl
  CHECK(out == "401");
  kubelet::KubeletServerOptions o;
  o.listen = "0.0.0.0:0";
  o.authToken = "x";
  kubelet::KubeletServer open(c.runtime, o);
  auto st = open.start();
  REQUIRE_FALSE(st);
  CHECK(st.error().message.find("only loopback") != std::string::npos);
}

TEST_CASE("stopping the kubelet server ends a follow and an exec in progress", "[logs][exec]") {
  if (!haveKubectl()) {
    WARN("kubectl not installed; skipped");
    return;
  }
  Cluster c;
  FILE* logs = popen((c.kubectl("logs -f --tail=1 web") + " 2>/dev/null").c_str(), "r");
  REQUIRE(logs != nullptr);
  char line[256];
  REQUIRE(fgets(line, sizeof line, logs) != nullptr);
  CHECK(std::string(line) == "line three\n");
  FILE* exec =
      popen((c.kubectl("exec web -- sh -c 'echo started; exec sleep 600'") + " 2>&1").c_str(), "r");
  REQUIRE(exec != nullptr);
  REQUIRE(fgets(line, sizeof line, exec) != nullptr);
  CHECK(std::string(line) == "started\n");
  c.kubelet->stop();  // closes both connections and kills the sleep
  CHECK(fgets(line, sizeof line, logs) == nullptr);
  pclose(logs);
  while (fgets(line, sizeof line, exec) != nullptr) {
  }
  int status = pclose(exec);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) != 0);  // the session ended without the command's status
}
