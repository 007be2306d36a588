#include "kubelet/pod_worker.h"

#include <catch2/catch.hpp>

#include <filesystem>
#include <set>
#include <thread>

#include "api/time.h"
#include "base/file.h"
#include "tests/kubelet/fake_runtime.h"

using namespace skiff;
using namespace skiff::kubelet;
using skiff::api::Json;
using skiff::kubelet::testing::FakeRuntime;
using Behaviour = FakeRuntime::Behaviour;

namespace {

const TimePoint kT0 = std::chrono::system_clock::from_time_t(1800000000);

// The API side of a worker: records patches (merging them into one status)
// and deletes; resolves the images it was told exist.
class FakeHost : public PodHost {
 public:
  std::set<std::string> images = {"busybox"};
  std::vector<std::pair<std::string, std::string>> env;
  bool failPatches = false;
  // The ConfigMaps objectData finds (the test changes them between passes).
  std::map<std::string, std::map<std::string, std::string>> configMaps = {{"cfg", {{"k", "v"}}}};
  int objectReads = 0;  // objectData calls

  Status patchPodStatus(const Json& pod, const Json& patch) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (failPatches) return makeError(Code::kUnavailable, "apiserver down");
    patches_.push_back(patch);
    status_.merge_patch(patch["status"]);
    return Status();
  }
  Status deletePod(const Json& pod) override {
    std::lock_guard<std::mutex> lock(mu_);
    deleted_.push_back(pod["metadata"]["uid"]);
    return Status();
  }
  std::vector<std::pair<std::string, std::string>> serviceEnv(const Json&) override { return env; }
  Result<ResolvedImage> resolveImage(const std::string& ref) override {
    if (!images.count(ref)) return makeError(Code::kNotFound, "image \"" + ref + "\" not found");
    ResolvedImage r;
    r.id = "sha256:" + std::string(64, 'a');
    r.manifestDigest = "sha256:" + std::string(64, 'b');
    r.config.cmd = {"sh"};
    return r;
  }
  Result<std::map<std::string, std::string>> objectData(const std::string& resource,
                                                        const std::string& ns,
                                                        const std::string& name) override {
    std::lock_guard<std::mutex> lock(mu_);
    ++objectReads;
    if (resource == "configmaps" && configMaps.count(name)) return configMaps[name];
    return makeError(Code::kNotFound, resource + " \"" + name + "\" not found");
  }

  // TokenRequest: answers `token`, valid for an hour from `tokenNow`; counts
  // requests; names the accounts asked for.
  std::string token = "token-1";
  TimePoint tokenNow = kT0;
  std::vector<std::string> tokenAccounts;
  Result<ServiceAccountToken> serviceAccountToken(const Json& pod, const std::string& name,
                                                  const std::string& audience,
                                                  int64_t seconds) override {
    std::lock_guard<std::mutex> lock(mu_);
    tokenAccounts.push_back(pod["metadata"]["namespace"].get<std::string>() + "/" + name +
                            (audience.empty() ? "" : " for " + audience));
    if (name != "default" && name != "builder" && name != "quiet")
      return makeError(Code::kNotFound, "serviceaccounts \"" + name + "\" not found");
    return ServiceAccountToken{token + (audience.empty() ? "" : "@" + audience),
                               tokenNow + std::chrono::seconds(seconds)};
  }
  Result<bool> serviceAccountAutomounts(const Json&, const std::string& name) override {
    if (name == "ghost")
      return makeError(Code::kNotFound, "serviceaccounts \"" + name + "\" not found");
    return name != "quiet";  // automountServiceAccountToken: false on the account
  }

  std::optional<std::vector<std::string>> endpointsListing(const std::string& ns,
                                                           const std::string& ip) override {
    std::lock_guard<std::mutex> lock(mu_);
    endpointsAsked_.push_back(ns + " " + ip);
    return listing;
  }
  // What endpointsListing answers (the Endpoints still holding the pod).
  std::optional<std::vector<std::string>> listing = std::vector<std::string>{};

  void recordEvent(const Json&, const std::string& type, const std::string& reason,
                   const std::string& message) override {
    std::lock_guard<std::mutex> lock(mu_);
    events_.push_back(type + " " + reason + ": " + message);
  }
  // The events recorded so far, "TYPE REASON: MESSAGE".
  std::vector<std::string> events() {
    std::lock_guard<std::mutex> lock(mu_);
    return events_;
  }

  Json status() {
    std::lock_guard<std::mutex> lock(mu_);
    return status_;
  }
  std::vector<std::string> endpointsAsked() {
    std::lock_guard<std::mutex> lock(mu_);
    return endpointsAsked_;
  }
  // The status as the API holds it before the first patch.
  void reset(const Json& status) {
    std::lock_guard<std::mutex> lock(mu_);
    status_ = status;
  }
  size_t patchCount() {
    std::lock_guard<std::mutex> lock(mu_);
    return patches_.size();
  }
  std::vector<std::string> deleted() {
    std::lock_guard<std::mutex> lock(mu_);
    return deleted_;
  }

 private:
  std::mutex mu_;
  std::vector<Json> patches_;
  std::vector<std::string> deleted_;
  std::vector<std::string> endpointsAsked_;
  std::vector<std::string> events_;
  Json status_ = Json::object();
};

struct Harness {
  TimePoint now = kT0;
  FakeRuntime rt;
  FakeHost host;
  PodWorkerConfig config;
  std::string dir;

