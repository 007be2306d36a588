#include <catch2/catch.hpp>

#include "api/patch.h"

using skiff::Code;
using skiff::api::applyJsonPatch;
using skiff::api::applyMergePatch;
using skiff::api::applyStrategicMergePatch;
using skiff::api::createThreeWayMergePatch;
using skiff::api::FieldDef;
using skiff::api::FieldKind;
using skiff::api::Json;
using skiff::api::TypeDef;

namespace {

// A small hand-made type model with the patch metadata Kubernetes declares.
FieldDef field(const std::string& name, FieldKind kind, const TypeDef* type = nullptr,
               FieldKind elem = FieldKind::kString, const std::string& strategy = "",
               const std::string& key = "") {
  FieldDef f;
  f.name = name;
  f.kind = kind;
  f.type = type;
  f.elemKind = elem;
  f.patchStrategy = strategy;
  f.patchMergeKey = key;
  return f;
}

struct Model {
  TypeDef ownerRef, meta, port, env, mount, container, volume, podSpec, pod;
  TypeDef svcPort, svcSpec, service, rollingUpdate, strategy, template_, deploySpec, deployment;
  Model() {
    ownerRef.name = "OwnerReference";
    ownerRef.fields = {field("uid", FieldKind::kString), field("name", FieldKind::kString)};
    meta.name = "ObjectMeta";
    meta.fields = {
        field("name", FieldKind::kString), field("labels", FieldKind::kMap),
        field("annotations", FieldKind::kMap),
        field("finalizers", FieldKind::kArray, nullptr, FieldKind::kString, "merge"),
        field("ownerReferences", FieldKind::kArray, &ownerRef, FieldKind::kObject, "merge", "uid")};
    port.name = "ContainerPort";
    port.fields = {field("containerPort", FieldKind::kInteger),
                   field("protocol", FieldKind::kString), field("name", FieldKind::kString)};
    env.name = "EnvVar";
    env.fields = {field("name", FieldKind::kString), field("value", FieldKind::kString)};
    mount.name = "VolumeMount";
    mount.fields = {field("name", FieldKind::kString), field("mountPath", FieldKind::kString)};
    container.name = "Container";
    container.fields = {
        field("name", FieldKind::kString),
        field("image", FieldKind::kString),
        field("args", FieldKind::kArray),
        field("ports", FieldKind::kArray, &port, FieldKind::kObject, "merge", "containerPort"),
        field("env", FieldKind::kArray, &env, FieldKind::kObject, "merge", "name"),
        field("volumeMounts", FieldKind::kArray, &mount, FieldKind::kObject, "merge", "mountPath")};
    volume.name = "Volume";
    volume.fields = {field("name", FieldKind::kString), field("emptyDir", FieldKind::kAny),
                     field("hostPath", FieldKind::kAny)};
    podSpec.name = "PodSpec";
    podSpec.fields = {
        field("containers", FieldKind::kArray, &container, FieldKind::kObject, "merge", "name"),
        field("initContainers", FieldKind::kArray, &container, FieldKind::kObject, "merge", "name"),
        field("volumes", FieldKind::kArray, &volume, FieldKind::kObject, "merge,retainKeys",
              "name"),
        field("nodeSelector", FieldKind::kMap), field("restartPolicy", FieldKind::kString)};
    pod.name = "Pod";
    pod.fields = {field("metadata", FieldKind::kObject, &meta),
                  field("spec", FieldKind::kObject, &podSpec), field("status", FieldKind::kAny)};

    svcPort.name = "ServicePort";
    svcPort.fields = {field("port", FieldKind::kInteger),
                      field("targetPort", FieldKind::kIntOrString),
                      field("nodePort", FieldKind::kInteger), field("protocol", FieldKind::kString),
                      field("name", FieldKind::kString)};
    svcSpec.name = "ServiceSpec";
    svcSpec.fields = {
        field("ports", FieldKind::kArray, &svcPort, FieldKind::kObject, "merge", "port"),
        field("selector", FieldKind::kMap), field("type", FieldKind::kString),
        field("clusterIP", FieldKind::kString)};
    service.name = "Service";
    service.fields = {field("metadata", FieldKind::kObject, &meta),
                      field("spec", FieldKind::kObject, &svcSpec)};

    rollingUpdate.name = "RollingUpdateDeployment";
    rollingUpdate.fields = {field("maxSurge", FieldKind::kIntOrString),
                            field("maxUnavailable", FieldKind::kIntOrString)};
    strategy.name = "DeploymentStrategy";
    strategy.fields = {field("type", FieldKind::kString),
                       field("rollingUpdate", FieldKind::kObject, &rollingUpdate)};
    template_.name = "PodTemplateSpec";
    template_.fields = {field("metadata", FieldKind::kObject, &meta),
                        field("spec", FieldKind::kObject, &podSpec)};
    deploySpec.name = "DeploymentSpec";
    deploySpec.fields = {
        field("replicas", FieldKind::kInteger),
        field("strategy", FieldKind::kObject, &strategy, FieldKind::kString, "retainKeys"),
        field("template", FieldKind::kObject, &template_)};
    deployment.name = "Deployment";
    deployment.fields = {field("metadata", FieldKind::kObject, &meta),
                         field("spec", FieldKind::kObject, &deploySpec)};
  }
};

const Model& model() {
  static const Model m;
  return m;
}

Json smp(const Json& target, const std::string& patch, const TypeDef* type) {
  auto r = applyStrategicMergePatch(target, Json::parse(patch), type);
  if (!r.ok()) FAIL(r.error().message);
  return *r;
}

// kubectl apply: the patch from (last-applied, manifest, live), applied to live.
struct Applied {
  Json patch;
  Json result;
};
Applied apply3(const Json& original, const Json& modified, const Json& current,
               const TypeDef* type) {
  auto p = createThreeWayMergePatch(original, modified, current, type);
  if (!p.ok()) FAIL(p.error().message);
  auto r = applyStrategicMergePatch(current, *p, type);
  if (!r.ok()) FAIL(r.error().message);
  return {*p, *r};
}

}  // namespace

