// OpenAPI documents: what kubectl 1.32 reads from them must be there.
#include <catch2/catch.hpp>

#include "api/openapi.h"

using namespace skiff::api;

namespace {
// The v3 document of `gv` as a client reads what the server sends; null when unknown.
Json v3(const std::string& gv) {
  const std::string* text = openApiV3Document(gv);
  return text ? Json::parse(*text) : Json(nullptr);
}

// kubectl's supportsQueryParamV3: the first PATCH operation whose
// x-kubernetes-group-version-kind matches must list fieldValidation (in: query).
// Here every matching PATCH must, since Go map order is random.
bool supportsFieldValidation(const Json& doc, const Json& gvk, int* patches) {
  *patches = 0;
  for (auto& [path, item] : doc["paths"].items()) {
    if (!item.contains("patch")) continue;
    const Json& op = item["patch"];
    if (op.value("x-kubernetes-group-version-kind", Json()) != gvk) continue;
    ++*patches;
    bool found = false;
    for (const Json& p : op["parameters"]) {
      if (p["name"] == "fieldValidation" && p["in"] == "query") found = true;
    }
    if (!found) return false;
  }
  return *patches > 0;
}

void checkRefsResolve(const Json& node, const Json& doc, const std::string& prefix) {
  if (node.is_object()) {
    for (auto& [k, v] : node.items()) {
      if (k == "$ref") {
        std::string ref = v.get<std::string>();
        REQUIRE(ref.rfind(prefix, 0) == 0);
        std::string name = ref.substr(prefix.size());
        INFO(ref);
        const Json& defs =
            prefix == "#/definitions/" ? doc["definitions"] : doc["components"]["schemas"];
        CHECK(defs.contains(name));
      } else {
        checkRefsResolve(v, doc, prefix);
      }
    }
  } else if (node.is_array()) {
    for (const Json& e : node) checkRefsResolve(e, doc, prefix);
  }
}
}  // namespace

TEST_CASE("v3 index lists api/v1 and apis/apps/v1", "[openapi]") {
  Json index = Json::parse(openApiV3Index());
  REQUIRE(index["paths"].contains("api/v1"));
  REQUIRE(index["paths"].contains("apis/apps/v1"));
  std::string url = index["paths"]["api/v1"]["serverRelativeURL"];
  CHECK(url.rfind("/openapi/v3/api/v1?hash=", 0) == 0);
  CHECK(v3("batch/v1").is_null());
  CHECK(openApiV3Document("batch/v1") == nullptr);
  REQUIRE(openApiV3Document("apps/v1") != nullptr);
  CHECK(v3("apps/v1")["openapi"] == "3.0.0");
}

