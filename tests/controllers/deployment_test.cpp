#include "controllers/deployment.h"

#include <catch2/catch.hpp>

#include <mutex>

#include "controllers/replicaset.h"
#include "tests/controllers/controller_test_util.h"

using namespace skiff;
using namespace skiff::controllers;
using namespace skiff::controllers::testing;

namespace {

Json deployment(int replicas, const Json& surge, const Json& unavailable,
                const std::string& image = "nginx:1") {
  Json labels = {{"app", "web"}};
  return Json{{"apiVersion", "apps/v1"},
              {"kind", "Deployment"},
              {"metadata", {{"name", "web"}, {"namespace", "default"}, {"generation", 1}}},
              {"spec",
               {{"replicas", replicas},
                {"selector", {{"matchLabels", labels}}},
                {"strategy",
                 {{"type", "RollingUpdate"},
                  {"rollingUpdate", {{"maxSurge", surge}, {"maxUnavailable", unavailable}}}}},
                {"template", podTemplate(labels, image)}}}};
}

Json rs(const std::string& name, long long spec, long long available, long long revision,
        const std::string& created) {
  return Json{{"metadata",
               {{"name", name},
                {"creationTimestamp", created},
                {"generation", 1},
                {"annotations", {{kRevisionAnnotation, std::to_string(revision)}}}}},
              {"spec", {{"replicas", spec}}},
              {"status",
               {{"replicas", spec},
                {"readyReplicas", available},
                {"availableReplicas", available},
                {"observedGeneration", 1}}}};
}

}  // namespace

TEST_CASE("template hash is stable, ignores pod-template-hash and follows the template",
          "[deployment]") {
  Json t = podTemplate({{"app", "web"}}, "nginx:1");
  std::string h = podTemplateHash(t, 0);
  CHECK(h == podTemplateHash(t, 0));
  CHECK(h.find_first_not_of("bcdfghjklmnpqrstvwxz2456789") == std::string::npos);
  Json withHash = t;
  withHash["metadata"]["labels"]["pod-template-hash"] = h;
  CHECK(podTemplateHash(withHash, 0) == h);
  CHECK(equalIgnoreHash(withHash, t));
  // kubectl rollout undo re-encodes the template from Go: `resources: {}` is no change.
  Json reencoded = t;
  reencoded["spec"]["containers"][0]["resources"] = Json::object();
  CHECK(equalIgnoreHash(reencoded, t));
  CHECK(podTemplateHash(reencoded, 0) == h);
  CHECK(podTemplateHash(podTemplate({{"app", "web"}}, "nginx:2"), 0) != h);
  CHECK(podTemplateHash(t, 1) != h);
}

TEST_CASE("maxSurge rounds up, maxUnavailable down, both zero means one unavailable",
          "[deployment]") {
  auto f = resolveFenceposts(deployment(10, "25%", "25%"));
  CHECK(f.surge == 3);
  CHECK(f.unavailable == 2);
  f = resolveFenceposts(deployment(3, 0, "10%"));
  CHECK(f.surge == 0);
  CHECK(f.unavailable == 1);  // 0.3 rounds to 0, and 0/0 is not allowed
  f = resolveFenceposts(deployment(4, 2, 1));
  CHECK(f.surge == 2);
  CHECK(f.unavailable == 1);
  Json recreate = deployment(4, 1, 1);
  recreate["spec"]["strategy"] = {{"type", "Recreate"}};
  CHECK(maxUnavailable(recreate) == 0);
}

