// bench_netproxy: rule programming latency of netproxy's nftables data plane.
//
// Builds N Services x 4 endpoints (N = 1,000 and 10,000; one Service in ten with
// ClientIP affinity, one in five with a NodePort), then measures through the
// real Proxier and libnftables:
//   - full sync, median of 3, both ways the Proxier does it: "recreate" (the table
//     replaced in one libnftables text transaction) and "refill" (over an existing
//     table: rules by text, every element in one libnftnl/libmnl batch);
//   - incremental: one Service's endpoint changed, from apply() call to return
//     (the rule is live), p50/p99 over many changes; also with text generation;
//   - through the API: a real apiserver (in-process) holding N Services with
//     Endpoints and a NetProxy component watching it; one Endpoints PUT, from the
//     call to the NetProxy sync that made it live (the element is read back from
//     the kernel), p50/p99 — the path a pod's readiness change takes.
// Runs in a private network namespace (unshare), in a table of its own that it
// deletes at the end; needs root. Prints one JSON object per line.
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include <cstdlib>
#include <filesystem>
#include <thread>

#include "apiserver/server.h"
#include "bench/bench_util.h"
#include "client/kubeconfig.h"
#include "netproxy/netproxy.h"
#include "netproxy/nft.h"
#include "netproxy/proxier.h"
#include "netproxy/ruleset.h"

using namespace skiff;
using namespace skiff::netproxy;
using skiff::bench::loadAverage;
using skiff::bench::percentile;

