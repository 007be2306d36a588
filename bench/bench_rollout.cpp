// bench_rollout: Deployments with real containers on a whole ephemeral
// cluster (`skiff up --ephemeral --detach`), driven by real kubectl:
//   - a 20-replica busybox httpd Deployment (readiness probe, maxSurge 25%,
//     maxUnavailable 0) behind a ClusterIP Service, rolled to a new image
//     while a client on the host requests the ClusterIP in a loop: rollout
//     time and failed requests (goal: 0 failed, rollout <= 5 s);
//   - scale 0 -> 100 until all Ready, and 100 -> 0 until all gone.
// Traffic goes only to the cluster's own ClusterIP (DNATed to its own pods).
//
// Usage (root): bench_rollout [--skiff build/skiff] [--kubectl /usr/bin/kubectl]
// Prints one JSON object per line.
#include <curl/curl.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "bench/bench_util.h"

namespace fs = std::filesystem;
using skiff::bench::Clock;
using skiff::bench::msSince;
using skiff::bench::sh;

namespace {

const char* kManifest = R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 20
  strategy: {rollingUpdate: {maxSurge: 25%, maxUnavailable: 0}}
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 5
      containers:
      - name: web
        image: busybox:latest
        command: ["sh", "-c", "mkdir -p /www && echo ok > /www/index.html && exec httpd -f -p 8080 -h /www"]
        readinessProbe: {httpGet: {path: /, port: 8080}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
)";

size_t discard(char*, size_t sz, size_t n, void*) {
  return sz * n;
}

}  // namespace

int main(int argc, char** argv) {
  std::string bin = "build/skiff", kubectl = "/usr/bin/kubectl";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--skiff") bin = argv[i + 1];
    if (a == "--kubectl") kubectl = argv[i + 1];
  }
  if (::geteuid() != 0) {
    std::printf("{\"bench\":\"rollout\",\"skipped\":\"needs root\"}\n");
    return 0;
  }
  bin = fs::absolute(bin);
  std::string tmp =
      fs::temp_directory_path() / ("skiff-bench-rollout-" + std::to_string(::getpid()));
  fs::create_directories(tmp);
  std::string script = "scripts/make-busybox-image.sh";
  for (fs::path d = fs::canonical("/proc/self/exe").parent_path(); d != d.root_path();
       d = d.parent_path())
    if (fs::exists(d / script)) {
      script = (d / script).string();
      break;
    }
  sh("bash " + script + " " + tmp + "/v1.tar >/dev/null && bash " + script + " " + tmp +
     "/v2.tar busybox:v2 >/dev/null");
  std::string up = sh("TMPDIR=" + tmp + " " + bin +
                      " up --ephemeral --detach --no-fsync --listen 127.0.0.1:0 2>&1");
  auto at = up.find("kubeconfig: ");
  if (at == std::string::npos) {
    std::fprintf(stderr, "skiff up failed: %s\n", up.c_str());
    return 1;
  }
  std::string kc = up.substr(at + 12);
  std::string data = fs::path(kc).parent_path();
  std::string k = kubectl + " --kubeconfig " + kc + " ";
  sh(bin + " image load --data-dir " + data + " " + tmp + "/v1.tar >/dev/null");
  sh(bin + " image load --data-dir " + data + " " + tmp + "/v2.tar >/dev/null");
  std::ofstream(tmp + "/web.yaml") << kManifest;
  sh(k + "apply -f " + tmp + "/web.yaml >/dev/null");
  sh(k + "rollout status deploy/web --timeout=300s >/dev/null");
  std::string cip = sh(k + "get svc web -o jsonpath='{.spec.clusterIP}'");

  // The client: one keep-alive-less request after another to the ClusterIP.
  std::atomic<bool> stop{false};
  std::atomic<long> ok{0}, failed{0};
  std::thread client([&] {
    CURL* c = curl_easy_init();
    std::string url = "http://" + cip + "/";
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 2000L);
    curl_easy_setopt(c, CURLOPT_FORBID_REUSE, 1L);
    while (!stop) {
      long code = 0;
      if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
      (code == 200 ? ok : failed)++;
    }
    curl_easy_cleanup(c);
  });
  std::this_thread::sleep_for(std::chrono::seconds(1));
  auto t0 = Clock::now();
  sh(bin + " set image deployment/web web=busybox:v2 --kubeconfig " + kc + " >/dev/null");
  int rc = 0;
  sh(k + "rollout status deploy/web --timeout=300s >/dev/null", &rc);
  double rollout = msSince(t0);
  // Keep asking while the old pods terminate.
  std::this_thread::sleep_for(std::chrono::seconds(6));
  stop = true;
  client.join();
  std::printf(
      "{\"bench\":\"rollout\",\"replicas\":20,\"max_surge\":\"25%%\",\"rolled_out\":%s,"
      "\"rollout_ms\":%.0f,\"requests\":%ld,\"failed\":%ld,\"goal_rollout_ms\":5000,"
      "\"goal_failed\":0}\n",
      rc == 0 ? "true" : "false", rollout, ok.load() + failed.load(), failed.load());
  std::fflush(stdout);

  auto podCount = [&] {
    return std::atoi(sh(k + "get pods --no-headers 2>/dev/null | wc -l").c_str());
  };
  auto waitPods = [&](int n) {
    for (int i = 0; i < 3000 && podCount() != n; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
  };
  sh(k + "scale deploy/web --replicas=0 >/dev/null");
  waitPods(0);
  t0 = Clock::now();
  sh(k + "scale deploy/web --replicas=100 >/dev/null");
  sh(k + "rollout status deploy/web --timeout=300s >/dev/null");
  double upMs = msSince(t0);
  t0 = Clock::now();
  sh(k + "scale deploy/web --replicas=0 >/dev/null");
  waitPods(0);
  double downMs = msSince(t0);
  std::printf("{\"bench\":\"scale\",\"to_100_all_ready_ms\":%.0f,\"to_0_all_gone_ms\":%.0f}\n",
              upMs, downMs);
  std::fflush(stdout);
  sh(bin + " down --timeout 300s --data-dir " + data + " >/dev/null 2>&1");
  std::error_code ec;
  fs::remove_all(tmp, ec);
  return 0;
}
