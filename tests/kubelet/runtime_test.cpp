// [root] tests of RuncRuntime against the real kernel, runc and conmon, with a
// busybox image built by scripts/make-busybox-image.sh.
//
// Each test has its own bridge (skt<hex>), a /24 of 10.253.0.0/16 that no
// local interface uses, its own runc root, cgroup parent, netns prefix and
// data directory; the fixture removes all of it however the test ends, and
// each test ends by checking that nothing of it is left: netns, links,
// mounts, runc state, cgroups, leases.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <dirent.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>
#include <thread>

#include "kubelet/ipam.h"
#include "kubelet/mounts.h"
#include "kubelet/netlink.h"
#include "kubelet/runc_runtime.h"
#include "tests/kubelet/source_root.h"

using namespace skiff::kubelet;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

std::string randomHex(int n) {
  static std::mt19937_64 rng(std::random_device{}() ^ static_cast<uint64_t>(::getpid()));
  std::string out;
  for (int i = 0; i < n; ++i) out += "0123456789abcdef"[rng() % 16];
  return out;
}

std::string randomUid() {
  return randomHex(8) + "-" + randomHex(4) + "-" + randomHex(4) + "-" + randomHex(4) + "-" +
         randomHex(12);
}

bool subnetInUse(const std::string& prefix24) {
  auto range = parseIpv4Prefix(prefix24);
  struct ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return true;
  bool used = false;
  for (auto* a = list; a; a = a->ifa_next) {
    if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET) continue;
    uint32_t ip = ntohl(reinterpret_cast<sockaddr_in*>(a->ifa_addr)->sin_addr.s_addr);
    used = used || range->contains(ip);
  }
  ::freeifaddrs(list);
  return used;
}

std::string readAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Connects to ip:port from the host and reads until EOF; retries while refused.
std::string tcpFetch(const std::string& ip, int port, std::chrono::milliseconds patience) {
  auto deadline = std::chrono::steady_clock::now() + patience;
  while (std::chrono::steady_clock::now() < deadline) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct timeval tv = {2, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<uint16_t>(port));
    ::inet_pton(AF_INET, ip.c_str(), &sa.sin_addr);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0) {
      std::string out;
      char buf[512];
      ssize_t n;
      while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
      ::close(fd);
      if (!out.empty()) return out;
    } else {
      ::close(fd);
    }
    std::this_thread::sleep_for(50ms);
  }
  return "";
}

// Directories named `name` under /sys/fs/cgroup (hierarchies nest a few levels:
// the v1 memory hierarchy puts us under process_api/<id>/ on these machines).
std::vector<std::string> cgroupDirsNamed(const std::string& name) {
  std::vector<std::string> out;
  std::function<void(const std::string&, int)> walk = [&](const std::string& dir, int depth) {
    DIR* d = ::opendir(dir.c_str());
    if (!d) return;
    while (struct dirent* e = ::readdir(d)) {
      if (e->d_type != DT_DIR || e->d_name[0] == '.') continue;
      std::string p = dir + "/" + e->d_name;
      if (e->d_name == name) out.push_back(p);
      if (depth < 4) walk(p, depth + 1);
    }
    ::closedir(d);
  };
  walk("/sys/fs/cgroup", 0);
  return out;
}

struct Fixture {
  std::string tmp;
  std::string suffix = randomHex(6);
  std::string archive;
  RuncRuntimeOptions opts;
  std::unique_ptr<RuncRuntime> rt;
  std::vector<std::string> pods;

  Fixture() {
    char tmpl[] = "/tmp/skiff-rt-test.XXXXXX";
    tmp = ::mkdtemp(tmpl);
    try {
      setUp();
    } catch (...) {
      cleanUp();  // a failed constructor gets no destructor
      throw;
    }
  }

