// parseJson and strict decoding: messages as Kubernetes phrases them, plus the
// "did you mean" suggestion, and hostile input refused quickly.
#include <catch2/catch.hpp>

#include <chrono>

#include "api/decode.h"
#include "api/json.h"

using namespace skiff;
using namespace skiff::api;

namespace {
const GroupVersionKind kService{"", "v1", "Service"};
const GroupVersionKind kPod{"", "v1", "Pod"};

Json parse(const std::string& s) {
  auto r = parseJson(s);
  REQUIRE(r.ok());
  return *r;
}
}  // namespace

TEST_CASE("parseJson accepts objects and reports syntax errors with an offset", "[json]") {
  auto ok = parseJson(R"({"a": [1, 2, {"b": "ü"}]})");
  REQUIRE(ok.ok());
  CHECK((*ok)["a"][2]["b"] == "ü");

  auto bad = parseJson(R"({"a": 1,})");
  REQUIRE(!bad.ok());
  CHECK(bad.error().code == Code::kBadRequest);
  CHECK_THAT(bad.error().message, Catch::Contains("invalid JSON at offset"));

  auto empty = parseJson("");
  REQUIRE(!empty.ok());
  CHECK(empty.error().code == Code::kBadRequest);
}

TEST_CASE("parseJson refuses invalid UTF-8", "[json]") {
  for (std::string s :
       {std::string("{\"a\": \"\xff\"}"), std::string("{\"a\": \"\xc0\xaf\"}"),
        std::string("{\"a\": \"\xed\xa0\x80\"}"), std::string("{\"a\": \"\xe2\x82\"}")}) {
    auto r = parseJson(s);
    REQUIRE(!r.ok());
    CHECK(r.error().code == Code::kBadRequest);
    CHECK_THAT(r.error().message, Catch::Contains("UTF-8"));
  }
}

TEST_CASE("parseJson refuses deep nesting quickly and without recursion", "[json]") {
  auto start = std::chrono::steady_clock::now();
  std::string deep(1000000, '[');
  auto r = parseJson(deep);
  REQUIRE(!r.ok());
  CHECK_THAT(r.error().message, Catch::Contains("nesting deeper than 100"));
  std::string deepObj;
  for (int i = 0; i < 200000; ++i) deepObj += "{\"a\":";
  auto r2 = parseJson(deepObj);
  REQUIRE(!r2.ok());
  auto elapsed = std::chrono::steady_clock::now() - start;
  CHECK(elapsed < std::chrono::milliseconds(500));

  // Exactly the limit is fine; brackets inside strings do not count.
  std::string atLimit = std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']');
  CHECK(parseJson(atLimit).ok());
  CHECK(parseJson("{\"s\": \"" + std::string(500, '[') + "\"}").ok());
  CHECK(!parseJson(std::string(kMaxJsonDepth + 1, '[') + std::string(kMaxJsonDepth + 1, ']')).ok());
}

TEST_CASE("closestMatch suggests near misses only", "[decode]") {
  std::vector<std::string> spec = {"ports", "selector", "clusterIP", "type"};
  CHECK(closestMatch("port", spec) == "ports");
  CHECK(closestMatch("selecter", spec) == "selector");
  CHECK(closestMatch("clusterip", spec) == "clusterIP");
  CHECK(closestMatch("foo", spec) == "");
  CHECK(closestMatch("sepc", {"apiVersion", "kind", "metadata", "spec", "status"}) == "spec");
  CHECK(closestMatch("lables", {"labels", "annotations", "name"}) == "labels");
  CHECK(closestMatch("contianers", {"containers", "initContainers", "volumes"}) == "containers");
  CHECK(closestMatch(std::string(10000, 'x'), spec) == "");
  CHECK(closestMatch("ports", spec) == "");  // an exact match is not a suggestion
}

TEST_CASE("a Service with port: instead of ports: is refused with a suggestion", "[decode]") {
  Json svc = parse(R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"web"},
    "spec":{"selector":{"app":"web"},"port":[{"port":80}]}})");
  auto r = decodeObject(svc, kService);
  REQUIRE(!r.ok());
  CHECK(r.error().code == Code::kBadRequest);
  CHECK(r.error().message ==
        "Service in version \"v1\" cannot be handled as a Service: strict decoding error: "
        "unknown field \"spec.port\", did you mean \"spec.ports\"?");
  REQUIRE(r.error().causes.size() == 1);
  CHECK(r.error().causes[0].field == "spec.port");
}

