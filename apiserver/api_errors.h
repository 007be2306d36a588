// Kubernetes API errors: skiff::Error values with Kubernetes' exact message
// texts and Status details, and their rendering as a meta/v1 Status body.
//
// Pure functions; thread-safe.
#pragma once

#include <string>

#include "api/json.h"
#include "apiserver/resources.h"
#include "base/result.h"

namespace skiff::apiserver {

// {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",...}
api::Json statusJson(const Error& error);
// Status Success (DELETE of some kinds, bindings), with `code` (omitted when 0).
api::Json successStatus(int code, const std::string& name = "", const std::string& group = "",
                        const std::string& kind = "");

// `pods "web" not found`
Error notFound(const std::string& groupResource, const std::string& name);
// `pods "web" already exists`
Error alreadyExists(const std::string& groupResource, const std::string& name);
// `Operation cannot be fulfilled on services "web": <detail>`
Error conflict(const std::string& groupResource, const std::string& name,
               const std::string& detail);
// The stale-resourceVersion conflict text.
Error staleConflict(const std::string& groupResource, const std::string& name);
// `pods "web" is forbidden: <detail>`
Error forbidden(const std::string& groupResource, const std::string& name,
                const std::string& detail);
Error badRequest(const std::string& message);
// `the server could not find the requested resource`
Error resourceNotFound();
Error methodNotAllowed();

}  // namespace skiff::apiserver
