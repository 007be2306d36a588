// Field numbers of every message skiff reads from Kubernetes protobuf, from
// k8s.io/api/core/v1, apps/v1, autoscaling/v1 and
// k8s.io/apimachinery/pkg/apis/meta/v1 generated.proto (Kubernetes 1.32+).
// Each entry names the JSON field (as the type model spells it) a number fills;
// kPointer marks Go pointer fields, whose explicit zero must survive;
// checkProtobufTables() (protobuf.h) holds these tables against the model.
#include "api/protobuf_internal.h"

#include "api/types_internal.h"

namespace skiff::api::protobuf_internal {

namespace {

using model::kApps;
using model::kAuthentication;
using model::kAuthorization;
using model::kAutoscaling;
using model::kCore;
using model::kMeta;

constexpr unsigned P = kPointer;

struct Entry {
  int number;
  std::string name;
  unsigned flags = 0;
};

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

  add(kCore + "ConfigMap", {{1, "metadata"}, {2, "data"}, {3, "binaryData"}, {4, "immutable", P}});
  list(kCore + "ConfigMapList");
  add(kCore + "Secret",
      {{1, "metadata"}, {2, "data"}, {3, "type"}, {4, "stringData"}, {5, "immutable", P}});
  list(kCore + "SecretList");
  add(kCore + "ServiceAccount", {{1, "metadata"},
                                 {2, "secrets"},
                                 {3, "imagePullSecrets"},
                                 {4, "automountServiceAccountToken", P}});
  list(kCore + "ServiceAccountList");

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
  // ---- authentication/v1, authorization/v1: the self reviews, TokenRequest ----
  add(kAuthentication + "SelfSubjectReview", {{1, "metadata"}, {2, "status"}});
  add(kAuthentication + "SelfSubjectReviewStatus", {{1, "userInfo"}});
  add(kAuthentication + "UserInfo", {{1, "username"}, {2, "uid"}, {3, "groups"}});
  // A ServiceAccount's token subresource (`kubectl create token` sends it).
  object(kAuthentication + "TokenRequest");
  add(kAuthentication + "TokenRequestSpec",
      {{1, "audiences"}, {4, "expirationSeconds", P}, {3, "boundObjectRef"}});
  add(kAuthentication + "BoundObjectReference",
      {{1, "kind"}, {2, "apiVersion"}, {3, "name"}, {4, "uid"}});
  add(kAuthentication + "TokenRequestStatus", {{1, "token"}, {2, "expirationTimestamp"}});
  object(kAuthorization + "SelfSubjectAccessReview");
  add(kAuthorization + "SelfSubjectAccessReviewSpec",
      {{1, "resourceAttributes"}, {2, "nonResourceAttributes"}});
  add(kAuthorization + "ResourceAttributes", {{1, "namespace"},
                                              {2, "verb"},
                                              {3, "group"},
                                              {4, "version"},
                                              {5, "resource"},
                                              {6, "subresource"},
                                              {7, "name"}});
  add(kAuthorization + "NonResourceAttributes", {{1, "path"}, {2, "verb"}});
  add(kAuthorization + "SubjectAccessReviewStatus",
      {{1, "allowed"}, {2, "reason"}, {3, "evaluationError"}, {4, "denied"}});
  object(kAuthorization + "SelfSubjectRulesReview");
  add(kAuthorization + "SelfSubjectRulesReviewSpec", {{1, "namespace"}});
  add(kAuthorization + "SubjectRulesReviewStatus",
      {{1, "resourceRules"}, {2, "nonResourceRules"}, {3, "incomplete"}, {4, "evaluationError"}});
  add(kAuthorization + "ResourceRule",
      {{1, "verbs"}, {2, "apiGroups"}, {3, "resources"}, {4, "resourceNames"}});
  add(kAuthorization + "NonResourceRule", {{1, "verbs"}, {2, "nonResourceURLs"}});

  object(kAutoscaling + "Scale");
  add(kAutoscaling + "ScaleSpec", {{1, "replicas"}});
  add(kAutoscaling + "ScaleStatus", {{1, "replicas"}, {2, "selector"}});
  return t;
}

}  // namespace

const Tables& tables() {
  static const Tables t = buildTables();
  return t;
}

}  // namespace skiff::api::protobuf_internal
