// The pod row, as Kubernetes' printPod: STATUS is the most telling reason
// among the phase, init containers ("Init:0/1", "Init:CrashLoopBackOff"),
// containers' waiting/terminated reasons, and deletion ("Terminating");
// RESTARTS carries "(5m ago)" after the last container restart.
#include "api/table.h"
#include "api/table_internal.h"

namespace skiff::api::table_internal {

std::vector<Json> podColumns() {
  return {
      column("Name", "string", kDescName, 0, "name"),
      column("Ready", "string", "The aggregate readiness state of this pod for accepting traffic."),
      column("Status", "string", "The aggregate status of the containers in this pod."),
      column("Restarts", "string",
             "The number of times the containers in this pod have been restarted and when the "
             "last container in this pod has restarted."),
      column("Age", "string", kDescCreationTimestamp),
      column("IP", "string", kDescPodIP, 1),
      column("Node", "string", kDescNodeName, 1),
      column("Nominated Node", "string", kDescNominatedNodeName, 1),
      column("Readiness Gates", "string", kDescReadinessGates, 1)};
}

namespace {

using TimePoint = std::chrono::system_clock::time_point;

bool isRestartableInit(const Json* container) {
  return container && str(at(*container, {"restartPolicy"})) == "Always";
}

bool conditionTrue(const Json& pod, const std::string& type) {
  for (auto& c : arr(at(pod, {"status", "conditions"}))) {
    if (str(at(c, {"type"})) == type) return str(at(c, {"status"})) == "True";
  }
  return false;
}

// Keeps the later of `cur` and the container's last termination time.
void noteRestart(const Json& status, std::optional<TimePoint>* cur) {
  auto t = parseTime(at(status, {"lastState", "terminated", "finishedAt"}));
  if (t && (!*cur || **cur < *t)) *cur = t;
}

std::string terminatedReason(const Json& term, const std::string& prefix) {
  std::string reason = str(at(term, {"reason"}));
  if (!reason.empty()) return prefix + reason;
  long long signal = num(at(term, {"signal"}));
  if (signal != 0) return prefix + "Signal:" + std::to_string(signal);
  return prefix + "ExitCode:" + std::to_string(num(at(term, {"exitCode"})));
}

}  // namespace

Json printPod(const Json& pod, TimePoint now, Json* conditions) {
  long long restarts = 0, restartableInitRestarts = 0;
  auto& containers = arr(at(pod, {"spec", "containers"}));
  auto& initContainers = arr(at(pod, {"spec", "initContainers"}));
  size_t total = containers.size();
  size_t ready = 0;
  std::optional<TimePoint> lastRestart, lastRestartableInitRestart;

  std::string phase = str(at(pod, {"status", "phase"}));
  std::string reason = phase;
  if (auto r = str(at(pod, {"status", "reason"})); !r.empty()) reason = r;
  for (auto& c : arr(at(pod, {"status", "conditions"}))) {
    if (str(at(c, {"type"})) == "PodScheduled" && str(at(c, {"reason"})) == "SchedulingGated")
      reason = "SchedulingGated";
  }
  if (phase == "Succeeded") {
    conditions->push_back({{"type", "Completed"},
                           {"status", "True"},
                           {"reason", "Succeeded"},
                           {"message", "The pod has completed successfully."}});
  } else if (phase == "Failed") {
    conditions->push_back({{"type", "Completed"},
                           {"status", "True"},
                           {"reason", "Failed"},
                           {"message", "The pod failed."}});
  }

  auto initSpec = [&](const std::string& name) -> const Json* {
    for (auto& c : initContainers)
      if (str(at(c, {"name"})) == name) return &c;
    return nullptr;
  };
  for (auto& c : initContainers)
    if (isRestartableInit(&c)) ++total;

  bool initializing = false;
  auto& initStatuses = arr(at(pod, {"status", "initContainerStatuses"}));
  for (size_t i = 0; i < initStatuses.size(); ++i) {
    const Json& cs = initStatuses[i];
    restarts += num(at(cs, {"restartCount"}));
    noteRestart(cs, &lastRestart);
    bool restartable = isRestartableInit(initSpec(str(at(cs, {"name"}))));
    if (restartable) {
      restartableInitRestarts += num(at(cs, {"restartCount"}));
      noteRestart(cs, &lastRestartableInitRestart);
    }
    const Json* term = at(cs, {"state", "terminated"});
    const Json* waiting = at(cs, {"state", "waiting"});
    if (term && num(at(*term, {"exitCode"})) == 0) continue;
    if (restartable && at(cs, {"started"}) && at(cs, {"started"})->is_boolean() &&
        at(cs, {"started"})->get<bool>()) {
      if (at(cs, {"ready"}) && at(cs, {"ready"})->is_boolean() && at(cs, {"ready"})->get<bool>())
        ++ready;
      continue;
    }
    if (term) {
      reason = terminatedReason(*term, "Init:");
    } else if (waiting && !str(at(*waiting, {"reason"})).empty() &&
               str(at(*waiting, {"reason"})) != "PodInitializing") {
      reason = "Init:" + str(at(*waiting, {"reason"}));
    } else {
      reason = "Init:" + std::to_string(i) + "/" + std::to_string(initContainers.size());
    }
    initializing = true;
    break;
  }

  if (!initializing || conditionTrue(pod, "Initialized")) {
    restarts = restartableInitRestarts;
    lastRestart = lastRestartableInitRestart;
    bool hasRunning = false;
    auto& statuses = arr(at(pod, {"status", "containerStatuses"}));
    for (size_t k = statuses.size(); k-- > 0;) {
      const Json& cs = statuses[k];
      restarts += num(at(cs, {"restartCount"}));
      noteRestart(cs, &lastRestart);
      const Json* waiting = at(cs, {"state", "waiting"});
      const Json* term = at(cs, {"state", "terminated"});
      bool isReady =
          at(cs, {"ready"}) && at(cs, {"ready"})->is_boolean() && at(cs, {"ready"})->get<bool>();
      if (waiting && !str(at(*waiting, {"reason"})).empty()) {
        reason = str(at(*waiting, {"reason"}));
      } else if (term) {
        reason = terminatedReason(*term, "");
      } else if (isReady && at(cs, {"state", "running"})) {
        hasRunning = true;
        ++ready;
      }
    }
    if (reason == "Completed" && hasRunning) {
      reason = conditionTrue(pod, "Ready") ? "Running" : "NotReady";
    }
  }

  if (at(pod, {"metadata", "deletionTimestamp"})) {
    if (str(at(pod, {"status", "reason"})) == "NodeLost") {
      reason = "Unknown";
    } else if (phase != "Succeeded" && phase != "Failed") {
      reason = "Terminating";
    }
  }

  std::string restartsStr = std::to_string(restarts);
  if (restarts != 0 && lastRestart) {
    restartsStr +=
        " (" + humanDuration(std::chrono::duration_cast<std::chrono::seconds>(now - *lastRestart)) +
        " ago)";
  }

  std::string podIP;
  if (auto& ips = arr(at(pod, {"status", "podIPs"})); !ips.empty()) {
    podIP = str(at(ips[0], {"ip"}));
  } else {
    podIP = str(at(pod, {"status", "podIP"}));
  }
  if (podIP.empty()) podIP = "<none>";
  std::string node = str(at(pod, {"spec", "nodeName"}));
  if (node.empty()) node = "<none>";
  std::string nominated = str(at(pod, {"status", "nominatedNodeName"}));
  if (nominated.empty()) nominated = "<none>";
  std::string gates = "<none>";
  if (auto& rg = arr(at(pod, {"spec", "readinessGates"})); !rg.empty()) {
    size_t trueCount = 0;
    for (auto& g : rg) {
      std::string type = str(at(g, {"conditionType"}));
      for (auto& c : arr(at(pod, {"status", "conditions"}))) {
        if (str(at(c, {"type"})) == type) {
          if (str(at(c, {"status"})) == "True") ++trueCount;
          break;
        }
      }
    }
    gates = std::to_string(trueCount) + "/" + std::to_string(rg.size());
  }

  return Json::array({str(at(pod, {"metadata", "name"})),
                      std::to_string(ready) + "/" + std::to_string(total), reason, restartsStr,
                      since(at(pod, {"metadata", "creationTimestamp"}), now), podIP, node,
                      nominated, gates});
}

}  // namespace skiff::api::table_internal
