// core/v1 Pod and its parts: PodSpec, Container, probes, volumes, security
// contexts and PodStatus, with the field names, formats and strategic-merge
// tags of k8s.io/api/core/v1/types.go (Kubernetes 1.32).
#include "api/types_internal.h"

namespace skiff::api::model {

namespace {

std::vector<FieldDef> containerFields(Model& m) {
  auto c = [&](const char* n) { return m.ref(kCore + n); };
  return {
      str("name").req().doc("Name of the container specified as a DNS_LABEL."),
      str("image").doc("Container image name."),
      strs("command").atomic(),
      strs("args").atomic(),
      str("workingDir"),
      arr("ports", c("ContainerPort")).merge("containerPort", {"containerPort", "protocol"}),
      arr("envFrom", c("EnvFromSource")).atomic(),
      arr("env", c("EnvVar")).merge("name"),
      obj("resources", c("ResourceRequirements")),
      arr("resizePolicy", c("ContainerResizePolicy")).atomic(),
      str("restartPolicy"),
      arr("volumeMounts", c("VolumeMount")).merge("mountPath"),
      arr("volumeDevices", c("VolumeDevice")).merge("devicePath"),
      obj("livenessProbe", c("Probe")),
      obj("readinessProbe", c("Probe")),
      obj("startupProbe", c("Probe")),
      obj("lifecycle", c("Lifecycle")),
      str("terminationMessagePath"),
      str("terminationMessagePolicy").enums({"FallbackToLogsOnError", "File"}),
      str("imagePullPolicy").enums({"Always", "IfNotPresent", "Never"}),
      obj("securityContext", c("SecurityContext")),
      boolean("stdin"),
      boolean("stdinOnce"),
      boolean("tty"),
  };
}

void defineContainers(Model& m) {
  auto c = [&](const char* n) { return m.ref(kCore + n); };
  m.def(kCore + "Container", "A single application container that you want to run within a pod.",
        containerFields(m));
  std::vector<FieldDef> eph = containerFields(m);
  eph.push_back(str("targetContainerName"));
  m.def(kCore + "EphemeralContainer",
        "An EphemeralContainer is a temporary container added to an existing Pod.", std::move(eph));
  m.def(kCore + "ContainerPort", "ContainerPort represents a network port in a single container.",
        {str("name"), i32("hostPort"), i32("containerPort").req(),
         str("protocol").enums({"SCTP", "TCP", "UDP"}), str("hostIP")});
  m.def(kCore + "EnvVar", "EnvVar represents an environment variable present in a Container.",
        {str("name").req(), str("value"), obj("valueFrom", c("EnvVarSource"))});
  m.def(kCore + "EnvVarSource", "EnvVarSource represents a source for the value of an EnvVar.",
        {obj("fieldRef", c("ObjectFieldSelector")),
         obj("resourceFieldRef", c("ResourceFieldSelector")),
         obj("configMapKeyRef", c("ConfigMapKeySelector")),
         obj("secretKeyRef", c("SecretKeySelector"))});
  m.def(kCore + "ObjectFieldSelector",
        "ObjectFieldSelector selects an APIVersioned field of an object.",
        {str("apiVersion"), str("fieldPath").req()});
  m.def(
      kCore + "ResourceFieldSelector",
      "ResourceFieldSelector represents container resources (cpu, memory) and their output format.",
      {str("containerName"), str("resource").req(), qty("divisor")});
  m.def(kCore + "ConfigMapKeySelector", "Selects a key from a ConfigMap.",
        {str("name"), str("key").req(), boolean("optional")});
  m.def(kCore + "SecretKeySelector", "SecretKeySelector selects a key of a Secret.",
        {str("name"), str("key").req(), boolean("optional")});
  m.def(kCore + "EnvFromSource",
        "EnvFromSource represents the source of a set of ConfigMaps or Secrets.",
        {str("prefix"), obj("configMapRef", c("ConfigMapEnvSource")),
         obj("secretRef", c("SecretEnvSource"))});
  m.def(kCore + "ConfigMapEnvSource",
        "ConfigMapEnvSource selects a ConfigMap to populate the environment.",
        {str("name"), boolean("optional")});
  m.def(kCore + "SecretEnvSource", "SecretEnvSource selects a Secret to populate the environment.",
        {str("name"), boolean("optional")});
  m.def(
      kCore + "ResourceRequirements",
      "ResourceRequirements describes the compute resource requirements.",
      {mapQty("limits"), mapQty("requests"), arr("claims", c("ResourceClaim")).mapList({"name"})});
  m.def(kCore + "ResourceClaim", "ResourceClaim references one entry in PodSpec.ResourceClaims.",
        {str("name").req(), str("request")});
  m.def(kCore + "ContainerResizePolicy", "ContainerResizePolicy represents resource resize policy.",
        {str("resourceName").req(), str("restartPolicy").req()});
  m.def(
      kCore + "VolumeMount", "VolumeMount describes a mounting of a Volume within a container.",
      {str("name").req(), boolean("readOnly"), str("recursiveReadOnly"), str("mountPath").req(),
       str("subPath"), str("mountPropagation").enums({"Bidirectional", "HostToContainer", "None"}),
       str("subPathExpr")});
  m.def(kCore + "VolumeDevice",
        "volumeDevice describes a mapping of a raw block device within a container.",
        {str("name").req(), str("devicePath").req()});

  m.def(kCore + "Probe",
        "Probe describes a health check to be performed against a container to determine whether "
        "it is alive or ready to receive traffic.",
        {obj("exec", c("ExecAction")), obj("httpGet", c("HTTPGetAction")),
         obj("tcpSocket", c("TCPSocketAction")), obj("grpc", c("GRPCAction")),
         i32("initialDelaySeconds"), i32("timeoutSeconds"), i32("periodSeconds"),
         i32("successThreshold"), i32("failureThreshold"), i64("terminationGracePeriodSeconds")});
  m.def(kCore + "ExecAction", "ExecAction describes a \"run in container\" action.",
        {strs("command").atomic()});
  m.def(kCore + "HTTPGetAction", "HTTPGetAction describes an action based on HTTP Get requests.",
        {str("path"), ios("port").req(), str("host"), str("scheme").enums({"HTTP", "HTTPS"}),
         arr("httpHeaders", c("HTTPHeader")).atomic()});
  m.def(kCore + "HTTPHeader", "HTTPHeader describes a custom header to be used in HTTP probes.",
        {str("name").req(), str("value").req()});
  m.def(kCore + "TCPSocketAction", "TCPSocketAction describes an action based on opening a socket.",
        {ios("port").req(), str("host")});
  m.def(kCore + "GRPCAction", "GRPCAction specifies an action involving a GRPC service.",
        {i32("port").req(), str("service")});
  m.def(kCore + "Lifecycle",
        "Lifecycle describes actions that the management system should take in "
        "response to container lifecycle events.",
        {obj("postStart", c("LifecycleHandler")), obj("preStop", c("LifecycleHandler"))});
  m.def(kCore + "LifecycleHandler",
        "LifecycleHandler defines a specific action that should be taken "
        "in a lifecycle hook.",
        {obj("exec", c("ExecAction")), obj("httpGet", c("HTTPGetAction")),
         obj("tcpSocket", c("TCPSocketAction")), obj("sleep", c("SleepAction"))});
  m.def(kCore + "SleepAction", "SleepAction describes a \"sleep\" action.", {i64("seconds").req()});

  m.def(kCore + "SecurityContext",
        "SecurityContext holds security configuration that will be "
        "applied to a container.",
        {obj("capabilities", c("Capabilities")), boolean("privileged"),
         obj("seLinuxOptions", c("SELinuxOptions")),
         obj("windowsOptions", c("WindowsSecurityContextOptions")), i64("runAsUser"),
         i64("runAsGroup"), boolean("runAsNonRoot"), boolean("readOnlyRootFilesystem"),
         boolean("allowPrivilegeEscalation"), str("procMount"),
         obj("seccompProfile", c("SeccompProfile")), obj("appArmorProfile", c("AppArmorProfile"))});
  m.def(kCore + "Capabilities", "Adds and removes POSIX capabilities from running containers.",
        {strs("add").atomic(), strs("drop").atomic()});
  m.def(kCore + "SELinuxOptions", "SELinuxOptions are the labels to be applied to the container",
        {str("user"), str("role"), str("type"), str("level")});
  m.def(kCore + "WindowsSecurityContextOptions",
        "WindowsSecurityContextOptions contain "
        "Windows-specific options and credentials.",
        {str("gmsaCredentialSpecName"), str("gmsaCredentialSpec"), str("runAsUserName"),
         boolean("hostProcess")});
  m.def(kCore + "SeccompProfile",
        "SeccompProfile defines a pod/container's seccomp profile settings.",
        {str("type").req().enums({"Localhost", "RuntimeDefault", "Unconfined"}),
         str("localhostProfile")});
  m.def(kCore + "AppArmorProfile",
        "AppArmorProfile defines a pod or container's AppArmor settings.",
        {str("type").req().enums({"Localhost", "RuntimeDefault", "Unconfined"}),
         str("localhostProfile")});
  m.def(kCore + "PodSecurityContext", "PodSecurityContext holds pod-level security attributes.",
        {obj("seLinuxOptions", c("SELinuxOptions")),
         obj("windowsOptions", c("WindowsSecurityContextOptions")), i64("runAsUser"),
         i64("runAsGroup"), boolean("runAsNonRoot"),
         arrOf("supplementalGroups", FieldKind::kInteger, "int64").atomic(),
         str("supplementalGroupsPolicy"), i64("fsGroup"), arr("sysctls", c("Sysctl")).atomic(),
         str("fsGroupChangePolicy"), obj("seccompProfile", c("SeccompProfile")),
         obj("appArmorProfile", c("AppArmorProfile")), str("seLinuxChangePolicy")});
  m.def(kCore + "Sysctl", "Sysctl defines a kernel parameter to be set",
        {str("name").req(), str("value").req()});
}

void defineVolumes(Model& m) {
  auto c = [&](const char* n) { return m.ref(kCore + n); };
  m.def(kCore + "Volume", "Volume represents a named volume in a pod.",
        {str("name").req(), obj("hostPath", c("HostPathVolumeSource")),
         obj("emptyDir", c("EmptyDirVolumeSource")), obj("secret", c("SecretVolumeSource")),
         obj("configMap", c("ConfigMapVolumeSource")), obj("projected", c("ProjectedVolumeSource")),
         obj("downwardAPI", c("DownwardAPIVolumeSource")),
         obj("persistentVolumeClaim", c("PersistentVolumeClaimVolumeSource")),
         obj("nfs", c("NFSVolumeSource")), obj("image", c("ImageVolumeSource")),
         // Sources skiff cannot provide on one machine are accepted, unchecked.
         any("ephemeral"), any("csi"), any("gcePersistentDisk"), any("awsElasticBlockStore"),
         any("gitRepo"), any("iscsi"), any("glusterfs"), any("rbd"), any("flexVolume"),
         any("cinder"), any("cephfs"), any("flocker"), any("fc"), any("azureFile"),
         any("azureDisk"), any("vsphereVolume"), any("quobyte"), any("photonPersistentDisk"),
         any("portworxVolume"), any("scaleIO"), any("storageos")});
  m.def(kCore + "HostPathVolumeSource", "Represents a host path mapped into a pod.",
        {str("path").req(),
         str("type").enums({"", "BlockDevice", "CharDevice", "Directory", "DirectoryOrCreate",
                            "File", "FileOrCreate", "Socket"})});
  m.def(kCore + "EmptyDirVolumeSource", "Represents an empty directory for a pod.",
        {str("medium"), qty("sizeLimit")});
  m.def(kCore + "KeyToPath", "Maps a string key to a path within a volume.",
        {str("key").req(), str("path").req(), i32("mode")});
  m.def(kCore + "SecretVolumeSource", "Adapts a Secret into a volume.",
        {str("secretName"), arr("items", c("KeyToPath")).atomic(), i32("defaultMode"),
         boolean("optional")});
  m.def(kCore + "ConfigMapVolumeSource", "Adapts a ConfigMap into a volume.",
        {str("name"), arr("items", c("KeyToPath")).atomic(), i32("defaultMode"),
         boolean("optional")});
  m.def(kCore + "ProjectedVolumeSource", "Represents a projected volume source",
        {arr("sources", c("VolumeProjection")).atomic(), i32("defaultMode")});
  m.def(
      kCore + "VolumeProjection",
      "Projection that may be projected along with other supported "
      "volume types.",
      {obj("secret", c("SecretProjection")), obj("configMap", c("ConfigMapProjection")),
       obj("downwardAPI", c("DownwardAPIProjection")),
       obj("serviceAccountToken", c("ServiceAccountTokenProjection")), any("clusterTrustBundle")});
  m.def(kCore + "SecretProjection", "Adapts a secret into a projected volume.",
        {str("name"), arr("items", c("KeyToPath")).atomic(), boolean("optional")});
  m.def(kCore + "ConfigMapProjection", "Adapts a ConfigMap into a projected volume.",
        {str("name"), arr("items", c("KeyToPath")).atomic(), boolean("optional")});
  m.def(kCore + "DownwardAPIProjection",
        "Represents downward API info for projecting into a "
        "projected volume.",
        {arr("items", c("DownwardAPIVolumeFile")).atomic()});
  m.def(kCore + "ServiceAccountTokenProjection",
        "ServiceAccountTokenProjection represents a "
        "projected service account token volume.",
        {str("audience"), i64("expirationSeconds"), str("path").req()});
  m.def(kCore + "DownwardAPIVolumeSource",
        "DownwardAPIVolumeSource represents a volume containing "
        "downward API info.",
        {arr("items", c("DownwardAPIVolumeFile")).atomic(), i32("defaultMode")});
  m.def(kCore + "DownwardAPIVolumeFile",
        "DownwardAPIVolumeFile represents information to create "
        "the file containing the pod field",
        {str("path").req(), obj("fieldRef", c("ObjectFieldSelector")),
         obj("resourceFieldRef", c("ResourceFieldSelector")), i32("mode")});
  m.def(kCore + "PersistentVolumeClaimVolumeSource",
        "References the user's PVC in the same namespace.",
        {str("claimName").req(), boolean("readOnly")});
  m.def(kCore + "NFSVolumeSource", "Represents an NFS mount that lasts the lifetime of a pod.",
        {str("server").req(), str("path").req(), boolean("readOnly")});
  m.def(kCore + "ImageVolumeSource", "ImageVolumeSource represents a image volume resource.",
        {str("reference"), str("pullPolicy").enums({"Always", "IfNotPresent", "Never"})});
}

void defineAffinity(Model& m) {
  auto c = [&](const char* n) { return m.ref(kCore + n); };
  const TypeDef* selector = m.ref(kMeta + "LabelSelector");
  m.def(kCore + "Affinity", "Affinity is a group of affinity scheduling rules.",
        {obj("nodeAffinity", c("NodeAffinity")), obj("podAffinity", c("PodAffinity")),
         obj("podAntiAffinity", c("PodAntiAffinity"))});
  m.def(kCore + "NodeAffinity", "Node affinity is a group of node affinity scheduling rules.",
        {obj("requiredDuringSchedulingIgnoredDuringExecution", c("NodeSelector")),
         arr("preferredDuringSchedulingIgnoredDuringExecution", c("PreferredSchedulingTerm"))
             .atomic()});
  m.def(kCore + "NodeSelector",
        "A node selector represents the union of the results of one or "
        "more label queries over a set of nodes.",
        {arr("nodeSelectorTerms", c("NodeSelectorTerm")).req().atomic()});
  m.def(kCore + "NodeSelectorTerm", "A null or empty node selector term matches no objects.",
        {arr("matchExpressions", c("NodeSelectorRequirement")).atomic(),
         arr("matchFields", c("NodeSelectorRequirement")).atomic()});
  m.def(kCore + "NodeSelectorRequirement",
        "A node selector requirement is a selector that "
        "contains values, a key, and an operator that relates the key and values.",
        {str("key").req(),
         str("operator").req().enums({"DoesNotExist", "Exists", "Gt", "In", "Lt", "NotIn"}),
         strs("values").atomic()});
  m.def(kCore + "PreferredSchedulingTerm",
        "An empty preferred scheduling term matches all "
        "objects with implicit weight 0.",
        {i32("weight").req(), obj("preference", c("NodeSelectorTerm")).req()});
  for (const char* kind : {"PodAffinity", "PodAntiAffinity"}) {
    m.def(kCore + kind, std::string(kind) + " is a group of inter pod scheduling rules.",
          {arr("requiredDuringSchedulingIgnoredDuringExecution", c("PodAffinityTerm")).atomic(),
           arr("preferredDuringSchedulingIgnoredDuringExecution", c("WeightedPodAffinityTerm"))
               .atomic()});
  }
  m.def(kCore + "PodAffinityTerm",
        "Defines a set of pods that this pod should be co-located "
        "(affinity) or not co-located (anti-affinity) with.",
        {obj("labelSelector", selector), strs("namespaces").atomic(), str("topologyKey").req(),
         obj("namespaceSelector", selector), strs("matchLabelKeys").atomic(),
         strs("mismatchLabelKeys").atomic()});
  m.def(kCore + "WeightedPodAffinityTerm",
        "The weights of all of the matched "
        "WeightedPodAffinityTerm fields are added per-node to find the most preferred node(s)",
        {i32("weight").req(), obj("podAffinityTerm", c("PodAffinityTerm")).req()});
  m.def(kCore + "TopologySpreadConstraint",
        "TopologySpreadConstraint specifies how to spread "
        "matching pods among the given topology.",
        {i32("maxSkew").req(), str("topologyKey").req(),
         str("whenUnsatisfiable").req().enums({"DoNotSchedule", "ScheduleAnyway"}),
         obj("labelSelector", selector), i32("minDomains"), str("nodeAffinityPolicy"),
         str("nodeTaintsPolicy"), strs("matchLabelKeys").atomic()});
}

void definePodSpec(Model& m) {
  auto c = [&](const char* n) { return m.ref(kCore + n); };
  m.def(kCore + "PodSpec", "PodSpec is a description of a pod.",
        {
            arr("volumes", c("Volume")).merge("name").strategy("merge,retainKeys"),
            arr("initContainers", c("Container")).merge("name"),
            arr("containers", c("Container")).merge("name").req(),
            arr("ephemeralContainers", c("EphemeralContainer")).merge("name"),
            str("restartPolicy").enums({"Always", "Never", "OnFailure"}),
            i64("terminationGracePeriodSeconds"),
            i64("activeDeadlineSeconds"),
            str("dnsPolicy").enums({"ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"}),
            mapStr("nodeSelector"),
            str("serviceAccountName"),
            str("serviceAccount").doc("DeprecatedServiceAccount: use serviceAccountName instead."),
            boolean("automountServiceAccountToken"),
            str("nodeName"),
            boolean("hostNetwork"),
            boolean("hostPID"),
            boolean("hostIPC"),
            boolean("shareProcessNamespace"),
            obj("securityContext", c("PodSecurityContext")),
            arr("imagePullSecrets", c("LocalObjectReference")).merge("name"),
            str("hostname"),
            str("subdomain"),
            obj("affinity", c("Affinity")).doc("If specified, the pod's scheduling constraints"),
            str("schedulerName"),
            arr("tolerations", c("Toleration")).atomic(),
            arr("hostAliases", c("HostAlias")).merge("ip"),
            str("priorityClassName"),
            i32("priority"),
            obj("dnsConfig", c("PodDNSConfig")),
            arr("readinessGates", c("PodReadinessGate")).atomic(),
            str("runtimeClassName"),
            boolean("enableServiceLinks"),
            str("preemptionPolicy").enums({"Never", "PreemptLowerPriority"}),
            mapQty("overhead"),
            arr("topologySpreadConstraints", c("TopologySpreadConstraint"))
                .merge("topologyKey", {"topologyKey", "whenUnsatisfiable"}),
            boolean("setHostnameAsFQDN"),
            obj("os", c("PodOS")),
            boolean("hostUsers"),
            arr("schedulingGates", c("PodSchedulingGate")).merge("name"),
            arr("resourceClaims", c("PodResourceClaim")).merge("name").strategy("merge,retainKeys"),
            obj("resources", c("ResourceRequirements")),
        });
  defineAffinity(m);
  m.def(kCore + "LocalObjectReference",
        "LocalObjectReference contains enough information to let "
        "you locate the referenced object inside the same namespace.",
        {str("name")});
  m.def(kCore + "Toleration",
        "The pod this Toleration is attached to tolerates any taint that "
        "matches the triple <key,value,effect> using the matching operator <operator>.",
        {str("key"), str("operator").enums({"Equal", "Exists"}), str("value"),
         str("effect").enums({"NoExecute", "NoSchedule", "PreferNoSchedule"}),
         i64("tolerationSeconds")});
  m.def(kCore + "HostAlias",
        "HostAlias holds the mapping between IP and hostnames that will be "
        "injected as an entry in the pod's hosts file.",
        {str("ip").req(), strs("hostnames").atomic()});
  m.def(kCore + "PodDNSConfig", "PodDNSConfig defines the DNS parameters of a pod.",
        {strs("nameservers").atomic(), strs("searches").atomic(),
         arr("options", c("PodDNSConfigOption")).atomic()});
  m.def(kCore + "PodDNSConfigOption", "PodDNSConfigOption defines DNS resolver options of a pod.",
        {str("name"), str("value")});
  m.def(kCore + "PodReadinessGate", "PodReadinessGate contains the reference to a pod condition",
        {str("conditionType").req()});
  m.def(kCore + "PodOS", "PodOS defines the OS parameters of a pod.", {str("name").req()});
  m.def(kCore + "PodSchedulingGate",
        "PodSchedulingGate is associated to a Pod to guard its scheduling.", {str("name").req()});
  m.def(kCore + "PodResourceClaim", "PodResourceClaim references exactly one ResourceClaim.",
        {str("name").req(), str("resourceClaimName"), str("resourceClaimTemplateName")});
  m.def(kCore + "PodTemplateSpec",
        "PodTemplateSpec describes the data a pod should have when "
        "created from a template",
        {obj("metadata", m.ref(kMeta + "ObjectMeta")), obj("spec", c("PodSpec"))});
}

void definePodStatus(Model& m) {
  auto c = [&](const char* n) { return m.ref(kCore + n); };
  m.def(kCore + "PodStatus", "PodStatus represents information about the status of a pod.",
        {
            str("phase").enums({"Failed", "Pending", "Running", "Succeeded", "Unknown"}),
            arr("conditions", c("PodCondition")).merge("type"),
            str("message"),
            str("reason"),
            str("nominatedNodeName"),
            str("hostIP"),
            arr("hostIPs", c("HostIP")).merge("ip"),
            str("podIP"),
            arr("podIPs", c("PodIP")).merge("ip"),
            time("startTime"),
            arr("initContainerStatuses", c("ContainerStatus")).atomic(),
            arr("containerStatuses", c("ContainerStatus")).atomic(),
            str("qosClass").enums({"BestEffort", "Burstable", "Guaranteed"}),
            arr("ephemeralContainerStatuses", c("ContainerStatus")).atomic(),
            str("resize"),
            arrOf("resourceClaimStatuses", FieldKind::kAny)
                .merge("name")
                .strategy("merge,retainKeys"),
        });
  m.def(kCore + "PodCondition",
        "PodCondition contains details for the current condition of this pod.",
        {str("type").req(), str("status").req(), time("lastProbeTime"), time("lastTransitionTime"),
         str("reason"), str("message")});
  m.def(kCore + "HostIP", "HostIP represents a single IP address allocated to the host.",
        {str("ip").req()});
  m.def(kCore + "PodIP", "PodIP represents a single IP address allocated to the pod.",
        {str("ip").req()});
  m.def(kCore + "ContainerStatus",
        "ContainerStatus contains details for the current status of "
        "this container.",
        {str("name").req(), obj("state", c("ContainerState")),
         obj("lastState", c("ContainerState")), boolean("ready").req(), i32("restartCount").req(),
         str("image").req(), str("imageID").req(), str("containerID"), boolean("started"),
         mapQty("allocatedResources"), obj("resources", c("ResourceRequirements")),
         arr("volumeMounts", c("VolumeMountStatus")).merge("mountPath"), any("user"),
         arrOf("allocatedResourcesStatus", FieldKind::kAny).mapList({"name"})});
  m.def(kCore + "VolumeMountStatus", "VolumeMountStatus shows status of volume mounts.",
        {str("name").req(), str("mountPath").req(), boolean("readOnly"), str("recursiveReadOnly")});
  m.def(kCore + "ContainerState", "ContainerState holds a possible state of container.",
        {obj("waiting", c("ContainerStateWaiting")), obj("running", c("ContainerStateRunning")),
         obj("terminated", c("ContainerStateTerminated"))});
  m.def(kCore + "ContainerStateWaiting", "ContainerStateWaiting is a waiting state of a container.",
        {str("reason"), str("message")});
  m.def(kCore + "ContainerStateRunning", "ContainerStateRunning is a running state of a container.",
        {time("startedAt")});
  m.def(kCore + "ContainerStateTerminated",
        "ContainerStateTerminated is a terminated state of a "
        "container.",
        {i32("exitCode").req(), i32("signal"), str("reason"), str("message"), time("startedAt"),
         time("finishedAt"), str("containerID")});
}

}  // namespace

void definePod(Model& m) {
  const GroupVersionKind pod{"", "v1", "Pod"};
  TypeDef* p =
      m.kind(kCore + "Pod", pod, "Pod is a collection of containers that can run on a host.",
             {obj("spec", m.ref(kCore + "PodSpec")), obj("status", m.ref(kCore + "PodStatus"))});
  m.list(kCore + "PodList", {"", "v1", "PodList"}, p);
  defineContainers(m);
  defineVolumes(m);
  definePodSpec(m);
  definePodStatus(m);
}

}  // namespace skiff::api::model
