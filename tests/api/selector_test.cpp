#include <catch2/catch.hpp>

#include "api/selector.h"

using skiff::Code;
using skiff::api::FieldSelector;
using skiff::api::Json;
using skiff::api::LabelSelector;

namespace {

bool matches(const std::string& sel, const Json& labels) {
  auto s = LabelSelector::parse(sel);
  REQUIRE(s.ok());
  return s->matches(labels);
}

std::string parseError(const std::string& sel) {
  auto s = LabelSelector::parse(sel);
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().code == Code::kBadRequest);
  return s.error().message;
}

}  // namespace

TEST_CASE("label selector: equality, inequality and sets match as Kubernetes") {
  Json labels = {{"app", "web"}, {"tier", "frontend"}, {"track", "stable"}};
  CHECK(matches("app=web", labels));
  CHECK(matches("app==web", labels));
  CHECK_FALSE(matches("app=db", labels));
  CHECK(matches("app!=db", labels));
  CHECK(matches("missing!=x", labels));  // != matches objects without the key
  CHECK(matches("app=web,tier=frontend", labels));
  CHECK_FALSE(matches("app=web,tier=backend", labels));
  CHECK(matches("tier in (frontend, backend)", labels));
  CHECK_FALSE(matches("tier notin (frontend,backend)", labels));
  CHECK(matches("missing notin (a)", labels));
  CHECK_FALSE(matches("missing in (a)", labels));
  CHECK(matches("app", labels));
  CHECK_FALSE(matches("!app", labels));
  CHECK(matches("!missing", labels));
  CHECK(matches("", labels));
  CHECK(matches("", Json()));
  CHECK_FALSE(matches("app", Json()));
  CHECK(matches("app=web , !gone", labels));
}

TEST_CASE("label selector: in/notin keywords are identifiers in value position") {
  CHECK(matches("x=in", Json{{"x", "in"}}));
  CHECK(matches("x in (in,notin)", Json{{"x", "notin"}}));
}

TEST_CASE("label selector: empty value forms") {
  CHECK(matches("x=", Json{{"x", ""}}));
  CHECK_FALSE(matches("x=", Json{{"x", "a"}}));
  CHECK(matches("x in ()", Json{{"x", ""}}));
  CHECK(matches("x in (,a)", Json{{"x", ""}}));
}

TEST_CASE("label selector: gt and lt compare integers") {
  CHECK(matches("replicas>2", Json{{"replicas", "3"}}));
  CHECK_FALSE(matches("replicas>2", Json{{"replicas", "2"}}));
  CHECK(matches("replicas<2", Json{{"replicas", "1"}}));
  CHECK_FALSE(matches("replicas<2", Json{{"replicas", "x"}}));
  CHECK_FALSE(matches("replicas<2", Json::object()));
}

TEST_CASE("label selector: parse errors use Kubernetes' texts") {
  CHECK(parseError("app=web,") == "found '', expected: identifier after ','");
  CHECK(parseError("app=web tier=x") == "found 'tier', expected: ',' or 'end of string'");
  CHECK(parseError("=web") == "found '=', expected: !, identifier, or 'end of string'");
  CHECK(parseError("app in web") == "unable to parse requirement: found 'web' expected: '('");
  CHECK(parseError("app in (a") == "unable to parse requirement: found '', expected: ',' or ')'");
  CHECK(parseError("app ~ x") ==
        "unable to parse requirement: found '~', expected: in, notin, =, ==, !=, gt, lt");
  CHECK(parseError("!app=x") == "found '=', expected: ',' or 'end of string'");
  CHECK(parseError("app=(x)") == "unable to parse requirement: found '(', expected: identifier");
}

TEST_CASE("label selector: invalid keys and values are rejected with validation text") {
  CHECK(parseError("-app=x") ==
        "unable to parse requirement: <nil>: Invalid value: \"-app\": name part must consist of "
        "alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric "
        "character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
        "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')");
  CHECK(parseError("app=bad value!") == "found 'value', expected: ',' or 'end of string'");
  std::string e = parseError("app=-x");
  CHECK(e.rfind("unable to parse requirement: values[0][app]: Invalid value: \"-x\": a valid "
                "label must be an empty string",
                0) == 0);
  CHECK(parseError("Example.com/app=x").find("prefix part a lowercase RFC 1123 subdomain") !=
        std::string::npos);
  CHECK(parseError(std::string(64, 'a') + "=x")
            .find("name part must be no more than 63 characters") != std::string::npos);
  CHECK(matches("example.com/app=x", Json{{"example.com/app", "x"}}));
}