TEST_CASE("several unknown fields are all listed, nested ones with their path", "[decode]") {
  Json svc = parse(R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"web","labelz":{}},
    "spec":{"ports":[{"port":80,"targetPortt":8080}],"zzz":1}})");
  auto r = decodeObject(svc, kService);
  REQUIRE(!r.ok());
  const std::string& m = r.error().message;
  CHECK_THAT(
      m, Catch::Contains("unknown field \"metadata.labelz\", did you mean \"metadata.labels\"?"));
  CHECK_THAT(m, Catch::Contains("unknown field \"spec.ports[0].targetPortt\", did you mean "
                                "\"spec.ports[0].targetPort\"?"));
  CHECK_THAT(m, Catch::Contains("unknown field \"spec.zzz\""));
  CHECK(r.error().causes.size() == 3);
}

TEST_CASE("wrong JSON types are reported as Go's unmarshaller does", "[decode]") {
  Json svc = parse(R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"web"},
    "spec":{"ports":[{"port":"80"}]}})");
  auto r = decodeObject(svc, kService);
  REQUIRE(!r.ok());
  CHECK(r.error().message ==
        "Service in version \"v1\" cannot be handled as a Service: json: cannot unmarshal "
        "string into Go struct field ServicePort.spec.ports.port of type int32");

  Json spec = parse(R"({"metadata":{"name":"web"},"spec":"x"})");
  auto r2 = decodeObject(spec, kService);
  REQUIRE(!r2.ok());
  CHECK_THAT(r2.error().message,
             Catch::EndsWith("json: cannot unmarshal string into Go struct field Service.spec "
                             "of type v1.ServiceSpec"));

  Json labels = parse(R"({"metadata":{"name":"web","labels":{"a":1}}})");
  auto r3 = decodeObject(labels, kService);
  REQUIRE(!r3.ok());
  CHECK_THAT(r3.error().message, Catch::EndsWith("cannot unmarshal number into Go struct field "
                                                 "ObjectMeta.metadata.labels of type string"));
}

TEST_CASE("int32 range, floats for integers, quantities and times are checked", "[decode]") {
  Json big = parse(R"({"spec":{"ports":[{"port":3000000000}]}})");
  auto r = decodeObject(big, kService);
  REQUIRE(!r.ok());
  CHECK_THAT(r.error().message, Catch::Contains("cannot unmarshal number 3000000000 into Go "
                                                "struct field ServicePort.spec.ports.port of "
                                                "type int32"));
  Json fl = parse(R"({"spec":{"ports":[{"port":80.5}]}})");
  CHECK(!decodeObject(fl, kService).ok());
  // int64 fields take large values.
  Json pod = parse(R"({"metadata":{"name":"p"},"spec":{"terminationGracePeriodSeconds":3000000000,
    "containers":[{"name":"c","image":"i","resources":{"limits":{"cpu":"500m","memory":"1Gi"}}}]}})");
  CHECK(decodeObject(pod, kPod).ok());
  Json badQty =
      parse(R"({"spec":{"containers":[{"name":"c","resources":{"limits":{"cpu":"lots"}}}]}})");
  auto q = decodeObject(badQty, kPod);
  REQUIRE(!q.ok());
  CHECK_THAT(q.error().message, Catch::Contains("quantities must match the regular expression"));
  Json badTime = parse(R"({"metadata":{"name":"p","creationTimestamp":"yesterday"}})");
  CHECK(!decodeObject(badTime, kPod).ok());
  Json goodTime = parse(R"({"metadata":{"name":"p","creationTimestamp":"2024-01-02T03:04:05Z"}})");
  CHECK(decodeObject(goodTime, kPod).ok());
  // Go's zero time is a valid metav1.Time, outside the years a TimePoint holds.
  Json zeroTime = parse(R"({"metadata":{"name":"p","creationTimestamp":"0001-01-01T00:00:00Z"}})");
  CHECK(decodeObject(zeroTime, kPod).ok());
}

TEST_CASE("null values are accepted as absent", "[decode]") {
  Json svc = parse(R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"web","labels":null},
    "spec":{"ports":[{"port":80,"targetPort":null}],"selector":null},"status":null})");
  auto r = decodeObject(svc, kService);
  REQUIRE(r.ok());
  CHECK(!r->object["metadata"].contains("labels"));
  CHECK(!r->object["spec"].contains("selector"));
  CHECK(!r->object["spec"]["ports"][0].contains("targetPort"));
  CHECK(!r->object.contains("status"));
}

TEST_CASE("kWarn and kIgnore drop unknown fields", "[decode]") {
  Json svc = parse(R"({"metadata":{"name":"web"},"spec":{"port":[1],"ports":[{"port":80}]}})");
  auto warn = decodeObject(svc, kService, UnknownFields::kWarn);
  REQUIRE(warn.ok());
  CHECK(!warn->object["spec"].contains("port"));
  REQUIRE(warn->warnings.size() == 1);
  CHECK_THAT(warn->warnings[0], Catch::StartsWith("unknown field \"spec.port\""));
  auto ignore = decodeObject(svc, kService, UnknownFields::kIgnore);
  REQUIRE(ignore.ok());
  CHECK(ignore->warnings.empty());
  CHECK(!ignore->object["spec"].contains("port"));
  CHECK(ignore->object["spec"]["ports"][0]["port"] == 80);
}

