// bench_cli: the two numbers of the CLI issue.
//   {"bench":"up_ready", ...}  `skiff up --ephemeral --detach` until its ready
//                              line (the node Ready too when a kubelet runs:
//                              needs root), then `skiff down`; --runs times.
//   {"bench":"get_pods", ...}  `skiff get pods` and `kubectl get pods` against
//                              one `skiff apiserver` holding --pods pods, run
//                              alternately --runs times each; medians and the
//                              ratio (goal: skiff <= 0.25 x kubectl).
//
// Usage: bench_cli [--skiff build/skiff] [--kubectl /usr/bin/kubectl]
//                  [--pods 1000] [--runs 15] [--only up|get]
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <regex>
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

// Wall time of one command run through the shell with its output discarded;
// -1 when it failed.
double timed(const std::string& cmd) {
  auto t0 = Clock::now();
  int rc = 0;
  sh(cmd + " >/dev/null 2>&1", &rc);
  double ms = msSince(t0);
  return rc == 0 ? ms : -1;
}

void benchUp(const std::string& skiff, int runs) {
  std::vector<double> wall, reported;
  int failed = 0;
  for (int i = 0; i < runs; ++i) {
    auto t0 = Clock::now();
    int rc = 0;
    std::string out = sh(skiff + " up --ephemeral --detach 2>&1", &rc);
    double ms = msSince(t0);
    std::smatch m;
    std::regex ready("skiff ready in ([0-9]+) ms .*kubeconfig: (\\S+)/kubeconfig");
    if (rc != 0 || !std::regex_search(out, m, ready)) {
      ++failed;
      std::fprintf(stderr, "skiff up failed: %s\n", out.c_str());
      continue;
    }
    wall.push_back(ms);
    reported.push_back(std::stod(m[1]));
    sh(skiff + " down --data-dir " + m[2].str() + " >/dev/null 2>&1");
  }
  std::printf(
      "{\"bench\":\"up_ready\",\"runs\":%zu,\"failed\":%d,\"reported_p50_ms\":%.0f,"
      "\"reported_max_ms\":%.0f,\"wall_p50_ms\":%.0f,\"wall_max_ms\":%.0f,\"node_ready\":%s,"
      "\"goal_ms\":150}\n",
      wall.size(), failed, percentile(reported, 0.5), percentile(reported, 1.0),
      percentile(wall, 0.5), percentile(wall, 1.0), ::geteuid() == 0 ? "true" : "false");
  std::fflush(stdout);
}

void benchGet(const std::string& skiff, const std::string& kubectl, int pods, int runs) {
  std::string dir = fs::temp_directory_path() / ("skiff-bench-cli-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  pid_t server = ::fork();
  if (server == 0) {
    std::freopen((dir + ".log").c_str(), "w", stderr);
    std::freopen("/dev/null", "w", stdout);
    ::execl(skiff.c_str(), skiff.c_str(), "apiserver", "--data-dir", dir.c_str(), "--listen",
            "127.0.0.1:0", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  std::string kc = dir + "/kubeconfig";
  auto t0 = Clock::now();
  while (timed(skiff + " get ns default --kubeconfig " + kc) < 0 && msSince(t0) < 20000)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));

  // The pods, created by 8 clients in parallel.
  auto config = skiff::client::loadKubeconfig(kc);
  if (!config) {
    std::fprintf(stderr, "no kubeconfig: %s\n", config.error().message.c_str());
    ::kill(server, SIGTERM);
    return;
  }
  std::vector<std::thread> ts;
  std::atomic<int> next{0};
  for (int c = 0; c < 8; ++c)
    ts.emplace_back([&] {
      skiff::client::RestClient rc(*config);
      for (int i; (i = next++) < pods;) {
        Json pod = {{"apiVersion", "v1"},
                    {"kind", "Pod"},
                    {"metadata", {{"name", "p-" + std::to_string(i)}, {"labels", {{"app", "b"}}}}},
                    {"spec",
                     {{"containers", Json::array({{{"name", "c"}, {"image", "busybox"}}})}}}};
        (void)rc.post("/api/v1/namespaces/default/pods", pod);
      }
    });
  for (auto& t : ts) t.join();

  std::string s = skiff + " get pods --kubeconfig " + kc;
  std::string k = kubectl + " --kubeconfig " + kc + " get pods";
  int lines = std::atoi(sh(s + " --no-headers | wc -l").c_str());
  std::vector<double> sk, ku;
  for (int i = 0; i < runs; ++i) {
    double a = timed(s), b = timed(k);
    if (a >= 0) sk.push_back(a);
    if (b >= 0) ku.push_back(b);
  }
  double ms = percentile(sk, 0.5), mk = percentile(ku, 0.5);
  std::printf(
      "{\"bench\":\"get_pods\",\"pods\":%d,\"rows\":%d,\"runs\":%d,\"skiff_median_ms\":%.1f,"
      "\"skiff_min_ms\":%.1f,\"kubectl_median_ms\":%.1f,\"kubectl_min_ms\":%.1f,"
      "\"skiff_over_kubectl\":%.2f,\"goal_ratio\":0.25}\n",
      pods, lines, runs, ms, percentile(sk, 0), mk, percentile(ku, 0), mk > 0 ? ms / mk : 0);
  std::fflush(stdout);
  ::kill(server, SIGTERM);
  ::waitpid(server, nullptr, 0);
  fs::remove_all(dir);
  fs::remove(dir + ".log");
}

}  // namespace

int main(int argc, char** argv) {
  std::string skiff = "build/skiff", kubectl = "/usr/bin/kubectl", only;
  int pods = 1000, runs = 15;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--skiff") skiff = argv[i + 1];
    if (a == "--kubectl") kubectl = argv[i + 1];
    if (a == "--pods") pods = std::atoi(argv[i + 1]);
    if (a == "--runs") runs = std::atoi(argv[i + 1]);
    if (a == "--only") only = argv[i + 1];
  }
  skiff = fs::absolute(skiff);
  if (only.empty() || only == "up") benchUp(skiff, std::min(runs, 10));
  if (only.empty() || only == "get") benchGet(skiff, kubectl, pods, runs);
  return 0;
}