TEST_CASE("label selector: toString sorts by key and normalises values") {
  auto s = LabelSelector::parse("tier notin (b,a),app=web,!gone,env");
  REQUIRE(s.ok());
  CHECK(s->toString() == "app=web,env,!gone,tier notin (a,b)");
}

TEST_CASE("label selector: fromJson builds metav1.LabelSelector semantics") {
  auto s = LabelSelector::fromJson(Json::parse(R"({
    "matchLabels": {"app": "web"},
    "matchExpressions": [
      {"key": "tier", "operator": "In", "values": ["frontend", "edge"]},
      {"key": "legacy", "operator": "DoesNotExist"},
      {"key": "track", "operator": "Exists"},
      {"key": "zone", "operator": "NotIn", "values": ["b"]}
    ]})"));
  REQUIRE(s.ok());
  CHECK(s->matches({{"app", "web"}, {"tier", "edge"}, {"track", "x"}}));
  CHECK_FALSE(s->matches({{"app", "web"}, {"tier", "edge"}}));
  CHECK_FALSE(s->matches({{"app", "web"}, {"tier", "edge"}, {"track", "x"}, {"legacy", "1"}}));
  CHECK_FALSE(s->matches({{"app", "web"}, {"tier", "edge"}, {"track", "x"}, {"zone", "b"}}));
  CHECK(s->toString() == "app=web,!legacy,tier in (edge,frontend),track,zone notin (b)");

  auto all = LabelSelector::fromJson(Json::object());
  REQUIRE(all.ok());
  CHECK(all->empty());
  CHECK(all->matches(Json{{"a", "b"}}));

  auto none = LabelSelector::fromJson(Json());
  REQUIRE(none.ok());
  CHECK_FALSE(none->empty());
  CHECK_FALSE(none->matches(Json{{"a", "b"}}));

  auto badOp = LabelSelector::fromJson(
      Json::parse(R"({"matchExpressions":[{"key":"a","operator":"Gt","values":["1"]}]})"));
  REQUIRE_FALSE(badOp.ok());
  CHECK(badOp.error().message == "\"Gt\" is not a valid label selector operator");

  auto noValues =
      LabelSelector::fromJson(Json::parse(R"({"matchExpressions":[{"key":"a","operator":"In"}]})"));
  REQUIRE_FALSE(noValues.ok());
  CHECK(
      noValues.error().message ==
      "values: Invalid value: []string{}: for 'in', 'notin' operators, values set can't be empty");
}

TEST_CASE("label selector: fromMap is every pair equal") {
  auto s = LabelSelector::fromMap(Json{{"app", "web"}, {"tier", "db"}});
  CHECK(s.matches(Json{{"app", "web"}, {"tier", "db"}, {"x", "y"}}));
  CHECK_FALSE(s.matches(Json{{"app", "web"}}));
  CHECK(LabelSelector::fromMap(Json()).empty());
}

TEST_CASE("field selector: pods support Kubernetes' pod fields") {
  Json pod = Json::parse(R"({
    "metadata": {"name": "web-1", "namespace": "default"},
    "spec": {"nodeName": "node1", "restartPolicy": "Always", "schedulerName": "default-scheduler",
             "serviceAccountName": "default"},
    "status": {"phase": "Running", "podIP": "10.244.0.5"}})");
  auto match = [&](const std::string& text) {
    auto s = FieldSelector::parse(text, "pods");
    REQUIRE(s.ok());
    return s->matches(pod);
  };
  CHECK(match("spec.nodeName=node1"));
  CHECK(match("spec.nodeName==node1,status.phase!=Pending"));
  CHECK_FALSE(match("status.phase=Pending"));
  CHECK(match("metadata.name=web-1,metadata.namespace=default"));
  CHECK(match("spec.hostNetwork=false"));
  CHECK(match("status.podIP=10.244.0.5"));
  CHECK(match("status.nominatedNodeName="));
  CHECK(match("spec.restartPolicy=Always,spec.schedulerName=default-scheduler"));
  CHECK(match("spec.serviceAccountName=default"));
  CHECK(match("spec.host=node1"));  // old clients' name for spec.nodeName
  CHECK(match(""));

  auto bad = FieldSelector::parse("spec.containers=x", "pods");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code == Code::kBadRequest);
  CHECK(bad.error().message == "field label not supported: spec.containers");
}

