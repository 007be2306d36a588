// The Scheduler against a real apiserver (in-process, temp dir, free port).
#include "scheduler/scheduler.h"

#include <unistd.h>
#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <thread>

#include "apiserver/server.h"
#include "client/kubeconfig.h"
#include "tests/test_apiserver.h"
#include "tests/test_util.h"

using namespace skiff;
using api::Json;

namespace {

struct Cluster : skiff::testing::TestApiServer {
  Cluster() : TestApiServer("sched") {}

  void addNode(const std::string& name, const std::string& cpu, const std::string& mem) {
    Json n = {{"apiVersion", "v1"}, {"kind", "Node"}, {"metadata", {{"name", name}}}};
    REQUIRE(client->post("/api/v1/nodes", n));
    auto cur = client->get("/api/v1/nodes/" + name);
    REQUIRE(cur);
    (*cur)["status"] = {{"allocatable", {{"cpu", cpu}, {"memory", mem}, {"pods", "110"}}},
                        {"capacity", {{"cpu", cpu}, {"memory", mem}, {"pods", "110"}}},
                        {"conditions", Json::array({{{"type", "Ready"}, {"status", "True"}}})}};
    auto put = client->put("/api/v1/nodes/" + name + "/status", *cur);
    REQUIRE(put);
  }

  void addPod(const std::string& name, const std::string& cpu, const std::string& mem) {
    Json p = {
        {"apiVersion", "v1"},
        {"kind", "Pod"},
        {"metadata", {{"name", name}}},
        {"spec",
         {{"containers",
           Json::array({{{"name", "c"},
                         {"image", "busybox"},
                         {"resources", {{"requests", {{"cpu", cpu}, {"memory", mem}}}}}}})}}}};
    auto r = client->post("/api/v1/namespaces/default/pods", p);
    REQUIRE(r);
  }

  Json pod(const std::string& name) {
    auto r = client->get("/api/v1/namespaces/default/pods/" + name);
    return r ? *r : Json();
  }
};

using skiff::testing::eventually;

std::string nodeOf(const Json& pod) {
  return pod.is_object() ? pod["spec"].value("nodeName", "") : "";
}

// The pod's condition of that type, or {} when it has none.
Json condition(const Json& pod, const std::string& type) {
  if (!pod.is_object() || !pod.contains("status")) return Json::object();
  for (const Json& c : pod["status"].value("conditions", Json::array()))
    if (c.value("type", "") == type) return c;
  return Json::object();
}

}  // namespace

TEST_CASE("scheduler binds a pending pod, marks a too-big one Unschedulable, retries on node add",
          "[scheduler]") {
  Cluster c;
  c.addNode("small", "2", "2Gi");
  scheduler::Scheduler sched(c.config);
  REQUIRE(sched.start());

  c.addPod("fits", "500m", "512Mi");
  CHECK(eventually([&] { return nodeOf(c.pod("fits")) == "small"; }));
  CHECK(condition(c.pod("fits"), "PodScheduled").value("status", "") == "True");
  // A Scheduled event names the pod and the node, as kubectl describe shows it.
  CHECK(eventually([&] {
    auto evs = c.client->get("/api/v1/namespaces/default/events");
    if (!evs) return false;
    for (const Json& e : (*evs)["items"])
      if (e.value("reason", "") == "Scheduled" && e.value("type", "") == "Normal" &&
          e.value("message", "") == "Successfully assigned default/fits to small" &&
          e["source"].value("component", "") == "default-scheduler")
        return true;
    return false;
  }));

  c.addPod("big", "1", "4Gi");
  CHECK(eventually([&] {
    return condition(c.pod("big"), "PodScheduled").value("reason", "") == "Unschedulable";
  }));
  Json cond = condition(c.pod("big"), "PodScheduled");
  CHECK(cond.value("status", "") == "False");
  CHECK(cond.value("message", "") == "0/1 nodes are available: 1 Insufficient memory.");
  CHECK(nodeOf(c.pod("big")).empty());
  // A FailedScheduling event names the pod.
  CHECK(eventually([&] {
    auto evs = c.client->get("/api/v1/namespaces/default/events");
    if (!evs) return false;
    for (const Json& e : (*evs)["items"])
      if (e.value("reason", "") == "FailedScheduling" &&
          e["involvedObject"].value("name", "") == "big" &&
          e.value("message", "") == cond.value("message", ""))
        return true;
    return false;
  }));

  // A node with room appears: the pod is retried and bound there.
  c.addNode("large", "8", "16Gi");
  CHECK(eventually([&] { return nodeOf(c.pod("big")) == "large"; }));
  CHECK(condition(c.pod("big"), "PodScheduled").value("status", "") == "True");
  sched.stop();
}

