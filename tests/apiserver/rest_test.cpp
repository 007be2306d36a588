// RestApi through handle(): verbs, status codes, Kubernetes error texts,
// create/update/patch/delete semantics, bad bodies.
#include <catch2/catch.hpp>

#include <thread>

#include "tests/apiserver/rest_test_util.h"

using namespace skiff::apiserver::testing;
using skiff::api::Json;

namespace {

size_t itemCount(Cluster& c, const std::string& path) {
  auto r = c.get(path);
  REQUIRE(r.status == 200);
  return r.json["items"].size();
}

void requireStatus(const Response& r, int code, const std::string& reason) {
  INFO(r.body);
  REQUIRE(r.status == code);
  REQUIRE(r.json["kind"] == "Status");
  REQUIRE(r.json["apiVersion"] == "v1");
  REQUIRE(r.json["status"] == "Failure");
  REQUIRE(r.json["code"] == code);
  REQUIRE(r.json["reason"] == reason);
}

}  // namespace

TEST_CASE("bootstrap creates the system namespaces and the kubernetes Service", "[rest]") {
  Cluster c;
  for (const char* ns : {"default", "kube-system", "kube-public", "kube-node-lease"}) {
    auto r = c.get(std::string("/api/v1/namespaces/") + ns);
    INFO(r.body);
    REQUIRE(r.status == 200);
    CHECK(r.json["status"]["phase"] == "Active");
  }
  auto svc = c.get("/api/v1/namespaces/default/services/kubernetes");
  REQUIRE(svc.status == 200);
  CHECK(svc.json["spec"]["clusterIP"] == "10.96.0.1");
  CHECK(svc.json["spec"]["ports"][0]["port"] == 443);
  CHECK(svc.json["spec"]["ports"][0]["targetPort"] == 6443);
  CHECK(c.store->get("/registry/allocations/clusterips/10.96.0.1").ok());
}

TEST_CASE("a created pod runs as a ServiceAccount: default unless it names one", "[rest]") {
  Cluster c;
  auto plain = c.post("/api/v1/namespaces/default/pods", pod("plain"));
  REQUIRE(plain.status == 201);
  CHECK(plain.json["spec"]["serviceAccountName"] == "default");
  CHECK(plain.json["spec"]["serviceAccount"] == "default");
  Json old = pod("old");
  old["spec"]["serviceAccount"] = "builder";  // the deprecated field alone
  auto o = c.post("/api/v1/namespaces/default/pods", old);
  REQUIRE(o.status == 201);
  CHECK(o.json["spec"]["serviceAccountName"] == "builder");
  CHECK(o.json["spec"]["serviceAccount"] == "builder");
  // A pod template is not a pod: a Deployment's stays as written.
  Json rs = {
      {"apiVersion", "apps/v1"},
      {"kind", "ReplicaSet"},
      {"metadata", {{"name", "web"}}},
      {"spec",
       {{"selector", {{"matchLabels", {{"app", "web"}}}}},
        {"template", {{"metadata", {{"labels", {{"app", "web"}}}}}, {"spec", pod("x")["spec"]}}}}}};
  auto r = c.post("/apis/apps/v1/namespaces/default/replicasets", rs);
  REQUIRE(r.status == 201);
  CHECK_FALSE(r.json["spec"]["template"]["spec"].contains("serviceAccountName"));
}

TEST_CASE("a created pod's qosClass follows its containers' cpu and memory", "[rest]") {
  Cluster c;
  auto withResources = [](const std::string& name, Json resources) {
    Json p = pod(name);
    p["spec"]["containers"][0]["resources"] = std::move(resources);
    return p;
  };
  Json both = {{"cpu", "100m"}, {"memory", "64Mi"}};
  struct Case {
    const char* name;
    Json resources;
    const char* qos;
  } cases[] = {
      {"limits-equal", {{"limits", both}, {"requests", both}}, "Guaranteed"},
      {"limits-only", {{"limits", both}}, "Guaranteed"},
      {"requests-only", {{"requests", both}}, "Burstable"},
      {"cpu-limit-only", {{"limits", {{"cpu", "1"}}}}, "Burstable"},
      {"requests-below",
       {{"limits", both}, {"requests", {{"cpu", "50m"}, {"memory", "64Mi"}}}},
       "Burstable"},
      {"other-resource", {{"limits", {{"ephemeral-storage", "1Gi"}}}}, "BestEffort"},
  };
  for (const Case& k : cases) {
    auto r = c.post("/api/v1/namespaces/default/pods", withResources(k.name, k.resources));
    INFO(k.name << ": " << r.body);
    REQUIRE(r.status == 201);
    CHECK(r.json["status"]["qosClass"] == k.qos);
  }
}

TEST_CASE("self reviews answer for the caller and store nothing", "[rest]") {
  Cluster c;
  const auto before = c.store->currentRevision();
  Json ssar = {{"apiVersion", "authorization.k8s.io/v1"},
               {"kind", "SelfSubjectAccessReview"},
               {"spec",
                {{"resourceAttributes",
                  {{"verb", "delete"}, {"resource", "pods"}, {"namespace", "default"}}}}}};
  auto r = c.post("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", ssar);
  INFO(r.body);
  REQUIRE(r.status == 201);
  CHECK(r.json["status"]["allowed"] == true);
  CHECK(r.json["spec"] == ssar["spec"]);  // the question comes back with its answer
  CHECK(r.json["metadata"]["creationTimestamp"].is_null());

  Json both = ssar;
  both["spec"]["nonResourceAttributes"] = {{"path", "/healthz"}, {"verb", "get"}};
  auto bad = c.post("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", both);
  CHECK(bad.status == 422);
  const std::string badText = bad.json["message"];
  CHECK(badText.rfind("SelfSubjectAccessReview.authorization.k8s.io \"\" is invalid: "
                      "spec.nonResourceAttributes: Invalid value: ",
                      0) == 0);
  CHECK(badText.find(": cannot be specified in combination with resourceAttributes") !=
        std::string::npos);
  Json neither = ssar;
  neither["spec"] = Json::object();
  auto none = c.post("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", neither);
  CHECK(none.status == 422);
  CHECK(none.json["message"].get<std::string>().find(
            "spec.resourceAttributes: Invalid value: \"null\": exactly one of "
            "nonResourceAttributes or resourceAttributes must be specified") != std::string::npos);
  Json typo = ssar;
  typo["spec"]["resourceAtributes"] = typo["spec"]["resourceAttributes"];
  auto strict = c.post("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", typo);
  CHECK(strict.status == 400);
  CHECK(strict.json["message"].get<std::string>().find("spec.resourceAtributes") !=
        std::string::npos);

  Json ssrr = {{"apiVersion", "authorization.k8s.io/v1"},
               {"kind", "SelfSubjectRulesReview"},
               {"spec", {{"namespace", "default"}}}};
  auto rules = c.post("/apis/authorization.k8s.io/v1/selfsubjectrulesreviews", ssrr);
  REQUIRE(rules.status == 201);
  CHECK(rules.json["status"]["resourceRules"][0]["verbs"] == Json::array({"*"}));
  CHECK(rules.json["status"]["incomplete"] == false);
  ssrr["spec"] = Json::object();
  auto noNs = c.post("/apis/authorization.k8s.io/v1/selfsubjectrulesreviews", ssrr);
  CHECK(noNs.status == 400);
  CHECK(noNs.json["message"] == "no namespace on request");

  Json ssr = {{"apiVersion", "authentication.k8s.io/v1"}, {"kind", "SelfSubjectReview"}};
  auto who = c.post("/apis/authentication.k8s.io/v1/selfsubjectreviews", ssr);
  REQUIRE(who.status == 201);
  CHECK(who.json["status"]["userInfo"]["username"] == "admin");
  CHECK(who.json["status"]["userInfo"]["groups"] ==
        Json::array({"system:masters", "system:authenticated"}));
  Json wrongKind = ssr;
  wrongKind["kind"] = "SelfSubjectAccessReview";
  CHECK(c.post("/apis/authentication.k8s.io/v1/selfsubjectreviews", wrongKind).status == 400);

  CHECK(c.get("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews").status == 405);
  CHECK(c.get("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews/x").status == 405);
  CHECK(c.store->currentRevision() == before);
}