  Harness() {
    char tmpl[] = "/tmp/skiff-podworker-XXXXXX";
    dir = mkdtemp(tmpl);
    rt.clock = [this] { return now; };
    config.clock = [this] { return now; };
    config.nodeName = "node-1";
    config.dataDir = dir;
    config.hostIPs = {"192.168.1.10"};
    config.hostDNS = parseResolvConf("nameserver 1.1.1.1\nsearch corp.example\noptions edns0\n");
  }
  ~Harness() { std::filesystem::remove_all(dir); }

  std::unique_ptr<PodWorker> worker(const Json& pod) {
    host.reset(pod["status"]);
    return std::make_unique<PodWorker>(pod, config, rt, host);
  }
  void advance(int seconds) { now += std::chrono::seconds(seconds); }
  Json container(const std::string& name = "c") {
    Json s = host.status();
    for (const char* list : {"initContainerStatuses", "containerStatuses"})
      if (s.contains(list))
        for (const auto& c : s[list])
          if (c["name"] == name) return c;
    return Json();
  }
};

Json pod(Json containers = Json::array({{{"name", "c"}, {"image", "busybox"}}}),
         const std::string& restartPolicy = "Always", Json inits = Json::array()) {
  Json p = {{"metadata", {{"name", "web"}, {"namespace", "default"}, {"uid", "u1"}}},
            {"spec",
             {{"nodeName", "node-1"},
              {"restartPolicy", restartPolicy},
              {"containers", containers},
              {"terminationGracePeriodSeconds", 30}}},
            {"status", {{"phase", "Pending"}, {"qosClass", "BestEffort"}}}};
  if (!inits.empty()) p["spec"]["initContainers"] = inits;
  return p;
}

// p as the API shows it once deleted with `grace` seconds at kT0.
void markDeleted(Json& p, int grace) {
  p["metadata"]["deletionTimestamp"] = skiff::api::formatTime(kT0 + std::chrono::seconds(grace));
  p["metadata"]["deletionGracePeriodSeconds"] = grace;
}

Json one(const std::string& name, Json extra = Json::object()) {
  Json c = {{"name", name}, {"image", "busybox"}};
  c.update(extra);
  return c;
}

}  // namespace

TEST_CASE("a pod gets a sandbox, its container, and Running status with the pod IP",
          "[pod_worker]") {
  Harness h;
  h.host.env = {{"DB_SERVICE_HOST", "10.96.0.9"}};
  auto w = h.worker(pod());
  auto wake = w->syncOnce();
  CHECK(h.rt.calls() == std::vector<std::string>{"ensureSandbox u1", "start u1_c_0"});
  Json s = h.host.status();
  CHECK(s["phase"] == "Running");
  CHECK(s["podIP"] == "10.244.0.2");
  CHECK(s["hostIP"] == "192.168.1.10");
  CHECK(h.container()["state"]["running"]["startedAt"] == "2027-01-15T08:00:00Z");
  CHECK(h.container()["ready"] == true);
  CHECK(h.container()["imageID"] == "docker.io/library/busybox@sha256:" + std::string(64, 'b'));
  REQUIRE(wake);
  CHECK(*wake <= h.now + std::chrono::seconds(1));  // polls while containers run

  // The container config came from the spec, the image and the service variables.
  auto configs = h.rt.configs();
  REQUIRE(configs.size() == 1);
  CHECK(configs[0].process.args == std::vector<std::string>{"sh"});
  auto& env = configs[0].process.env;
  CHECK(std::find(env.begin(), env.end(), "DB_SERVICE_HOST=10.96.0.9") != env.end());
  CHECK(std::find(env.begin(), env.end(), "HOSTNAME=web") != env.end());

  // Level-triggered: a second pass with nothing new does nothing and writes nothing.
  size_t patches = h.host.patchCount();
  h.rt.clearCalls();
  w->syncOnce();
  CHECK(h.rt.calls().empty());
  CHECK(h.host.patchCount() == patches);
}

TEST_CASE("restartPolicy Never: a container exiting 1 fails the pod with reason Error",
          "[pod_worker]") {
  Harness h;
  h.rt.script("c", Behaviour::exitWith(1));
  auto w = h.worker(pod(Json::array({one("c")}), "Never"));
  w->syncOnce();
  w->syncOnce();
  Json s = h.host.status();
  CHECK(s["phase"] == "Failed");
  CHECK(h.container()["state"]["terminated"]["reason"] == "Error");
  CHECK(h.container()["state"]["terminated"]["exitCode"] == 1);
  h.advance(60);
  w->syncOnce();
  CHECK(h.rt.configs().size() == 1);  // never restarted
}

TEST_CASE("restartPolicy Always: restart at once, then CrashLoopBackOff doubling from 10 s",
          "[pod_worker]") {
  Harness h;
  h.rt.script("c", Behaviour::exitWith(2));
  auto w = h.worker(pod());
  w->syncOnce();  // attempt 0 exits at once
  w->syncOnce();  // restarted at once: attempt 1, exits
  CHECK(h.rt.called("start u1_c_1"));
  w->syncOnce();  // now backing off 10 s
  Json c = h.container();
  CHECK(c["state"]["waiting"]["reason"] == "CrashLoopBackOff");
  CHECK(c["state"]["waiting"]["message"] ==
        "back-off 10s restarting failed container=c pod=web_default(u1)");
  CHECK(c["lastState"]["terminated"]["exitCode"] == 2);
  CHECK(c["restartCount"] == 1);
  CHECK(h.host.status()["phase"] == "Running");

  h.advance(9);
  auto wake = w->syncOnce();
  CHECK_FALSE(h.rt.called("start u1_c_2"));
  REQUIRE(wake);
  CHECK(*wake == kT0 + std::chrono::seconds(10));
  h.advance(1);
  w->syncOnce();
  CHECK(h.rt.called("start u1_c_2"));
  CHECK(h.rt.called("remove u1_c_0"));  // a restart keeps only the newest dead attempt
  CHECK_FALSE(h.rt.called("remove u1_c_1"));
  w->syncOnce();
  CHECK(h.container()["state"]["waiting"]["message"] ==
        "back-off 20s restarting failed container=c pod=web_default(u1)");
  CHECK(h.container()["restartCount"] == 2);
  // One BackOff event per dead attempt, however many passes its wait spans.
  auto events = h.host.events();
  CHECK(std::count_if(events.begin(), events.end(), [](const std::string& e) {
          return e.rfind("Warning BackOff: ", 0) == 0;
        }) == 2);
}