// ---- RFC 7386 ----

TEST_CASE("merge patch: RFC 7386 examples") {
  Json target = Json::parse(R"({"a":"b","c":{"d":"e","f":"g"}})");
  auto r = applyMergePatch(target, Json::parse(R"({"a":"z","c":{"f":null}})"));
  REQUIRE(r.ok());
  CHECK(*r == Json::parse(R"({"a":"z","c":{"d":"e"}})"));
  CHECK(*applyMergePatch(Json::parse(R"({"a":["b"]})"), Json::parse(R"({"a":"c"})")) ==
        Json::parse(R"({"a":"c"})"));
  CHECK(*applyMergePatch(Json::parse(R"({"a":[{"b":"c"}]})"), Json::parse(R"({"a":[1]})")) ==
        Json::parse(R"({"a":[1]})"));
  CHECK(*applyMergePatch(Json::parse(R"({"e":null})"), Json::parse(R"({"a":1})")) ==
        Json::parse(R"({"e":null,"a":1})"));
  CHECK(*applyMergePatch(Json::parse(R"({"a":"foo"})"), Json::parse("null")) == Json());
  CHECK(*applyMergePatch(Json::parse(R"({"a":"foo"})"), Json::parse(R"("bar")")) == "bar");
  CHECK(*applyMergePatch(Json::parse(R"([1,2])"), Json::parse(R"({"a":{"bb":{"ccc":null}}})")) ==
        Json::parse(R"({"a":{"bb":{}}})"));
}

// ---- RFC 6902 ----

