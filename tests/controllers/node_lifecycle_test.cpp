#include "controllers/node_lifecycle.h"

#include <catch2/catch.hpp>

#include "controller_test_util.h"
#include "controllers/workload_util.h"

using namespace skiff;
using namespace skiff::controllers;
using namespace skiff::controllers::testing;
using std::chrono::seconds;

namespace {

Json nodeWithHeartbeat(const std::string& name, TimePoint heartbeat) {
  std::string t = formatTime(heartbeat);
  return Json{{"apiVersion", "v1"},
              {"kind", "Node"},
              {"metadata", {{"name", name}, {"creationTimestamp", t}}},
              {"status",
               {{"conditions", Json::array({{{"type", "MemoryPressure"},
                                             {"status", "False"},
                                             {"reason", "KubeletHasSufficientMemory"},
                                             {"lastHeartbeatTime", t},
                                             {"lastTransitionTime", t}},
                                            {{"type", "Ready"},
                                             {"status", "True"},
                                             {"reason", "KubeletReady"},
                                             {"message", "kubelet is posting ready status"},
                                             {"lastHeartbeatTime", t},
                                             {"lastTransitionTime", t}}})}}}};
}

std::string readyStatus(const Json& node) {
  for (const auto& c : node["status"]["conditions"])
    if (c["type"] == "Ready") return c.value("status", "") + " " + c.value("reason", "");
  return "";
}

}  // namespace

TEST_CASE("staleNodeConditions: fresh heartbeats leave the node alone", "[nodelifecycle]") {
  auto now = std::chrono::system_clock::now();
  CHECK_FALSE(staleNodeConditions(nodeWithHeartbeat("n", now - seconds(10)), now, seconds(40)));
}

TEST_CASE("staleNodeConditions: old heartbeats turn every condition Unknown", "[nodelifecycle]") {
  auto now = std::chrono::system_clock::now();
  auto c = staleNodeConditions(nodeWithHeartbeat("n", now - seconds(41)), now, seconds(40));
  REQUIRE(c);
  REQUIRE(c->size() == 2);
  for (const auto& cond : *c) {
    CHECK(cond["status"] == "Unknown");
    CHECK(cond["reason"] == "NodeStatusUnknown");
    CHECK(cond["message"] == "Kubelet stopped posting node status.");
  }
  // Already Unknown: nothing more to write.
  Json node = nodeWithHeartbeat("n", now - seconds(41));
  node["status"]["conditions"] = *c;
  CHECK_FALSE(staleNodeConditions(node, now, seconds(40)));
}

TEST_CASE("staleNodeConditions: a node that never posted status", "[nodelifecycle]") {
  auto now = std::chrono::system_clock::now();
  Json young = {{"metadata", {{"name", "n"}, {"creationTimestamp", formatTime(now - seconds(5))}}}};
  CHECK_FALSE(staleNodeConditions(young, now, seconds(40)));
  Json old = {{"metadata", {{"name", "n"}, {"creationTimestamp", formatTime(now - seconds(50))}}}};
  auto c = staleNodeConditions(old, now, seconds(40));
  REQUIRE(c);
  CHECK((*c)[0]["type"] == "Ready");
  CHECK((*c)[0]["status"] == "Unknown");
  CHECK((*c)[0]["reason"] == "NodeStatusNeverUpdated");
}

TEST_CASE("node lifecycle controller: a node whose kubelet went quiet turns NotReady (Unknown)",
          "[nodelifecycle]") {
  Cluster c;
  auto now = std::chrono::system_clock::now();
  Json quiet = nodeWithHeartbeat("quiet", now - seconds(120));
  Json fresh = nodeWithHeartbeat("fresh", now);
  for (Json* n : {&quiet, &fresh}) {
    Json status = (*n)["status"];
    REQUIRE(c.client->post("/api/v1/nodes", *n));
    REQUIRE(c.client->patch("/api/v1/nodes/" + (*n)["metadata"].value("name", "") + "/status",
                            Json{{"status", status}}, client::kMergePatch));
  }
  NodeLifecycleControllerOptions o;
  o.gracePeriod = std::chrono::milliseconds(60000);
  o.period = std::chrono::milliseconds(100);
  NodeLifecycleController ctl(c.config, o);
  REQUIRE(ctl.start());
  CHECK(eventually(
      [&] { return readyStatus(c.get("/api/v1/nodes/quiet")) == "Unknown NodeStatusUnknown"; }));
  CHECK(readyStatus(c.get("/api/v1/nodes/fresh")) == "True KubeletReady");
  ctl.stop();
}
