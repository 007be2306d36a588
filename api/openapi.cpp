// OpenAPI v3 (per group-version) and v2 (Swagger, all groups) documents, built
// from the type model and a small table of the REST resources skiff serves.
//
// What kubectl relies on: component schemas named as Kubernetes names them,
// carrying x-kubernetes-group-version-kind; and, for every kind, PATCH
// operations carrying the same extension (as an object) and declaring the
// `fieldValidation` query parameter inline — kubectl's queryParamVerifierV3
// takes the first PATCH it meets for the kind, so every one of them must.
#include "api/openapi.h"

#include <algorithm>
#include <map>
#include <set>

#include "api/schema.h"

namespace skiff::api {

namespace {

const char* const kIntOrString = "io.k8s.apimachinery.pkg.util.intstr.IntOrString";
const char* const kQuantity = "io.k8s.apimachinery.pkg.api.resource.Quantity";
const char* const kTime = "io.k8s.apimachinery.pkg.apis.meta.v1.Time";
const char* const kPatch = "io.k8s.apimachinery.pkg.apis.meta.v1.Patch";
const std::string kMetaPrefix = "io.k8s.apimachinery.pkg.apis.meta.v1.";

enum class Flavor { kV2, kV3 };

std::string refTo(Flavor f, const std::string& name) {
  return (f == Flavor::kV3 ? "#/components/schemas/" : "#/definitions/") + name;
}

Json gvkJson(const GroupVersionKind& gvk) {
  return Json{{"group", gvk.group}, {"kind", gvk.kind}, {"version", gvk.version}};
}

// A schema that names another one; v3 wraps it in allOf so siblings are legal.
Json refSchema(Flavor f, const std::string& name, bool wrap) {
  if (f == Flavor::kV3 && wrap) {
    return Json{{"allOf", Json::array({Json{{"$ref", refTo(f, name)}}})}};
  }
  return Json{{"$ref", refTo(f, name)}};
}

Json kindSchema(Flavor f, FieldKind kind, const std::string& format, const TypeDef* type,
                bool wrap) {
  switch (kind) {
    case FieldKind::kString:
      return Json{{"type", "string"}};
    case FieldKind::kInteger:
      return Json{{"type", "integer"}, {"format", format.empty() ? "int32" : format}};
    case FieldKind::kNumber:
      return Json{{"type", "number"}, {"format", "double"}};
    case FieldKind::kBoolean:
      return Json{{"type", "boolean"}};
    case FieldKind::kObject:
      if (!type) return Json{{"type", "object"}};
      return refSchema(f, type->name, wrap);
    case FieldKind::kIntOrString:
      return refSchema(f, kIntOrString, wrap);
    case FieldKind::kQuantity:
      return refSchema(f, kQuantity, wrap);
    case FieldKind::kTime:
      return refSchema(f, kTime, wrap);
    case FieldKind::kAny:
      return Json{{"type", "object"}, {"x-kubernetes-preserve-unknown-fields", true}};
    case FieldKind::kArray:
    case FieldKind::kMap:
      return Json{{"type", "object"}};
  }
  return Json::object();
}

Json fieldSchema(Flavor f, const FieldDef& fd) {
  Json s;
  if (fd.kind == FieldKind::kArray) {
    s = Json{{"type", "array"},
             {"items",
              kindSchema(f, fd.elemKind, fd.format, fd.type, fd.elemKind == FieldKind::kObject)}};
    if (f == Flavor::kV3 && fd.elemKind == FieldKind::kObject)
      s["items"]["default"] = Json::object();
  } else if (fd.kind == FieldKind::kMap) {
    s = Json{{"type", "object"},
             {"additionalProperties", kindSchema(f, fd.elemKind, fd.format, fd.type, true)}};
    if (f == Flavor::kV3 && fd.elemKind == FieldKind::kString) {
      s["additionalProperties"]["default"] = "";
    }
  } else {
    s = kindSchema(f, fd.kind, fd.format, fd.type, true);
    if (f == Flavor::kV3 && fd.kind == FieldKind::kObject) s["default"] = Json::object();
  }
  if (!fd.description.empty()) s["description"] = fd.description;
  if (!fd.enumValues.empty() && fd.kind == FieldKind::kString) s["enum"] = fd.enumValues;
  if (!fd.listType.empty()) s["x-kubernetes-list-type"] = fd.listType;
  if (!fd.listMapKeys.empty()) s["x-kubernetes-list-map-keys"] = fd.listMapKeys;
  if (!fd.patchMergeKey.empty()) s["x-kubernetes-patch-merge-key"] = fd.patchMergeKey;
  if (!fd.patchStrategy.empty()) s["x-kubernetes-patch-strategy"] = fd.patchStrategy;
  return s;
}

Json typeSchema(Flavor f, const TypeDef& t) {
  Json s{{"type", "object"}};
  if (!t.description.empty()) s["description"] = t.description;
  Json props = Json::object();
  Json req = Json::array();
  for (const FieldDef& fd : t.fields) {
    props[fd.name] = fieldSchema(f, fd);
    if (fd.required) req.push_back(fd.name);
  }
  s["properties"] = props;
  if (!req.empty()) s["required"] = req;
  if (t.gvk) {
    Json gvks = Json::array({gvkJson(*t.gvk)});
    // Like Kubernetes, the meta types that travel in every group say so.
    if (t.name == kMetaPrefix + "Status" || t.name == kMetaPrefix + "DeleteOptions" ||
        t.name == kMetaPrefix + "WatchEvent") {
      gvks.push_back(gvkJson({"apps", "v1", t.gvk->kind}));
      gvks.push_back(gvkJson({"autoscaling", "v1", t.gvk->kind}));
    }
    s["x-kubernetes-group-version-kind"] = gvks;
  }
  return s;
}

// The named scalar schemas Kubernetes publishes beside the object types.
void addScalarSchemas(Json& schemas) {
  schemas[kIntOrString] = {
      {"description", "IntOrString is a type that can hold an int32 or a string."},
      {"type", "string"},
      {"format", "int-or-string"}};
  schemas[kQuantity] = {
      {"description",
       "Quantity is a fixed-point representation of a number, serialized as a string such as "
       "\"100m\" or \"1Gi\"."},
      {"type", "string"}};
  schemas[kTime] = {{"description",
                     "Time is a wrapper around time.Time which supports correct marshaling to "
                     "YAML and JSON, in RFC 3339 form."},
                    {"type", "string"},
                    {"format", "date-time"}};
  schemas[kPatch] = {{"description",
                      "Patch is provided to give a concrete name and type to the "
                      "Kubernetes PATCH request body."},
                     {"type", "object"}};
}

// Adds `t` and every type it refers to.
void closure(const TypeDef* t, std::set<const TypeDef*>& out) {
  if (!t || !out.insert(t).second) return;
  for (const FieldDef& f : t->fields) closure(f.type, out);
}

struct Resource {
  std::string group, version, plural, kind;
  bool namespaced;
  std::vector<std::string> subresources;  // "status", "scale", "binding", "log", "token"
  bool createOnly = false;                // bindings and the self reviews: never stored
};

const std::vector<Resource>& resources() {
  static const std::vector<Resource> r = {
      {"", "v1", "namespaces", "Namespace", false, {"status"}},
      {"", "v1", "nodes", "Node", false, {"status"}},
      {"", "v1", "pods", "Pod", true, {"status", "binding", "log"}},
      {"", "v1", "services", "Service", true, {"status"}},
      {"", "v1", "endpoints", "Endpoints", true, {}},
      {"", "v1", "configmaps", "ConfigMap", true, {}},
      {"", "v1", "secrets", "Secret", true, {}},
      {"", "v1", "serviceaccounts", "ServiceAccount", true, {"token"}},
      {"", "v1", "events", "Event", true, {}},
      {"", "v1", "bindings", "Binding", true, {}, true},
      {"apps", "v1", "deployments", "Deployment", true, {"status", "scale"}},
      {"apps", "v1", "replicasets", "ReplicaSet", true, {"status", "scale"}},
      {"authentication.k8s.io", "v1", "selfsubjectreviews", "SelfSubjectReview", false, {}, true},
      {"authorization.k8s.io",
       "v1",
       "selfsubjectaccessreviews",
       "SelfSubjectAccessReview",
       false,
       {},
       true},
      {"authorization.k8s.io",
       "v1",
       "selfsubjectrulesreviews",
       "SelfSubjectRulesReview",
       false,
       {},
       true},
  };
  return r;
}

std::string groupVersionOf(const Resource& r) {
  return r.group.empty() ? r.version : r.group + "/" + r.version;
}

std::string upperFirst(std::string s) {
  if (!s.empty()) s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
  return s;
}

// A group as Kubernetes' tags and operation IDs spell it: "core" for the core
// group, the ".k8s.io" suffix dropped and the rest camel-cased
// ("authorization.k8s.io" -> "authorization", "rbac.authorization.k8s.io" ->
// "rbacAuthorization").
std::string groupIdentifier(const std::string& group) {
  if (group.empty()) return "core";
  std::string g = group;
  const std::string suffix = ".k8s.io";
  if (g.size() > suffix.size() && g.compare(g.size() - suffix.size(), suffix.size(), suffix) == 0)
    g.resize(g.size() - suffix.size());
  std::string out;
  bool upper = false;
  for (char c : g) {
    if (c == '.' || c == '-') {
      upper = true;
      continue;
    }
    out += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
    upper = false;
  }
  return out;
}

class PathBuilder {
 public:
  PathBuilder(Flavor f) : f_(f) {}