TEST_CASE("json patch: every operation") {
  Json doc = Json::parse(R"({"metadata":{"labels":{"a/b":"1","m~n":"2"}},"list":[1,2,3]})");
  auto r = applyJsonPatch(doc, Json::parse(R"([
    {"op":"add","path":"/metadata/labels/new","value":"x"},
    {"op":"remove","path":"/metadata/labels/a~1b"},
    {"op":"replace","path":"/metadata/labels/m~0n","value":"3"},
    {"op":"add","path":"/list/-","value":4},
    {"op":"add","path":"/list/0","value":0},
    {"op":"remove","path":"/list/1"},
    {"op":"copy","from":"/list","path":"/copy"},
    {"op":"move","from":"/metadata/labels/new","path":"/moved"},
    {"op":"test","path":"/moved","value":"x"}
  ])"));
  REQUIRE(r.ok());
  CHECK(*r == Json::parse(R"({"metadata":{"labels":{"m~n":"3"}},"list":[0,2,3,4],
                              "copy":[0,2,3,4],"moved":"x"})"));
}

TEST_CASE("json patch: failures name the operation index and path") {
  Json doc = Json::parse(R"({"spec":{"replicas":1},"list":[1]})");
  auto missing = applyJsonPatch(doc, Json::parse(
                                         R"([{"op":"test","path":"/spec/replicas","value":1},
          {"op":"replace","path":"/spec/nope","value":2}])"));
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code == Code::kInvalid);
  CHECK(missing.error().message ==
        "json patch operation 1 (replace /spec/nope): path does not exist");

  auto test =
      applyJsonPatch(doc, Json::parse(R"([{"op":"test","path":"/spec/replicas","value":2}])"));
  REQUIRE_FALSE(test.ok());
  CHECK(test.error().code == Code::kInvalid);
  CHECK(test.error().message.find("json patch operation 0 (test /spec/replicas): test failed") ==
        0);

  auto oob = applyJsonPatch(doc, Json::parse(R"([{"op":"add","path":"/list/5","value":2}])"));
  REQUIRE_FALSE(oob.ok());
  CHECK(oob.error().message.find("operation 0 (add /list/5)") != std::string::npos);

  auto badOp = applyJsonPatch(doc, Json::parse(R"([{"op":"frob","path":"/x"}])"));
  REQUIRE_FALSE(badOp.ok());
  CHECK(badOp.error().code == Code::kBadRequest);

  auto notArray = applyJsonPatch(doc, Json::parse(R"({"op":"add"})"));
  REQUIRE_FALSE(notArray.ok());
  CHECK(notArray.error().code == Code::kBadRequest);

  auto badPointer = applyJsonPatch(doc, Json::parse(R"([{"op":"remove","path":"spec"}])"));
  REQUIRE_FALSE(badPointer.ok());
  CHECK(badPointer.error().code == Code::kBadRequest);

  auto noValue = applyJsonPatch(doc, Json::parse(R"([{"op":"add","path":"/x"}])"));
  REQUIRE_FALSE(noValue.ok());
  CHECK(noValue.error().code == Code::kBadRequest);

  auto intoChild =
      applyJsonPatch(doc, Json::parse(R"([{"op":"move","from":"/spec","path":"/spec/x"}])"));
  REQUIRE_FALSE(intoChild.ok());

  // Nothing is applied when a later operation fails: the result is an error, not a half patch.
  auto whole = applyJsonPatch(doc, Json::parse(R"([{"op":"replace","path":"","value":{"a":1}}])"));
  REQUIRE(whole.ok());
  CHECK(*whole == Json::parse(R"({"a":1})"));
}

// ---- strategic merge patch ----

TEST_CASE("strategic merge: containers merge by name, ports by containerPort") {
  const auto& m = model();
  Json pod = Json::parse(R"({"metadata":{"name":"p","labels":{"app":"web","tier":"fe"}},
    "spec":{"containers":[
      {"name":"web","image":"nginx:1","ports":[{"containerPort":80,"protocol":"TCP"}]},
      {"name":"log","image":"busybox"}]}})");
  Json out = smp(pod, R"({"metadata":{"labels":{"tier":null,"v":"2"}},
    "spec":{"containers":[{"name":"web","image":"nginx:2","ports":[{"containerPort":443}]}]}})",
                 &m.pod);
  CHECK(out == Json::parse(R"({"metadata":{"name":"p","labels":{"app":"web","v":"2"}},
    "spec":{"containers":[
      {"name":"web","image":"nginx:2","ports":[{"containerPort":80,"protocol":"TCP"},{"containerPort":443}]},
      {"name":"log","image":"busybox"}]}})"));
}

