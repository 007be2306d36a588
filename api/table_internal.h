// Helpers shared by the table printers (table.cpp, table_pod.cpp). Internal to
// api/: not part of the public contract in table.h.
#pragma once

#include <chrono>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "api/json.h"

namespace skiff::api::table_internal {

// Column descriptions, as the Go types' SwaggerDoc() strings Kubernetes uses.
inline constexpr const char* kDescName =
    "Name must be unique within a namespace. Is required when creating resources, although some "
    "resources may allow a client to request the generation of an appropriate name "
    "automatically. Name is primarily intended for creation idempotence and configuration "
    "definition. Cannot be updated. More info: "
    "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";
inline constexpr const char* kDescCreationTimestamp =
    "CreationTimestamp is a timestamp representing the server time when this object was created. "
    "It is not guaranteed to be set in happens-before order across separate operations. Clients "
    "may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the "
    "system. Read-only. Null for lists. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/"
    "api-conventions.md#metadata";
inline constexpr const char* kDescPodIP =
    "podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet "
    "allocated.";
inline constexpr const char* kDescNodeName =
    "NodeName indicates in which node this pod is scheduled. If empty, this pod is a candidate "
    "for scheduling by the scheduler defined in schedulerName. Once this field is set, the "
    "kubelet for this node becomes responsible for the lifecycle of this pod. This field should "
    "not be used to express a desire for the pod to be scheduled on a specific node. "
    "https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#nodename";
inline constexpr const char* kDescNominatedNodeName =
    "nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot "
    "be scheduled right away as preemption victims receive their graceful termination periods. "
    "This field does not guarantee that the pod will be scheduled on this node. Scheduler may "
    "decide to place the pod elsewhere if other nodes become available sooner. Scheduler may "
    "also decide to give the resources on this node to a higher priority pod that is created "
    "after preemption. As a result, this field may be different than PodSpec.nodeName when the "
    "pod is scheduled.";
inline constexpr const char* kDescReadinessGates =
    "If specified, all readiness gates will be evaluated for pod readiness. A pod is ready when "
    "all its containers are ready AND all conditions specified in the readiness gates have "
    "status equal to \"True\" More info: "
    "https://git.k8s.io/enhancements/keps/sig-network/580-pod-readiness-gates";
inline constexpr const char* kDescServiceType =
    "type determines how the Service is exposed. Defaults to ClusterIP. Valid options are "
    "ExternalName, ClusterIP, NodePort, and LoadBalancer.";
inline constexpr const char* kDescServiceClusterIP =
    "clusterIP is the IP address of the service and is usually assigned randomly.";
inline constexpr const char* kDescServiceExternalIPs =
    "externalIPs is a list of IP addresses for which nodes in the cluster will also accept "
    "traffic for this service.  These IPs are not managed by Kubernetes.";
inline constexpr const char* kDescServicePorts =
    "The list of ports that are exposed by this service. More info: "
    "https://kubernetes.io/docs/concepts/services-networking/service/"
    "#virtual-ips-and-service-proxies";
inline constexpr const char* kDescServiceSelector =
    "Route service traffic to pods with label keys and values matching this selector.";
inline constexpr const char* kDescEndpointsSubsets =
    "The set of all endpoints is the union of all subsets.";
inline constexpr const char* kDescKubeletVersion = "Kubelet Version reported by the node.";
inline constexpr const char* kDescNodeAddresses =
    "List of addresses reachable to the node. Queried from cloud provider, if available.";
inline constexpr const char* kDescOSImage =
    "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).";
inline constexpr const char* kDescKernelVersion =
    "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).";
inline constexpr const char* kDescContainerRuntime =
    "ContainerRuntime Version reported by the node through runtime remote API (e.g. "
    "containerd://1.4.2).";
inline constexpr const char* kDescEventLastTimestamp =
    "The time at which the most recent occurrence of this event was recorded.";
inline constexpr const char* kDescEventFirstTimestamp =
    "The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)";
inline constexpr const char* kDescEventCount = "The number of times this event has occurred.";
inline constexpr const char* kDescEventType =
    "Type of this event (Normal, Warning), new types could be added in the future";
inline constexpr const char* kDescEventReason =
    "This should be a short, machine understandable string that gives the reason for the "
    "transition into the object's current status.";
inline constexpr const char* kDescEventInvolvedObject = "The object that this event is about.";
inline constexpr const char* kDescEventFieldPath =
    "If referring to a piece of an object instead of an entire object, this string should "
    "contain a valid JSON/Go field access statement, such as desiredState.manifest.containers[2].";
inline constexpr const char* kDescEventSource =
    "The component reporting this event. Should be a short machine understandable string.";
inline constexpr const char* kDescEventMessage =
    "A human-readable description of the status of this operation.";
inline constexpr const char* kDescDeploymentUpdated =
    "Total number of non-terminated pods targeted by this deployment that have the desired "
    "template spec.";
inline constexpr const char* kDescDeploymentAvailable =
    "Total number of available pods (ready for at least minReadySeconds) targeted by this "
    "deployment.";
inline constexpr const char* kDescDeploymentSelector =
    "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the "
    "ones affected by this deployment.";
inline constexpr const char* kDescReplicaSetDesired =
    "Replicas is the number of desired replicas. This is a pointer to distinguish between "
    "explicit zero and unspecified. Defaults to 1. More info: "
    "https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller/"
    "#what-is-a-replicationcontroller";
inline constexpr const char* kDescReplicaSetCurrent =
    "Replicas is the most recently observed number of replicas. More info: "
    "https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller/"
    "#what-is-a-replicationcontroller";
inline constexpr const char* kDescReplicaSetReady =
    "The number of ready replicas for this replica set.";
inline constexpr const char* kDescReplicaSetSelector =
    "Selector is a label query over pods that should match the replica count. Label keys and "
    "values that must match in order to be controlled by this replica set.";
inline constexpr const char* kDescConfigMapData =
    "Data contains the configuration data. Each key must consist of alphanumeric characters, "
    "'-', '_' or '.'.";
inline constexpr const char* kDescSecretType =
    "Used to facilitate programmatic handling of secret data.";
inline constexpr const char* kDescSecretData =
    "Data contains the secret data. Each key must consist of alphanumeric characters, '-', '_' "
    "or '.'.";
inline constexpr const char* kDescServiceAccountSecrets =
    "Secrets is a list of the secrets in the same namespace that pods running using this "
    "ServiceAccount are allowed to use.";

// Null-safe navigation: nullptr when any step is missing or null.
inline const Json* at(const Json& obj, std::initializer_list<const char*> path) {
  return jsonAt(obj, path);
}
std::string str(const Json* j);  // "" for missing
long long num(const Json* j);    // 0 for missing
const Json& arr(const Json* j);  // [] for missing
std::optional<std::chrono::system_clock::time_point> parseTime(const Json* j);
// translateTimestampSince: "<unknown>" for a missing time, else humanDuration(now - t).
std::string since(const Json* timestamp, std::chrono::system_clock::time_point now);
std::string join(const std::vector<std::string>& v, const std::string& sep);
// labels.FormatLabels: "a=b,c=d", "<none>" when empty.
std::string formatLabels(const Json* labels);
// A metav1.LabelSelector as LabelSelectorAsSelector(...).String().
std::string selectorString(const Json* selector);
Json column(const std::string& name, const std::string& type, const std::string& description,
            int priority = 0, const std::string& format = "");

// table_pod.cpp
std::vector<Json> podColumns();
Json printPod(const Json& pod, std::chrono::system_clock::time_point now, Json* conditions);

}  // namespace skiff::api::table_internal
