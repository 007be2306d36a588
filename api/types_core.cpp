// core/v1 kinds other than Pod: Namespace, Service, Endpoints, ConfigMap,
// Secret, ServiceAccount, Node, Event, Binding, and the references they share,
// as k8s.io/api/core/v1/types.go.
#include "api/types_internal.h"

namespace skiff::api::model {

namespace {

void defineService(Model& m) {
  auto c = [&](const char* n) { return m.ref(kCore + n); };
  TypeDef* svc = m.kind(kCore + "Service", {"", "v1", "Service"},
                        "Service is a named abstraction of software service (for example, mysql) "
                        "consisting of local port (for example 3306) that the proxy listens on, "
                        "and the selector that determines which pods will answer requests sent "
                        "through the proxy.",
                        {obj("spec", c("ServiceSpec")), obj("status", c("ServiceStatus"))});
  m.list(kCore + "ServiceList", {"", "v1", "ServiceList"}, svc);
  m.def(kCore + "ServiceSpec",
        "ServiceSpec describes the attributes that a user creates on a service.",
        {
            arr("ports", c("ServicePort")).merge("port", {"port", "protocol"}),
            mapStr("selector"),
            str("clusterIP"),
            strs("clusterIPs").atomic(),
            str("type").enums({"ClusterIP", "ExternalName", "LoadBalancer", "NodePort"}),
            strs("externalIPs").atomic(),
            str("sessionAffinity").enums({"ClientIP", "None"}),
            str("loadBalancerIP"),
            strs("loadBalancerSourceRanges").atomic(),
            str("externalName"),
            str("externalTrafficPolicy").enums({"Cluster", "Local"}),
            i32("healthCheckNodePort"),
            boolean("publishNotReadyAddresses"),
            obj("sessionAffinityConfig", c("SessionAffinityConfig")),
            strs("ipFamilies").atomic(),
            str("ipFamilyPolicy").enums({"PreferDualStack", "RequireDualStack", "SingleStack"}),
            boolean("allocateLoadBalancerNodePorts"),
            str("loadBalancerClass"),
            str("internalTrafficPolicy").enums({"Cluster", "Local"}),
            str("trafficDistribution"),
        });
  m.def(kCore + "ServicePort", "ServicePort contains information on service's port.",
        {str("name"), str("protocol").enums({"SCTP", "TCP", "UDP"}), str("appProtocol"),
         i32("port").req(), ios("targetPort"), i32("nodePort")});
  m.def(kCore + "SessionAffinityConfig",
        "SessionAffinityConfig represents the configurations of "
        "session affinity.",
        {obj("clientIP", c("ClientIPConfig"))});
  m.def(kCore + "ClientIPConfig",
        "ClientIPConfig represents the configurations of Client IP based "
        "session affinity.",
        {i32("timeoutSeconds")});
  m.def(kCore + "ServiceStatus", "ServiceStatus represents the current status of a service.",
        {obj("loadBalancer", c("LoadBalancerStatus")),
         arr("conditions", m.ref(kMeta + "Condition")).merge("type")});
  m.def(kCore + "LoadBalancerStatus",
        "LoadBalancerStatus represents the status of a load-balancer.",
        {arr("ingress", c("LoadBalancerIngress")).atomic()});
  m.def(kCore + "LoadBalancerIngress",
        "LoadBalancerIngress represents the status of a "
        "load-balancer ingress point.",
        {str("ip"), str("hostname"), str("ipMode"), arr("ports", c("PortStatus")).atomic()});
  m.def(kCore + "PortStatus", "PortStatus represents the error condition of a service port",
        {i32("port").req(), str("protocol").req(), str("error")});
}

void defineEndpoints(Model& m) {
  auto c = [&](const char* n) { return m.ref(kCore + n); };
  TypeDef* ep = m.kind(kCore + "Endpoints", {"", "v1", "Endpoints"},
                       "Endpoints is a collection of endpoints that implement the actual service.",
                       {arr("subsets", c("EndpointSubset")).atomic()});
  m.list(kCore + "EndpointsList", {"", "v1", "EndpointsList"}, ep);
  m.def(kCore + "EndpointSubset",
        "EndpointSubset is a group of addresses with a common set of ports.",
        {arr("addresses", c("EndpointAddress")).atomic(),
         arr("notReadyAddresses", c("EndpointAddress")).atomic(),
         arr("ports", c("EndpointPort")).atomic()});
  m.def(
      kCore + "EndpointAddress", "EndpointAddress is a tuple that describes single IP address.",
      {str("ip").req(), str("hostname"), str("nodeName"), obj("targetRef", c("ObjectReference"))});
  m.def(kCore + "EndpointPort", "EndpointPort is a tuple that describes a single port.",
        {str("name"), i32("port").req(), str("protocol").enums({"SCTP", "TCP", "UDP"}),
         str("appProtocol")});
}

void defineNode(Model& m) {
  auto c = [&](const char* n) { return m.ref(kCore + n); };
  TypeDef* node = m.kind(kCore + "Node", {"", "v1", "Node"}, "Node is a worker node in Kubernetes.",
                         {obj("spec", c("NodeSpec")), obj("status", c("NodeStatus"))});
  m.list(kCore + "NodeList", {"", "v1", "NodeList"}, node);
  m.def(kCore + "NodeSpec", "NodeSpec describes the attributes that a node is created with.",
        {str("podCIDR"), strs("podCIDRs").strategy("merge").set(), str("providerID"),
         boolean("unschedulable"), arr("taints", c("Taint")).atomic(), any("configSource"),
         str("externalID")});
  m.def(kCore + "Taint",
        "The node this Taint is attached to has the \"effect\" on any pod that "
        "does not tolerate the Taint.",
        {str("key").req(), str("value"),
         str("effect").req().enums({"NoExecute", "NoSchedule", "PreferNoSchedule"}),
         time("timeAdded")});
  m.def(kCore + "NodeStatus", "NodeStatus is information about the current status of a node.",
        {mapQty("capacity"), mapQty("allocatable"), str("phase"),
         arr("conditions", c("NodeCondition")).merge("type"),
         arr("addresses", c("NodeAddress")).merge("type"),
         obj("daemonEndpoints", c("NodeDaemonEndpoints")), obj("nodeInfo", c("NodeSystemInfo")),
         arr("images", c("ContainerImage")).atomic(), strs("volumesInUse").atomic(),
         arr("volumesAttached", c("AttachedVolume")).atomic(), any("config"),
         arrOf("runtimeHandlers", FieldKind::kAny).atomic(), any("features")});
  m.def(kCore + "NodeCondition", "NodeCondition contains condition information for a node.",
        {str("type").req(), str("status").req(), time("lastHeartbeatTime"),
         time("lastTransitionTime"), str("reason"), str("message")});
  m.def(kCore + "NodeAddress", "NodeAddress contains information for the node's address.",
        {str("type").req(), str("address").req()});
  m.def(kCore + "NodeDaemonEndpoints",
        "NodeDaemonEndpoints lists ports opened by daemons running "
        "on the Node.",
        {obj("kubeletEndpoint", c("DaemonEndpoint"))});
  m.def(kCore + "DaemonEndpoint",
        "DaemonEndpoint contains information about a single Daemon "
        "endpoint.",
        {i32("Port").req()});
  m.def(kCore + "NodeSystemInfo",
        "NodeSystemInfo is a set of ids/uuids to uniquely identify the node.",
        {str("machineID").req(), str("systemUUID").req(), str("bootID").req(),
         str("kernelVersion").req(), str("osImage").req(), str("containerRuntimeVersion").req(),
         str("kubeletVersion").req(), str("kubeProxyVersion").req(), str("operatingSystem").req(),
         str("architecture").req(), any("swap")});
  m.def(kCore + "ContainerImage", "Describe a container image",
        {strs("names").atomic(), i64("sizeBytes")});
  m.def(kCore + "AttachedVolume", "AttachedVolume describes a volume attached to a node",
        {str("name").req(), str("devicePath").req()});
}

void defineEvent(Model& m) {
  auto c = [&](const char* n) { return m.ref(kCore + n); };
  TypeDef* ev =
      m.kind(kCore + "Event", {"", "v1", "Event"},
             "Event is a report of an event somewhere in the cluster.",
             {obj("involvedObject", c("ObjectReference")).req(), str("reason"), str("message"),
              obj("source", c("EventSource")), time("firstTimestamp"), time("lastTimestamp"),
              i32("count"), str("type"), time("eventTime").fmt("date-time"),
              obj("series", c("EventSeries")), str("action"), obj("related", c("ObjectReference")),
              str("reportingComponent"), str("reportingInstance")});
  // metadata is required for Event (as in Kubernetes).
  for (FieldDef& f : ev->fields) {
    if (f.name == "metadata") f.required = true;
  }
  m.list(kCore + "EventList", {"", "v1", "EventList"}, ev);
  m.def(kCore + "EventSource", "EventSource contains information for an event.",
        {str("component"), str("host")});
  m.def(kCore + "EventSeries", "EventSeries contain information on series of events.",
        {i32("count"), time("lastObservedTime")});
}

}  // namespace

// ConfigMap and Secret: data for pods (env, and volumes in Kubernetes).
// binaryData and a Secret's data are bytes: base64 in JSON, raw in protobuf.
void defineConfigData(Model& m) {
  TypeDef* cm = m.kind(kCore + "ConfigMap", {"", "v1", "ConfigMap"},
                       "ConfigMap holds configuration data for pods to consume.",
                       {boolean("immutable"), mapStr("data"),
                        std::move(mapOf("binaryData", FieldKind::kString)).fmt("byte")});
  m.list(kCore + "ConfigMapList", {"", "v1", "ConfigMapList"}, cm);
  TypeDef* secret = m.kind(
      kCore + "Secret", {"", "v1", "Secret"},
      "Secret holds secret data of a certain type. The total bytes of the values in the Data "
      "field must be less than MaxSecretSize bytes.",
      {boolean("immutable"), std::move(mapOf("data", FieldKind::kString)).fmt("byte"),
       mapStr("stringData"), str("type")});
  m.list(kCore + "SecretList", {"", "v1", "SecretList"}, secret);
}

// ServiceAccount: an identity for processes in pods. Its tokens come from the
// serviceaccounts/token subresource (authentication.k8s.io/v1 TokenRequest).
void defineServiceAccount(Model& m) {
  auto c = [&](const char* n) { return m.ref(kCore + n); };
  TypeDef* sa = m.kind(
      kCore + "ServiceAccount", {"", "v1", "ServiceAccount"},
      "ServiceAccount binds together: * a name, understood by users, and perhaps by peripheral "
      "systems, for an identity * a principal that can be authenticated and authorized * a set "
      "of secrets",
      {arr("secrets", c("ObjectReference")).merge("name"),
       arr("imagePullSecrets", c("LocalObjectReference")).atomic(),
       boolean("automountServiceAccountToken")});
  m.list(kCore + "ServiceAccountList", {"", "v1", "ServiceAccountList"}, sa);
}

void defineCore(Model& m) {
  auto c = [&](const char* n) { return m.ref(kCore + n); };
  TypeDef* ns =
      m.kind(kCore + "Namespace", {"", "v1", "Namespace"}, "Namespace provides a scope for Names.",
             {obj("spec", c("NamespaceSpec")), obj("status", c("NamespaceStatus"))});
  m.list(kCore + "NamespaceList", {"", "v1", "NamespaceList"}, ns);
  m.def(kCore + "NamespaceSpec", "NamespaceSpec describes the attributes on a Namespace.",
        {strs("finalizers").atomic()});
  m.def(kCore + "NamespaceStatus",
        "NamespaceStatus is information about the current status of a "
        "Namespace.",
        {str("phase").enums({"Active", "Terminating"}),
         arr("conditions", c("NamespaceCondition")).merge("type")});
  m.def(kCore + "NamespaceCondition",
        "NamespaceCondition contains details about state of "
        "namespace.",
        {str("type").req(), str("status").req(), time("lastTransitionTime"), str("reason"),
         str("message")});

  m.def(kCore + "ObjectReference",
        "ObjectReference contains enough information to let you "
        "inspect or modify the referred object.",
        {str("kind"), str("namespace"), str("name"), str("uid"), str("apiVersion"),
         str("resourceVersion"), str("fieldPath")});
  m.kind(kCore + "Binding", {"", "v1", "Binding"},
         "Binding ties one object to another; for example, a pod is bound to a node by a "
         "scheduler.",
         {obj("target", c("ObjectReference")).req()});

  defineService(m);
  defineEndpoints(m);
  defineConfigData(m);
  defineServiceAccount(m);
  defineNode(m);
  defineEvent(m);
}

}  // namespace skiff::api::model
