#include "kubelet/pod_status.h"

#include <catch2/catch.hpp>

using namespace skiff::kubelet;
using skiff::api::Json;

namespace {

const TimePoint kT0 = std::chrono::system_clock::from_time_t(1800000000);  // 2027-01-15T08:00:00Z

TimePoint at(int seconds) {
  return kT0 + std::chrono::seconds(seconds);
}

Json pod(const std::string& restartPolicy = "Always", Json inits = Json::array(),
         Json containers = Json::array({{{"name", "c"}, {"image", "busybox"}}})) {
  Json p = {{"metadata", {{"name", "web"}, {"namespace", "default"}, {"uid", "u1"}}},
            {"spec", {{"restartPolicy", restartPolicy}, {"containers", containers}}},
            {"status", {{"phase", "Pending"}, {"qosClass", "BestEffort"}}}};
  if (!inits.empty()) p["spec"]["initContainers"] = inits;
  return p;
}

ContainerStatus running(const std::string& name, int attempt, int startedAt) {
  ContainerStatus c;
  c.id = "u1_" + name + "_" + std::to_string(attempt);
  c.name = name;
  c.attempt = attempt;
  c.state = ContainerState::kRunning;
  c.startedAt = at(startedAt);
  return c;
}

ContainerStatus exited(const std::string& name, int attempt, int code, int startedAt,
                       int finishedAt, const std::string& reason = "") {
  ContainerStatus c = running(name, attempt, startedAt);
  c.state = ContainerState::kExited;
  c.exitCode = code;
  c.reason = reason;
  c.finishedAt = at(finishedAt);
  return c;
}

PodObservation observe(Json p, std::map<std::string, ContainerObservation> containers = {}) {
  PodObservation o;
  o.pod = std::move(p);
  o.podIPs = {"10.244.0.5"};
  o.hostIPs = {"192.168.1.10"};
  o.containers = std::move(containers);
  return o;
}

const Json& conditionOf(const Json& status, const std::string& type) {
  for (const auto& c : status["conditions"])
    if (c["type"] == type) return c;
  FAIL("no condition " << type);
  static Json none;
  return none;
}

}  // namespace

TEST_CASE("a pod whose container is being created is Pending, waiting ContainerCreating",
          "[pod_status]") {
  Json s = computePodStatus(observe(pod()), at(0));
  CHECK(s["phase"] == "Pending");
  const Json& c = s["containerStatuses"][0];
  CHECK(c["name"] == "c");
  CHECK(c["state"] == Json({{"waiting", {{"reason", "ContainerCreating"}}}}));
  CHECK(c["ready"] == false);
  CHECK(c["restartCount"] == 0);
  CHECK(c["image"] == "docker.io/library/busybox:latest");
  CHECK(c["lastState"] == Json::object());
  CHECK(c["started"] == false);
  CHECK(conditionOf(s, "Initialized")["status"] == "True");
  CHECK(conditionOf(s, "Ready")["status"] == "False");
  CHECK(conditionOf(s, "Ready")["reason"] == "ContainersNotReady");
  CHECK(conditionOf(s, "Ready")["message"] == "containers with unready status: [c]");
  CHECK(conditionOf(s, "ContainersReady")["message"] == "containers with unready status: [c]");
  CHECK(conditionOf(s, "PodScheduled")["status"] == "True");
  CHECK(s["hostIP"] == "192.168.1.10");
  CHECK(s["hostIPs"] == Json::array({{{"ip", "192.168.1.10"}}}));
  CHECK(s["podIP"] == "10.244.0.5");
  CHECK(s["startTime"] == "2027-01-15T08:00:00Z");
  CHECK(s["qosClass"] == "BestEffort");
  CHECK_FALSE(s.contains("initContainerStatuses"));
  // Kubernetes' order of conditions.
  std::vector<std::string> types;
  for (const auto& c2 : s["conditions"]) types.push_back(c2["type"]);
  CHECK(types ==
        std::vector<std::string>{"Initialized", "Ready", "ContainersReady", "PodScheduled"});
}

