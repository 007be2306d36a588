#include "tests/netproxy/kernel_test_util.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

namespace skiff::netproxy::testing {
namespace {

std::atomic<int> instances{0};

const char* kServer = R"(import socket, sys
name, port = sys.argv[1], int(sys.argv[2])
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", port))
s.listen(128)
while True:
    c, a = s.accept()
    try:
        c.sendall(("%s %s\n" % (name, a[0])).encode())
    finally:
        c.close()
)";

const char* kClient = R"(import errno, socket, sys, time
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for _ in range(n):
    t = time.monotonic()
    try:
        s = socket.create_connection((host, port), timeout=2)
        s.settimeout(2)
        print(s.recv(200).decode().strip(), flush=True)
        s.close()
    except OSError as e:
        name = errno.errorcode.get(e.errno, "ETIMEDOUT") if e.errno else "ETIMEDOUT"
        print("ERR %s %d" % (name, (time.monotonic() - t) * 1000), flush=True)
)";

}  // namespace

CmdResult run(const std::string& command) {
  CmdResult r;
  FILE* f = popen((command + " 2>&1").c_str(), "r");
  if (!f) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) r.out.append(buf, n);
  int st = pclose(f);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

void TestNetwork::step(const std::string& command) {
  if (!error_.empty()) return;
  CmdResult r = run(command);
  if (r.status != 0) error_ = command + ": " + r.out;
}

TestNetwork::TestNetwork() {
  char tmpl[] = "/tmp/skiff-netproxy-test-XXXXXX";
  if (!mkdtemp(tmpl)) {
    error_ = "mkdtemp failed";
    return;
  }
  dir_ = tmpl;
  std::ofstream(dir_ + "/server.py") << kServer;
  std::ofstream(dir_ + "/client.py") << kClient;

  char id[32];
  snprintf(id, sizeof id, "%x%x", static_cast<unsigned>(getpid()), instances++ & 0xf);
  const std::string base = std::string("sknp") + id;
  base_ = base;
  node = base + "n";
  pod = base + "p";
  server1 = base + "a";
  server2 = base + "b";
  for (const auto& ns : {node, pod, server1, server2}) {
    step("ip netns add " + ns);
    if (ok()) namespaces_.push_back(ns);
    step("ip -n " + ns + " link set lo up");
  }
  struct Peer {
    std::string ns;
    int subnet;
  } peers[] = {{pod, 1}, {server1, 2}, {server2, 3}};
  for (const auto& p : peers) {
    std::string net = "10.250." + std::to_string(p.subnet) + ".";
    std::string nodeSide = "vn" + std::to_string(p.subnet),
                peerSide = "vp" + std::to_string(p.subnet);
    step("ip -n " + node + " link add " + nodeSide + " type veth peer name " + peerSide +
         " netns " + p.ns);
    step("ip -n " + node + " addr add " + net + "1/24 dev " + nodeSide);
    step("ip -n " + node + " link set " + nodeSide + " up");
    step("ip -n " + p.ns + " addr add " + net + "2/24 dev " + peerSide);
    step("ip -n " + p.ns + " link set " + peerSide + " up");
    step("ip -n " + p.ns + " route add default via " + net + "1");
  }
  step("ip -n " + node + " route add 10.96.0.0/12 dev vn1");
  step("ip netns exec " + node + " sysctl -qw net.ipv4.ip_forward=1");
  if (!ok()) return;
  servers_.push_back(startServer(server1, "S1"));
  servers_.push_back(startServer(server2, "S2"));
  // Wait until both answer.
  for (int i = 0; i < 50; ++i) {
    auto a = connect(node, "10.250.2.2", 8080);
    auto b = connect(node, "10.250.3.2", 8080);
    if (a.size() == 1 && a[0].rfind("S1", 0) == 0 && b.size() == 1 && b[0].rfind("S2", 0) == 0)
      return;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  error_ = "test servers did not come up";
}

pid_t TestNetwork::startServer(const std::string& ns, const std::string& name) {
  pid_t pid = fork();
  if (pid == 0) {
    int null = open("/dev/null", O_RDWR);
    dup2(null, 0);
    dup2(null, 1);
    dup2(null, 2);
    std::string script = dir_ + "/server.py";
    execl("/usr/sbin/ip", "ip", "netns", "exec", ns.c_str(), "/usr/bin/python3", script.c_str(),
          name.c_str(), "8080", static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}

std::vector<std::string> TestNetwork::connect(const std::string& ns, const std::string& host,
                                              int port, int count) {
  CmdResult r = run("ip netns exec " + ns + " /usr/bin/python3 " + dir_ + "/client.py " + host +
                    " " + std::to_string(port) + " " + std::to_string(count));
  std::vector<std::string> lines;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string TestNetwork::addBridgedPod(const std::string& bridge, int subnet) {
  if (!ok()) return "";
  const std::string ns = base_ + "q" + std::to_string(subnet);
  const std::string net = "10.250." + std::to_string(subnet) + ".";
  const std::string port = "vq" + std::to_string(subnet);
  if (run("ip -n " + node + " link show " + bridge).status != 0) {
    step("ip -n " + node + " link add " + bridge + " type bridge");
    step("ip -n " + node + " addr add " + net + "1/24 dev " + bridge);
    step("ip -n " + node + " link set " + bridge + " up");
  }
  step("ip netns add " + ns);
  if (ok()) namespaces_.push_back(ns);
  step("ip -n " + ns + " link set lo up");
  step("ip -n " + node + " link add " + port + " type veth peer name eth0 netns " + ns);
  step("ip -n " + node + " link set " + port + " master " + bridge + " up");
  step("ip -n " + ns + " addr add " + net + "2/24 dev eth0");
  step("ip -n " + ns + " link set eth0 up");
  step("ip -n " + ns + " route add default via " + net + "1");
  return ok() ? ns : "";
}

TestNetwork::~TestNetwork() {
  for (pid_t pid : servers_) {
    if (pid > 0) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
  }
  for (const auto& ns : namespaces_) run("ip netns del " + ns);
  if (!dir_.empty()) run("rm -rf " + dir_);
}

InNetns::InNetns(const std::string& name) {
  original_ = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  int target = open(("/var/run/netns/" + name).c_str(), O_RDONLY | O_CLOEXEC);
  if (original_ >= 0 && target >= 0 && setns(target, CLONE_NEWNET) == 0) ok_ = true;
  if (target >= 0) close(target);
}

InNetns::~InNetns() {
  if (original_ >= 0) {
    if (ok_) setns(original_, CLONE_NEWNET);
    close(original_);
  }
}

}  // namespace skiff::netproxy::testing
