// Discovery and OpenAPI through RestApi::handle().
#include <algorithm>
#include <catch2/catch.hpp>

#include "api/openapi.h"
#include "tests/apiserver/rest_test_util.h"

using namespace skiff::apiserver::testing;
using skiff::api::Json;

namespace {

const Json* findResource(const Json& list, const std::string& name) {
  for (const auto& r : list["resources"])
    if (r["name"] == name) return &r;
  return nullptr;
}

}  // namespace

TEST_CASE("version", "[discovery]") {
  Cluster c;
  auto v = c.get("/version");
  REQUIRE(v.status == 200);
  CHECK(v.json["major"] == "1");
  CHECK(v.json["minor"] == "32");
  CHECK(v.json["gitVersion"] == "v1.32.0-skiff.0.1.0");
  CHECK(v.json["platform"] == "linux/amd64");
  CHECK(v.json["compiler"] == "gc");
}

TEST_CASE("core group discovery", "[discovery]") {
  Cluster c;
  auto api = c.get("/api");
  REQUIRE(api.status == 200);
  CHECK(api.json["kind"] == "APIVersions");
  CHECK(api.json["versions"] == Json::array({"v1"}));

  auto v1 =
      c.get("/api/v1",
            {{"accept", "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"}});
  REQUIRE(v1.status == 200);
  CHECK(v1.json["kind"] == "APIResourceList");
  CHECK(v1.json["groupVersion"] == "v1");
  for (const char* name :
       {"pods", "pods/status", "pods/binding", "pods/log", "pods/exec", "pods/portforward",
        "services", "services/status", "endpoints", "nodes", "nodes/status", "namespaces",
        "namespaces/status", "events", "bindings"}) {
    INFO(name);
    CHECK(findResource(v1.json, name) != nullptr);
  }
  const Json* pods = findResource(v1.json, "pods");
  CHECK((*pods)["shortNames"] == Json::array({"po"}));
  CHECK((*pods)["categories"] == Json::array({"all"}));
  CHECK((*pods)["singularName"] == "pod");
  CHECK((*pods)["namespaced"] == true);
  CHECK((*findResource(v1.json, "nodes"))["namespaced"] == false);
  CHECK((*findResource(v1.json, "namespaces"))["shortNames"] == Json::array({"ns"}));
  CHECK((*findResource(v1.json, "services"))["shortNames"] == Json::array({"svc"}));
  CHECK((*findResource(v1.json, "endpoints"))["shortNames"] == Json::array({"ep"}));
  CHECK((*findResource(v1.json, "events"))["shortNames"] == Json::array({"ev"}));
  CHECK((*findResource(v1.json, "nodes"))["shortNames"] == Json::array({"no"}));
}

TEST_CASE("apps group discovery", "[discovery]") {
  Cluster c;
  auto apis = c.get("/apis");
  REQUIRE(apis.status == 200);
  CHECK(apis.json["kind"] == "APIGroupList");
  if (apis.json["groups"].empty()) return;
  CHECK(apis.json["groups"][0]["name"] == "apps");
  CHECK(apis.json["groups"][0]["preferredVersion"]["groupVersion"] == "apps/v1");
  auto apps = c.get("/apis/apps/v1");
  REQUIRE(apps.status == 200);
  const Json* scale = findResource(apps.json, "deployments/scale");
  REQUIRE(scale);
  CHECK((*scale)["group"] == "autoscaling");
  CHECK((*scale)["kind"] == "Scale");
  CHECK((*findResource(apps.json, "deployments"))["shortNames"] == Json::array({"deploy"}));
  CHECK((*findResource(apps.json, "replicasets"))["shortNames"] == Json::array({"rs"}));
}

TEST_CASE("the self reviews are discovered as create-only, cluster-scoped resources",
          "[discovery]") {
  Cluster c;
  auto apis = c.get("/apis");
  REQUIRE(apis.status == 200);
  std::vector<std::string> groups;
  for (const Json& g : apis.json["groups"]) groups.push_back(g["name"]);
  CHECK(std::count(groups.begin(), groups.end(), "authentication.k8s.io") == 1);
  CHECK(std::count(groups.begin(), groups.end(), "authorization.k8s.io") == 1);
  auto group = c.get("/apis/authorization.k8s.io");
  REQUIRE(group.status == 200);
  CHECK(group.json["kind"] == "APIGroup");
  CHECK(group.json["preferredVersion"]["groupVersion"] == "authorization.k8s.io/v1");
  auto authz = c.get("/apis/authorization.k8s.io/v1");
  REQUIRE(authz.status == 200);
  for (const char* plural : {"selfsubjectaccessreviews", "selfsubjectrulesreviews"}) {
    const Json* r = findResource(authz.json, plural);
    REQUIRE(r);
    CHECK((*r)["verbs"] == Json::array({"create"}));
    CHECK((*r)["namespaced"] == false);
  }
  auto authn = c.get("/apis/authentication.k8s.io/v1");
  REQUIRE(authn.status == 200);
  REQUIRE(findResource(authn.json, "selfsubjectreviews"));
  CHECK((*findResource(authn.json, "selfsubjectreviews"))["kind"] == "SelfSubjectReview");
  CHECK(c.get("/apis/authorization.k8s.io/v2").status == 404);
  CHECK(c.get("/apis/nope.example.com").status == 404);
  auto index = c.get("/openapi/v3");
  CHECK(index.json["paths"].contains("apis/authorization.k8s.io/v1"));
  CHECK(index.json["paths"].contains("apis/authentication.k8s.io/v1"));
  CHECK(c.get("/openapi/v3/apis/authorization.k8s.io/v1").status == 200);
}

TEST_CASE("openapi documents", "[discovery]") {
  Cluster c;
  auto index = c.get("/openapi/v3");
  REQUIRE(index.status == 200);
  CHECK(index.json["paths"].contains("api/v1"));
  CHECK(index.body == skiff::api::openApiV3Index());
  auto core = c.get("/openapi/v3/api/v1?hash=abc");
  REQUIRE(core.status == 200);
  CHECK(core.json.contains("components"));
  CHECK(core.contentType == "application/json");
  // Served from the text serialized once: the same bytes every time.
  REQUIRE(skiff::api::openApiV3Document("v1") != nullptr);
  CHECK(core.body == *skiff::api::openApiV3Document("v1"));
  CHECK(c.get("/openapi/v3/api/v1").body == core.body);
  CHECK(c.get("/openapi/v3/apis/apps/v1").body == *skiff::api::openApiV3Document("apps/v1"));
  CHECK(c.get("/openapi/v3/apis/nope/v1").status == 404);
  auto v2 = c.get("/openapi/v2");
  CHECK(v2.status == 200);
  CHECK(v2.body == skiff::api::openApiV2Document());
  // kubectl's form: gnostic protobuf, named with a '.' where the request has
  // '@' (Go's mime parser refuses the '@'), as kube-openapi answers.
  auto proto = c.get("/openapi/v2",
                     {{"accept", "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"}});
  CHECK(proto.status == 200);
  CHECK(proto.contentType == "application/com.github.proto-openapi.spec.v2.v1.0+protobuf");
  CHECK(proto.body == skiff::api::openApiV2Protobuf());
  CHECK(proto.body.find("io.k8s.api.authorization.v1.SelfSubjectAccessReview") !=
        std::string::npos);
  // Any other protobuf only: nothing to offer.
  auto other = c.get("/openapi/v2", {{"accept", "application/vnd.kubernetes.protobuf"}});
  CHECK(other.status == 406);
}
