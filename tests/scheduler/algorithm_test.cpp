#include "scheduler/algorithm.h"

#include <catch2/catch.hpp>

using namespace skiff::scheduler;
using skiff::api::Json;

namespace {

Json node(const std::string& name, const std::string& cpu = "4", const std::string& mem = "8Gi",
          const std::string& ready = "True") {
  return Json{{"metadata", {{"name", name}, {"labels", {{"kubernetes.io/hostname", name}}}}},
              {"spec", Json::object()},
              {"status",
               {{"allocatable", {{"cpu", cpu}, {"memory", mem}, {"pods", "110"}}},
                {"conditions", Json::array({{{"type", "Ready"}, {"status", ready}}})}}}};
}

Json pod(const std::string& name, const std::string& cpu = "", const std::string& mem = "") {
  Json requests = Json::object();
  if (!cpu.empty()) requests["cpu"] = cpu;
  if (!mem.empty()) requests["memory"] = mem;
  Json c = {{"name", "c"}, {"image", "busybox"}};
  if (!requests.empty()) c["resources"] = {{"requests", requests}};
  return Json{{"metadata", {{"name", name}, {"namespace", "default"}}},
              {"spec", {{"containers", Json::array({c})}}},
              {"status", {{"phase", "Pending"}}}};
}

Json onNode(Json p, const std::string& n, const std::string& phase = "Running") {
  p["spec"]["nodeName"] = n;
  p["status"]["phase"] = phase;
  return p;
}

}  // namespace

TEST_CASE("requests: containers sum, init containers max, limits stand in, overhead") {
  Json p = pod("p", "500m", "1Gi");
  p["spec"]["containers"].push_back(
      {{"name", "d"}, {"resources", {{"limits", {{"cpu", "250m"}, {"memory", "128Mi"}}}}}});
  CHECK(podRequests(p) == ResourceList{{"cpu", 750}, {"memory", (1LL << 30) + (128LL << 20)}});

  p["spec"]["initContainers"] =
      Json::array({{{"name", "i"}, {"resources", {{"requests", {{"cpu", "2"}}}}}}});
  CHECK(podRequests(p)["cpu"] == 2000);
  CHECK(podRequests(p)["memory"] == (1LL << 30) + (128LL << 20));

  // A sidecar (restartable init container) adds to the app containers.
  p["spec"]["initContainers"] = Json::array({{{"name", "s"},
                                              {"restartPolicy", "Always"},
                                              {"resources", {{"requests", {{"cpu", "1"}}}}}}});
  CHECK(podRequests(p)["cpu"] == 1750);

  p["spec"]["overhead"] = {{"cpu", "100m"}};
  CHECK(podRequests(p)["cpu"] == 1850);
  CHECK(podRequests(pod("empty")).empty());
  CHECK(parseResources(Json{{"cpu", "0.1"}, {"memory", "1e3"}, {"bad", "x!"}}) ==
        ResourceList{{"cpu", 100}, {"memory", 1000}});
}

TEST_CASE("a pod that fits goes to a node") {
  auto r = schedulePod(pod("p", "1", "1Gi"), {{node("n1"), {}}});
  CHECK(r.scheduled);
  CHECK(r.node == "n1");
  CHECK(r.message.empty());
}

TEST_CASE("insufficient resources give Kubernetes' message") {
  auto r = schedulePod(pod("p", "", "16Gi"), {{node("n1"), {}}});
  CHECK_FALSE(r.scheduled);
  CHECK(r.message == "0/1 nodes are available: 1 Insufficient memory.");

  r = schedulePod(pod("p", "5", "16Gi"), {{node("n1"), {}}});
  CHECK(r.message == "0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory.");
}

