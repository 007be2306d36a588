// Test harness for the workload controllers: a real apiserver in a temp dir on
// a free loopback port (no kubelet, no scheduler), a client for the test, and
// a "fake kubelet" that makes pods Ready by PATCHing pods/status, as a kubelet
// would (phase Running, Ready condition True, a podIP).
#pragma once

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "api/json.h"
#include "apiserver/server.h"
#include "client/kubeconfig.h"
#include "client/rest_client.h"
#include "controllers/workload_util.h"

namespace skiff::controllers::testing {

using api::Json;

struct Cluster {
  std::string dir;
  std::unique_ptr<apiserver::ApiServer> server;
  client::ClientConfig config;
  std::unique_ptr<client::RestClient> client;
  Cluster() {
    char tmpl[] = "/tmp/skiff-controllers-XXXXXX";
    dir = mkdtemp(tmpl);
    apiserver::ServerOptions o;
    o.dataDir = dir;
    o.listen = "127.0.0.1:0";
    o.fsync = false;
    auto s = apiserver::ApiServer::start(o);
    if (!s) throw std::runtime_error(s.error().message);
    server = std::move(*s);
    auto cfg = client::loadKubeconfig(server->kubeconfigPath());
    if (!cfg) throw std::runtime_error(cfg.error().message);
    config = *cfg;
    client = std::make_unique<client::RestClient>(config);
  }
  ~Cluster() {
    client.reset();
    if (server) server->stop();
    server.reset();
    std::filesystem::remove_all(dir);
  }
  Json get(const std::string& path) {
    auto r = client->get(path);
    return r ? *r : Json();
  }
  Json items(const std::string& path) {
    auto r = client->get(path);
    return r ? (*r)["items"] : Json::array();
  }
};

inline const std::string kPods = "/api/v1/namespaces/default/pods";
inline const std::string kReplicaSets = "/apis/apps/v1/namespaces/default/replicasets";
inline const std::string kDeployments = "/apis/apps/v1/namespaces/default/deployments";

// Waits until pred() holds (checked every 20 ms), for at most `seconds`.
inline bool eventually(const std::function<bool()>& pred, int seconds = 20) {
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return pred();
}

inline Json podTemplate(const Json& labels, const std::string& image) {
  return Json{{"metadata", {{"labels", labels}}},
              {"spec", {{"containers", Json::array({{{"name", "web"}, {"image", image}}})}}}};
}

inline Json readyStatus(const std::string& ip) {
  std::string now = formatTime(std::chrono::system_clock::now());
  return Json{
      {"status",
       {{"phase", "Running"},
        {"podIP", ip},
        {"conditions",
         Json::array(
             {{{"type", "Ready"}, {"status", "True"}, {"lastTransitionTime", now}},
              {{"type", "ContainersReady"}, {"status", "True"}, {"lastTransitionTime", now}}})}}}};
}

// Marks one pod Ready. True on success.
inline bool makeReady(client::RestClient& c, const std::string& name, int n) {
  auto r = c.patch(kPods + "/" + name + "/status",
                   readyStatus("10.244.0." + std::to_string(10 + n % 200)), client::kMergePatch);
  return r.ok();
}

// A thread that keeps making every pod of the default namespace Ready while
// enabled, like a kubelet whose containers start at once.
class FakeKubelet {
 public:
  explicit FakeKubelet(const client::ClientConfig& config)
      : client_(std::make_unique<client::RestClient>(config)) {
    thread_ = std::thread([this] { run(); });
  }
  ~FakeKubelet() {
    stop_ = true;
    thread_.join();
  }
  // Once setEnabled(false) returns, no pod is made Ready any more (a pass in
  // progress is waited for).
  void setEnabled(bool on) {
    std::lock_guard<std::mutex> lock(passMu_);
    enabled_ = on;
  }

 private:
  void run() {
    int n = 0;
    while (!stop_) {
      std::unique_lock<std::mutex> pass(passMu_);
      if (enabled_) {
        auto l = client_->get(kPods);
        if (l)
          for (const Json& p : (*l)["items"])
            if (!podIsReady(p) && !isDeleting(p))
              makeReady(*client_, p["metadata"].value("name", ""), n++);
      }
      pass.unlock();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  std::unique_ptr<client::RestClient> client_;
  std::mutex passMu_;  // held for one pass over the pods
  std::atomic<bool> enabled_{true};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace skiff::controllers::testing
