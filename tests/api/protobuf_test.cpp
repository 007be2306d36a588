// Kubernetes protobuf decoding: bodies built by a tiny encoder here, with field
// numbers written out by hand from Kubernetes' generated.proto files (not taken
// from the decoder's tables), for every kind skiff serves, plus the proto2 zero
// values Go writes, pointer zeros that must survive, and the errors.
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>

#include "api/json.h"
#include "api/protobuf.h"

using namespace skiff;
using namespace skiff::api;

namespace {

// A protobuf message under construction.
class Msg {
 public:
  Msg& str(int field, const std::string& s) {
    key(field, 2);
    varint(s.size());
    b_ += s;
    return *this;
  }
  // int32, int64 and bool: varints; negative values as 64-bit two's complement.
  Msg& num(int field, int64_t v) {
    key(field, 0);
    varint(static_cast<uint64_t>(v));
    return *this;
  }
  Msg& flag(int field, bool v) { return num(field, v ? 1 : 0); }
  Msg& msg(int field, const Msg& m) { return str(field, m.b_); }
  // map<string, string> entry.
  Msg& entry(int field, const std::string& k, const std::string& v) {
    return msg(field, Msg().str(1, k).str(2, v));
  }
  // map<string, Quantity> entry.
  Msg& qtyEntry(int field, const std::string& k, const std::string& v) {
    return msg(field, Msg().str(1, k).msg(2, Msg().str(1, v)));
  }
  Msg& packed(int field, std::initializer_list<int64_t> vs) {
    Msg inner;
    for (int64_t v : vs) inner.varint(static_cast<uint64_t>(v));
    return str(field, inner.b_);
  }
  const std::string& bytes() const { return b_; }

 private:
  void key(int field, int wt) { varint((static_cast<uint64_t>(field) << 3) | wt); }
  void varint(uint64_t v) {
    while (v >= 0x80) {
      b_.push_back(static_cast<char>((v & 0x7f) | 0x80));
      v >>= 7;
    }
    b_.push_back(static_cast<char>(v));
  }
  std::string b_;
};

// metav1.Time / MicroTime {1 seconds, 2 nanos}; Go's zero time is seconds -62135596800.
Msg timeMsg(int64_t seconds, int64_t nanos = 0) {
  return Msg().num(1, seconds).num(2, nanos);
}
const Msg kZeroTime = timeMsg(-62135596800);
// intstr.IntOrString {1 type, 2 intVal, 3 strVal}; gogo writes all three.
Msg intVal(int v) {
  return Msg().num(1, 0).num(2, v).str(3, "");
}
Msg strVal(const std::string& s) {
  return Msg().num(1, 1).num(2, 0).str(3, s);
}
Msg qty(const std::string& s) {
  return Msg().str(1, s);
}

// ObjectMeta as gogo writes it for a fresh object: every non-pointer field,
// zero or not (1 name, 2 generateName, 3 namespace, 4 selfLink, 5 uid,
// 6 resourceVersion, 7 generation, 8 creationTimestamp, 11 labels).
Msg meta(const std::string& name, const std::string& ns = "",
         std::initializer_list<std::pair<std::string, std::string>> labels = {}) {
  Msg m;
  m.str(1, name).str(2, "").str(3, ns).str(4, "").str(5, "").str(6, "").num(7, 0).msg(8, kZeroTime);
  for (const auto& [k, v] : labels) m.entry(11, k, v);
  return m;
}

// runtime.Unknown {1 typeMeta {1 apiVersion, 2 kind}, 2 raw, 3 contentEncoding,
// 4 contentType} after the magic.
std::string envelope(const std::string& apiVersion, const std::string& kind, const Msg& raw) {
  Msg u;
  u.msg(1, Msg().str(1, apiVersion).str(2, kind)).msg(2, raw).str(3, "").str(4, "");
  return std::string("k8s\0", 4) + u.bytes();
}

Json decode(const std::string& body) {
  auto r = decodeProtobuf(body);
  if (!r) FAIL(r.error().message);
  return *r;
}

Json json(const std::string& s) {
  auto r = parseJson(s);
  REQUIRE(r.ok());
  return *r;
}

}  // namespace

TEST_CASE("protobuf tables agree with the type model", "[protobuf]") {
  auto st = checkProtobufTables();
  INFO((st ? std::string() : st.error().message));
  CHECK(st.ok());
}

TEST_CASE("isProtobufContentType reads the media type", "[protobuf]") {
  CHECK(isProtobufContentType("application/vnd.kubernetes.protobuf"));
  CHECK(isProtobufContentType("application/vnd.kubernetes.protobuf; charset=utf-8"));
  CHECK_FALSE(isProtobufContentType("application/json"));
  CHECK_FALSE(isProtobufContentType(""));
}

