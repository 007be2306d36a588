// OpenAPI documents generated from the type model (schema.h), so what kubectl
// validates against is exactly what the server decodes.
//
// kubectl 1.32 fetches /openapi/v3 (an index of group-versions), then
// /openapi/v3/api/v1 (and /openapi/v3/apis/apps/v1); component schemas carry
// x-kubernetes-group-version-kind, and operations declare the fieldValidation
// query parameter so kubectl leaves unknown-field checks to the server.
#pragma once

#include <string>

#include "api/json.h"

namespace skiff::api {

// Each document as the server sends it, JSON text: built and serialized once,
// on first use (kubectl asks for the index and a group-version's document on
// every create and apply). Only the text is kept: the trees would hold several
// times its memory for the server's lifetime.
//
// /openapi/v3: {"paths": {"api/v1": {"serverRelativeURL": "/openapi/v3/api/v1?hash=..."}, ...}}
const std::string& openApiV3Index();
// /openapi/v3/api/v1 or /openapi/v3/apis/apps/v1; nullptr when the
// group-version is unknown. `groupVersion` is "v1" or "apps/v1".
const std::string* openApiV3Document(const std::string& groupVersion);
// /openapi/v2 (Swagger 2.0, JSON), every group in one document.
const std::string& openApiV2Document();
// The same document as a tree, built afresh on each call: for deriving its
// other forms once (openApiV2Protobuf, openApiV2Document).
Json buildOpenApiV2();

// The same document's definitions as the gnostic openapi_v2.Document protobuf
// kubectl asks for (Accept: application/com.github.proto-openapi.spec.v2@v1.0+protobuf);
// kubectl validates `kind: List` manifests against it. Paths are left out:
// kubectl reads only definitions from this form.
const std::string& openApiV2Protobuf();

}  // namespace skiff::api
