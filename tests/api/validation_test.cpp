// Validation: field paths, types and texts as pkg/apis/core/validation writes them.
#include <catch2/catch.hpp>

#include "api/defaults.h"
#include "api/validation.h"

using namespace skiff;
using namespace skiff::api;

namespace {
const GroupVersionKind kService{"", "v1", "Service"};
const GroupVersionKind kPod{"", "v1", "Pod"};
const GroupVersionKind kDeployment{"apps", "v1", "Deployment"};

Json defaulted(const char* text, const GroupVersionKind& gvk) {
  Json j = Json::parse(text);
  applyDefaults(j, gvk);
  return j;
}

std::string messageOf(const FieldErrors& errs, const GroupVersionKind& gvk,
                      const std::string& name) {
  return invalidError(gvk, name, errs).message;
}

bool hasError(const FieldErrors& errs, const std::string& field, const std::string& part) {
  for (const Cause& c : errs) {
    if (c.field == field && c.message.find(part) != std::string::npos) return true;
  }
  return false;
}

std::string dump(const FieldErrors& errs) {
  std::string s;
  for (const Cause& c : errs) s += c.field + ": " + c.message + "\n";
  return s;
}

const char* kGoodService = R"({"metadata":{"name":"web","namespace":"default"},
  "spec":{"selector":{"app":"web"},"ports":[{"port":80,"targetPort":8080}]}})";
const char* kGoodPod = R"({"metadata":{"name":"web","namespace":"default"},
  "spec":{"containers":[{"name":"web","image":"nginx"}]}})";
}  // namespace

TEST_CASE("error builders and invalidError use Kubernetes' texts", "[validation]") {
  CHECK(invalid("spec.ports[0].port", 70000, "must be between 1 and 65535, inclusive").message ==
        "Invalid value: 70000: must be between 1 and 65535, inclusive");
  CHECK(invalid("metadata.name", "A", "x").message == "Invalid value: \"A\": x");
  CHECK(required("spec.ports").message == "Required value");
  CHECK(required("metadata.name", "name or generateName is required").message ==
        "Required value: name or generateName is required");
  CHECK(notSupported("spec.type", "Foo", {"ClusterIP", "NodePort"}).message ==
        "Unsupported value: \"Foo\": supported values: \"ClusterIP\", \"NodePort\"");
  CHECK(duplicate("spec.ports[1].name", "http").message == "Duplicate value: \"http\"");
  CHECK(forbidden("x", "nope").message == "Forbidden: nope");
  CHECK(tooLong("metadata.annotations", "", 262144).message ==
        "Too long: may not be more than 262144 bytes");

  FieldErrors one = {
      invalid("spec.ports[0].port", 70000, "must be between 1 and 65535, inclusive")};
  Error e = invalidError(kService, "web", one);
  CHECK(e.code == Code::kInvalid);
  CHECK(e.message ==
        "Service \"web\" is invalid: spec.ports[0].port: Invalid value: 70000: must be between 1 "
        "and 65535, inclusive");
  CHECK(e.name == "web");
  CHECK(e.kind == "Service");
  CHECK(e.causes.size() == 1);
  FieldErrors two = {required("a"), forbidden("b", "no")};
  CHECK(invalidError(kDeployment, "d", two).message ==
        "Deployment.apps \"d\" is invalid: [a: Required value, b: Forbidden: no]");
}

