#include "kubelet/pod_status.h"

#include <ctime>
#include <set>

#include "kubelet/image_ref.h"

namespace skiff::kubelet {

namespace {

bool isZero(TimePoint t) {
  return t.time_since_epoch().count() == 0;
}

std::string joinNames(const std::vector<std::string>& names) {
  std::string out = "[";
  for (size_t i = 0; i < names.size(); ++i) out += (i ? " " : "") + names[i];
  return out + "]";
}

Json waiting(const std::string& reason, const std::string& message = "") {
  Json w = Json::object();
  if (!reason.empty()) w["reason"] = reason;
  if (!message.empty()) w["message"] = message;
  return {{"waiting", w}};
}

Json terminated(const ContainerStatus& c) {
  Json t = {{"exitCode", c.exitCode}, {"containerID", containerIdUri(c.id)}};
  std::string reason = c.reason;
  if (reason.empty()) reason = c.exitCode == 0 ? "Completed" : "Error";
  t["reason"] = reason;
  if (!c.message.empty()) t["message"] = c.message;
  if (!isZero(c.startedAt)) t["startedAt"] = formatTime(c.startedAt);
  if (!isZero(c.finishedAt)) t["finishedAt"] = formatTime(c.finishedAt);
  return {{"terminated", t}};
}

std::string statusImage(const std::string& image) {
  auto ref = parseImageRef(image);
  return ref ? ref->nameTag() : image;
}

Json containerStatus(const Json& spec, const ContainerObservation* obs,
                     const std::string& defaultReason, bool isInit) {
  std::string name = textOf(spec, "name");
  Json st = {{"name", name},
             {"image", statusImage(textOf(spec, "image"))},
             {"imageID", obs ? obs->imageID : ""},
             {"ready", false},
             {"restartCount", 0},
             {"lastState", Json::object()}};
  if (!isInit) st["started"] = false;
  if (!obs || obs->attempts.empty()) {
    st["state"] = obs && !obs->waitingReason.empty()
                      ? waiting(obs->waitingReason, obs->waitingMessage)
                      : waiting(defaultReason);
    return st;
  }
  const ContainerStatus& latest = obs->attempts.back();
  st["restartCount"] = latest.attempt;
  st["containerID"] = containerIdUri(latest.id);
  Json previous = Json::object();
  if (obs->attempts.size() >= 2) {
    const ContainerStatus& prev = obs->attempts[obs->attempts.size() - 2];
    if (prev.state == ContainerState::kExited) previous = terminated(prev);
  }
  switch (latest.state) {
    case ContainerState::kRunning:
      st["state"] = {{"running", {{"startedAt", formatTime(latest.startedAt)}}}};
      st["ready"] = !isInit && obs->ready;
      if (!isInit) st["started"] = obs->started;
      break;
    case ContainerState::kExited:
      if (!obs->waitingReason.empty()) {
        st["state"] = waiting(obs->waitingReason, obs->waitingMessage);
        previous = terminated(latest);
      } else {
        st["state"] = terminated(latest);
        // An init container is ready once it completed (Kubernetes' status manager).
        st["ready"] = isInit && latest.exitCode == 0;
      }
      break;
    case ContainerState::kCreated:
      st["state"] = waiting("ContainerCreating");
      break;
    case ContainerState::kUnknown:
      st["state"] = waiting(obs->waitingReason, obs->waitingMessage);
      break;
  }
  st["lastState"] = previous;
  return st;
}

Json condition(const Json& oldStatus, const std::string& type, bool status,
               const std::string& reason, const std::string& message, TimePoint now) {
  std::string s = status ? "True" : "False";
  Json c = {{"type", type}, {"status", s}};
  if (!reason.empty()) c["reason"] = reason;
  if (!message.empty()) c["message"] = message;
  std::string transition = formatTime(now);
  const Json& old = member(oldStatus, "conditions");
  if (old.is_array())
    for (const auto& o : old)
      if (textOf(o, "type") == type && textOf(o, "status") == s &&
          !textOf(o, "lastTransitionTime").empty())
        transition = textOf(o, "lastTransitionTime");
  c["lastTransitionTime"] = transition;
  return c;
}

const Json& stateOf(const Json& cs, const char* which) {
  return member(member(cs, "state"), which);
}

Json ipList(const std::vector<std::string>& ips) {
  Json out = Json::array();
  for (const auto& ip : ips)
    if (!ip.empty()) out.push_back({{"ip", ip}});
  return out;
}

}  // namespace

bool shouldRestart(const std::string& restartPolicy, int exitCode) {
  if (restartPolicy == "Never") return false;
  if (restartPolicy == "OnFailure") return exitCode != 0;
  return true;
}

std::string containerIdUri(const std::string& id) {
  return "skiff://" + id;
}

std::string podPhase(const Json& pod, const Json& initStatuses, const Json& statuses) {
  std::string policy = textOf(member(pod, "spec"), "restartPolicy");
  int pendingInit = 0, failedInit = 0;
  if (initStatuses.is_array()) {
    for (const auto& cs : initStatuses) {
      const Json& term = stateOf(cs, "terminated");
      const Json& lastTerm = member(member(cs, "lastState"), "terminated");
      if (term.is_object()) {
        if (intOf(term, "exitCode", 0) != 0) ++failedInit;
      } else if (stateOf(cs, "waiting").is_object() && lastTerm.is_object() &&
                 intOf(lastTerm, "exitCode", 0) != 0) {
        ++failedInit;
      } else {
        ++pendingInit;
      }
    }
  }
  if (failedInit > 0 && policy == "Never") return "Failed";
  if (pendingInit > 0 || failedInit > 0) return "Pending";
  int running = 0, waitingCount = 0, stopped = 0, succeeded = 0;
  if (statuses.is_array()) {
    for (const auto& cs : statuses) {
      const Json& term = stateOf(cs, "terminated");
      const Json& lastTerm = member(member(cs, "lastState"), "terminated");
      if (stateOf(cs, "running").is_object()) {
        ++running;
      } else if (term.is_object()) {
        ++stopped;
        if (intOf(term, "exitCode", 0) == 0) ++succeeded;
      } else if (lastTerm.is_object()) {
        ++stopped;
        if (intOf(lastTerm, "exitCode", 0) == 0) ++succeeded;
      } else {
        ++waitingCount;
      }
    }
  }
  if (waitingCount > 0) return "Pending";
  if (running > 0) return "Running";
  if (stopped > 0) {
    if (policy == "Always" || policy.empty()) return "Running";
    if (stopped == succeeded) return "Succeeded";
    if (policy == "OnFailure") return "Running";
    return "Failed";
  }
  return "Pending";
}

Json computePodStatus(const PodObservation& obs, TimePoint now) {
  const Json& spec = member(obs.pod, "spec");
  const Json& old = member(obs.pod, "status");
  const Json& initSpecs = member(spec, "initContainers");
  const Json& specs = member(spec, "containers");
  bool hasInit = initSpecs.is_array() && !initSpecs.empty();

  auto observation = [&](const std::string& name) -> const ContainerObservation* {
    auto it = obs.containers.find(name);
    return it == obs.containers.end() ? nullptr : &it->second;
  };
  Json initStatuses = Json::array(), statuses = Json::array();
  if (hasInit)
    for (const auto& c : initSpecs)
      initStatuses.push_back(
          containerStatus(c, observation(textOf(c, "name")), "PodInitializing", true));
  if (specs.is_array())
    for (const auto& c : specs)
      statuses.push_back(containerStatus(c, observation(textOf(c, "name")),
                                         hasInit ? "PodInitializing" : "ContainerCreating", false));

  Json status = Json::object();
  std::string phase = textOf(old, "phase");
  if (phase != "Succeeded" && phase != "Failed") phase = podPhase(obs.pod, initStatuses, statuses);
  status["phase"] = phase;
  bool terminal = phase == "Succeeded" || phase == "Failed";

  std::vector<std::string> notInitialized, unready;
  for (const auto& cs : initStatuses) {
    const Json& term = stateOf(cs, "terminated");
    if (!term.is_object() || intOf(term, "exitCode", 0) != 0)
      notInitialized.push_back(textOf(cs, "name"));
  }
  for (const auto& cs : statuses)
    if (!cs.value("ready", false)) unready.push_back(textOf(cs, "name"));

  Json conditions = Json::array();
  if (notInitialized.empty())
    conditions.push_back(condition(old, "Initialized", true, "", "", now));
  else
    conditions.push_back(
        condition(old, "Initialized", false, "ContainersNotInitialized",
                  "containers with incomplete status: " + joinNames(notInitialized), now));
  for (const char* type : {"Ready", "ContainersReady"}) {
    if (terminal)
      conditions.push_back(condition(old, type, false, "PodCompleted", "", now));
    else if (unready.empty())
      conditions.push_back(condition(old, type, true, "", "", now));
    else
      conditions.push_back(condition(old, type, false, "ContainersNotReady",
                                     "containers with unready status: " + joinNames(unready), now));
  }
  Json scheduled;
  const Json& oldConditions = member(old, "conditions");
  if (oldConditions.is_array())
    for (const auto& c : oldConditions)
      if (textOf(c, "type") == "PodScheduled") scheduled = c;
  if (scheduled.is_null()) scheduled = condition(old, "PodScheduled", true, "", "", now);
  conditions.push_back(scheduled);
  status["conditions"] = conditions;

  Json hostIPs = ipList(obs.hostIPs);
  if (!hostIPs.empty()) {
    status["hostIP"] = hostIPs[0]["ip"];
    status["hostIPs"] = hostIPs;
  }
  Json podIPs = ipList(obs.podIPs);
  if (!podIPs.empty()) {
    status["podIP"] = podIPs[0]["ip"];
    status["podIPs"] = podIPs;
  } else if (!textOf(old, "podIP").empty()) {
    status["podIP"] = old["podIP"];  // once set, podIP stays (a finished pod keeps it)
    if (old.contains("podIPs")) status["podIPs"] = old["podIPs"];
  }
  std::string start = textOf(old, "startTime");
  status["startTime"] = start.empty() ? formatTime(now) : start;
  if (hasInit) status["initContainerStatuses"] = initStatuses;
  status["containerStatuses"] = statuses;
  if (!textOf(old, "qosClass").empty()) status["qosClass"] = old["qosClass"];
  return status;
}

Json statusPatch(const Json& from, const Json& to) {
  Json diff = Json::object();
  for (auto it = to.begin(); it != to.end(); ++it) {
    const Json& before = member(from, it.key().c_str());
    if (before != it.value()) diff[it.key()] = it.value();
  }
  if (diff.empty()) return Json();
  return {{"status", diff}};
}

const Json& member(const Json& obj, const char* key) {
  return api::lenient::field(obj, key);
}

std::string textOf(const Json& obj, const char* key) {
  return api::lenient::str(obj, key);
}

long long intOf(const Json& obj, const char* key, long long fallback) {
  const Json& v = member(obj, key);
  return v.is_number_integer() ? v.get<long long>() : fallback;
}

}  // namespace skiff::kubelet
