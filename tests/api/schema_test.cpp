// The type model: every kind skiff serves is there, every referenced type is
// defined, and the strategic-merge metadata matches Kubernetes' struct tags.
#include <catch2/catch.hpp>

#include "api/schema.h"

namespace skiff::api {
std::vector<std::string> undefinedTypesForTest();
}

using namespace skiff::api;

namespace {
const FieldDef& fieldOf(const std::string& type, const std::string& field) {
  const TypeDef* t = findType(type);
  REQUIRE(t != nullptr);
  const FieldDef* f = t->field(field);
  INFO(type << "." << field);
  REQUIRE(f != nullptr);
  return *f;
}
}  // namespace

TEST_CASE("every served kind has a type with TypeMeta and metadata", "[schema]") {
  const std::vector<GroupVersionKind> kinds = {{"", "v1", "Namespace"},
                                               {"", "v1", "NamespaceList"},
                                               {"", "v1", "Pod"},
                                               {"", "v1", "PodList"},
                                               {"", "v1", "Service"},
                                               {"", "v1", "ServiceList"},
                                               {"", "v1", "Endpoints"},
                                               {"", "v1", "EndpointsList"},
                                               {"", "v1", "ConfigMap"},
                                               {"", "v1", "ConfigMapList"},
                                               {"", "v1", "Secret"},
                                               {"", "v1", "SecretList"},
                                               {"", "v1", "Node"},
                                               {"", "v1", "NodeList"},
                                               {"", "v1", "Event"},
                                               {"", "v1", "EventList"},
                                               {"", "v1", "Binding"},
                                               {"apps", "v1", "Deployment"},
                                               {"apps", "v1", "DeploymentList"},
                                               {"apps", "v1", "ReplicaSet"},
                                               {"apps", "v1", "ReplicaSetList"},
                                               {"autoscaling", "v1", "Scale"},
                                               {"", "v1", "Status"},
                                               {"", "v1", "DeleteOptions"}};
  for (const auto& gvk : kinds) {
    INFO(gvk.apiVersion() << " " << gvk.kind);
    const TypeDef* t = typeForKind(gvk);
    REQUIRE(t != nullptr);
    CHECK(t->field("apiVersion") != nullptr);
    CHECK(t->field("kind") != nullptr);
  }
  CHECK(typeForKind({"", "v1", "Pod"})->name == "io.k8s.api.core.v1.Pod");
  CHECK(typeForKind({"apps", "v1", "Deployment"})->name == "io.k8s.api.apps.v1.Deployment");
  CHECK(typeForKind({"", "v1", "Deployment"}) == nullptr);
  CHECK(typeForKind({"", "v1", "PersistentVolumeClaim"}) == nullptr);
}

TEST_CASE("every referenced type is defined, with fields", "[schema]") {
  CHECK(undefinedTypesForTest().empty());
  for (const TypeDef* t : allTypes()) {
    INFO(t->name);
    CHECK(!t->fields.empty());
    for (const FieldDef& f : t->fields) {
      if (f.kind == FieldKind::kObject) CHECK(f.type != nullptr);
      if ((f.kind == FieldKind::kArray || f.kind == FieldKind::kMap) &&
          f.elemKind == FieldKind::kObject) {
        CHECK(f.type != nullptr);
      }
    }
  }
  CHECK(findType("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta") != nullptr);
  CHECK(findType("nope") == nullptr);
}