TEST_CASE("a running, ready container makes the pod Running and Ready", "[pod_status]") {
  ContainerObservation o;
  o.attempts = {running("c", 0, 1)};
  o.ready = o.started = true;
  o.imageID = "docker.io/library/busybox@sha256:abc";
  Json s = computePodStatus(observe(pod(), {{"c", o}}), at(2));
  CHECK(s["phase"] == "Running");
  const Json& c = s["containerStatuses"][0];
  CHECK(c["state"] == Json({{"running", {{"startedAt", "2027-01-15T08:00:01Z"}}}}));
  CHECK(c["ready"] == true);
  CHECK(c["started"] == true);
  CHECK(c["containerID"] == "skiff://u1_c_0");
  CHECK(c["imageID"] == "docker.io/library/busybox@sha256:abc");
  CHECK(conditionOf(s, "Ready")["status"] == "True");
  CHECK_FALSE(conditionOf(s, "Ready").contains("reason"));
  CHECK(conditionOf(s, "ContainersReady")["status"] == "True");
  CHECK(s["podIPs"] == Json::array({{{"ip", "10.244.0.5"}}}));

  SECTION("not ready while the readiness probe has not passed") {
    o.ready = false;
    Json s2 = computePodStatus(observe(pod(), {{"c", o}}), at(2));
    CHECK(s2["phase"] == "Running");
    CHECK(s2["containerStatuses"][0]["ready"] == false);
    CHECK(conditionOf(s2, "Ready")["status"] == "False");
  }
}

TEST_CASE("restartPolicy Never: exit 1 fails the pod with reason Error, exit 0 succeeds",
          "[pod_status]") {
  ContainerObservation o;
  o.attempts = {exited("c", 0, 1, 1, 5)};
  Json s = computePodStatus(observe(pod("Never"), {{"c", o}}), at(6));
  CHECK(s["phase"] == "Failed");
  Json term = s["containerStatuses"][0]["state"]["terminated"];
  CHECK(term["exitCode"] == 1);
  CHECK(term["reason"] == "Error");
  CHECK(term["startedAt"] == "2027-01-15T08:00:01Z");
  CHECK(term["finishedAt"] == "2027-01-15T08:00:05Z");
  CHECK(term["containerID"] == "skiff://u1_c_0");
  CHECK(conditionOf(s, "Ready")["reason"] == "PodCompleted");
  CHECK(conditionOf(s, "ContainersReady")["status"] == "False");

  o.attempts = {exited("c", 0, 0, 1, 5)};
  s = computePodStatus(observe(pod("Never"), {{"c", o}}), at(6));
  CHECK(s["phase"] == "Succeeded");
  CHECK(s["containerStatuses"][0]["state"]["terminated"]["reason"] == "Completed");

  SECTION("the runtime's reasons pass through: OOMKilled, ContainerCannotRun") {
    ContainerStatus cannot = exited("c", 0, 128, 0, 5, "ContainerCannotRun");
    cannot.startedAt = {};
    cannot.message = "exec: \"nope\": executable file not found in $PATH";
    o.attempts = {cannot};
    s = computePodStatus(observe(pod("Never"), {{"c", o}}), at(6));
    term = s["containerStatuses"][0]["state"]["terminated"];
    CHECK(term["reason"] == "ContainerCannotRun");
    CHECK(term["exitCode"] == 128);
    CHECK(term["message"] == cannot.message);
    CHECK_FALSE(term.contains("startedAt"));
    CHECK(s["phase"] == "Failed");
    o.attempts = {exited("c", 0, 137, 1, 5, "OOMKilled")};
    s = computePodStatus(observe(pod("Never"), {{"c", o}}), at(6));
    CHECK(s["containerStatuses"][0]["state"]["terminated"]["reason"] == "OOMKilled");
  }
}