  Json queryParam(const std::string& name, const std::string& type, const std::string& desc) {
    if (f_ == Flavor::kV3) {
      return Json{{"name", name},
                  {"in", "query"},
                  {"description", desc},
                  {"schema", Json{{"type", type}, {"uniqueItems", true}}}};
    }
    return Json{{"name", name},
                {"in", "query"},
                {"description", desc},
                {"type", type},
                {"uniqueItems", true}};
  }

  Json pathParam(const std::string& name, const std::string& desc) {
    if (f_ == Flavor::kV3) {
      return Json{{"name", name},
                  {"in", "path"},
                  {"required", true},
                  {"description", desc},
                  {"schema", Json{{"type", "string"}, {"uniqueItems", true}}}};
    }
    return Json{{"name", name},        {"in", "path"},     {"required", true},
                {"description", desc}, {"type", "string"}, {"uniqueItems", true}};
  }

  Json writeParams(bool patch) {
    Json p = Json::array();
    p.push_back(queryParam("dryRun", "string",
                           "When present, indicates that modifications should not be persisted."));
    p.push_back(queryParam("fieldManager", "string",
                           "fieldManager is a name associated with the actor or entity that is "
                           "making these changes."));
    p.push_back(queryParam(
        "fieldValidation", "string",
        "fieldValidation instructs the server on how to handle objects in the request "
        "(POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore - "
        "Warn - Strict (the default)."));
    if (patch) {
      Json force = queryParam("force", "boolean", "Force is going to \"force\" Apply requests.");
      p.push_back(force);
    }
    return p;
  }