TEST_CASE("strategic merge: without a type, lists are replaced as in a merge patch") {
  Json pod = Json::parse(R"({"spec":{"containers":[{"name":"a"},{"name":"b"}]}})");
  Json out = smp(pod, R"({"spec":{"containers":[{"name":"c"}]}})", nullptr);
  CHECK(out == Json::parse(R"({"spec":{"containers":[{"name":"c"}]}})"));
}

TEST_CASE("strategic merge: lists without a strategy are replaced, primitive merge lists unioned") {
  const auto& m = model();
  Json pod = Json::parse(R"({"metadata":{"finalizers":["a","b"]},
    "spec":{"containers":[{"name":"c","args":["x","y"]}]}})");
  Json out = smp(pod, R"({"metadata":{"finalizers":["b","c"]},
    "spec":{"containers":[{"name":"c","args":["z"]}]}})",
                 &m.pod);
  CHECK(out["metadata"]["finalizers"] == Json::parse(R"(["a","b","c"])"));
  CHECK(out["spec"]["containers"][0]["args"] == Json::parse(R"(["z"])"));
}

TEST_CASE("strategic merge: $patch directives") {
  const auto& m = model();
  Json pod = Json::parse(R"({"metadata":{"labels":{"a":"1","b":"2"}},
    "spec":{"nodeSelector":{"x":"1"},"containers":[{"name":"a","image":"i"},{"name":"b","image":"j"}]}})");
  // Delete one element by merge key.
  Json del = smp(pod, R"({"spec":{"containers":[{"$patch":"delete","name":"a"}]}})", &m.pod);
  CHECK(del["spec"]["containers"] == Json::parse(R"([{"name":"b","image":"j"}])"));
  // Replace the whole list.
  Json rep = smp(pod, R"({"spec":{"containers":[{"name":"z","image":"k"},{"$patch":"replace"}]}})",
                 &m.pod);
  CHECK(rep["spec"]["containers"] == Json::parse(R"([{"name":"z","image":"k"}])"));
  // Replace a map.
  Json repMap = smp(pod, R"({"metadata":{"labels":{"$patch":"replace","c":"3"}}})", &m.pod);
  CHECK(repMap["metadata"]["labels"] == Json::parse(R"({"c":"3"})"));
  // Delete a map's contents.
  Json delMap = smp(pod, R"({"spec":{"nodeSelector":{"$patch":"delete"}}})", &m.pod);
  CHECK(delMap["spec"]["nodeSelector"] == Json::object());
  // An unknown directive is a bad request.
  auto bad = applyStrategicMergePatch(
      pod, Json::parse(R"({"metadata":{"labels":{"$patch":"frob"}}})"), &m.pod);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code == Code::kBadRequest);
  auto noKey = applyStrategicMergePatch(
      pod, Json::parse(R"({"spec":{"containers":[{"image":"x"}]}})"), &m.pod);
  REQUIRE_FALSE(noKey.ok());
  CHECK(noKey.error().message.find("does not contain declared merge key: name") !=
        std::string::npos);
  // Directives never leak into a field the target did not have.
  Json fresh =
      smp(Json::object(),
          R"({"spec":{"containers":[{"name":"a"},{"$patch":"delete","name":"q"}]}})", &m.pod);
  CHECK(fresh == Json::parse(R"({"spec":{"containers":[{"name":"a"}]}})"));
}

