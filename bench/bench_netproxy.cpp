// bench_netproxy: rule programming latency of netproxy's nftables data plane.
//
// Builds N Services x 4 endpoints (N = 1,000 and 10,000; one Service in ten with
// ClientIP affinity, one in five with a NodePort), then measures through the
// real Proxier and libnftables:
//   - full sync: the whole table replaced in one transaction (median of 3);
//   - incremental: one Service's endpoint changed, from apply() call to return
//     (the rule is live), p50/p99 over many changes; also with text generation.
// Also measures the same elements loaded through libnftnl/libmnl (flush + refill of
// every set in one netlink batch, no text parser) to compare the two paths.
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

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include <cstring>
#include <map>

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

// ---- The libnftnl/libmnl experiment -------------------------------------
// Refills every set and map of an existing table (flush + add all elements) in
// ONE netlink batch built with libnftnl, skipping libnftables' parser. Used only
// to measure what a binary element path would gain over text at 10,000 Services.

// Appends one key/data component in nftables register layout (4-byte aligned).
void putComponent(std::string& out, const std::string& text, bool lastIsIndex, bool isLast) {
  char reg[4] = {0, 0, 0, 0};
  in_addr a;
  if (text == "tcp" || text == "udp" || text == "sctp") {
    reg[0] = text == "tcp" ? IPPROTO_TCP : text == "udp" ? IPPROTO_UDP : IPPROTO_SCTP;
  } else if (inet_pton(AF_INET, text.c_str(), &a) == 1) {
    std::memcpy(reg, &a, 4);
  } else if (lastIsIndex && isLast) {
    uint32_t v = static_cast<uint32_t>(std::stoul(text));  // numgen: host byte order
    std::memcpy(reg, &v, 4);
  } else {
    uint16_t v = htons(static_cast<uint16_t>(std::stoul(text)));  // inet_service
    std::memcpy(reg, &v, 2);
  }
  out.append(reg, 4);
}

std::string encode(const std::string& text, bool lastIsIndex) {
  std::string out;
  size_t start = 0;
  while (true) {
    size_t dot = text.find(" . ", start);
    std::string part =
        text.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    putComponent(out, part, lastIsIndex, dot == std::string::npos);
    if (dot == std::string::npos) break;
    start = dot + 3;
  }
  return out;
}