  Json response(const std::string& schemaName, const char* description) {
    if (f_ == Flavor::kV3) {
      Json content = Json::object();
      for (const char* mt :
           {"application/json", "application/yaml", "application/vnd.kubernetes.protobuf"}) {
        content[mt] = Json{{"schema", Json{{"$ref", refTo(f_, schemaName)}}}};
      }
      return Json{{"description", description}, {"content", content}};
    }
    return Json{{"description", description}, {"schema", Json{{"$ref", refTo(f_, schemaName)}}}};
  }

  Json body(const std::string& schemaName, const std::vector<std::string>& mediaTypes) {
    if (f_ == Flavor::kV3) {
      Json content = Json::object();
      for (const std::string& mt : mediaTypes) {
        content[mt] = Json{{"schema", Json{{"$ref", refTo(f_, schemaName)}}}};
      }
      return Json{{"content", content}, {"required", true}};
    }
    return Json{{"name", "body"},
                {"in", "body"},
                {"required", true},
                {"schema", Json{{"$ref", refTo(f_, schemaName)}}}};
  }

  // One operation. `verb` is the HTTP method; `action` Kubernetes' x-kubernetes-action.
  Json op(const std::string& opId, const std::string& desc, const std::string& action,
          const GroupVersionKind& gvk, const std::string& tag, Json params,
          const std::string* bodySchema, const std::vector<std::string>& bodyTypes,
          const std::vector<std::pair<std::string, std::string>>& responses) {
    Json o{{"description", desc},
           {"operationId", opId},
           {"tags", Json::array({tag})},
           {"x-kubernetes-action", action},
           {"x-kubernetes-group-version-kind", gvkJson(gvk)}};
    if (bodySchema && f_ == Flavor::kV2) params.push_back(body(*bodySchema, bodyTypes));
    if (!params.empty()) o["parameters"] = params;
    if (bodySchema && f_ == Flavor::kV3) o["requestBody"] = body(*bodySchema, bodyTypes);
    if (f_ == Flavor::kV2) {
      o["consumes"] = bodyTypes.empty() ? Json::array({"*/*"}) : Json(bodyTypes);
      o["produces"] = Json::array(
          {"application/json", "application/yaml", "application/vnd.kubernetes.protobuf"});
      o["schemes"] = Json::array({"https"});
    }
    Json resp = Json::object();
    for (const auto& [code, schema] : responses) {
      resp[code] = response(schema, code == "201" ? "Created" : code == "202" ? "Accepted" : "OK");
    }
    resp["401"] = Json{{"description", "Unauthorized"}};
    o["responses"] = resp;
    return o;
  }

