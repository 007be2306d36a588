// Validation as Kubernetes does it: pure functions from an object to a list of
// field errors, each with a path, a type, the bad value and a detail.
//
//   Service "web" is invalid: spec.ports[0].port: Invalid value: 70000: must be
//   between 1 and 65535, inclusive
#pragma once

#include <string>
#include <vector>

#include "api/json.h"
#include "api/schema.h"
#include "base/result.h"

namespace skiff::api {

using FieldErrors = std::vector<Cause>;

// Builders for causes with Kubernetes' message texts, e.g.
//   invalid("spec.ports[0].port", 70000, "must be between 1 and 65535, inclusive")
//   -> {FieldValueInvalid, "spec.ports[0].port", "Invalid value: 70000: must be ..."}
Cause required(const std::string& field, const std::string& detail = "");
Cause invalid(const std::string& field, const Json& value, const std::string& detail);
Cause duplicate(const std::string& field, const Json& value);
Cause notSupported(const std::string& field, const Json& value,
                   const std::vector<std::string>& supported);
Cause forbidden(const std::string& field, const std::string& detail);
Cause tooLong(const std::string& field, const Json& value, size_t maxLength);

// Validates a new object (already defaulted). Empty when valid.
FieldErrors validateCreate(const Json& object, const GroupVersionKind& gvk);
// Validates an update: everything validateCreate checks, plus immutable fields
// (metadata.name/namespace/uid, spec.clusterIP once set, pod spec fields, ...).
FieldErrors validateUpdate(const Json& object, const Json& old, const GroupVersionKind& gvk);

// The 422 Invalid error for `errors` on object `name` of kind `gvk`, with
// Kubernetes' message and details (name, group, kind = gvk.kind, causes).
Error invalidError(const GroupVersionKind& gvk, const std::string& name, const FieldErrors& errors);

// Name checks shared with the apiserver (empty when valid); each returns the
// detail texts Kubernetes uses.
std::vector<std::string> isDns1123Subdomain(const std::string& value);  // pods, most kinds
std::vector<std::string> isDns1123Label(const std::string& value);      // namespaces
std::vector<std::string> isDns1035Label(const std::string& value);      // services

}  // namespace skiff::api