// Returns the wall milliseconds of the batch, or -1 on failure (message in err).
double refillWithNftnl(const Model& model, const std::string& table, std::string& err) {
  auto t0 = std::chrono::steady_clock::now();
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> sets;
  for (const auto& [k, s] : model.services) {
    for (const auto& [key, value] : serviceRules(s).elements)
      sets[key.set].emplace_back(key.key, value);
  }
  std::vector<char> buf(64 << 20);
  mnl_nlmsg_batch* batch = mnl_nlmsg_batch_start(buf.data(), buf.size());
  uint32_t seq = 1;
  nftnl_batch_begin(static_cast<char*>(mnl_nlmsg_batch_current(batch)), seq++);
  mnl_nlmsg_batch_next(batch);
  uint32_t firstSeq = seq;
  for (const auto& [name, elems] : sets) {
    bool indexed = name.rfind("ep_", 0) == 0 || name.rfind("npep_", 0) == 0;
    {  // flush
      nftnl_set* s = nftnl_set_alloc();
      nftnl_set_set_str(s, NFTNL_SET_TABLE, table.c_str());
      nftnl_set_set_str(s, NFTNL_SET_NAME, name.c_str());
      nlmsghdr* nlh = nftnl_nlmsg_build_hdr(static_cast<char*>(mnl_nlmsg_batch_current(batch)),
                                            NFT_MSG_DELSETELEM, NFPROTO_IPV4, NLM_F_ACK, seq++);
      nftnl_set_elems_nlmsg_build_payload(nlh, s);
      mnl_nlmsg_batch_next(batch);
      nftnl_set_free(s);
    }
    for (size_t i = 0; i < elems.size(); i += 500) {
      nftnl_set* s = nftnl_set_alloc();
      nftnl_set_set_str(s, NFTNL_SET_TABLE, table.c_str());
      nftnl_set_set_str(s, NFTNL_SET_NAME, name.c_str());
      for (size_t j = i; j < std::min(elems.size(), i + 500); ++j) {
        nftnl_set_elem* e = nftnl_set_elem_alloc();
        std::string key = encode(elems[j].first, indexed);
        nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key.data(), key.size());
        const std::string& v = elems[j].second;
        if (v.rfind("goto ", 0) == 0) {
          nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_VERDICT, static_cast<uint32_t>(NFT_GOTO));
          nftnl_set_elem_set_str(e, NFTNL_SET_ELEM_CHAIN, v.substr(5).c_str());
        } else if (!v.empty()) {
          std::string data = encode(v, false);
          nftnl_set_elem_set(e, NFTNL_SET_ELEM_DATA, data.data(), data.size());
        }
        nftnl_set_elem_add(s, e);
      }
      nlmsghdr* nlh =
          nftnl_nlmsg_build_hdr(static_cast<char*>(mnl_nlmsg_batch_current(batch)),
                                NFT_MSG_NEWSETELEM, NFPROTO_IPV4, NLM_F_CREATE | NLM_F_ACK, seq++);
      nftnl_set_elems_nlmsg_build_payload(nlh, s);
      mnl_nlmsg_batch_next(batch);
      nftnl_set_free(s);
    }
  }
  uint32_t lastSeq = seq - 1;
  nftnl_batch_end(static_cast<char*>(mnl_nlmsg_batch_current(batch)), seq++);
  mnl_nlmsg_batch_next(batch);

  mnl_socket* nl = mnl_socket_open(NETLINK_NETFILTER);
  if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
    err = "mnl socket";
    if (nl) mnl_socket_close(nl);
    return -1;
  }
  int size = static_cast<int>(mnl_nlmsg_batch_size(batch)) + 4096;
  setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size);
  int rcv = 16 << 20;
  setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof rcv);
  double result = -1;
  if (mnl_socket_sendto(nl, mnl_nlmsg_batch_head(batch), mnl_nlmsg_batch_size(batch)) < 0) {
    err = std::string("sendto: ") + std::strerror(errno);
  } else {
    uint32_t acked = 0, need = lastSeq - firstSeq + 1;
    std::vector<char> rbuf(MNL_SOCKET_BUFFER_SIZE * 4);
    while (acked < need) {
      ssize_t n = mnl_socket_recvfrom(nl, rbuf.data(), rbuf.size());
      if (n <= 0) {
        err = "recv";
        break;
      }
      bool failed = false;
      for (nlmsghdr* h = reinterpret_cast<nlmsghdr*>(rbuf.data());
           mnl_nlmsg_ok(h, static_cast<int>(n));
           h = mnl_nlmsg_next(h, reinterpret_cast<int*>(&n))) {
        if (h->nlmsg_type == NLMSG_ERROR) {
          auto* e = static_cast<nlmsgerr*>(mnl_nlmsg_get_payload(h));
          if (e->error != 0) {
            err = std::string("kernel: ") + std::strerror(-e->error) + " at seq " +
                  std::to_string(h->nlmsg_seq);
            failed = true;
          }
          ++acked;
        }
      }
      if (failed) break;
    }
    if (err.empty()) {
      result =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    }
  }
  mnl_socket_close(nl);
  return result;
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
    std::vector<double> full, fullBuild, fullCpu;
    size_t bytes = 0;
    for (int i = 0; i < 3; ++i) {
      proxier.forceFullSync();
      double cpu0 = cpuMillis();
      Status st = proxier.sync(model);
      fullCpu.push_back(cpuMillis() - cpu0);
      if (!st.ok()) {
        fail("full sync", st.error());
        rc = 1;
        break;
      }
      full.push_back(proxier.lastSync().applyMillis);
      fullBuild.push_back(proxier.lastSync().buildMillis);
      bytes = proxier.lastSync().textBytes;
    }
    if (rc) break;
    std::printf(
        "{\"bench\":\"netproxy\",\"op\":\"full_sync\",\"via\":\"libnftables_text\",\"services\":%d,"
        "\"endpoints_per_service\":4,\"apply_ms_median\":%.1f,\"build_ms_median\":%.1f,"
        "\"total_ms_median\":%.1f,\"cpu_ms_median\":%.1f,\"text_bytes\":%zu,\"runs\":3,"
        "\"loadavg\":%.1f}\n",
        n, percentile(full, 0.5), percentile(fullBuild, 0.5),
        percentile(full, 0.5) + percentile(fullBuild, 0.5), percentile(fullCpu, 0.5), bytes,
        loadAverage());
    std::fflush(stdout);

    // The same elements through libnftnl/libmnl (flush + refill in one batch).
    std::vector<double> nftnl;
    std::string err;
    for (int i = 0; i < 3 && err.empty(); ++i) {
      double cpu0 = cpuMillis();
      double ms = refillWithNftnl(model, config.table, err);
      if (ms >= 0) nftnl.push_back(ms);
      if (i == 0 && ms >= 0) {
        std::printf(
            "{\"bench\":\"netproxy\",\"op\":\"refill_all_elements\",\"via\":\"libnftnl_batch\","
            "\"services\":%d,\"first_run_ms\":%.1f,\"first_run_cpu_ms\":%.1f}\n",
            n, ms, cpuMillis() - cpu0);
      }
    }
    if (!err.empty()) {
      std::printf("{\"bench\":\"netproxy\",\"op\":\"refill_all_elements\",\"error\":\"%s\"}\n",
                  err.c_str());
    } else {
      std::printf(
          "{\"bench\":\"netproxy\",\"op\":\"refill_all_elements\",\"via\":\"libnftnl_batch\","
          "\"services\":%d,\"ms_median\":%.1f,\"runs\":3,\"loadavg\":%.1f}\n",
          n, percentile(nftnl, 0.5), loadAverage());
    }
    std::fflush(stdout);

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
