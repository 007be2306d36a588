#include "controllers/replicaset.h"

#include <catch2/catch.hpp>

#include "tests/controllers/controller_test_util.h"

using namespace skiff;
using namespace skiff::controllers;
using namespace skiff::controllers::testing;

namespace {

Json pod(const std::string& name, const std::string& phase, bool assigned, bool ready,
         const std::string& created = "2026-01-01T00:00:00Z", int restarts = 0,
         const std::string& readySince = "2026-01-01T00:00:00Z") {
  Json p = {{"metadata", {{"name", name}, {"creationTimestamp", created}}},
            {"spec", Json::object()},
            {"status", {{"phase", phase}}}};
  if (assigned) p["spec"]["nodeName"] = "n1";
  if (ready)
    p["status"]["conditions"] =
        Json::array({{{"type", "Ready"}, {"status", "True"}, {"lastTransitionTime", readySince}}});
  p["status"]["containerStatuses"] = Json::array({{{"restartCount", restarts}}});
  return p;
}

std::vector<std::string> names(const std::vector<Json>& pods) {
  std::vector<std::string> out;
  for (const Json& p : pods) out.push_back(p["metadata"]["name"]);
  return out;
}

Json replicaSet(const std::string& name, int replicas, long long minReady = 0) {
  Json labels = {{"app", name}};
  return Json{{"apiVersion", "apps/v1"},
              {"kind", "ReplicaSet"},
              {"metadata", {{"name", name}}},
              {"spec",
               {{"replicas", replicas},
                {"minReadySeconds", minReady},
                {"selector", {{"matchLabels", labels}}},
                {"template", podTemplate(labels, "nginx:1")}}}};
}

std::vector<Json> ownedPods(Cluster& c, const std::string& rsName) {
  std::vector<Json> out;
  for (const Json& p : c.items(kPods)) {
    const Json* ref = controllerRef(p);
    if (ref && (*ref)["name"] == rsName && !isDeleting(p)) out.push_back(p);
  }
  return out;
}

}  // namespace

TEST_CASE("surplus pods are deleted in Kubernetes' order", "[replicaset]") {
  std::vector<Json> pods = {
      pod("running-ready-old", "Running", true, true, "2026-01-01T00:00:00Z"),
      pod("running-ready-new", "Running", true, true, "2026-01-01T00:05:00Z"),
      pod("running-notready", "Running", true, false),
      pod("pending-assigned", "Pending", true, false),
      pod("unassigned", "Pending", false, false),
      pod("unknown", "Unknown", true, false),
  };
  CHECK(names(podsToDelete(pods, 6)) ==
        std::vector<std::string>{"unassigned", "pending-assigned", "unknown", "running-notready",
                                 "running-ready-new", "running-ready-old"});
  CHECK(names(podsToDelete(pods, 2)) == std::vector<std::string>{"unassigned", "pending-assigned"});
}

TEST_CASE("among ready pods: shorter ready time, then more restarts, go first", "[replicaset]") {
  Json a =
      pod("ready-long", "Running", true, true, "2026-01-01T00:00:00Z", 0, "2026-01-01T00:00:10Z");
  Json b =
      pod("ready-short", "Running", true, true, "2026-01-01T00:00:00Z", 0, "2026-01-01T00:09:00Z");
  CHECK(names(podsToDelete({a, b}, 1)) == std::vector<std::string>{"ready-short"});
  Json c = pod("restarts", "Running", true, false, "2026-01-01T00:00:00Z", 5);
  Json d = pod("calm", "Running", true, false, "2026-01-01T00:00:00Z", 0);
  CHECK(names(podsToDelete({d, c}, 1)) == std::vector<std::string>{"restarts"});
}

TEST_CASE("pods from the template carry labels, generateName and the controller ref",
          "[replicaset]") {
  Json rs = replicaSet("web", 2);
  rs["metadata"]["namespace"] = "default";
  rs["metadata"]["uid"] = "u-1";
  rs["spec"]["template"]["metadata"]["labels"]["pod-template-hash"] = "abc";
  Json p = podFromTemplate(rs);
  CHECK(p["metadata"]["generateName"] == "web-");
  CHECK(p["metadata"]["labels"]["pod-template-hash"] == "abc");
  CHECK(p["metadata"]["ownerReferences"][0]["uid"] == "u-1");
  CHECK(p["metadata"]["ownerReferences"][0]["controller"] == true);
  CHECK(p["metadata"]["ownerReferences"][0]["blockOwnerDeletion"] == true);
  CHECK(p["spec"]["containers"][0]["image"] == "nginx:1");
}

TEST_CASE("status counts ready and available pods with minReadySeconds", "[replicaset]") {
  Json rs = replicaSet("web", 3, 10);
  rs["metadata"]["generation"] = 4;
  auto now = *parseTime("2026-01-01T00:01:00Z");
  std::vector<Json> pods = {
      pod("a", "Running", true, true, "2026-01-01T00:00:00Z", 0, "2026-01-01T00:00:00Z"),
      pod("b", "Running", true, true, "2026-01-01T00:00:00Z", 0, "2026-01-01T00:00:55Z"),
      pod("c", "Pending", true, false)};
  pods[0]["metadata"]["labels"] = rs["spec"]["template"]["metadata"]["labels"];
  Json s = replicaSetStatus(rs, pods, now);
  CHECK(s["replicas"] == 3);
  CHECK(s["fullyLabeledReplicas"] == 1);
  CHECK(s["readyReplicas"] == 2);
  CHECK(s["availableReplicas"] == 1);
  CHECK(s["observedGeneration"] == 4);
  CHECK(secondsUntilNextAvailable(pods, 10, now) == 6);
}