TEST_CASE("protobuf Namespace as kubectl create namespace sends it", "[protobuf]") {
  // Namespace {1 metadata, 2 spec, 3 status}; NamespaceSpec {1 finalizers};
  // NamespaceStatus {1 phase}.
  Msg ns;
  ns.msg(1, meta("foo", "", {{"team", "a"}})).msg(2, Msg()).msg(3, Msg().str(1, ""));
  CHECK(decode(envelope("v1", "Namespace", ns)) == json(R"({
    "apiVersion": "v1", "kind": "Namespace",
    "metadata": {"name": "foo", "labels": {"team": "a"}},
    "spec": {}, "status": {}})"));

  Msg withFinalizers;
  withFinalizers.msg(1, meta("bar")).msg(2, Msg().str(1, "kubernetes").str(1, "example.com/x"));
  CHECK(decode(envelope("v1", "Namespace", withFinalizers))["spec"]["finalizers"] ==
        json(R"(["kubernetes", "example.com/x"])"));
}

TEST_CASE("protobuf Service of every type kubectl create service builds", "[protobuf]") {
  // ServicePort {1 name, 2 protocol, 3 port, 4 targetPort, 5 nodePort, 6 appProtocol};
  // ServiceSpec {1 ports, 2 selector, 3 clusterIP, 4 type, 7 sessionAffinity,
  // 10 externalName, 13 publishNotReadyAddresses}; ServiceStatus {1 loadBalancer}.
  Msg port;
  port.str(1, "80-8080").str(2, "TCP").num(3, 80).msg(4, intVal(8080)).num(5, 30080);
  Msg spec;
  spec.msg(1, port)
      .entry(2, "app", "s2")
      .str(3, "")
      .str(4, "NodePort")
      .str(7, "")
      .str(10, "")
      .flag(13, false);
  Msg svc;
  svc.msg(1, meta("s2", "", {{"app", "s2"}})).msg(2, spec).msg(3, Msg().msg(1, Msg()));
  CHECK(decode(envelope("v1", "Service", svc)) == json(R"({
    "apiVersion": "v1", "kind": "Service",
    "metadata": {"name": "s2", "labels": {"app": "s2"}},
    "spec": {"ports": [{"name": "80-8080", "protocol": "TCP", "port": 80,
                        "targetPort": 8080, "nodePort": 30080}],
             "selector": {"app": "s2"}, "type": "NodePort"},
    "status": {"loadBalancer": {}}})"));

  // ExternalName, a named target port, and pointer fields kept even when false.
  Msg ext;
  ext.msg(1, meta("s3"))
      .msg(2, Msg()
                  .msg(1, Msg().str(1, "web").num(3, 80).msg(4, strVal("http")).num(5, 0))
                  .str(4, "ExternalName")
                  .str(10, "example.com")
                  .flag(20, false)
                  .str(22, "Cluster")
                  .msg(14, Msg().msg(1, Msg().num(1, 0))));
  Json e = decode(envelope("v1", "Service", ext));
  CHECK(e["spec"]["externalName"] == "example.com");
  CHECK(e["spec"]["ports"][0] == json(R"({"name": "web", "port": 80, "targetPort": "http"})"));
  CHECK(e["spec"]["allocateLoadBalancerNodePorts"] == false);
  CHECK(e["spec"]["internalTrafficPolicy"] == "Cluster");
  CHECK(e["spec"]["sessionAffinityConfig"] == json(R"({"clientIP": {"timeoutSeconds": 0}})"));
}

