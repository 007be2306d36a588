// bench_first_conn: first-connection latency to the last of N Services (N = 1,
// 1,000, 10,000), skiff's nftables table against a kube-proxy-iptables-shaped
// ruleset — where the per-packet cost of Service rules shows.
//
// Only a connection's first packet walks the NAT rules (conntrack handles the
// rest), so the cost of a ruleset is the time of a new connection's handshake.
// kube-proxy's iptables mode matches a new connection against KUBE-SERVICES one
// rule per Service, in order; skiff looks it up in a map. So: skiff stays
// flat, iptables grows with N.
//
// Layout, all inside two network namespaces this process makes, so the host's
// nftables and iptables rules are never touched and everything disappears
// with the process (even when it is killed; see bench_net.h):
//
//   namespace A (the process's own, unshare):      namespace B ("the pod"):
//     client sockets, the rules under test,          eth0 10.123.0.2 + .3/24,
//     bridge br0 10.123.0.1/24 ---- veth ----------  a TCP server on :8080
//     route 10.96.0.0/12 dev br0 (as skiff wants a host to have)
//
// Each Service has one ClusterIP port (80 -> 8080) and two endpoints; only the
// last Service's endpoints are the server (10.123.0.2 and .3), the others'
// addresses are never reached. For each N, in turn:
//   - skiff: the real Proxier (netproxy/proxier.h) loads the Model through
//     libnftables into `ip skiff_bfc<pid>` (a full sync), then the table goes;
//   - kube-proxy iptables shape, loaded with iptables-restore: PREROUTING and
//     OUTPUT -> KUBE-SERVICES (one `-d CIP -p tcp --dport 80` rule per Service,
//     then the KUBE-NODEPORTS rule) -> KUBE-SVC-x (KUBE-MARK-MASQ for
//     non-pod sources, `-m statistic --mode random --probability 0.5` to the
//     first KUBE-SEP-y, else the second) -> KUBE-SEP-y (MARK-MASQ for hairpin,
//     DNAT) and KUBE-POSTROUTING's MASQUERADE, comments included as kube-proxy
//     writes them; then the nat table is restored empty.
// A sample is one connect() to the last Service's ClusterIP:80, from SYN to
// established (a new source port, so a new conntrack entry, each time),
// interleaved with a connect() straight to the endpoint (10.123.0.2:8080) as the
// baseline under the same rules; the client resets the connection (no
// TIME_WAIT). Prints p50/p90 of both, and the load time of each ruleset.
// Sampling starts --settle-ms after a load: sampled at once after loading
// 10,000 Services into skiff's table, every new connection (direct ones too)
// took ~10 us longer (p50 32 vs 19 us; 2 s later it was gone; likely the
// kernel still growing the sets' hash tables, which it does in a deferred
// worker). In a cluster the Services exist long before the connection timed
// here; --settle-ms 0 shows the transient.
//
// iptables backend: iptables-legacy (Debian package `iptables`). It is the
// kube-proxy iptables mode most clusters ran, and it loads 10,000 Services in
// about a second, where iptables-nft takes about a minute on this kernel
// (/work/shared/notes/nftables-at-scale.md). Legacy needs the ip_tables and
// iptable_nat kernel code: built in here (CONFIG_IP_NF_IPTABLES_LEGACY=y, no
// module to load); on a modular kernel check `modprobe -n ip_tables`.
// `--iptables nft` measures iptables-nft instead.
//
// Usage (root): bench_first_conn [--samples 1000] [--counts 1,1000,10000]
//                                [--iptables legacy|nft] [--settle-ms 2000]
// Prints one JSON object per line.
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_net.h"
#include "bench/bench_util.h"
#include "kubelet/netlink.h"
#include "kubelet/sandbox.h"
#include "netproxy/nft.h"
#include "netproxy/proxier.h"
#include "netproxy/ruleset.h"

using namespace skiff;
using namespace skiff::bench;
namespace nl = skiff::kubelet::netlink;