TEST_CASE("strategic merge: $retainKeys, $setElementOrder and $deleteFromPrimitiveList") {
  const auto& m = model();
  Json d = Json::parse(
      R"({"spec":{"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":1}}}})");
  Json out =
      smp(d, R"({"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate"}}})", &m.deployment);
  CHECK(out["spec"]["strategy"] == Json::parse(R"({"type":"Recreate"})"));
  auto conflict = applyStrategicMergePatch(
      d,
      Json::parse(
          R"({"spec":{"strategy":{"$retainKeys":["type"],"rollingUpdate":{"maxSurge":2}}}})"),
      &m.deployment);
  REQUIRE_FALSE(conflict.ok());

  Json pod = Json::parse(R"({"metadata":{"finalizers":["a","b","c"]},
    "spec":{"containers":[{"name":"a"},{"name":"b"},{"name":"c"}]}})");
  Json reordered =
      smp(pod, R"({"spec":{"$setElementOrder/containers":[{"name":"c"},{"name":"a"},{"name":"b"}],
      "containers":[{"name":"a","image":"new"}]}})",
          &m.pod);
  CHECK(reordered["spec"]["containers"] ==
        Json::parse(R"([{"name":"c"},{"name":"a","image":"new"},{"name":"b"}])"));
  Json trimmed = smp(pod, R"({"metadata":{"$deleteFromPrimitiveList/finalizers":["b"],
      "$setElementOrder/finalizers":["c","a"]}})",
                     &m.pod);
  CHECK(trimmed["metadata"]["finalizers"] == Json::parse(R"(["c","a"])"));
}

TEST_CASE("strategic merge: service ports merge by port") {
  const auto& m = model();
  Json svc = Json::parse(
      R"({"spec":{"ports":[{"port":80,"targetPort":8080,"nodePort":30001,"protocol":"TCP"}],
    "selector":{"app":"web"}}})");
  Json out =
      smp(svc, R"({"spec":{"ports":[{"port":80,"targetPort":9090},{"port":443}]}})", &m.service);
  CHECK(out["spec"]["ports"] ==
        Json::parse(
            R"([{"port":80,"targetPort":9090,"nodePort":30001,"protocol":"TCP"},{"port":443}])"));
}

// ---- three-way (kubectl apply) ----

TEST_CASE("three-way: unchanged manifest against a defaulted live object is {}") {
  const auto& m = model();
  Json applied =
      Json::parse(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","labels":{"app":"web"}},
    "spec":{"containers":[{"name":"web","image":"nginx","ports":[{"containerPort":80}]}]}})");
  Json live = Json::parse(R"({"apiVersion":"v1","kind":"Pod",
    "metadata":{"name":"p","labels":{"app":"web"},"uid":"u","resourceVersion":"5"},
    "spec":{"restartPolicy":"Always","containers":[{"name":"web","image":"nginx","imagePullPolicy":"IfNotPresent",
      "ports":[{"containerPort":80,"protocol":"TCP"}]}]},
    "status":{"phase":"Running"}})");
  auto p = createThreeWayMergePatch(applied, applied, live, &m.pod);
  REQUIRE(p.ok());
  CHECK(*p == Json::object());
}

TEST_CASE("three-way: change a port, remove a label, add a container") {
  const auto& m = model();
  Json original = Json::parse(R"({"metadata":{"name":"p","labels":{"app":"web","tier":"fe"}},
    "spec":{"containers":[{"name":"web","image":"nginx","ports":[{"containerPort":80}]}]}})");
  Json modified = Json::parse(R"({"metadata":{"name":"p","labels":{"app":"web"}},
    "spec":{"containers":[{"name":"web","image":"nginx","ports":[{"containerPort":8080}]},
                          {"name":"side","image":"busybox"}]}})");
  Json current =
      Json::parse(R"({"metadata":{"name":"p","labels":{"app":"web","tier":"fe","added-by":"user"}},
    "spec":{"restartPolicy":"Always","containers":[{"name":"web","image":"nginx","imagePullPolicy":"Always",
      "ports":[{"containerPort":80,"protocol":"TCP"}]}]},"status":{"phase":"Running"}})");
  auto a = apply3(original, modified, current, &m.pod);
  CHECK(a.result ==
        Json::parse(R"({"metadata":{"name":"p","labels":{"app":"web","added-by":"user"}},
    "spec":{"restartPolicy":"Always","containers":[
      {"name":"web","image":"nginx","imagePullPolicy":"Always","ports":[{"containerPort":8080}]},
      {"name":"side","image":"busybox"}]},"status":{"phase":"Running"}})"));
  CHECK(a.patch["metadata"]["labels"] == Json::parse(R"({"tier":null})"));
  CHECK(a.patch["spec"]["$setElementOrder/containers"] ==
        Json::parse(R"([{"name":"web"},{"name":"side"}])"));
}