TEST_CASE("protobuf Deployment as kubectl create deployment builds it", "[protobuf]") {
  // Container {1 name, 2 image, 6 ports, 8 resources, 13 terminationMessagePath,
  // 14 imagePullPolicy, 16 stdin}; ContainerPort {1 name, 2 hostPort,
  // 3 containerPort, 4 protocol, 5 hostIP}; PodSpec {2 containers, 3 restartPolicy,
  // 10 nodeName, 11 hostNetwork}; PodTemplateSpec {1 metadata, 2 spec};
  // LabelSelector {1 matchLabels}; DeploymentSpec {1 replicas, 2 selector,
  // 3 template, 4 strategy, 5 minReadySeconds, 6 revisionHistoryLimit, 7 paused}.
  Msg container;
  container.str(1, "busybox")
      .str(2, "busybox")
      .msg(6, Msg().str(1, "").num(2, 0).num(3, 8080).str(4, "TCP").str(5, ""))
      .msg(8, Msg())
      .str(13, "")
      .str(14, "")
      .flag(16, false);
  Msg podSpec;
  podSpec.msg(2, container).str(3, "").str(10, "").flag(11, false);
  Msg spec;
  spec.num(1, 2)
      .msg(2, Msg().entry(1, "app", "d1"))
      .msg(3, Msg().msg(1, meta("", "", {{"app", "d1"}})).msg(2, podSpec))
      .msg(4, Msg().str(1, ""))
      .num(5, 0)
      .flag(7, false);
  Msg dep;
  dep.msg(1, meta("d1", "", {{"app", "d1"}})).msg(2, spec).msg(3, Msg().num(2, 0));
  CHECK(decode(envelope("apps/v1", "Deployment", dep)) == json(R"({
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "d1", "labels": {"app": "d1"}},
    "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "d1"}},
             "template": {"metadata": {"labels": {"app": "d1"}},
                          "spec": {"containers": [{"name": "busybox", "image": "busybox",
                                                   "ports": [{"containerPort": 8080,
                                                              "protocol": "TCP"}],
                                                   "resources": {}}]}},
             "strategy": {}},
    "status": {}})"));

  // Pointer fields keep an explicit zero: replicas 0 is not "unset" (1).
  Msg zero;
  zero.msg(1, meta("d0"))
      .msg(
          2,
          Msg().num(1, 0).num(6, 0).msg(
              4,
              Msg().str(1, "RollingUpdate").msg(2, Msg().msg(1, intVal(0)).msg(2, strVal("25%")))));
  Json z = decode(envelope("apps/v1", "Deployment", zero));
  CHECK(z["spec"]["replicas"] == 0);
  CHECK(z["spec"]["revisionHistoryLimit"] == 0);
  CHECK(
      z["spec"]["strategy"] ==
      json(
          R"({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": "25%"}})"));
}

TEST_CASE("protobuf ReplicaSet", "[protobuf]") {
  // ReplicaSetSpec {1 replicas, 2 selector, 3 template, 4 minReadySeconds};
  // LabelSelectorRequirement {1 key, 2 operator, 3 values}.
  Msg selector;
  selector.entry(1, "app", "r")
      .msg(2, Msg().str(1, "tier").str(2, "In").str(3, "web").str(3, "api"));
  Msg rs;
  rs.msg(1, meta("r1", "ns1"))
      .msg(2, Msg()
                  .num(1, 3)
                  .num(4, 5)
                  .msg(2, selector)
                  .msg(3, Msg()
                              .msg(1, meta(""))
                              .msg(2, Msg().msg(2, Msg().str(1, "c").str(2, "busybox")))));
  Json j = decode(envelope("apps/v1", "ReplicaSet", rs));
  CHECK(j["metadata"] == json(R"({"name": "r1", "namespace": "ns1"})"));
  CHECK(j["spec"]["replicas"] == 3);
  CHECK(j["spec"]["minReadySeconds"] == 5);
  CHECK(j["spec"]["selector"] == json(R"({"matchLabels": {"app": "r"},
      "matchExpressions": [{"key": "tier", "operator": "In", "values": ["web", "api"]}]})"));
  CHECK(j["spec"]["template"] ==
        json(R"({"metadata": {}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}})"));
}