TEST_CASE("the back-off resets after the container ran for 10 minutes", "[pod_worker]") {
  Harness h;
  auto w = h.worker(pod());
  w->syncOnce();
  h.rt.exit("u1_c_0", 1);
  w->syncOnce();  // restart at once (attempt 1)
  h.rt.exit("u1_c_1", 1);
  w->syncOnce();
  CHECK(h.container()["state"]["waiting"]["reason"] == "CrashLoopBackOff");
  h.advance(10);
  w->syncOnce();  // attempt 2 runs...
  REQUIRE(h.rt.called("start u1_c_2"));
  h.advance(11 * 60);  // ...for 11 minutes, then exits
  h.rt.exit("u1_c_2", 1);
  w->syncOnce();
  CHECK(h.rt.called("start u1_c_3"));  // at once: the back-off started over
}

TEST_CASE("OnFailure restarts failures only", "[pod_worker]") {
  Harness h;
  h.rt.script("ok", Behaviour::exitWith(0));
  h.rt.script("bad", Behaviour::exitWith(1));
  auto w = h.worker(pod(Json::array({one("ok"), one("bad")}), "OnFailure"));
  w->syncOnce();
  w->syncOnce();
  CHECK_FALSE(h.rt.called("start u1_ok_1"));
  CHECK(h.rt.called("start u1_bad_1"));
  CHECK(h.host.status()["phase"] == "Running");
}

TEST_CASE("init containers run in order, each to exit 0, before the app containers",
          "[pod_worker]") {
  Harness h;
  auto w = h.worker(pod(Json::array({one("app")}), "Always", Json::array({one("i1"), one("i2")})));
  w->syncOnce();
  CHECK(h.rt.calls() == std::vector<std::string>{"ensureSandbox u1", "start u1_i1_0"});
  CHECK(h.host.status()["phase"] == "Pending");
  CHECK(h.container("app")["state"]["waiting"]["reason"] == "PodInitializing");
  w->syncOnce();
  CHECK_FALSE(h.rt.called("start u1_i2_0"));  // i1 still runs
  h.rt.exit("u1_i1_0", 0);
  w->syncOnce();
  CHECK(h.rt.called("start u1_i2_0"));
  CHECK_FALSE(h.rt.called("start u1_app_0"));
  h.rt.exit("u1_i2_0", 0);
  w->syncOnce();
  CHECK(h.rt.called("start u1_app_0"));
  w->syncOnce();
  CHECK(h.host.status()["phase"] == "Running");
  CHECK(h.container("i2")["state"]["terminated"]["reason"] == "Completed");

  SECTION("a failing init container with Never fails the pod; the app never starts") {
    Harness h2;
    h2.rt.script("i1", Behaviour::exitWith(3));
    auto w2 = h2.worker(pod(Json::array({one("app")}), "Never", Json::array({one("i1")})));
    w2->syncOnce();
    w2->syncOnce();
    CHECK(h2.host.status()["phase"] == "Failed");
    CHECK_FALSE(h2.rt.called("start u1_app_0"));
    CHECK_FALSE(h2.rt.called("start u1_i1_1"));
  }
}

TEST_CASE("an image never loaded: waiting ErrImageNeverPull, started once it is loaded",
          "[pod_worker]") {
  Harness h;
  h.host.images.clear();
  auto w = h.worker(pod());
  auto wake = w->syncOnce();
  Json c = h.container();
  CHECK(c["state"]["waiting"]["reason"] == "ErrImageNeverPull");
  std::string msg = c["state"]["waiting"]["message"];
  CHECK(msg.rfind("Container image \"busybox\" is not present with pull policy of Never", 0) == 0);
  CHECK(msg.find("skiff image load") != std::string::npos);
  CHECK(h.host.status()["phase"] == "Pending");
  // kubectl describe shows the waiting reason; the message, with the fix, is an event.
  REQUIRE(h.host.events().size() == 1);
  CHECK(h.host.events()[0] == "Warning ErrImageNeverPull: " + msg);
  REQUIRE(wake);
  h.host.images.insert("busybox");
  h.now = *wake;
  w->syncOnce();
  CHECK(h.rt.called("start u1_c_0"));
  CHECK(h.container()["state"].contains("running"));
  CHECK(h.host.events() ==
        std::vector<std::string>{
            "Warning ErrImageNeverPull: " + msg,
            "Normal Pulled: Container image \"busybox\" already present on machine",
            "Normal Created: Created container: c", "Normal Started: Started container c"});
}

TEST_CASE("a bad config waits with CreateContainerConfigError", "[pod_worker]") {
  Harness h;
  Json c =
      one("c",
          {{"env", Json::array({{{"name", "X"},
                                 {"valueFrom",
                                  {{"configMapKeyRef", {{"name", "missing"}, {"key", "k"}}}}}}})}});
  auto w = h.worker(pod(Json::array({c})));
  w->syncOnce();
  CHECK(h.container()["state"]["waiting"]["reason"] == "CreateContainerConfigError");
  CHECK(h.rt.configs().empty());
}