  void setUp() {
    std::string subnet;
    for (int i = 0; i < 50; ++i) {
      subnet = "10.253." + std::to_string(std::random_device{}() % 256);
      if (!subnetInUse(subnet + ".0/24")) break;
    }
    opts.dataDir = tmp + "/data";
    opts.bridgeName = "skt" + suffix;
    opts.podCidr = subnet + ".0/24";
    opts.bridgeAddress = subnet + ".1/24";
    opts.runcRoot = tmp + "/runc";
    opts.cgroupParent = "skiff-test-" + suffix;
    opts.netnsPrefix = "skt" + suffix + "-";
    std::string root = skiff::testing::sourceRoot();
    archive = tmp + "/busybox.tar";
    std::string cmd =
        root + "/scripts/make-busybox-image.sh " + archive + " >" + tmp + "/script.log 2>&1";
    REQUIRE(std::system(cmd.c_str()) == 0);
    open();
    auto loaded = rt->images().load(archive);
    REQUIRE(loaded.ok());
  }

  void open() {
    auto r = RuncRuntime::create(opts);
    INFO((r.ok() ? "" : r.error().message));
    REQUIRE(r.ok());
    rt = std::move(*r);
  }

  ~Fixture() { cleanUp(); }

  void cleanUp() {
    if (rt) {
      for (const auto& uid : pods) (void)rt->removeSandbox(uid);
      (void)rt->removeCgroupParent();
    }
    if (rt) (void)rt->removeBridge();
    if (!opts.bridgeName.empty()) (void)netlink::deleteLink(opts.bridgeName);
    (void)removeTreeUnmounted(tmp);
  }

  SandboxConfig pod(const std::string& name, bool hostNetwork = false) {
    SandboxConfig c;
    c.podUid = randomUid();
    c.podName = name;
    c.podNamespace = "default";
    c.hostname = name;
    c.dnsServers = {"10.96.0.10"};
    c.dnsSearches = {"default.svc.cluster.local", "svc.cluster.local", "cluster.local"};
    c.dnsOptions = {"ndots:5"};
    c.hostAliases = {{"10.1.2.3", {"alias-one"}}};
    c.hostNetwork = hostNetwork;
    pods.push_back(c.podUid);
    return c;
  }

  ContainerConfig container(const std::string& podUid, const std::string& name,
                            std::vector<std::string> args) {
    ContainerConfig c;
    c.podUid = podUid;
    c.name = name;
    c.attempt = 0;
    c.image = "busybox";
    c.process.args = std::move(args);
    c.process.env = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                     "HOSTNAME=" + name};
    c.process.cwd = "/";
    return c;
  }

  ContainerStatus waitExited(const std::string& id, std::chrono::milliseconds patience = 10s) {
    auto deadline = std::chrono::steady_clock::now() + patience;
    for (;;) {
      auto s = rt->containerStatus(id);
      REQUIRE(s.ok());
      if (s->state == ContainerState::kExited || std::chrono::steady_clock::now() > deadline) {
        return *s;
      }
      std::this_thread::sleep_for(20ms);
    }
  }

  // After every pod is removed: nothing of this test remains.
  void expectNothingLeft() {
    for (const auto& uid : pods) {
      INFO("pod " << uid);
      CHECK_FALSE(fs::exists(opts.netnsDir + "/" + opts.netnsPrefix + uid));
      auto link = netlink::linkExists(RuncRuntime::hostVethName(uid));
      REQUIRE(link.ok());
      CHECK_FALSE(*link);
      CHECK_FALSE(fs::exists(opts.dataDir + "/pods/" + uid));
    }
    CHECK(mountsUnder(tmp).empty());
    std::error_code ec;
    int runcEntries = 0;
    for (auto it = fs::directory_iterator(opts.runcRoot, ec); !ec && it != fs::directory_iterator();
         ++it) {
      ++runcEntries;
    }
    CHECK(runcEntries == 0);
    auto ipam = Ipam::open(opts.dataDir + "/ipam", opts.podCidr);
    REQUIRE(ipam.ok());
    CHECK((*ipam)->leases()->empty());
    // The cgroup parent holds no container cgroup; then it goes too.
    for (const auto& dir : cgroupDirsNamed(opts.cgroupParent)) {
      int children = 0;
      for (const auto& e : fs::directory_iterator(dir, ec)) children += e.is_directory();
      INFO(dir);
      CHECK(children == 0);
    }
    REQUIRE(rt->removeCgroupParent().ok());
    CHECK(cgroupDirsNamed(opts.cgroupParent).empty());
  }
};

bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("runtime: a pod on its own bridge; sleep runs, TCP from the host, exec, logs, stop",
          "[root][runtime]") {
  Fixture f;
  SandboxConfig podCfg = f.pod("web-0");
  auto sb = f.rt->ensureSandbox(podCfg);
  INFO((sb.ok() ? "" : sb.error().message));
  REQUIRE(sb.ok());
  CHECK(parseIpv4Prefix(f.opts.podCidr)->contains(*parseIpv4(sb->ip)));
  CHECK(sb->netnsPath == "/run/netns/" + f.opts.netnsPrefix + podCfg.podUid);
  CHECK(fs::exists(sb->netnsPath));
  CHECK(*netlink::linkMaster(RuncRuntime::hostVethName(podCfg.podUid)) == f.opts.bridgeName);
  CHECK(readAll(sb->hostnamePath) == "web-0\n");
  CHECK(contains(readAll(sb->hostsPath), sb->ip + "\tweb-0\n"));
  CHECK(contains(readAll(sb->hostsPath), "10.1.2.3\talias-one\n"));
  CHECK(readAll(sb->resolvPath) ==
        "search default.svc.cluster.local svc.cluster.local cluster.local\n"
        "nameserver 10.96.0.10\noptions ndots:5\n");
  auto again = f.rt->ensureSandbox(podCfg);  // idempotent: same address, same namespace
  REQUIRE(again.ok());
  CHECK(again->ip == sb->ip);
  CHECK(again->netnsPath == sb->netnsPath);

  auto sleeper =
      f.rt->startContainer(f.container(podCfg.podUid, "sleeper",
                                       {"sh", "-c", "echo hello; echo oops >&2; exec sleep 1000"}),
                           *sb);
  INFO((sleeper.ok() ? "" : sleeper.error().message));
  REQUIRE(sleeper.ok());
  CHECK(sleeper->id == podCfg.podUid + "_sleeper_0");
  CHECK(sleeper->state == ContainerState::kRunning);
  CHECK(sleeper->pid > 0);
  CHECK(sleeper->startedAt.time_since_epoch().count() > 0);

  auto server = f.rt->startContainer(
      f.container(podCfg.podUid, "server",
                  {"sh", "-c", "while true; do echo pong | nc -l -p 8080; done"}),
      *sb);
  REQUIRE(server.ok());
  CHECK(server->state == ContainerState::kRunning);

  // From the host, through the test's bridge.
  CHECK(tcpFetch(sb->ip, 8080, 5s) == "pong\n");
  // From the other container, over localhost: one network namespace per pod.
  auto local = f.rt->execSync(sleeper->id, {"sh", "-c", "nc 127.0.0.1 8080 </dev/null"}, 5s);
  REQUIRE(local.ok());
  CHECK(local->output == "pong\n");

  // exec: output, exit code, the pod's hostname and address, a timeout.
  auto hn = f.rt->execSync(sleeper->id, {"hostname"}, 5s);
  REQUIRE(hn.ok());
  CHECK(hn->exitCode == 0);
  CHECK(hn->output == "web-0\n");
  auto addr = f.rt->execSync(sleeper->id, {"ip", "-4", "-o", "addr", "show", "eth0"}, 5s);
  REQUIRE(addr.ok());
  CHECK(contains(addr->output, sb->ip + "/24"));
  auto route = f.rt->execSync(sleeper->id, {"ip", "route"}, 5s);
  REQUIRE(route.ok());
  CHECK(contains(route->output,
                 "default via " + f.opts.bridgeAddress.substr(0, f.opts.bridgeAddress.find('/'))));
  auto seven = f.rt->execSync(sleeper->id, {"sh", "-c", "echo out; echo err >&2; exit 7"}, 5s);
  REQUIRE(seven.ok());
  CHECK(seven->exitCode == 7);
  // (runc copies stdout and stderr separately: their order is not kept.)
  CHECK((seven->output == "out\nerr\n" || seven->output == "err\nout\n"));
  auto t0 = std::chrono::steady_clock::now();
  auto slow = f.rt->execSync(sleeper->id, {"sleep", "30"}, 300ms);
  REQUIRE(slow.ok());
  CHECK(slow->timedOut);
  CHECK(std::chrono::steady_clock::now() - t0 < 5s);
  auto ps = f.rt->execSync(sleeper->id, {"ps", "-o", "args"}, 5s);  // the timed-out sleep is gone
  REQUIRE(ps.ok());
  CHECK_FALSE(contains(ps->output, "sleep 30"));
  auto cmd = f.rt->execCommand(sleeper->id, {"ls", "/"}, false);
  REQUIRE(cmd.ok());
  CHECK((*cmd)[0] == f.opts.runcPath);
  CHECK(std::find(cmd->begin(), cmd->end(), "exec") != cmd->end());
  CHECK(cmd->back() == "/");

  // The CRI log conmon writes.
  std::string log = readAll(sleeper->logPath);
  CHECK(contains(log, " stdout F hello\n"));
  CHECK(contains(log, " stderr F oops\n"));

  // Stop with grace: a container that handles TERM ends by itself...
  auto polite = f.rt->startContainer(
      f.container(
          podCfg.podUid, "polite",
          {"sh", "-c", "trap 'echo got TERM; exit 0' TERM; while true; do sleep 0.1; done"}),
      *sb);
  REQUIRE(polite.ok());
  std::this_thread::sleep_for(200ms);  // let the shell install its trap
  t0 = std::chrono::steady_clock::now();
  REQUIRE(f.rt->stopContainer(polite->id, 10s).ok());
  CHECK(std::chrono::steady_clock::now() - t0 < 5s);
  auto politeSt = f.rt->containerStatus(polite->id);
  REQUIRE(politeSt.ok());
  CHECK(politeSt->state == ContainerState::kExited);
  CHECK(politeSt->exitCode == 0);
  CHECK(politeSt->reason == "Completed");
  CHECK(contains(readAll(polite->logPath), "stdout F got TERM"));
  // ...one that ignores it (sleep as PID 1) is killed when the grace runs out.
  t0 = std::chrono::steady_clock::now();
  REQUIRE(f.rt->stopContainer(sleeper->id, 1s).ok());
  auto took = std::chrono::steady_clock::now() - t0;
  CHECK(took >= 900ms);
  CHECK(took < 6s);
  auto stopped = f.rt->containerStatus(sleeper->id);
  REQUIRE(stopped.ok());
  CHECK(stopped->state == ContainerState::kExited);
  CHECK(stopped->exitCode == 137);
  CHECK(stopped->reason == "Error");
  CHECK(stopped->finishedAt >= stopped->startedAt);
  auto notRunning = f.rt->execSync(sleeper->id, {"true"}, 1s);
  CHECK_FALSE(notRunning.ok());

  auto list = f.rt->listContainers(podCfg.podUid);
  REQUIRE(list.ok());
  CHECK(list->size() == 3);
  // removeSandbox removes containers still there (the running server too).
  REQUIRE(f.rt->removeContainer(sleeper->id).ok());
  REQUIRE(f.rt->removeContainer(sleeper->id).ok());  // idempotent
  CHECK(fs::exists(sleeper->logPath));               // the log stays with the pod
  CHECK(f.rt->containerStatus(sleeper->id).error().code == skiff::Code::kNotFound);
  REQUIRE(f.rt->removeSandbox(podCfg.podUid).ok());
  REQUIRE(f.rt->removeSandbox(podCfg.podUid).ok());  // idempotent
  f.expectNothingLeft();
}

