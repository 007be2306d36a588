// [root] tests of the NetProxy component end to end: a real apiserver, real
// informers, a real nft table and real TCP connections, all inside the
// throw-away namespaces of TestNetwork (kernel_test_util.h).
//
// Everything runs in the test's "node" namespace N: the test thread enters it
// before starting the apiserver (listening on N's own 127.0.0.1), the NetProxy
// (its threads inherit N, so the table, the DNS server and the API client are
// all N's) and the DNS server. Connections come from the "pod" namespace P
// (ClusterIP, LoadBalancer IP, DNS through the kube-dns ClusterIP) and from N
// itself (NodePort on 127.0.0.1). The table name is unique per process.
#include "netproxy/netproxy.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <thread>

#include "apiserver/server.h"
#include "client/kubeconfig.h"
#include "tests/netproxy/dns_test_util.h"
#include "tests/netproxy/kernel_test_util.h"

using namespace skiff;
using namespace skiff::netproxy;
using namespace skiff::netproxy::testing;
using api::Json;

namespace {

const std::string kSvcPath = "/api/v1/namespaces/default/services";
const std::string kEpPath = "/api/v1/namespaces/default/endpoints";

// Waits until pred() holds (checked every 20 ms), for at most 15 s.
bool eventually(const std::function<bool()>& pred) {
  for (int i = 0; i < 750; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return pred();
}

Json service(const std::string& name, const std::string& clusterIP,
             const std::string& type = "ClusterIP") {
  return {{"apiVersion", "v1"},
          {"kind", "Service"},
          {"metadata", {{"name", name}}},
          {"spec",
           {{"type", type},
            {"clusterIP", clusterIP},
            {"ports", Json::array({{{"name", "http"}, {"port", 80}}})}}}};
}

// Hand-written Endpoints (no selector): the test's servers.
Json endpoints(const std::string& name, const std::vector<std::string>& ips, int port = 8080) {
  Json addrs = Json::array();
  for (const auto& ip : ips) addrs.push_back({{"ip", ip}});
  return {
      {"apiVersion", "v1"},
      {"kind", "Endpoints"},
      {"metadata", {{"name", name}}},
      {"subsets", Json::array({{{"addresses", addrs},
                                {"ports", Json::array({{{"name", "http"}, {"port", port}}})}}})}};
}

std::string first(const std::vector<std::string>& lines) {
  if (lines.empty()) return "(no output)";
  const auto& l = lines[0];
  return l.rfind("ERR", 0) == 0 ? l.substr(0, l.rfind(' ')) : l.substr(0, l.find(' '));
}

// The test's world: namespaces, an apiserver and a client inside N, and a
// NetProxy that can be stopped and started again.
struct World {
  TestNetwork net;
  std::unique_ptr<InNetns> inNode;
  std::string dir;
  std::unique_ptr<apiserver::ApiServer> server;
  std::optional<client::ClientConfig> config;
  std::unique_ptr<client::RestClient> client;
  std::unique_ptr<LibNftExecutor> nft;
  NetProxyOptions options;
  std::unique_ptr<NetProxy> proxy;

  bool setUp() {
    if (geteuid() != 0) {
      WARN("not root: skipped");
      return false;
    }
    INFO(net.error());
    REQUIRE(net.ok());
    // The node's own sockets need a route for the LoadBalancer pool, as for the
    // service range (TestNetwork adds 10.96.0.0/12): connect() looks the route
    // up before the output hook DNATs. A real host has its default route.
    auto route = run("ip -n " + net.node + " route add 10.255.0.0/24 dev vn1");
    INFO(route.out);
    REQUIRE(route.status == 0);
    inNode = std::make_unique<InNetns>(net.node);
    REQUIRE(inNode->ok());
    char tmpl[] = "/tmp/skiff-netproxy-api-XXXXXX";
    dir = mkdtemp(tmpl);
    apiserver::ServerOptions o;
    o.dataDir = dir;
    o.listen = "127.0.0.1:0";
    o.fsync = false;
    auto s = apiserver::ApiServer::start(o);
    REQUIRE(s);
    server = std::move(*s);
    auto cfg = client::loadKubeconfig(server->kubeconfigPath());
    REQUIRE(cfg);
    config = *cfg;
    client = std::make_unique<client::RestClient>(*config);
    auto e = LibNftExecutor::create();
    REQUIRE(e.ok());
    nft = std::move(*e);
    options.table = "skiff_c" + std::to_string(getpid());
    options.nodeAddresses = {"127.0.0.1", "10.250.1.1", "10.250.2.1", "10.250.3.1"};
    options.resyncPeriod = std::chrono::seconds(1);
    options.executor = nft.get();
    options.dnsOptions.listen = "10.250.1.1:0";
    options.dnsOptions.upstreams = {"127.0.0.1:9"};  // never asked in these tests
    return true;
  }

  void startProxy() {
    proxy = std::make_unique<NetProxy>(*config, options);
    auto st = proxy->start();
    INFO((st.ok() ? "" : st.error().message));
    REQUIRE(st.ok());
    REQUIRE(proxy->waitForSync(std::chrono::seconds(15)));
  }

  void post(const std::string& path, const Json& body) {
    auto r = client->post(path, body);
    INFO((r ? "" : r.error().message));
    REQUIRE(r);
  }
  Json patch(const std::string& path, const Json& body) {
    auto r = client->patch(path, body, "application/merge-patch+json");
    INFO((r ? "" : r.error().message));
    REQUIRE(r);
    return *r;
  }

  // What one connection from `ns` to host:port gets: "S1", "S2" or "ERR <errno>".
  std::string reach(const std::string& ns, const std::string& host, int port) {
    return first(net.connect(ns, host, port));
  }

  ~World() {
    if (proxy) proxy->stop();
    proxy.reset();
    if (nft) (void)nft->apply(deleteTableText(options.table));
    client.reset();
    if (server) server->stop();
    server.reset();
    if (!dir.empty()) std::filesystem::remove_all(dir);
    inNode.reset();
  }
};

}  // namespace

TEST_CASE("netproxy: ClusterIP, NodePort on 127.0.0.1, refusal, type changes, drift, DNS",
          "[root][kernel][netproxy]") {
  World w;
  if (!w.setUp()) return;
  w.startProxy();

  // A Service with hand-written Endpoints at S1, one without any.
  w.post(kSvcPath, service("web", "10.96.1.10"));
  w.post(kEpPath, endpoints("web", {"10.250.2.2"}));
  w.post(kSvcPath, service("none", "10.96.1.11"));
  CHECK(eventually([&] { return w.reach(w.net.pod, "10.96.1.10", 80) == "S1"; }));
  // No ready endpoint: refused at once (TCP reset), never a hang.
  CHECK(w.reach(w.net.pod, "10.96.1.11", 80) == "ERR ECONNREFUSED");
  // An unallocated address of the service range: refused too.
  CHECK(w.reach(w.net.pod, "10.96.1.99", 80) == "ERR ECONNREFUSED");

  // Endpoints change: S2 only.
  auto ep = w.client->get(kEpPath + "/web");
  REQUIRE(ep);
  (*ep)["subsets"] = endpoints("web", {"10.250.3.2"})["subsets"];
  REQUIRE(w.client->put(kEpPath + "/web", *ep));
  CHECK(eventually([&] { return w.reach(w.net.pod, "10.96.1.10", 80) == "S2"; }));

  SECTION("type changes ClusterIP -> NodePort -> LoadBalancer -> ClusterIP") {
    Json np = w.patch(kSvcPath + "/web", {{"spec", {{"type", "NodePort"}}}});
    int nodePort = np["spec"]["ports"][0]["nodePort"];
    REQUIRE(nodePort >= 30000);
    CHECK(eventually([&] { return w.reach(w.net.node, "127.0.0.1", nodePort) == "S2"; }));
    CHECK(w.reach(w.net.pod, "10.250.1.1", nodePort) == "S2");  // node address, from a pod

    Json lb = w.patch(kSvcPath + "/web", {{"spec", {{"type", "LoadBalancer"}}}});
    std::string lbIp = lb["status"]["loadBalancer"]["ingress"][0]["ip"];
    CHECK(lbIp.rfind("10.255.0.", 0) == 0);
    CHECK(eventually([&] { return w.reach(w.net.pod, lbIp, 80) == "S2"; }));
    CHECK(w.reach(w.net.node, lbIp, 80) == "S2");  // from the host too
    CHECK(w.reach(w.net.node, "127.0.0.1", nodePort) == "S2");

    w.patch(kSvcPath + "/web", {{"spec", {{"type", "ClusterIP"}}}});
    CHECK(eventually([&] { return w.reach(w.net.pod, lbIp, 80) == "ERR ECONNREFUSED"; }));
    CHECK(w.reach(w.net.node, "127.0.0.1", nodePort) == "ERR ECONNREFUSED");
    CHECK(w.reach(w.net.pod, "10.96.1.10", 80) == "S2");
  }

  SECTION("LoadBalancer and externalIPs: Cluster policy masquerades, Local keeps the source") {
    Json lb = w.patch(
        kSvcPath + "/web",
        {{"spec", {{"type", "LoadBalancer"}, {"externalIPs", Json::array({"192.0.2.50"})}}}});
    std::string lbIp = lb["status"]["loadBalancer"]["ingress"][0]["ip"];
    auto answer = [&](const std::string& ip) {
      auto lines = w.net.connect(w.net.pod, ip, 80);
      return lines.empty() ? std::string("(no output)") : lines[0];
    };
    // Cluster policy: the endpoint sees the node (the address facing it).
    CHECK(eventually([&] { return answer(lbIp) == "S2 10.250.3.1"; }));
    CHECK(answer("192.0.2.50") == "S2 10.250.3.1");
    // The ClusterIP keeps a pod's source either way.
    CHECK(answer("10.96.1.10") == "S2 10.250.1.2");
    w.patch(kSvcPath + "/web", {{"spec", {{"externalTrafficPolicy", "Local"}}}});
    CHECK(eventually([&] { return answer(lbIp) == "S2 10.250.1.2"; }));
    CHECK(answer("192.0.2.50") == "S2 10.250.1.2");
  }

  SECTION("drift repair: a deleted table is back within the resync period") {
    REQUIRE(run("nft delete table ip " + w.options.table).status == 0);
    CHECK(eventually([&] { return w.reach(w.net.pod, "10.96.1.10", 80) == "S2"; }));
    CHECK(w.reach(w.net.pod, "10.96.1.11", 80) == "ERR ECONNREFUSED");
    // An edited rule set is repaired as well: flush every chain.
    REQUIRE(run("nft flush table ip " + w.options.table).status == 0);
    CHECK(eventually([&] { return w.reach(w.net.pod, "10.96.1.10", 80) == "S2"; }));
  }

  SECTION("a deleted Service's address is refused; stop leaves the rules in place") {
    REQUIRE(w.client->del(kSvcPath + "/none"));
    w.post(kSvcPath, service("gone", "10.96.1.12"));
    w.post(kEpPath, endpoints("gone", {"10.250.2.2"}));
    CHECK(eventually([&] { return w.reach(w.net.pod, "10.96.1.12", 80) == "S1"; }));
    REQUIRE(w.client->del(kSvcPath + "/gone"));
    CHECK(eventually([&] { return w.reach(w.net.pod, "10.96.1.12", 80) == "ERR ECONNREFUSED"; }));
    w.proxy->stop();
    CHECK(w.reach(w.net.pod, "10.96.1.10", 80) == "S2");
  }

  SECTION("cluster DNS through the kube-dns ClusterIP, from a pod") {
    DnsServer* dns = w.proxy->dns();
    REQUIRE(dns);
    REQUIRE(bootstrapDnsService(*w.client, dns->address(), dns->port()).ok());
    REQUIRE(bootstrapDnsService(*w.client, dns->address(), dns->port()).ok());  // idempotent
    auto kubeDns = w.client->get("/api/v1/namespaces/kube-system/services/kube-dns");
    REQUIRE(kubeDns);
    CHECK((*kubeDns)["spec"]["clusterIP"] == "10.96.0.10");
    // A tiny client in the pod namespace sends the ldns-built query as bytes.
    std::string q = query("web.default.svc.cluster.local.", LDNS_RR_TYPE_A, 321);
    std::string hex;
    for (unsigned char c : q) {
      char b[3];
      snprintf(b, sizeof b, "%02x", c);
      hex += b;
    }
    auto ask = [&] {
      CmdResult r = run("ip netns exec " + w.net.pod +
                        " python3 -c \"import socket,sys;s=socket.socket(socket.AF_INET,"
                        "socket.SOCK_DGRAM);s.settimeout(2);s.sendto(bytes.fromhex('" +
                        hex + "'),('10.96.0.10',53));print(s.recv(4096).hex())\"");
      std::string out;
      for (size_t i = 0; i + 1 < r.out.size() && isxdigit(r.out[i]) && isxdigit(r.out[i + 1]);
           i += 2)
        out.push_back(static_cast<char>(std::stoi(r.out.substr(i, 2), nullptr, 16)));
      return describe(out);
    };
    CHECK(
        eventually([&] { return ask() == "NOERROR web.default.svc.cluster.local. A 10.96.1.10"; }));
  }
}

TEST_CASE("netproxy: session affinity sticks, and spreads again after its timeout",
          "[root][kernel][netproxy]") {
  World w;
  if (!w.setUp()) return;
  w.options.dns = false;
  w.startProxy();
  Json svc = service("sticky", "10.96.2.10");
  svc["spec"]["sessionAffinity"] = "ClientIP";
  svc["spec"]["sessionAffinityConfig"] = {{"clientIP", {{"timeoutSeconds", 1}}}};
  w.post(kSvcPath, svc);
  w.post(kEpPath, endpoints("sticky", {"10.250.2.2", "10.250.3.2"}));
  CHECK(eventually([&] { return w.reach(w.net.pod, "10.96.2.10", 80).rfind("S", 0) == 0; }));
  // 15 connections in a row: one answer.
  auto answers = w.net.connect(w.net.pod, "10.96.2.10", 80, 15);
  std::set<std::string> seen;
  for (const auto& a : answers) seen.insert(a.substr(0, a.find(' ')));
  CHECK(answers.size() == 15);
  CHECK(seen.size() == 1);
  // After the timeout each new choice is random again: over 12 rounds (each
  // after the 1 s timeout passed) both endpoints show up (all equal: p = 2^-11).
  std::set<std::string> spread;
  for (int i = 0; i < 12 && spread.size() < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1300));
    spread.insert(w.reach(w.net.pod, "10.96.2.10", 80));
  }
  CHECK(spread == std::set<std::string>{"S1", "S2"});

  // Affinity off: takes effect at once (connections spread within 30 tries).
  w.patch(kSvcPath + "/sticky", {{"spec", {{"sessionAffinity", "None"}}}});
  CHECK(eventually([&] {
    std::set<std::string> s;
    for (const auto& a : w.net.connect(w.net.pod, "10.96.2.10", 80, 30))
      s.insert(a.substr(0, a.find(' ')));
    return s == std::set<std::string>{"S1", "S2"};
  }));
}