TEST_CASE("a configMap volume: written before the start, waited for, kept up to date",
          "[pod_worker]") {
  Harness h;
  h.host.configMaps.clear();
  Json p = pod(Json::array({one("c", {{"volumeMounts", Json::parse(
                                                           R"([{"name": "conf",
                                                              "mountPath": "/etc/app"}])")}})}));
  p["spec"]["volumes"] = Json::parse(R"([{"name": "conf", "configMap": {"name": "app"}}])");
  auto w = h.worker(p);
  auto wake = w->syncOnce();
  // Missing: the container waits as Kubernetes shows it, with a FailedMount event.
  CHECK(h.rt.configs().empty());
  CHECK(h.container()["state"]["waiting"]["reason"] == "ContainerCreating");
  const std::string why =
      "MountVolume.SetUp failed for volume \"conf\" : configmap \"app\" not found";
  CHECK(h.container()["state"]["waiting"]["message"] == why);
  REQUIRE_FALSE(h.host.events().empty());
  CHECK(h.host.events()[0] == "Warning FailedMount: " + why);

  // Created: the next pass writes it and starts the container with it mounted.
  h.host.configMaps["app"] = {{"app.conf", "port=80"}};
  REQUIRE(wake);
  h.now = *wake;
  w->syncOnce();
  REQUIRE(h.rt.configs().size() == 1);
  const std::string dir = h.dir + "/pods/u1/volumes/conf";
  REQUIRE(h.rt.configs()[0].mounts.size() == 1);
  CHECK(h.rt.configs()[0].mounts[0].source == dir);
  CHECK(h.rt.configs()[0].mounts[0].readOnly);
  auto read = [&] { return skiff::readWholeFile(dir + "/app.conf"); };
  REQUIRE(read());
  CHECK(*read() == "port=80");

  // Changed: a running pod's volume follows within the refresh period.
  h.host.configMaps["app"] = {{"app.conf", "port=8080"}};
  h.advance(1);
  w->syncOnce();
  CHECK(*read() == "port=80");
  h.now += h.config.volumeRefreshPeriod;
  w->syncOnce();
  CHECK(*read() == "port=8080");
  CHECK(h.rt.configs().size() == 1);  // not restarted
}

TEST_CASE("a pod's volumes are read once for all the containers a pass starts", "[pod_worker]") {
  Harness h;
  Json mount = {{"volumeMounts", Json::parse(R"([{"name": "conf", "mountPath": "/etc/app"}])")}};
  Json p = pod(Json::array({one("a", mount), one("b", mount)}));
  p["spec"]["volumes"] = Json::parse(R"([{"name": "conf", "configMap": {"name": "cfg"}}])");
  auto w = h.worker(p);
  w->syncOnce();
  CHECK(h.rt.configs().size() == 2);
  CHECK(h.host.objectReads == 1);
}

TEST_CASE("the service account's token, ca.crt and namespace, mounted and renewed",
          "[pod_worker]") {
  Harness h;
  h.config.caPem = "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n";
  Json p = pod();
  p["spec"]["serviceAccountName"] = "builder";
  auto w = h.worker(p);
  w->syncOnce();
  REQUIRE(h.rt.configs().size() == 1);
  const auto mounts = h.rt.configs()[0].mounts;
  REQUIRE(mounts.size() == 1);
  CHECK(mounts[0].destination == "/var/run/secrets/kubernetes.io/serviceaccount");
  CHECK(mounts[0].readOnly);
  auto file = [&](const std::string& name) {
    auto r = skiff::readWholeFile(mounts[0].source + "/" + name);
    return r ? *r : "(missing: " + r.error().message + ")";
  };
  CHECK(file("token") == "token-1");
  CHECK(file("ca.crt") == h.config.caPem);
  CHECK(file("namespace") == "default");
  CHECK(h.host.tokenAccounts == std::vector<std::string>{"default/builder"});

  // Renewed at 80% of its hour, not before.
  h.host.token = "token-2";
  h.now = kT0 + std::chrono::minutes(40);
  w->syncOnce();
  CHECK(file("token") == "token-1");
  h.now = kT0 + std::chrono::minutes(49);
  w->syncOnce();
  CHECK(file("token") == "token-2");
  CHECK(h.host.tokenAccounts.size() == 2);
}

TEST_CASE("a projected serviceAccountToken source: its audience, renewed with its lifetime",
          "[pod_worker]") {
  Harness h;
  Json p = pod(Json::array({one("c", {{"volumeMounts", Json::parse(
                                                           R"([{"name": "vault",
                                                              "mountPath": "/var/run/vault"}])")}})}));
  p["spec"]["volumes"] = Json::parse(R"([{"name": "vault", "projected": {"defaultMode": 420,
      "sources": [{"serviceAccountToken": {"path": "token", "audience": "vault",
                                           "expirationSeconds": 600}}]}}])");
  auto w = h.worker(p);
  w->syncOnce();
  REQUIRE(h.rt.configs().size() == 1);
  auto read = [&] { return *skiff::readWholeFile(h.dir + "/pods/u1/volumes/vault/token"); };
  CHECK(read() == "token-1@vault");
  CHECK(h.host.tokenAccounts == std::vector<std::string>{"default/default for vault"});
  h.host.token = "token-2";
  h.now = kT0 + std::chrono::seconds(400);  // before 80% of 600 s
  w->syncOnce();
  CHECK(read() == "token-1@vault");
  h.now = kT0 + std::chrono::seconds(490);
  w->syncOnce();
  CHECK(read() == "token-2@vault");
}

TEST_CASE("service account volume: opted out, or the account missing", "[pod_worker]") {
  Harness h;
  h.config.caPem = "CA";
  SECTION("automountServiceAccountToken: false mounts nothing and asks for no token") {
    Json p = pod();
    p["spec"]["automountServiceAccountToken"] = false;
    auto w = h.worker(p);
    w->syncOnce();
    REQUIRE(h.rt.configs().size() == 1);
    CHECK(h.rt.configs()[0].mounts.empty());
    CHECK(h.host.tokenAccounts.empty());
  }
  SECTION("a ServiceAccount that opts out: nothing mounted, not asked again") {
    Json p = pod();
    p["spec"]["serviceAccountName"] = "quiet";
    auto w = h.worker(p);
    w->syncOnce();
    REQUIRE(h.rt.configs().size() == 1);
    CHECK(h.rt.configs()[0].mounts.empty());
    h.now += h.config.volumeRefreshPeriod;
    w->syncOnce();
    CHECK(h.host.tokenAccounts.empty());
  }
  SECTION("a missing ServiceAccount holds the container with FailedMount") {
    Json p = pod();
    p["spec"]["serviceAccountName"] = "ghost";
    auto w = h.worker(p);
    w->syncOnce();
    CHECK(h.rt.configs().empty());
    CHECK(h.container()["state"]["waiting"]["reason"] == "ContainerCreating");
    CHECK(h.container()["state"]["waiting"]["message"] ==
          "MountVolume.SetUp failed for volume \"kube-api-access\" : serviceaccounts \"ghost\" "
          "not found");
  }
  SECTION("without the CA (no API credentials to hand on) nothing is mounted") {
    h.config.caPem.clear();
    auto w = h.worker(pod());
    w->syncOnce();
    REQUIRE(h.rt.configs().size() == 1);
    CHECK(h.rt.configs()[0].mounts.empty());
  }
}

TEST_CASE("a failed liveness probe restarts the container", "[pod_worker]") {
  Harness h;
  Json c = one(
      "c", {{"livenessProbe",
             {{"exec", {{"command", {"alive"}}}}, {"periodSeconds", 5}, {"failureThreshold", 2}}}});
  auto w = h.worker(pod(Json::array({c})));
  w->syncOnce();
  w->syncOnce();
  CHECK(h.rt.called("exec u1_c_0 alive"));
  h.rt.execExit("alive", 1);
  h.advance(5);
  w->syncOnce();  // one failure: below the threshold
  CHECK_FALSE(h.rt.called("stop u1_c_0 30"));
  h.advance(5);
  w->syncOnce();  // second failure: stopped with the pod's grace period, and restarted
  CHECK(h.rt.called("stop u1_c_0 30"));
  CHECK(h.rt.called("start u1_c_1"));
  CHECK(h.container()["restartCount"] == 1);
  CHECK(h.container()["lastState"]["terminated"]["exitCode"] == 137);
}

TEST_CASE("readiness: not ready until the probe passes; startup gates the others", "[pod_worker]") {
  Harness h;
  h.rt.execExit("ready", 1);
  h.rt.execExit("started", 1);
  Json c = one(
      "c",
      {{"readinessProbe", {{"exec", {{"command", {"ready"}}}}, {"periodSeconds", 1}}},
       {"startupProbe",
        {{"exec", {{"command", {"started"}}}}, {"periodSeconds", 1}, {"failureThreshold", 30}}}});
  auto w = h.worker(pod(Json::array({c})));
  w->syncOnce();
  w->syncOnce();
  CHECK(h.container()["ready"] == false);
  CHECK(h.container()["started"] == false);
  CHECK_FALSE(h.rt.called("exec u1_c_0 ready"));  // not before startup passed
  h.rt.execExit("started", 0);
  h.advance(1);
  w->syncOnce();
  CHECK(h.container()["started"] == true);
  CHECK(h.rt.called("exec u1_c_0 ready"));
  CHECK(h.container()["ready"] == false);
  h.rt.execExit("ready", 0);
  h.advance(1);
  w->syncOnce();
  CHECK(h.container()["ready"] == true);
  CHECK(h.host.status()["conditions"][1]["type"] == "Ready");
  CHECK(h.host.status()["conditions"][1]["status"] == "True");
}

TEST_CASE("deletion: stop with the grace period, remove, remove the sandbox, then DELETE",
          "[pod_worker]") {
  Harness h;
  Json p = pod(Json::array({one("a"), one("b")}));
  auto w = h.worker(p);
  w->syncOnce();
  h.rt.clearCalls();
  markDeleted(p, 7);
  w->update(p);
  auto wake = w->syncOnce();
  CHECK_FALSE(wake);
  CHECK(w->done());
  auto calls = h.rt.calls();
  std::vector<std::string> stops(calls.begin(), calls.begin() + 2);
  std::sort(stops.begin(), stops.end());  // stopped concurrently
  CHECK(stops == std::vector<std::string>{"stop u1_a_0 7", "stop u1_b_0 7"});
  CHECK(std::vector<std::string>(calls.begin() + 2, calls.end()) ==
        std::vector<std::string>{"remove u1_a_0", "remove u1_b_0", "removeSandbox u1"});
  CHECK(h.host.deleted() == std::vector<std::string>{"u1"});
  CHECK(h.rt.containerCount() == 0);
  CHECK(h.rt.sandboxCount() == 0);
}

namespace {

Json condition(const Json& status, const std::string& type) {
  if (status.contains("conditions"))
    for (const auto& c : status["conditions"])
      if (c["type"] == type) return c;
  return Json();
}

}  // namespace

TEST_CASE("deletion: not ready first, SIGTERM only once the pod left its Endpoints",
          "[pod_worker][termination]") {
  Harness h;
  Json p = pod();
  auto w = h.worker(p);
  w->syncOnce();
  REQUIRE(condition(h.host.status(), "Ready")["status"] == "True");
  std::string ip = h.host.status()["podIP"];
  h.rt.clearCalls();
  h.host.listing = std::vector<std::string>{"web"};
  markDeleted(p, 30);
  w->update(p);
  auto wake = w->syncOnce();
  REQUIRE(wake);
  CHECK(*wake == h.now + std::chrono::milliseconds(20));  // looks again soon
  CHECK_FALSE(w->done());
  CHECK(h.rt.calls().empty());  // no signal yet
  CHECK(condition(h.host.status(), "Ready")["status"] == "False");
  CHECK(condition(h.host.status(), "ContainersReady")["status"] == "False");
  CHECK(h.host.endpointsAsked().back() == "default " + ip);

  h.now += std::chrono::milliseconds(300);
  CHECK(w->syncOnce());  // still listed: still waiting
  CHECK(h.rt.calls().empty());
  h.host.listing = std::vector<std::string>{};  // the endpoints controller dropped it
  h.now += std::chrono::milliseconds(20);
  CHECK_FALSE(w->syncOnce());
  CHECK(w->done());
  CHECK(h.rt.called("stop u1_c_0 30"));
}

TEST_CASE("deletion: the Endpoints wait ends after 2 s; grace 0 does not wait",
          "[pod_worker][termination]") {
  // A running pod still listed in its Endpoints, then deleted with `grace`.
  auto deleted = [](Harness& h, int grace) {
    h.host.listing = std::vector<std::string>{"web"};
    Json p = pod();
    auto w = h.worker(p);
    w->syncOnce();
    markDeleted(p, grace);
    w->update(p);
    return w;
  };
  Harness h;
  auto w = deleted(h, 30);
  CHECK(w->syncOnce());
  h.now += std::chrono::seconds(2);
  CHECK_FALSE(w->syncOnce());  // stuck in the Endpoints: stopped anyway
  CHECK(h.rt.called("stop u1_c_0 30"));

  Harness h0;
  auto w0 = deleted(h0, 0);
  CHECK_FALSE(w0->syncOnce());  // at once
  CHECK(h0.rt.called("stop u1_c_0 0"));
  CHECK(h0.host.endpointsAsked().empty());
}

TEST_CASE("a start waiting at the node's start gate gives up when the pod is deleted",
          "[pod_worker]") {
  Harness h;
  h.config.startGate = std::make_shared<StartGate>(1);
  REQUIRE(h.config.startGate->acquire(nullptr));  // another pod is starting
  Json p = pod();
  auto w = h.worker(p);
  std::thread pass([&] { w->syncOnce(); });
  for (int i = 0; i < 2000 && h.config.startGate->waiting() == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  REQUIRE(h.config.startGate->waiting() == 1);
  markDeleted(p, 30);
  w->update(p);  // wakes the gate: the waiting pass returns without a sandbox
  pass.join();
  CHECK(h.rt.sandboxCount() == 0);
  CHECK(h.config.startGate->waiting() == 0);
  h.config.startGate->release();
  w->syncOnce();  // the deletion pass: nothing ran, nothing to stop
  CHECK(w->done());
}

TEST_CASE("a pod gone from the API has its runtime objects removed, no DELETE", "[pod_worker]") {
  Harness h;
  auto w = h.worker(pod());
  w->syncOnce();
  w->removed();
  w->syncOnce();
  CHECK(w->done());
  CHECK(h.rt.called("stop u1_c_0 2"));
  CHECK(h.rt.called("removeSandbox u1"));
  CHECK(h.host.deleted().empty());
}

TEST_CASE("a restarted kubelet re-adopts containers: nothing restarts, exits are recorded",
          "[pod_worker]") {
  Harness h;
  SandboxInfo sb;
  sb.podUid = "u1";
  sb.ip = "10.244.0.42";
  h.rt.adoptSandbox(sb);
  ContainerStatus old;  // attempt 2 died before the crash of the kubelet
  old.id = "u1_a_2";
  old.name = "a";
  old.attempt = 2;
  old.state = ContainerState::kExited;
  old.exitCode = 1;
  old.startedAt = kT0 - std::chrono::seconds(100);
  old.finishedAt = kT0 - std::chrono::seconds(90);
  h.rt.adopt(old);
  ContainerStatus a = old;  // attempt 3 still runs
  a.id = "u1_a_3";
  a.attempt = 3;
  a.state = ContainerState::kRunning;
  a.startedAt = kT0 - std::chrono::seconds(60);
  h.rt.adopt(a);
  ContainerStatus b;  // b exited with 2 while the kubelet was down
  b.id = "u1_b_0";
  b.name = "b";
  b.state = ContainerState::kExited;
  b.exitCode = 2;
  b.startedAt = kT0 - std::chrono::seconds(60);
  b.finishedAt = kT0 - std::chrono::seconds(30);
  h.rt.adopt(b);

  auto w = h.worker(pod(Json::array({one("a"), one("b")}), "Never"));
  w->syncOnce();
  for (const auto& call : h.rt.calls()) CHECK(call.rfind("start", 0) != 0);
  CHECK(h.container("a")["restartCount"] == 3);
  CHECK(h.container("a")["state"].contains("running"));
  CHECK(h.container("a")["lastState"]["terminated"]["exitCode"] == 1);
  CHECK(h.container("b")["state"]["terminated"]["exitCode"] == 2);
  CHECK(h.container("b")["state"]["terminated"]["finishedAt"] == "2027-01-15T07:59:30Z");
  CHECK(h.host.status()["podIP"] == "10.244.0.42");
  CHECK(h.host.status()["phase"] == "Running");
  CHECK(h.container("a")["imageID"] == "docker.io/library/busybox@sha256:" + std::string(64, 'b'));
}

TEST_CASE("a failed status write is retried on the next pass", "[pod_worker]") {
  Harness h;
  h.host.failPatches = true;
  auto w = h.worker(pod());
  auto wake = w->syncOnce();
  REQUIRE(wake);
  CHECK(h.host.patchCount() == 0);
  h.host.failPatches = false;
  w->syncOnce();
  CHECK(h.host.status()["phase"] == "Running");
  CHECK(w->lastStatus()["phase"] == "Running");
}

TEST_CASE("a sandbox that cannot be made: retried, containers wait", "[pod_worker]") {
  Harness h;
  h.rt.failSandbox(true);
  auto w = h.worker(pod());
  auto wake = w->syncOnce();
  REQUIRE(wake);
  CHECK(h.container()["state"]["waiting"]["reason"] == "ContainerCreating");
  h.rt.failSandbox(false);
  w->syncOnce();
  CHECK(h.rt.called("start u1_c_0"));
}

TEST_CASE("the worker thread runs passes on its own and tears down on delete", "[pod_worker]") {
  Harness h;
  h.config.clock = nullptr;  // real time for the thread
  h.rt.clock = [] { return std::chrono::system_clock::now(); };
  h.config.pollPeriod = std::chrono::milliseconds(20);
  auto w = h.worker(pod());
  w->start();
  auto eventually = [](const std::function<bool()>& f) {
    for (int i = 0; i < 500 && !f(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return f();
  };
  CHECK(eventually([&] { return h.host.status().value("phase", "") == "Running"; }));
  h.rt.exit("u1_c_0", 1);
  CHECK(eventually([&] { return h.rt.called("start u1_c_1"); }));
  w->removed();
  CHECK(eventually([&] { return w->done(); }));
  CHECK(h.rt.sandboxCount() == 0);
  w->stop();
}

TEST_CASE("sandboxConfig: DNS per dnsPolicy, hostname, host aliases", "[pod_worker]") {
  PodWorkerConfig cfg;
  cfg.hostDNS = parseResolvConf(
      "# generated\nnameserver 192.168.1.1\nnameserver 8.8.8.8\nsearch corp.example lab\n"
      "options edns0 ndots:1\n");
  CHECK(cfg.hostDNS.servers == std::vector<std::string>{"192.168.1.1", "8.8.8.8"});
  Json p = pod();
  p["metadata"]["namespace"] = "prod";
  SandboxConfig sc = sandboxConfig(p, cfg);
  CHECK(sc.podUid == "u1");
  CHECK(sc.hostname == "web");
  CHECK(sc.dnsServers == std::vector<std::string>{"10.96.0.10"});
  CHECK(sc.dnsSearches == std::vector<std::string>{"prod.svc.cluster.local", "svc.cluster.local",
                                                   "cluster.local", "corp.example", "lab"});
  CHECK(sc.dnsOptions == std::vector<std::string>{"ndots:5"});

  p["spec"]["dnsPolicy"] = "Default";
  sc = sandboxConfig(p, cfg);
  CHECK(sc.dnsServers == cfg.hostDNS.servers);
  CHECK(sc.dnsSearches == std::vector<std::string>{"corp.example", "lab"});
  CHECK(sc.dnsOptions == std::vector<std::string>{"edns0", "ndots:1"});

  p["spec"]["dnsPolicy"] = "None";
  p["spec"]["dnsConfig"] = Json::parse(R"J({"nameservers": ["9.9.9.9"], "searches": ["a.example"],
      "options": [{"name": "ndots", "value": "2"}, {"name": "rotate"}]})J");
  sc = sandboxConfig(p, cfg);
  CHECK(sc.dnsServers == std::vector<std::string>{"9.9.9.9"});
  CHECK(sc.dnsSearches == std::vector<std::string>{"a.example"});
  CHECK(sc.dnsOptions == std::vector<std::string>{"ndots:2", "rotate"});

  p["spec"]["dnsPolicy"] = "ClusterFirst";
  sc = sandboxConfig(p, cfg);  // dnsConfig merges into ClusterFirst
  CHECK(sc.dnsServers == std::vector<std::string>{"10.96.0.10", "9.9.9.9"});
  CHECK(sc.dnsOptions == std::vector<std::string>{"ndots:2", "rotate"});

  p["spec"].erase("dnsConfig");
  p["spec"]["hostNetwork"] = true;  // ClusterFirst with hostNetwork falls back to Default
  sc = sandboxConfig(p, cfg);
  CHECK(sc.hostNetwork);
  CHECK(sc.dnsServers == cfg.hostDNS.servers);
  p["spec"]["dnsPolicy"] = "ClusterFirstWithHostNet";
  CHECK(sandboxConfig(p, cfg).dnsServers == std::vector<std::string>{"10.96.0.10"});

  p["spec"]["hostname"] = std::string(70, 'h');
  p["spec"]["hostAliases"] = Json::parse(R"J([{"ip": "1.2.3.4", "hostnames": ["a", "b"]}])J");
  sc = sandboxConfig(p, cfg);
  CHECK(sc.hostname == std::string(63, 'h'));
  REQUIRE(sc.hostAliases.size() == 1);
  CHECK(sc.hostAliases[0].first == "1.2.3.4");
  CHECK(sc.hostAliases[0].second == std::vector<std::string>{"a", "b"});
}

TEST_CASE("containerPlan: limits, security context and volumes", "[pod_worker]") {
  PodWorkerConfig cfg;
  cfg.dataDir = "/data";
  cfg.pidsLimit = 512;
  Json p = pod();
  p["spec"]["volumes"] = Json::parse(R"J([
    {"name": "scratch", "emptyDir": {}},
    {"name": "shm", "emptyDir": {"medium": "Memory"}},
    {"name": "host", "hostPath": {"path": "/srv/data", "type": "DirectoryOrCreate"}},
    {"name": "cm", "configMap": {"name": "x"}},
    {"name": "share", "nfs": {"server": "nas", "path": "/export"}}])J");
  Json c = Json::parse(R"J({
    "name": "c", "image": "busybox", "stdin": true,
    "resources": {"limits": {"memory": "64Mi", "cpu": "250m"}},
    "securityContext": {"privileged": true, "readOnlyRootFilesystem": true,
                        "capabilities": {"add": ["NET_ADMIN"], "drop": ["ALL"]}},
    "volumeMounts": [{"name": "scratch", "mountPath": "/tmp/s"},
                     {"name": "shm", "mountPath": "/dev/shm"},
                     {"name": "host", "mountPath": "/data", "readOnly": true, "subPath": "x/y"}]
  })J");
  auto plan = containerPlan(p, c, 3, ProcessSpec{}, cfg);
  REQUIRE(plan);
  const ContainerConfig& cc = plan->config;
  CHECK(cc.podUid == "u1");
  CHECK(cc.attempt == 3);
  CHECK(cc.memoryLimitBytes == 64 * 1024 * 1024);
  CHECK(cc.cpuQuotaMicros == 25000);
  CHECK(cc.pidsLimit == 512);
  CHECK(cc.privileged);
  CHECK(cc.readOnlyRootfs);
  CHECK(cc.stdinOpen);
  CHECK(cc.capAdd == std::vector<std::string>{"NET_ADMIN"});
  CHECK(cc.capDrop == std::vector<std::string>{"ALL"});
  REQUIRE(cc.mounts.size() == 3);
  CHECK(cc.mounts[0].source == "/data/pods/u1/volumes/scratch");
  CHECK(cc.mounts[0].destination == "/tmp/s");
  CHECK_FALSE(cc.mounts[0].tmpfs);
  CHECK(cc.mounts[1].tmpfs);
  CHECK(cc.mounts[1].source == "/data/pods/u1/volumes/shm");
  CHECK(cc.mounts[2].source == "/srv/data/x/y");
  CHECK(cc.mounts[2].readOnly);
  CHECK(plan->dirs ==
        std::vector<std::string>{"/data/pods/u1/volumes/scratch", "/srv/data", "/srv/data/x/y"});

  // A configMap volume: the worker's directory for it, always read-only, no
  // directories to make (the worker writes it); a subPath points into it.
  c["volumeMounts"] = Json::parse(
      R"J([{"name": "cm", "mountPath": "/cfg"},
           {"name": "cm", "mountPath": "/etc/app.conf", "subPath": "app.conf"}])J");
  auto withConfig = containerPlan(p, c, 0, ProcessSpec{}, cfg);
  REQUIRE(withConfig);
  REQUIRE(withConfig->config.mounts.size() == 2);
  CHECK(withConfig->config.mounts[0].source == "/data/pods/u1/volumes/cm");
  CHECK(withConfig->config.mounts[0].readOnly);
  CHECK(withConfig->config.mounts[1].source == "/data/pods/u1/volumes/cm/app.conf");
  CHECK(withConfig->config.mounts[1].readOnly);
  CHECK(withConfig->dirs.empty());
  c["volumeMounts"] = Json::parse(R"J([{"name": "share", "mountPath": "/nfs"}])J");
  auto bad = containerPlan(p, c, 0, ProcessSpec{}, cfg);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message ==
        "volume share: only emptyDir, hostPath, configMap, secret, downwardAPI and projected "
        "volumes are supported");
  c["volumeMounts"] =
      Json::parse(R"J([{"name": "scratch", "mountPath": "/x", "subPath": "../up"}])J");
  CHECK_FALSE(containerPlan(p, c, 0, ProcessSpec{}, cfg));
  c["volumeMounts"] = Json::parse(R"J([{"name": "nope", "mountPath": "/x"}])J");
  CHECK_FALSE(containerPlan(p, c, 0, ProcessSpec{}, cfg));
  c["volumeMounts"] = Json::array();
  c["resources"]["limits"]["cpu"] = "1m";  // at least 1 ms per period
  auto tiny = containerPlan(p, c, 0, ProcessSpec{}, cfg);
  REQUIRE(tiny);
  CHECK(tiny->config.cpuQuotaMicros == 1000);

  // The service account's credentials: read-only, unless the container mounts
  // something of its own there.
  auto withToken = containerPlan(p, c, 0, ProcessSpec{}, cfg, true);
  REQUIRE(withToken);
  REQUIRE(withToken->config.mounts.size() == 1);
  CHECK(withToken->config.mounts[0].destination == kServiceAccountMountPath);
  CHECK(withToken->config.mounts[0].source == "/data/pods/u1/volumes/_kube-api-access");
  CHECK(withToken->config.mounts[0].readOnly);
  c["volumeMounts"] = Json::parse(
      R"J([{"name": "cm", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"}])J");
  auto own = containerPlan(p, c, 0, ProcessSpec{}, cfg, true);
  REQUIRE(own);
  REQUIRE(own->config.mounts.size() == 1);
  CHECK(own->config.mounts[0].source == "/data/pods/u1/volumes/cm");
}
