// URL helpers shared by skiff's two HTTP servers (the apiserver's and the
// kubelet's): decoding of request targets as RFC 3986 and HTML forms write them.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace skiff {

// Decodes %XX escapes (either hex case) from `in` into `out`; with
// `plusIsSpace` (query strings) '+' becomes ' ' too. False, with `out`
// partly written, on a '%' not followed by two hex digits: a server answers
// such a target with 400 rather than guess what it meant.
bool percentDecode(std::string_view in, bool plusIsSpace, std::string& out);

// The non-empty segments of a decoded path: "/api//v1/pods/" -> {"api", "v1",
// "pods"}, as the servers route on them.
std::vector<std::string> splitPath(const std::string& path);

// Decodes a query string (what follows the '?', without it) into `out`,
// cleared first: "a=1&b=x+y&a=2" -> {a: 1, a: 2, b: "x y"}, as Go's
// url.ParseQuery. A key without '=' has the value ""; empty pairs ("a&&b")
// are skipped. False, with `out` partly filled, on a bad escape.
bool parseQuery(std::string_view query, std::multimap<std::string, std::string>& out);

// A port as a query parameter or a header carries it: decimal digits only,
// 1..65535; nullopt for anything else ("", "0", "80x", "65536").
std::optional<uint16_t> parsePort(std::string_view text);

// "8080,9000" -> {8080, 9000}; nullopt when any piece is not a port (an empty
// text or piece included).
std::optional<std::vector<uint16_t>> parsePortList(std::string_view text);

}  // namespace skiff
