#include "apiserver/discovery.h"

#include <algorithm>
#include <cstring>
#include <string_view>

#include "api/openapi.h"

#include "apiserver/api_errors.h"
#include "apiserver/resources.h"

namespace skiff::apiserver {

using api::Json;

Json versionInfo(const RestOptions& options) {
  return {{"major", "1"},
          {"minor", "32"},
          {"gitVersion", options.gitVersion},
          {"gitCommit", "0000000000000000000000000000000000000000"},
          {"gitTreeState", "clean"},
          {"buildDate", "2026-01-01T00:00:00Z"},
          {"goVersion", "go1.23.4"},
          {"compiler", "gc"},
          {"platform", "linux/amd64"}};
}

Json apiVersions() {
  return {{"kind", "APIVersions"},
          {"versions", {"v1"}},
          {"serverAddressByClientCIDRs",
           {{{"clientCIDR", "0.0.0.0/0"}, {"serverAddress", "127.0.0.1:6443"}}}}};
}

namespace {

// Every served group has the one version v1.
Json apiGroup(const std::string& name) {
  Json gv = {{"groupVersion", name + "/v1"}, {"version", "v1"}};
  return {{"name", name}, {"versions", {gv}}, {"preferredVersion", gv}};
}

}  // namespace

Json apiGroupList() {
  Json groups = Json::array();
  for (const std::string& g : servedGroups()) groups.push_back(apiGroup(g));
  return {{"kind", "APIGroupList"}, {"apiVersion", "v1"}, {"groups", groups}};
}

Json apiResourceList(const std::string& group, const std::string& version) {
  Json resources = Json::array();
  for (const auto& r : allResources()) {
    if (r.group != group || r.version != version) continue;
    Json item = {{"name", r.plural},
                 {"singularName", r.singular},
                 {"namespaced", r.namespaced},
                 {"kind", r.kind},
                 {"verbs", r.verbs}};
    if (!r.shortNames.empty()) item["shortNames"] = r.shortNames;
    if (!r.categories.empty()) item["categories"] = r.categories;
    resources.push_back(item);
    for (const auto& s : r.subresources) {
      Json sub = {{"name", r.plural + "/" + s.name},
                  {"singularName", ""},
                  {"namespaced", r.namespaced},
                  {"kind", s.kind},
                  {"verbs", s.verbs}};
      if (s.group != r.group) {
        sub["group"] = s.group;
        sub["version"] = s.version;
      }
      resources.push_back(sub);
    }
  }
  return {{"kind", "APIResourceList"},
          {"apiVersion", "v1"},
          {"groupVersion", group.empty() ? version : group + "/" + version},
          {"resources", resources}};
}

std::optional<DiscoveryResponse> serveDiscovery(const Request& request,
                                                const RestOptions& options) {
  std::string path = request.path;
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  auto text = [](std::string body) {
    return DiscoveryResponse{200, "application/json", std::move(body)};
  };
  auto json = [&](const Json& j) { return text(j.dump()); };
  auto missing = []() {
    return DiscoveryResponse{404, "application/json", statusJson(resourceNotFound()).dump()};
  };
  if (path == "/version") return json(versionInfo(options));
  if (path == "/api") return json(apiVersions());
  if (path == "/api/v1") return json(apiResourceList("", "v1"));
  if (path == "/apis") return json(apiGroupList());
  if (path.rfind("/apis/", 0) == 0) {
    // /apis/<group> and /apis/<group>/v1; anything deeper is a resource's
    // (every apps request passes here: no copies until it is discovery).
    std::string_view rest = std::string_view(path).substr(strlen("/apis/"));
    size_t slash = rest.find('/');
    std::string_view group = rest.substr(0, slash);
    std::string_view version = slash == std::string_view::npos ? "" : rest.substr(slash + 1);
    if (version.find('/') == std::string_view::npos) {
      const auto& groups = servedGroups();
      bool served = std::find(groups.begin(), groups.end(), group) != groups.end();
      if (!served || (!version.empty() && version != "v1")) return missing();
      if (!version.empty()) return json(apiResourceList(std::string(group), "v1"));
      Json g = apiGroup(std::string(group));
      g["kind"] = "APIGroup";
      g["apiVersion"] = "v1";
      return json(g);
    }
  }
  if (path == "/openapi/v3") return text(api::openApiV3Index());
  if (path.rfind("/openapi/v3/", 0) == 0) {
    std::string gv = path.substr(strlen("/openapi/v3/"));
    if (gv.rfind("api/", 0) == 0) {
      gv = gv.substr(4);
    } else if (gv.rfind("apis/", 0) == 0) {
      gv = gv.substr(5);
    } else {
      return missing();
    }
    const std::string* doc = api::openApiV3Document(gv);
    if (!doc) return missing();
    return text(*doc);
  }
  if (path == "/openapi/v2" || path == "/swagger.json") {
    // kubectl asks for gnostic's protobuf form (to validate what the v3
    // documents cannot vouch for: `kind: List` manifests, create-only kinds);
    // other clients get JSON.
    // Asked for as "...spec.v2@v1.0+protobuf", answered as "...spec.v2.v1.0+protobuf", as
    // kube-openapi does: Go's mime parser refuses the '@'.
    static const std::string kProtobufV2 =
        "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";
    std::string accept = request.header("accept");
    if (accept.find("application/com.github.proto-openapi.spec.v2") != std::string::npos)
      return DiscoveryResponse{200, kProtobufV2, api::openApiV2Protobuf()};
    if (!accept.empty() && accept.find("protobuf") != std::string::npos &&
        accept.find("application/json") == std::string::npos &&
        accept.find("*/*") == std::string::npos) {
      Error e = makeError(Code::kNotAcceptable,
                          "only the following media types are accepted: application/json, "
                          "application/com.github.proto-openapi.spec.v2@v1.0+protobuf");
      return DiscoveryResponse{406, "application/json", statusJson(e).dump()};
    }
    return text(api::openApiV2Document());
  }
  return std::nullopt;
}

}  // namespace skiff::apiserver
