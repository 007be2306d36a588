#include <catch2/catch.hpp>

#include "client/discovery.h"
#include "client/kubeconfig.h"
#include "client/rest_client.h"

using namespace skiff;
using namespace skiff::client;
using api::Json;

TEST_CASE("kubeconfig picks the current context's cluster and user", "[client]") {
  std::string ca = "-----BEGIN CERTIFICATE-----\nabc\n-----END CERTIFICATE-----\n";
  std::string text = R"(apiVersion: v1
kind: Config
clusters:
- name: skiff
  cluster:
    server: https://127.0.0.1:6443/
    certificate-authority-data: )" +
                     base64Encode(ca) + R"(
- name: other
  cluster:
    server: https://10.0.0.1:6443
users:
- name: admin
  user:
    token: s3cret
contexts:
- name: skiff
  context: {cluster: skiff, user: admin}
- name: other
  context: {cluster: other, user: admin, namespace: kube-system}
current-context: skiff
)";
  auto c = parseKubeconfig(text, "", "");
  REQUIRE(c);
  CHECK(c->server == "https://127.0.0.1:6443");
  CHECK(c->caPem == ca);
  CHECK(c->token == "s3cret");
  CHECK(c->ns == "default");
  auto o = parseKubeconfig(text, "other", "");
  REQUIRE(o);
  CHECK(o->server == "https://10.0.0.1:6443");
  CHECK(o->ns == "kube-system");
  auto missing = parseKubeconfig(text, "nope", "");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message == "context was not found for specified context: nope");
}

TEST_CASE("kubeconfig path: flag, then $KUBECONFIG, then the default", "[client]") {
  CHECK(kubeconfigPath("/x/kc") == "/x/kc");
  setenv("KUBECONFIG", "/nonexistent/a:/nonexistent/b", 1);
  CHECK(kubeconfigPath("") == "/nonexistent/a");
  unsetenv("KUBECONFIG");
  CHECK(kubeconfigPath("") == "/var/lib/skiff/kubeconfig");
  auto r = loadKubeconfig("/nonexistent/kc");
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Code::kNotFound);
}

TEST_CASE("base64 round trip", "[client]") {
  for (std::string s : {"", "a", "ab", "abc", "abcd", "hello world\n"}) {
    auto d = base64Decode(base64Encode(s));
    REQUIRE(d);
    CHECK(*d == s);
  }
  CHECK(base64Encode("abc") == "YWJj");
  CHECK_FALSE(base64Decode("a*b"));
}

namespace {
Discovery sampleDiscovery() {
  Json core = Json::parse(R"({"kind":"APIResourceList","groupVersion":"v1","resources":[
    {"name":"pods","singularName":"pod","namespaced":true,"kind":"Pod","verbs":["get","list"],"shortNames":["po"],"categories":["all"]},
    {"name":"pods/status","singularName":"","namespaced":true,"kind":"Pod","verbs":["get"]},
    {"name":"services","singularName":"service","namespaced":true,"kind":"Service","verbs":["get"],"shortNames":["svc"],"categories":["all"]},
    {"name":"endpoints","singularName":"endpoints","namespaced":true,"kind":"Endpoints","verbs":["get"],"shortNames":["ep"]},
    {"name":"nodes","singularName":"node","namespaced":false,"kind":"Node","verbs":["get"],"shortNames":["no"]},
    {"name":"events","singularName":"event","namespaced":true,"kind":"Event","verbs":["get"],"shortNames":["ev"]}]})");
  Json apps = Json::parse(R"({"kind":"APIResourceList","groupVersion":"apps/v1","resources":[
    {"name":"deployments","singularName":"deployment","namespaced":true,"kind":"Deployment","verbs":["get"],"shortNames":["deploy"],"categories":["all"]}]})");
  Json appsOld =
      Json::parse(R"({"kind":"APIResourceList","groupVersion":"apps/v1beta1","resources":[
    {"name":"deployments","singularName":"deployment","namespaced":true,"kind":"Deployment","verbs":["get"],"shortNames":["deploy"],"categories":["all"]}]})");
  Json events =
      Json::parse(R"({"kind":"APIResourceList","groupVersion":"events.k8s.io/v1","resources":[
    {"name":"events","singularName":"event","namespaced":true,"kind":"Event","verbs":["get"],"shortNames":["ev"]}]})");
  return Discovery::fromDocuments({core, apps, appsOld, events});
}
}  // namespace

TEST_CASE("a cached discovery reads the server again once when a name is not found",
          "[client]") {
  Json core = Json::parse(R"({"kind":"APIResourceList","groupVersion":"v1","resources":[
    {"name":"pods","singularName":"pod","namespaced":true,"kind":"Pod","verbs":["get"]}]})");
  Json widgets = Json::parse(R"({"kind":"APIResourceList","groupVersion":"example.com/v1",
    "resources":[{"name":"widgets","singularName":"widget","namespaced":true,"kind":"Widget",
    "verbs":["get"]}]})");
  Discovery d = Discovery::fromDocuments({core});  // the stale cache
  int calls = 0;
  d.setRefresher([&]() -> skiff::Result<std::vector<Json>> {
    ++calls;
    return std::vector<Json>{core, widgets};
  });
  CHECK(d.resolve("pods"));
  CHECK(calls == 0);  // found in the cache: no request
  auto w = d.resolve("widget");
  REQUIRE(w);
  CHECK(w->group == "example.com");
  CHECK(calls == 1);
  CHECK(d.forKind("example.com/v1", "Widget"));
  CHECK_FALSE(d.resolve("gadgets"));
  CHECK(calls == 1);  // once only
  auto missing = d.resolve("pdos");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message.find("the server doesn't have a resource type \"pdos\"") !=
        std::string::npos);
}