TEST_CASE("rolling step: new scales up within surge, old down within unavailable", "[deployment]") {
  Json d = deployment(4, 1, 1);
  Json old = rs("web-old", 4, 4, 1, "2026-01-01T00:00:00Z");
  Json fresh = rs("web-new", 0, 0, 2, "2026-01-01T00:01:00Z");
  // Step 1: new may add one pod (4 + 1 surge).
  CHECK(newReplicaSetReplicas(d, {old, fresh}, &fresh) == 1);
  fresh["spec"]["replicas"] = 1;
  // Old may lose one (3 of 4 must stay available; new is not available yet).
  auto plan = oldReplicaSetScaleDown(d, {old}, &fresh);
  CHECK(plan["web-old"] == 3);
  // At 5 pods nothing more is added.
  CHECK(newReplicaSetReplicas(d, {old, fresh}, &fresh) == 1);
  // With old at 3 and the new pod not yet available, old must not shrink further.
  old["spec"]["replicas"] = 3;
  old["status"]["availableReplicas"] = 3;
  CHECK(oldReplicaSetScaleDown(d, {old}, &fresh).empty());
  // Unhealthy old pods go first, without counting against availability.
  Json sick = rs("web-sick", 2, 0, 1, "2026-01-01T00:00:00Z");
  Json healthy = rs("web-new2", 4, 4, 2, "2026-01-01T00:02:00Z");
  CHECK(oldReplicaSetScaleDown(d, {sick}, &healthy)["web-sick"] == 0);
  // A stale status never counts more available pods than the spec asks for.
  Json stale = rs("web-stale", 2, 4, 1, "2026-01-01T00:00:00Z");
  Json none = rs("web-none", 2, 0, 2, "2026-01-01T00:02:00Z");
  auto p = oldReplicaSetScaleDown(deployment(4, 0, 1), {stale}, &none);
  // 4 replicas: 2 + 2 pods, 2 available at most; min available 3: nothing to remove.
  CHECK(p.empty());
}

TEST_CASE("old revisions beyond revisionHistoryLimit are cleaned, lowest first", "[deployment]") {
  Json d = deployment(2, 1, 0);
  d["spec"]["revisionHistoryLimit"] = 1;
  std::vector<Json> old = {rs("r1", 0, 0, 1, "2026-01-01T00:00:00Z"),
                           rs("r3", 0, 0, 3, "2026-01-01T00:02:00Z"),
                           rs("r2", 0, 0, 2, "2026-01-01T00:01:00Z")};
  CHECK(replicaSetsToCleanUp(d, old) == std::vector<std::string>{"r1", "r2"});
  old[0]["spec"]["replicas"] = 1;  // still has pods: kept
  CHECK(replicaSetsToCleanUp(d, old) == std::vector<std::string>{"r2"});
}

TEST_CASE("status and conditions as Kubernetes computes them", "[deployment]") {
  auto now = *parseTime("2026-01-01T00:10:00Z");
  Json d = deployment(4, 1, 1);
  d["spec"]["progressDeadlineSeconds"] = 600;
  Json old = rs("web-old", 3, 3, 1, "2026-01-01T00:00:00Z");
  Json fresh = rs("web-new", 2, 1, 2, "2026-01-01T00:01:00Z");
  Json s = rolloutStatus(d, {old, fresh}, &fresh, now);
  CHECK(s["replicas"] == 5);
  CHECK(s["updatedReplicas"] == 2);
  CHECK(s["availableReplicas"] == 4);
  CHECK(s["unavailableReplicas"] == 1);
  CHECK((*findCondition(s, "Available"))["reason"] == "MinimumReplicasAvailable");
  const Json* p = findCondition(s, "Progressing");
  REQUIRE(p);
  CHECK((*p)["reason"] == "ReplicaSetUpdated");
  CHECK((*p)["message"] == "ReplicaSet \"web-new\" is progressing.");

  // Complete.
  Json done = rs("web-new", 4, 4, 2, "2026-01-01T00:01:00Z");
  d["status"] = s;
  Json s2 = rolloutStatus(d, {rs("web-old", 0, 0, 1, "2026-01-01T00:00:00Z"), done}, &done, now);
  CHECK((*findCondition(s2, "Progressing"))["reason"] == "NewReplicaSetAvailable");
  CHECK((*findCondition(s2, "Progressing"))["message"] ==
        "ReplicaSet \"web-new\" has successfully progressed.");

  // No progress for longer than the deadline.
  Json stuck = deployment(4, 1, 1);
  stuck["spec"]["progressDeadlineSeconds"] = 60;
  stuck["status"] = s;  // same numbers as now: no progress
  Json s3 = rolloutStatus(stuck, {old, fresh}, &fresh, now + std::chrono::minutes(2));
  CHECK((*findCondition(s3, "Progressing"))["reason"] == "ProgressDeadlineExceeded");
  CHECK((*findCondition(s3, "Progressing"))["status"] == "False");

  // Too few available.
  Json s4 = calculateStatus(d, {rs("web-new", 4, 1, 2, "2026-01-01T00:01:00Z")}, nullptr, now);
  CHECK((*findCondition(s4, "Available"))["status"] == "False");
}