TEST_CASE("expectations hold a key until its own creates and deletes are seen", "[replicaset]") {
  Expectations e;
  CHECK(e.satisfied("ns/a"));
  e.expectCreations("ns/a", 2);
  CHECK_FALSE(e.satisfied("ns/a"));
  e.creationObserved("ns/a");
  CHECK_FALSE(e.satisfied("ns/a"));
  e.creationObserved("ns/a");
  CHECK(e.satisfied("ns/a"));
  e.expectDeletions("ns/a", {"u1", "u2"});
  e.deletionObserved("ns/a", "u1");
  e.deletionObserved("ns/a", "u1");  // the same pod seen twice counts once
  CHECK_FALSE(e.satisfied("ns/a"));
  e.deletionObserved("ns/a", "u2");
  CHECK(e.satisfied("ns/a"));
}

TEST_CASE("work queue: one key once, never to two workers, delayed keys come later",
          "[replicaset]") {
  WorkQueue q;
  q.add("a");
  q.add("a");
  q.add("b");
  CHECK(q.length() == 2);
  auto k = q.get();
  REQUIRE(k);
  CHECK(*k == "a");
  q.add("a");  // while processing: held back until done
  auto k2 = q.get();
  CHECK(*k2 == "b");
  CHECK(q.length() == 0);
  q.done("a");
  CHECK(q.length() == 1);
  q.addAfter("c", std::chrono::milliseconds(30));
  CHECK(*q.get() == "a");
  CHECK(*q.get() == "c");
  q.shutDown();
  CHECK_FALSE(q.get());
}

TEST_CASE("replicaset controller keeps replicas pods against a real apiserver",
          "[replicaset][api]") {
  Cluster c;
  // An orphan that matches is adopted instead of a new pod being created.
  Json orphan = {{"apiVersion", "v1"},
                 {"kind", "Pod"},
                 {"metadata", {{"name", "orphan"}, {"labels", {{"app", "web"}}}}},
                 {"spec", {{"containers", Json::array({{{"name", "web"}, {"image", "x"}}})}}}};
  REQUIRE(c.client->post(kPods, orphan));
  REQUIRE(c.client->post(kReplicaSets, replicaSet("web", 3)));
  ReplicaSetController rsc(c.config);
  REQUIRE(rsc.start());

  REQUIRE(eventually([&] { return ownedPods(c, "web").size() == 3; }));
  auto pods = ownedPods(c, "web");
  bool adopted = false;
  for (const Json& p : pods) {
    std::string name = p["metadata"]["name"];
    if (name == "orphan")
      adopted = true;
    else
      CHECK(name.rfind("web-", 0) == 0);
  }
  CHECK(adopted);
  // Never more than asked, even while its creates were in flight.
  CHECK(c.items(kPods).size() == 3);

  // A deleted pod is replaced.
  std::string victim = pods[0]["metadata"]["name"];
  REQUIRE(c.client->del(kPods + "/" + victim));
  REQUIRE(eventually([&] {
    auto now = ownedPods(c, "web");
    if (now.size() != 3) return false;
    for (const Json& p : now)
      if (p["metadata"]["name"] == victim) return false;
    return true;
  }));

  // Status follows readiness.
  pods = ownedPods(c, "web");
  REQUIRE(makeReady(*c.client, pods[0]["metadata"]["name"], 1));
  REQUIRE(eventually([&] {
    Json rs = c.get(kReplicaSets + "/web");
    return rs["status"].value("replicas", 0) == 3 && rs["status"].value("readyReplicas", 0) == 1 &&
           rs["status"].value("availableReplicas", 0) == 1 &&
           rs["status"].value("observedGeneration", 0) == rs["metadata"].value("generation", -1);
  }));

  // Scale down keeps the ready pod; the not-ready ones go first.
  std::string readyName = pods[0]["metadata"]["name"];
  REQUIRE(c.client->patch(kReplicaSets + "/web/scale", Json{{"spec", {{"replicas", 1}}}},
                          client::kMergePatch));
  REQUIRE(eventually([&] { return c.items(kPods).size() == 1; }));
  CHECK(c.items(kPods)[0]["metadata"]["name"] == readyName);

  // A pod whose labels stop matching is released (and replaced).
  REQUIRE(c.client->patch(kPods + "/" + readyName,
                          Json{{"metadata", {{"labels", {{"app", "other"}}}}}},
                          client::kMergePatch));
  REQUIRE(eventually([&] {
    Json p = c.get(kPods + "/" + readyName);
    return controllerRef(p) == nullptr && ownedPods(c, "web").size() == 1;
  }));
  rsc.stop();
}