TEST_CASE("create, get and list pods", "[rest]") {
  Cluster c;
  auto r = c.post("/api/v1/namespaces/default/pods", pod("web"));
  INFO(r.body);
  REQUIRE(r.status == 201);
  CHECK(r.json["metadata"]["uid"].get<std::string>().size() == 36);
  CHECK(r.json["metadata"]["uid"].get<std::string>()[14] == '4');
  std::string ts = r.json["metadata"]["creationTimestamp"];
  CHECK(ts.size() == 20);
  CHECK(ts.back() == 'Z');
  CHECK(r.json["status"]["phase"] == "Pending");
  CHECK(r.json["status"]["qosClass"] == "BestEffort");
  std::string rv = r.json["metadata"]["resourceVersion"];
  CHECK(std::stoll(rv) == c.store->currentRevision());

  auto g = c.get("/api/v1/namespaces/default/pods/web");
  REQUIRE(g.status == 200);
  CHECK(g.json == r.json);

  auto l = c.get("/api/v1/namespaces/default/pods");
  REQUIRE(l.status == 200);
  CHECK(l.json["kind"] == "PodList");
  CHECK(l.json["apiVersion"] == "v1");
  CHECK(l.json["metadata"]["resourceVersion"] == std::to_string(c.store->currentRevision()));
  REQUIRE(l.json["items"].size() == 1);
  CHECK(itemCount(c, "/api/v1/pods") == 1);
  CHECK(itemCount(c, "/api/v1/namespaces/kube-system/pods") == 0);

  SECTION("already exists") {
    auto again = c.post("/api/v1/namespaces/default/pods", pod("web"));
    requireStatus(again, 409, "AlreadyExists");
    CHECK(again.json["message"] == "pods \"web\" already exists");
    CHECK(again.json["details"]["name"] == "web");
    CHECK(again.json["details"]["kind"] == "pods");
  }
  SECTION("not found") {
    auto nf = c.get("/api/v1/namespaces/default/pods/nope");
    requireStatus(nf, 404, "NotFound");
    CHECK(nf.json["message"] == "pods \"nope\" not found");
  }
}

TEST_CASE("create checks the namespace", "[rest]") {
  Cluster c;
  auto missing = c.post("/api/v1/namespaces/nope/pods", pod("web", "nope"));
  requireStatus(missing, 404, "NotFound");
  CHECK(missing.json["message"] == "namespaces \"nope\" not found");

  auto mismatch = c.post("/api/v1/namespaces/default/pods", pod("web", "kube-system"));
  requireStatus(mismatch, 400, "BadRequest");
  CHECK(mismatch.json["message"] ==
        "the namespace of the provided object does not match the namespace sent on the request");

  auto absent = c.post("/api/v1/namespaces/default/pods", pod("web", ""));
  REQUIRE(absent.status == 201);
  CHECK(absent.json["metadata"]["namespace"] == "default");
}

TEST_CASE("generateName, dryRun and fieldValidation", "[rest]") {
  Cluster c;
  Json p = pod("");
  p["metadata"].erase("name");
  p["metadata"]["generateName"] = "web-";
  auto r = c.post("/api/v1/namespaces/default/pods", p);
  INFO(r.body);
  REQUIRE(r.status == 201);
  std::string name = r.json["metadata"]["name"];
  REQUIRE(name.size() == 9);
  CHECK(name.rfind("web-", 0) == 0);

  auto dry = c.post("/api/v1/namespaces/default/pods?dryRun=All", pod("dry"));
  REQUIRE(dry.status == 201);
  CHECK(c.get("/api/v1/namespaces/default/pods/dry").status == 404);

  Json unknown = pod("u");
  unknown["spec"]["foo"] = 1;
  auto strict = c.post("/api/v1/namespaces/default/pods", unknown);
  requireStatus(strict, 400, "BadRequest");
  CHECK(strict.json["message"].get<std::string>().find("spec.foo") != std::string::npos);

  auto warn =
      c.call("POST", "/api/v1/namespaces/default/pods?fieldValidation=Warn", unknown.dump());
  REQUIRE(warn.status == 201);
  CHECK(warn.header("Warning") == "299 - \"unknown field \\\"spec.foo\\\"\"");
  CHECK_FALSE(warn.json["spec"].contains("foo"));
  unknown["metadata"]["name"] = "u2";
  auto ignore =
      c.call("POST", "/api/v1/namespaces/default/pods?fieldValidation=Ignore", unknown.dump());
  REQUIRE(ignore.status == 201);
  CHECK(ignore.header("Warning").empty());
}

