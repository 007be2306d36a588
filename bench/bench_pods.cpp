// bench_pods: N pods (busybox `sleep`) created at once on a whole ephemeral
// cluster (`skiff up --ephemeral --detach`), latency from each create to
// Running as seen through a watch, p50/p99 and pods per second, and the
// kubelet's resident memory with the pods running (the whole `skiff up`
// process: apiserver and every component, conmon processes aside). In the same
// run, the floor: `runc run -d` of the same busybox rootfs, one container after
// another, no orchestration. podman is not installed here: reported skipped.
//
// Usage (root): bench_pods [--skiff build/skiff] [--pods 100]
// Prints one JSON object per line.
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "api/json.h"
#include "bench/bench_util.h"
#include "client/kubeconfig.h"
#include "client/rest_client.h"

namespace fs = std::filesystem;
using skiff::api::Json;
using skiff::bench::Clock;
using skiff::bench::msSince;
using skiff::bench::percentile;
using skiff::bench::sh;

namespace {

long rssKb(const std::string& pid) {
  std::ifstream f("/proc/" + pid + "/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  return 0;
}

Json podJson(const std::string& name) {
  return Json{{"apiVersion", "v1"},
              {"kind", "Pod"},
              {"metadata", {{"name", name}, {"labels", {{"bench", "pods"}}}}},
              {"spec",
               {{"terminationGracePeriodSeconds", 0},
                {"containers", Json::array({{{"name", "c"},
                                             {"image", "busybox:latest"},
                                             {"command", Json::array({"sleep", "100000"})}}})}}}};
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
  std::string bin = "build/skiff";
  int pods = 100;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--skiff") bin = argv[i + 1];
    if (a == "--pods") pods = std::atoi(argv[i + 1]);
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

  std::string up = sh("TMPDIR=" + tmp + " " + bin +
                      " up --ephemeral --detach --no-fsync --listen 127.0.0.1:0 2>&1");
  auto at = up.find("kubeconfig: ");
  if (at == std::string::npos) {
    std::fprintf(stderr, "skiff up failed: %s\n", up.c_str());
    return 1;
  }
  std::string kubeconfig = up.substr(at + 12);
  std::string data = fs::path(kubeconfig).parent_path();
  sh(bin + " image load --data-dir " + data + " " + image + " >/dev/null");
  auto cfg = skiff::client::loadKubeconfig(kubeconfig);
  if (!cfg) return 1;
  skiff::client::RestClient admin(*cfg);

  std::mutex mu;
  std::map<std::string, Clock::time_point> created, running;
  std::atomic<bool> stop{false};
  std::thread watcher([&] {
    admin.watch(
        "/api/v1/namespaces/default/pods?watch=1&labelSelector=bench%3Dpods",
        [&](const Json& ev) {
          const Json& o = ev["object"];
          if (o["status"].is_object() && o["status"].value("phase", "") == "Running") {
            std::lock_guard<std::mutex> lock(mu);
            running.emplace(o["metadata"].value("name", ""), Clock::now());
            if (static_cast<int>(running.size()) >= pods) return false;
          }
          return !stop.load();
        },
        0, "application/json", &stop);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto t0 = Clock::now();
  std::vector<std::thread> creators;
  std::atomic<int> next{0};
  for (int c = 0; c < 8; ++c)
    creators.emplace_back([&] {
      skiff::client::RestClient h(*cfg);
      for (int i; (i = next++) < pods;) {
        std::string name = "bench-" + std::to_string(i);
        {
          std::lock_guard<std::mutex> lock(mu);
          created[name] = Clock::now();
        }
        (void)h.post("/api/v1/namespaces/default/pods", podJson(name));
      }
    });
  for (auto& t : creators) t.join();
  for (int i = 0; i < 1200; ++i) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (static_cast<int>(running.size()) >= pods) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  double total = msSince(t0);
  stop = true;
  watcher.join();
  std::vector<double> lat;
  {
    std::lock_guard<std::mutex> lock(mu);
    for (auto& [name, t] : running)
      lat.push_back(std::chrono::duration<double, std::milli>(t - created[name]).count());
  }
  std::string pid = sh("cat " + data + "/skiff.pid");
  long rss = rssKb(pid);
  std::printf(
      "{\"bench\":\"pods\",\"system\":\"skiff up\",\"pods\":%d,\"running\":%zu,\"p50_ms\":%.1f,"
      "\"p99_ms\":%.1f,\"pods_per_s\":%.1f,\"skiff_rss_mb\":%.1f,\"goal_p50_ms\":150,"
      "\"goal_p99_ms\":500}\n",
      pods, lat.size(), percentile(lat, 0.5), percentile(lat, 0.99), lat.size() / (total / 1000.0),
      rss / 1024.0);
  std::fflush(stdout);
  auto tDown = Clock::now();
  sh(bin + " down --timeout 300s --data-dir " + data + " >/dev/null 2>&1");
  std::printf("{\"bench\":\"pods_teardown\",\"pods\":%d,\"down_ms\":%.0f}\n", pods, msSince(tDown));

  runcFloor(tmp, image, pods);
  std::printf("{\"bench\":\"pods_peer\",\"system\":\"podman kube play\",\"skipped\":\"%s\"}\n",
              sh("command -v podman").empty() ? "podman not installed" : "not run");
  std::error_code ec;
  fs::remove_all(tmp, ec);
  if (ec) std::fprintf(stderr, "bench_pods: remove %s: %s\n", tmp.c_str(), ec.message().c_str());
  return 0;
}