TEST_CASE("runtime: exit codes and reasons: Completed, Error, ContainerCannotRun, OOMKilled",
          "[root][runtime]") {
  Fixture f;
  SandboxConfig podCfg = f.pod("jobs");
  auto sb = f.rt->ensureSandbox(podCfg);
  REQUIRE(sb.ok());

  auto ok = f.rt->startContainer(f.container(podCfg.podUid, "ok", {"sh", "-c", "echo done"}), *sb);
  REQUIRE(ok.ok());
  auto three =
      f.rt->startContainer(f.container(podCfg.podUid, "three", {"sh", "-c", "exit 3"}), *sb);
  REQUIRE(three.ok());
  auto missing =
      f.rt->startContainer(f.container(podCfg.podUid, "missing", {"no-such-command", "x"}), *sb);
  REQUIRE(missing.ok());
  CHECK(missing->state == ContainerState::kExited);
  CHECK(missing->exitCode == 128);
  CHECK(missing->reason == "ContainerCannotRun");
  CHECK(contains(missing->message, "\"no-such-command\": executable file not found in $PATH"));
  ContainerConfig hog = f.container(podCfg.podUid, "hog", {"tail", "/dev/zero"});
  hog.memoryLimitBytes = 8 << 20;
  auto oom = f.rt->startContainer(hog, *sb);
  REQUIRE(oom.ok());

  auto okSt = f.waitExited(ok->id);
  CHECK(okSt.state == ContainerState::kExited);
  CHECK(okSt.exitCode == 0);
  CHECK(okSt.reason == "Completed");
  CHECK(okSt.finishedAt >= okSt.startedAt);
  CHECK(contains(readAll(ok->logPath), "stdout F done"));
  auto threeSt = f.waitExited(three->id);
  CHECK(threeSt.exitCode == 3);
  CHECK(threeSt.reason == "Error");
  auto oomSt = f.waitExited(oom->id, 30s);
  CHECK(oomSt.state == ContainerState::kExited);
  CHECK(oomSt.exitCode == 137);
  CHECK(oomSt.reason == "OOMKilled");
  // The cannot-run status is kept (and listed) like any other.
  auto missingSt = f.rt->containerStatus(missing->id);
  REQUIRE(missingSt.ok());
  CHECK(missingSt->reason == "ContainerCannotRun");
  CHECK(missingSt->message == missing->message);

  // Settled statuses stay the same on every read.
  auto threeAgain = f.rt->containerStatus(three->id);
  REQUIRE(threeAgain.ok());
  CHECK(threeAgain->finishedAt == threeSt.finishedAt);

  // Errors that prevent even trying.
  ContainerConfig noImage = f.container(podCfg.podUid, "noimage", {"true"});
  noImage.image = "nothere:1";
  auto ni = f.rt->startContainer(noImage, *sb);
  REQUIRE_FALSE(ni.ok());
  CHECK(ni.error().code == skiff::Code::kNotFound);
  CHECK(contains(ni.error().message, "nothere"));
  auto dup = f.rt->startContainer(f.container(podCfg.podUid, "ok", {"true"}), *sb);
  REQUIRE_FALSE(dup.ok());
  CHECK(dup.error().code == skiff::Code::kAlreadyExists);
  ContainerConfig badCap = f.container(podCfg.podUid, "badcap", {"true"});
  badCap.capAdd = {"NOPE"};
  auto bc = f.rt->startContainer(badCap, *sb);
  REQUIRE_FALSE(bc.ok());
  CHECK(bc.error().code == skiff::Code::kBadRequest);
  CHECK_FALSE(fs::exists(f.opts.dataDir + "/pods/" + podCfg.podUid + "/containers/" +
                         podCfg.podUid + "_badcap_0"));

  auto list = f.rt->listContainers("");
  REQUIRE(list.ok());
  CHECK(list->size() == 4);
  REQUIRE(f.rt->removeSandbox(podCfg.podUid).ok());
  f.expectNothingLeft();
}