TEST_CASE("v3 core document has Kubernetes schema names, GVKs and fieldValidation", "[openapi]") {
  Json doc = v3("v1");
  CHECK(doc["openapi"] == "3.0.0");
  const Json& schemas = doc["components"]["schemas"];
  REQUIRE(schemas.contains("io.k8s.api.core.v1.Service"));
  REQUIRE(schemas.contains("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"));
  const Json& svc = schemas["io.k8s.api.core.v1.Service"];
  REQUIRE(svc["x-kubernetes-group-version-kind"].is_array());
  CHECK(svc["x-kubernetes-group-version-kind"][0] ==
        Json({{"group", ""}, {"kind", "Service"}, {"version", "v1"}}));
  CHECK(svc["properties"]["metadata"]["allOf"][0]["$ref"] ==
        "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta");

  const Json& ports = schemas["io.k8s.api.core.v1.ServiceSpec"]["properties"]["ports"];
  CHECK(ports["type"] == "array");
  CHECK(ports["x-kubernetes-patch-merge-key"] == "port");
  CHECK(ports["x-kubernetes-patch-strategy"] == "merge");
  CHECK(ports["x-kubernetes-list-type"] == "map");
  CHECK(ports["x-kubernetes-list-map-keys"] == Json::array({"port", "protocol"}));
  CHECK(schemas["io.k8s.api.core.v1.ServicePort"]["required"] == Json::array({"port"}));
  CHECK(schemas["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]["format"] == "int-or-string");
  CHECK(schemas.contains("io.k8s.apimachinery.pkg.api.resource.Quantity"));
  CHECK(schemas["io.k8s.api.core.v1.ServicePort"]["properties"]["targetPort"]["allOf"][0]["$ref"] ==
        "#/components/schemas/io.k8s.apimachinery.pkg.util.intstr.IntOrString");

  for (const char* kind : {"Service", "Pod", "Namespace", "Node", "Endpoints", "Event"}) {
    INFO(kind);
    int patches = 0;
    CHECK(supportsFieldValidation(doc, Json({{"group", ""}, {"kind", kind}, {"version", "v1"}}),
                                  &patches));
  }
  const Json& post = doc["paths"]["/api/v1/namespaces/{namespace}/services"]["post"];
  CHECK(post["requestBody"]["content"]["application/json"]["schema"]["$ref"] ==
        "#/components/schemas/io.k8s.api.core.v1.Service");
  bool fv = false;
  for (const Json& p : post["parameters"]) fv = fv || p["name"] == "fieldValidation";
  CHECK(fv);
  checkRefsResolve(doc, doc, "#/components/schemas/");
}

TEST_CASE("v3 apps document covers Deployment and ReplicaSet", "[openapi]") {
  Json doc = v3("apps/v1");
  const Json& schemas = doc["components"]["schemas"];
  CHECK(schemas.contains("io.k8s.api.apps.v1.Deployment"));
  CHECK(schemas.contains("io.k8s.api.core.v1.PodSpec"));
  CHECK(schemas.contains("io.k8s.api.autoscaling.v1.Scale"));
  CHECK(!schemas.contains("io.k8s.api.core.v1.Service"));
  for (const char* kind : {"Deployment", "ReplicaSet"}) {
    int patches = 0;
    CHECK(supportsFieldValidation(doc, Json({{"group", "apps"}, {"kind", kind}, {"version", "v1"}}),
                                  &patches));
    CHECK(patches == 2);  // the object and its status
  }
  CHECK(doc["paths"].contains("/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"));
  checkRefsResolve(doc, doc, "#/components/schemas/");
}

TEST_CASE("v3 authorization document: the create-only reviews, named as Kubernetes names them",
          "[openapi]") {
  Json doc = v3("authorization.k8s.io/v1");
  REQUIRE(doc.is_object());
  const Json& post = doc["paths"]["/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"]["post"];
  CHECK(post["operationId"] == "createAuthorizationV1SelfSubjectAccessReview");
  CHECK(post["tags"] == Json::array({"authorization_v1"}));
  // Create-only: no item path, no list, no patch (so kubectl validates
  // these on its side, against the v2 document).
  CHECK(doc["paths"].size() == 2);
  int patches = 0;
  CHECK(!supportsFieldValidation(doc,
                                 Json({{"group", "authorization.k8s.io"},
                                       {"kind", "SelfSubjectAccessReview"},
                                       {"version", "v1"}}),
                                 &patches));
  CHECK(v3("authentication.k8s.io/v1")["paths"].contains(
      "/apis/authentication.k8s.io/v1/selfsubjectreviews"));
  CHECK(v3("rbac.authorization.k8s.io/v1").is_null());
  checkRefsResolve(doc, doc, "#/components/schemas/");
}

TEST_CASE("v2 document has definitions and paths for every group", "[openapi]") {
  Json doc = Json::parse(openApiV2Document());
  // The tree the protobuf form is built from is the document served as JSON.
  CHECK(buildOpenApiV2() == doc);
  CHECK(doc["swagger"] == "2.0");
  CHECK(doc["definitions"].contains("io.k8s.api.core.v1.Pod"));
  CHECK(doc["definitions"].contains("io.k8s.api.apps.v1.Deployment"));
  CHECK(doc["paths"].contains("/api/v1/namespaces/{namespace}/pods/{name}"));
  CHECK(doc["paths"].contains("/apis/apps/v1/namespaces/{namespace}/deployments"));
  const Json& patch = doc["paths"]["/api/v1/namespaces/{namespace}/services/{name}"]["patch"];
  bool fv = false, body = false;
  for (const Json& p : patch["parameters"]) {
    fv = fv || (p["name"] == "fieldValidation" && p["in"] == "query");
    body = body || p["in"] == "body";
  }
  CHECK(fv);
  CHECK(body);
  CHECK(doc["definitions"]["io.k8s.api.core.v1.Container"]["properties"]["ports"]
           ["x-kubernetes-patch-merge-key"] == "containerPort");
  checkRefsResolve(doc, doc, "#/definitions/");
}

TEST_CASE("v2 protobuf form is well-formed gnostic Document wire data", "[openapi]") {
  const std::string& pb = openApiV2Protobuf();
  REQUIRE(pb.size() > 1000);
  // Walk the top-level fields: every one must be length-delimited and fit.
  auto varint = [&](size_t& i) {
    unsigned long long v = 0;
    for (int shift = 0; i < pb.size(); shift += 7) {
      unsigned char b = static_cast<unsigned char>(pb[i++]);
      v |= static_cast<unsigned long long>(b & 0x7f) << shift;
      if (!(b & 0x80)) break;
    }
    return v;
  };
  std::vector<int> fields;
  size_t i = 0;
  while (i < pb.size()) {
    unsigned long long tag = varint(i);
    REQUIRE((tag & 7) == 2);
    fields.push_back(static_cast<int>(tag >> 3));
    unsigned long long len = varint(i);
    REQUIRE(i + len <= pb.size());
    if (fields.size() == 1) CHECK(pb.substr(i, len) == "2.0");
    i += len;
  }
  CHECK(fields == std::vector<int>{1, 2, 9});  // swagger, info, definitions
  CHECK(pb.find("io.k8s.api.core.v1.Service") != std::string::npos);
  CHECK(pb.find("x-kubernetes-group-version-kind") != std::string::npos);
  CHECK(pb.find("#/definitions/io.k8s.api.core.v1.ServiceSpec") != std::string::npos);
}