TEST_CASE("scheduler leaves pods with a nodeName or another schedulerName alone", "[scheduler]") {
  Cluster c;
  c.addNode("n1", "2", "2Gi");
  scheduler::Scheduler sched(c.config);
  REQUIRE(sched.start());
  Json other = {{"metadata", {{"name", "other"}}},
                {"spec",
                 {{"schedulerName", "my-scheduler"},
                  {"containers", Json::array({{{"name", "c"}, {"image", "busybox"}}})}}}};
  REQUIRE(c.client->post("/api/v1/namespaces/default/pods", other));
  Json preset = {{"metadata", {{"name", "preset"}}},
                 {"spec",
                  {{"nodeName", "elsewhere"},
                   {"containers", Json::array({{{"name", "c"}, {"image", "busybox"}}})}}}};
  REQUIRE(c.client->post("/api/v1/namespaces/default/pods", preset));
  c.addPod("mine", "100m", "10Mi");
  // Pods are taken in order; once "mine" is bound the others were seen.
  REQUIRE(eventually([&] { return nodeOf(c.pod("mine")) == "n1"; }));
  CHECK(nodeOf(c.pod("other")).empty());
  CHECK(condition(c.pod("other"), "PodScheduled").empty());
  CHECK(nodeOf(c.pod("preset")) == "elsewhere");
  CHECK(sched.bound() == 1);
}

TEST_CASE("100 pods created at once never overcommit a node (assume cache)", "[scheduler]") {
  Cluster c;
  c.addNode("n1", "10", "64Gi");  // room for exactly 50 pods of 200m
  scheduler::Scheduler sched(c.config);
  REQUIRE(sched.start());
  for (int i = 0; i < 100; ++i) c.addPod("p" + std::to_string(i), "200m", "64Mi");
  auto counts = [&](int& bound, int& unschedulable) {
    bound = unschedulable = 0;
    auto list = c.client->get("/api/v1/namespaces/default/pods");
    if (!list) return;
    for (const Json& p : (*list)["items"]) {
      if (!nodeOf(p).empty())
        ++bound;
      else if (condition(p, "PodScheduled").value("reason", "") == "Unschedulable")
        ++unschedulable;
    }
  };
  int bound = 0, unschedulable = 0;
  CHECK(eventually([&] {
    counts(bound, unschedulable);
    return bound + unschedulable == 100;
  }));
  CHECK(bound == 50);
  CHECK(unschedulable == 50);

  // Deleting a bound pod frees room for exactly one more.
  auto list = c.client->get("/api/v1/namespaces/default/pods");
  REQUIRE(list);
  std::string victim;
  for (const Json& p : (*list)["items"])
    if (!nodeOf(p).empty()) victim = p["metadata"]["name"];
  REQUIRE(
      c.client->del("/api/v1/namespaces/default/pods/" + victim, Json{{"gracePeriodSeconds", 0}}));
  CHECK(eventually([&] {
    counts(bound, unschedulable);
    return bound == 50 && unschedulable == 49;
  }));
}