TEST_CASE("bad bodies are refused with a Status and nothing is stored", "[rest]") {
  Cluster c;
  auto before = c.store->currentRevision();
  SECTION("malformed JSON") {
    auto r = c.call("POST", "/api/v1/namespaces/default/pods", "{\"apiVersion\": ");
    requireStatus(r, 400, "BadRequest");
  }
  SECTION("wrong kind") {
    Json p = pod("web");
    p["kind"] = "Service";
    auto r = c.post("/api/v1/namespaces/default/pods", p);
    INFO(r.body);
    CHECK(r.status >= 400);
    CHECK(r.status < 500);
    CHECK(r.json["kind"] == "Status");
  }
  SECTION("wrong apiVersion") {
    Json p = pod("web");
    p["apiVersion"] = "apps/v1";
    auto r = c.post("/api/v1/namespaces/default/pods", p);
    CHECK(r.status >= 400);
    CHECK(r.status < 500);
  }
  SECTION("300-char name") {
    auto r = c.post("/api/v1/namespaces/default/pods", pod(std::string(300, 'a')));
    requireStatus(r, 422, "Invalid");
    CHECK(r.json["details"]["causes"][0]["field"] == "metadata.name");
  }
  SECTION("invalid UTF-8") {
    std::string body = pod("web").dump();
    body.insert(body.find("busybox"), "\xff\xfe");
    auto r = c.call("POST", "/api/v1/namespaces/default/pods", body);
    requireStatus(r, 400, "BadRequest");
  }
  SECTION("deep nesting") {
    std::string body =
        "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"x\","
        "\"annotations\":" +
        std::string(5000, '[') + std::string(5000, ']') + "}}";
    auto r = c.call("POST", "/api/v1/namespaces/default/pods", body);
    requireStatus(r, 400, "BadRequest");
  }
  SECTION("port instead of ports") {
    Json s = service("web");
    s["spec"]["port"] = s["spec"]["ports"];
    s["spec"].erase("ports");
    auto r = c.post("/api/v1/namespaces/default/services", s);
    requireStatus(r, 400, "BadRequest");
    std::string msg = r.json["message"];
    CHECK(msg.find("unknown field \"spec.port\"") != std::string::npos);
    CHECK(msg.find("spec.ports") != std::string::npos);
  }
  SECTION("malformed protobuf bodies") {
    // Protobuf is read (api/protobuf.h); a truncated envelope is a 400.
    auto r = c.call("POST", "/api/v1/namespaces/default/pods", std::string("k8s\x00\x0a", 5),
                    {{"content-type", "application/vnd.kubernetes.protobuf"}});
    requireStatus(r, 400, "BadRequest");
    CHECK(r.json["message"].get<std::string>().find("protobuf body is malformed") !=
          std::string::npos);
  }
  SECTION("resourceVersion set on create") {
    Json p = pod("web");
    p["metadata"]["resourceVersion"] = "5";
    auto r = c.post("/api/v1/namespaces/default/pods", p);
    CHECK(r.status == 500);
    CHECK(r.json["message"] == "resourceVersion should not be set on objects to be created");
  }
  CHECK(c.store->currentRevision() == before);
  CHECK(itemCount(c, "/api/v1/pods") == 0);
}

TEST_CASE("unknown paths and methods", "[rest]") {
  Cluster c;
  auto r = c.get("/api/v1/widgets");
  requireStatus(r, 404, "NotFound");
  CHECK(r.json["message"] == "the server could not find the requested resource");
  // A resource skiff does not serve, as kubectl's typed client posts it
  // (protobuf): 404, not a complaint about the body.
  auto pvc = c.call("POST", "/api/v1/namespaces/default/persistentvolumeclaims",
                    std::string("k8s\x00\x0a", 5),
                    {{"content-type", "application/vnd.kubernetes.protobuf"}});
  requireStatus(pvc, 404, "NotFound");
  CHECK(pvc.json["message"] == "the server could not find the requested resource");
  requireStatus(c.call("POST", "/api/v1/namespaces/default/persistentvolumeclaims?dryRun=x", "{}"),
                404, "NotFound");
  auto m = c.call("POST", "/api/v1/namespaces/default/pods/web");
  requireStatus(m, 405, "MethodNotAllowed");
  CHECK(c.call("DELETE", "/api/v1/namespaces").status == 405);
}

TEST_CASE("update: optimistic concurrency, status split, no-op writes", "[rest]") {
  Cluster c;
  auto created = c.post("/api/v1/namespaces/default/services", service("web"));
  REQUIRE(created.status == 201);
  Json svc = created.json;
  std::string rv1 = svc["metadata"]["resourceVersion"];

  SECTION("stale resourceVersion is a 409 with Kubernetes' text") {
    Json changed = svc;
    changed["metadata"]["labels"] = {{"a", "b"}};
    auto ok = c.put("/api/v1/namespaces/default/services/web", changed);
    INFO(ok.body);
    REQUIRE(ok.status == 200);
    CHECK(ok.json["metadata"]["resourceVersion"] != rv1);
    changed["metadata"]["labels"] = {{"a", "c"}};
    auto stale = c.put("/api/v1/namespaces/default/services/web", changed);
    requireStatus(stale, 409, "Conflict");
    CHECK(stale.json["message"] ==
          "Operation cannot be fulfilled on services \"web\": the object has been modified; "
          "please apply your changes to the latest version and try again");
    changed["metadata"].erase("resourceVersion");
    auto unconditional = c.put("/api/v1/namespaces/default/services/web", changed);
    REQUIRE(unconditional.status == 200);
    CHECK(unconditional.json["metadata"]["labels"]["a"] == "c");
  }
  SECTION("an unchanged object keeps its resourceVersion") {
    auto same = c.put("/api/v1/namespaces/default/services/web", svc);
    INFO(same.body);
    REQUIRE(same.status == 200);
    CHECK(same.json["metadata"]["resourceVersion"] == rv1);
  }
  SECTION("main resource ignores status; status subresource ignores spec") {
    Json changed = svc;
    changed["status"] = {{"loadBalancer", {{"ingress", {{{"ip", "192.0.2.1"}}}}}}};
    auto main = c.put("/api/v1/namespaces/default/services/web", changed);
    REQUIRE(main.status == 200);
    CHECK(main.json["status"] == Json({{"loadBalancer", Json::object()}}));
    changed["metadata"].erase("resourceVersion");
    changed["spec"]["sessionAffinity"] = "ClientIP";
    auto status = c.put("/api/v1/namespaces/default/services/web/status", changed);
    INFO(status.body);
    REQUIRE(status.status == 200);
    CHECK(status.json["status"]["loadBalancer"]["ingress"][0]["ip"] == "192.0.2.1");
    CHECK(status.json["spec"]["sessionAffinity"] == "None");
  }
  SECTION("name mismatch and missing objects") {
    auto mism = c.put("/api/v1/namespaces/default/services/other", svc);
    requireStatus(mism, 400, "BadRequest");
    CHECK(mism.json["message"] ==
          "the name of the object (web) does not match the name on the URL (other)");
    Json other = svc;
    other["metadata"]["name"] = "other";
    other["metadata"].erase("resourceVersion");
    auto nf = c.put("/api/v1/namespaces/default/services/other", other);
    requireStatus(nf, 404, "NotFound");
  }
  SECTION("immutable clusterIP") {
    Json changed = svc;
    changed["spec"]["clusterIP"] = "10.96.0.77";
    changed["spec"]["clusterIPs"] = {"10.96.0.77"};
    auto r = c.put("/api/v1/namespaces/default/services/web", changed);
    requireStatus(r, 422, "Invalid");
  }
}