  void addResource(const Resource& r, Json& paths) {
    GroupVersionKind gvk{r.group, r.version, r.kind};
    const TypeDef* t = typeForKind(gvk);
    const TypeDef* list = typeForKind({r.group, r.version, r.kind + "List"});
    if (!t) return;
    std::string prefix = r.group.empty() ? "/api/" + r.version : "/apis/" + groupVersionOf(r);
    const std::string group = groupIdentifier(r.group);
    std::string gvTag = group + "_" + r.version;
    std::string opSuffix =
        upperFirst(group) + upperFirst(r.version) + (r.namespaced ? "Namespaced" : "") + r.kind;
    std::string coll =
        r.namespaced ? prefix + "/namespaces/{namespace}/" + r.plural : prefix + "/" + r.plural;
    std::string item = coll + "/{name}";
    Json nsParam =
        pathParam("namespace", "object name and auth scope, such as for teams and projects");
    Json nameParam = pathParam("name", "name of the " + r.kind);
    Json pretty = queryParam("pretty", "string", "If 'true', then the output is pretty printed.");
    const std::string status = kMetaPrefix + "Status";
    const std::string patchName = kPatch;
    static const std::vector<std::string> jsonTypes = {"application/json", "application/yaml",
                                                       "application/vnd.kubernetes.protobuf"};
    static const std::vector<std::string> patchTypes = {
        "application/json-patch+json", "application/merge-patch+json",
        "application/strategic-merge-patch+json", "application/apply-patch+yaml"};

    auto pathParams = [&](bool withName) {
      Json p = Json::array();
      if (withName) p.push_back(nameParam);
      if (r.namespaced) p.push_back(nsParam);
      p.push_back(pretty);
      return p;
    };

    if (r.createOnly) {
      Json& c = paths[coll];
      c["parameters"] = pathParams(false);
      c["post"] =
          op("create" + opSuffix, "create a " + r.kind, "post", gvk, gvTag, writeParams(false),
             &t->name, jsonTypes, {{"200", t->name}, {"201", t->name}, {"202", t->name}});
      return;
    }

    Json& c = paths[coll];
    c["parameters"] = pathParams(false);
    if (list) {
      c["get"] = op("list" + opSuffix, "list or watch objects of kind " + r.kind, "list", gvk,
                    gvTag, listParams(), nullptr, {}, {{"200", list->name}});
    }
    c["post"] =
        op("create" + opSuffix, "create a " + r.kind, "post", gvk, gvTag, writeParams(false),
           &t->name, jsonTypes, {{"200", t->name}, {"201", t->name}, {"202", t->name}});
    if (r.kind != "Namespace") {
      c["delete"] =
          op("deletecollection" + opSuffix, "delete collection of " + r.kind, "deletecollection",
             gvk, gvTag, listParams(), nullptr, {}, {{"200", status}});
    }

    Json& i = paths[item];
    i["parameters"] = pathParams(true);
    i["get"] = op("read" + opSuffix, "read the specified " + r.kind, "get", gvk, gvTag,
                  Json::array(), nullptr, {}, {{"200", t->name}});
    i["put"] = op("replace" + opSuffix, "replace the specified " + r.kind, "put", gvk, gvTag,
                  writeParams(false), &t->name, jsonTypes, {{"200", t->name}, {"201", t->name}});
    i["patch"] =
        op("patch" + opSuffix, "partially update the specified " + r.kind, "patch", gvk, gvTag,
           writeParams(true), &patchName, patchTypes, {{"200", t->name}, {"201", t->name}});
    i["delete"] =
        op("delete" + opSuffix, "delete a " + r.kind, "delete", gvk, gvTag, deleteParams(),
           &(deleteOptionsName_), jsonTypes, {{"200", status}, {"202", status}});

    if (r.namespaced && list) {
      std::string all = prefix + "/" + r.plural;
      Json& a = paths[all];
      a["parameters"] = Json::array({pretty});
      a["get"] = op("list" + upperFirst(r.group.empty() ? "core" : r.group) +
                        upperFirst(r.version) + r.kind + "ForAllNamespaces",
                    "list or watch objects of kind " + r.kind, "list", gvk, gvTag, listParams(),
                    nullptr, {}, {{"200", list->name}});
    }

    for (const std::string& sub : r.subresources) {
      std::string sp = item + "/" + sub;
      Json& s = paths[sp];
      s["parameters"] = pathParams(true);
      std::string subSuffix = opSuffix + upperFirst(sub);
      if (sub == "status") {
        s["get"] = op("read" + subSuffix, "read status of the specified " + r.kind, "get", gvk,
                      gvTag, Json::array(), nullptr, {}, {{"200", t->name}});
        s["put"] = op("replace" + subSuffix, "replace status of the specified " + r.kind, "put",
                      gvk, gvTag, writeParams(false), &t->name, jsonTypes,
                      {{"200", t->name}, {"201", t->name}});
        s["patch"] = op("patch" + subSuffix, "partially update status of the specified " + r.kind,
                        "patch", gvk, gvTag, writeParams(true), &patchName, patchTypes,
                        {{"200", t->name}, {"201", t->name}});
      } else if (sub == "scale") {
        GroupVersionKind scale{"autoscaling", "v1", "Scale"};
        const std::string scaleName = "io.k8s.api.autoscaling.v1.Scale";
        s["get"] = op("read" + subSuffix, "read scale of the specified " + r.kind, "get", scale,
                      gvTag, Json::array(), nullptr, {}, {{"200", scaleName}});
        s["put"] = op("replace" + subSuffix, "replace scale of the specified " + r.kind, "put",
                      scale, gvTag, writeParams(false), &scaleName, jsonTypes,
                      {{"200", scaleName}, {"201", scaleName}});
        s["patch"] = op("patch" + subSuffix, "partially update scale of the specified " + r.kind,
                        "patch", scale, gvTag, writeParams(true), &patchName, patchTypes,
                        {{"200", scaleName}, {"201", scaleName}});
      } else if (sub == "binding") {
        const std::string bindingName = "io.k8s.api.core.v1.Binding";
        s["post"] = op("create" + subSuffix, "create binding of a Pod", "post",
                       {"", "v1", "Binding"}, gvTag, writeParams(false), &bindingName, jsonTypes,
                       {{"200", bindingName}, {"201", bindingName}, {"202", bindingName}});
      } else if (sub == "token") {
        const std::string tokenName = "io.k8s.api.authentication.v1.TokenRequest";
        s["post"] =
            op("create" + subSuffix, "create token of a ServiceAccount", "post",
               {"authentication.k8s.io", "v1", "TokenRequest"}, gvTag, writeParams(false),
               &tokenName, jsonTypes, {{"200", tokenName}, {"201", tokenName}, {"202", tokenName}});
      } else if (sub == "log") {
        Json logParams = Json::array();
        for (const char* q : {"container", "follow", "previous", "sinceSeconds", "tailLines",
                              "timestamps", "limitBytes"}) {
          logParams.push_back(queryParam(q, "string", std::string("see kubectl logs --") + q));
        }
        Json o{{"description", "read log of the specified Pod"},
               {"operationId", "read" + subSuffix},
               {"tags", Json::array({gvTag})},
               {"x-kubernetes-action", "get"},
               {"x-kubernetes-group-version-kind", gvkJson(gvk)},
               {"parameters", logParams}};
        if (f_ == Flavor::kV3) {
          o["responses"] = Json{
              {"200",
               Json{{"description", "OK"},
                    {"content", Json{{"text/plain", Json{{"schema", Json{{"type", "string"}}}}}}}}},
              {"401", Json{{"description", "Unauthorized"}}}};
        } else {
          o["produces"] = Json::array({"text/plain", "application/json"});
          o["responses"] =
              Json{{"200", Json{{"description", "OK"}, {"schema", Json{{"type", "string"}}}}},
                   {"401", Json{{"description", "Unauthorized"}}}};
        }
        s["get"] = o;
      }
    }
  }