TEST_CASE("three-way: a container removed from the manifest is deleted, a live-only one kept") {
  const auto& m = model();
  Json original =
      Json::parse(R"({"spec":{"containers":[{"name":"a","image":"x"},{"name":"b","image":"y"}]}})");
  Json modified = Json::parse(R"({"spec":{"containers":[{"name":"a","image":"x"}]}})");
  Json current =
      Json::parse(R"({"spec":{"containers":[{"name":"a","image":"x"},{"name":"b","image":"y"},
    {"name":"injected","image":"z"}]}})");
  auto a = apply3(original, modified, current, &m.pod);
  CHECK(a.result["spec"]["containers"] ==
        Json::parse(R"([{"name":"a","image":"x"},{"name":"injected","image":"z"}])"));
}

TEST_CASE("three-way: service ports merged by port keep the allocated nodePort") {
  const auto& m = model();
  Json original = Json::parse(R"({"spec":{"type":"NodePort","selector":{"app":"web"},
    "ports":[{"port":80,"targetPort":8080}]}})");
  Json modified = Json::parse(R"({"spec":{"type":"NodePort","selector":{"app":"web"},
    "ports":[{"port":80,"targetPort":9090},{"port":443,"targetPort":8443}]}})");
  Json current =
      Json::parse(R"({"spec":{"type":"NodePort","clusterIP":"10.96.0.7","selector":{"app":"web"},
    "ports":[{"port":80,"targetPort":8080,"nodePort":30001,"protocol":"TCP"}]}})");
  auto a = apply3(original, modified, current, &m.service);
  CHECK(a.result["spec"]["ports"] == Json::parse(R"([
    {"port":80,"targetPort":9090,"nodePort":30001,"protocol":"TCP"},
    {"port":443,"targetPort":8443}])"));
  CHECK(a.result["spec"]["clusterIP"] == "10.96.0.7");
}

TEST_CASE("three-way: a removed port and a removed env var are deleted") {
  const auto& m = model();
  Json original = Json::parse(R"({"spec":{"containers":[{"name":"c","image":"i",
    "ports":[{"containerPort":80},{"containerPort":81}],"env":[{"name":"A","value":"1"},{"name":"B","value":"2"}]}]}})");
  Json modified = Json::parse(R"({"spec":{"containers":[{"name":"c","image":"i",
    "ports":[{"containerPort":80}],"env":[{"name":"A","value":"1"}]}]}})");
  Json current =
      Json::parse(R"({"spec":{"containers":[{"name":"c","image":"i","imagePullPolicy":"Always",
    "ports":[{"containerPort":80,"protocol":"TCP"},{"containerPort":81,"protocol":"TCP"}],
    "env":[{"name":"A","value":"1"},{"name":"B","value":"2"}]}]}})");
  auto a = apply3(original, modified, current, &m.pod);
  CHECK(a.result ==
        Json::parse(R"({"spec":{"containers":[{"name":"c","image":"i","imagePullPolicy":"Always",
    "ports":[{"containerPort":80,"protocol":"TCP"}],"env":[{"name":"A","value":"1"}]}]}})"));
}

TEST_CASE("three-way: a field the user changed live is reset to the manifest") {
  const auto& m = model();
  Json manifest = Json::parse(
      R"({"spec":{"replicas":3,"template":{"spec":{"containers":[{"name":"c","image":"v1"}]}}}})");
  Json current = Json::parse(R"({"spec":{"replicas":5,"strategy":{"type":"RollingUpdate",
    "rollingUpdate":{"maxSurge":"25%","maxUnavailable":"25%"}},
    "template":{"spec":{"containers":[{"name":"c","image":"v2"}]}}}})");
  auto a = apply3(manifest, manifest, current, &m.deployment);
  CHECK(a.result["spec"]["replicas"] == 3);
  CHECK(a.result["spec"]["template"]["spec"]["containers"][0]["image"] == "v1");
  CHECK(a.result["spec"]["strategy"] == current["spec"]["strategy"]);  // defaulted, untouched
}