TEST_CASE("CrashLoopBackOff: waiting, last attempt in lastState, restartCount the attempt",
          "[pod_status]") {
  ContainerObservation o;
  o.attempts = {exited("c", 1, 1, 10, 11), exited("c", 2, 1, 20, 21)};
  o.waitingReason = "CrashLoopBackOff";
  o.waitingMessage = "back-off 20s restarting failed container=c pod=web_default(u1)";
  Json s = computePodStatus(observe(pod("Always"), {{"c", o}}), at(25));
  const Json& c = s["containerStatuses"][0];
  CHECK(c["state"] == Json({{"waiting",
                             {{"reason", "CrashLoopBackOff"},
                              {"message",
                               "back-off 20s restarting failed container=c "
                               "pod=web_default(u1)"}}}}));
  CHECK(c["lastState"]["terminated"]["exitCode"] == 1);
  CHECK(c["lastState"]["terminated"]["finishedAt"] == "2027-01-15T08:00:21Z");
  CHECK(c["restartCount"] == 2);
  CHECK(s["phase"] == "Running");  // as Kubernetes: a crash-looping pod stays Running

  SECTION("once restarted, the previous attempt is the lastState") {
    o.attempts = {exited("c", 2, 1, 20, 21), running("c", 3, 40)};
    o.waitingReason.clear();
    s = computePodStatus(observe(pod("Always"), {{"c", o}}), at(41));
    CHECK(s["containerStatuses"][0]["restartCount"] == 3);
    CHECK(s["containerStatuses"][0]["lastState"]["terminated"]["containerID"] == "skiff://u1_c_2");
    CHECK(s["containerStatuses"][0]["state"].contains("running"));
  }
}

TEST_CASE("phase follows Kubernetes' getPhase for each restart policy", "[pod_status]") {
  Json two =
      Json::array({{{"name", "a"}, {"image", "busybox"}}, {{"name", "b"}, {"image", "busybox"}}});
  ContainerObservation ok, bad, run;
  ok.attempts = {exited("a", 0, 0, 1, 2)};
  bad.attempts = {exited("b", 0, 3, 1, 2)};
  run.attempts = {running("b", 0, 1)};
  auto phase = [&](const std::string& policy, const ContainerObservation& a,
                   const ContainerObservation& b) {
    return computePodStatus(observe(pod(policy, Json::array(), two), {{"a", a}, {"b", b}}),
                            at(3))["phase"]
        .get<std::string>();
  };
  CHECK(phase("OnFailure", ok, run) == "Running");
  CHECK(phase("OnFailure", ok, bad) == "Running");  // b will restart
  CHECK(phase("Never", ok, bad) == "Failed");
  CHECK(phase("Never", ok, run) == "Running");
  CHECK(phase("Always", ok, bad) == "Running");
  ContainerObservation ok2;
  ok2.attempts = {exited("b", 0, 0, 1, 2)};
  CHECK(phase("OnFailure", ok, ok2) == "Succeeded");
  CHECK(phase("Never", ok, ok2) == "Succeeded");
  CHECK(phase("Always", ok, ok2) == "Running");
  ContainerObservation none;
  CHECK(phase("Always", ok, none) == "Pending");  // b still waiting to start
}

TEST_CASE("init containers: Pending until all exited 0; a failed one with Never fails the pod",
          "[pod_status]") {
  Json inits =
      Json::array({{{"name", "i1"}, {"image", "busybox"}}, {{"name", "i2"}, {"image", "busybox"}}});
  ContainerObservation i1;
  i1.attempts = {running("i1", 0, 1)};
  Json s = computePodStatus(observe(pod("Always", inits), {{"i1", i1}}), at(2));
  CHECK(s["phase"] == "Pending");
  CHECK(s["initContainerStatuses"][0]["state"].contains("running"));
  CHECK(s["initContainerStatuses"][1]["state"] ==
        Json({{"waiting", {{"reason", "PodInitializing"}}}}));
  CHECK_FALSE(s["initContainerStatuses"][0].contains("started"));
  CHECK(s["initContainerStatuses"][0]["ready"] == false);
  CHECK(s["containerStatuses"][0]["state"] == Json({{"waiting", {{"reason", "PodInitializing"}}}}));
  CHECK(conditionOf(s, "Initialized")["status"] == "False");
  CHECK(conditionOf(s, "Initialized")["reason"] == "ContainersNotInitialized");
  CHECK(conditionOf(s, "Initialized")["message"] == "containers with incomplete status: [i1 i2]");

  i1.attempts = {exited("i1", 0, 0, 1, 2)};
  ContainerObservation i2, c;
  i2.attempts = {exited("i2", 0, 0, 2, 3)};
  c.attempts = {running("c", 0, 4)};
  c.ready = c.started = true;
  s = computePodStatus(observe(pod("Always", inits), {{"i1", i1}, {"i2", i2}, {"c", c}}), at(5));
  CHECK(s["phase"] == "Running");
  CHECK(conditionOf(s, "Initialized")["status"] == "True");
  CHECK(conditionOf(s, "Ready")["status"] == "True");
  CHECK(s["initContainerStatuses"][1]["ready"] == true);

  i2.attempts = {exited("i2", 0, 1, 2, 3)};
  s = computePodStatus(observe(pod("Never", inits), {{"i1", i1}, {"i2", i2}}), at(5));
  CHECK(s["phase"] == "Failed");

  i2.waitingReason = "CrashLoopBackOff";
  s = computePodStatus(observe(pod("Always", inits), {{"i1", i1}, {"i2", i2}}), at(5));
  CHECK(s["phase"] == "Pending");
  CHECK(s["initContainerStatuses"][1]["lastState"]["terminated"]["exitCode"] == 1);
}