TEST_CASE("rollout status texts are kubectl's", "[deployment]") {
  Json d = deployment(3, 1, 0);
  d["metadata"]["generation"] = 2;
  d["status"] = {{"observedGeneration", 1}};
  CHECK(viewRollout(d).message == "Waiting for deployment spec update to be observed...\n");
  d["status"] = {{"observedGeneration", 2}, {"replicas", 3}, {"updatedReplicas", 1}};
  CHECK(viewRollout(d).message ==
        "Waiting for deployment \"web\" rollout to finish: 1 out of 3 new replicas have been "
        "updated...\n");
  d["status"] = {{"observedGeneration", 2}, {"replicas", 4}, {"updatedReplicas", 3}};
  CHECK(viewRollout(d).message ==
        "Waiting for deployment \"web\" rollout to finish: 1 old replicas are pending "
        "termination...\n");
  d["status"] = {
      {"observedGeneration", 2}, {"replicas", 3}, {"updatedReplicas", 3}, {"availableReplicas", 1}};
  CHECK(viewRollout(d).message ==
        "Waiting for deployment \"web\" rollout to finish: 1 of 3 updated replicas are "
        "available...\n");
  d["status"]["availableReplicas"] = 3;
  CHECK(viewRollout(d).done);
  CHECK(viewRollout(d).message == "deployment \"web\" successfully rolled out\n");
  d["status"]["conditions"] = Json::array(
      {{{"type", "Progressing"}, {"status", "False"}, {"reason", "ProgressDeadlineExceeded"}}});
  CHECK(viewRollout(d).error == "deployment \"web\" exceeded its progress deadline");
}

// ---- against a real apiserver ----

