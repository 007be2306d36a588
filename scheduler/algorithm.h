// The scheduling decision, as a pure function: pod + nodes (+ the pods already
// on each node) -> the chosen node, or Kubernetes' "0/N nodes are available:
// ..." message.
//
// It runs Kubernetes' default filter plugins in their order, stopping at the
// first that rejects a node (as the framework does):
//   NodeUnschedulable  spec.unschedulable, unless the pod tolerates
//                      node.kubernetes.io/unschedulable:NoSchedule
//                      -> "node(s) were unschedulable"
//   TaintToleration    NoSchedule and NoExecute taints the pod does not tolerate
//                      -> "node(s) had untolerated taint {key: value}"
//                      A node that is not Ready carries the taint the node
//                      lifecycle controller would add (node.kubernetes.io/
//                      not-ready, or .../unreachable for Unknown), so a NotReady
//                      node is refused with that message unless tolerated.
//   NodeAffinity       spec.nodeSelector and required node affinity
//                      -> "node(s) didn't match Pod's node affinity/selector"
//   NodePorts          hostPort conflicts with pods on the node
//                      -> "node(s) didn't have free ports for the requested pod ports"
//   NodeResourcesFit   requests against allocatable minus the requests of the
//                      node's non-terminated pods -> "Too many pods",
//                      "Insufficient cpu", "Insufficient memory", ... (several
//                      reasons for one node possible)
// The message counts each reason over the nodes, formats "COUNT REASON",
// sorts those strings and joins them: `0/2 nodes are available: 1 Insufficient
// cpu, 1 node(s) were unschedulable.` (Kubernetes' FitError, without the
// preemption suffix: skiff does not preempt.)
//
// With no nodes at all the message is "no nodes available to schedule pods".
//
// Feasible nodes are scored by LeastAllocated (cpu and memory weighted
// equally, pods without requests counted as 100m cpu / 200Mi, as Kubernetes'
// non-zero defaults); ties go to the first node by name, so the choice is
// deterministic.
//
// Pods are api::Json objects as the API serves them. Thread-safe (pure).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "api/json.h"

namespace skiff::scheduler {

using api::Json;

// One node and the pods assigned to it (any phase: terminated ones are
// ignored here, so callers may pass everything with spec.nodeName == node).
struct NodeInfo {
  Json node;
  std::vector<Json> pods;
};

// Resource amounts: "cpu" in millicores, everything else ("memory",
// "ephemeral-storage", "pods", extended resources) in whole units (rounded up).
using ResourceList = std::map<std::string, int64_t>;

// What pods hold on a node, summed: the form the filters and the score read.
// A scheduler keeps one per pod (podUsage) and adds them up per node, so a
// scheduling cycle does not re-read every pod's JSON.
struct HostPort {
  std::string ip;        // "0.0.0.0" when unset
  std::string protocol;  // "TCP" when unset
  int64_t port = 0;
};
struct Usage {
  ResourceList requested;  // summed podRequests
  int64_t nonZeroCpu = 0;  // for scoring: requests, or 100m / 200Mi when none
  int64_t nonZeroMemory = 0;
  int64_t pods = 0;
  std::vector<HostPort> hostPorts;
  void add(const Usage& other);
};

// The usage of one pod; empty for a terminated pod (Succeeded, Failed).
Usage podUsage(const Json& pod);

// A node and the summed usage of the pods on it.
struct NodeState {
  Json node;
  Usage usage;
};

struct ScheduleResult {
  bool scheduled = false;
  std::string node;     // when scheduled
  std::string message;  // when not: "0/1 nodes are available: 1 Insufficient memory."
};

ScheduleResult schedulePod(const Json& pod, const std::vector<NodeInfo>& nodes);
// The same over summed usage (what a long-running scheduler keeps).
ScheduleResult scheduleWithUsage(const Json& pod, const std::vector<NodeState>& nodes);

// ---- the pieces, exposed for tests ----

// Parses a resources map ({"cpu": "500m", "memory": "1Gi"}). Unparseable
// quantities are skipped (the apiserver validates them).
ResourceList parseResources(const Json& resources);

// The pod's effective requests: max(sum of app containers (plus restartable
// init containers), each init container), plus spec.overhead. A container
// without requests for a resource but with a limit requests the limit (the
// defaulting Kubernetes applies).
ResourceList podRequests(const Json& pod);

// Why `pod` cannot go to `state` (empty: it fits). One entry per reason, in the
// texts listed above.
std::vector<std::string> filterNode(const Json& pod, const NodeState& state);

// LeastAllocated score 0..100 of placing `pod` on a node that fits.
int64_t scoreNode(const Json& pod, const NodeState& state);

// Sums the usage of info.pods.
NodeState summarize(const NodeInfo& info);

// True for pods that no longer hold resources (phase Succeeded or Failed).
bool isTerminated(const Json& pod);

}  // namespace skiff::scheduler
