// Field descriptions for the fields people look up most (`kubectl explain`),
// kept apart from the definitions so those stay readable. Written for skiff;
// the meaning is Kubernetes'.
#include "api/types_internal.h"

namespace skiff::api::model {

namespace {

struct Doc {
  const std::string* prefix;
  const char* type;
  const char* field;
  const char* text;
};

}  // namespace

void defineDocs(Model& m) {
  const Doc docs[] = {
      {&kMeta, "ObjectMeta", "name",
       "Name of the object, unique within its namespace (or the cluster for cluster-scoped "
       "kinds). Cannot be updated."},
      {&kMeta, "ObjectMeta", "generateName",
       "Prefix the server uses to generate a unique name when name is not given."},
      {&kMeta, "ObjectMeta", "namespace",
       "Namespace the object lives in; empty for cluster-scoped kinds. Cannot be updated."},
      {&kMeta, "ObjectMeta", "uid", "Unique identifier the server assigns on creation."},
      {&kMeta, "ObjectMeta", "resourceVersion",
       "Opaque version of the object, used for optimistic concurrency and watches."},
      {&kMeta, "ObjectMeta", "generation",
       "Sequence number of a specific generation of the desired state, set by the server."},
      {&kMeta, "ObjectMeta", "creationTimestamp", "When the object was created, in RFC 3339."},
      {&kMeta, "ObjectMeta", "deletionTimestamp",
       "When the object will be deleted; set by the server when deletion is requested."},
      {&kMeta, "ObjectMeta", "labels",
       "Map of string keys and values used to organize and select objects."},
      {&kMeta, "ObjectMeta", "annotations",
       "Unstructured key/value data for tools; not used for selection."},
      {&kMeta, "ObjectMeta", "ownerReferences",
       "Objects this one depends on; when all owners are gone it is garbage collected."},
      {&kMeta, "ObjectMeta", "finalizers",
       "Keys that must be removed before the object is deleted from storage."},
      {&kCore, "PodSpec", "containers",
       "Containers of the pod. At least one is required; cannot be added or removed later."},
      {&kCore, "PodSpec", "initContainers",
       "Containers run to completion, in order, before the app containers start."},
      {&kCore, "PodSpec", "volumes", "Volumes that containers of this pod can mount."},
      {&kCore, "PodSpec", "restartPolicy",
       "Restart policy for all containers: Always (default), OnFailure or Never."},
      {&kCore, "PodSpec", "terminationGracePeriodSeconds",
       "Seconds the pod is given to stop gracefully before it is killed. Defaults to 30."},
      {&kCore, "PodSpec", "activeDeadlineSeconds",
       "Seconds the pod may be active before the system marks it failed."},
      {&kCore, "PodSpec", "dnsPolicy",
       "DNS policy: ClusterFirst (default), ClusterFirstWithHostNet, Default or None."},
      {&kCore, "PodSpec", "nodeSelector",
       "Labels a node must have for the pod to be scheduled onto it."},
      {&kCore, "PodSpec", "nodeName", "The node the pod is bound to; set by the scheduler."},
      {&kCore, "PodSpec", "hostNetwork", "Use the host's network namespace."},
      {&kCore, "PodSpec", "serviceAccountName", "Name of the ServiceAccount the pod runs as."},
      {&kCore, "PodSpec", "tolerations", "Taints this pod tolerates."},
      {&kCore, "PodSpec", "hostname", "Hostname of the pod; defaults to the pod name."},
      {&kCore, "PodSpec", "subdomain",
       "With hostname, gives the pod the DNS name <hostname>.<subdomain>.<namespace>.svc."},
      {&kCore, "PodSpec", "schedulerName", "Scheduler that places the pod; default-scheduler."},
      {&kCore, "Container", "image", "Container image name."},
      {&kCore, "Container", "command",
       "Entrypoint array, replacing the image's ENTRYPOINT. Not run in a shell."},
      {&kCore, "Container", "args", "Arguments to the entrypoint, replacing the image's CMD."},
      {&kCore, "Container", "workingDir", "Working directory; defaults to the image's."},
      {&kCore, "Container", "ports",
       "Ports the container exposes; informational, except for hostPort."},
      {&kCore, "Container", "env", "Environment variables to set in the container."},
      {&kCore, "Container", "envFrom", "Sources whose keys all become environment variables."},
      {&kCore, "Container", "resources", "Compute resources required by this container."},
      {&kCore, "Container", "volumeMounts", "Volumes to mount into the container's filesystem."},
      {&kCore, "Container", "livenessProbe",
       "Periodic probe of container liveness; the container restarts when it fails."},
      {&kCore, "Container", "readinessProbe",
       "Periodic probe of readiness; failing containers are removed from Service endpoints."},
      {&kCore, "Container", "startupProbe",
       "Probe that must succeed before the other probes start."},
      {&kCore, "Container", "imagePullPolicy",
       "Always, Never or IfNotPresent. Defaults to Always for :latest or untagged images, "
       "IfNotPresent otherwise."},
      {&kCore, "Probe", "initialDelaySeconds", "Seconds after start before the first probe."},
      {&kCore, "Probe", "timeoutSeconds", "Seconds after which a probe times out. Default 1."},
      {&kCore, "Probe", "periodSeconds", "How often to probe, in seconds. Default 10."},
      {&kCore, "Probe", "successThreshold",
       "Consecutive successes to count as success after a failure. Default 1."},
      {&kCore, "Probe", "failureThreshold", "Consecutive failures to count as failure. Default 3."},
      {&kCore, "ServiceSpec", "ports", "The ports this service exposes."},
      {&kCore, "ServiceSpec", "selector",
       "Route traffic to pods whose labels match this map. Without it, Endpoints are managed "
       "by hand."},
      {&kCore, "ServiceSpec", "clusterIP",
       "Virtual IP of the service, allocated when empty; \"None\" makes a headless service. "
       "Cannot be changed once set."},
      {&kCore, "ServiceSpec", "type",
       "ClusterIP (default), NodePort, LoadBalancer or ExternalName."},
      {&kCore, "ServiceSpec", "externalIPs",
       "Extra IPs on which nodes accept traffic for this service."},
      {&kCore, "ServiceSpec", "sessionAffinity",
       "None (default) or ClientIP, which keeps a client on one endpoint."},
      {&kCore, "ServiceSpec", "externalName", "DNS name returned as a CNAME for ExternalName."},
      {&kCore, "ServiceSpec", "externalTrafficPolicy",
       "Cluster (default) or Local: whether external traffic may go to endpoints on other "
       "nodes."},
      {&kCore, "ServiceSpec", "internalTrafficPolicy",
       "Cluster (default) or Local, for traffic to the ClusterIP from inside the cluster."},
      {&kCore, "ServicePort", "name", "Name of the port; required when there is more than one."},
      {&kCore, "ServicePort", "protocol", "TCP (default), UDP or SCTP."},
      {&kCore, "ServicePort", "port", "The port the service exposes."},
      {&kCore, "ServicePort", "targetPort",
       "Number or name of the port on the pods; defaults to port."},
      {&kCore, "ServicePort", "nodePort",
       "Port on every node for NodePort and LoadBalancer services; allocated when unset."},
      {&kCore, "ContainerPort", "containerPort", "Port number on the pod's IP address."},
      {&kCore, "ContainerPort", "hostPort", "Port number to expose on the host."},
      {&kCore, "ContainerPort", "name", "IANA_SVC_NAME a Service's targetPort can refer to."},
      {&kCore, "EnvVar", "name", "Name of the environment variable."},
      {&kCore, "EnvVar", "value", "Value, with $(VAR) references expanded."},
      {&kCore, "EnvVar", "valueFrom", "Source of the value when value is empty."},
      {&kCore, "VolumeMount", "mountPath", "Path in the container at which to mount."},
      {&kCore, "VolumeMount", "name", "Name of a volume of the pod."},
      {&kApps, "DeploymentSpec", "replicas", "Number of desired pods. Defaults to 1."},
      {&kApps, "DeploymentSpec", "selector",
       "Label selector for the pods; must match the template's labels. Immutable."},
      {&kApps, "DeploymentSpec", "template", "Template of the pods to create."},
      {&kApps, "DeploymentSpec", "strategy",
       "How to replace old pods with new ones: RollingUpdate (default) or Recreate."},
      {&kApps, "DeploymentSpec", "revisionHistoryLimit",
       "Old ReplicaSets to keep for rollback. Defaults to 10."},
      {&kApps, "DeploymentSpec", "progressDeadlineSeconds",
       "Seconds before a stalled rollout is reported as failed. Defaults to 600."},
      {&kApps, "ReplicaSetSpec", "replicas", "Number of desired pods. Defaults to 1."},
      {&kApps, "ReplicaSetSpec", "selector", "Label query over the pods this set manages."},
  };
  for (const Doc& d : docs) {
    TypeDef* t = m.ref(*d.prefix + d.type);
    for (FieldDef& f : t->fields) {
      if (f.name == d.field) f.description = d.text;
    }
  }
}

}  // namespace skiff::api::model