TEST_CASE("patch: merge, JSON and strategic merge patches", "[rest]") {
  Cluster c;
  Json p = pod("web", "default", {{"app", "web"}});
  REQUIRE(c.post("/api/v1/namespaces/default/pods", p).status == 201);
  auto merge = c.patch("/api/v1/namespaces/default/pods/web", "application/merge-patch+json",
                       {{"metadata", {{"labels", {{"tier", "front"}}}}}});
  INFO(merge.body);
  REQUIRE(merge.status == 200);
  CHECK(merge.json["metadata"]["labels"] == Json({{"app", "web"}, {"tier", "front"}}));

  auto jp = c.patch("/api/v1/namespaces/default/pods/web", "application/json-patch+json",
                    Json::array({{{"op", "remove"}, {"path", "/metadata/labels/tier"}}}));
  REQUIRE(jp.status == 200);
  CHECK(jp.json["metadata"]["labels"] == Json({{"app", "web"}}));

  auto smp =
      c.patch("/api/v1/namespaces/default/pods/web", "application/strategic-merge-patch+json",
              {{"metadata", {{"annotations", {{"a", "1"}}}}}});
  REQUIRE(smp.status == 200);
  CHECK(smp.json["metadata"]["annotations"]["a"] == "1");

  auto status =
      c.patch("/api/v1/namespaces/default/pods/web/status", "application/merge-patch+json",
              {{"status", {{"phase", "Running"}, {"podIP", "10.244.0.5"}}}});
  INFO(status.body);
  REQUIRE(status.status == 200);
  CHECK(status.json["status"]["phase"] == "Running");

  auto bad = c.patch("/api/v1/namespaces/default/pods/web", "text/plain", {{"a", 1}});
  requireStatus(bad, 415, "UnsupportedMediaType");
  CHECK(bad.json["message"].get<std::string>().rfind(
            "the body of the request was in an unknown format - accepted media types include:",
            0) == 0);
  auto apply =
      c.patch("/api/v1/namespaces/default/pods/web", "application/apply-patch+yaml", {{"a", 1}});
  CHECK(apply.status == 415);

  auto nf = c.patch("/api/v1/namespaces/default/pods/nope", "application/merge-patch+json",
                    {{"metadata", {{"labels", {{"a", "b"}}}}}});
  requireStatus(nf, 404, "NotFound");

  auto stale = c.patch("/api/v1/namespaces/default/pods/web", "application/merge-patch+json",
                       {{"metadata", {{"resourceVersion", "1"}}}});
  requireStatus(stale, 409, "Conflict");
}

TEST_CASE("concurrent patches all land", "[rest]") {
  Cluster c;
  REQUIRE(c.post("/api/v1/namespaces/default/pods", pod("web")).status == 201);
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      auto r = c.patch("/api/v1/namespaces/default/pods/web", "application/merge-patch+json",
                       {{"metadata", {{"labels", {{"k" + std::to_string(i), "v"}}}}}});
      if (r.status == 200) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  CHECK(ok == 8);
  auto g = c.get("/api/v1/namespaces/default/pods/web");
  CHECK(g.json["metadata"]["labels"].size() == 8);
}

TEST_CASE("delete: unbound pods go at once, bound pods get a grace period", "[rest]") {
  Cluster c;
  REQUIRE(c.post("/api/v1/namespaces/default/pods", pod("loose")).status == 201);
  auto d = c.del("/api/v1/namespaces/default/pods/loose");
  INFO(d.body);
  REQUIRE(d.status == 200);
  CHECK(d.json["kind"] == "Pod");
  CHECK(c.get("/api/v1/namespaces/default/pods/loose").status == 404);
  requireStatus(c.del("/api/v1/namespaces/default/pods/loose"), 404, "NotFound");

  Json bound = pod("bound");
  bound["spec"]["nodeName"] = "n1";
  REQUIRE(c.post("/api/v1/namespaces/default/pods", bound).status == 201);
  auto graceful = c.del("/api/v1/namespaces/default/pods/bound");
  REQUIRE(graceful.status == 200);
  CHECK(graceful.json["metadata"].contains("deletionTimestamp"));
  CHECK(graceful.json["metadata"]["deletionGracePeriodSeconds"] == 30);
  CHECK(c.get("/api/v1/namespaces/default/pods/bound").status == 200);
  auto shorter = c.del("/api/v1/namespaces/default/pods/bound",
                       R"({"kind":"DeleteOptions","apiVersion":"v1","gracePeriodSeconds":5})");
  REQUIRE(shorter.status == 200);
  CHECK(shorter.json["metadata"]["deletionGracePeriodSeconds"] == 5);
  auto now = c.del("/api/v1/namespaces/default/pods/bound?gracePeriodSeconds=0");
  REQUIRE(now.status == 200);
  CHECK(c.get("/api/v1/namespaces/default/pods/bound").status == 404);
}

TEST_CASE("delete: preconditions, dryRun, Status bodies", "[rest]") {
  Cluster c;
  auto created = c.post("/api/v1/namespaces/default/pods", pod("web"));
  REQUIRE(created.status == 201);
  auto pre = c.del("/api/v1/namespaces/default/pods/web",
                   R"({"preconditions":{"uid":"00000000-0000-4000-8000-000000000000"}})");
  requireStatus(pre, 409, "Conflict");
  CHECK(pre.json["message"].get<std::string>().find(
            "Precondition failed: UID in precondition: 00000000-0000-4000-8000-000000000000") !=
        std::string::npos);
  REQUIRE(c.del("/api/v1/namespaces/default/pods/web?dryRun=All").status == 200);
  CHECK(c.get("/api/v1/namespaces/default/pods/web").status == 200);

  Json ep = {{"apiVersion", "v1"}, {"kind", "Endpoints"}, {"metadata", {{"name", "web"}}}};
  REQUIRE(c.post("/api/v1/namespaces/default/endpoints", ep).status == 201);
  auto d = c.del("/api/v1/namespaces/default/endpoints/web");
  REQUIRE(d.status == 200);
  CHECK(d.json["kind"] == "Status");
  CHECK(d.json["status"] == "Success");
  CHECK(d.json["details"]["name"] == "web");
  CHECK(d.json["details"]["kind"] == "endpoints");
}

TEST_CASE("finalizers hold an object until an update empties them", "[rest]") {
  Cluster c;
  Json p = pod("web");
  p["metadata"]["finalizers"] = {"example.com/hold"};
  REQUIRE(c.post("/api/v1/namespaces/default/pods", p).status == 201);
  auto d = c.del("/api/v1/namespaces/default/pods/web");
  REQUIRE(d.status == 200);
  CHECK(d.json["metadata"].contains("deletionTimestamp"));
  auto still = c.get("/api/v1/namespaces/default/pods/web");
  REQUIRE(still.status == 200);
  auto cleared = c.patch("/api/v1/namespaces/default/pods/web", "application/merge-patch+json",
                         {{"metadata", {{"finalizers", nullptr}}}});
  INFO(cleared.body);
  REQUIRE(cleared.status == 200);
  CHECK(c.get("/api/v1/namespaces/default/pods/web").status == 404);
}