TEST_CASE("three-way: strategy type switch drops rollingUpdate via $retainKeys") {
  const auto& m = model();
  Json original = Json::parse(
      R"({"spec":{"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":1}}}})");
  Json modified = Json::parse(R"({"spec":{"strategy":{"type":"Recreate"}}})");
  Json current = Json::parse(R"({"spec":{"replicas":1,"strategy":{"type":"RollingUpdate",
    "rollingUpdate":{"maxSurge":1,"maxUnavailable":"25%"}}}})");
  auto a = apply3(original, modified, current, &m.deployment);
  CHECK(a.result["spec"]["strategy"] == Json::parse(R"({"type":"Recreate"})"));
  CHECK(a.patch["spec"]["strategy"]["$retainKeys"] == Json::parse(R"(["type"])"));
}

TEST_CASE("three-way: last-applied annotation and finalizers") {
  const auto& m = model();
  Json original = Json::parse(R"({"metadata":{"finalizers":["a","b"]}})");
  Json modified = Json::parse(R"({"metadata":{"finalizers":["a"],
    "annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{...}"}}})");
  Json current =
      Json::parse(R"({"metadata":{"finalizers":["a","b"],"annotations":{"other":"x"}}})");
  auto a = apply3(original, modified, current, &m.pod);
  CHECK(a.result["metadata"]["finalizers"] == Json::parse(R"(["a"])"));
  CHECK(a.result["metadata"]["annotations"] ==
        Json::parse(R"({"other":"x","kubectl.kubernetes.io/last-applied-configuration":"{...}"})"));
  CHECK(a.patch["metadata"]["$deleteFromPrimitiveList/finalizers"] == Json::parse(R"(["b"])"));
}

TEST_CASE("three-way: no last-applied (first apply over a created object) never deletes") {
  const auto& m = model();
  Json modified = Json::parse(R"({"metadata":{"labels":{"app":"web"}}})");
  Json current = Json::parse(R"({"metadata":{"labels":{"app":"web","x":"y"}}})");
  auto a = apply3(Json(), modified, current, &m.pod);
  CHECK(a.patch == Json::object());
  CHECK(a.result == current);
}

TEST_CASE("three-way: an empty live list gets the whole manifest list without an order directive") {
  const auto& m = model();
  Json original = Json::parse(R"({"spec":{"containers":[{"name":"c"}]}})");
  Json modified = Json::parse(
      R"({"spec":{"containers":[{"name":"c","volumeMounts":[{"mountPath":"/d","name":"v"}]}]}})");
  Json current = Json::parse(R"({"spec":{"containers":[{"name":"c","volumeMounts":[]}]}})");
  auto a = apply3(original, modified, current, &m.pod);
  CHECK(a.patch["spec"]["containers"][0] ==
        Json::parse(R"({"name":"c","volumeMounts":[{"mountPath":"/d","name":"v"}]})"));
  CHECK(a.result == modified);
}

TEST_CASE("strategic merge: malformed directives are bad requests with upstream texts") {
  const auto& m = model();
  Json d = Json::parse(R"({"spec":{"strategy":{"type":"RollingUpdate"}}})");
  auto conflict = applyStrategicMergePatch(
      d,
      Json::parse(
          R"({"spec":{"strategy":{"$retainKeys":["type"],"rollingUpdate":{"maxSurge":2}}}})"),
      &m.deployment);
  REQUIRE_FALSE(conflict.ok());
  CHECK(conflict.error().code == Code::kBadRequest);
  CHECK(conflict.error().message == "invalid patch format of retainKeys");
  auto noKey = applyStrategicMergePatch(
      Json::object(), Json::parse(R"({"spec":{"containers":[{"$patch":"delete"}]}})"), &m.pod);
  REQUIRE_FALSE(noKey.ok());
  CHECK(noKey.error().message == "delete patch type with no merge key defined");
  auto mergeList = applyStrategicMergePatch(
      Json::object(), Json::parse(R"({"spec":{"containers":[{"$patch":"merge"}]}})"), &m.pod);
  REQUIRE_FALSE(mergeList.ok());
  CHECK(mergeList.error().message == "merging lists cannot yet be specified in the patch");
  auto notObject = applyStrategicMergePatch(Json::object(), Json::parse("[1]"), &m.pod);
  REQUIRE_FALSE(notObject.ok());
  CHECK(notObject.error().code == Code::kBadRequest);
}

