// Objects travel through skiff as nlohmann::json. parseJson() is the one entry
// point for bytes from outside (request bodies, files): it turns every failure
// into a BadRequest Error instead of an exception, and bounds nesting depth so a
// hostile body cannot exhaust the stack.
//
// Both parsers here build the Json with skiff's own reader (json.cpp) — 2 to 3
// times nlohmann's speed, which copies strings a byte at a time and inserts
// every key with a map search — and hand any text it does not take (malformed,
// a number out of range, a bad \u escape) to nlohmann's parser, so results and
// error messages are nlohmann's.
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/result.h"

namespace skiff::api {

using Json = nlohmann::json;

// Deeper documents are refused (Kubernetes objects need well under 30 levels).
inline constexpr int kMaxJsonDepth = 100;

// kBadRequest: syntax error (with byte offset), invalid UTF-8, depth > kMaxJsonDepth.
Result<Json> parseJson(std::string_view text);

// A value skiff stored itself (the store's texts, its own serializations):
// the same Json nlohmann's parser builds, built faster; a discarded value
// (is_discarded()) when the text does not parse, as Json::parse(text, nullptr,
// false) gives.
Json parseStoredJson(std::string_view text);

// j.dump(): the same bytes (compact, keys in order, UTF-8 as is, control
// characters escaped as nlohmann does), written 2 to 2.5 times as fast for
// the strings and integers objects are made of; a float, or a string that is not
// valid UTF-8, goes to nlohmann's serializer (which throws for the latter).
std::string dumpJson(const Json& j);
void appendJson(const Json& j, std::string& out);

// *p, or an empty object / null when p is nullptr — without copying *p (a
// conditional `p ? *p : Json::object()` copies the whole subtree).
const Json& valueOrEmptyObject(const Json* p);
const Json& valueOrNull(const Json* p);

// The member at `path` (object keys, outermost first), or nullptr when a step
// is missing or not an object, or the member is null (Go reads null as absent).
const Json* jsonAt(const Json& obj, std::initializer_list<const char*> path);

// Standard base64 with padding (RFC 4648), as Go encodes []byte in JSON.
std::string base64Encode(std::string_view bytes);
// Base64 in either alphabet, padding optional, whitespace ignored (kubeconfig
// and Secret data); nullopt on any other byte.
std::optional<std::string> base64Decode(std::string_view text);

// base64url without padding (RFC 4648 section 5), as JSON Web Tokens encode
// their parts (RFC 7515). The decoder takes only that form: '-' and '_', no
// '=' and no other byte; nullopt otherwise (a length of 1 mod 4 included).
std::string base64UrlEncode(std::string_view bytes);
std::optional<std::string> base64UrlDecode(std::string_view text);

// Lenient readers for code that walks many fields of objects it did not
// validate (informer caches): a missing member, one of another type, or an
// `obj` that is not an object reads as the zero value, as Go reads a decoded
// object. Short names, to be brought in with using-declarations.
namespace lenient {
// The string member `key`, or "".
std::string str(const Json& obj, const char* key);
// The member `key` (any type), or null.
const Json& field(const Json& obj, const char* key);
// The array member `key`, or an empty array.
const Json& array(const Json& obj, const char* key);
}  // namespace lenient

namespace detail {
// The reader alone: false when it declines `text` (then `out` is unspecified).
bool readJson(std::string_view text, Json& out);
}  // namespace detail

}  // namespace skiff::api