TEST_CASE("runtime: after kill -9 of its process, a new instance re-adopts everything",
          "[root][runtime]") {
  Fixture f;
  SandboxConfig podCfg = f.pod("survivor");
  f.rt.reset();
  // A child process plays the kubelet: sandbox, two containers, then SIGKILL.
  int report[2];
  REQUIRE(::pipe(report) == 0);
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::close(report[0]);
    auto rt = RuncRuntime::create(f.opts);
    if (!rt) ::_exit(1);
    auto sb = (*rt)->ensureSandbox(podCfg);
    if (!sb) ::_exit(2);
    auto longer = (*rt)->startContainer(
        f.container(podCfg.podUid, "long",
                    {"sh", "-c", "while true; do echo pong | nc -l -p 9090; done"}),
        *sb);
    auto shorter = (*rt)->startContainer(
        f.container(podCfg.podUid, "short", {"sh", "-c", "sleep 1; exit 5"}), *sb);
    if (!longer || !shorter || longer->state != ContainerState::kRunning) ::_exit(3);
    std::string line = sb->ip + " " + std::to_string(longer->pid) + " " +
                       std::to_string(longer->startedAt.time_since_epoch().count()) + "\n";
    if (::write(report[1], line.data(), line.size()) < 0) ::_exit(4);
    for (;;) ::pause();
  }
  ::close(report[1]);
  char buf[256] = {0};
  ssize_t n = ::read(report[0], buf, sizeof buf - 1);
  ::close(report[0]);
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  REQUIRE(n > 0);
  std::istringstream in(buf);
  std::string ip;
  int longPid = 0;
  int64_t longStarted = 0;
  in >> ip >> longPid >> longStarted;
  REQUIRE(longPid > 0);

  std::this_thread::sleep_for(1500ms);  // "short" ends while no runtime watches
  CHECK(tcpFetch(ip, 9090, 5s) == "pong\n");
  f.open();

  auto sandboxes = f.rt->listSandboxes();
  REQUIRE(sandboxes.ok());
  REQUIRE(sandboxes->size() == 1);
  CHECK(sandboxes->at(0).podUid == podCfg.podUid);
  CHECK(sandboxes->at(0).ip == ip);
  auto same = f.rt->ensureSandbox(podCfg);
  REQUIRE(same.ok());
  CHECK(same->ip == ip);

  auto list = f.rt->listContainers(podCfg.podUid);
  REQUIRE(list.ok());
  REQUIRE(list->size() == 2);
  std::string longId;
  for (const auto& c : *list) {
    INFO(c.id);
    if (c.name == "long") {
      longId = c.id;
      CHECK(c.state == ContainerState::kRunning);
      CHECK(c.pid == longPid);
      CHECK(c.startedAt.time_since_epoch().count() == longStarted);
    } else {
      CHECK(c.state == ContainerState::kExited);
      CHECK(c.exitCode == 5);
      CHECK(c.reason == "Error");
    }
  }
  auto exec = f.rt->execSync(longId, {"echo", "still here"}, 5s);
  REQUIRE(exec.ok());
  CHECK(exec->output == "still here\n");
  REQUIRE(f.rt->stopContainer(longId, 0s).ok());
  REQUIRE(f.rt->removeSandbox(podCfg.podUid).ok());
  f.expectNothingLeft();
}

