// Kubernetes protobuf → JSON. Two halves: the field-number tables (what each
// number of each message is called in JSON, from Kubernetes' generated.proto
// files), and a reader that walks the wire format, looking each field up in its
// message's table and asking the type model what the named field holds.
//
// Wire format in brief: a message is a sequence of (key, value); key = number<<3
// | wire type; wire type 0 is a varint, 1 eight bytes, 2 a length-prefixed byte
// string (strings, bytes, nested messages, packed repeated scalars), 5 four
// bytes. Repeated fields repeat their key; a map is a repeated entry message
// {1: key, 2: value}. Kubernetes' special types are messages too:
// IntOrString {1: type (0 int, 1 string), 2: intVal, 3: strVal},
// Quantity {1: string}, Time and MicroTime {1: seconds, 2: nanos}.
#include "api/protobuf.h"

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <functional>
#include <map>
#include <set>

#include "api/schema.h"
#include "api/types_internal.h"

namespace skiff::api {

namespace {

using model::kApps;
using model::kAutoscaling;
using model::kCore;
using model::kMeta;

enum FieldFlag : unsigned {
  kPointer = 1,  // a Go pointer field: an explicit zero or false is kept
  kInline = 2,   // an embedded Go struct: `name` is the message whose fields join this object
  kMicro = 4,    // metav1.MicroTime: microseconds in the JSON text
};

struct FieldNumber {
  std::string name;  // JSON field name; for kInline the table (message) name
  unsigned flags = 0;
};
using MessageTable = std::map<int, FieldNumber>;
using Tables = std::map<std::string, MessageTable>;

constexpr unsigned P = kPointer;

struct Entry {
  int number;
  std::string name;
  unsigned flags = 0;
};

// Field numbers from k8s.io/api/core/v1, apps/v1, autoscaling/v1 and
// k8s.io/apimachinery/pkg/apis/meta/v1 generated.proto (Kubernetes 1.32+).
// Keys are the type model's names; ProbeHandler, VolumeSource and
// EphemeralContainerCommon exist only in protobuf (Go embeds them inline).
Tables buildTables() {
  Tables t;
  auto add = [&](const std::string& name, std::initializer_list<Entry> fields) {
    MessageTable& m = t[name];
    for (const Entry& e : fields) m[e.number] = FieldNumber{e.name, e.flags};
  };
  auto object = [&](const std::string& name) {  // metadata, spec, status
    add(name, {{1, "metadata"}, {2, "spec"}, {3, "status"}});
  };
  auto list = [&](const std::string& name) { add(name, {{1, "metadata"}, {2, "items"}}); };
  const std::string lor = kCore + "LocalObjectReference";

  // ---- meta/v1 ----
  add(kMeta + "ObjectMeta", {{1, "name"},
                             {2, "generateName"},
                             {3, "namespace"},
                             {4, "selfLink"},
                             {5, "uid"},
                             {6, "resourceVersion"},
                             {7, "generation"},
                             {8, "creationTimestamp"},
                             {9, "deletionTimestamp"},
                             {10, "deletionGracePeriodSeconds", P},
                             {11, "labels"},
                             {12, "annotations"},
                             {13, "ownerReferences"},
                             {14, "finalizers"},
                             {17, "managedFields"}});
  add(kMeta + "ListMeta",
      {{1, "selfLink"}, {2, "resourceVersion"}, {3, "continue"}, {4, "remainingItemCount", P}});
  add(kMeta + "OwnerReference", {{1, "kind"},
                                 {3, "name"},
                                 {4, "uid"},
                                 {5, "apiVersion"},
                                 {6, "controller", P},
                                 {7, "blockOwnerDeletion", P}});
  add(kMeta + "ManagedFieldsEntry", {{1, "manager"},
                                     {2, "operation"},
                                     {3, "apiVersion"},
                                     {4, "time"},
                                     {6, "fieldsType"},
                                     {7, "fieldsV1"},
                                     {8, "subresource"}});
  add(kMeta + "LabelSelector", {{1, "matchLabels"}, {2, "matchExpressions"}});
  add(kMeta + "LabelSelectorRequirement", {{1, "key"}, {2, "operator"}, {3, "values"}});
  add(kMeta + "Condition", {{1, "type"},
                            {2, "status"},
                            {3, "observedGeneration"},
                            {4, "lastTransitionTime"},
                            {5, "reason"},
                            {6, "message"}});
  add(kMeta + "DeleteOptions", {{1, "gracePeriodSeconds", P},
                                {2, "preconditions"},
                                {3, "orphanDependents", P},
                                {4, "propagationPolicy", P},
                                {5, "dryRun"},
                                {6, "ignoreStoreReadErrorWithClusterBreakingPotential", P}});
  add(kMeta + "Preconditions", {{1, "uid", P}, {2, "resourceVersion", P}});
  add(kMeta + "Status",
      {{1, "metadata"}, {2, "status"}, {3, "message"}, {4, "reason"}, {5, "details"}, {6, "code"}});
  add(kMeta + "StatusDetails", {{1, "name"},
                                {2, "group"},
                                {3, "kind"},
                                {4, "causes"},
                                {5, "retryAfterSeconds"},
                                {6, "uid"}});
  add(kMeta + "StatusCause", {{1, "reason"}, {2, "message"}, {3, "field"}});

  // ---- core/v1: Namespace, Service, Endpoints, Node, Event, Binding ----
  object(kCore + "Namespace");
  list(kCore + "NamespaceList");
  add(kCore + "NamespaceSpec", {{1, "finalizers"}});
  add(kCore + "NamespaceStatus", {{1, "phase"}, {2, "conditions"}});
  add(kCore + "NamespaceCondition",
      {{1, "type"}, {2, "status"}, {4, "lastTransitionTime"}, {5, "reason"}, {6, "message"}});
  add(kCore + "ObjectReference", {{1, "kind"},
                                  {2, "namespace"},
                                  {3, "name"},
                                  {4, "uid"},
                                  {5, "apiVersion"},
                                  {6, "resourceVersion"},
                                  {7, "fieldPath"}});
  add(kCore + "Binding", {{1, "metadata"}, {2, "target"}});

  object(kCore + "Service");
  list(kCore + "ServiceList");
  add(kCore + "ServiceSpec", {{1, "ports"},
                              {2, "selector"},
                              {3, "clusterIP"},
                              {18, "clusterIPs"},
                              {4, "type"},
                              {5, "externalIPs"},
                              {7, "sessionAffinity"},
                              {8, "loadBalancerIP"},
                              {9, "loadBalancerSourceRanges"},
                              {10, "externalName"},
                              {11, "externalTrafficPolicy"},
                              {12, "healthCheckNodePort"},
                              {13, "publishNotReadyAddresses"},
                              {14, "sessionAffinityConfig"},
                              {19, "ipFamilies"},
                              {17, "ipFamilyPolicy", P},
                              {20, "allocateLoadBalancerNodePorts", P},
                              {21, "loadBalancerClass", P},
                              {22, "internalTrafficPolicy", P},
                              {23, "trafficDistribution", P}});
  add(kCore + "ServicePort", {{1, "name"},
                              {2, "protocol"},
                              {6, "appProtocol", P},
                              {3, "port"},
                              {4, "targetPort"},
                              {5, "nodePort"}});
  add(kCore + "SessionAffinityConfig", {{1, "clientIP"}});
  add(kCore + "ClientIPConfig", {{1, "timeoutSeconds", P}});
  add(kCore + "ServiceStatus", {{1, "loadBalancer"}, {2, "conditions"}});
  add(kCore + "LoadBalancerStatus", {{1, "ingress"}});
  add(kCore + "LoadBalancerIngress", {{1, "ip"}, {2, "hostname"}, {3, "ipMode", P}, {4, "ports"}});
  add(kCore + "PortStatus", {{1, "port"}, {2, "protocol"}, {3, "error", P}});

  add(kCore + "Endpoints", {{1, "metadata"}, {2, "subsets"}});
  list(kCore + "EndpointsList");
  add(kCore + "EndpointSubset", {{1, "addresses"}, {2, "notReadyAddresses"}, {3, "ports"}});
  add(kCore + "EndpointAddress",
      {{1, "ip"}, {3, "hostname"}, {4, "nodeName", P}, {2, "targetRef"}});
  add(kCore + "EndpointPort", {{1, "name"}, {2, "port"}, {3, "protocol"}, {4, "appProtocol", P}});

  object(kCore + "Node");
  list(kCore + "NodeList");
  add(kCore + "NodeSpec", {{1, "podCIDR"},
                           {7, "podCIDRs"},
                           {3, "providerID"},
                           {4, "unschedulable"},
                           {5, "taints"},
                           {6, "configSource"},
                           {2, "externalID"}});
  add(kCore + "Taint", {{1, "key"}, {2, "value"}, {3, "effect"}, {4, "timeAdded"}});
  add(kCore + "NodeStatus", {{1, "capacity"},
                             {2, "allocatable"},
                             {3, "phase"},
                             {4, "conditions"},
                             {5, "addresses"},
                             {6, "daemonEndpoints"},
                             {7, "nodeInfo"},
                             {8, "images"},
                             {9, "volumesInUse"},
                             {10, "volumesAttached"},
                             {11, "config"},
                             {12, "runtimeHandlers"},
                             {13, "features"}});
  add(kCore + "NodeCondition", {{1, "type"},
                                {2, "status"},
                                {3, "lastHeartbeatTime"},
                                {4, "lastTransitionTime"},
                                {5, "reason"},
                                {6, "message"}});
  add(kCore + "NodeAddress", {{1, "type"}, {2, "address"}});
  add(kCore + "NodeDaemonEndpoints", {{1, "kubeletEndpoint"}});
  add(kCore + "DaemonEndpoint", {{1, "Port"}});
  add(kCore + "NodeSystemInfo", {{1, "machineID"},
                                 {2, "systemUUID"},
                                 {3, "bootID"},
                                 {4, "kernelVersion"},
                                 {5, "osImage"},
                                 {6, "containerRuntimeVersion"},
                                 {7, "kubeletVersion"},
                                 {8, "kubeProxyVersion"},
                                 {9, "operatingSystem"},
                                 {10, "architecture"},
                                 {11, "swap"}});
  add(kCore + "ContainerImage", {{1, "names"}, {2, "sizeBytes"}});
  add(kCore + "AttachedVolume", {{1, "name"}, {2, "devicePath"}});

  add(kCore + "Event", {{1, "metadata"},
                        {2, "involvedObject"},
                        {3, "reason"},
                        {4, "message"},
                        {5, "source"},
                        {6, "firstTimestamp"},
                        {7, "lastTimestamp"},
                        {8, "count"},
                        {9, "type"},
                        {10, "eventTime", kMicro},
                        {11, "series"},
                        {12, "action"},
                        {13, "related"},
                        {14, "reportingComponent"},
                        {15, "reportingInstance"}});
  list(kCore + "EventList");
  add(kCore + "EventSource", {{1, "component"}, {2, "host"}});
  add(kCore + "EventSeries", {{1, "count"}, {2, "lastObservedTime", kMicro}});

  // ---- core/v1: Pod ----
  object(kCore + "Pod");
  list(kCore + "PodList");
  add(kCore + "PodTemplateSpec", {{1, "metadata"}, {2, "spec"}});
  add(kCore + "PodSpec", {{1, "volumes"},
                          {20, "initContainers"},
                          {2, "containers"},
                          {34, "ephemeralContainers"},
                          {3, "restartPolicy"},
                          {4, "terminationGracePeriodSeconds", P},
                          {5, "activeDeadlineSeconds", P},
                          {6, "dnsPolicy"},
                          {7, "nodeSelector"},
                          {8, "serviceAccountName"},
                          {9, "serviceAccount"},
                          {21, "automountServiceAccountToken", P},
                          {10, "nodeName"},
                          {11, "hostNetwork"},
                          {12, "hostPID"},
                          {13, "hostIPC"},
                          {27, "shareProcessNamespace", P},
                          {14, "securityContext"},
                          {15, "imagePullSecrets"},
                          {16, "hostname"},
                          {17, "subdomain"},
                          {18, "affinity"},
                          {19, "schedulerName"},
                          {22, "tolerations"},
                          {23, "hostAliases"},
                          {24, "priorityClassName"},
                          {25, "priority", P},
                          {26, "dnsConfig"},
                          {28, "readinessGates"},
                          {29, "runtimeClassName", P},
                          {30, "enableServiceLinks", P},
                          {31, "preemptionPolicy", P},
                          {32, "overhead"},
                          {33, "topologySpreadConstraints"},
                          {35, "setHostnameAsFQDN", P},
                          {36, "os"},
                          {37, "hostUsers", P},
                          {38, "schedulingGates"},
                          {39, "resourceClaims"},
                          {40, "resources"}});
  add(kCore + "Container", {{1, "name"},
                            {2, "image"},
                            {3, "command"},
                            {4, "args"},
                            {5, "workingDir"},
                            {6, "ports"},
                            {19, "envFrom"},
                            {7, "env"},
                            {8, "resources"},
                            {23, "resizePolicy"},
                            {24, "restartPolicy", P},
                            {9, "volumeMounts"},
                            {21, "volumeDevices"},
                            {10, "livenessProbe"},
                            {11, "readinessProbe"},
                            {22, "startupProbe"},
                            {12, "lifecycle"},
                            {13, "terminationMessagePath"},
                            {20, "terminationMessagePolicy"},
                            {14, "imagePullPolicy"},
                            {15, "securityContext"},
                            {16, "stdin"},
                            {17, "stdinOnce"},
                            {18, "tty"}});
  // EphemeralContainerCommon repeats Container's fields and numbers.
  t[kCore + "EphemeralContainerCommon"] = t[kCore + "Container"];
  add(kCore + "EphemeralContainer",
      {{1, kCore + "EphemeralContainerCommon", kInline}, {2, "targetContainerName"}});
  add(kCore + "ContainerPort",
      {{1, "name"}, {2, "hostPort"}, {3, "containerPort"}, {4, "protocol"}, {5, "hostIP"}});
  add(kCore + "EnvFromSource", {{1, "prefix"}, {2, "configMapRef"}, {3, "secretRef"}});
  add(kCore + "EnvVar", {{1, "name"}, {2, "value"}, {3, "valueFrom"}});
  add(kCore + "EnvVarSource",
      {{1, "fieldRef"}, {2, "resourceFieldRef"}, {3, "configMapKeyRef"}, {4, "secretKeyRef"}});
  add(kCore + "ObjectFieldSelector", {{1, "apiVersion"}, {2, "fieldPath"}});
  add(kCore + "ResourceFieldSelector", {{1, "containerName"}, {2, "resource"}, {3, "divisor"}});
  add(kCore + "ConfigMapKeySelector", {{1, lor, kInline}, {2, "key"}, {3, "optional", P}});
  add(kCore + "SecretKeySelector", {{1, lor, kInline}, {2, "key"}, {3, "optional", P}});
  add(kCore + "ConfigMapEnvSource", {{1, lor, kInline}, {2, "optional", P}});
  add(kCore + "SecretEnvSource", {{1, lor, kInline}, {2, "optional", P}});
  add(kCore + "ResourceRequirements", {{1, "limits"}, {2, "requests"}, {3, "claims"}});
  add(kCore + "ResourceClaim", {{1, "name"}, {2, "request"}});
  add(kCore + "ContainerResizePolicy", {{1, "resourceName"}, {2, "restartPolicy"}});
  add(kCore + "VolumeMount", {{1, "name"},
                              {2, "readOnly"},
                              {7, "recursiveReadOnly", P},
                              {3, "mountPath"},
                              {4, "subPath"},
                              {5, "mountPropagation", P},
                              {6, "subPathExpr"}});
  add(kCore + "VolumeDevice", {{1, "name"}, {2, "devicePath"}});
  add(kCore + "Probe", {{1, kCore + "ProbeHandler", kInline},
                        {2, "initialDelaySeconds"},
                        {3, "timeoutSeconds"},
                        {4, "periodSeconds"},
                        {5, "successThreshold"},
                        {6, "failureThreshold"},
                        {7, "terminationGracePeriodSeconds", P}});
  add(kCore + "ProbeHandler", {{1, "exec"}, {2, "httpGet"}, {3, "tcpSocket"}, {4, "grpc"}});
  add(kCore + "Lifecycle", {{1, "postStart"}, {2, "preStop"}});
  add(kCore + "LifecycleHandler", {{1, "exec"}, {2, "httpGet"}, {3, "tcpSocket"}, {4, "sleep"}});
  add(kCore + "ExecAction", {{1, "command"}});
  add(kCore + "HTTPGetAction",
      {{1, "path"}, {2, "port"}, {3, "host"}, {4, "scheme"}, {5, "httpHeaders"}});
  add(kCore + "HTTPHeader", {{1, "name"}, {2, "value"}});
  add(kCore + "TCPSocketAction", {{1, "port"}, {2, "host"}});
  add(kCore + "GRPCAction", {{1, "port"}, {2, "service", P}});
  add(kCore + "SleepAction", {{1, "seconds"}});
  add(kCore + "SecurityContext", {{1, "capabilities"},
                                  {2, "privileged", P},
                                  {3, "seLinuxOptions"},
                                  {10, "windowsOptions"},
                                  {4, "runAsUser", P},
                                  {8, "runAsGroup", P},
                                  {5, "runAsNonRoot", P},
                                  {6, "readOnlyRootFilesystem", P},
                                  {7, "allowPrivilegeEscalation", P},
                                  {9, "procMount", P},
                                  {11, "seccompProfile"},
                                  {12, "appArmorProfile"}});
  add(kCore + "Capabilities", {{1, "add"}, {2, "drop"}});
  add(kCore + "SELinuxOptions", {{1, "user"}, {2, "role"}, {3, "type"}, {4, "level"}});
  add(kCore + "WindowsSecurityContextOptions", {{1, "gmsaCredentialSpecName", P},
                                                {2, "gmsaCredentialSpec", P},
                                                {3, "runAsUserName", P},
                                                {4, "hostProcess", P}});
  add(kCore + "SeccompProfile", {{1, "type"}, {2, "localhostProfile", P}});
  add(kCore + "AppArmorProfile", {{1, "type"}, {2, "localhostProfile", P}});
  add(kCore + "Sysctl", {{1, "name"}, {2, "value"}});
  add(kCore + "PodSecurityContext", {{1, "seLinuxOptions"},
                                     {8, "windowsOptions"},
                                     {2, "runAsUser", P},
                                     {6, "runAsGroup", P},
                                     {3, "runAsNonRoot", P},
                                     {4, "supplementalGroups"},
                                     {12, "supplementalGroupsPolicy", P},
                                     {5, "fsGroup", P},
                                     {7, "sysctls"},
                                     {9, "fsGroupChangePolicy", P},
                                     {10, "seccompProfile"},
                                     {11, "appArmorProfile"},
                                     {13, "seLinuxChangePolicy", P}});
  add(kCore + "Volume", {{1, "name"}, {2, kCore + "VolumeSource", kInline}});
  add(kCore + "VolumeSource", {{1, "hostPath"},
                               {2, "emptyDir"},
                               {3, "gcePersistentDisk"},
                               {4, "awsElasticBlockStore"},
                               {5, "gitRepo"},
                               {6, "secret"},
                               {7, "nfs"},
                               {8, "iscsi"},
                               {9, "glusterfs"},
                               {10, "persistentVolumeClaim"},
                               {11, "rbd"},
                               {12, "flexVolume"},
                               {13, "cinder"},
                               {14, "cephfs"},
                               {15, "flocker"},
                               {16, "downwardAPI"},
                               {17, "fc"},
                               {18, "azureFile"},
                               {19, "configMap"},
                               {20, "vsphereVolume"},
                               {21, "quobyte"},
                               {22, "azureDisk"},
                               {23, "photonPersistentDisk"},
                               {24, "portworxVolume"},
                               {25, "scaleIO"},
                               {26, "projected"},
                               {27, "storageos"},
                               {28, "csi"},
                               {29, "ephemeral"},
                               {30, "image"}});
  add(kCore + "HostPathVolumeSource", {{1, "path"}, {2, "type", P}});
  add(kCore + "EmptyDirVolumeSource", {{1, "medium"}, {2, "sizeLimit", P}});
  add(kCore + "SecretVolumeSource",
      {{1, "secretName"}, {2, "items"}, {3, "defaultMode", P}, {4, "optional", P}});
  add(kCore + "ConfigMapVolumeSource",
      {{1, lor, kInline}, {2, "items"}, {3, "defaultMode", P}, {4, "optional", P}});
  add(kCore + "ProjectedVolumeSource", {{1, "sources"}, {2, "defaultMode", P}});
  add(kCore + "DownwardAPIVolumeSource", {{1, "items"}, {2, "defaultMode", P}});
  add(kCore + "PersistentVolumeClaimVolumeSource", {{1, "claimName"}, {2, "readOnly"}});
  add(kCore + "NFSVolumeSource", {{1, "server"}, {2, "path"}, {3, "readOnly"}});
  add(kCore + "ImageVolumeSource", {{1, "reference"}, {2, "pullPolicy"}});
  add(kCore + "KeyToPath", {{1, "key"}, {2, "path"}, {3, "mode", P}});
  add(kCore + "VolumeProjection", {{1, "secret"},
                                   {2, "downwardAPI"},
                                   {3, "configMap"},
                                   {4, "serviceAccountToken"},
                                   {5, "clusterTrustBundle"}});
  add(kCore + "SecretProjection", {{1, lor, kInline}, {2, "items"}, {4, "optional", P}});
  add(kCore + "ConfigMapProjection", {{1, lor, kInline}, {2, "items"}, {4, "optional", P}});
  add(kCore + "DownwardAPIProjection", {{1, "items"}});
  add(kCore + "ServiceAccountTokenProjection",
      {{1, "audience"}, {2, "expirationSeconds", P}, {3, "path"}});
  add(kCore + "DownwardAPIVolumeFile",
      {{1, "path"}, {2, "fieldRef"}, {3, "resourceFieldRef"}, {4, "mode", P}});
  add(lor, {{1, "name"}});
  add(kCore + "Affinity", {{1, "nodeAffinity"}, {2, "podAffinity"}, {3, "podAntiAffinity"}});
  add(kCore + "Toleration",
      {{1, "key"}, {2, "operator"}, {3, "value"}, {4, "effect"}, {5, "tolerationSeconds", P}});
  add(kCore + "HostAlias", {{1, "ip"}, {2, "hostnames"}});
  add(kCore + "PodDNSConfig", {{1, "nameservers"}, {2, "searches"}, {3, "options"}});
  add(kCore + "PodDNSConfigOption", {{1, "name"}, {2, "value", P}});
  add(kCore + "PodReadinessGate", {{1, "conditionType"}});
  add(kCore + "TopologySpreadConstraint", {{1, "maxSkew"},
                                           {2, "topologyKey"},
                                           {3, "whenUnsatisfiable"},
                                           {4, "labelSelector"},
                                           {5, "minDomains", P},
                                           {6, "nodeAffinityPolicy", P},
                                           {7, "nodeTaintsPolicy", P},
                                           {8, "matchLabelKeys"}});
  add(kCore + "PodOS", {{1, "name"}});
  add(kCore + "PodSchedulingGate", {{1, "name"}});
  add(kCore + "PodResourceClaim",
      {{1, "name"}, {3, "resourceClaimName", P}, {4, "resourceClaimTemplateName", P}});
  add(kCore + "NodeAffinity", {{1, "requiredDuringSchedulingIgnoredDuringExecution"},
                               {2, "preferredDuringSchedulingIgnoredDuringExecution"}});
  for (const char* n : {"PodAffinity", "PodAntiAffinity"}) {
    add(kCore + n, {{1, "requiredDuringSchedulingIgnoredDuringExecution"},
                    {2, "preferredDuringSchedulingIgnoredDuringExecution"}});
  }
  add(kCore + "NodeSelector", {{1, "nodeSelectorTerms"}});
  add(kCore + "PreferredSchedulingTerm", {{1, "weight"}, {2, "preference"}});
  add(kCore + "NodeSelectorTerm", {{1, "matchExpressions"}, {2, "matchFields"}});
  add(kCore + "NodeSelectorRequirement", {{1, "key"}, {2, "operator"}, {3, "values"}});
  add(kCore + "PodAffinityTerm", {{1, "labelSelector"},
                                  {2, "namespaces"},
                                  {3, "topologyKey"},
                                  {4, "namespaceSelector"},
                                  {5, "matchLabelKeys"},
                                  {6, "mismatchLabelKeys"}});
  add(kCore + "WeightedPodAffinityTerm", {{1, "weight"}, {2, "podAffinityTerm"}});
  add(kCore + "PodStatus", {{1, "phase"},
                            {2, "conditions"},
                            {3, "message"},
                            {4, "reason"},
                            {11, "nominatedNodeName"},
                            {5, "hostIP"},
                            {16, "hostIPs"},
                            {6, "podIP"},
                            {12, "podIPs"},
                            {7, "startTime"},
                            {10, "initContainerStatuses"},
                            {8, "containerStatuses"},
                            {9, "qosClass"},
                            {13, "ephemeralContainerStatuses"},
                            {14, "resize"},
                            {15, "resourceClaimStatuses"}});
  add(kCore + "PodCondition", {{1, "type"},
                               {2, "status"},
                               {3, "lastProbeTime"},
                               {4, "lastTransitionTime"},
                               {5, "reason"},
                               {6, "message"}});
  add(kCore + "HostIP", {{1, "ip"}});
  add(kCore + "PodIP", {{1, "ip"}});
  add(kCore + "ContainerStatus", {{1, "name"},
                                  {2, "state"},
                                  {3, "lastState"},
                                  {4, "ready"},
                                  {5, "restartCount"},
                                  {6, "image"},
                                  {7, "imageID"},
                                  {8, "containerID"},
                                  {9, "started", P},
                                  {10, "allocatedResources"},
                                  {11, "resources"},
                                  {12, "volumeMounts"},
                                  {13, "user"},
                                  {14, "allocatedResourcesStatus"}});
  add(kCore + "ContainerState", {{1, "waiting"}, {2, "running"}, {3, "terminated"}});
  add(kCore + "ContainerStateWaiting", {{1, "reason"}, {2, "message"}});
  add(kCore + "ContainerStateRunning", {{1, "startedAt"}});
  add(kCore + "ContainerStateTerminated", {{1, "exitCode"},
                                           {2, "signal"},
                                           {3, "reason"},
                                           {4, "message"},
                                           {5, "startedAt"},
                                           {6, "finishedAt"},
                                           {7, "containerID"}});
  add(kCore + "VolumeMountStatus",
      {{1, "name"}, {2, "mountPath"}, {3, "readOnly"}, {4, "recursiveReadOnly", P}});

  // ---- apps/v1 ----
  object(kApps + "Deployment");
  list(kApps + "DeploymentList");
  add(kApps + "DeploymentSpec", {{1, "replicas", P},
                                 {2, "selector"},
                                 {3, "template"},
                                 {4, "strategy"},
                                 {5, "minReadySeconds"},
                                 {6, "revisionHistoryLimit", P},
                                 {7, "paused"},
                                 {9, "progressDeadlineSeconds", P}});
  add(kApps + "DeploymentStrategy", {{1, "type"}, {2, "rollingUpdate"}});
  add(kApps + "RollingUpdateDeployment", {{1, "maxUnavailable", P}, {2, "maxSurge", P}});
  add(kApps + "DeploymentStatus", {{1, "observedGeneration"},
                                   {2, "replicas"},
                                   {3, "updatedReplicas"},
                                   {7, "readyReplicas"},
                                   {4, "availableReplicas"},
                                   {5, "unavailableReplicas"},
                                   {9, "terminatingReplicas", P},
                                   {6, "conditions"},
                                   {8, "collisionCount", P}});
  add(kApps + "DeploymentCondition", {{1, "type"},
                                      {2, "status"},
                                      {6, "lastUpdateTime"},
                                      {7, "lastTransitionTime"},
                                      {4, "reason"},
                                      {5, "message"}});
  object(kApps + "ReplicaSet");
  list(kApps + "ReplicaSetList");
  add(kApps + "ReplicaSetSpec",
      {{1, "replicas", P}, {4, "minReadySeconds"}, {2, "selector"}, {3, "template"}});
  add(kApps + "ReplicaSetStatus", {{1, "replicas"},
                                   {2, "fullyLabeledReplicas"},
                                   {4, "readyReplicas"},
                                   {5, "availableReplicas"},
                                   {7, "terminatingReplicas", P},
                                   {3, "observedGeneration"},
                                   {6, "conditions"}});
  add(kApps + "ReplicaSetCondition",
      {{1, "type"}, {2, "status"}, {3, "lastTransitionTime"}, {4, "reason"}, {5, "message"}});

  // ---- autoscaling/v1 ----
  object(kAutoscaling + "Scale");
  add(kAutoscaling + "ScaleSpec", {{1, "replicas"}});
  add(kAutoscaling + "ScaleStatus", {{1, "replicas"}, {2, "selector"}});
  return t;
}

const Tables& tables() {
  static const Tables t = buildTables();
  return t;
}

// ---- errors ----

Error malformed(const std::string& path, const std::string& what) {
  return makeError(Code::kBadRequest, "the protobuf body is malformed" +
                                          (path.empty() ? std::string() : " at " + path) + ": " +
                                          what);
}

Error unsupported(const std::string& message) {
  return makeError(Code::kUnsupportedMediaType, message + "; send the object as JSON (" +
                                                    "Content-Type: application/json) instead");
}

std::string at(const std::string& path) {
  return path.empty() ? std::string() : " at " + path;
}

std::string child(const std::string& path, const std::string& name) {
  return path.empty() ? name : path + "." + name;
}

// ---- wire reading ----

class Wire {
 public:
  explicit Wire(std::string_view data) : d_(data) {}
  bool done() const { return pos_ >= d_.size(); }