namespace {

std::string ip(int a, int b, int c, int d) {
  return std::to_string(a) + "." + std::to_string(b) + "." + std::to_string(c) + "." +
         std::to_string(d);
}

Model makeModel(int n) {
  Model m;
  for (int i = 0; i < n; ++i) {
    ServiceInfo s;
    s.ns = "bench";
    s.name = "svc-" + std::to_string(i);
    s.clusterIPs = {ip(10, 96 + i / 65536, (i / 256) % 256, i % 256)};
    s.affinity = i % 10 == 0;
    ServicePortInfo p;
    p.port = 80;
    if (i % 5 == 0 && i / 5 < 2768) {
      s.type = "NodePort";
      p.nodePort = 30000 + i / 5;
    }
    for (int e = 0; e < 4; ++e) {
      int host = i * 4 + e;
      p.endpoints.push_back({ip(10, 244 + host / 65536, (host / 256) % 256, host % 256), 8080});
    }
    s.ports.push_back(p);
    m.services[s.key()] = s;
  }
  return m;
}

// CPU seconds (user + system) this process has used: the full sync's own cost,
// apart from waiting for a CPU on a shared machine.
double cpuMillis() {
  rusage u;
  getrusage(RUSAGE_SELF, &u);
  return (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e3 +
         (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e3;
}

void fail(const std::string& what, const Error& e) {
  std::printf("{\"bench\":\"netproxy\",\"error\":\"%s: %s\"}\n", what.c_str(), e.message.c_str());
  std::fflush(stdout);
}

// Endpoints change -> rule live, through a real apiserver and the NetProxy.
int apiLatency(int n, int samples, NftExecutor& nft) {
  char tmpl[] = "/tmp/skiff-bench-netproxy-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  struct Cleanup {
    std::string dir;
    ~Cleanup() { std::filesystem::remove_all(dir); }
  } cleanup{dir};
  apiserver::ServerOptions so;
  so.dataDir = dir;
  so.listen = "127.0.0.1:0";
  so.fsync = false;
  auto server = apiserver::ApiServer::start(so);
  if (!server) {
    fail("apiserver", server.error());
    return 1;
  }
  auto cfg = client::loadKubeconfig((*server)->kubeconfigPath());
  if (!cfg) {
    fail("kubeconfig", cfg.error());
    return 1;
  }
  client::RestClient rc(*cfg);
  const std::string ns = "/api/v1/namespaces/default/";
  std::vector<api::Json> eps(n);
  auto endpointsFor = [](int i, int gen) {
    api::Json addrs = api::Json::array();
    for (int e = 0; e < 4; ++e) addrs.push_back({{"ip", ip(10, 200 + e, i / 256, i % 256)}});
    addrs[3]["ip"] = ip(10, 250, (gen / 256) % 256, gen % 256);
    return addrs;
  };
  for (int i = 0; i < n; ++i) {
    std::string name = "svc-" + std::to_string(i);
    api::Json svc = {{"metadata", {{"name", name}}},
                     {"spec", {{"ports", api::Json::array({{{"port", 80}}})}}}};
    api::Json ep = {
        {"metadata", {{"name", name}}},
        {"subsets", api::Json::array({{{"addresses", endpointsFor(i, i)},
                                       {"ports", api::Json::array({{{"port", 8080}}})}}})}};
    auto a = rc.post(ns + "services", svc);
    auto b = rc.post(ns + "endpoints", ep);
    if (!a || !b) {
      fail("create services", a ? b.error() : a.error());
      (*server)->stop();
      return 1;
    }
    eps[i] = *b;
  }
  netproxy::NetProxyOptions o;
  o.table = "skiff_bapi" + std::to_string(getpid());
  o.nodeAddresses = {"127.0.0.1", "192.168.77.1"};
  o.dns = false;
  o.executor = &nft;
  o.resyncPeriod = std::chrono::hours(1);  // no periodic full sync inside the samples
  int rcode = 0;
  {
    netproxy::NetProxy proxy(*cfg, o);
    auto start = std::chrono::steady_clock::now();
    Status st = proxy.start();
    if (!st.ok() || !proxy.waitForSync(std::chrono::minutes(5))) {
      fail("netproxy start", st.ok() ? makeError(Code::kInternal, "no first sync") : st.error());
      (*server)->stop();
      return 1;
    }
    double firstMs =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    std::mt19937 rng(7);
    std::uniform_int_distribution<int> pick(0, n - 1);
    std::vector<double> lat;
    for (int s = 0; s < samples; ++s) {
      int i = pick(rng);
      api::Json next = eps[i];
      next["subsets"][0]["addresses"] = endpointsFor(i, 100000 + s);
      std::string want = next["subsets"][0]["addresses"][3]["ip"];
      std::string clusterIP;
      uint64_t before = proxy.stats().syncs;
      auto t0 = std::chrono::steady_clock::now();
      auto put = rc.put(ns + "endpoints/svc-" + std::to_string(i), next);
      if (!put) {
        fail("put endpoints", put.error());
        rcode = 1;
        break;
      }
      eps[i] = *put;
      // Wait for syncs; after each, check the kernel for the new endpoint.
      bool live = false;
      double ms = 0;
      for (int spin = 0; spin < 200000 && !live; ++spin) {
        auto st2 = proxy.stats();
        if (st2.syncs == before) {
          std::this_thread::sleep_for(std::chrono::microseconds(100));
          continue;
        }
        before = st2.syncs;
        ms = std::chrono::duration<double, std::milli>(st2.lastSyncAt - t0).count();
        auto got = nft.listJson("list map ip " + o.table + " ep_4");
        live = got.ok() && got->find("\"" + want + "\"") != std::string::npos;
      }
      if (!live) {
        fail("api latency", makeError(Code::kInternal, "change never became live"));
        rcode = 1;
        break;
      }
      lat.push_back(ms);
    }
    if (!rcode) {
      std::printf(
          "{\"bench\":\"netproxy\",\"op\":\"endpoints_put_to_rule_live\",\"via\":"
          "\"apiserver+informer+NetProxy\",\"services\":%d,\"endpoints_per_service\":4,"
          "\"samples\":%d,\"p50_ms\":%.2f,\"p99_ms\":%.2f,\"first_full_sync_ms\":%.0f,"
          "\"loadavg\":%.1f}\n",
          n, samples, percentile(lat, 0.5), percentile(lat, 0.99), firstMs, loadAverage());
      std::fflush(stdout);
    }
    proxy.stop();
  }
  (void)nft.apply(deleteTableText(o.table));
  (*server)->stop();
  return rcode;
}

}  // namespace

int main(int argc, char** argv) {
  int samples = argc > 1 ? std::atoi(argv[1]) : 300;
  if (unshare(CLONE_NEWNET) != 0) {
    std::printf(
        "{\"bench\":\"netproxy\",\"error\":\"unshare(CLONE_NEWNET) failed: run as root\"}\n");
    return 1;
  }
  auto nft = LibNftExecutor::create();
  if (!nft.ok()) {
    fail("libnftables", nft.error());
    return 1;
  }
  RulesetConfig config;
  config.table = "skiff_bench" + std::to_string(getpid());
  config.nodeAddresses = {"127.0.0.1", "192.168.77.1"};
  config.serviceCidr = "10.96.0.0/12";
  std::mt19937 rng(42);
  int rc = 0;
  for (int n : {1000, 10000}) {
    Model model = makeModel(n);
    Proxier proxier(**nft, config);
    // Full sync, both ways: "recreate" (no table yet: libnftables text, one
    // transaction) and "refill" (table exists: rules by text, then every element
    // in one libnftnl batch).
    for (const char* mode : {"recreate", "refill"}) {
      std::vector<double> full, fullBuild, fullCpu;
      size_t bytes = 0;
      for (int i = 0; i < 3; ++i) {
        if (std::string(mode) == "recreate") {
          if (!proxier.deleteTable().ok()) rc = 1;
        }
        proxier.forceFullSync();
        double cpu0 = cpuMillis();
        Status st = proxier.sync(model);
        fullCpu.push_back(cpuMillis() - cpu0);
        if (!st.ok() || proxier.lastSync().mode != mode) {
          fail(std::string("full sync ") + mode,
               st.ok() ? makeError(Code::kInternal, "ran as " + proxier.lastSync().mode)
                       : st.error());
          rc = 1;
          break;
        }
        full.push_back(proxier.lastSync().applyMillis);
        fullBuild.push_back(proxier.lastSync().buildMillis);
        bytes = proxier.lastSync().textBytes;
      }
      if (rc) break;
      std::printf(
          "{\"bench\":\"netproxy\",\"op\":\"full_sync\",\"mode\":\"%s\",\"via\":\"%s\","
          "\"services\":%d,\"endpoints_per_service\":4,\"apply_ms_median\":%.1f,"
          "\"build_ms_median\":%.1f,\"total_ms_median\":%.1f,\"cpu_ms_median\":%.1f,"
          "\"text_bytes\":%zu,\"runs\":3,\"loadavg\":%.1f}\n",
          mode,
          std::string(mode) == "recreate" ? "libnftables_text" : "text_rules+libnftnl_elements", n,
          percentile(full, 0.5), percentile(fullBuild, 0.5),
          percentile(full, 0.5) + percentile(fullBuild, 0.5), percentile(fullCpu, 0.5), bytes,
          loadAverage());
      std::fflush(stdout);
    }
    if (rc) break;

    std::vector<double> apply, total;
    int lastIdx = 0;
    std::string lastEndpoint;
    std::uniform_int_distribution<int> pick(0, n - 1);
    for (int i = 0; i < samples; ++i) {
      int idx = pick(rng);
      lastIdx = idx;
      std::string key = "bench/svc-" + std::to_string(idx);
      auto& ep = model.services[key].ports[0].endpoints;
      ep[3].ip = ip(10, 250, (i / 256) % 256, i % 256);  // an endpoint replaced
      lastEndpoint = ep[3].ip;
      std::sort(ep.begin(), ep.end());
      auto start = std::chrono::steady_clock::now();
      Status st = proxier.sync(model, {key});
      double ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
              .count();
      if (!st.ok()) {
        fail("incremental sync", st.error());
        rc = 1;
        break;
      }
      apply.push_back(proxier.lastSync().applyMillis);
      total.push_back(ms);
    }
    if (rc) break;
    // The last change must be live in the kernel: read the element back.
    std::string last = "bench/svc-" + std::to_string(lastIdx);
    const auto& lastSvc = model.services[last];
    std::string get = "get element ip " + config.table + " ep_4 {";
    for (int e = 0; e < 4; ++e) {
      get += (e ? ", " : " ") + lastSvc.clusterIPs[0] + " . tcp . 80 . " + std::to_string(e);
    }
    auto got = (*nft)->listJson(get + " }");
    bool live = got.ok() && got->find(lastEndpoint) != std::string::npos;
    if (!live) rc = 1;
    std::printf("{\"bench\":\"netproxy\",\"op\":\"incremental_one_service\",\"verified_live\":%s,",
                live ? "true" : "false");
    std::printf(
        "\"via\":\"libnftables_text\","
        "\"services\":%d,\"endpoints_per_service\":4,\"samples\":%d,\"apply_p50_ms\":%.2f,"
        "\"apply_p99_ms\":%.2f,\"sync_p50_ms\":%.2f,\"sync_p99_ms\":%.2f,\"loadavg\":%.1f}\n",
        n, samples, percentile(apply, 0.5), percentile(apply, 0.99), percentile(total, 0.5),
        percentile(total, 0.99), loadAverage());
    std::fflush(stdout);
    if (!proxier.deleteTable().ok()) rc = 1;
  }
  Status st = (*nft)->apply(deleteTableText(config.table));
  (void)st;
  // The private namespace starts with lo down; the apiserver listens on it.
  if (rc == 0 && std::system("ip link set lo up") == 0) {
    for (int n : {1000, 10000}) {
      if (apiLatency(n, std::min(samples, 200), **nft) != 0) rc = 1;
    }
  }
  return rc;
}
