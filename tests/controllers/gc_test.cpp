#include "controllers/gc.h"

#include <catch2/catch.hpp>

#include "controllers/manager.h"
#include "tests/controllers/controller_test_util.h"

using namespace skiff;
using namespace skiff::controllers;
using namespace skiff::controllers::testing;

TEST_CASE("owner verdicts: all gone deletes, some gone trims, waiting owners chain", "[gc]") {
  using S = OwnerState;
  using A = OwnerVerdict::Action;
  CHECK(judgeOwners({"a"}, {S::kExists}, false).action == A::kNothing);
  auto v = judgeOwners({"a"}, {S::kGone}, false);
  CHECK(v.action == A::kDelete);
  CHECK(v.propagation == "Background");
  v = judgeOwners({"a", "b"}, {S::kGone, S::kExists}, false);
  CHECK(v.action == A::kRemoveRefs);
  CHECK(v.removeUids == std::vector<std::string>{"a"});
  v = judgeOwners({"a"}, {S::kWaitingForDependents}, true);
  CHECK(v.action == A::kDelete);
  CHECK(v.propagation == "Foreground");
  v = judgeOwners({"a"}, {S::kWaitingForDependents}, false);
  CHECK(v.propagation == "Background");
  v = judgeOwners({"a", "b"}, {S::kWaitingForDependents, S::kExists}, false);
  CHECK(v.action == A::kRemoveRefs);
}

TEST_CASE("hasFinalizer", "[gc]") {
  Json o = {{"metadata", {{"finalizers", {"orphan"}}}}};
  CHECK(hasFinalizer(o, "orphan"));
  CHECK_FALSE(hasFinalizer(o, "foregroundDeletion"));
  CHECK_FALSE(hasFinalizer(Json::object(), "orphan"));
}

namespace {

Json deployment() {
  Json labels = {{"app", "web"}};
  return Json{{"apiVersion", "apps/v1"},
              {"kind", "Deployment"},
              {"metadata", {{"name", "web"}}},
              {"spec",
               {{"replicas", 2},
                {"selector", {{"matchLabels", labels}}},
                {"template", podTemplate(labels, "nginx:1")}}}};
}

void deployAndWait(Cluster& c) {
  REQUIRE(c.client->post(kDeployments, deployment()));
  REQUIRE(
      eventually([&] { return c.items(kReplicaSets).size() == 1 && c.items(kPods).size() == 2; }));
}

}  // namespace

TEST_CASE("the apiserver turns propagationPolicy into finalizers", "[gc][api]") {
  Cluster c;  // no garbage collector: the finalizers stay
  for (const char* policy : {"Orphan", "Foreground"}) {
    Json cm = {{"apiVersion", "v1"},
               {"kind", "Pod"},
               {"metadata", {{"name", "cm"}}},
               {"spec", {{"containers", Json::array({{{"name", "c"}, {"image", "x"}}})}}}};
    auto created = c.client->post(kPods, cm);
    INFO(policy << ": " << (created ? std::string() : created.error().message));
    REQUIRE(created);
    REQUIRE(c.client->del(kPods + "/cm", Json{{"propagationPolicy", policy}}));
    Json live = c.get(kPods + "/cm");
    CHECK(live["metadata"].contains("deletionTimestamp"));
    CHECK(live["metadata"]["finalizers"] ==
          Json::array({std::string(policy) == "Orphan" ? "orphan" : "foregroundDeletion"}));
    Json next = live;
    next["metadata"]["finalizers"] = Json::array();
    REQUIRE(c.client->put(kPods + "/cm", next));
    CHECK_FALSE(c.client->get(kPods + "/cm"));
  }
}

TEST_CASE("deleting a deployment removes its replicasets and pods (background)", "[gc][api]") {
  Cluster c;
  FakeKubelet kubelet(c.config);
  ControllerManager m(c.config);
  REQUIRE(m.start());
  deployAndWait(c);
  REQUIRE(c.client->del(kDeployments + "/web"));
  REQUIRE(eventually([&] { return c.items(kReplicaSets).empty() && c.items(kPods).empty(); }));
  m.stop();
}

TEST_CASE("foreground deletion keeps the owner until its dependents are gone", "[gc][api]") {
  Cluster c;
  ControllerManager m(c.config);
  REQUIRE(m.start());
  deployAndWait(c);
  REQUIRE(c.client->del(kDeployments + "/web", Json{{"propagationPolicy", "Foreground"}}));
  // The owner is still there, marked, while pods exist (or it is gone, with them).
  Json d = c.get(kDeployments + "/web");
  if (d.is_object() && d.contains("metadata")) {
    CHECK(d["metadata"].contains("deletionTimestamp"));
  }
  REQUIRE(eventually([&] {
    return !c.client->get(kDeployments + "/web").ok() && c.items(kReplicaSets).empty() &&
           c.items(kPods).empty();
  }));
  m.stop();
}

TEST_CASE("orphan deletion leaves replicasets and pods without the owner", "[gc][api]") {
  Cluster c;
  ControllerManager m(c.config);
  REQUIRE(m.start());
  deployAndWait(c);
  REQUIRE(c.client->del(kDeployments + "/web", Json{{"propagationPolicy", "Orphan"}}));
  REQUIRE(eventually([&] { return !c.client->get(kDeployments + "/web").ok(); }));
  auto sets = c.items(kReplicaSets);
  REQUIRE(sets.size() == 1);
  INFO(sets[0]["metadata"].dump());
  CHECK(sets[0]["metadata"].value("ownerReferences", Json::array()).empty());
  // Its pods still belong to the ReplicaSet, which keeps them.
  CHECK(c.items(kPods).size() == 2);
  m.stop();
}

TEST_CASE("a dependent whose owner never existed (uid mismatch) is collected", "[gc][api]") {
  Cluster c;
  GarbageCollector gc(c.config);
  REQUIRE(gc.start());
  Json owner = {{"apiVersion", "v1"},
                {"kind", "Pod"},
                {"metadata", {{"name", "owner"}}},
                {"spec", {{"containers", Json::array({{{"name", "c"}, {"image", "x"}}})}}}};
  REQUIRE(c.client->post(kPods, owner));
  Json dep = owner;
  dep["metadata"]["name"] = "dep";
  dep["metadata"]["ownerReferences"] = Json::array(
      {{{"apiVersion", "v1"}, {"kind", "Pod"}, {"name", "owner"}, {"uid", "not-the-uid"}}});
  Json kept = owner;
  kept["metadata"]["name"] = "kept";
  std::string ownerUid = c.get(kPods + "/owner")["metadata"]["uid"];
  kept["metadata"]["ownerReferences"] =
      Json::array({{{"apiVersion", "v1"}, {"kind", "Pod"}, {"name", "owner"}, {"uid", ownerUid}}});
  REQUIRE(c.client->post(kPods, dep));
  REQUIRE(c.client->post(kPods, kept));
  REQUIRE(eventually([&] { return !c.client->get(kPods + "/dep").ok(); }));
  CHECK(c.client->get(kPods + "/kept").ok());
  // Its owner deleted: collected too.
  REQUIRE(c.client->del(kPods + "/owner"));
  REQUIRE(eventually([&] { return !c.client->get(kPods + "/kept").ok(); }));
  gc.stop();
}
