#include "scheduler/algorithm.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <set>

#include "api/validation_internal.h"

namespace skiff::scheduler {
namespace {

// Kubernetes' texts (pkg/scheduler/framework/plugins/...).
constexpr const char* kUnschedulable = "node(s) were unschedulable";
constexpr const char* kAffinityMismatch = "node(s) didn't match Pod's node affinity/selector";
constexpr const char* kNoFreePorts = "node(s) didn't have free ports for the requested pod ports";
constexpr const char* kTooManyPods = "Too many pods";

constexpr int64_t kDefaultMilliCpu = 100;                // non-zero default for scoring
constexpr int64_t kDefaultMemory = 200LL * 1024 * 1024;  // 200Mi

using api::lenient::array;
using api::lenient::field;
using api::lenient::str;

void addTo(ResourceList& into, const ResourceList& add) {
  for (const auto& [k, v] : add) into[k] += v;
}

void maxInto(ResourceList& into, const ResourceList& other) {
  for (const auto& [k, v] : other) into[k] = std::max(into[k], v);
}

// A container's requests, with limits standing in for absent requests.
ResourceList containerRequests(const Json& container) {
  const Json& res = field(container, "resources");
  ResourceList out = parseResources(field(res, "limits"));
  for (const auto& [k, v] : parseResources(field(res, "requests"))) out[k] = v;
  return out;
}

// ---- taints and tolerations ----

struct Taint {
  std::string key, value, effect;
};

bool tolerates(const Json& toleration, const Taint& taint) {
  std::string effect = str(toleration, "effect");
  if (!effect.empty() && effect != taint.effect) return false;
  std::string key = str(toleration, "key");
  std::string op = str(toleration, "operator");
  if (op == "Exists") return key.empty() || key == taint.key;
  if (key != taint.key) return false;
  return (op.empty() || op == "Equal") && str(toleration, "value") == taint.value;
}

bool toleratedByPod(const Json& pod, const Taint& taint) {
  for (const Json& t : array(field(pod, "spec"), "tolerations"))
    if (tolerates(t, taint)) return true;
  return false;
}

// The node's Ready condition status ("True", "False", "Unknown"; "" if absent).
std::string readyStatus(const Json& node) {
  for (const Json& c : array(field(node, "status"), "conditions"))
    if (str(c, "type") == "Ready") return str(c, "status");
  return "";
}

std::vector<Taint> nodeTaints(const Json& node) {
  std::vector<Taint> out;
  for (const Json& t : array(field(node, "spec"), "taints"))
    out.push_back({str(t, "key"), str(t, "value"), str(t, "effect")});
  // What the node lifecycle controller would add for a node that is not Ready.
  std::string ready = readyStatus(node);
  if (ready != "True") {
    std::string key =
        ready == "False" ? "node.kubernetes.io/not-ready" : "node.kubernetes.io/unreachable";
    bool present = std::any_of(out.begin(), out.end(), [&](const Taint& t) {
      return t.key == key && t.effect == "NoSchedule";
    });
    if (!present) out.push_back({key, "", "NoSchedule"});
  }
  return out;
}

// ---- node affinity ----

bool matchRequirement(const Json& req, const std::optional<std::string>& value) {
  std::string op = str(req, "operator");
  const Json& values = array(req, "values");
  auto in = [&] {
    if (!value) return false;
    for (const Json& v : values)
      if (v.is_string() && v.get<std::string>() == *value) return true;
    return false;
  };
  if (op == "In") return in();
  if (op == "NotIn") return !in();
  if (op == "Exists") return value.has_value();
  if (op == "DoesNotExist") return !value.has_value();
  if (op == "Gt" || op == "Lt") {
    if (!value || values.size() != 1 || !values[0].is_string()) return false;
    char* end = nullptr;
    long long have = std::strtoll(value->c_str(), &end, 10);
    if (value->empty() || *end) return false;
    const std::string want = values[0].get<std::string>();
    long long limit = std::strtoll(want.c_str(), &end, 10);
    if (want.empty() || *end) return false;
    return op == "Gt" ? have > limit : have < limit;
  }
  return false;
}

// One NodeSelectorTerm: all its matchExpressions and matchFields must hold; a
// term with neither matches nothing (as Kubernetes).
bool matchTerm(const Json& term, const Json& node) {
  const Json& exprs = array(term, "matchExpressions");
  const Json& fields = array(term, "matchFields");
  if (exprs.empty() && fields.empty()) return false;
  const Json& labels = field(field(node, "metadata"), "labels");
  for (const Json& req : exprs) {
    std::optional<std::string> v;
    auto it = labels.is_object() ? labels.find(str(req, "key")) : labels.end();
    if (labels.is_object() && it != labels.end() && it->is_string()) v = it->get<std::string>();
    if (!matchRequirement(req, v)) return false;
  }
  for (const Json& req : fields) {
    std::optional<std::string> v;
    if (str(req, "key") == "metadata.name") v = str(field(node, "metadata"), "name");
    if (!matchRequirement(req, v)) return false;
  }
  return true;
}

bool matchesAffinity(const Json& pod, const Json& node) {
  const Json& spec = field(pod, "spec");
  const Json& labels = field(field(node, "metadata"), "labels");
  const Json& selector = field(spec, "nodeSelector");
  if (selector.is_object()) {
    for (const auto& [k, v] : selector.items()) {
      auto it = labels.is_object() ? labels.find(k) : labels.end();
      if (!labels.is_object() || it == labels.end() || *it != v) return false;
    }
  }
  const Json& required = field(field(field(spec, "affinity"), "nodeAffinity"),
                               "requiredDuringSchedulingIgnoredDuringExecution");
  if (required.is_object()) {
    const Json& terms = array(required, "nodeSelectorTerms");
    bool any = false;
    for (const Json& t : terms)
      if (matchTerm(t, node)) {
        any = true;
        break;
      }
    if (!any) return false;
  }
  return true;
}

// ---- host ports ----

std::vector<HostPort> hostPorts(const Json& pod) {
  std::vector<HostPort> out;
  const Json& spec = field(pod, "spec");
  auto collect = [&](const Json& containers, bool restartableOnly) {
    for (const Json& c : containers) {
      if (restartableOnly && str(c, "restartPolicy") != "Always") continue;
      for (const Json& p : array(c, "ports")) {
        const Json& hp = field(p, "hostPort");
        if (!hp.is_number_integer() || hp.get<int64_t>() <= 0) continue;
        std::string ip = str(p, "hostIP");
        std::string proto = str(p, "protocol");
        out.push_back(
            {ip.empty() ? "0.0.0.0" : ip, proto.empty() ? "TCP" : proto, hp.get<int64_t>()});
      }
    }
  };
  collect(array(spec, "containers"), false);
  collect(array(spec, "initContainers"), true);
  return out;
}

bool portsConflict(const HostPort& a, const HostPort& b) {
  if (a.port != b.port || a.protocol != b.protocol) return false;
  return a.ip == b.ip || a.ip == "0.0.0.0" || b.ip == "0.0.0.0";
}

// ---- resources ----

ResourceList allocatable(const Json& node) {
  const Json& status = field(node, "status");
  const Json& alloc = field(status, "allocatable");
  return parseResources(alloc.is_object() ? alloc : field(status, "capacity"));
}

int64_t get(const ResourceList& r, const std::string& k) {
  auto it = r.find(k);
  return it == r.end() ? 0 : it->second;
}

}  // namespace

ResourceList parseResources(const Json& resources) {
  ResourceList out;
  if (!resources.is_object()) return out;
  for (const auto& [name, value] : resources.items()) {
    std::optional<double> q = api::detail::parseQuantity(value);
    if (!q) continue;
    double scaled = name == "cpu" ? *q * 1000.0 : *q;
    // Round up, with a little slack for binary-decimal noise ("0.1" * 1000).
    out[name] = static_cast<int64_t>(std::ceil(scaled - 1e-9));
  }
  return out;
}

ResourceList podRequests(const Json& pod) {
  const Json& spec = field(pod, "spec");
  ResourceList sum;
  for (const Json& c : array(spec, "containers")) addTo(sum, containerRequests(c));
  // Init containers run one at a time before the app containers; restartable
  // ones (sidecars) keep running beside everything that starts after them.
  ResourceList initMax;
  ResourceList sidecars;
  for (const Json& c : array(spec, "initContainers")) {
    ResourceList r = containerRequests(c);
    if (str(c, "restartPolicy") == "Always") {
      addTo(sidecars, r);
      maxInto(initMax, sidecars);
    } else {
      ResourceList running = sidecars;
      addTo(running, r);
      maxInto(initMax, running);
    }
  }
  addTo(sum, sidecars);
  maxInto(sum, initMax);
  addTo(sum, parseResources(field(spec, "overhead")));
  for (auto it = sum.begin(); it != sum.end();)
    it = it->second == 0 ? sum.erase(it) : std::next(it);
  return sum;
}

bool isTerminated(const Json& pod) {
  std::string phase = str(field(pod, "status"), "phase");
  return phase == "Succeeded" || phase == "Failed";
}

void Usage::add(const Usage& other) {
  addTo(requested, other.requested);
  nonZeroCpu += other.nonZeroCpu;
  nonZeroMemory += other.nonZeroMemory;
  pods += other.pods;
  hostPorts.insert(hostPorts.end(), other.hostPorts.begin(), other.hostPorts.end());
}

Usage podUsage(const Json& pod) {
  Usage u;
  if (isTerminated(pod)) return u;
  u.requested = podRequests(pod);
  u.nonZeroCpu = u.requested.count("cpu") ? u.requested["cpu"] : kDefaultMilliCpu;
  u.nonZeroMemory = u.requested.count("memory") ? u.requested["memory"] : kDefaultMemory;
  u.pods = 1;
  u.hostPorts = hostPorts(pod);
  return u;
}

NodeState summarize(const NodeInfo& info) {
  NodeState state{info.node, {}};
  for (const Json& p : info.pods) state.usage.add(podUsage(p));
  return state;
}

namespace {

std::vector<std::string> filterWith(const Json& pod, const Usage& want, const NodeState& state) {
  const Json& node = state.node;
  // NodeUnschedulable.
  const Json& unsched = field(field(node, "spec"), "unschedulable");
  if (unsched.is_boolean() && unsched.get<bool>() &&
      !toleratedByPod(pod, {"node.kubernetes.io/unschedulable", "", "NoSchedule"}))
    return {kUnschedulable};
  // TaintToleration.
  for (const Taint& t : nodeTaints(node)) {
    if (t.effect != "NoSchedule" && t.effect != "NoExecute") continue;
    if (!toleratedByPod(pod, t))
      return {"node(s) had untolerated taint {" + t.key + ": " + t.value + "}"};
  }
  // NodeAffinity.
  if (!matchesAffinity(pod, node)) return {kAffinityMismatch};
  // NodePorts.
  for (const HostPort& have : state.usage.hostPorts)
    for (const HostPort& w : want.hostPorts)
      if (portsConflict(have, w)) return {kNoFreePorts};
  // NodeResourcesFit.
  std::vector<std::string> reasons;
  ResourceList alloc = allocatable(node);
  if (alloc.count("pods") && state.usage.pods + 1 > alloc["pods"]) reasons.push_back(kTooManyPods);
  for (const auto& [name, amount] : want.requested) {
    if (name == "pods" || amount <= 0) continue;
    if (amount > get(alloc, name) - get(state.usage.requested, name))
      reasons.push_back("Insufficient " + name);
  }
  return reasons;
}

int64_t scoreWith(const Usage& want, const NodeState& state) {
  ResourceList alloc = allocatable(state.node);
  auto score = [](int64_t requested, int64_t capacity) -> int64_t {
    if (capacity <= 0 || requested > capacity) return 0;
    return (capacity - requested) * 100 / capacity;
  };
  return (score(want.nonZeroCpu + state.usage.nonZeroCpu, get(alloc, "cpu")) +
          score(want.nonZeroMemory + state.usage.nonZeroMemory, get(alloc, "memory"))) /
         2;
}

}  // namespace

std::vector<std::string> filterNode(const Json& pod, const NodeState& state) {
  return filterWith(pod, podUsage(pod), state);
}

int64_t scoreNode(const Json& pod, const NodeState& state) {
  return scoreWith(podUsage(pod), state);
}

ScheduleResult schedulePod(const Json& pod, const std::vector<NodeInfo>& nodes) {
  std::vector<NodeState> states;
  states.reserve(nodes.size());
  for (const NodeInfo& info : nodes) states.push_back(summarize(info));
  return scheduleWithUsage(pod, states);
}

ScheduleResult scheduleWithUsage(const Json& pod, const std::vector<NodeState>& nodes) {
  ScheduleResult result;
  if (nodes.empty()) {
    result.message = "no nodes available to schedule pods";  // ErrNoNodesAvailable
    return result;
  }
  Usage want = podUsage(pod);
  std::map<std::string, int> histogram;
  int64_t bestScore = -1;
  std::string bestName;
  for (const NodeState& state : nodes) {
    std::vector<std::string> reasons = filterWith(pod, want, state);
    if (!reasons.empty()) {
      for (const std::string& r : std::set<std::string>(reasons.begin(), reasons.end()))
        ++histogram[r];
      continue;
    }
    int64_t s = scoreWith(want, state);
    std::string name = str(field(state.node, "metadata"), "name");
    if (bestScore < 0 || s > bestScore || (s == bestScore && name < bestName)) {
      bestScore = s;
      bestName = name;
    }
  }
  if (bestScore >= 0) {
    result.scheduled = true;
    result.node = bestName;
    return result;
  }
  std::vector<std::string> parts;
  for (const auto& [reason, count] : histogram)
    parts.push_back(std::to_string(count) + " " + reason);
  std::sort(parts.begin(), parts.end());
  result.message = "0/" + std::to_string(nodes.size()) + " nodes are available";
  if (!parts.empty()) {
    result.message += ": ";
    for (size_t i = 0; i < parts.size(); ++i) result.message += (i ? ", " : "") + parts[i];
  }
  result.message += ".";
  return result;
}

}  // namespace skiff::scheduler
