// ServiceAccounts through RestApi::handle(): CRUD and the Table, the default
// ServiceAccount of every namespace, and the token subresource (201 with a
// signed token, 404, 422, 400, 409), plus the authenticator's liveness check
// against the store.
#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

#include "api/time.h"
#include "apiserver/service_account_token.h"
#include "apiserver/service_accounts.h"
#include "tests/apiserver/rest_test_util.h"

using namespace skiff::apiserver;
using namespace skiff::apiserver::testing;
using skiff::api::Json;

namespace {

const std::string kKey(32, 's');

RestOptions withKey() {
  RestOptions o;
  o.serviceAccountKey = kKey;
  return o;
}

Json serviceAccount(const std::string& name) {
  return {{"apiVersion", "v1"}, {"kind", "ServiceAccount"}, {"metadata", {{"name", name}}}};
}

Json tokenRequest(Json spec = Json::object()) {
  return {{"apiVersion", "authentication.k8s.io/v1"}, {"kind", "TokenRequest"}, {"spec", spec}};
}

// Polls until `path` answers `status` (the namespace loop runs on its own thread).
bool eventually(Cluster& c, const std::string& path, int status) {
  for (int i = 0; i < 100; ++i) {
    if (c.get(path).status == status) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

int64_t unixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

TEST_CASE("serviceaccounts: create, get, list as a Table, delete", "[rest][serviceaccounts]") {
  Cluster c;
  Json sa = serviceAccount("builder");
  sa["secrets"] = Json::array({{{"name", "builder-token"}}});
  sa["imagePullSecrets"] = Json::array({{{"name", "regcred"}}});
  sa["automountServiceAccountToken"] = false;
  auto created = c.post("/api/v1/namespaces/default/serviceaccounts", sa);
  INFO(created.body);
  REQUIRE(created.status == 201);
  CHECK(!created.json["metadata"]["uid"].get<std::string>().empty());
  CHECK(created.json["automountServiceAccountToken"] == false);

  auto got = c.get("/api/v1/namespaces/default/serviceaccounts/builder");
  REQUIRE(got.status == 200);
  CHECK(got.json["imagePullSecrets"][0]["name"] == "regcred");

  auto table = c.get("/api/v1/namespaces/default/serviceaccounts",
                     {{"accept", "application/json;as=Table;v=v1;g=meta.k8s.io"}});
  INFO(table.body);
  REQUIRE(table.status == 200);
  std::vector<std::string> columns;
  for (const Json& col : table.json["columnDefinitions"]) columns.push_back(col["name"]);
  CHECK(columns == std::vector<std::string>{"Name", "Secrets", "Age"});
  std::map<std::string, Json> rows;
  for (const Json& row : table.json["rows"]) rows[row["cells"][0]] = row["cells"][1];
  CHECK(rows.size() == 2);
  CHECK(rows["builder"] == 1);
  CHECK(rows["default"] == 0);

  REQUIRE(c.del("/api/v1/namespaces/default/serviceaccounts/builder").status == 200);
  CHECK(c.get("/api/v1/namespaces/default/serviceaccounts/builder").status == 404);
}

TEST_CASE("serviceaccounts: bad names and fields are refused, nothing stored",
          "[rest][serviceaccounts]") {
  Cluster c;
  const auto before = c.store->currentRevision();
  auto badName = c.post("/api/v1/namespaces/default/serviceaccounts", serviceAccount("Bad_Name"));
  INFO(badName.body);
  REQUIRE(badName.status == 422);
  CHECK(badName.json["details"]["causes"][0]["field"] == "metadata.name");
  Json badField = serviceAccount("x");
  badField["automountServiceAccountToken"] = "yes";
  auto typed = c.post("/api/v1/namespaces/default/serviceaccounts", badField);
  INFO(typed.body);
  CHECK(typed.status == 400);
  CHECK(typed.json["message"].get<std::string>().find("automountServiceAccountToken") !=
        std::string::npos);
  CHECK(c.store->currentRevision() == before);
}

TEST_CASE("every namespace has a default ServiceAccount, kept while it lives",
          "[rest][serviceaccounts]") {
  Cluster c;
  for (const char* ns : {"default", "kube-system", "kube-public", "kube-node-lease"}) {
    auto sa = c.get(std::string("/api/v1/namespaces/") + ns + "/serviceaccounts/default");
    INFO(ns << ": " << sa.body);
    CHECK(sa.status == 200);
  }

  Json ns = {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", "team"}}}};
  REQUIRE(c.post("/api/v1/namespaces", ns).status == 201);
  const std::string teamDefault = "/api/v1/namespaces/team/serviceaccounts/default";
  // Committed with the namespace: there at once, for a pod created next.
  auto first = c.get(teamDefault);
  REQUIRE(first.status == 200);

  // Deleted: it comes back, as a new object.
  REQUIRE(c.del(teamDefault).status == 200);
  REQUIRE(eventually(c, teamDefault, 200));
  CHECK(c.get(teamDefault).json["metadata"]["uid"] != first.json["metadata"]["uid"]);

  // A namespace being deleted does not get one back: it empties and goes.
  REQUIRE(c.del("/api/v1/namespaces/team").status == 200);
  REQUIRE(eventually(c, "/api/v1/namespaces/team", 404));
  CHECK(c.get(teamDefault).status == 404);
  std::this_thread::sleep_for(std::chrono::milliseconds(700));  // a loop pass or more
  CHECK(c.get(teamDefault).status == 404);
}

TEST_CASE("a restart recreates a missing default ServiceAccount in a system namespace",
          "[rest][serviceaccounts]") {
  Cluster c;
  // Deleted behind the API's back (as in a data directory from before
  // ServiceAccounts were served): bootstrap puts it back at once.
  skiff::storage::Op op;
  op.kind = skiff::storage::Op::Kind::kDelete;
  op.key = "/registry/serviceaccounts/kube-system/default";
  REQUIRE(c.store->commitSync({op}));
  c.api.reset();
  auto again = RestApi::create(*c.store, {});
  REQUIRE(again);
  c.api = std::move(*again);
  CHECK(c.get("/api/v1/namespaces/kube-system/serviceaccounts/default").status == 200);
}

TEST_CASE("serviceaccounts/token issues a signed token for the ServiceAccount",
          "[rest][serviceaccounts]") {
  Cluster c(withKey());
  auto sa = c.post("/api/v1/namespaces/default/serviceaccounts", serviceAccount("builder"));
  REQUIRE(sa.status == 201);
  const std::string saUid = sa.json["metadata"]["uid"];
  const int64_t before = unixNow();

  auto r = c.post("/api/v1/namespaces/default/serviceaccounts/builder/token", tokenRequest());
  INFO(r.body);
  REQUIRE(r.status == 201);
  CHECK(r.json["apiVersion"] == "authentication.k8s.io/v1");
  CHECK(r.json["kind"] == "TokenRequest");
  CHECK(r.json["metadata"]["name"] == "builder");
  CHECK(r.json["metadata"]["namespace"] == "default");
  CHECK(r.json["spec"]["audiences"] ==
        Json::array({"https://kubernetes.default.svc.cluster.local"}));
  CHECK(r.json["spec"]["expirationSeconds"] == 3600);
  const std::string token = r.json["status"]["token"];
  auto expiry =
      skiff::api::parseTimeSeconds(r.json["status"]["expirationTimestamp"].get<std::string>());
  REQUIRE(expiry);
  CHECK(expiry->seconds >= before + 3600);
  CHECK(expiry->seconds <= unixNow() + 3600);

  auto claims = verifyServiceAccountToken(token, kKey, unixNow());
  REQUIRE(claims);
  CHECK(claims->userName() == "system:serviceaccount:default:builder");
  CHECK(claims->uid == saUid);
  CHECK(claims->expires == expiry->seconds);
  CHECK_FALSE(claims->bound);
  CHECK(serviceAccountTokenLive(*c.store, *claims));
  // Nothing is stored: the ServiceAccount is as it was.
  CHECK(c.get("/api/v1/namespaces/default/serviceaccounts/builder")
            .json["metadata"]["resourceVersion"] == sa.json["metadata"]["resourceVersion"]);

  // Deleted and re-created under the same name: the old token is not live.
  REQUIRE(c.del("/api/v1/namespaces/default/serviceaccounts/builder").status == 200);
  CHECK_FALSE(serviceAccountTokenLive(*c.store, *claims));
  REQUIRE(c.post("/api/v1/namespaces/default/serviceaccounts", serviceAccount("builder")).status ==
          201);
  CHECK_FALSE(serviceAccountTokenLive(*c.store, *claims));
}

TEST_CASE("serviceaccounts/token binds to a pod, with its audiences and duration",
          "[rest][serviceaccounts]") {
  Cluster c(withKey());
  auto p = c.post("/api/v1/namespaces/default/pods", pod("web"));
  REQUIRE(p.status == 201);
  const std::string podUid = p.json["metadata"]["uid"];
  Json spec = {{"audiences", {"vault", "https://kubernetes.default.svc.cluster.local"}},
               {"expirationSeconds", 3607},
               {"boundObjectRef",
                {{"kind", "Pod"}, {"apiVersion", "v1"}, {"name", "web"}, {"uid", podUid}}}};
  auto r = c.post("/api/v1/namespaces/default/serviceaccounts/default/token", tokenRequest(spec));
  INFO(r.body);
  REQUIRE(r.status == 201);
  CHECK(r.json["spec"] == spec);
  auto claims =
      verifyServiceAccountToken(r.json["status"]["token"].get<std::string>(), kKey, unixNow());
  REQUIRE(claims);
  CHECK(claims->audiences ==
        std::vector<std::string>{"vault", "https://kubernetes.default.svc.cluster.local"});
  CHECK(claims->expires - claims->issuedAt == 3607);
  REQUIRE(claims->bound);
  CHECK(claims->bound->kind == "Pod");
  CHECK(claims->bound->name == "web");
  CHECK(claims->bound->uid == podUid);
  CHECK(serviceAccountTokenLive(*c.store, *claims));
  REQUIRE(c.del("/api/v1/namespaces/default/pods/web").status == 200);  // unbound: goes at once
  CHECK_FALSE(serviceAccountTokenLive(*c.store, *claims));

  // Longer than 48 h: shortened, with Kubernetes' warning.
  auto longer = c.post("/api/v1/namespaces/default/serviceaccounts/default/token",
                       tokenRequest({{"expirationSeconds", 7 * 24 * 3600}}));
  REQUIRE(longer.status == 201);
  CHECK(longer.json["spec"]["expirationSeconds"] == 48 * 3600);
  CHECK(longer.header("Warning") ==
        "299 - \"requested expiration of 604800 seconds shortened to 172800 seconds\"");

  // A pod naming only the deprecated spec.serviceAccount runs as that account.
  REQUIRE(c.post("/api/v1/namespaces/default/serviceaccounts", serviceAccount("builder")).status ==
          201);
  Json old = pod("old");
  old["spec"]["serviceAccount"] = "builder";
  REQUIRE(c.post("/api/v1/namespaces/default/pods", old).status == 201);
  Json ref = {{"boundObjectRef", {{"kind", "Pod"}, {"apiVersion", "v1"}, {"name", "old"}}}};
  CHECK(c.post("/api/v1/namespaces/default/serviceaccounts/builder/token", tokenRequest(ref))
            .status == 201);
  CHECK(c.post("/api/v1/namespaces/default/serviceaccounts/default/token", tokenRequest(ref))
            .status == 400);
}

TEST_CASE("serviceaccounts/token refuses what Kubernetes refuses", "[rest][serviceaccounts]") {
  Cluster c(withKey());
  const std::string base = "/api/v1/namespaces/default/serviceaccounts/";
  auto missing = c.post(base + "ghost/token", tokenRequest());
  INFO(missing.body);
  CHECK(missing.status == 404);
  CHECK(missing.json["message"] == "serviceaccounts \"ghost\" not found");

  auto shortLived = c.post(base + "default/token", tokenRequest({{"expirationSeconds", 60}}));
  INFO(shortLived.body);
  CHECK(shortLived.status == 422);
  CHECK(shortLived.json["message"] ==
        "TokenRequest.authentication.k8s.io \"\" is invalid: spec.expirationSeconds: Invalid "
        "value: 60: may not specify a duration less than 10 minutes");
  CHECK(shortLived.json["details"]["causes"][0]["field"] == "spec.expirationSeconds");

  auto wrongName = c.post(base + "default/token",
                          Json{{"metadata", {{"name", "other"}}}, {"spec", Json::object()}});
  CHECK(wrongName.status == 422);
  CHECK(wrongName.json["details"]["causes"][0]["field"] == "metadata.name");

  auto unknown = c.post(base + "default/token", tokenRequest({{"expiration", 600}}));
  INFO(unknown.body);
  CHECK(unknown.status == 400);
  CHECK(unknown.json["message"].get<std::string>().find("spec.expiration") != std::string::npos);

  Json toDeployment = {
      {"boundObjectRef", {{"kind", "Deployment"}, {"apiVersion", "apps/v1"}, {"name", "d"}}}};
  auto badKind = c.post(base + "default/token", tokenRequest(toDeployment));
  CHECK(badKind.status == 400);
  CHECK(badKind.json["message"] == "cannot bind token to object of type apps/v1, Kind=Deployment");

  Json toGhost = {{"boundObjectRef", {{"kind", "Pod"}, {"apiVersion", "v1"}, {"name", "nope"}}}};
  auto ghostPod = c.post(base + "default/token", tokenRequest(toGhost));
  CHECK(ghostPod.status == 404);
  CHECK(ghostPod.json["message"] == "pods \"nope\" not found");

  REQUIRE(c.post("/api/v1/namespaces/default/serviceaccounts", serviceAccount("builder")).status ==
          201);
  REQUIRE(c.post("/api/v1/namespaces/default/pods", pod("web")).status == 201);
  Json toWeb = {{"boundObjectRef", {{"kind", "Pod"}, {"apiVersion", "v1"}, {"name", "web"}}}};
  auto otherSa = c.post(base + "builder/token", tokenRequest(toWeb));
  CHECK(otherSa.status == 400);
  CHECK(otherSa.json["message"] ==
        "cannot bind token for serviceaccount \"builder\" to pod running with different "
        "serviceaccount name.");
  toWeb["boundObjectRef"]["uid"] = "not-the-uid";
  auto staleUid = c.post(base + "default/token", tokenRequest(toWeb));
  CHECK(staleUid.status == 409);

  CHECK(c.get(base + "default/token").status == 405);
  Cluster keyless;
  CHECK(keyless.post(base + "default/token", tokenRequest()).status == 503);
}

TEST_CASE("a ServiceAccount's SelfSubjectReview names its groups", "[rest][serviceaccounts]") {
  Cluster c;
  Json ssr = {{"apiVersion", "authentication.k8s.io/v1"}, {"kind", "SelfSubjectReview"}};
  Request req =
      makeRequest("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", ssr.dump());
  req.user = "system:serviceaccount:team:builder";
  auto w = std::make_shared<FakeWriter>();
  c.api->handle(req, w);
  REQUIRE(w->waitDone());
  REQUIRE(w->status() == 201);
  Json info = Json::parse(w->body())["status"]["userInfo"];
  CHECK(info["username"] == "system:serviceaccount:team:builder");
  CHECK(info["groups"] == Json::array({"system:serviceaccounts", "system:serviceaccounts:team",
                                       "system:authenticated"}));
}