namespace {

const char* kBridgeIP = "10.123.0.1";
const char* kPodIP = "10.123.0.2";       // endpoint 1 of the last Service, and the baseline
const char* kPodIP2 = "10.123.0.3";      // endpoint 2 of the last Service
const char* kPodCidr = "10.244.0.0/16";  // kube-proxy's "not from a pod" masquerade test
const int kServerPort = 8080;

std::string ip(int a, int b, int c, int d) {
  return std::to_string(a) + "." + std::to_string(b) + "." + std::to_string(c) + "." +
         std::to_string(d);
}

// ClusterIP of Service i: 10.96.0.1 upwards.
std::string clusterIP(int i) {
  int h = i + 1;
  return ip(10, 96 + h / 65536, (h / 256) % 256, h % 256);
}

// Endpoint e (0, 1) of Service i; the last Service's are the server's.
std::string endpointIP(int i, int e, int n) {
  if (i == n - 1) return e == 0 ? kPodIP : kPodIP2;
  return ip(10, 124 + e, (i / 256) % 256, i % 256);
}

netproxy::Model skiffModel(int n) {
  netproxy::Model m;
  for (int i = 0; i < n; ++i) {
    netproxy::ServiceInfo s;
    s.ns = "bench";
    s.name = "svc-" + std::to_string(i);
    s.clusterIPs = {clusterIP(i)};
    netproxy::ServicePortInfo p;
    p.port = 80;
    for (int e = 0; e < 2; ++e) p.endpoints.push_back({endpointIP(i, e, n), kServerPort});
    std::sort(p.endpoints.begin(), p.endpoints.end());
    s.ports.push_back(p);
    m.services[s.key()] = s;
  }
  return m;
}

// The nat table kube-proxy's iptables mode writes for n ClusterIP Services of
// two endpoints each (iptables-restore input; chain names shaped like its
// hashed ones).
std::string kubeProxyRuleset(int n) {
  std::string chains, rules;
  chains.reserve(n * 100);
  rules.reserve(n * 900);
  char name[64];
  auto svcChain = [&](int i) {
    std::snprintf(name, sizeof name, "KUBE-SVC-%016X", i);
    return std::string(name);
  };
  auto sepChain = [&](int i, int e) {
    std::snprintf(name, sizeof name, "KUBE-SEP-%016X", i * 2 + e);
    return std::string(name);
  };
  for (int i = 0; i < n; ++i) {
    std::string svc = svcChain(i), key = "bench/svc-" + std::to_string(i), cip = clusterIP(i);
    chains += ":" + svc + " - [0:0]\n";
    rules += "-A KUBE-SERVICES -d " + cip + "/32 -p tcp -m comment --comment \"" + key +
             " cluster IP\" -m tcp --dport 80 -j " + svc + "\n";
    rules += "-A " + svc + " ! -s " + kPodCidr + " -d " + cip +
             "/32 -p tcp -m comment --comment \"" + key +
             " cluster IP\" -m tcp --dport 80 -j KUBE-MARK-MASQ\n";
    for (int e = 0; e < 2; ++e) {
      std::string sep = sepChain(i, e), ep = endpointIP(i, e, n);
      chains += ":" + sep + " - [0:0]\n";
      rules += "-A " + svc + " -m comment --comment \"" + key + " -> " + ep + ":8080\"" +
               (e == 0 ? " -m statistic --mode random --probability 0.50000000000" : "") + " -j " +
               sep + "\n";
      rules += "-A " + sep + " -s " + ep + "/32 -m comment --comment \"" + key +
               "\" -j KUBE-MARK-MASQ\n";
      rules += "-A " + sep + " -p tcp -m comment --comment \"" + key +
               "\" -m tcp -j DNAT --to-destination " + ep + ":8080\n";
    }
  }
  return "*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
         ":POSTROUTING ACCEPT [0:0]\n:KUBE-SERVICES - [0:0]\n:KUBE-NODEPORTS - [0:0]\n"
         ":KUBE-POSTROUTING - [0:0]\n:KUBE-MARK-MASQ - [0:0]\n" +
         chains +
         "-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n"
         "-A OUTPUT -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n"
         "-A POSTROUTING -m comment --comment \"kubernetes postrouting rules\" -j "
         "KUBE-POSTROUTING\n"
         "-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000\n"
         "-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN\n"
         "-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0\n"
         "-A KUBE-POSTROUTING -m comment --comment \"kubernetes service traffic requiring "
         "SNAT\" -j MASQUERADE --random-fully\n" +
         rules +
         "-A KUBE-SERVICES -m comment --comment \"kubernetes service nodeports; NOTE: this must "
         "be the last rule in this chain\" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS\n"
         "COMMIT\n";
}

// Feeds `text` to `<restore>` (e.g. iptables-legacy-restore); true on exit 0.
bool restore(const std::string& restoreCmd, const std::string& text) {
  FILE* p = ::popen((restoreCmd + " -w 5 1>&2").c_str(), "w");
  if (!p) return false;
  std::fwrite(text.data(), 1, text.size(), p);
  return ::pclose(p) == 0;
}

struct Latency {
  double serviceP50 = 0, serviceP90 = 0, directP50 = 0, directP90 = 0;
  int failures = 0;
};

// Alternating samples: ClusterIP of the last Service, then the endpoint
// directly ("" = the endpoint only). A few warm-up connects first (neighbour
// entries, caches).
Latency measure(const std::string& serviceIP, int samples) {
  Latency out;
  std::vector<double> svc, direct;
  for (int i = 0; i < samples + 20; ++i) {
    double us = 0;
    for (int which = serviceIP.empty() ? 1 : 0; which < 2; ++which) {
      int fd = which == 0 ? connectTimed(serviceIP, 80, false, 2000, &us)
                          : connectTimed(kPodIP, kServerPort, false, 2000, &us);
      if (fd < 0) {
        out.failures++;
        continue;
      }
      resetClose(fd);
      if (i >= 20) (which == 0 ? svc : direct).push_back(us);
    }
    if (out.failures > 10) break;
  }
  out.serviceP50 = percentile(svc, 0.5);
  out.serviceP90 = percentile(svc, 0.9);
  out.directP50 = percentile(direct, 0.5);
  out.directP90 = percentile(direct, 0.9);
  return out;
}

void printError(const std::string& what) {
  std::printf("{\"bench\":\"first_conn\",\"error\":\"%s\"}\n", what.c_str());
  std::fflush(stdout);
}

void printResult(const char* ruleset, int n, double loadMs, int samples, const Latency& l) {
  std::printf(
      "{\"bench\":\"first_conn\",\"ruleset\":\"%s\",\"services\":%d,\"endpoints_per_service\":2,"
      "\"load_ms\":%.1f,\"samples\":%d,\"last_service_connect_p50_us\":%.1f,"
      "\"last_service_connect_p90_us\":%.1f,\"direct_connect_p50_us\":%.1f,"
      "\"direct_connect_p90_us\":%.1f,\"service_minus_direct_p50_us\":%.1f,\"failures\":%d}\n",
      ruleset, n, loadMs, samples, l.serviceP50, l.serviceP90, l.directP50, l.directP90,
      l.serviceP50 - l.directP50, l.failures);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  int samples = 1000, settleMs = 2000;
  std::vector<int> counts = {1, 1000, 10000};
  std::string backend = "legacy";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i], v = argv[i + 1];
    if (a == "--samples") samples = std::atoi(v.c_str());
    if (a == "--iptables") backend = v;
    if (a == "--settle-ms") settleMs = std::atoi(v.c_str());
    if (a == "--counts") {
      counts.clear();
      std::stringstream ss(v);
      for (std::string c; std::getline(ss, c, ',');) counts.push_back(std::atoi(c.c_str()));
    }
  }
  if (::geteuid() != 0) {
    std::printf("{\"bench\":\"first_conn\",\"skipped\":\"needs root\"}\n");
    return 0;
  }
  if (backend != "legacy" && backend != "nft") {
    printError("--iptables: legacy or nft");
    return 2;
  }
  const std::string restoreCmd = "iptables-" + backend + "-restore";
  const std::string rulesetName = "kube_proxy_iptables_" + backend;
  bool haveIptables = sh("command -v " + restoreCmd + " >/dev/null 2>&1 && echo yes") == "yes";

  // Namespace A: this process from here on (threads made later inherit it),
  // with a private mount namespace whose /sys shows A's links (the veth code
  // sets hairpin mode through sysfs, as the kubelet does).
  if (::unshare(CLONE_NEWNET | CLONE_NEWNS) != 0 ||
      ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
      ::mount("sysfs", "/sys", "sysfs", 0, nullptr) != 0) {
    printError(std::string("private network and mount namespace: ") + std::strerror(errno));
    return 1;
  }
  auto podNs = newNetns();
  if (!podNs.ok()) {
    printError(podNs.error().message);
    return 1;
  }
  int b = *podNs;
  std::string cidrB = std::string(kBridgeIP) + "/24";
  Status st = nl::setLinkUp("lo");
  if (st.ok()) st = nl::ensureBridge("br0", cidrB);
  if (st.ok()) st = nl::createVeth("veth-pod", "eth0", b, "br0", 0);
  if (st.ok())
    st = kubelet::inNetns(netnsPath(b), [] {
      Status s = nl::setLinkUp("lo");
      if (s.ok()) s = nl::addAddress("eth0", std::string(kPodIP) + "/24");
      if (s.ok()) s = nl::addAddress("eth0", std::string(kPodIP2) + "/24");
      if (s.ok()) s = nl::setLinkUp("eth0");
      if (s.ok()) s = nl::addDefaultRoute("eth0", kBridgeIP);
      return s;
    });
  int rc = 0;
  if (st.ok() && (sh("ip route add 10.96.0.0/12 dev br0 2>&1", &rc), rc != 0))
    st = makeError(Code::kInternal, "ip route add 10.96.0.0/12 dev br0 failed");
  if (!st.ok()) {
    printError("network setup: " + st.error().message);
    return 1;
  }
  auto server = AcceptServer::start({kServerPort}, b, false);
  if (!server.ok()) {
    printError("server: " + server.error().message);
    return 1;
  }
  auto nft = netproxy::LibNftExecutor::create();
  if (!nft.ok()) {
    printError("libnftables: " + nft.error().message);
    return 1;
  }
  netproxy::RulesetConfig config;
  config.table = "skiff_bfc" + std::to_string(::getpid());
  config.nodeAddresses = {"127.0.0.1", kBridgeIP};
  config.serviceCidr = "10.96.0.0/12";

  // With no rules: the ClusterIP is unanswered, so only the direct figure counts.
  {
    Latency l = measure("", samples);
    std::printf(
        "{\"bench\":\"first_conn\",\"ruleset\":\"none\",\"services\":0,\"samples\":%d,"
        "\"direct_connect_p50_us\":%.1f,\"direct_connect_p90_us\":%.1f}\n",
        samples, l.directP50, l.directP90);
    std::fflush(stdout);
  }
  std::map<std::string, std::map<int, double>> p50;  // ruleset -> N -> added p50
  int exitCode = 0;
  for (int n : counts) {
    std::string target = clusterIP(n - 1);
    {
      netproxy::Proxier proxier(**nft, config);
      netproxy::Model model = skiffModel(n);
      auto t0 = Clock::now();
      Status s = proxier.sync(model);
      double loadMs = msSince(t0);
      if (!s.ok()) {
        printError("skiff full sync: " + s.error().message);
        exitCode = 1;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(settleMs));
      Latency l = measure(target, samples);
      printResult("skiff_nftables", n, loadMs, samples, l);
      p50["skiff_nftables"][n] = l.serviceP50;
      if (l.failures) exitCode = 1;
      (void)proxier.deleteTable();
    }
    if (!haveIptables) {
      printError(restoreCmd + " not found: apt-get install iptables (scripts/install-deps.sh)");
      exitCode = 1;
      continue;
    }
    std::string text = kubeProxyRuleset(n);
    auto t0 = Clock::now();
    bool loaded = restore(restoreCmd, text);
    double loadMs = msSince(t0);
    if (!loaded) {
      printError(restoreCmd + " failed");
      exitCode = 1;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(settleMs));
    Latency l = measure(target, samples);
    printResult(rulesetName.c_str(), n, loadMs, samples, l);
    p50[rulesetName][n] = l.serviceP50;
    if (l.failures) exitCode = 1;
    restore(restoreCmd, "*nat\nCOMMIT\n");  // empty: user chains gone too
  }
  (void)(*nft)->apply(netproxy::deleteTableText(config.table));
  if (counts.size() > 1) {
    int lo = *std::min_element(counts.begin(), counts.end());
    int hi = *std::max_element(counts.begin(), counts.end());
    std::printf("{\"bench\":\"first_conn\",\"summary\":\"last_service_connect_p50_us\",");
    for (auto& [name, byN] : p50)
      if (byN.count(lo) && byN.count(hi))
        std::printf("\"%s_%d\":%.1f,\"%s_%d\":%.1f,\"%s_growth\":%.2f,", name.c_str(), lo, byN[lo],
                    name.c_str(), hi, byN[hi], name.c_str(), byN[lo] > 0 ? byN[hi] / byN[lo] : 0.0);
    std::printf("\"accepted_by_server\":%lu}\n", static_cast<unsigned long>((*server)->accepted()));
  }
  server->reset();
  ::close(b);
  return exitCode;
}
