// bench_pods: busybox `sleep` pods on a real node, latency from each create to
// Running as seen through a watch.
//
// Two setups, each on a fresh ephemeral cluster (`skiff up --ephemeral
// --detach`):
//   cluster  every component in the one `skiff up` process; its resident
//            memory with the pods running (apiserver included);
//   kubelet  `skiff up --disable kubelet` plus `skiff kubelet` as a process of
//            its own, with kernel names of its own, so its resident memory
//            is the kubelet's alone (conmon processes aside).
// In each: K pods one at a time (what a test user feels: create -> Running
// of one pod on an idle node), then N pods created at once (p50/p99, pods
// per second), then their deletion (until every pod object is gone).
// Then the floor: `runc run -d` of the same busybox rootfs, one container
// after another, no orchestration. podman is not installed here: skipped.
//
// Usage (root): bench_pods [--skiff build/skiff] [--pods 100] [--single 5]
//                          [--setup all|cluster|kubelet] [--no-floor]
// Prints one JSON object per line.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "api/json.h"
#include "bench/bench_util.h"
#include "client/kubeconfig.h"
#include "client/rest_client.h"
#include "kubelet/runc_runtime.h"

namespace fs = std::filesystem;
using skiff::api::Json;
using skiff::bench::Clock;
using skiff::bench::msSince;
using skiff::bench::percentile;
using skiff::bench::rssKb;
using skiff::bench::statusKb;
using skiff::bench::sh;