TEST_CASE("strategic merge keys are Kubernetes'", "[schema]") {
  const std::string core = "io.k8s.api.core.v1.";
  const std::string meta = "io.k8s.apimachinery.pkg.apis.meta.v1.";
  struct Row {
    std::string type, field, strategy, key;
  };
  const std::vector<Row> rows = {
      {core + "PodSpec", "containers", "merge", "name"},
      {core + "PodSpec", "initContainers", "merge", "name"},
      {core + "PodSpec", "volumes", "merge,retainKeys", "name"},
      {core + "PodSpec", "imagePullSecrets", "merge", "name"},
      {core + "PodSpec", "hostAliases", "merge", "ip"},
      {core + "PodSpec", "tolerations", "", ""},
      {core + "Container", "ports", "merge", "containerPort"},
      {core + "Container", "env", "merge", "name"},
      {core + "Container", "volumeMounts", "merge", "mountPath"},
      {core + "Container", "volumeDevices", "merge", "devicePath"},
      {core + "ServiceSpec", "ports", "merge", "port"},
      {core + "PodStatus", "conditions", "merge", "type"},
      {core + "PodStatus", "podIPs", "merge", "ip"},
      {core + "NodeStatus", "addresses", "merge", "type"},
      {core + "NodeStatus", "conditions", "merge", "type"},
      {meta + "ObjectMeta", "finalizers", "merge", ""},
      {meta + "ObjectMeta", "ownerReferences", "merge", "uid"},
      {"io.k8s.api.apps.v1.DeploymentSpec", "strategy", "retainKeys", ""},
      {"io.k8s.api.apps.v1.DeploymentStatus", "conditions", "merge", "type"},
  };
  for (const Row& r : rows) {
    const FieldDef& f = fieldOf(r.type, r.field);
    INFO(r.type << "." << r.field);
    CHECK(f.patchStrategy == r.strategy);
    CHECK(f.patchMergeKey == r.key);
  }
  CHECK(fieldOf(core + "ServiceSpec", "ports").listMapKeys ==
        std::vector<std::string>{"port", "protocol"});
  CHECK(fieldOf(core + "Container", "ports").listMapKeys ==
        std::vector<std::string>{"containerPort", "protocol"});
  CHECK(fieldOf(core + "PodSpec", "tolerations").listType == "atomic");
  CHECK(fieldOf(meta + "ObjectMeta", "finalizers").listType == "set");
}

TEST_CASE("field kinds and formats follow the Go types", "[schema]") {
  const std::string core = "io.k8s.api.core.v1.";
  CHECK(fieldOf(core + "ServicePort", "port").kind == FieldKind::kInteger);
  CHECK(fieldOf(core + "ServicePort", "port").format == "int32");
  CHECK(fieldOf(core + "ServicePort", "port").required);
  CHECK(fieldOf(core + "ServicePort", "targetPort").kind == FieldKind::kIntOrString);
  CHECK(fieldOf(core + "PodSpec", "terminationGracePeriodSeconds").format == "int64");
  CHECK(fieldOf(core + "ResourceRequirements", "limits").kind == FieldKind::kMap);
  CHECK(fieldOf(core + "ResourceRequirements", "limits").elemKind == FieldKind::kQuantity);
  CHECK(fieldOf("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "creationTimestamp").kind ==
        FieldKind::kTime);
  CHECK(fieldOf(core + "ServiceSpec", "type").enumValues.size() == 4);
  // PodSpec covers what real manifests use.
  for (const char* f : {"volumes",
                        "initContainers",
                        "containers",
                        "restartPolicy",
                        "terminationGracePeriodSeconds",
                        "activeDeadlineSeconds",
                        "dnsPolicy",
                        "dnsConfig",
                        "nodeSelector",
                        "serviceAccountName",
                        "nodeName",
                        "hostNetwork",
                        "hostPID",
                        "hostIPC",
                        "securityContext",
                        "imagePullSecrets",
                        "hostname",
                        "subdomain",
                        "affinity",
                        "schedulerName",
                        "tolerations",
                        "hostAliases",
                        "priority",
                        "enableServiceLinks",
                        "readinessGates",
                        "preemptionPolicy",
                        "overhead",
                        "shareProcessNamespace",
                        "automountServiceAccountToken"}) {
    CHECK(findType(core + "PodSpec")->field(f) != nullptr);
  }
  for (const char* f :
       {"exec", "httpGet", "tcpSocket", "grpc", "initialDelaySeconds", "timeoutSeconds",
        "periodSeconds", "successThreshold", "failureThreshold", "terminationGracePeriodSeconds"}) {
    CHECK(findType(core + "Probe")->field(f) != nullptr);
  }
}

TEST_CASE("common fields carry descriptions for kubectl explain", "[schema]") {
  CHECK(!fieldOf("io.k8s.api.core.v1.ServiceSpec", "clusterIP").description.empty());
  CHECK(!fieldOf("io.k8s.api.core.v1.Container", "imagePullPolicy").description.empty());
  CHECK(!fieldOf("io.k8s.api.apps.v1.DeploymentSpec", "selector").description.empty());
  CHECK(!fieldOf("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "labels").description.empty());
  size_t described = 0;
  for (const TypeDef* t : allTypes()) {
    for (const FieldDef& f : t->fields) described += !f.description.empty();
  }
  CHECK(described > 100);
}