 private:
  Json listParams() {
    Json p = Json::array();
    for (const char* q : {"allowWatchBookmarks", "continue", "fieldSelector", "labelSelector",
                          "limit", "resourceVersion", "resourceVersionMatch", "sendInitialEvents",
                          "timeoutSeconds", "watch"}) {
      std::string type = std::string(q) == "limit" || std::string(q) == "timeoutSeconds" ? "integer"
                         : std::string(q) == "watch" || std::string(q) == "allowWatchBookmarks" ||
                                 std::string(q) == "sendInitialEvents"
                             ? "boolean"
                             : "string";
      p.push_back(queryParam(q, type, std::string(q)));
    }
    return p;
  }
  Json deleteParams() {
    Json p = Json::array();
    p.push_back(queryParam("dryRun", "string",
                           "When present, indicates that modifications "
                           "should not be persisted."));
    p.push_back(queryParam("gracePeriodSeconds", "integer",
                           "The duration in seconds before the object should be deleted."));
    p.push_back(queryParam("propagationPolicy", "string",
                           "Whether and how garbage collection will be performed."));
    return p;
  }

  Flavor f_;
  std::string deleteOptionsName_ = kMetaPrefix + "DeleteOptions";
};

// Every schema the resources of `groupVersion` ("" = all) need.
Json schemasFor(Flavor f, const std::string& groupVersion) {
  std::set<const TypeDef*> types;
  for (const Resource& r : resources()) {
    if (!groupVersion.empty() && groupVersionOf(r) != groupVersion) continue;
    closure(typeForKind({r.group, r.version, r.kind}), types);
    closure(typeForKind({r.group, r.version, r.kind + "List"}), types);
    if (std::find(r.subresources.begin(), r.subresources.end(), "scale") != r.subresources.end()) {
      closure(findType("io.k8s.api.autoscaling.v1.Scale"), types);
    }
    if (std::find(r.subresources.begin(), r.subresources.end(), "binding") !=
        r.subresources.end()) {
      closure(findType("io.k8s.api.core.v1.Binding"), types);
    }
    if (std::find(r.subresources.begin(), r.subresources.end(), "token") != r.subresources.end())
      closure(findType("io.k8s.api.authentication.v1.TokenRequest"), types);
  }
  for (const char* meta : {"Status", "DeleteOptions", "WatchEvent"}) {
    closure(findType(kMetaPrefix + meta), types);
  }
  Json schemas = Json::object();
  // allTypes() order keeps the output stable.
  for (const TypeDef* t : allTypes()) {
    if (types.count(t)) schemas[t->name] = typeSchema(f, *t);
  }
  addScalarSchemas(schemas);
  return schemas;
}

Json pathsFor(Flavor f, const std::string& groupVersion) {
  Json paths = Json::object();
  PathBuilder b(f);
  for (const Resource& r : resources()) {
    if (!groupVersion.empty() && groupVersionOf(r) != groupVersion) continue;
    b.addResource(r, paths);
  }
  return paths;
}

// FNV-1a, printed as 16 hex digits: stable across runs, for ?hash= cache keys.
std::string hashOf(const std::string& s) {
  unsigned long long h = 1469598103934665603ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  static const char* hex = "0123456789ABCDEF";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, h >>= 4) out[i] = hex[h & 15];
  return out;
}

Json info() {
  return Json{{"title", "Kubernetes"}, {"version", "v1.32.0"}};
}

}  // namespace

