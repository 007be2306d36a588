// Objects travel through skiff as nlohmann::json. parseJson() is the one entry
// point for bytes from outside (request bodies, files): it turns every failure
// into a BadRequest Error instead of an exception, and bounds nesting depth so a
// hostile body cannot exhaust the stack.
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

#include "base/result.h"

namespace skiff::api {

using Json = nlohmann::json;

// Deeper documents are refused (Kubernetes objects need well under 30 levels).
inline constexpr int kMaxJsonDepth = 100;

// kBadRequest: syntax error (with byte offset), invalid UTF-8, depth > kMaxJsonDepth.
Result<Json> parseJson(std::string_view text);

}  // namespace skiff::api