// ---- against the real type model ----

TEST_CASE(
    "real model: kubectl apply of a Pod merges containers by name and ports by containerPort") {
  const TypeDef* pod = skiff::api::typeForKind({"", "v1", "Pod"});
  REQUIRE(pod != nullptr);
  Json original = Json::parse(
      R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","labels":{"app":"web","tier":"fe"}},
    "spec":{"containers":[{"name":"web","image":"nginx","ports":[{"containerPort":80}]}]}})");
  Json modified =
      Json::parse(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","labels":{"app":"web"}},
    "spec":{"containers":[{"name":"web","image":"nginx","ports":[{"containerPort":8080}]},
                          {"name":"side","image":"busybox"}]}})");
  Json current = Json::parse(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","uid":"u",
      "labels":{"app":"web","tier":"fe"}},
    "spec":{"restartPolicy":"Always","dnsPolicy":"ClusterFirst","containers":[{"name":"web","image":"nginx",
      "imagePullPolicy":"Always","terminationMessagePath":"/dev/termination-log",
      "ports":[{"containerPort":80,"protocol":"TCP"}]}]},"status":{"phase":"Running"}})");
  auto a = apply3(original, modified, current, pod);
  CHECK(a.result["metadata"]["labels"] == Json::parse(R"({"app":"web"})"));
  CHECK(a.result["spec"]["containers"].size() == 2);
  CHECK(a.result["spec"]["containers"][0]["ports"] == Json::parse(R"([{"containerPort":8080}])"));
  CHECK(a.result["spec"]["containers"][0]["imagePullPolicy"] == "Always");
  CHECK(a.result["spec"]["containers"][1]["name"] == "side");
  CHECK(a.result["spec"]["dnsPolicy"] == "ClusterFirst");
  CHECK(a.result["status"]["phase"] == "Running");
  // Applying the same manifest again changes nothing.
  auto again = createThreeWayMergePatch(modified, modified, a.result, pod);
  REQUIRE(again.ok());
  CHECK(*again == Json::object());
}

TEST_CASE("real model: Service ports merge by port, Deployment strategy retains keys") {
  const TypeDef* svc = skiff::api::typeForKind({"", "v1", "Service"});
  const TypeDef* deploy = skiff::api::typeForKind({"apps", "v1", "Deployment"});
  REQUIRE(svc != nullptr);
  REQUIRE(deploy != nullptr);
  Json live = Json::parse(R"({"spec":{"type":"NodePort","clusterIP":"10.96.0.7",
    "ports":[{"port":80,"targetPort":8080,"nodePort":30001,"protocol":"TCP"}]}})");
  Json out = smp(live, R"({"spec":{"ports":[{"port":80,"targetPort":9090},{"port":443}]}})", svc);
  CHECK(out["spec"]["ports"] ==
        Json::parse(
            R"([{"port":80,"targetPort":9090,"nodePort":30001,"protocol":"TCP"},{"port":443}])"));

  Json d = Json::parse(
      R"({"spec":{"replicas":2,"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":1}}}})");
  Json rec = smp(d, R"({"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate"}}})", deploy);
  CHECK(rec["spec"]["strategy"] == Json::parse(R"({"type":"Recreate"})"));
  Json env = Json::parse(
      R"({"spec":{"template":{"spec":{"containers":[{"name":"c","env":[{"name":"A","value":"1"}]}]}}}})");
  Json env2 = smp(
      env,
      R"({"spec":{"template":{"spec":{"containers":[{"name":"c","env":[{"name":"B","value":"2"}]}]}}}})",
      deploy);
  CHECK(env2["spec"]["template"]["spec"]["containers"][0]["env"] ==
        Json::parse(R"([{"name":"A","value":"1"},{"name":"B","value":"2"}])"));
}
