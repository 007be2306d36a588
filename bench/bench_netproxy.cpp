// bench_netproxy: rule programming latency of netproxy's nftables data plane.
//
// Builds N Services x 4 endpoints (N = 1,000 and 10,000; one Service in ten with
// ClientIP affinity, one in five with a NodePort), then measures through the
// real Proxier and libnftables:
//   - full sync, median of 3, both ways the Proxier does it: "recreate" (the table
//     replaced in one libnftables text transaction) and "refill" (over an existing
//     table: rules by text, every element in one libnftnl/libmnl batch);
//   - incremental: one Service's endpoint changed, from apply() call to return
//     (the rule is live), p50/p99 over many changes; also with text generation.
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

#include "netproxy/nft.h"
#include "netproxy/proxier.h"
#include "netproxy/ruleset.h"

using namespace skiff;
using namespace skiff::netproxy;

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

double loadAverage() {
  double l = 0;
  if (FILE* f = std::fopen("/proc/loadavg", "r")) {
    if (std::fscanf(f, "%lf", &l) != 1) l = 0;
    std::fclose(f);
  }
  return l;
}

double percentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(q * (v.size() - 1) + 0.5))];
}

void fail(const std::string& what, const Error& e) {
  std::printf("{\"bench\":\"netproxy\",\"error\":\"%s: %s\"}\n", what.c_str(), e.message.c_str());
  std::fflush(stdout);
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
  Status st = (*nft)->apply(deleteTableText(config));
  (void)st;
  return rc;
}