  bool varint(uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= d_.size()) return false;
      auto b = static_cast<unsigned char>(d_[pos_++]);
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return true;
    }
    return false;  // more than ten bytes
  }
  bool fixed(size_t n, uint64_t& v) {
    if (d_.size() - pos_ < n) return false;
    v = 0;
    for (size_t i = 0; i < n; ++i)
      v |= static_cast<uint64_t>(static_cast<unsigned char>(d_[pos_ + i])) << (8 * i);
    pos_ += n;
    return true;
  }
  bool bytes(std::string_view& out) {
    uint64_t n = 0;
    if (!varint(n) || n > d_.size() - pos_) return false;
    out = d_.substr(pos_, n);
    pos_ += n;
    return true;
  }

 private:
  std::string_view d_;
  size_t pos_ = 0;
};

enum WireType { kVarint = 0, kFixed64 = 1, kBytes = 2, kFixed32 = 5 };

const char* wireTypeName(int wt) {
  switch (wt) {
    case kVarint:
      return "varint";
    case kFixed64:
      return "64-bit";
    case kBytes:
      return "length-delimited";
    case kFixed32:
      return "32-bit";
    default:
      return "unknown";
  }
}

// RFC 3629 well-formed UTF-8 (no overlong forms, surrogates or values past
// U+10FFFF), which the JSON writer requires of every string.
bool validUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t n = 0;
    unsigned char lo = 0x80, hi = 0xbf;  // bounds of the second byte
    if (c < 0x80) {
      n = 0;
    } else if (c >= 0xc2 && c <= 0xdf) {
      n = 1;
    } else if (c >= 0xe0 && c <= 0xef) {
      n = 2;
      if (c == 0xe0) lo = 0xa0;
      if (c == 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3;
      if (c == 0xf0) lo = 0x90;
      if (c == 0xf4) hi = 0x8f;
    } else {
      return false;
    }
    if (n > s.size() - i - 1) return false;
    for (size_t k = 1; k <= n; ++k) {
      auto b = static_cast<unsigned char>(s[i + k]);
      if (k == 1 ? (b < lo || b > hi) : (b & 0xc0) != 0x80) return false;
    }
    i += n + 1;
  }
  return true;
}