TEST_CASE("metadata names", "[validation]") {
  CHECK(validateCreate(defaulted(kGoodService, kService), kService).empty());

  Json longName = defaulted(kGoodPod, kPod);
  longName["metadata"]["name"] = std::string(300, 'a');
  FieldErrors errs = validateCreate(longName, kPod);
  REQUIRE(errs.size() == 1);
  CHECK(errs[0].field == "metadata.name");
  CHECK(errs[0].message ==
        "Invalid value: \"" + std::string(300, 'a') + "\": must be no more than 253 characters");

  Json svc = defaulted(kGoodService, kService);
  svc["metadata"]["name"] = "Web_1";
  errs = validateCreate(svc, kService);
  REQUIRE(errs.size() == 1);
  CHECK(messageOf(errs, kService, "Web_1") ==
        "Service \"Web_1\" is invalid: metadata.name: Invalid value: \"Web_1\": a DNS-1035 label "
        "must consist of lower case alphanumeric characters or '-', start with an alphabetic "
        "character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex "
        "used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')");
  svc["metadata"]["name"] = "1web";  // valid DNS-1123 label, not DNS-1035
  CHECK(!validateCreate(svc, kService).empty());
  svc["metadata"]["name"] = std::string(64, 'a');
  CHECK(hasError(validateCreate(svc, kService), "metadata.name",
                 "must be no more than 63 characters"));

  Json pod = defaulted(kGoodPod, kPod);
  pod["metadata"].erase("name");
  errs = validateCreate(pod, kPod);
  CHECK(hasError(errs, "metadata.name", "Required value: name or generateName is required"));
  pod["metadata"]["generateName"] = "web-";
  CHECK(validateCreate(pod, kPod).empty());
  pod["metadata"]["name"] = "web.example.com";
  CHECK(validateCreate(pod, kPod).empty());
  pod["metadata"].erase("namespace");
  CHECK(hasError(validateCreate(pod, kPod), "metadata.namespace", "Required value"));

  Json ns = defaulted(R"({"metadata":{"name":"a.b"}})", {"", "v1", "Namespace"});
  CHECK(hasError(validateCreate(ns, {"", "v1", "Namespace"}), "metadata.name",
                 "a lowercase RFC 1123 label must consist of"));
  ns = defaulted(R"({"metadata":{"name":"team","namespace":"x"}})", {"", "v1", "Namespace"});
  CHECK(hasError(validateCreate(ns, {"", "v1", "Namespace"}), "metadata.namespace",
                 "Forbidden: not allowed on this type"));
}

TEST_CASE("labels and annotations", "[validation]") {
  Json pod = defaulted(kGoodPod, kPod);
  pod["metadata"]["labels"] = {{"app", "web"}, {"example.com/tier", "front"}};
  CHECK(validateCreate(pod, kPod).empty());
  pod["metadata"]["labels"] = {{"bad key!", "x"}};
  CHECK(hasError(validateCreate(pod, kPod), "metadata.labels", "name part must consist of"));
  pod["metadata"]["labels"] = {{"app", std::string(64, 'v')}};
  CHECK(
      hasError(validateCreate(pod, kPod), "metadata.labels", "must be no more than 63 characters"));
  pod["metadata"]["labels"] = {{"app", "-x"}};
  CHECK(hasError(validateCreate(pod, kPod), "metadata.labels",
                 "a valid label must be an empty string"));
  pod["metadata"].erase("labels");
  pod["metadata"]["annotations"] = {{"a", std::string(300 * 1024, 'x')}};
  CHECK(hasError(validateCreate(pod, kPod), "metadata.annotations",
                 "Too long: may not be more than 262144 bytes"));
}

TEST_CASE("Service ports", "[validation]") {
  Json svc = defaulted(R"({"metadata":{"name":"web","namespace":"default"},
    "spec":{"selector":{"app":"web"},"ports":[{"port":70000}]}})",
                       kService);
  FieldErrors errs = validateCreate(svc, kService);
  CHECK(messageOf(errs, kService, "web") ==
        "Service \"web\" is invalid: [spec.ports[0].port: Invalid value: 70000: must be between 1 "
        "and 65535, inclusive, spec.ports[0].targetPort: Invalid value: 70000: must be between 1 "
        "and 65535, inclusive]");

  svc = defaulted(R"({"metadata":{"name":"web","namespace":"default"},
    "spec":{"ports":[{"port":80},{"port":80,"name":"b"},{"port":81,"name":"b","protocol":"ICMP"}]}})",
                  kService);
  errs = validateCreate(svc, kService);
  INFO(dump(errs));
  CHECK(hasError(errs, "spec.ports[0].name", "Required value"));
  CHECK(hasError(errs, "spec.ports[1]", "Duplicate value"));
  CHECK(hasError(errs, "spec.ports[2].name", "Duplicate value: \"b\""));
  CHECK(hasError(errs, "spec.ports[2].protocol",
                 "Unsupported value: \"ICMP\": supported values: \"SCTP\", \"TCP\", \"UDP\""));

  svc = defaulted(
      R"({"metadata":{"name":"web","namespace":"default"},"spec":{"selector":{"a":"b"}}})",
      kService);
  CHECK(hasError(validateCreate(svc, kService), "spec.ports", "Required value"));
  // Headless without ports is fine.
  svc = defaulted(
      R"({"metadata":{"name":"web","namespace":"default"},"spec":{"clusterIP":"None"}})", kService);
  CHECK(validateCreate(svc, kService).empty());

  svc = defaulted(R"({"metadata":{"name":"web","namespace":"default"},
    "spec":{"ports":[{"port":80,"nodePort":30080}]}})",
                  kService);
  CHECK(hasError(validateCreate(svc, kService), "spec.ports[0].nodePort",
                 "Forbidden: may not be used when `type` is 'ClusterIP'"));
  svc["spec"]["type"] = "NodePort";
  svc["spec"]["externalTrafficPolicy"] = "Cluster";
  CHECK(validateCreate(svc, kService).empty());
  svc["spec"]["ports"][0]["targetPort"] = "http";
  CHECK(validateCreate(svc, kService).empty());
  svc["spec"]["ports"][0]["targetPort"] = "Not_a_name";
  CHECK(hasError(validateCreate(svc, kService), "spec.ports[0].targetPort", "Invalid value"));
}