TEST_CASE("worker waiting reasons: ErrImageNeverPull with its message", "[pod_status]") {
  ContainerObservation o;
  o.waitingReason = "ErrImageNeverPull";
  o.waitingMessage = "Container image \"busybox\" is not present with pull policy of Never";
  Json s = computePodStatus(observe(pod(), {{"c", o}}), at(0));
  CHECK(s["containerStatuses"][0]["state"]["waiting"]["reason"] == "ErrImageNeverPull");
  CHECK(s["containerStatuses"][0]["state"]["waiting"]["message"] == o.waitingMessage);
  CHECK(s["phase"] == "Pending");
}

TEST_CASE("lastTransitionTime holds while a condition holds; startTime and terminal phase stick",
          "[pod_status]") {
  ContainerObservation o;
  o.attempts = {running("c", 0, 1)};
  o.ready = o.started = true;
  Json p = pod();
  Json s1 = computePodStatus(observe(p), at(0));  // not ready at 0
  p["status"] = s1;
  Json s2 = computePodStatus(observe(p, {{"c", o}}), at(10));  // ready at 10
  CHECK(conditionOf(s2, "Ready")["lastTransitionTime"] == "2027-01-15T08:00:10Z");
  CHECK(conditionOf(s2, "Initialized")["lastTransitionTime"] == "2027-01-15T08:00:00Z");
  CHECK(s2["startTime"] == "2027-01-15T08:00:00Z");
  p["status"] = s2;
  Json s3 = computePodStatus(observe(p, {{"c", o}}), at(20));
  CHECK(s3 == s2);  // nothing changed: nothing to write
  CHECK(statusPatch(s2, s3).is_null());

  p["status"]["phase"] = "Failed";
  Json s4 = computePodStatus(observe(p, {{"c", o}}), at(30));
  CHECK(s4["phase"] == "Failed");
}

TEST_CASE("the scheduler's PodScheduled condition is kept as it is", "[pod_status]") {
  Json p = pod();
  p["status"]["conditions"] = Json::array({{{"type", "PodScheduled"},
                                            {"status", "True"},
                                            {"lastTransitionTime", "2020-01-01T00:00:00Z"}}});
  Json s = computePodStatus(observe(p), at(0));
  CHECK(conditionOf(s, "PodScheduled")["lastTransitionTime"] == "2020-01-01T00:00:00Z");
}

TEST_CASE("statusPatch carries only what changed", "[pod_status]") {
  Json from = {{"phase", "Pending"}, {"podIP", "10.0.0.1"}, {"qosClass", "BestEffort"}};
  Json to = {{"phase", "Running"}, {"podIP", "10.0.0.1"}};
  CHECK(statusPatch(from, to) == Json({{"status", {{"phase", "Running"}}}}));
  CHECK(statusPatch(to, to).is_null());
  CHECK(statusPatch(Json(), to) == Json({{"status", to}}));
}

TEST_CASE("times are RFC 3339 in UTC, and parse back", "[pod_status]") {
  CHECK(formatTime(kT0) == "2027-01-15T08:00:00Z");
  CHECK(parseTime("2027-01-15T08:00:00Z") == kT0);
  CHECK(parseTime("2027-01-15T08:00:00.123456Z") == kT0);
  CHECK_FALSE(parseTime("yesterday"));
  CHECK(shouldRestart("Always", 0));
  CHECK(shouldRestart("", 0));
  CHECK_FALSE(shouldRestart("OnFailure", 0));
  CHECK(shouldRestart("OnFailure", 2));
  CHECK_FALSE(shouldRestart("Never", 2));
}
