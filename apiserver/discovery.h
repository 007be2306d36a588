// Discovery and OpenAPI documents: /version, /api, /api/v1, /apis, /apis/apps,
// /apis/apps/v1, /openapi/v2, /openapi/v3[/<gv>].
//
// Only the plain application/json forms are served; a client asking for the
// aggregated apidiscovery.k8s.io/v2 form gets the plain one with Content-Type
// application/json, which kubectl recognises and falls back on.
//
// Pure functions of the resource table and the type model; thread-safe.
#pragma once

#include <optional>
#include <string>

#include "api/json.h"
#include "apiserver/http.h"
#include "apiserver/rest.h"

namespace skiff::apiserver {

api::Json versionInfo(const RestOptions& options);
api::Json apiVersions();   // /api
api::Json apiGroupList();  // /apis
api::Json apiResourceList(const std::string& group, const std::string& version);

struct DiscoveryResponse {
  int status = 200;
  std::string contentType = "application/json";
  std::string body;
};

// The answer for a discovery or OpenAPI path, or nullopt when `request.path` is
// not one of them.
std::optional<DiscoveryResponse> serveDiscovery(const Request& request, const RestOptions& options);

}  // namespace skiff::apiserver