TEST_CASE("apiVersion and kind must match the endpoint, or are filled in", "[decode]") {
  auto r = decodeObject(parse(R"({"metadata":{"name":"web"}})"), kService);
  REQUIRE(r.ok());
  CHECK(r->object["apiVersion"] == "v1");
  CHECK(r->object["kind"] == "Service");
  auto d = decodeObject(parse(R"({"metadata":{"name":"d"}})"), {"apps", "v1", "Deployment"});
  REQUIRE(d.ok());
  CHECK(d->object["apiVersion"] == "apps/v1");

  auto wrongVersion = decodeObject(parse(R"({"apiVersion":"apps/v1","kind":"Service"})"), kService);
  REQUIRE(!wrongVersion.ok());
  CHECK(wrongVersion.error().message ==
        "the API version in the data (apps/v1) does not match the expected API version (v1)");
  auto wrongKind = decodeObject(parse(R"({"apiVersion":"v1","kind":"Pod"})"), kService);
  REQUIRE(!wrongKind.ok());
  CHECK_THAT(wrongKind.error().message, Catch::Contains("(Pod)"));

  auto gvk = objectKind(parse(R"({"apiVersion":"apps/v1","kind":"Deployment"})"));
  REQUIRE(gvk.ok());
  CHECK(gvk->group == "apps");
  CHECK(gvk->version == "v1");
  CHECK(gvk->kind == "Deployment");
  CHECK(!objectKind(parse(R"({"apiVersion":"v1"})")).ok());
}

TEST_CASE("a realistic Deployment decodes cleanly", "[decode]") {
  Json d = parse(R"({
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "web", "labels": {"app": "web"}, "annotations": {"a": "b"}},
    "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
      "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": "25%"}},
      "template": {"metadata": {"labels": {"app": "web"}},
        "spec": {"containers": [{"name": "web", "image": "nginx:1.25",
          "ports": [{"containerPort": 80, "name": "http"}],
          "env": [{"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                  {"name": "PW", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}],
          "readinessProbe": {"httpGet": {"path": "/", "port": "http"}, "periodSeconds": 5},
          "livenessProbe": {"grpc": {"port": 9000}},
          "volumeMounts": [{"name": "data", "mountPath": "/data"}],
          "securityContext": {"runAsNonRoot": true, "capabilities": {"drop": ["ALL"]}}}],
          "volumes": [{"name": "data", "emptyDir": {}}, {"name": "cfg", "configMap": {"name": "c"}}],
          "affinity": {"nodeAffinity": {}},
          "tolerations": [{"key": "k", "operator": "Exists"}]}}}})");
  auto r = decodeObject(d, {"apps", "v1", "Deployment"});
  INFO((r.ok() ? "" : r.error().message));
  CHECK(r.ok());
}

TEST_CASE("affinity and topology spread are typed, so typos are caught", "[decode]") {
  Json pod = parse(R"({"metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"i"}],
    "affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[
      {"matchExpressions":[{"key":"kubernetes.io/os","operator":"In","values":["linux"]}]}]}},
      "podAntiAffinity":{"preferredDuringSchedulingIgnoredDuringExecution":[{"weight":1,
        "podAffinityTerm":{"topologyKey":"kubernetes.io/hostname","labelSelector":{"matchLabels":{"a":"b"}}}}]}},
    "topologySpreadConstraints":[{"maxSkew":1,"topologyKey":"zone","whenUnsatisfiable":"DoNotSchedule"}]}})");
  CHECK(decodeObject(pod, kPod).ok());
  pod["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
     ["nodeSelectorTerms"][0]["matchExpression"] = Json::array();
  auto r = decodeObject(pod, kPod);
  REQUIRE(!r.ok());
  CHECK_THAT(r.error().message,
             Catch::Contains("unknown field \"spec.affinity.nodeAffinity."
                             "requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0]."
                             "matchExpression\", did you mean"));
}

TEST_CASE("DeleteOptions decode in any served group-version", "[decode]") {
  const GroupVersionKind del{"", "v1", "DeleteOptions"};
  for (const char* av : {"v1", "meta.k8s.io/v1", "apps/v1"}) {
    Json o = Json{{"apiVersion", av},
                  {"kind", "DeleteOptions"},
                  {"propagationPolicy", "Foreground"},
                  {"gracePeriodSeconds", 0},
                  {"preconditions", {{"uid", "x"}}}};
    auto r = decodeObject(o, del);
    INFO(av);
    CHECK(r.ok());
  }
  auto bad = decodeObject(Json{{"propagationPolicy", "Background"}, {"orphan", true}}, del);
  REQUIRE(!bad.ok());
  CHECK_THAT(bad.error().message, Catch::Contains("unknown field \"orphan\""));
}