TEST_CASE("namespace deletion terminates, empties and removes the namespace", "[rest]") {
  Cluster c;
  Json ns = {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", "team"}}}};
  auto created = c.post("/api/v1/namespaces", ns);
  INFO(created.body);
  REQUIRE(created.status == 201);
  CHECK(created.json["status"]["phase"] == "Active");
  CHECK(created.json["metadata"]["labels"]["kubernetes.io/metadata.name"] == "team");
  REQUIRE(c.post("/api/v1/namespaces/team/pods", pod("a", "team")).status == 201);
  REQUIRE(c.post("/api/v1/namespaces/team/services", service("s")).status == 201);
  auto d = c.del("/api/v1/namespaces/team");
  REQUIRE(d.status == 200);
  CHECK(d.json["status"]["phase"] == "Terminating");
  auto refused = c.post("/api/v1/namespaces/team/pods", pod("b", "team"));
  requireStatus(refused, 403, "Forbidden");
  CHECK(refused.json["message"] ==
        "pods \"b\" is forbidden: unable to create new content in namespace team because it is "
        "being terminated");
  for (int i = 0; i < 100 && c.get("/api/v1/namespaces/team").status == 200; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(c.get("/api/v1/namespaces/team").status == 404);
  CHECK(itemCount(c, "/api/v1/namespaces/team/pods") == 0);
  CHECK(itemCount(c, "/api/v1/namespaces/team/services") == 0);

  auto def = c.del("/api/v1/namespaces/default");
  requireStatus(def, 403, "Forbidden");
}

TEST_CASE("creates follow their namespace through deletion and re-creation", "[rest]") {
  Cluster c;
  Json ns = {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", "cyc"}}}};
  for (int round = 0; round < 3; ++round) {
    INFO("round " << round);
    REQUIRE(c.post("/api/v1/namespaces", ns).status == 201);
    // At once, with no wait for the namespace's watch event.
    auto p = c.post("/api/v1/namespaces/cyc/pods", pod("p" + std::to_string(round), "cyc"));
    INFO(p.body);
    REQUIRE(p.status == 201);
    REQUIRE(c.del("/api/v1/namespaces/cyc").status == 200);
    auto refused = c.post("/api/v1/namespaces/cyc/pods", pod("late", "cyc"));
    requireStatus(refused, 403, "Forbidden");
    for (int i = 0; i < 100 && c.get("/api/v1/namespaces/cyc").status == 200; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    REQUIRE(c.get("/api/v1/namespaces/cyc").status == 404);
    auto missing = c.post("/api/v1/namespaces/cyc/pods", pod("gone", "cyc"));
    requireStatus(missing, 404, "NotFound");
    CHECK(missing.json["message"] == "namespaces \"cyc\" not found");
  }
}

TEST_CASE("list: selectors, limit and continue, Tables", "[rest]") {
  Cluster c;
  for (int i = 0; i < 5; ++i) {
    Json p = pod("p" + std::to_string(i), "default", {{"app", i % 2 ? "odd" : "even"}});
    REQUIRE(c.post("/api/v1/namespaces/default/pods", p).status == 201);
  }
  CHECK(itemCount(c, "/api/v1/namespaces/default/pods?labelSelector=app%3Deven") == 3);
  CHECK(itemCount(c, "/api/v1/namespaces/default/pods?labelSelector=app!%3Deven") == 2);
  CHECK(itemCount(c, "/api/v1/pods?fieldSelector=metadata.name%3Dp1") == 1);
  auto bad = c.get("/api/v1/pods?fieldSelector=spec.foo%3Dx");
  requireStatus(bad, 400, "BadRequest");

  auto page1 = c.get("/api/v1/namespaces/default/pods?limit=2");
  REQUIRE(page1.json["items"].size() == 2);
  std::string cont = page1.json["metadata"]["continue"];
  REQUIRE_FALSE(cont.empty());
  auto page2 = c.get("/api/v1/namespaces/default/pods?limit=2&continue=" + cont);
  REQUIRE(page2.json["items"].size() == 2);
  CHECK(page2.json["items"][0]["metadata"]["name"] == "p2");
  auto page3 = c.get("/api/v1/namespaces/default/pods?limit=2&continue=" +
                     page2.json["metadata"]["continue"].get<std::string>());
  REQUIRE(page3.json["items"].size() == 1);
  CHECK_FALSE(page3.json["metadata"].contains("continue"));
  requireStatus(c.get("/api/v1/namespaces/default/pods?continue=garbage"), 400, "BadRequest");

  auto selLimit = c.get("/api/v1/namespaces/default/pods?labelSelector=app%3Deven&limit=2");
  REQUIRE(selLimit.json["items"].size() == 2);
  auto selRest =
      c.get("/api/v1/namespaces/default/pods?labelSelector=app%3Deven&limit=2&continue=" +
            selLimit.json["metadata"]["continue"].get<std::string>());
  REQUIRE(selRest.json["items"].size() == 1);
  CHECK(selRest.json["items"][0]["metadata"]["name"] == "p4");

  auto table = c.get("/api/v1/namespaces/default/pods",
                     {{"accept", "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"}});
  INFO(table.body);
  REQUIRE(table.status == 200);
  CHECK(table.json["kind"] == "Table");
  CHECK(table.json["rows"].size() == 5);
  CHECK(table.json["columnDefinitions"][0]["name"] == "Name");
  auto one = c.get("/api/v1/namespaces/default/pods/p0",
                   {{"accept", "application/json;as=Table;v=v1;g=meta.k8s.io"}});
  CHECK(one.json["rows"].size() == 1);
}

TEST_CASE("later pages of a list show the items as they were at the first", "[rest]") {
  Cluster c;
  for (int i = 0; i < 5; ++i) {
    Json p = pod("p" + std::to_string(i), "default", {{"app", i % 2 ? "odd" : "even"}});
    REQUIRE(c.post("/api/v1/namespaces/default/pods", p).status == 201);
  }
  const std::string path = "/api/v1/namespaces/default/pods";
  auto page1 = c.get(path + "?limit=2");
  REQUIRE(page1.json["items"].size() == 2);
  const std::string rv = page1.json["metadata"]["resourceVersion"];
  const std::string cont = page1.json["metadata"]["continue"];
  auto even1 = c.get(path + "?labelSelector=app%3Deven&limit=1");
  REQUIRE(even1.json["items"].size() == 1);
  CHECK(even1.json["items"][0]["metadata"]["name"] == "p0");

  // Between the pages: p2 relabelled, p3 deleted, p22 created.
  auto patched = c.call("PATCH", path + "/p2", R"({"metadata":{"labels":{"app":"odd"}}})",
                        {{"content-type", "application/merge-patch+json"}});
  REQUIRE(patched.status == 200);
  REQUIRE(c.del(path + "/p3").status == 200);
  REQUIRE(c.post(path, pod("p22")).status == 201);

  auto names = [](const Json& list) {
    std::vector<std::string> out;
    for (const auto& i : list["items"]) out.push_back(i["metadata"]["name"]);
    return out;
  };
  auto page2 = c.get(path + "?limit=2&continue=" + cont);
  INFO(page2.body);
  REQUIRE(page2.status == 200);
  CHECK(names(page2.json) == std::vector<std::string>{"p2", "p3"});
  CHECK(page2.json["items"][0]["metadata"]["labels"]["app"] == "even");
  CHECK(page2.json["metadata"]["resourceVersion"] == rv);
  auto page3 =
      c.get(path + "?limit=2&continue=" + page2.json["metadata"]["continue"].get<std::string>());
  CHECK(names(page3.json) == std::vector<std::string>{"p4"});
  // With a selector too: p2 still matched app=even then.
  auto even2 = c.get(path + "?labelSelector=app%3Deven&limit=5&continue=" +
                     even1.json["metadata"]["continue"].get<std::string>());
  CHECK(names(even2.json) == std::vector<std::string>{"p2", "p4"});
  // A fresh list sees the changes.
  CHECK(names(c.get(path).json) == std::vector<std::string>{"p0", "p1", "p2", "p22", "p4"});

  // Compacted up to the first page's revision: the later pages are still
  // whole, as etcd keeps the values a list at that revision needs.
  REQUIRE(c.store->compact(std::stoll(rv)).ok());
  auto again = c.get(path + "?limit=2&continue=" + cont);
  INFO(again.body);
  REQUIRE(again.status == 200);
  CHECK(names(again.json) == std::vector<std::string>{"p2", "p3"});
  CHECK(again.json["items"][0]["metadata"]["labels"]["app"] == "even");
  CHECK(names(c.get(path + "?labelSelector=app%3Deven&limit=5&continue=" +
                    even1.json["metadata"]["continue"].get<std::string>())
                  .json) == std::vector<std::string>{"p2", "p4"});

  // Once the log is compacted past the first page: 410 Expired, as Kubernetes.
  REQUIRE(c.store->compact(c.store->currentRevision()).ok());
  auto expired = c.get(path + "?limit=2&continue=" + cont);
  requireStatus(expired, 410, "Expired");
  CHECK(expired.json["message"].get<std::string>().find(
            "The provided continue parameter is too old") == 0);
}

TEST_CASE("deletecollection deletes what the selector matches", "[rest]") {
  Cluster c;
  for (int i = 0; i < 4; ++i) {
    Json p = pod("p" + std::to_string(i), "default", {{"app", i < 3 ? "x" : "y"}});
    REQUIRE(c.post("/api/v1/namespaces/default/pods", p).status == 201);
  }
  auto d = c.del("/api/v1/namespaces/default/pods?labelSelector=app%3Dx");
  INFO(d.body);
  REQUIRE(d.status == 200);
  CHECK(d.json["items"].size() == 3);
  CHECK(itemCount(c, "/api/v1/namespaces/default/pods") == 1);
}

TEST_CASE("binding assigns a node once", "[rest]") {
  Cluster c;
  REQUIRE(c.post("/api/v1/namespaces/default/pods", pod("web")).status == 201);
  Json binding = {{"apiVersion", "v1"},
                  {"kind", "Binding"},
                  {"metadata", {{"name", "web"}}},
                  {"target", {{"apiVersion", "v1"}, {"kind", "Node"}, {"name", "n1"}}}};
  auto b = c.post("/api/v1/namespaces/default/pods/web/binding", binding);
  INFO(b.body);
  REQUIRE(b.status == 201);
  CHECK(b.json["status"] == "Success");
  auto g = c.get("/api/v1/namespaces/default/pods/web");
  CHECK(g.json["spec"]["nodeName"] == "n1");
  auto again = c.post("/api/v1/namespaces/default/bindings", binding);
  requireStatus(again, 409, "Conflict");
  CHECK(again.json["message"] ==
        "Operation cannot be fulfilled on pods/binding \"web\": pod web is already assigned to "
        "node \"n1\"");
  binding["metadata"]["name"] = "ghost";
  requireStatus(c.post("/api/v1/namespaces/default/bindings", binding), 404, "NotFound");
}

TEST_CASE("nodes, events and endpoints are plain CRUD", "[rest]") {
  Cluster c;
  Json node = {{"apiVersion", "v1"}, {"kind", "Node"}, {"metadata", {{"name", "n1"}}}};
  auto n = c.post("/api/v1/nodes", node);
  INFO(n.body);
  REQUIRE(n.status == 201);
  CHECK_FALSE(n.json["metadata"].contains("namespace"));
  CHECK(c.get("/api/v1/nodes/n1").status == 200);
  auto st =
      c.patch("/api/v1/nodes/n1/status", "application/merge-patch+json",
              {{"status", {{"addresses", {{{"type", "InternalIP"}, {"address", "10.0.0.1"}}}}}}});
  INFO(st.body);
  REQUIRE(st.status == 200);
  CHECK(c.del("/api/v1/nodes/n1").status == 200);

  Json ep = {{"apiVersion", "v1"},
             {"kind", "Endpoints"},
             {"metadata", {{"name", "web"}, {"namespace", "default"}}},
             {"subsets", {{{"addresses", {{{"ip", "10.244.0.5"}}}}, {"ports", {{{"port", 80}}}}}}}};
  auto put = c.put("/api/v1/namespaces/default/endpoints/web", ep);  // create on update
  INFO(put.body);
  REQUIRE(put.status == 201);
  Json ev = {{"apiVersion", "v1"},
             {"kind", "Event"},
             {"metadata", {{"name", "web.1"}, {"namespace", "default"}}},
             {"involvedObject", {{"kind", "Pod"}, {"name", "web"}, {"namespace", "default"}}},
             {"reason", "Scheduled"},
             {"message", "assigned"},
             {"type", "Normal"}};
  auto e = c.post("/api/v1/namespaces/default/events", ev);
  INFO(e.body);
  REQUIRE(e.status == 201);
  CHECK(itemCount(c, "/api/v1/events") == 1);
}

TEST_CASE("apps/v1 deployments: generation and scale", "[rest]") {
  Cluster c;
  auto groups = c.get("/apis");
  if (groups.json["groups"].empty()) return;  // the type model has no apps yet
  Json d = {{"apiVersion", "apps/v1"},
            {"kind", "Deployment"},
            {"metadata", {{"name", "web"}}},
            {"spec",
             {{"replicas", 2},
              {"selector", {{"matchLabels", {{"app", "web"}}}}},
              {"template",
               {{"metadata", {{"labels", {{"app", "web"}}}}},
                {"spec", {{"containers", {{{"name", "c"}, {"image", "nginx"}}}}}}}}}}};
  auto r = c.post("/apis/apps/v1/namespaces/default/deployments", d);
  INFO(r.body);
  REQUIRE(r.status == 201);
  CHECK(r.json["metadata"]["generation"] == 1);
  auto scale = c.get("/apis/apps/v1/namespaces/default/deployments/web/scale");
  INFO(scale.body);
  REQUIRE(scale.status == 200);
  CHECK(scale.json["kind"] == "Scale");
  CHECK(scale.json["spec"]["replicas"] == 2);
  CHECK(scale.json["status"]["selector"] == "app=web");
  auto up = c.patch("/apis/apps/v1/namespaces/default/deployments/web/scale",
                    "application/merge-patch+json", {{"spec", {{"replicas", 5}}}});
  INFO(up.body);
  REQUIRE(up.status == 200);
  CHECK(up.json["spec"]["replicas"] == 5);
  auto after = c.get("/apis/apps/v1/namespaces/default/deployments/web");
  CHECK(after.json["spec"]["replicas"] == 5);
  CHECK(after.json["metadata"]["generation"] == 2);
  auto nf = c.get("/apis/apps/v1/namespaces/default/deployments/nope");
  requireStatus(nf, 404, "NotFound");
  CHECK(nf.json["message"] == "deployments.apps \"nope\" not found");
  CHECK(nf.json["details"]["group"] == "apps");
}

TEST_CASE("long unpaginated lists (built on two threads) keep every match in key order", "[rest]") {
  Cluster c;
  const int n = 600;
  auto name = [](int i) {
    std::string s = std::to_string(i);
    return "p" + std::string(3 - s.size(), '0') + s;
  };
  for (int i = 0; i < n; ++i) {
    Json p = pod(name(i), "default", {{"app", i % 3 ? "rest" : "third"}});
    REQUIRE(c.post("/api/v1/namespaces/default/pods", p).status == 201);
  }
  const std::map<std::string, std::string> table = {
      {"accept", "application/json;as=Table;v=v1;g=meta.k8s.io"}};
  auto all = c.get("/api/v1/namespaces/default/pods?includeObject=None", table);
  REQUIRE(all.status == 200);
  REQUIRE(all.json["rows"].size() == n);
  for (int i = 0; i < n; ++i) CHECK(all.json["rows"][i]["cells"][0] == name(i));

  auto third = c.get("/api/v1/namespaces/default/pods?labelSelector=app%3Dthird", table);
  REQUIRE(third.json["rows"].size() == n / 3);
  for (int i = 0; i < n / 3; ++i) {
    CHECK(third.json["rows"][i]["cells"][0] == name(3 * i));
    CHECK(third.json["rows"][i]["object"]["metadata"]["name"] == name(3 * i));
  }
  auto plain = c.get("/api/v1/namespaces/default/pods?labelSelector=app%3Drest");
  REQUIRE(plain.json["items"].size() == n - n / 3);
  int k = 0;
  for (int i = 0; i < n; ++i)
    if (i % 3) CHECK(plain.json["items"][k++]["metadata"]["name"] == name(i));
}

TEST_CASE("listing 10,000 pods stays within 150 ms", "[rest][perf]") {
  Cluster c;
  Json p = pod("x");
  p["metadata"]["uid"] = "00000000-0000-4000-8000-000000000000";
  p["metadata"]["creationTimestamp"] = "2026-01-01T00:00:00Z";
  p["status"] = {{"phase", "Pending"}};
  for (int batch = 0; batch < 10; ++batch) {
    std::vector<skiff::storage::Op> ops;
    for (int i = 0; i < 1000; ++i) {
      std::string name = "pod-" + std::to_string(batch * 1000 + i);
      Json q = p;
      q["metadata"]["name"] = name;
      skiff::storage::Op op;
      op.key = "/registry/pods/default/" + name;
      op.encode = [q](skiff::storage::Revision rv) {
        Json o = q;
        o["metadata"]["resourceVersion"] = std::to_string(rv);
        return o.dump();
      };
      ops.push_back(std::move(op));
    }
    REQUIRE(c.store->commitSync(std::move(ops)).ok());
  }
  // The best of five, so a busy shared machine does not decide the result.
  long long ms = 1 << 30;
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto start = std::chrono::steady_clock::now();
    auto w = std::make_shared<FakeWriter>();
    c.api->handle(makeRequest("GET", "/api/v1/namespaces/default/pods"), w);
    REQUIRE(w->waitDone());
    ms = std::min<long long>(ms, std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::steady_clock::now() - start)
                                     .count());
    REQUIRE(w->status() == 200);
    if (attempt == 0) REQUIRE(Json::parse(w->body())["items"].size() == 10000);
  }
  WARN("list 10000 pods (best of 5): " << ms << " ms");
  CHECK(ms <= 150);
}

TEST_CASE("endpointslices show the endpoints, read-only", "[rest]") {
  Cluster c;
  const auto before = c.store->currentRevision();
  Json ep = {{"apiVersion", "v1"},
             {"kind", "Endpoints"},
             {"metadata", {{"name", "web"}, {"labels", {{"team", "a"}}}}},
             {"subsets",
              {{{"addresses", {{{"ip", "10.244.0.5"}}, {{"ip", "10.244.0.6"}}}},
                {"notReadyAddresses", {{{"ip", "10.244.0.7"}}}},
                {"ports", {{{"name", "http"}, {"port", 8080}}}}}}}};
  REQUIRE(c.post("/api/v1/namespaces/default/endpoints", ep).status == 201);
  Json other = {{"apiVersion", "v1"}, {"kind", "Endpoints"}, {"metadata", {{"name", "db"}}}};
  REQUIRE(c.post("/api/v1/namespaces/kube-system/endpoints", other).status == 201);

  // As `kubectl describe service web` asks for them.
  auto mine = c.get(
      "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices"
      "?labelSelector=kubernetes.io%2Fservice-name%3Dweb");
  INFO(mine.body);
  REQUIRE(mine.status == 200);
  CHECK(mine.json["kind"] == "EndpointSliceList");
  CHECK(mine.json["apiVersion"] == "discovery.k8s.io/v1");
  CHECK(mine.json["metadata"]["resourceVersion"] == std::to_string(c.store->currentRevision()));
  REQUIRE(mine.json["items"].size() == 1);
  const Json& slice = mine.json["items"][0];
  CHECK(slice["endpoints"].size() == 3);
  CHECK(slice["endpoints"][2]["conditions"]["ready"] == false);
  CHECK(slice["ports"][0]["port"] == 8080);
  CHECK(itemCount(c,
                  "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices"
                  "?labelSelector=team%3Db") == 0);
  CHECK(itemCount(c, "/apis/discovery.k8s.io/v1/endpointslices") >= 2);
  CHECK(itemCount(c,
                  "/apis/discovery.k8s.io/v1/namespaces/kube-system/endpointslices"
                  "?labelSelector=kubernetes.io%2Fservice-name%3Ddb") == 1);

  // By name, as a Table, and a missing one.
  const std::string name = slice["metadata"]["name"];
  auto one = c.get("/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/" + name);
  REQUIRE(one.status == 200);
  CHECK(one.json == slice);
  auto table = c.get("/apis/discovery.k8s.io/v1/namespaces/default/endpointslices",
                     {{"accept", "application/json;as=Table;v=v1;g=meta.k8s.io"}});
  REQUIRE(table.status == 200);
  REQUIRE(table.json["rows"].size() == 1);
  CHECK(table.json["rows"][0]["cells"][3] == "10.244.0.5,10.244.0.6,10.244.0.7");
  auto missing = c.get("/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/nope");
  CHECK(missing.status == 404);
  CHECK(missing.json["message"] == "endpointslices.discovery.k8s.io \"nope\" not found");

  // Following the endpoints: a change shows at once, a deletion takes the slice.
  ep["subsets"][0].erase("notReadyAddresses");
  auto got = c.get("/api/v1/namespaces/default/endpoints/web");
  ep["metadata"]["resourceVersion"] = got.json["metadata"]["resourceVersion"];
  REQUIRE(c.put("/api/v1/namespaces/default/endpoints/web", ep).status == 200);
  auto changed = c.get("/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/" + name);
  CHECK(changed.json["endpoints"].size() == 2);
  CHECK(changed.json["metadata"]["resourceVersion"] != slice["metadata"]["resourceVersion"]);

  // Writes are refused, naming what to change instead; nothing changes.
  const auto after = c.store->currentRevision();
  Json s = slice;
  s["metadata"].erase("resourceVersion");
  for (const Response& r :
       {c.post("/apis/discovery.k8s.io/v1/namespaces/default/endpointslices", s),
        c.put("/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/" + name, s),
        c.del("/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/" + name)}) {
    CHECK(r.status == 405);
    CHECK(r.json["message"].get<std::string>().find("create, change or delete the endpoints") !=
          std::string::npos);
  }
  CHECK(c.store->currentRevision() == after);
  CHECK(after > before);

  REQUIRE(c.del("/api/v1/namespaces/default/endpoints/web").status == 200);
  CHECK(c.get("/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/" + name).status == 404);

  auto discovery = c.get("/apis/discovery.k8s.io/v1");
  REQUIRE(discovery.status == 200);
  CHECK(discovery.json["resources"][0]["name"] == "endpointslices");
  CHECK(discovery.json["resources"][0]["verbs"] == Json::array({"get", "list", "watch"}));
}

TEST_CASE("configmaps and secrets: data, stringData, keys, base64, immutable", "[rest]") {
  Cluster c;
  Json cm = {{"apiVersion", "v1"},
             {"kind", "ConfigMap"},
             {"metadata", {{"name", "app"}}},
             {"data", {{"mode", "fast"}}},
             {"binaryData", {{"blob", "AAEC"}}}};
  auto created = c.post("/api/v1/namespaces/default/configmaps", cm);
  INFO(created.body);
  REQUIRE(created.status == 201);
  CHECK(created.json["data"]["mode"] == "fast");
  CHECK(created.json["binaryData"]["blob"] == "AAEC");
  auto table = c.get("/api/v1/namespaces/default/configmaps",
                     {{"accept", "application/json;as=Table;v=v1;g=meta.k8s.io"}});
  REQUIRE(table.status == 200);
  CHECK(table.json["rows"][0]["cells"][1] == 2);  // DATA counts both maps

  // stringData is merged into data as base64 and not stored; type defaults to Opaque.
  Json secret = {{"apiVersion", "v1"},
                 {"kind", "Secret"},
                 {"metadata", {{"name", "creds"}}},
                 {"data", {{"user", "YWRtaW4="}}},
                 {"stringData", {{"pass", "s3cr=t"}}}};
  auto s = c.post("/api/v1/namespaces/default/secrets", secret);
  INFO(s.body);
  REQUIRE(s.status == 201);
  CHECK(s.json["type"] == "Opaque");
  CHECK(s.json["data"] == Json{{"user", "YWRtaW4="}, {"pass", "czNjcj10"}});
  CHECK_FALSE(s.json.contains("stringData"));
  CHECK_FALSE(c.get("/api/v1/namespaces/default/secrets/creds").json.contains("stringData"));

  // Bad input: a 4xx naming the field, and nothing stored.
  const auto before = c.store->currentRevision();
  Json badKey = cm;
  badKey["metadata"]["name"] = "bad";
  badKey["data"] = {{"a b", "1"}};
  auto k = c.post("/api/v1/namespaces/default/configmaps", badKey);
  CHECK(k.status == 422);
  CHECK(k.json["message"].get<std::string>().find(
            "data[a b]: Invalid value: \"a b\": a valid config key must consist of alphanumeric "
            "characters") != std::string::npos);
  Json dup = cm;
  dup["metadata"]["name"] = "dup";
  dup["binaryData"] = {{"mode", "AAEC"}};
  auto d = c.post("/api/v1/namespaces/default/configmaps", dup);
  CHECK(d.status == 422);
  CHECK(d.json["message"].get<std::string>().find("duplicate of key present in data") !=
        std::string::npos);
  Json bad64 = secret;
  bad64["metadata"]["name"] = "bad64";
  bad64["data"] = {{"user", "not base64!"}};
  auto b = c.post("/api/v1/namespaces/default/secrets", bad64);
  CHECK(b.status == 400);
  CHECK(b.json["message"].get<std::string>().find("illegal base64 data at input byte 3") !=
        std::string::npos);
  Json big = cm;
  big["metadata"]["name"] = "big";
  big["data"] = {{"a", std::string(600 * 1024, 'x')}, {"b", std::string(600 * 1024, 'y')}};
  auto tooBig = c.post("/api/v1/namespaces/default/configmaps", big);
  CHECK(tooBig.status == 422);
  CHECK(tooBig.json["message"].get<std::string>().find("must have at most 1048576 bytes") !=
        std::string::npos);
  Json tls = {{"apiVersion", "v1"},
              {"kind", "Secret"},
              {"metadata", {{"name", "tls"}}},
              {"type", "kubernetes.io/tls"},
              {"data", {{"tls.crt", "AAAA"}}}};
  auto t = c.post("/api/v1/namespaces/default/secrets", tls);
  CHECK(t.status == 422);
  CHECK(t.json["message"].get<std::string>().find("data[tls.key]: Required value") !=
        std::string::npos);
  CHECK(c.store->currentRevision() == before);

  // Immutable: its data and its immutability stay; a Secret keeps its type.
  Json frozen = cm;
  frozen["metadata"]["name"] = "frozen";
  frozen["immutable"] = true;
  REQUIRE(c.post("/api/v1/namespaces/default/configmaps", frozen).status == 201);
  auto change = c.patch("/api/v1/namespaces/default/configmaps/frozen",
                        "application/merge-patch+json", {{"data", {{"mode", "slow"}}}});
  CHECK(change.status == 422);
  CHECK(change.json["message"].get<std::string>().find(
            "data: Forbidden: field is immutable when `immutable` is set") != std::string::npos);
  auto thaw = c.patch("/api/v1/namespaces/default/configmaps/frozen",
                      "application/merge-patch+json", {{"immutable", false}});
  CHECK(thaw.status == 422);
  auto labels = c.patch("/api/v1/namespaces/default/configmaps/frozen",
                        "application/merge-patch+json", {{"metadata", {{"labels", {{"a", "b"}}}}}});
  CHECK(labels.status == 200);
  auto retype = c.patch("/api/v1/namespaces/default/secrets/creds", "application/merge-patch+json",
                        {{"type", "other"}});
  CHECK(retype.status == 422);
  CHECK(retype.json["message"].get<std::string>().find(
            "type: Invalid value: \"other\": field is immutable") != std::string::npos);
}