namespace {

Json podJson(const std::string& name, const std::string& label) {
  return Json{{"apiVersion", "v1"},
              {"kind", "Pod"},
              {"metadata", {{"name", name}, {"labels", {{"bench", label}}}}},
              {"spec",
               {{"terminationGracePeriodSeconds", 0},
                {"containers", Json::array({{{"name", "c"},
                                             {"image", "busybox:latest"},
                                             {"command", Json::array({"sleep", "100000"})}}})}}}};
}

struct Latencies {
  std::vector<double> ms;  // create -> Running, per pod that got there
  double totalMs = 0;      // first create -> last Running
};

// Creates `names` (8 creators at once) and waits up to 120 s until the watch
// shows each Running.
Latencies createAndWait(const skiff::client::ClientConfig& cfg, const std::string& label,
                        const std::vector<std::string>& names) {
  skiff::client::RestClient watchClient(cfg);
  std::mutex mu;
  std::map<std::string, Clock::time_point> created, running;
  std::atomic<bool> stop{false};
  size_t want = names.size();
  std::thread watcher([&] {
    (void)watchClient.watch(
        "/api/v1/namespaces/default/pods?watch=1&labelSelector=bench%3D" + label,
        [&](const Json& ev) {
          const Json& o = ev["object"];
          if (o["status"].is_object() && o["status"].value("phase", "") == "Running") {
            std::lock_guard<std::mutex> lock(mu);
            running.emplace(o["metadata"].value("name", ""), Clock::now());
            if (running.size() >= want) return false;
          }
          return !stop.load();
        },
        0, "application/json", &stop);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the watch is open
  auto t0 = Clock::now();
  std::vector<std::thread> creators;
  std::atomic<size_t> next{0};
  for (int c = 0; c < std::min<int>(8, static_cast<int>(names.size())); ++c)
    creators.emplace_back([&] {
      skiff::client::RestClient h(cfg);
      for (size_t i; (i = next++) < names.size();) {
        {
          std::lock_guard<std::mutex> lock(mu);
          created[names[i]] = Clock::now();
        }
        (void)h.post("/api/v1/namespaces/default/pods", podJson(names[i], label));
      }
    });
  for (auto& t : creators) t.join();
  for (int i = 0; i < 12000; ++i) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (running.size() >= want) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  stop = true;
  watcher.join();
  Latencies out;
  std::lock_guard<std::mutex> lock(mu);
  Clock::time_point last = t0;
  for (auto& [name, t] : running) {
    out.ms.push_back(std::chrono::duration<double, std::milli>(t - created[name]).count());
    last = std::max(last, t);
  }
  out.totalMs = std::chrono::duration<double, std::milli>(last - t0).count();
  return out;
}

// Deletes every pod with the label (grace period 0) and waits until the API
// has none left; the milliseconds that took, or -1 after 300 s.
double deleteAll(const skiff::client::ClientConfig& cfg, const std::string& label) {
  skiff::client::RestClient c(cfg);
  std::string list = "/api/v1/namespaces/default/pods?labelSelector=bench%3D" + label;
  auto pods = c.get(list);
  if (!pods) return -1;
  std::vector<std::string> names;
  for (const auto& p : (*pods)["items"]) names.push_back(p["metadata"].value("name", ""));
  auto t0 = Clock::now();
  std::atomic<size_t> next{0};
  std::vector<std::thread> ts;
  for (int i = 0; i < 8; ++i)
    ts.emplace_back([&] {
      skiff::client::RestClient h(cfg);
      for (size_t k; (k = next++) < names.size();)
        (void)h.del(
            "/api/v1/namespaces/default/pods/" + names[k],
            Json{{"apiVersion", "v1"}, {"kind", "DeleteOptions"}, {"gracePeriodSeconds", 0}});
    });
  for (auto& t : ts) t.join();
  while (msSince(t0) < 300000) {
    auto left = c.get(list);
    if (left && (*left)["items"].empty()) return msSince(t0);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return -1;
}

// One pod at a time on an idle node, k times: what a single test feels.
void measureSingle(const skiff::client::ClientConfig& cfg, const std::string& setup, int k) {
  std::vector<double> lat;
  for (int i = 0; i < k; ++i) {
    auto l = createAndWait(cfg, "single", {"single-" + std::to_string(i)});
    lat.insert(lat.end(), l.ms.begin(), l.ms.end());
    deleteAll(cfg, "single");
  }
  std::sort(lat.begin(), lat.end());
  std::printf(
      "{\"bench\":\"pod_single\",\"setup\":\"%s\",\"pods\":%d,\"running\":%zu,\"min_ms\":%.1f,"
      "\"p50_ms\":%.1f,\"max_ms\":%.1f}\n",
      setup.c_str(), k, lat.size(), lat.empty() ? 0 : lat.front(), percentile(lat, 0.5),
      lat.empty() ? 0 : lat.back());
  std::fflush(stdout);
}

// N pods at once; `rssOf` names the process whose memory is reported.
void measureMany(const skiff::client::ClientConfig& cfg, const std::string& setup, int pods,
                 pid_t rssOf, const char* rssName) {
  std::vector<std::string> names;
  for (int i = 0; i < pods; ++i) names.push_back("bench-" + std::to_string(i));
  long idleRss = rssKb(rssOf);
  auto l = createAndWait(cfg, "pods", names);
  long rss = rssKb(rssOf);
  int threads = static_cast<int>(skiff::bench::statusKb(rssOf, "Threads:"));
  std::this_thread::sleep_for(std::chrono::seconds(3));  // settled: probes, status, polls
  long settledRss = rssKb(rssOf);
  long anon = statusKb(rssOf, "RssAnon:"), file = statusKb(rssOf, "RssFile:");
  std::printf(
      "{\"bench\":\"pods\",\"setup\":\"%s\",\"pods\":%d,\"running\":%zu,\"p50_ms\":%.1f,"
      "\"p99_ms\":%.1f,\"max_ms\":%.1f,\"pods_per_s\":%.1f,\"%s_rss_mb_idle\":%.1f,"
      "\"%s_rss_mb\":%.1f,\"%s_rss_mb_settled\":%.1f,\"%s_rss_anon_mb\":%.1f,"
      "\"%s_rss_file_mb\":%.1f,\"%s_threads\":%d,\"goal_p50_ms\":150,\"goal_p99_ms\":500}\n",
      setup.c_str(), pods, l.ms.size(), percentile(l.ms, 0.5), percentile(l.ms, 0.99),
      l.ms.empty() ? 0 : *std::max_element(l.ms.begin(), l.ms.end()),
      l.ms.size() / (l.totalMs / 1000.0), rssName, idleRss / 1024.0, rssName, rss / 1024.0, rssName,
      settledRss / 1024.0, rssName, anon / 1024.0, rssName, file / 1024.0, rssName, threads);
  std::fflush(stdout);
  double del = deleteAll(cfg, "pods");
  std::printf("{\"bench\":\"pods_delete\",\"setup\":\"%s\",\"pods\":%d,\"all_gone_ms\":%.0f}\n",
              setup.c_str(), pods, del);
  std::fflush(stdout);
}

struct Up {
  std::string kubeconfig, data;
  skiff::client::ClientConfig cfg;
  pid_t pid = 0;
};

std::optional<Up> up(const std::string& bin, const std::string& tmp, const std::string& image,
                     const std::string& extra) {
  std::string out =
      sh("TMPDIR=" + tmp + " " + bin + " up --ephemeral --detach --no-fsync --listen 127.0.0.1:0 " +
         extra + " 2>&1");
  auto at = out.find("kubeconfig: ");
  if (at == std::string::npos) {
    std::fprintf(stderr, "skiff up failed: %s\n", out.c_str());
    return std::nullopt;
  }
  Up u;
  u.kubeconfig = out.substr(at + 12);
  u.data = fs::path(u.kubeconfig).parent_path();
  sh(bin + " image load --data-dir " + u.data + " " + image + " >/dev/null");
  auto cfg = skiff::client::loadKubeconfig(u.kubeconfig);
  if (!cfg) return std::nullopt;
  u.cfg = *cfg;
  u.pid = std::atoi(sh("cat " + u.data + "/skiff.pid").c_str());
  return u;
}

void down(const std::string& bin, const Up& u) {
  sh(bin + " down --timeout 300s --data-dir " + u.data + " >/dev/null 2>&1");
}

bool nodeReady(const skiff::client::ClientConfig& cfg, const std::string& node, int seconds) {
  skiff::client::RestClient c(cfg);
  auto t0 = Clock::now();
  while (msSince(t0) < seconds * 1000.0) {
    auto n = c.get("/api/v1/nodes/" + node);
    if (n && (*n)["status"].is_object())
      for (const auto& cond : (*n)["status"].value("conditions", Json::array()))
        if (cond.value("type", "") == "Ready" && cond.value("status", "") == "True") return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

// The kubelet as a process of its own against `skiff up --disable kubelet`.
void kubeletAlone(const std::string& bin, const std::string& tmp, const std::string& image,
                  int pods, int single) {
  auto u = up(bin, tmp, image, "--disable kubelet");
  if (!u) return;
  // Kernel names of our own; a /24 no interface uses yet.
  std::string tag = "bp" + std::to_string(::getpid() % 100000);
  int subnet = 0;
  std::string addrs = sh("ip -4 -o addr show");
  for (int s = 250; s > 1 && !subnet; --s)
    if (addrs.find("10.244." + std::to_string(s) + ".") == std::string::npos) subnet = s;
  skiff::kubelet::RuncRuntimeOptions ro;
  ro.dataDir = u->data;
  ro.bridgeName = "sk-" + tag;
  ro.podCidr = "10.244." + std::to_string(subnet) + ".0/24";
  ro.bridgeAddress = "10.244." + std::to_string(subnet) + ".1/24";
  ro.runcRoot = "/run/skiff/" + tag;
  ro.cgroupParent = "skiff-" + tag;
  ro.netnsPrefix = "skiff-" + tag + "-";
  std::string node = "bench-" + tag;
  std::vector<std::string> argv = {bin,
                                   "kubelet",
                                   "--kubeconfig=" + u->kubeconfig,
                                   "--data-dir=" + u->data,
                                   "--node-name=" + node,
                                   "--node-ip=127.0.0.1",
                                   "--pod-cidr=" + ro.podCidr,
                                   "--bridge=" + ro.bridgeName,
                                   "--bridge-address=" + ro.bridgeAddress,
                                   "--runc-root=" + ro.runcRoot,
                                   "--cgroup-parent=" + ro.cgroupParent,
                                   "--netns-prefix=" + ro.netnsPrefix,
                                   "--listen=127.0.0.1:0"};
  std::string log = u->data + "/kubelet.log";
  pid_t pid = ::fork();
  if (pid == 0) {
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    FILE* f = std::fopen(log.c_str(), "w");
    if (f) {
      ::dup2(fileno(f), 1);
      ::dup2(fileno(f), 2);
    }
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  if (nodeReady(u->cfg, node, 30)) {
    measureSingle(u->cfg, "kubelet", single);
    measureMany(u->cfg, "kubelet", pods, pid, "kubelet");
    // The objects go at once (grace 0); the kubelet removes the pods after.
    auto t0 = Clock::now();
    std::error_code ec;
    while (msSince(t0) < 120000 && !fs::is_empty(u->data + "/pods", ec))
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    std::printf(
        "{\"bench\":\"pods_removed\",\"setup\":\"kubelet\",\"pods\":%d,"
        "\"runtime_empty_ms\":%.0f}\n",
        pods, msSince(t0));
    std::fflush(stdout);
  } else {
    std::fprintf(stderr, "bench_pods: the kubelet's node never turned Ready (%s)\n", log.c_str());
  }
  ::kill(pid, SIGTERM);
  int st;
  ::waitpid(pid, &st, 0);
  // Whatever the kubelet left (a failed run): containers, sandboxes, cgroup
  // parents, bridge, runc root — ours only, by the names above.
  if (auto rt = skiff::kubelet::RuncRuntime::create(ro); rt) {
    if (auto cs = (*rt)->listContainers(""); cs)
      for (const auto& c : *cs) {
        (void)(*rt)->stopContainer(c.id, std::chrono::seconds(0));
        (void)(*rt)->removeContainer(c.id);
      }
    if (auto ss = (*rt)->listSandboxes(); ss)
      for (const auto& s : *ss) (void)(*rt)->removeSandbox(s.podUid);
    (void)(*rt)->removeCgroupParent();
    (void)(*rt)->removeBridge();
  }
  std::error_code ec;
  fs::remove_all(ro.runcRoot, ec);
  down(bin, *u);
}

// The floor: runc run -d of the same rootfs, one after another.
void runcFloor(const std::string& tmp, const std::string& image, int n) {
  std::string bundle = tmp + "/bundle";
  std::string root = tmp + "/runc-root";
  fs::create_directories(bundle + "/rootfs");
  // The docker-save archive holds one layer.tar.
  sh("cd " + tmp + " && mkdir -p img && tar -xf " + image +
     " -C img && tar -xf $(ls img/*/layer.tar | head -1) -C " + bundle + "/rootfs");
  sh("cd " + bundle + " && runc spec");
  std::ifstream in(bundle + "/config.json");
  std::stringstream ss;
  ss << in.rdbuf();
  Json spec = Json::parse(ss.str());
  spec["process"]["terminal"] = false;
  spec["process"]["args"] = Json::array({"sleep", "100000"});
  spec["root"]["readonly"] = true;
  std::ofstream(bundle + "/config.json") << spec.dump();
  std::vector<double> times;
  auto t0 = Clock::now();
  for (int i = 0; i < n; ++i) {
    auto t = Clock::now();
    int rc = 0;
    sh("runc --root " + root + " run -d --bundle " + bundle + " bench-floor-" + std::to_string(i) +
           " >/dev/null 2>&1 </dev/null",
       &rc);
    if (rc == 0) times.push_back(msSince(t));
  }
  double total = msSince(t0);
  for (int i = 0; i < n; ++i)
    sh("runc --root " + root + " delete -f bench-floor-" + std::to_string(i) + " >/dev/null 2>&1");
  std::printf(
      "{\"bench\":\"pods_floor\",\"system\":\"runc run -d (sequential)\",\"containers\":%zu,"
      "\"p50_ms\":%.1f,\"p99_ms\":%.1f,\"per_s\":%.1f}\n",
      times.size(), percentile(times, 0.5), percentile(times, 0.99),
      times.size() / (total / 1000.0));
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  std::string bin = "build/skiff", setup = "all";
  int pods = 100, single = 5;
  bool floor = true;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    std::string v = i + 1 < argc ? argv[i + 1] : "";
    if (a == "--skiff")
      bin = v, ++i;
    else if (a == "--pods")
      pods = std::atoi(v.c_str()), ++i;
    else if (a == "--single")
      single = std::atoi(v.c_str()), ++i;
    else if (a == "--setup")
      setup = v, ++i;
    else if (a == "--no-floor")
      floor = false;
  }
  if (::geteuid() != 0) {
    std::printf("{\"bench\":\"pods\",\"skipped\":\"needs root\"}\n");
    return 0;
  }
  bin = fs::absolute(bin);
  std::string tmp = fs::temp_directory_path() / ("skiff-bench-pods-" + std::to_string(::getpid()));
  fs::create_directories(tmp);
  std::string image = tmp + "/busybox.tar";
  fs::path self = fs::canonical("/proc/self/exe");
  std::string script = "scripts/make-busybox-image.sh";
  for (fs::path d = self.parent_path(); !d.empty() && d != d.root_path(); d = d.parent_path())
    if (fs::exists(d / script)) {
      script = (d / script).string();
      break;
    }
  sh("bash " + script + " " + image + " >/dev/null");

  if (setup == "all" || setup == "cluster") {
    if (auto u = up(bin, tmp, image, "")) {
      measureSingle(u->cfg, "cluster", single);
      measureMany(u->cfg, "cluster", pods, u->pid, "skiff");
      auto tDown = Clock::now();
      down(bin, *u);
      std::printf("{\"bench\":\"pods_teardown\",\"setup\":\"cluster\",\"down_ms\":%.0f}\n",
                  msSince(tDown));
      std::fflush(stdout);
    }
  }
  if (setup == "all" || setup == "kubelet") kubeletAlone(bin, tmp, image, pods, single);
  if (floor) runcFloor(tmp, image, pods);
  std::printf("{\"bench\":\"pods_peer\",\"system\":\"podman kube play\",\"skipped\":\"%s\"}\n",
              sh("command -v podman").empty() ? "podman not installed" : "not run");
  std::error_code ec;
  fs::remove_all(tmp, ec);
  if (ec) std::fprintf(stderr, "bench_pods: remove %s: %s\n", tmp.c_str(), ec.message().c_str());
  return 0;
}