TEST_CASE("Service type, affinity, IPs and traffic policies", "[validation]") {
  Json svc = defaulted(kGoodService, kService);
  svc["spec"]["type"] = "Magic";
  CHECK(hasError(validateCreate(svc, kService), "spec.type",
                 "Unsupported value: \"Magic\": supported values: \"ClusterIP\", \"ExternalName\", "
                 "\"LoadBalancer\", \"NodePort\""));

  svc = defaulted(R"({"metadata":{"name":"web","namespace":"default"},"spec":{"ports":[{"port":80}],
    "sessionAffinity":"ClientIP","sessionAffinityConfig":{"clientIP":{"timeoutSeconds":90000}}}})",
                  kService);
  CHECK(hasError(validateCreate(svc, kService),
                 "spec.sessionAffinityConfig.clientIP.timeoutSeconds",
                 "Invalid value: 90000: must be greater than 0 and less than 86400"));
  svc["spec"]["sessionAffinity"] = "Sticky";
  CHECK(hasError(validateCreate(svc, kService), "spec.sessionAffinity", "Unsupported value"));

  svc = defaulted(kGoodService, kService);
  svc["spec"]["clusterIP"] = "10.96.0.300";
  svc["spec"].erase("clusterIPs");
  CHECK(hasError(validateCreate(svc, kService), "spec.clusterIP", "must be a valid IP address"));
  svc["spec"]["clusterIP"] = "10.96.0.30";
  CHECK(validateCreate(svc, kService).empty());
  svc["spec"]["externalIPs"] = {"192.168.1.10", "nope"};
  CHECK(
      hasError(validateCreate(svc, kService), "spec.externalIPs[1]", "must be a valid IP address"));
  svc["spec"].erase("externalIPs");
  svc["spec"]["externalTrafficPolicy"] = "Local";
  CHECK(hasError(validateCreate(svc, kService), "spec.externalTrafficPolicy",
                 "may only be set when `type` is 'NodePort' or 'LoadBalancer'"));

  Json en = defaulted(R"({"metadata":{"name":"ext","namespace":"default"},
    "spec":{"type":"ExternalName"}})",
                      kService);
  CHECK(hasError(validateCreate(en, kService), "spec.externalName", "Required value"));
  en["spec"]["externalName"] = "db.example.com.";
  CHECK(validateCreate(en, kService).empty());
  en["spec"]["externalName"] = "not valid";
  CHECK(hasError(validateCreate(en, kService), "spec.externalName", "RFC 1123 subdomain"));
}

TEST_CASE("Service update keeps clusterIP", "[validation]") {
  Json old = defaulted(kGoodService, kService);
  old["spec"]["clusterIP"] = "10.96.0.10";
  old["spec"]["clusterIPs"] = {"10.96.0.10"};
  Json now = old;
  CHECK(validateUpdate(now, old, kService).empty());
  now["spec"]["clusterIP"] = "10.96.0.11";
  now["spec"]["clusterIPs"] = {"10.96.0.11"};
  FieldErrors errs = validateUpdate(now, old, kService);
  REQUIRE(errs.size() == 1);
  CHECK(messageOf(errs, kService, "web") ==
        "Service \"web\" is invalid: spec.clusterIPs[0]: Invalid value: []string{\"10.96.0.11\"}: "
        "may not change once set");
  now = old;  // leaving the allocated IPs out is not a change
  now["spec"].erase("clusterIP");
  now["spec"].erase("clusterIPs");
  CHECK(validateUpdate(now, old, kService).empty());
  now = old;
  now["metadata"]["name"] = "other";
  CHECK(hasError(validateUpdate(now, old, kService), "metadata.name", "field is immutable"));
}