TEST_CASE("field selector: per-resource fields and default text") {
  auto ep = FieldSelector::parse("spec.foo=x", "endpoints");
  REQUIRE_FALSE(ep.ok());
  CHECK(
      ep.error().message ==
      "\"spec.foo\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\"");
  CHECK(FieldSelector::parse("metadata.name=x", "deployments").ok());

  Json node = {{"metadata", {{"name", "n1"}}}, {"spec", {{"unschedulable", true}}}};
  auto ns = FieldSelector::parse("spec.unschedulable=true", "nodes");
  REQUIRE(ns.ok());
  CHECK(ns->matches(node));
  CHECK(FieldSelector::parse("metadata.namespace=x", "nodes").error().message ==
        "field label not supported: metadata.namespace");

  Json namespaceObj = {{"metadata", {{"name", "dev"}}}, {"status", {{"phase", "Active"}}}};
  auto nsel = FieldSelector::parse("status.phase=Active", "namespaces");
  REQUIRE(nsel.ok());
  CHECK(nsel->matches(namespaceObj));

  Json event = Json::parse(R"({"metadata":{"name":"e1","namespace":"default"},
    "involvedObject":{"kind":"Pod","name":"web","namespace":"default","uid":"u1"},
    "reason":"Pulled","type":"Normal","source":{"component":"kubelet"},
    "reportingComponent":"kubelet"})");
  auto es = FieldSelector::parse(
      "involvedObject.kind=Pod,involvedObject.name=web,involvedObject.uid=u1,reason=Pulled,"
      "type=Normal,source=kubelet,reportingComponent=kubelet",
      "events");
  REQUIRE(es.ok());
  CHECK(es->matches(event));

  Json svc = {{"metadata", {{"name", "s"}}},
              {"spec", {{"type", "NodePort"}, {"clusterIP", "10.96.0.9"}}}};
  auto ss = FieldSelector::parse("spec.type=NodePort,spec.clusterIP=10.96.0.9", "services");
  REQUIRE(ss.ok());
  CHECK(ss->matches(svc));

  Json rs = {{"metadata", {{"name", "r"}}}, {"status", {{"replicas", 3}}}};
  auto rss = FieldSelector::parse("status.replicas=3", "replicasets");
  REQUIRE(rss.ok());
  CHECK(rss->matches(rs));
  auto rs0 = FieldSelector::parse("status.replicas=0", "replicasets");
  CHECK(rs0->matches(Json{{"metadata", {{"name", "r"}}}}));
}

TEST_CASE("field selector: syntax errors and escapes") {
  auto noOp = FieldSelector::parse("metadata.name", "pods");
  REQUIRE_FALSE(noOp.ok());
  CHECK(noOp.error().message ==
        "invalid selector: 'metadata.name'; can't understand 'metadata.name'");
  auto esc = FieldSelector::parse("metadata.name=a\\,b", "pods");
  REQUIRE(esc.ok());
  CHECK(esc->matches(Json{{"metadata", {{"name", "a,b"}}}}));
  CHECK(esc->toString() == "metadata.name=a\\,b");
  auto badEsc = FieldSelector::parse("metadata.name=a\\x", "pods");
  REQUIRE_FALSE(badEsc.ok());
  CHECK(badEsc.error().message == "invalid field selector: invalid escape sequence: \\x");
  auto unescaped = FieldSelector::parse("metadata.name=a=b", "pods");
  REQUIRE_FALSE(unescaped.ok());
  CHECK(unescaped.error().message == "invalid field selector: unescaped character in value: 61");
}