TEST_CASE("resource names resolve as kubectl resolves them", "[client]") {
  Discovery d = sampleDiscovery();
  for (std::string n : {"po", "pod", "pods", "Pod", "PODS", "pods.v1"}) {
    auto t = d.resolve(n);
    REQUIRE(t);
    CHECK(t->name == "pods");
    CHECK(t->collectionPath("default") == "/api/v1/namespaces/default/pods");
  }
  CHECK(d.resolve("svc")->kind == "Service");
  CHECK(d.resolve("ep")->name == "endpoints");
  CHECK(d.resolve("no")->namespaced == false);
  CHECK(d.resolve("no")->collectionPath("default") == "/api/v1/nodes");
  auto deploy = d.resolve("deploy");
  REQUIRE(deploy);
  CHECK(deploy->objectPath("ns1", "web") == "/apis/apps/v1/namespaces/ns1/deployments/web");
  CHECK(d.resolve("deployments.apps")->group == "apps");
  CHECK(d.resolve("deployments.v1.apps")->group == "apps");
  CHECK(d.resolve("ev")->group == "");  // core wins over events.k8s.io
  CHECK(d.resolve("events.events.k8s.io")->group == "events.k8s.io");
  CHECK_FALSE(d.resolve("pods/status"));
}

TEST_CASE("type lists expand categories as kubectl does", "[client]") {
  Discovery d = sampleDiscovery();
  auto names = [](const std::vector<skiff::client::ResourceType>& ts) {
    std::vector<std::string> out;
    for (const auto& t : ts) out.push_back(t.qualifiedName() + "/" + t.version);
    return out;
  };
  // The preferred version's types that list the category, in discovery order.
  auto all = d.resolveList("all");
  REQUIRE(all);
  CHECK(names(*all) == std::vector<std::string>{"pods/v1", "services/v1", "deployments.apps/v1"});
  auto mixed = d.resolveList("no,all,,ev");
  REQUIRE(mixed);
  CHECK(names(*mixed) == std::vector<std::string>{"nodes/v1", "pods/v1", "services/v1",
                                                  "deployments.apps/v1", "events/v1"});
  auto bad = d.resolveList("all,pdos");  // resolve()'s error for the first bad name
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message == d.resolve("pdos").error().message);
  auto none = d.resolveList(",");
  REQUIRE(none);
  CHECK(none->empty());
}

TEST_CASE("unknown resource types name the nearest one", "[client]") {
  Discovery d = sampleDiscovery();
  auto r = d.resolve("pdos");
  REQUIRE_FALSE(r);
  CHECK(r.error().message ==
        "the server doesn't have a resource type \"pdos\" (did you mean \"pods\"?)");
  auto far = d.resolve("zzzzzzzz");
  REQUIRE_FALSE(far);
  CHECK(far.error().message == "the server doesn't have a resource type \"zzzzzzzz\"");
  CHECK(renderError(far.error()) == "error: the server doesn't have a resource type \"zzzzzzzz\"");
  auto k = d.forKind("v1", "Service");
  REQUIRE(k);
  CHECK(k->name == "services");
  CHECK_FALSE(d.forKind("v1", "Deployment"));
}

TEST_CASE("Status responses render as kubectl's errors", "[client]") {
  Response r;
  r.status = 404;
  r.body =
      R"({"kind":"Status","apiVersion":"v1","status":"Failure","message":"pods \"x\" not found","reason":"NotFound","details":{"name":"x","kind":"pods"},"code":404})";
  Error e = errorFromResponse(r);
  CHECK(e.code == Code::kNotFound);
  CHECK(e.name == "x");
  CHECK(isServerError(e));
  CHECK(renderError(e) == "Error from server (NotFound): pods \"x\" not found");
  CHECK(renderError(e, "error when creating \"p.yaml\": ") ==
        "Error from server (NotFound): error when creating \"p.yaml\": pods \"x\" not found");

  Response u;
  u.status = 401;
  u.body =
      R"({"kind":"Status","apiVersion":"v1","status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401})";
  CHECK(renderError(errorFromResponse(u)) ==
        "error: You must be logged in to the server (Unauthorized)");

  Response plain;
  plain.status = 404;
  plain.body = "404 page not found";
  CHECK(renderError(errorFromResponse(plain)) ==
        "Error from server (NotFound): the server could not find the requested resource");
}

TEST_CASE("a refused connection says so, with the host and port", "[client]") {
  ClientConfig c;
  c.server = "https://127.0.0.1:1";  // nothing listens on port 1
  RestClient client(c);
  CHECK(client.hostPort() == "127.0.0.1:1");
  auto r = client.get("/api");
  REQUIRE_FALSE(r);
  CHECK_FALSE(isServerError(r.error()));
  CHECK(renderError(r.error()) ==
        "The connection to the server 127.0.0.1:1 was refused - did you specify the right host or "
        "port?");
}
