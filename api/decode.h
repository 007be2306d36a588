// Strict decoding: checks a parsed object against the type model (schema.h).
//
// Unknown fields and wrong JSON types are reported with their full path, the way
// Kubernetes' strict decoder does, plus a "did you mean" for near misses:
//   Service in version "v1" cannot be handled as a Service: strict decoding error:
//   unknown field "spec.port", did you mean "spec.ports"?
#pragma once

#include <string>
#include <vector>

#include "api/json.h"
#include "api/schema.h"
#include "base/result.h"

namespace skiff::api {

// What to do with fields the model does not know (the fieldValidation query
// parameter): kStrict refuses the object; kWarn drops them and reports a warning
// each; kIgnore drops them silently.
enum class UnknownFields { kStrict, kWarn, kIgnore };

struct Decoded {
  Json object;                        // the input, minus dropped unknown fields
  std::vector<std::string> warnings;  // `unknown field "spec.foo"`, for Warning headers
};

// Checks `object` (a whole object of kind `gvk`: apiVersion and kind must match
// it, or be absent and are then filled in). Errors are kBadRequest.
Result<Decoded> decodeObject(const Json& object, const GroupVersionKind& gvk,
                             UnknownFields unknown = UnknownFields::kStrict);
// The same, taking the object over instead of copying it.
Result<Decoded> decodeObject(Json&& object, const GroupVersionKind& gvk,
                             UnknownFields unknown = UnknownFields::kStrict);

// Reads apiVersion and kind from an object; kBadRequest naming the missing field.
Result<GroupVersionKind> objectKind(const Json& object);

// The nearest of `candidates` to `word` by edit distance, or "" when none is close.
std::string closestMatch(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace skiff::api