TEST_CASE("requests of non-terminated pods on the node count, terminated ones do not") {
  NodeInfo n{node("n1", "2", "4Gi"), {onNode(pod("a", "1500m"), "n1")}};
  CHECK(schedulePod(pod("p", "1"), {n}).message == "0/1 nodes are available: 1 Insufficient cpu.");
  n.pods[0]["status"]["phase"] = "Succeeded";
  CHECK(schedulePod(pod("p", "1"), {n}).scheduled);
  n.pods[0]["status"]["phase"] = "Failed";
  CHECK(schedulePod(pod("p", "1"), {n}).scheduled);
  // A pod being deleted still holds its resources until it is gone.
  n.pods[0]["status"]["phase"] = "Running";
  n.pods[0]["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z";
  CHECK_FALSE(schedulePod(pod("p", "1"), {n}).scheduled);
}

TEST_CASE("pods without requests fit as long as the pod count allows") {
  Json full = node("n1");
  full["status"]["allocatable"]["pods"] = "1";
  NodeInfo n{full, {onNode(pod("a"), "n1")}};
  CHECK(schedulePod(pod("p"), {n}).message == "0/1 nodes are available: 1 Too many pods.");
  n.pods.clear();
  CHECK(schedulePod(pod("p"), {n}).scheduled);
}

TEST_CASE("nodeSelector and required node affinity") {
  Json p = pod("p");
  p["spec"]["nodeSelector"] = {{"disk", "ssd"}};
  Json ssd = node("fast");
  ssd["metadata"]["labels"]["disk"] = "ssd";
  auto r = schedulePod(p, {{node("slow"), {}}});
  CHECK(r.message ==
        "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector.");
  r = schedulePod(p, {{node("slow"), {}}, {ssd, {}}});
  CHECK(r.node == "fast");

  Json a = pod("a");
  a["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"] = {
      {"nodeSelectorTerms",
       Json::array({{{"matchExpressions",
                      Json::array({{{"key", "disk"}, {"operator", "In"}, {"values", {"nvme"}}}})}},
                    {{"matchFields", Json::array({{{"key", "metadata.name"},
                                                   {"operator", "In"},
                                                   {"values", {"slow"}}}})}}})}};
  CHECK(schedulePod(a, {{ssd, {}}, {node("slow"), {}}}).node == "slow");
  CHECK_FALSE(schedulePod(a, {{ssd, {}}}).scheduled);
  Json gt = pod("gt");
  gt["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"] = {
      {"nodeSelectorTerms",
       Json::array({{{"matchExpressions",
                      Json::array({{{"key", "cores"}, {"operator", "Gt"}, {"values", {"8"}}},
                                   {{"key", "gpu"}, {"operator", "DoesNotExist"}}})}}})}};
  Json big = node("big");
  big["metadata"]["labels"]["cores"] = "16";
  Json small = node("small");
  small["metadata"]["labels"]["cores"] = "4";
  CHECK(schedulePod(gt, {{small, {}}, {big, {}}}).node == "big");
  big["metadata"]["labels"]["gpu"] = "yes";
  CHECK_FALSE(schedulePod(gt, {{small, {}}, {big, {}}}).scheduled);
}

TEST_CASE("taints: NoSchedule and NoExecute need a toleration, PreferNoSchedule does not") {
  Json tainted = node("n1");
  tainted["spec"]["taints"] =
      Json::array({{{"key", "dedicated"}, {"value", "gpu"}, {"effect", "NoSchedule"}}});
  Json p = pod("p");
  CHECK(schedulePod(p, {{tainted, {}}}).message ==
        "0/1 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}.");

  SECTION("Equal with the value") {
    p["spec"]["tolerations"] = Json::array({{{"key", "dedicated"},
                                             {"operator", "Equal"},
                                             {"value", "gpu"},
                                             {"effect", "NoSchedule"}}});
    CHECK(schedulePod(p, {{tainted, {}}}).scheduled);
  }
  SECTION("Equal with another value") {
    p["spec"]["tolerations"] = Json::array({{{"key", "dedicated"}, {"value", "cpu"}}});
    CHECK_FALSE(schedulePod(p, {{tainted, {}}}).scheduled);
  }
  SECTION("Exists, any effect") {
    p["spec"]["tolerations"] = Json::array({{{"key", "dedicated"}, {"operator", "Exists"}}});
    CHECK(schedulePod(p, {{tainted, {}}}).scheduled);
  }
  SECTION("Exists without a key tolerates everything") {
    p["spec"]["tolerations"] = Json::array({{{"operator", "Exists"}}});
    CHECK(schedulePod(p, {{tainted, {}}}).scheduled);
  }
  SECTION("a toleration for another effect does not help") {
    p["spec"]["tolerations"] =
        Json::array({{{"key", "dedicated"}, {"operator", "Exists"}, {"effect", "NoExecute"}}});
    CHECK_FALSE(schedulePod(p, {{tainted, {}}}).scheduled);
  }
  SECTION("NoExecute") {
    tainted["spec"]["taints"][0]["effect"] = "NoExecute";
    CHECK_FALSE(schedulePod(p, {{tainted, {}}}).scheduled);
  }
  SECTION("PreferNoSchedule") {
    tainted["spec"]["taints"][0]["effect"] = "PreferNoSchedule";
    CHECK(schedulePod(p, {{tainted, {}}}).scheduled);
  }
}

TEST_CASE("unschedulable and NotReady nodes") {
  Json cordoned = node("n1");
  cordoned["spec"]["unschedulable"] = true;
  CHECK(schedulePod(pod("p"), {{cordoned, {}}}).message ==
        "0/1 nodes are available: 1 node(s) were unschedulable.");
  Json tol = pod("t");
  tol["spec"]["tolerations"] = Json::array({{{"key", "node.kubernetes.io/unschedulable"},
                                             {"operator", "Exists"},
                                             {"effect", "NoSchedule"}}});
  CHECK(schedulePod(tol, {{cordoned, {}}}).scheduled);

  CHECK(
      schedulePod(pod("p"), {{node("n1", "4", "8Gi", "False"), {}}}).message ==
      "0/1 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }.");
  CHECK(schedulePod(pod("p"), {{node("n1", "4", "8Gi", "Unknown"), {}}}).message ==
        "0/1 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/unreachable: "
        "}.");
  Json notReadyTol = pod("x");
  notReadyTol["spec"]["tolerations"] =
      Json::array({{{"key", "node.kubernetes.io/not-ready"}, {"operator", "Exists"}}});
  CHECK(schedulePod(notReadyTol, {{node("n1", "4", "8Gi", "False"), {}}}).scheduled);
}

TEST_CASE("host ports conflict on the same port, protocol and overlapping address") {
  auto withPort = [](Json p, int port, const std::string& proto = "TCP",
                     const std::string& ip = "") {
    Json portSpec = {{"containerPort", 80}, {"hostPort", port}, {"protocol", proto}};
    if (!ip.empty()) portSpec["hostIP"] = ip;
    p["spec"]["containers"][0]["ports"] = Json::array({portSpec});
    return p;
  };
  NodeInfo n{node("n1"), {onNode(withPort(pod("a"), 8080), "n1")}};
  CHECK(schedulePod(withPort(pod("p"), 8080), {n}).message ==
        "0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod ports.");
  CHECK(schedulePod(withPort(pod("p"), 8081), {n}).scheduled);
  CHECK(schedulePod(withPort(pod("p"), 8080, "UDP"), {n}).scheduled);
  CHECK_FALSE(schedulePod(withPort(pod("p"), 8080, "TCP", "127.0.0.1"), {n}).scheduled);
  n.pods[0] = onNode(withPort(pod("a"), 8080, "TCP", "10.0.0.1"), "n1");
  CHECK(schedulePod(withPort(pod("p"), 8080, "TCP", "127.0.0.1"), {n}).scheduled);
  n.pods[0]["status"]["phase"] = "Succeeded";
  CHECK(schedulePod(withPort(pod("p"), 8080), {n}).scheduled);
}

TEST_CASE("several nodes: reasons counted and sorted, the first failing filter per node") {
  Json cordoned = node("a");
  cordoned["spec"]["unschedulable"] = true;
  Json tainted = node("b");
  tainted["spec"]["taints"] =
      Json::array({{{"key", "k"}, {"value", "v"}, {"effect", "NoSchedule"}}});
  std::vector<NodeInfo> nodes = {
      {cordoned, {}}, {tainted, {}}, {node("c", "1", "1Gi"), {}}, {node("d", "1", "1Gi"), {}}};
  auto r = schedulePod(pod("p", "2", "2Gi"), nodes);
  CHECK(r.message ==
        "0/4 nodes are available: 1 node(s) had untolerated taint {k: v}, "
        "1 node(s) were unschedulable, 2 Insufficient cpu, 2 Insufficient memory.");
  CHECK(schedulePod(pod("p"), {}).message == "no nodes available to schedule pods");
}

TEST_CASE("usage sums requests, non-zero defaults, pod count and host ports") {
  Json a = pod("a", "250m", "1Gi");
  a["spec"]["containers"][0]["ports"] = Json::array({{{"containerPort", 80}, {"hostPort", 8080}}});
  NodeState s = summarize(
      {node("n1"),
       {onNode(a, "n1"), onNode(pod("b"), "n1"), onNode(pod("c", "1"), "n1", "Succeeded")}});
  CHECK(s.usage.pods == 2);
  CHECK(s.usage.requested == ResourceList{{"cpu", 250}, {"memory", 1LL << 30}});
  CHECK(s.usage.nonZeroCpu == 350);
  CHECK(s.usage.nonZeroMemory == (1LL << 30) + (200LL << 20));
  REQUIRE(s.usage.hostPorts.size() == 1);
  CHECK(s.usage.hostPorts[0].ip == "0.0.0.0");
  CHECK(s.usage.hostPorts[0].protocol == "TCP");
  CHECK(s.usage.hostPorts[0].port == 8080);
  CHECK(filterNode(pod("p", "4"), s) == std::vector<std::string>{"Insufficient cpu"});
}

TEST_CASE("LeastAllocated: the emptier node wins, ties go to the first name") {
  NodeInfo busy{node("a"), {onNode(pod("x", "3", "6Gi"), "a")}};
  NodeInfo idle{node("b"), {}};
  CHECK(schedulePod(pod("p", "500m", "1Gi"), {busy, idle}).node == "b");
  CHECK(scoreNode(pod("p", "500m", "1Gi"), summarize(idle)) >
        scoreNode(pod("p", "500m", "1Gi"), summarize(busy)));
  // Pods without requests count as 100m / 200Mi for scoring.
  NodeInfo many{node("a"), {onNode(pod("x"), "a"), onNode(pod("y"), "a")}};
  CHECK(schedulePod(pod("p"), {many, idle}).node == "b");
  CHECK(schedulePod(pod("p"), {NodeInfo{node("z"), {}}, NodeInfo{node("m"), {}}}).node == "m");
}