TEST_CASE("protobuf Pod with the whole PodSpec vocabulary", "[protobuf]") {
  // Volume {1 name, VolumeSource inline at 2: 2 emptyDir, 19 configMap, 26 projected};
  // EmptyDirVolumeSource {1 medium, 2 sizeLimit}; ConfigMapVolumeSource
  // {LocalObjectReference inline at 1 {1 name}, 2 items, 3 defaultMode};
  // KeyToPath {1 key, 2 path, 3 mode}.
  Msg volumes[2];
  volumes[0].str(1, "scratch").msg(2, Msg().msg(2, Msg().str(1, "Memory").msg(2, qty("64Mi"))));
  volumes[1].str(1, "cfg").msg(2, Msg().msg(19, Msg()
                                                    .msg(1, Msg().str(1, "app-config"))
                                                    .msg(2, Msg().str(1, "k").str(2, "k.txt"))
                                                    .num(3, 0420)));
  // EnvVar {1 name, 2 value, 3 valueFrom}; EnvVarSource {1 fieldRef, 3 configMapKeyRef};
  // ConfigMapKeySelector {LocalObjectReference inline at 1, 2 key, 3 optional};
  // ObjectFieldSelector {1 apiVersion, 2 fieldPath}.
  Msg env1, env2;
  env1.str(1, "MODE").str(2, "fast");
  env2.str(1, "LEVEL")
      .str(2, "")
      .msg(3, Msg()
                  .msg(3, Msg().msg(1, Msg().str(1, "app-config")).str(2, "level").flag(3, false))
                  .msg(1, Msg().str(1, "v1").str(2, "metadata.name")));
  // Probe {ProbeHandler inline at 1 {1 exec, 2 httpGet, 3 tcpSocket}, 2 initialDelaySeconds,
  // 4 periodSeconds, 6 failureThreshold}; HTTPGetAction {1 path, 2 port, 4 scheme,
  // 5 httpHeaders}; TCPSocketAction {1 port}.
  Msg liveness;
  liveness
      .msg(1, Msg().msg(2, Msg()
                               .str(1, "/healthz")
                               .msg(2, strVal("http"))
                               .str(4, "HTTP")
                               .msg(5, Msg().str(1, "X-Probe").str(2, "1"))))
      .num(2, 3)
      .num(4, 0)
      .num(6, 3);
  Msg readiness;
  readiness.msg(1, Msg().msg(3, Msg().msg(1, intVal(8080)))).num(2, 0);
  // SecurityContext {1 capabilities {1 add, 2 drop}, 2 privileged, 4 runAsUser,
  // 5 runAsNonRoot, 7 allowPrivilegeEscalation}; ResourceRequirements {1 limits, 2 requests};
  // VolumeMount {1 name, 2 readOnly, 3 mountPath}; Lifecycle {2 preStop}
  // LifecycleHandler {1 exec {1 command}, 4 sleep {1 seconds}}.
  Msg container;
  container.str(1, "app")
      .str(2, "busybox:1.36")
      .str(3, "sh")
      .str(3, "-c")
      .str(4, "sleep 3600")
      .msg(6, Msg().str(1, "http").num(3, 8080).str(4, "TCP"))
      .msg(7, env1)
      .msg(7, env2)
      .msg(8, Msg().qtyEntry(1, "cpu", "500m").qtyEntry(2, "memory", "64Mi"))
      .msg(9, Msg().str(1, "cfg").flag(2, true).str(3, "/etc/cfg"))
      .msg(10, liveness)
      .msg(11, readiness)
      .msg(12, Msg().msg(2, Msg().msg(4, Msg().num(1, 5))))
      .msg(
          15,
          Msg().msg(1, Msg().str(2, "ALL")).flag(2, false).num(4, 0).flag(5, false).flag(7, false));
  Msg init;
  init.str(1, "setup").str(2, "busybox").msg(12, Msg().msg(1, Msg().msg(1, Msg().str(1, "true"))));
  // Affinity {1 nodeAffinity {1 required {1 nodeSelectorTerms {1 matchExpressions}}},
  // 3 podAntiAffinity {2 preferred {1 weight, 2 podAffinityTerm {1 labelSelector,
  // 3 topologyKey}}}}; Toleration {1 key, 2 operator, 4 effect, 5 tolerationSeconds};
  // PodSecurityContext {2 runAsUser, 4 supplementalGroups, 5 fsGroup, 7 sysctls};
  // PodDNSConfig {1 nameservers, 3 options {1 name, 2 value}}; HostAlias {1 ip, 2 hostnames}.
  Msg affinity;
  affinity
      .msg(1, Msg().msg(
                  1, Msg().msg(
                         1, Msg().msg(
                                1, Msg().str(1, "kubernetes.io/os").str(2, "In").str(3, "linux")))))
      .msg(3, Msg().msg(2, Msg().num(1, 50).msg(2, Msg()
                                                       .msg(1, Msg().entry(1, "app", "web"))
                                                       .str(3, "kubernetes.io/hostname"))));
  Msg podSpec;
  podSpec.msg(1, volumes[0])
      .msg(1, volumes[1])
      .msg(20, init)
      .msg(2, container)
      .str(3, "Always")
      .num(4, 0)
      .str(6, "ClusterFirst")
      .entry(7, "disk", "ssd")
      .str(8, "default")
      .flag(21, false)
      .str(10, "")
      .flag(11, false)
      .msg(14, Msg()
                   .num(2, 1000)
                   .packed(4, {2000, 3000})
                   .num(4, 4000)
                   .num(5, 2000)
                   .msg(7, Msg().str(1, "net.ipv4.ip_unprivileged_port_start").str(2, "0")))
      .msg(18, affinity)
      .str(19, "default-scheduler")
      .msg(22, Msg()
                   .str(1, "node.kubernetes.io/not-ready")
                   .str(2, "Exists")
                   .str(4, "NoExecute")
                   .num(5, 300))
      .msg(23, Msg().str(1, "10.0.0.1").str(2, "db.local"))
      .msg(26, Msg().str(1, "1.1.1.1").msg(3, Msg().str(1, "ndots").str(2, "2")))
      .flag(30, true);
  Msg pod;
  pod.msg(1, meta("web", "default", {{"app", "web"}}))
      .msg(2, podSpec)
      .msg(3, Msg().str(1, "").str(9, ""));
  Json j = decode(envelope("v1", "Pod", pod));
  CHECK(j["metadata"] ==
        json(R"({"name": "web", "namespace": "default", "labels": {"app": "web"}})"));
  CHECK(j["status"] == Json::object());
  const Json& s = j["spec"];
  CHECK(s["volumes"] == json(R"([
    {"name": "scratch", "emptyDir": {"medium": "Memory", "sizeLimit": "64Mi"}},
    {"name": "cfg", "configMap": {"name": "app-config", "items": [{"key": "k", "path": "k.txt"}],
                                  "defaultMode": 272}}])"));
  CHECK(s["initContainers"] == json(R"([{"name": "setup", "image": "busybox",
      "lifecycle": {"postStart": {"exec": {"command": ["true"]}}}}])"));
  CHECK(s["containers"][0] == json(R"({
    "name": "app", "image": "busybox:1.36", "command": ["sh", "-c"], "args": ["sleep 3600"],
    "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
    "env": [{"name": "MODE", "value": "fast"},
            {"name": "LEVEL", "valueFrom": {
               "configMapKeyRef": {"name": "app-config", "key": "level", "optional": false},
               "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}}],
    "resources": {"limits": {"cpu": "500m"}, "requests": {"memory": "64Mi"}},
    "volumeMounts": [{"name": "cfg", "readOnly": true, "mountPath": "/etc/cfg"}],
    "livenessProbe": {"httpGet": {"path": "/healthz", "port": "http", "scheme": "HTTP",
                                  "httpHeaders": [{"name": "X-Probe", "value": "1"}]},
                      "initialDelaySeconds": 3, "failureThreshold": 3},
    "readinessProbe": {"tcpSocket": {"port": 8080}},
    "lifecycle": {"preStop": {"sleep": {"seconds": 5}}},
    "securityContext": {"capabilities": {"drop": ["ALL"]}, "privileged": false, "runAsUser": 0,
                        "runAsNonRoot": false, "allowPrivilegeEscalation": false}})"));
  CHECK(s["restartPolicy"] == "Always");
  CHECK(s["terminationGracePeriodSeconds"] == 0);
  CHECK(s["automountServiceAccountToken"] == false);
  CHECK(s["enableServiceLinks"] == true);
  CHECK_FALSE(s.contains("nodeName"));
  CHECK_FALSE(s.contains("hostNetwork"));
  CHECK(s["nodeSelector"] == json(R"({"disk": "ssd"})"));
  CHECK(s["securityContext"] ==
        json(R"({"runAsUser": 1000, "supplementalGroups": [2000, 3000, 4000],
      "fsGroup": 2000, "sysctls": [{"name": "net.ipv4.ip_unprivileged_port_start", "value": "0"}]})"));
  CHECK(s["affinity"] == json(R"({
    "nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
      {"matchExpressions": [{"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]}]}]}},
    "podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
      {"weight": 50, "podAffinityTerm": {"labelSelector": {"matchLabels": {"app": "web"}},
                                         "topologyKey": "kubernetes.io/hostname"}}]}})"));
  CHECK(s["tolerations"] == json(R"([{"key": "node.kubernetes.io/not-ready", "operator": "Exists",
      "effect": "NoExecute", "tolerationSeconds": 300}])"));
  CHECK(s["hostAliases"] == json(R"([{"ip": "10.0.0.1", "hostnames": ["db.local"]}])"));
  CHECK(s["dnsConfig"] ==
        json(R"({"nameservers": ["1.1.1.1"], "options": [{"name": "ndots", "value": "2"}]})"));
}

TEST_CASE("protobuf Endpoints", "[protobuf]") {
  // EndpointSubset {1 addresses, 2 notReadyAddresses, 3 ports}; EndpointAddress {1 ip,
  // 2 targetRef, 3 hostname, 4 nodeName}; ObjectReference {1 kind, 2 namespace, 3 name};
  // EndpointPort {1 name, 2 port, 3 protocol}.
  Msg subset;
  subset
      .msg(1, Msg()
                  .str(1, "10.244.0.5")
                  .str(3, "")
                  .str(4, "node1")
                  .msg(2, Msg().str(1, "Pod").str(2, "default").str(3, "web-1")))
      .msg(2, Msg().str(1, "10.244.0.6"))
      .msg(3, Msg().str(1, "http").num(2, 8080).str(3, "TCP"));
  Msg ep;
  ep.msg(1, meta("web", "default")).msg(2, subset);
  CHECK(decode(envelope("v1", "Endpoints", ep)) == json(R"({
    "apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "web", "namespace": "default"},
    "subsets": [{"addresses": [{"ip": "10.244.0.5", "nodeName": "node1",
                                "targetRef": {"kind": "Pod", "namespace": "default", "name": "web-1"}}],
                 "notReadyAddresses": [{"ip": "10.244.0.6"}],
                 "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]}]})"));
}

TEST_CASE("protobuf Node with times and quantities", "[protobuf]") {
  // NodeSpec {1 podCIDR, 4 unschedulable, 5 taints {1 key, 3 effect, 4 timeAdded}};
  // NodeStatus {1 capacity, 4 conditions {1 type, 2 status, 3 lastHeartbeatTime,
  // 4 lastTransitionTime}, 5 addresses {1 type, 2 address}, 7 nodeInfo {9 operatingSystem}}.
  Msg node;
  node.msg(1, meta("node1"))
      .msg(2,
           Msg()
               .str(1, "10.244.0.0/24")
               .flag(4, true)
               .msg(5, Msg().str(1, "dedicated").str(3, "NoSchedule").msg(4, timeMsg(1700000000))))
      .msg(3, Msg()
                  .qtyEntry(1, "cpu", "4")
                  .qtyEntry(1, "memory", "8Gi")
                  .msg(4, Msg()
                              .str(1, "Ready")
                              .str(2, "True")
                              .msg(3, timeMsg(1700000060, 5))
                              .msg(4, kZeroTime))
                  .msg(5, Msg().str(1, "InternalIP").str(2, "10.0.0.2"))
                  .msg(7, Msg().str(9, "linux")));
  Json j = decode(envelope("v1", "Node", node));
  CHECK(j["spec"] == json(R"({"podCIDR": "10.244.0.0/24", "unschedulable": true,
      "taints": [{"key": "dedicated", "effect": "NoSchedule", "timeAdded": "2023-11-14T22:13:20Z"}]})"));
  CHECK(j["status"]["capacity"] == json(R"({"cpu": "4", "memory": "8Gi"})"));
  // Time drops sub-second precision, as metav1.Time's JSON does; a zero time is absent.
  CHECK(
      j["status"]["conditions"] ==
      json(
          R"([{"type": "Ready", "status": "True", "lastHeartbeatTime": "2023-11-14T22:14:20Z"}])"));
  CHECK(j["status"]["addresses"] == json(R"([{"type": "InternalIP", "address": "10.0.0.2"}])"));
  CHECK(j["status"]["nodeInfo"] == json(R"({"operatingSystem": "linux"})"));
}

TEST_CASE("protobuf Event with a MicroTime", "[protobuf]") {
  // Event {2 involvedObject, 3 reason, 4 message, 5 source {1 component}, 6 firstTimestamp,
  // 8 count, 9 type, 10 eventTime (MicroTime), 14 reportingComponent}.
  Msg ev;
  ev.msg(1, meta("web.1", "default"))
      .msg(2, Msg().str(1, "Pod").str(2, "default").str(3, "web"))
      .str(3, "Started")
      .str(4, "Started container app")
      .msg(5, Msg().str(1, "kubelet"))
      .msg(6, timeMsg(1700000000))
      .num(8, 2)
      .str(9, "Normal")
      .msg(10, timeMsg(1700000000, 123456789))
      .str(14, "kubelet");
  Json j = decode(envelope("v1", "Event", ev));
  CHECK(j["involvedObject"] == json(R"({"kind": "Pod", "namespace": "default", "name": "web"})"));
  CHECK(j["firstTimestamp"] == "2023-11-14T22:13:20Z");
  CHECK(j["eventTime"] == "2023-11-14T22:13:20.123456Z");
  CHECK(j["count"] == 2);
  CHECK(j["source"] == json(R"({"component": "kubelet"})"));
  CHECK(j["reportingComponent"] == "kubelet");
}

TEST_CASE("protobuf DeleteOptions keeps a zero grace period", "[protobuf]") {
  // DeleteOptions {1 gracePeriodSeconds, 2 preconditions {1 uid}, 4 propagationPolicy, 5 dryRun}.
  Msg opts;
  opts.num(1, 0).msg(2, Msg().str(1, "abc")).str(4, "Foreground").str(5, "All");
  CHECK(decode(envelope("v1", "DeleteOptions", opts)) == json(R"({
    "apiVersion": "v1", "kind": "DeleteOptions", "gracePeriodSeconds": 0,
    "preconditions": {"uid": "abc"}, "propagationPolicy": "Foreground", "dryRun": ["All"]})"));
}

TEST_CASE("protobuf negative int32 and fields in any order", "[protobuf]") {
  // ContainerStateTerminated {1 exitCode (int32), 2 signal}: a negative int32 is a
  // ten-byte varint; fields may come in any order and repeat (the last wins).
  Msg pod;
  pod.msg(1, meta("p"))
      .msg(3, Msg().msg(8, Msg().str(1, "c").msg(2, Msg().msg(3, Msg().num(2, 9).num(1, -1)))));
  Json j = decode(envelope("v1", "Pod", pod));
  CHECK(j["status"]["containerStatuses"][0]["state"]["terminated"] ==
        json(R"({"exitCode": -1, "signal": 9})"));
}

TEST_CASE("protobuf errors name what could not be read", "[protobuf]") {
  SECTION("an unknown field number names the message and the path") {
    Msg pod;
    pod.msg(1, meta("p")).msg(2, Msg().msg(2, Msg().str(1, "c")).str(99, "x"));
    auto r = decodeProtobuf(envelope("v1", "Pod", pod));
    REQUIRE(!r.ok());
    CHECK(r.error().code == Code::kUnsupportedMediaType);
    CHECK_THAT(r.error().message,
               Catch::Contains("protobuf field 99 of io.k8s.api.core.v1.PodSpec at spec") &&
                   Catch::Contains("send the object as JSON"));
  }
  SECTION("a deeper unknown field") {
    Msg dep;
    dep.msg(1, meta("d"))
        .msg(2, Msg().msg(3, Msg().msg(2, Msg().msg(2, Msg().str(1, "c").str(77, "x")))));
    auto r = decodeProtobuf(envelope("apps/v1", "Deployment", dep));
    REQUIRE(!r.ok());
    CHECK_THAT(r.error().message, Catch::Contains("field 77 of io.k8s.api.core.v1.Container at "
                                                  "spec.template.spec.containers[0]"));
  }
  SECTION("a field skiff's model holds as free-form JSON") {
    Msg node;
    node.msg(1, meta("n")).msg(2, Msg().msg(6, Msg()));
    auto r = decodeProtobuf(envelope("v1", "Node", node));
    REQUIRE(!r.ok());
    CHECK(r.error().code == Code::kUnsupportedMediaType);
    CHECK_THAT(r.error().message, Catch::Contains("spec.configSource"));
  }
  SECTION("a kind skiff does not serve") {
    auto r = decodeProtobuf(envelope("v1", "PersistentVolumeClaim", Msg().msg(1, meta("c"))));
    REQUIRE(!r.ok());
    CHECK(r.error().code == Code::kUnsupportedMediaType);
    CHECK_THAT(r.error().message, Catch::Contains("\"PersistentVolumeClaim\""));
  }
  SECTION("no magic") {
    auto r = decodeProtobuf("{\"kind\": \"Pod\"}");
    REQUIRE(!r.ok());
    CHECK(r.error().code == Code::kBadRequest);
    CHECK_THAT(r.error().message, Catch::Contains("magic"));
  }
  SECTION("truncated anywhere") {
    Msg u;  // typeMeta and raw only, so no prefix is a whole envelope
    u.msg(1, Msg().str(1, "v1").str(2, "Namespace")).msg(2, Msg().msg(1, meta("foo")));
    std::string body = std::string("k8s\0", 4) + u.bytes();
    REQUIRE(decodeProtobuf(body).ok());
    for (size_t cut = 0; cut < body.size(); ++cut) {
      INFO("cut at " << cut);
      auto r = decodeProtobuf(body.substr(0, cut));
      REQUIRE(!r.ok());
      CHECK(r.error().code == Code::kBadRequest);
    }
  }
  SECTION("wrong wire type") {
    Msg ns;
    ns.msg(1, Msg().num(1, 5));  // name as a varint
    auto r = decodeProtobuf(envelope("v1", "Namespace", ns));
    REQUIRE(!r.ok());
    CHECK(r.error().code == Code::kBadRequest);
    CHECK_THAT(r.error().message, Catch::Contains("metadata.name"));
  }
  SECTION("invalid UTF-8 in a string") {
    Msg ns;
    ns.msg(1, Msg().str(1, std::string("\xc3\x28", 2)));
    auto r = decodeProtobuf(envelope("v1", "Namespace", ns));
    REQUIRE(!r.ok());
    CHECK(r.error().code == Code::kBadRequest);
  }
  SECTION("a compressed body") {
    Msg u;
    u.msg(1, Msg().str(1, "v1").str(2, "Namespace")).str(2, "").str(3, "gzip");
    auto r = decodeProtobuf(std::string("k8s\0", 4) + u.bytes());
    REQUIRE(!r.ok());
    CHECK(r.error().code == Code::kUnsupportedMediaType);
  }
}

TEST_CASE("decodeProtobufMessage reads a bare message of a model type", "[protobuf]") {
  // ServicePort {1 name, 2 protocol, 3 port, 4 targetPort}, no envelope.
  auto r = decodeProtobufMessage(
      Msg().str(1, "dns").str(2, "UDP").num(3, 53).msg(4, intVal(5353)).bytes(),
      "io.k8s.api.core.v1.ServicePort");
  REQUIRE(r.ok());
  CHECK(*r == json(R"({"name": "dns", "protocol": "UDP", "port": 53, "targetPort": 5353})"));
  auto unknown = decodeProtobufMessage("", "io.k8s.api.core.v1.NoSuchType");
  REQUIRE(!unknown.ok());
  CHECK(unknown.error().code == Code::kUnsupportedMediaType);
}

TEST_CASE("protobuf: ConfigMap and Secret, bytes as base64", "[protobuf]") {
  // kubectl create configmap / secret send these (typed clients, protobuf).
  auto cm = decodeProtobuf(envelope("v1", "ConfigMap",
                                    Msg()
                                        .msg(1, meta("app"))
                                        .entry(2, "mode", "fast")
                                        .entry(3, "blob", std::string("\x00\x01\xff", 3))
                                        .flag(4, true)));
  REQUIRE(cm);
  CHECK((*cm)["data"] == Json{{"mode", "fast"}});
  CHECK((*cm)["binaryData"] == Json{{"blob", "AAH/"}});
  CHECK((*cm)["immutable"] == true);
  auto secret = decodeProtobuf(envelope(
      "v1", "Secret",
      Msg().msg(1, meta("creds")).entry(2, "token", "s3cr=t").str(3, "Opaque").entry(4, "x", "y")));
  REQUIRE(secret);
  CHECK((*secret)["data"] == Json{{"token", "czNjcj10"}});
  CHECK((*secret)["type"] == "Opaque");
  CHECK((*secret)["stringData"] == Json{{"x", "y"}});
}

TEST_CASE("protobuf: ServiceAccount and TokenRequest", "[protobuf]") {
  // kubectl create serviceaccount / create token send these. ServiceAccount {1
  // metadata, 2 secrets, 3 imagePullSecrets, 4 automountServiceAccountToken};
  // TokenRequest {1 metadata, 2 spec, 3 status}; TokenRequestSpec {1 audiences,
  // 4 expirationSeconds, 3 boundObjectRef}; BoundObjectReference {1 kind,
  // 2 apiVersion, 3 name, 4 uid}.
  auto sa = decodeProtobuf(envelope("v1", "ServiceAccount",
                                    Msg()
                                        .msg(1, meta("builder"))
                                        .msg(2, Msg().str(1, "Secret").str(3, "tok"))
                                        .msg(3, Msg().str(1, "regcred"))
                                        .flag(4, false)));
  REQUIRE(sa);
  CHECK((*sa)["secrets"] == json(R"([{"kind": "Secret", "name": "tok"}])"));
  CHECK((*sa)["imagePullSecrets"] == json(R"([{"name": "regcred"}])"));
  CHECK((*sa)["automountServiceAccountToken"] == false);  // a pointer: its zero is kept

  auto tr = decodeProtobuf(
      envelope("authentication.k8s.io/v1", "TokenRequest",
               Msg().msg(1, Msg()).msg(
                   2, Msg()
                          .str(1, "api")
                          .str(1, "vault")
                          .num(4, 3607)
                          .msg(3, Msg().str(1, "Pod").str(2, "v1").str(3, "p").str(4, "u-1")))));
  REQUIRE(tr);
  CHECK((*tr)["apiVersion"] == "authentication.k8s.io/v1");
  CHECK((*tr)["kind"] == "TokenRequest");
  CHECK((*tr)["spec"] == json(R"({"audiences": ["api", "vault"], "expirationSeconds": 3607,
      "boundObjectRef": {"kind": "Pod", "apiVersion": "v1", "name": "p", "uid": "u-1"}})"));
}