std::string base64(std::string_view in) {
  static const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (static_cast<unsigned char>(in[i]) << 16) |
                 (static_cast<unsigned char>(in[i + 1]) << 8) |
                 static_cast<unsigned char>(in[i + 2]);
    out += {a[v >> 18], a[(v >> 12) & 63], a[(v >> 6) & 63], a[v & 63]};
  }
  if (i + 1 == in.size()) {
    uint32_t v = static_cast<unsigned char>(in[i]) << 16;
    out += {a[v >> 18], a[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    uint32_t v =
        (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
    out += {a[v >> 18], a[(v >> 12) & 63], a[(v >> 6) & 63], '='};
  }
  return out;
}

// Go's zero time.Time as Unix seconds: metav1.Time writes it for an unset time.
constexpr int64_t kGoZeroTimeSeconds = -62135596800;

std::string formatTime(int64_t seconds, int64_t nanos, bool micro) {
  time_t t = static_cast<time_t>(seconds);
  struct tm tm {};
  gmtime_r(&t, &tm);
  char buf[64];
  size_t n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string s(buf, n);
  if (micro) {
    char frac[16];
    snprintf(frac, sizeof frac, ".%06lld", static_cast<long long>(nanos / 1000));
    s += frac;
  }
  return s + "Z";
}

// ---- the reader ----

constexpr int kMaxDepth = 64;

class Reader {
 public:
  // Reads `bytes`, a message whose field numbers are in table `tableName`, into
  // `out` (an object), naming fields by the model type `type`.
  Status message(std::string_view bytes, const std::string& tableName, const TypeDef* type,
                 Json& out, const std::string& path, int depth);

 private:
  Status field(Wire& w, int wt, const FieldDef& f, const FieldNumber& num, Json& out,
               const std::string& path, int depth);
  Result<Json> scalar(Wire& w, int wt, FieldKind kind, const FieldDef& f, const std::string& path);
  Result<Json> intOrString(std::string_view bytes, const std::string& path);
  Result<Json> quantity(std::string_view bytes, const std::string& path);
  // Time: an empty Json (null) for the zero time.
  Result<Json> time(std::string_view bytes, bool micro, const std::string& path);
  Result<Json> element(Wire& w, int wt, const FieldDef& f, const std::string& path, int depth);
  Result<Json> nested(std::string_view bytes, const TypeDef* type, const std::string& path,
                      int depth);
};

Status Reader::message(std::string_view bytes, const std::string& tableName, const TypeDef* type,
                       Json& out, const std::string& path, int depth) {
  if (depth > kMaxDepth) return malformed(path, "nested more than 64 levels");
  auto tit = tables().find(tableName);
  if (tit == tables().end())
    return unsupported("skiff has no protobuf field numbers for " + tableName + at(path));
  const MessageTable& table = tit->second;
  if (!out.is_object()) out = Json::object();
  Wire w(bytes);
  while (!w.done()) {
    uint64_t key = 0;
    if (!w.varint(key)) return malformed(path, "truncated field key");
    uint64_t number = key >> 3;
    int wt = static_cast<int>(key & 7);
    if (number == 0 || number > 536870911) return malformed(path, "field number 0");
    auto it = table.find(static_cast<int>(number));
    if (it == table.end()) {
      return unsupported("protobuf field " + std::to_string(number) + " of " + tableName +
                         at(path) + " is not known to skiff");
    }
    const FieldNumber& num = it->second;
    if (num.flags & kInline) {
      std::string_view sub;
      if (wt != kBytes || !w.bytes(sub))
        return malformed(
            path, "field " + std::to_string(number) + " of " + tableName + " is not a message");
      auto st = message(sub, num.name, type, out, path, depth + 1);
      if (!st) return st;
      continue;
    }
    const FieldDef* f = type ? type->field(num.name) : nullptr;
    if (!f) {
      return unsupported("protobuf field " + std::to_string(number) + " (" + num.name + ") of " +
                         tableName + at(path) + " is not in skiff's type model");
    }
    auto st = field(w, wt, *f, num, out, child(path, num.name), depth);
    if (!st) return st;
  }
  return {};
}

Status Reader::field(Wire& w, int wt, const FieldDef& f, const FieldNumber& num, Json& out,
                     const std::string& path, int depth) {
  bool keepZero = num.flags & kPointer;
  switch (f.kind) {
    case FieldKind::kString:
    case FieldKind::kInteger:
    case FieldKind::kNumber:
    case FieldKind::kBoolean: {
      auto v = scalar(w, wt, f.kind, f, path);
      if (!v) return v.error();
      bool zero = (v->is_string() && v->get_ref<const std::string&>().empty()) ||
                  (v->is_number_integer() && v->get<long long>() == 0) ||
                  (v->is_number_float() && v->get<double>() == 0) ||
                  (v->is_boolean() && !v->get<bool>());
      if (zero && !keepZero) return {};
      out[f.name] = std::move(*v);
      return {};
    }
    case FieldKind::kObject: {
      std::string_view sub;
      if (wt != kBytes || !w.bytes(sub)) return malformed(path, "expected a message");
      if (!f.type) return unsupported("field " + path + " has no type in skiff's model");
      Json& target = out[f.name];
      return message(sub, f.type->name, f.type, target, path, depth + 1);
    }
    case FieldKind::kIntOrString:
    case FieldKind::kQuantity:
    case FieldKind::kTime: {
      std::string_view sub;
      if (wt != kBytes || !w.bytes(sub)) return malformed(path, "expected a message");
      Result<Json> v = f.kind == FieldKind::kIntOrString ? intOrString(sub, path)
                       : f.kind == FieldKind::kQuantity  ? quantity(sub, path)
                                                         : time(sub, num.flags & kMicro, path);
      if (!v) return v.error();
      if (v->is_null()) return {};  // the zero time
      if (f.kind == FieldKind::kIntOrString && !keepZero && v->is_number_integer() &&
          v->get<long long>() == 0)
        return {};
      out[f.name] = std::move(*v);
      return {};
    }
    case FieldKind::kArray: {
      Json& arr = out[f.name];
      if (!arr.is_array()) arr = Json::array();
      // Packed repeated scalars: many varints in one length-delimited value.
      if (wt == kBytes &&
          (f.elemKind == FieldKind::kInteger || f.elemKind == FieldKind::kBoolean)) {
        std::string_view packed;
        if (!w.bytes(packed)) return malformed(path, "truncated packed list");
        Wire pw(packed);
        while (!pw.done()) {
          auto v =
              scalar(pw, kVarint, f.elemKind, f, path + "[" + std::to_string(arr.size()) + "]");
          if (!v) return v.error();
          arr.push_back(std::move(*v));
        }
        return {};
      }
      auto v = element(w, wt, f, path + "[" + std::to_string(arr.size()) + "]", depth);
      if (!v) return v.error();
      arr.push_back(std::move(*v));
      return {};
    }
    case FieldKind::kMap: {
      std::string_view entry;
      if (wt != kBytes || !w.bytes(entry)) return malformed(path, "expected a map entry");
      Wire ew(entry);
      std::string key;
      Json value;
      bool haveValue = false;
      while (!ew.done()) {
        uint64_t k = 0;
        if (!ew.varint(k)) return malformed(path, "truncated map entry");
        int ewt = static_cast<int>(k & 7);
        if ((k >> 3) == 1) {
          std::string_view s;
          if (ewt != kBytes || !ew.bytes(s)) return malformed(path, "map key is not a string");
          if (!validUtf8(s)) return malformed(path, "map key is not valid UTF-8");
          key.assign(s);
        } else if ((k >> 3) == 2) {
          auto v = element(ew, ewt, f, path + "[" + key + "]", depth);
          if (!v) return v.error();
          value = std::move(*v);
          haveValue = true;
        } else {
          return malformed(path, "map entry field " + std::to_string(k >> 3));
        }
      }
      if (!haveValue) {
        value = f.elemKind == FieldKind::kQuantity ? Json("0")
                : f.elemKind == FieldKind::kObject ? Json::object()
                                                   : Json("");
      }
      Json& map = out[f.name];
      if (!map.is_object()) map = Json::object();
      map[key] = std::move(value);
      return {};
    }
    case FieldKind::kAny:
      break;
  }
  return unsupported("field " + path + " cannot be read from protobuf by skiff");
}

Result<Json> Reader::scalar(Wire& w, int wt, FieldKind kind, const FieldDef& f,
                            const std::string& path) {
  auto wrongType = [&](const char* want) {
    return malformed(
        path, std::string("expected a ") + want + " value, got wire type " + wireTypeName(wt));
  };
  switch (kind) {
    case FieldKind::kString: {
      std::string_view s;
      if (wt != kBytes) return wrongType("length-delimited");
      if (!w.bytes(s)) return malformed(path, "truncated string");
      if (f.format == "byte") return Json(base64(s));
      if (!validUtf8(s)) return malformed(path, "string is not valid UTF-8");
      return Json(std::string(s));
    }
    case FieldKind::kInteger: {
      uint64_t v = 0;
      if (wt != kVarint) return wrongType("varint");
      if (!w.varint(v)) return malformed(path, "truncated varint");
      int64_t n = static_cast<int64_t>(v);
      if (f.format == "int32") n = static_cast<int32_t>(static_cast<uint32_t>(v));
      return Json(static_cast<long long>(n));
    }
    case FieldKind::kBoolean: {
      uint64_t v = 0;
      if (wt != kVarint) return wrongType("varint");
      if (!w.varint(v)) return malformed(path, "truncated varint");
      return Json(v != 0);
    }
    case FieldKind::kNumber: {
      uint64_t v = 0;
      if (wt == kFixed64) {
        if (!w.fixed(8, v)) return malformed(path, "truncated double");
        double d;
        std::memcpy(&d, &v, sizeof d);
        return Json(d);
      }
      if (wt == kFixed32) {
        if (!w.fixed(4, v)) return malformed(path, "truncated float");
        uint32_t u = static_cast<uint32_t>(v);
        float fl;
        std::memcpy(&fl, &u, sizeof fl);
        return Json(static_cast<double>(fl));
      }
      return wrongType("64-bit");
    }
    default:
      return unsupported("field " + path + " cannot be read from protobuf by skiff");
  }
}

Result<Json> Reader::element(Wire& w, int wt, const FieldDef& f, const std::string& path,
                             int depth) {
  switch (f.elemKind) {
    case FieldKind::kObject: {
      std::string_view sub;
      if (wt != kBytes || !w.bytes(sub)) return malformed(path, "expected a message");
      return nested(sub, f.type, path, depth);
    }
    case FieldKind::kQuantity:
    case FieldKind::kIntOrString:
    case FieldKind::kTime: {
      std::string_view sub;
      if (wt != kBytes || !w.bytes(sub)) return malformed(path, "expected a message");
      if (f.elemKind == FieldKind::kQuantity) return quantity(sub, path);
      if (f.elemKind == FieldKind::kIntOrString) return intOrString(sub, path);
      return time(sub, false, path);
    }
    default:
      return scalar(w, wt, f.elemKind, f, path);
  }
}

Result<Json> Reader::nested(std::string_view bytes, const TypeDef* type, const std::string& path,
                            int depth) {
  if (!type) return unsupported("field " + path + " has no type in skiff's model");
  Json obj = Json::object();
  auto st = message(bytes, type->name, type, obj, path, depth + 1);
  if (!st) return st.error();
  return obj;
}

Result<Json> Reader::intOrString(std::string_view bytes, const std::string& path) {
  Wire w(bytes);
  uint64_t type = 0, intVal = 0;
  std::string strVal;
  while (!w.done()) {
    uint64_t k = 0;
    if (!w.varint(k)) return malformed(path, "truncated IntOrString");
    int wt = static_cast<int>(k & 7);
    uint64_t n = k >> 3;
    if ((n == 1 || n == 2) && wt == kVarint) {
      if (!w.varint(n == 1 ? type : intVal)) return malformed(path, "truncated IntOrString");
    } else if (n == 3 && wt == kBytes) {
      std::string_view s;
      if (!w.bytes(s)) return malformed(path, "truncated IntOrString");
      if (!validUtf8(s)) return malformed(path, "string is not valid UTF-8");
      strVal.assign(s);
    } else {
      return malformed(path, "IntOrString field " + std::to_string(n));
    }
  }
  if (type == 1) return Json(strVal);
  if (type != 0) return malformed(path, "IntOrString type " + std::to_string(type));
  return Json(static_cast<long long>(static_cast<int32_t>(static_cast<uint32_t>(intVal))));
}

Result<Json> Reader::quantity(std::string_view bytes, const std::string& path) {
  Wire w(bytes);
  std::string s;
  while (!w.done()) {
    uint64_t k = 0;
    std::string_view v;
    if (!w.varint(k)) return malformed(path, "truncated Quantity");
    if ((k >> 3) != 1 || (k & 7) != kBytes || !w.bytes(v))
      return malformed(path, "Quantity field " + std::to_string(k >> 3));
    if (!validUtf8(v)) return malformed(path, "string is not valid UTF-8");
    s.assign(v);
  }
  return Json(s.empty() ? std::string("0") : s);  // Go writes a zero Quantity as "0"
}

Result<Json> Reader::time(std::string_view bytes, bool micro, const std::string& path) {
  Wire w(bytes);
  uint64_t seconds = 0, nanos = 0;
  while (!w.done()) {
    uint64_t k = 0;
    if (!w.varint(k)) return malformed(path, "truncated Time");
    uint64_t n = k >> 3;
    if ((n != 1 && n != 2) || (k & 7) != kVarint)
      return malformed(path, "Time field " + std::to_string(n));
    if (!w.varint(n == 1 ? seconds : nanos)) return malformed(path, "truncated Time");
  }
  auto s = static_cast<int64_t>(seconds);
  auto ns = static_cast<int32_t>(static_cast<uint32_t>(nanos));
  if (bytes.empty() || (s == kGoZeroTimeSeconds && ns == 0)) return Json();  // Go's zero time: null
  if (ns < 0 || ns > 999999999) return malformed(path, "Time nanos out of range");
  return Json(formatTime(s, ns, micro));
}

// The type model's TypeDef for an envelope's apiVersion and kind.
const TypeDef* typeForEnvelope(const std::string& apiVersion, const std::string& kind) {
  GroupVersionKind gvk;
  size_t slash = apiVersion.find('/');
  if (slash == std::string::npos) {
    gvk.version = apiVersion;
  } else {
    gvk.group = apiVersion.substr(0, slash);
    gvk.version = apiVersion.substr(slash + 1);
  }
  gvk.kind = kind;
  if (const TypeDef* t = typeForKind(gvk)) return t;
  // DeleteOptions travels with the group version of the request it rides on.
  if (kind == "DeleteOptions") return findType(kMeta + "DeleteOptions");
  return nullptr;
}

}  // namespace

bool isProtobufContentType(std::string_view contentType) {
  std::string_view t = contentType.substr(0, contentType.find(';'));
  while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
  while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
  return t == kProtobufMediaType;
}

Result<Json> decodeProtobufMessage(std::string_view message, const std::string& typeName) {
  const TypeDef* type = findType(typeName);
  if (!type) return unsupported("skiff has no type " + typeName);
  Json out = Json::object();
  Reader reader;
  auto st = reader.message(message, typeName, type, out, "", 0);
  if (!st) return st.error();
  return out;
}

Result<Json> decodeProtobuf(std::string_view body) {
  static constexpr std::string_view kMagic("k8s\0", 4);
  if (body.substr(0, 4) != kMagic)
    return malformed("", "it does not start with the Kubernetes magic \"k8s\\x00\"");
  Wire w(body.substr(4));
  std::string apiVersion, kind, contentEncoding;
  std::string_view raw;
  bool haveRaw = false;
  while (!w.done()) {
    uint64_t k = 0;
    if (!w.varint(k)) return malformed("", "truncated envelope");
    std::string_view v;
    if ((k & 7) != kBytes || !w.bytes(v)) return malformed("", "truncated envelope");
    switch (k >> 3) {
      case 1: {  // typeMeta
        Wire tw(v);
        while (!tw.done()) {
          uint64_t tk = 0;
          std::string_view s;
          if (!tw.varint(tk) || (tk & 7) != kBytes || !tw.bytes(s))
            return malformed("", "truncated typeMeta");
          if ((tk >> 3) == 1) apiVersion.assign(s);
          if ((tk >> 3) == 2) kind.assign(s);
        }
        break;
      }
      case 2:
        raw = v;
        haveRaw = true;
        break;
      case 3:
        contentEncoding.assign(v);
        break;
      case 4:  // contentType: empty for protobuf
        break;
      default:
        return malformed("", "envelope field " + std::to_string(k >> 3));
    }
  }
  if (!contentEncoding.empty())
    return unsupported("protobuf bodies with content encoding \"" + contentEncoding +
                       "\" are not supported");
  if (kind.empty() || apiVersion.empty())
    return malformed("", "the envelope carries no apiVersion and kind");
  if (!haveRaw) return malformed("", "the envelope carries no object");
  if (!validUtf8(kind) || !validUtf8(apiVersion))
    return malformed("", "apiVersion or kind is not valid UTF-8");
  const TypeDef* type = typeForEnvelope(apiVersion, kind);
  if (!type)
    return unsupported("skiff cannot read kind \"" + kind + "\" of version \"" + apiVersion +
                       "\" from protobuf");
  Json out = Json::object();
  Reader reader;
  auto st = reader.message(raw, type->name, type, out, "", 0);
  if (!st) return st.error();
  out["apiVersion"] = apiVersion;
  out["kind"] = kind;
  return out;
}

Status checkProtobufTables() {
  const Tables& t = tables();
  std::set<std::string> inlined;
  // Every field of `tableName` must be a field of model type `type`.
  std::function<Status(const std::string&, const TypeDef*)> check =
      [&](const std::string& tableName, const TypeDef* type) -> Status {
    auto it = t.find(tableName);
    if (it == t.end()) return makeError(Code::kInternal, "no table " + tableName);
    for (const auto& [number, num] : it->second) {
      if (num.flags & kInline) {
        inlined.insert(num.name);
        auto st = check(num.name, type);
        if (!st) return st.error().wrap(tableName + " field " + std::to_string(number));
      } else if (!type->field(num.name)) {
        return makeError(Code::kInternal, tableName + " field " + std::to_string(number) + " (" +
                                              num.name + ") is not in model type " + type->name);
      }
    }
    return {};
  };
  for (const auto& [name, table] : t) {
    const TypeDef* type = findType(name);
    if (!type) continue;  // proto-only, checked where inlined
    auto st = check(name, type);
    if (!st) return st;
  }
  for (const auto& [name, table] : t) {
    if (!findType(name) && !inlined.count(name))
      return makeError(Code::kInternal, "table " + name + " is neither a model type nor inlined");
  }
  // Every model type reachable from a served kind has a table covering its fields.
  std::set<std::string> seen;
  std::function<Status(const TypeDef*)> reach = [&](const TypeDef* type) -> Status {
    if (!type || !seen.insert(type->name).second) return {};
    auto it = t.find(type->name);
    if (it == t.end()) return makeError(Code::kInternal, "no field numbers for " + type->name);
    std::set<std::string> numbered;
    std::function<void(const MessageTable&)> collect = [&](const MessageTable& m) {
      for (const auto& [number, num] : m) {
        if (num.flags & kInline) {
          collect(t.at(num.name));
        } else {
          numbered.insert(num.name);
        }
      }
    };
    collect(it->second);
    for (const FieldDef& f : type->fields) {
      if (type->gvk && (f.name == "apiVersion" || f.name == "kind")) continue;
      if (!numbered.count(f.name))
        return makeError(Code::kInternal,
                         "model field " + type->name + "." + f.name + " has no field number");
      auto st = reach(f.type);
      if (!st) return st;
    }
    return {};
  };
  for (const TypeDef* type : allTypes()) {
    // WatchEvent only ever travels from server to client.
    if (!type->gvk || type->gvk->kind == "WatchEvent") continue;
    auto st = reach(type);
    if (!st) return st;
  }
  return {};
}

}  // namespace skiff::api