TEST_CASE("Pod spec", "[validation]") {
  CHECK(validateCreate(defaulted(kGoodPod, kPod), kPod).empty());
  Json pod = defaulted(R"({"metadata":{"name":"p","namespace":"default"},"spec":{
    "containers":[{"name":"web","ports":[{"containerPort":0},{"containerPort":80,"name":"http"}],
                   "volumeMounts":[{"name":"missing","mountPath":"/m"}],
                   "resources":{"limits":{"cpu":"1"},"requests":{"cpu":"2","memory":"bad"}},
                   "livenessProbe":{"periodSeconds":-1},
                   "env":[{"name":"A=B","value":"x"}]},
                  {"name":"web","image":"x","ports":[{"containerPort":81,"name":"http"}]},
                  {"name":"Bad_Name","image":"x"}],
    "volumes":[{"name":"v","emptyDir":{}},{"name":"v","hostPath":{"path":"/x"},"emptyDir":{}}],
    "restartPolicy":"Sometimes","dnsPolicy":"Weird"}})",
                       kPod);
  FieldErrors errs = validateCreate(pod, kPod);
  INFO(dump(errs));
  CHECK(hasError(errs, "spec.containers[0].image", "Required value"));
  CHECK(hasError(errs, "spec.containers[0].ports[0].containerPort", "Required value"));
  CHECK(hasError(errs, "spec.containers[0].volumeMounts[0].name", "Not found: \"missing\""));
  CHECK(hasError(errs, "spec.containers[0].resources.requests",
                 "Invalid value: \"2\": must be less than or equal to cpu limit of 1"));
  CHECK(hasError(errs, "spec.containers[0].resources.requests[memory]",
                 "quantities must match the regular expression"));
  CHECK(hasError(errs, "spec.containers[0].livenessProbe", "must specify a handler type"));
  CHECK(hasError(errs, "spec.containers[0].livenessProbe.periodSeconds",
                 "must be greater than or equal to 0"));
  CHECK(hasError(errs, "spec.containers[0].env[0].name",
                 "printable ASCII characters other than '='"));
  CHECK(hasError(errs, "spec.containers[1].name", "Duplicate value: \"web\""));
  CHECK(hasError(errs, "spec.containers[1].ports[0].name", "Duplicate value: \"http\""));
  CHECK(hasError(errs, "spec.containers[2].name", "RFC 1123 label"));
  CHECK(hasError(errs, "spec.volumes[1].name", "Duplicate value: \"v\""));
  CHECK(hasError(errs, "spec.volumes[1].emptyDir", "may not specify more than 1 volume type"));
  CHECK(hasError(errs, "spec.restartPolicy",
                 "Unsupported value: \"Sometimes\": supported values: \"Always\", \"Never\", "
                 "\"OnFailure\""));
  CHECK(hasError(errs, "spec.dnsPolicy", "Unsupported value: \"Weird\""));

  Json res = defaulted(kGoodPod, kPod);
  res["spec"]["containers"][0]["resources"] = {
      {"limits", {{"gpu", "1"}, {"example.com/gpu", "1"}}}};
  errs = validateCreate(res, kPod);
  REQUIRE(errs.size() == 1);
  CHECK(errs[0].field == "spec.containers[0].resources.limits[gpu]");
  CHECK(errs[0].message == "Invalid value: \"gpu\": must be a standard resource for containers");

  Json none = defaulted(R"({"metadata":{"name":"p","namespace":"default"},"spec":{}})", kPod);
  CHECK(hasError(validateCreate(none, kPod), "spec.containers", "Required value"));
}