TEST_CASE("runtime: hostNetwork pods share the host's network", "[root][runtime]") {
  Fixture f;
  SandboxConfig podCfg = f.pod("hostnet", true);
  podCfg.dnsServers.clear();
  podCfg.dnsSearches.clear();
  podCfg.dnsOptions.clear();
  auto sb = f.rt->ensureSandbox(podCfg);
  REQUIRE(sb.ok());
  CHECK(sb->ip.empty());
  CHECK(sb->netnsPath.empty());
  CHECK(contains(readAll(sb->hostsPath), "# Kubernetes-managed hosts file (host network).\n"));
  CHECK(readAll(sb->resolvPath) == readAll("/etc/resolv.conf"));
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  auto c = f.rt->startContainer(
      f.container(podCfg.podUid, "c", {"sh", "-c", "hostname; cat /etc/hosts"}), *sb);
  REQUIRE(c.ok());
  auto st = f.waitExited(c->id);
  CHECK(st.reason == "Completed");
  std::string log = readAll(c->logPath);
  CHECK(contains(log, std::string(" stdout F ") + host + "\n"));
  CHECK(contains(log, "host network"));
  REQUIRE(f.rt->removeSandbox(podCfg.podUid).ok());
  f.expectNothingLeft();
}

TEST_CASE("runtime: securityContext, limits and volumes reach the container", "[root][runtime]") {
  Fixture f;
  SandboxConfig podCfg = f.pod("secure");
  auto sb = f.rt->ensureSandbox(podCfg);
  REQUIRE(sb.ok());
  std::string podDir = f.opts.dataDir + "/pods/" + podCfg.podUid;
  std::string hostDir = f.tmp + "/hostpath";
  fs::create_directories(hostDir);
  { std::ofstream(hostDir + "/greeting") << "hi from the host\n"; }

  // Runs a shell script in a fresh container; returns its log's text lines.
  int n = 0;
  auto run = [&](ContainerConfig c) {
    c.name = "c" + std::to_string(n++);
    auto started = f.rt->startContainer(c, *sb);
    INFO((started.ok() ? "" : started.error().message));
    REQUIRE(started.ok());
    auto st = f.waitExited(started->id);
    INFO(st.message);
    CHECK(st.reason == "Completed");
    std::string out;
    std::istringstream in(readAll(started->logPath));
    std::string line;
    while (std::getline(in, line)) {
      // "<time> stdout F <text>"
      auto p = line.find(" F ");
      if (p != std::string::npos) out += line.substr(p + 3) + "\n";
    }
    return out;
  };
  auto script = [&](const std::string& text) {
    return f.container(podCfg.podUid, "x", {"sh", "-c", text});
  };

  ContainerConfig limited = script(
      "cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max "
      "/sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us");
  limited.memoryLimitBytes = 64 << 20;
  limited.pidsLimit = 50;
  limited.cpuQuotaMicros = 25000;
  CHECK(run(limited) == "67108864\n50\n25000\n100000\n");

  ContainerConfig user = script("id -u; id -g; id -G; pwd");
  user.process.uid = 1000;
  user.process.gid = 2000;
  user.process.additionalGids = {3000};
  user.process.cwd = "/tmp";
  CHECK(run(user) == "1000\n2000\n2000 3000\n/tmp\n");

  ContainerConfig ro = script(
      "touch /x 2>/dev/null && echo rootfs-writable || echo rootfs-readonly; "
      "echo data > /mem/f && cat /mem/f; cat /host/greeting; "
      "touch /host/new 2>/dev/null && echo host-writable || echo host-readonly");
  ro.readOnlyRootfs = true;
  ro.mounts = {{"/mem", podDir + "/volumes/mem", false, true}, {"/host", hostDir, true, false}};
  CHECK(run(ro) == "rootfs-readonly\ndata\nhi from the host\nhost-readonly\n");
  // The memory-backed emptyDir is shared by the pod's containers.
  ContainerConfig reader = script("cat /mem/f");
  reader.mounts = {{"/mem", podDir + "/volumes/mem", false, true}};
  CHECK(run(reader) == "data\n");

  ContainerConfig dropped = script("grep CapEff /proc/self/status");
  dropped.capDrop = {"ALL"};
  CHECK(run(dropped) == "CapEff:\t0000000000000000\n");
  ContainerConfig added = script("grep CapEff /proc/self/status");
  added.capDrop = {"ALL"};
  added.capAdd = {"NET_ADMIN"};
  CHECK(run(added) == "CapEff:\t0000000000001000\n");
  ContainerConfig privileged = script("ls /dev | wc -l; grep CapEff /proc/self/status");
  privileged.privileged = true;
  std::string priv = run(privileged);
  CHECK(std::stoi(priv) > 20);  // the host's devices
  CHECK_FALSE(contains(priv, "CapEff:\t0000000000000000"));
  ContainerConfig plain = script("ls /dev | wc -l");
  CHECK(std::stoi(run(plain)) < 20);

  REQUIRE(f.rt->removeSandbox(podCfg.podUid).ok());
  CHECK(mountsUnder(podDir).empty());
  f.expectNothingLeft();
}
