// The Kubelet against a real API server (in this process, on a free loopback
// port) with the fake runtime: node registration, pod status through the
// API, failure, deletion.
#include "kubelet/kubelet.h"

#include <unistd.h>
#include <catch2/catch.hpp>

#include <filesystem>
#include <functional>
#include <thread>

#include "apiserver/server.h"
#include "client/kubeconfig.h"
#include "client/rest_client.h"
#include "tests/kubelet/fake_runtime.h"
#include "tests/test_apiserver.h"

using namespace skiff;
using namespace skiff::kubelet;
using skiff::api::Json;
using skiff::kubelet::testing::FakeRuntime;

namespace {

struct Cluster : skiff::testing::TestApiServer {
  Cluster() : TestApiServer("kubelet-api") {}
};

bool eventually(const std::function<bool()>& pred, int seconds = 10) {
  for (int i = 0; i < seconds * 50; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return pred();
}

Json podOn(const std::string& name, const std::string& node, Json containers,
           const std::string& restartPolicy = "Always") {
  return {
      {"apiVersion", "v1"},
      {"kind", "Pod"},
      {"metadata", {{"name", name}, {"namespace", "default"}}},
      {"spec", {{"nodeName", node}, {"restartPolicy", restartPolicy}, {"containers", containers}}}};
}

std::string phaseOf(client::RestClient& c, const std::string& name) {
  auto p = c.get("/api/v1/namespaces/default/pods/" + name);
  return p ? (*p)["status"].value("phase", "") : "";
}

}  // namespace

TEST_CASE("kubelet with a fake runtime against a real API server", "[kubelet_api]") {
  Cluster cluster;
  auto runtime = std::make_unique<FakeRuntime>();
  FakeRuntime* rt = runtime.get();
  rt->script("fail", FakeRuntime::Behaviour::exitWith(1));
  KubeletOptions o;
  o.nodeName = "node-1";
  o.dataDir = cluster.dir + "/node";
  o.nodeIP = "192.168.50.10";
  o.podCIDR = "10.244.0.0/24";
  o.heartbeatPeriod = std::chrono::milliseconds(200);
  o.pollPeriod = std::chrono::milliseconds(50);
  o.resyncPeriod = std::chrono::milliseconds(1000);
  o.resolvConf = "/nonexistent";
  o.imageResolver = [](const std::string& ref) -> Result<ResolvedImage> {
    if (ref != "busybox") return makeError(Code::kNotFound, "image \"" + ref + "\" not found");
    ResolvedImage r;
    r.id = "sha256:" + std::string(64, 'a');
    r.manifestDigest = "sha256:" + std::string(64, 'b');
    r.config.cmd = {"sh"};
    return r;
  };
  Kubelet kubelet(cluster.config, o, std::move(runtime));
  REQUIRE(kubelet.start());
  auto& api = *cluster.client;

  SECTION("the node registers and turns Ready") {
    Json node;
    REQUIRE(eventually([&] {
      auto n = api.get("/api/v1/nodes/node-1");
      if (!n) return false;
      node = *n;
      const Json status = node.value("status", Json::object());
      for (const auto& c : status.value("conditions", Json::array()))
        if (c["type"] == "Ready" && c["status"] == "True") return true;
      return false;
    }));
    CHECK(node["metadata"]["labels"]["kubernetes.io/hostname"] == "node-1");
    CHECK(node["spec"]["podCIDR"] == "10.244.0.0/24");
    CHECK(node["status"]["capacity"]["pods"] == "110");
    CHECK(node["status"]["allocatable"].contains("memory"));
    CHECK(node["status"]["addresses"][0] ==
          Json({{"type", "InternalIP"}, {"address", "192.168.50.10"}}));
    CHECK(node["status"]["nodeInfo"]["kubeletVersion"] == kKubeletVersion);
    CHECK(node["status"]["daemonEndpoints"]["kubeletEndpoint"]["Port"] == 10250);
    for (const auto& c : node["status"]["conditions"]) CHECK(c.contains("lastHeartbeatTime"));
    CHECK(kubelet.registered());
  }

  SECTION("a pod bound to the node runs; one whose container exits 1 with Never fails") {
    REQUIRE(api.post("/api/v1/namespaces/default/pods",
                     podOn("web", "node-1", Json::array({{{"name", "c"}, {"image", "busybox"}}}))));
    REQUIRE(api.post("/api/v1/namespaces/default/pods",
                     podOn("crash", "node-1",
                           Json::array({{{"name", "fail"}, {"image", "busybox"}}}), "Never")));
    REQUIRE(api.post(
        "/api/v1/namespaces/default/pods",
        podOn("elsewhere", "node-2", Json::array({{{"name", "c"}, {"image", "busybox"}}}))));
    REQUIRE(eventually([&] { return phaseOf(api, "web") == "Running"; }));
    auto web = api.get("/api/v1/namespaces/default/pods/web");
    REQUIRE(web);
    const Json& st = (*web)["status"];
    CHECK(st["podIP"].get<std::string>().rfind("10.244.0.", 0) == 0);
    CHECK(st["podIPs"][0]["ip"] == st["podIP"]);
    CHECK(st["hostIP"] == "192.168.50.10");
    CHECK(st.contains("startTime"));
    CHECK(st["containerStatuses"][0]["containerID"].get<std::string>().rfind("skiff://", 0) == 0);
    CHECK(st["containerStatuses"][0]["ready"] == true);

    REQUIRE(eventually([&] { return phaseOf(api, "crash") == "Failed"; }));
    auto crash = api.get("/api/v1/namespaces/default/pods/crash");
    REQUIRE(crash);
    Json term = (*crash)["status"]["containerStatuses"][0]["state"]["terminated"];
    CHECK(term["reason"] == "Error");
    CHECK(term["exitCode"] == 1);

    CHECK(phaseOf(api, "elsewhere") == "Pending");  // not this node's
    for (const auto& sc : rt->sandboxConfigs()) CHECK(sc.podName != "elsewhere");

    SECTION("deleting a pod stops its containers and the object disappears") {
      std::string uid = (*web)["metadata"]["uid"];
      REQUIRE(api.del("/api/v1/namespaces/default/pods/web"));
      REQUIRE(eventually([&] {
        auto p = api.get("/api/v1/namespaces/default/pods/web");
        return !p && p.error().code == Code::kNotFound;
      }));
      CHECK(rt->called("stop " + uid + "_c_0 30"));
      CHECK(rt->called("removeSandbox " + uid));
      for (const auto& c : rt->all()) CHECK(c.id.rfind(uid, 0) != 0);
    }
  }

  SECTION("an image never loaded leaves the container waiting with ErrImageNeverPull") {
    REQUIRE(api.post(
        "/api/v1/namespaces/default/pods",
        podOn("noimage", "node-1", Json::array({{{"name", "c"}, {"image", "nginx:1.25"}}}))));
    Json waiting;
    REQUIRE(eventually([&] {
      auto p = api.get("/api/v1/namespaces/default/pods/noimage");
      if (!p || !(*p)["status"].contains("containerStatuses")) return false;
      waiting = (*p)["status"]["containerStatuses"][0]["state"].value("waiting", Json::object());
      return waiting.value("reason", "") == "ErrImageNeverPull";
    }));
    CHECK(waiting["message"].get<std::string>().find("skiff image load") != std::string::npos);
  }

  SECTION("runtime objects of a pod the API no longer has are removed") {
    SandboxInfo sb;
    sb.podUid = "ghost";
    sb.ip = "10.244.0.99";
    rt->adoptSandbox(sb);
    ContainerStatus c;
    c.id = "ghost_c_0";
    c.name = "c";
    c.state = ContainerState::kRunning;
    rt->adopt(c);
    REQUIRE(eventually([&] { return rt->called("removeSandbox ghost"); }));
    CHECK(rt->called("stop ghost_c_0 2"));
  }
  kubelet.stop();
}