TEST_CASE("validation: configMap, secret, downwardAPI and projected volumes", "[validation]") {
  Json pod = defaulted(kGoodPod, kPod);
  pod["spec"]["volumes"] = Json::parse(R"([
    {"name": "a", "configMap": {"name": "app", "defaultMode": 4096,
        "items": [{"key": "k", "path": "/etc/x"}, {"key": "", "path": "a/../../b", "mode": -1},
                  {"key": "k", "path": "..conf"}]}},
    {"name": "b", "secret": {"items": [{"key": "k", "path": ""}]}},
    {"name": "c", "downwardAPI": {"items": [{"path": "ip", "fieldRef": {"fieldPath": "status.podIP"}},
                                            {"path": "l", "fieldRef": {"fieldPath": "metadata.labels['app']"}},
                                            {"path": "none"}]}},
    {"name": "d", "projected": {"sources": [{"configMap": {"name": "x"}, "secret": {"name": "y"}},
                                            {"secret": {"items": [{"key": "k", "path": "../up"}]}},
                                            {"serviceAccountToken": {"path": "t", "expirationSeconds": 60}}]}}])");
  FieldErrors errs = validateCreate(pod, kPod);
  INFO(dump(errs));
  CHECK(
      hasError(errs, "spec.volumes[0].configMap.defaultMode",
               "Invalid value: 4096: must be a number between 0 and 0777 (octal), both inclusive"));
  CHECK(hasError(errs, "spec.volumes[0].configMap.items[0].path", "must be a relative path"));
  CHECK(hasError(errs, "spec.volumes[0].configMap.items[1].key", "Required value"));
  CHECK(hasError(errs, "spec.volumes[0].configMap.items[1].path", "must not contain '..'"));
  CHECK(hasError(errs, "spec.volumes[0].configMap.items[1].mode", "must be a number between"));
  CHECK(hasError(errs, "spec.volumes[0].configMap.items[2].path", "must not start with '..'"));
  CHECK(hasError(errs, "spec.volumes[1].secret.secretName", "Required value"));
  CHECK(hasError(errs, "spec.volumes[1].secret.items[0].path", "Required value"));
  CHECK(hasError(errs, "spec.volumes[2].downwardAPI.items[0].fieldRef.fieldPath",
                 "Unsupported value: \"status.podIP\""));
  CHECK(hasError(errs, "spec.volumes[2].downwardAPI.items[2]",
                 "one of fieldRef and resourceFieldRef is required"));
  CHECK(hasError(errs, "spec.volumes[3].projected.sources[0].secret",
                 "may not specify more than 1 volume type"));
  CHECK(hasError(errs, "spec.volumes[3].projected.sources[1].secret.name", "Required value"));
  CHECK(hasError(errs, "spec.volumes[3].projected.sources[1].secret.items[0].path",
                 "must not contain '..'"));
  CHECK(hasError(errs, "spec.volumes[3].projected.sources[2].serviceAccountToken.expirationSeconds",
                 "Invalid value: 60: may not specify a duration less than 10 minutes"));
  // "../up" breaks two rules, as in Kubernetes; metadata.labels['app'] is allowed.
  CHECK(errs.size() == 15);

  pod["spec"]["volumes"] = Json::parse(R"([
    {"name": "a", "configMap": {"name": "app", "items": [{"key": "k", "path": "conf/app.conf", "mode": 256}]}},
    {"name": "b", "secret": {"secretName": "s", "defaultMode": 384}},
    {"name": "c", "downwardAPI": {"items": [{"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}]}},
    {"name": "d", "projected": {"sources": [{"configMap": {"name": "x"}}, {"secret": {"name": "y"}},
                                            {"serviceAccountToken": {"path": "token", "audience": "vault"}}]}}])");
  CHECK(validateCreate(pod, kPod).empty());
}

TEST_CASE("Pod update may change only images, deadlines and added tolerations", "[validation]") {
  Json old = defaulted(kGoodPod, kPod);
  Json now = old;
  now["spec"]["containers"][0]["image"] = "nginx:1.26";
  now["spec"]["activeDeadlineSeconds"] = 100;
  now["spec"]["tolerations"] = {{{"key", "k"}, {"operator", "Exists"}}};
  CHECK(validateUpdate(now, old, kPod).empty());
  now["spec"]["containers"][0]["command"] = {"sh"};
  FieldErrors errs = validateUpdate(now, old, kPod);
  REQUIRE(errs.size() == 1);
  CHECK(errs[0].field == "spec");
  CHECK_THAT(errs[0].message,
             Catch::StartsWith("Forbidden: pod updates may not change fields other than "
                               "`spec.containers[*].image`,`spec.initContainers[*].image`,"
                               "`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions "
                               "to existing tolerations),`spec.terminationGracePeriodSeconds` "
                               "(allow it to be set to 1 if it was previously negative)"));
  CHECK_THAT(errs[0].message, Catch::Contains("spec.containers[0].command"));
}

TEST_CASE("Deployment selector and template", "[validation]") {
  const char* good = R"({"metadata":{"name":"web","namespace":"default"},"spec":{
    "selector":{"matchLabels":{"app":"web"}},
    "template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"c","image":"i"}]}}}})";
  Json d = defaulted(good, kDeployment);
  CHECK(validateCreate(d, kDeployment).empty());

  d["spec"]["template"]["metadata"]["labels"]["app"] = "other";
  FieldErrors errs = validateCreate(d, kDeployment);
  REQUIRE(errs.size() == 1);
  CHECK(messageOf(errs, kDeployment, "web") ==
        "Deployment.apps \"web\" is invalid: spec.template.metadata.labels: Invalid value: "
        "map[string]string{\"app\":\"other\"}: `selector` does not match template `labels`");

  d = defaulted(good, kDeployment);
  d["spec"]["replicas"] = -1;
  d["spec"]["template"]["spec"]["restartPolicy"] = "Never";
  d["spec"].erase("selector");
  errs = validateCreate(d, kDeployment);
  INFO(dump(errs));
  CHECK(hasError(errs, "spec.replicas", "Invalid value: -1: must be greater than or equal to 0"));
  CHECK(hasError(errs, "spec.selector", "Required value"));
  CHECK(hasError(errs, "spec.template.spec.restartPolicy",
                 "Unsupported value: \"Never\": supported values: \"Always\""));

  Json old = defaulted(good, kDeployment);
  Json now = old;
  now["spec"]["selector"]["matchLabels"]["tier"] = "x";
  now["spec"]["template"]["metadata"]["labels"]["tier"] = "x";
  CHECK(messageOf(validateUpdate(now, old, kDeployment), kDeployment, "web") ==
        "Deployment.apps \"web\" is invalid: spec.selector: Invalid value: "
        "v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"web\", \"tier\":\"x\"}, "
        "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable");

  Json rs = defaulted(R"({"metadata":{"name":"web","namespace":"default"},"spec":{
    "selector":{"matchExpressions":[{"key":"app","operator":"In","values":["web"]}]},
    "template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"c","image":"i"}]}}}})",
                      {"apps", "v1", "ReplicaSet"});
  CHECK(validateCreate(rs, {"apps", "v1", "ReplicaSet"}).empty());
}

TEST_CASE("Endpoints, Event, Node", "[validation]") {
  GroupVersionKind ep{"", "v1", "Endpoints"};
  Json e = defaulted(R"({"metadata":{"name":"web","namespace":"default"},"subsets":[
    {"addresses":[{"ip":"10.244.0.5"},{"ip":"300.1.1.1"},{"ip":"127.0.0.1"}],"ports":[{"port":80}]}]})",
                     ep);
  FieldErrors errs = validateCreate(e, ep);
  INFO(dump(errs));
  CHECK(errs.size() == 2);
  CHECK(hasError(errs, "subsets[0].addresses[1].ip", "must be a valid IP address"));
  CHECK(hasError(errs, "subsets[0].addresses[2].ip", "loopback"));

  GroupVersionKind ev{"", "v1", "Event"};
  Json event = Json::parse(R"({"metadata":{"name":"e1","namespace":"default"},
    "involvedObject":{"kind":"Pod","name":"p","namespace":"other"},"reason":"Started"})");
  CHECK(hasError(validateCreate(event, ev), "involvedObject.namespace",
                 "does not match event.namespace"));
  event["involvedObject"]["namespace"] = "default";
  CHECK(validateCreate(event, ev).empty());

  GroupVersionKind node{"", "v1", "Node"};
  Json n = Json::parse(R"({"metadata":{"name":"node-1"},"spec":{"podCIDR":"10.244.0.0/24",
    "taints":[{"key":"k","effect":"Sometimes"}]}})");
  CHECK(hasError(validateCreate(n, node), "spec.taints[0].effect", "Unsupported value"));
}

TEST_CASE("name helpers", "[validation]") {
  CHECK(isDns1123Label("web-1").empty());
  CHECK(!isDns1123Label("Web").empty());
  CHECK(isDns1123Subdomain("a.b-c.d").empty());
  CHECK(!isDns1123Subdomain("a..b").empty());
  CHECK(isDns1035Label("web").empty());
  CHECK(!isDns1035Label("1web").empty());
  // Long hostile input is handled without regex recursion.
  CHECK(!isDns1123Subdomain(std::string(1000000, 'a') + "!").empty());
}