namespace {

// One v3 document per served group-version ("v1", "apps/v1", ...), as JSON
// text: built and serialized once, on first use. Only the text stays: the
// trees would hold several times its memory for the server's lifetime.
const std::map<std::string, std::string>& v3Texts() {
  static const std::map<std::string, std::string> texts = [] {
    auto build = [](const std::string& gv) {
      Json d{{"openapi", "3.0.0"}, {"info", info()}};
      d["paths"] = pathsFor(Flavor::kV3, gv);
      d["components"] =
          Json{{"schemas", schemasFor(Flavor::kV3, gv)},
               {"securitySchemes",
                Json{{"BearerToken", Json{{"type", "apiKey"},
                                          {"description", "Bearer Token authentication"},
                                          {"name", "authorization"},
                                          {"in", "header"}}}}}};
      d["security"] = Json::array({Json{{"BearerToken", Json::array()}}});
      return d;
    };
    std::map<std::string, std::string> out;
    for (const Resource& r : resources()) {
      const std::string gv = groupVersionOf(r);
      if (!out.count(gv) && typeForKind({r.group, r.version, r.kind})) out[gv] = build(gv).dump();
    }
    return out;
  }();
  return texts;
}

}  // namespace

const std::string* openApiV3Document(const std::string& groupVersion) {
  auto it = v3Texts().find(groupVersion);
  return it == v3Texts().end() ? nullptr : &it->second;
}

const std::string& openApiV3Index() {
  static const std::string index = [] {
    Json paths = Json::object();
    for (const auto& [gv, text] : v3Texts()) {
      // The core group's "v1" is the only group-version without a '/'.
      const std::string key = (gv.find('/') == std::string::npos ? "api/" : "apis/") + gv;
      paths[key] = Json{{"serverRelativeURL", "/openapi/v3/" + key + "?hash=" + hashOf(text)}};
    }
    return Json{{"paths", paths}}.dump();
  }();
  return index;
}

Json buildOpenApiV2() {
  Json d{{"swagger", "2.0"}, {"info", info()}};
  d["paths"] = pathsFor(Flavor::kV2, "");
  d["definitions"] = schemasFor(Flavor::kV2, "");
  d["securityDefinitions"] =
      Json{{"BearerToken", Json{{"type", "apiKey"},
                                {"description", "Bearer Token authentication"},
                                {"name", "authorization"},
                                {"in", "header"}}}};
  d["security"] = Json::array({Json{{"BearerToken", Json::array()}}});
  return d;
}

const std::string& openApiV2Document() {
  static const std::string text = buildOpenApiV2().dump();
  return text;
}

}  // namespace skiff::api