TEST_CASE("netproxy: a restart keeps an established connection and takes the table over",
          "[root][kernel][netproxy]") {
  World w;
  if (!w.setUp()) return;
  w.options.dns = false;
  w.startProxy();
  w.post(kSvcPath, service("echo", "10.96.3.10"));
  w.post(kEpPath, endpoints("echo", {"10.250.2.2"}, 9090));

  // A line echo server at S1:9090, and a client in P that holds one connection
  // to the ClusterIP: it sends "one", waits for a flag file, then sends "two".
  char tmpl[] = "/tmp/skiff-netproxy-echo-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  std::ofstream(dir + "/echo.py") << R"(import socket, threading
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 9090))
s.listen(16)
def serve(c):
    f = c.makefile("rwb")
    for line in f:
        f.write(b"echo " + line)
        f.flush()
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
)";
  std::ofstream(dir + "/hold.py") << R"(import os, socket, sys, time
host, flag, out = sys.argv[1], sys.argv[2], sys.argv[3]
with open(out, "w", buffering=1) as o:
    try:
        c = socket.create_connection((host, 80), timeout=5)
        f = c.makefile("rwb")
        f.write(b"one\n"); f.flush()
        o.write(f.readline().decode())
        while not os.path.exists(flag):
            time.sleep(0.02)
        f.write(b"two\n"); f.flush()
        o.write(f.readline().decode() or "EOF\n")
    except OSError as e:
        o.write("ERR %s\n" % e)
)";
  auto spawn = [](std::vector<std::string> args) {
    pid_t pid = fork();
    if (pid == 0) {
      int null = open("/dev/null", O_RDWR);
      dup2(null, 0);
      dup2(null, 1);
      dup2(null, 2);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    return pid;
  };
  struct Reaper {
    std::vector<pid_t> pids;
    std::string dir;
    ~Reaper() {
      for (pid_t p : pids) {
        kill(p, SIGKILL);
        waitpid(p, nullptr, 0);
      }
      std::filesystem::remove_all(dir);
    }
  } reaper{{}, dir};
  reaper.pids.push_back(spawn(
      {"/usr/sbin/ip", "netns", "exec", w.net.server1, "/usr/bin/python3", dir + "/echo.py"}));
  auto lines = [&] {
    std::ifstream in(dir + "/out");
    std::vector<std::string> v;
    for (std::string l; std::getline(in, l);) v.push_back(l);
    return v;
  };
  // Wait for the rules and the echo server: a throw-away connection first.
  REQUIRE(eventually([&] {
    return run("ip netns exec " + w.net.pod +
               " python3 -c \"import socket;c=socket.create_connection(('10.96.3.10',80),1);"
               "c.sendall(b'x\\n');assert c.recv(10)\"")
               .status == 0;
  }));
  pid_t holder = spawn({"/usr/sbin/ip", "netns", "exec", w.net.pod, "/usr/bin/python3",
                        dir + "/hold.py", "10.96.3.10", dir + "/flag", dir + "/out"});
  reaper.pids.push_back(holder);
  REQUIRE(eventually([&] { return lines().size() >= 1; }));
  CHECK(lines()[0] == "echo one");

  // Restart: the old netproxy exits (rules stay), the Endpoints change while
  // none runs, a new one takes the table over with a full sync (refill).
  w.proxy->stop();
  w.proxy.reset();
  auto ep = w.client->get(kEpPath + "/echo");
  REQUIRE(ep);
  w.post(kSvcPath, service("later", "10.96.3.11"));
  w.post(kEpPath, endpoints("later", {"10.250.3.2"}));
  w.startProxy();
  CHECK(w.proxy->stats().lastFull.mode == "refill");  // the table was kept, not recreated
  CHECK(eventually([&] { return w.reach(w.net.pod, "10.96.3.11", 80) == "S2"; }));

  std::ofstream(dir + "/flag") << "go";
  int status = 0;
  REQUIRE(eventually([&] { return waitpid(holder, &status, WNOHANG) == holder; }));
  reaper.pids.erase(std::find(reaper.pids.begin(), reaper.pids.end(), holder));
  auto got = lines();
  REQUIRE(got.size() == 2);
  CHECK(got[1] == "echo two");
}

TEST_CASE("localIPv4Addresses: all of the node's, or one interface's", "[netproxy]") {
  auto all = skiff::netproxy::localIPv4Addresses();
  CHECK(std::find(all.begin(), all.end(), "127.0.0.1") != all.end());
  // The loopback interface holds 127.0.0.1 and nothing of the other links.
  auto lo = skiff::netproxy::localIPv4Addresses("lo");
  REQUIRE(!lo.empty());
  for (const auto& a : lo) CHECK(a.rfind("127.", 0) == 0);
  CHECK(skiff::netproxy::localIPv4Addresses("no-such-if0").empty());
}