namespace {

struct Controllers {
  std::unique_ptr<ReplicaSetController> rs;
  std::unique_ptr<DeploymentController> deploy;
  explicit Controllers(const client::ClientConfig& c) { start(c); }
  void start(const client::ClientConfig& c) {
    rs = std::make_unique<ReplicaSetController>(c);
    deploy = std::make_unique<DeploymentController>(c);
    REQUIRE(rs->start());
    REQUIRE(deploy->start());
  }
  void stop() {
    deploy->stop();
    rs->stop();
  }
};

// Samples pods continuously and records the extremes a rollout must respect.
class Observer {
 public:
  explicit Observer(const client::ClientConfig& config)
      : client_(std::make_unique<client::RestClient>(config)) {}
  ~Observer() { stop(); }
  void start() {
    thread_ = std::thread([this] {
      while (!stop_) {
        auto l = client_->get(kPods);
        if (l) {
          // As Kubernetes counts for maxSurge and maxUnavailable: pods on
          // their way out (deletionTimestamp set, the kubelet still stopping
          // them) are neither running for the Deployment nor available.
          int total = 0, ready = 0;
          for (const Json& p : (*l)["items"]) {
            if (isDeleting(p)) continue;
            ++total;
            if (podIsReady(p)) ++ready;
          }
          std::lock_guard<std::mutex> lock(mu_);
          maxPods_ = std::max(maxPods_, total);
          minReady_ = std::min(minReady_, ready);
          ++samples_;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    });
  }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int maxPods() {
    std::lock_guard<std::mutex> lock(mu_);
    return maxPods_;
  }
  int minReady() {
    std::lock_guard<std::mutex> lock(mu_);
    return minReady_;
  }
  int samples() {
    std::lock_guard<std::mutex> lock(mu_);
    return samples_;
  }

 private:
  std::unique_ptr<client::RestClient> client_;
  std::mutex mu_;
  int maxPods_ = 0;         // guarded by mu_
  int minReady_ = 1 << 30;  // guarded by mu_
  int samples_ = 0;         // guarded by mu_
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

bool rolledOut(Cluster& c, const std::string& image) {
  Json d = c.get(kDeployments + "/web");
  if (!d.is_object() || !viewRollout(d).done) return false;
  for (const Json& p : c.items(kPods))
    if (p["spec"]["containers"][0]["image"] != image) return false;
  return true;
}

Json liveDeployment(int replicas, const Json& surge, const Json& unavailable,
                    const std::string& image) {
  Json d = deployment(replicas, surge, unavailable, image);
  d["metadata"].erase("generation");
  d["metadata"].erase("namespace");
  return d;
}

void setImage(Cluster& c, const std::string& image) {
  REQUIRE(c.client->patch(
      kDeployments + "/web",
      Json{{"spec",
            {{"template",
              {{"spec", {{"containers", Json::array({{{"name", "web"}, {"image", image}}})}}}}}}}},
      client::kStrategicMergePatch));
}

}  // namespace

TEST_CASE("a deployment rolls out stepwise within maxSurge and maxUnavailable",
          "[deployment][api]") {
  Cluster c;
  FakeKubelet kubelet(c.config);
  Controllers ctl(c.config);
  REQUIRE(c.client->post(kDeployments, liveDeployment(4, 1, 1, "nginx:1")));
  REQUIRE(eventually([&] { return rolledOut(c, "nginx:1"); }));
  Json d = c.get(kDeployments + "/web");
  CHECK(d["metadata"]["annotations"][kRevisionAnnotation] == "1");
  CHECK((*findCondition(d["status"], "Available"))["reason"] == "MinimumReplicasAvailable");
  CHECK((*findCondition(d["status"], "Progressing"))["reason"] == "NewReplicaSetAvailable");
  auto sets = c.items(kReplicaSets);
  REQUIRE(sets.size() == 1);
  std::string rs1 = sets[0]["metadata"]["name"];
  CHECK(rs1 == "web-" + sets[0]["metadata"]["labels"]["pod-template-hash"].get<std::string>());

  Observer obs(c.config);
  obs.start();
  setImage(c, "nginx:2");
  REQUIRE(eventually([&] { return rolledOut(c, "nginx:2"); }));
  obs.stop();
  CHECK(obs.samples() > 0);
  CHECK(obs.maxPods() <= 5);   // replicas + maxSurge
  CHECK(obs.minReady() >= 3);  // replicas - maxUnavailable
  d = c.get(kDeployments + "/web");
  CHECK(d["metadata"]["annotations"][kRevisionAnnotation] == "2");
  sets = c.items(kReplicaSets);
  REQUIRE(sets.size() == 2);
  for (const Json& s : sets) {
    if (s["metadata"]["name"] == rs1) {
      CHECK(s["spec"]["replicas"] == 0);
      CHECK(s["metadata"]["annotations"][kRevisionAnnotation] == "1");
    } else {
      CHECK(s["spec"]["replicas"] == 4);
      CHECK(s["metadata"]["annotations"][kRevisionAnnotation] == "2");
    }
  }

  // Rollback (what `kubectl rollout undo` sends): the old ReplicaSet comes back
  // as revision 3, no new ReplicaSet.
  setImage(c, "nginx:1");
  REQUIRE(eventually([&] { return rolledOut(c, "nginx:1"); }));
  sets = c.items(kReplicaSets);
  CHECK(sets.size() == 2);
  Json back = c.get(kReplicaSets + "/" + rs1);
  CHECK(back["spec"]["replicas"] == 4);
  CHECK(back["metadata"]["annotations"][kRevisionAnnotation] == "3");
  CHECK(c.get(kDeployments + "/web")["metadata"]["annotations"][kRevisionAnnotation] == "3");

  // Scaling is not a rollout: same ReplicaSet, more pods.
  REQUIRE(c.client->patch(kDeployments + "/web/scale", Json{{"spec", {{"replicas", 6}}}},
                          client::kMergePatch));
  REQUIRE(eventually([&] {
    return c.get(kReplicaSets + "/" + rs1)["spec"]["replicas"] == 6 && c.items(kPods).size() == 6 &&
           rolledOut(c, "nginx:1");
  }));
  ctl.stop();
}

TEST_CASE("a controller restarted mid-rollout resumes from the API alone", "[deployment][api]") {
  Cluster c;
  FakeKubelet kubelet(c.config);
  auto ctl = std::make_unique<Controllers>(c.config);
  REQUIRE(c.client->post(kDeployments, liveDeployment(4, 1, 1, "nginx:1")));
  REQUIRE(eventually([&] { return rolledOut(c, "nginx:1"); }));

  Observer obs(c.config);
  obs.start();
  kubelet.setEnabled(false);  // new pods stay not ready: the rollout stalls mid-way
  setImage(c, "nginx:2");
  REQUIRE(eventually([&] {
    int newPods = 0;
    for (const Json& p : c.items(kPods))
      if (p["spec"]["containers"][0]["image"] == "nginx:2") ++newPods;
    return newPods == 2;  // 1 surge + 1 unavailable, nothing more until they are ready
  }));
  ctl->stop();  // as a kill: nothing is flushed or handed over
  ctl.reset();
  ctl = std::make_unique<Controllers>(c.config);
  kubelet.setEnabled(true);
  REQUIRE(eventually([&] { return rolledOut(c, "nginx:2"); }));
  obs.stop();
  CHECK(obs.maxPods() <= 5);
  CHECK(obs.minReady() >= 3);
  CHECK(c.items(kReplicaSets).size() == 2);
  ctl->stop();
}

TEST_CASE("recreate, history limit, progress deadline and pause", "[deployment][api]") {
  Cluster c;
  FakeKubelet kubelet(c.config);
  Controllers ctl(c.config);
  Json d = liveDeployment(2, 1, 0, "nginx:1");
  d["spec"]["strategy"] = {{"type", "Recreate"}};
  d["spec"]["revisionHistoryLimit"] = 1;
  d["spec"]["progressDeadlineSeconds"] = 2;
  REQUIRE(c.client->post(kDeployments, d));
  REQUIRE(eventually([&] { return rolledOut(c, "nginx:1"); }));

  // Recreate: never old and new pods at once.
  std::atomic<bool> mixed{false}, stop{false};
  std::thread watcher([&] {
    client::RestClient rc(c.config);
    while (!stop) {
      auto l = rc.get(kPods);
      if (l) {
        std::set<std::string> images;
        for (const Json& p : (*l)["items"]) images.insert(p["spec"]["containers"][0]["image"]);
        if (images.size() > 1) mixed = true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  setImage(c, "nginx:2");
  REQUIRE(eventually([&] { return rolledOut(c, "nginx:2"); }));
  setImage(c, "nginx:3");
  REQUIRE(eventually([&] { return rolledOut(c, "nginx:3"); }));
  stop = true;
  watcher.join();
  CHECK_FALSE(mixed);
  // revisionHistoryLimit 1: the current and one old ReplicaSet.
  REQUIRE(eventually([&] { return c.items(kReplicaSets).size() == 2; }));

  // No ready pods for longer than progressDeadlineSeconds.
  kubelet.setEnabled(false);
  setImage(c, "nginx:4");
  bool timedOut = eventually([&] {
    Json live = c.get(kDeployments + "/web");
    const Json* p = findCondition(live["status"], "Progressing");
    return p && (*p)["reason"] == "ProgressDeadlineExceeded" && (*p)["status"] == "False";
  });
  INFO(c.get(kDeployments + "/web").dump() << "\n" << c.items(kReplicaSets).dump());
  REQUIRE(timedOut);
  CHECK(viewRollout(c.get(kDeployments + "/web")).error ==
        "deployment \"web\" exceeded its progress deadline");
  kubelet.setEnabled(true);
  REQUIRE(eventually([&] { return rolledOut(c, "nginx:4"); }));

  // Paused: template changes wait, scaling does not.
  REQUIRE(c.client->patch(kDeployments + "/web", Json{{"spec", {{"paused", true}}}},
                          client::kMergePatch));
  REQUIRE(eventually([&] {
    Json live = c.get(kDeployments + "/web");
    const Json* p = findCondition(live["status"], "Progressing");
    return p && (*p)["reason"] == "DeploymentPaused";
  }));
  setImage(c, "nginx:5");
  REQUIRE(c.client->patch(kDeployments + "/web/scale", Json{{"spec", {{"replicas", 3}}}},
                          client::kMergePatch));
  REQUIRE(eventually([&] {
    auto pods = c.items(kPods);
    if (pods.size() != 3) return false;
    for (const Json& p : pods)
      if (p["spec"]["containers"][0]["image"] != "nginx:4") return false;
    return true;
  }));
  REQUIRE(c.client->patch(kDeployments + "/web", Json{{"spec", {{"paused", nullptr}}}},
                          client::kMergePatch));
  REQUIRE(eventually([&] { return rolledOut(c, "nginx:5"); }));
  ctl.stop();
}

TEST_CASE("two deployments with overlapping selectors each keep only their own pods",
          "[deployment][api]") {
  Cluster c;
  FakeKubelet kubelet(c.config);
  Controllers ctl(c.config);
  Json a = liveDeployment(2, 1, 0, "nginx:1");
  a["metadata"]["name"] = "a";
  Json b = liveDeployment(3, 1, 0, "redis:1");
  b["metadata"]["name"] = "b";  // the same selector app=web
  REQUIRE(c.client->post(kDeployments, a));
  REQUIRE(c.client->post(kDeployments, b));
  auto settled = [&] {
    int na = 0, nb = 0;
    for (const Json& p : c.items(kPods)) {
      std::string image = p["spec"]["containers"][0]["image"];
      (image == "nginx:1" ? na : nb)++;
    }
    Json da = c.get(kDeployments + "/a"), db = c.get(kDeployments + "/b");
    return na == 2 && nb == 3 && viewRollout(da).done && viewRollout(db).done;
  };
  REQUIRE(eventually(settled));
  for (const Json& rs : c.items(kReplicaSets)) {
    const Json* ref = controllerRef(rs);
    REQUIRE(ref);
    std::string image = rs["spec"]["template"]["spec"]["containers"][0]["image"];
    CHECK((*ref)["name"] == (image == "nginx:1" ? "a" : "b"));
  }
  // Still so a while later (no fight over pods).
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK(settled());
  CHECK(c.items(kPods).size() == 5);
  ctl.stop();
}

TEST_CASE("bad deployments are refused with field paths and nothing stored", "[deployment][api]") {
  Cluster c;
  Json d = liveDeployment(2, 1, 0, "nginx:1");
  Json mismatch = d;
  mismatch["spec"]["selector"]["matchLabels"]["app"] = "other";
  auto r = c.client->post(kDeployments, mismatch);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Code::kInvalid);
  REQUIRE_FALSE(r.error().causes.empty());
  CHECK(r.error().causes[0].field == "spec.template.metadata.labels");
  Json negative = d;
  negative["spec"]["replicas"] = -1;
  r = c.client->post(kDeployments, negative);
  REQUIRE_FALSE(r);
  CHECK(r.error().causes[0].field == "spec.replicas");
  CHECK(c.items(kDeployments).empty());
  REQUIRE(c.client->post(kDeployments, d));
  r = c.client->patch(kDeployments + "/web",
                      Json{{"spec",
                            {{"selector", {{"matchLabels", {{"app", "web"}, {"x", "y"}}}}},
                             {"template", {{"metadata", {{"labels", {{"x", "y"}}}}}}}}}},
                      client::kStrategicMergePatch);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Code::kInvalid);
  bool selectorCause = false;
  for (const auto& cause : r.error().causes)
    if (cause.field == "spec.selector") selectorCause = true;
  CHECK(selectorCause);
}

// Not run by default (`controllers_tests "[.bench]"`): how long the controllers
// take, with pods Ready as soon as the fake kubelet sees them.
TEST_CASE("rollout and scale timings", "[.bench]") {
  Cluster c;
  FakeKubelet kubelet(c.config);
  Controllers ctl(c.config);
  REQUIRE(c.client->post(kDeployments, liveDeployment(20, "25%", "25%", "nginx:1")));
  REQUIRE(eventually([&] { return rolledOut(c, "nginx:1"); }));
  auto t0 = std::chrono::steady_clock::now();
  setImage(c, "nginx:2");
  REQUIRE(eventually([&] { return rolledOut(c, "nginx:2"); }, 60));
  auto ms = [](auto since) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                 since)
        .count();
  };
  WARN("roll 20 replicas (maxSurge 25%): " << ms(t0) << " ms");
  t0 = std::chrono::steady_clock::now();
  REQUIRE(c.client->patch(kDeployments + "/web/scale", Json{{"spec", {{"replicas", 100}}}},
                          client::kMergePatch));
  REQUIRE(eventually([&] { return c.items(kPods).size() == 100 && rolledOut(c, "nginx:2"); }, 60));
  WARN("scale 20 -> 100, all Ready: " << ms(t0) << " ms");
  t0 = std::chrono::steady_clock::now();
  REQUIRE(c.client->patch(kDeployments + "/web/scale", Json{{"spec", {{"replicas", 0}}}},
                          client::kMergePatch));
  REQUIRE(eventually([&] { return c.items(kPods).empty(); }, 60));
  WARN("scale 100 -> 0, all gone: " << ms(t0) << " ms");
  ctl.stop();
}
