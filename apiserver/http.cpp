// Request helpers, target parsing and Status bodies: the transport's pure parts.

#include "apiserver/http.h"

#include <nlohmann/json.hpp>

#include "apiserver/http_server.h"
#include "base/url.h"

namespace skiff::apiserver {

std::string Request::param(std::string_view key, std::string_view fallback) const {
  auto it = query.find(std::string(key));
  return it == query.end() ? std::string(fallback) : it->second;
}

bool Request::hasParam(std::string_view key) const {
  return query.find(std::string(key)) != query.end();
}

std::string Request::header(std::string_view lowerName) const {
  auto it = headers.find(std::string(lowerName));
  return it == headers.end() ? std::string() : it->second;
}

std::string statusJson(int code, std::string_view reason, std::string_view message) {
  // Field order as Kubernetes writes it.
  nlohmann::ordered_json j = {{"kind", "Status"},
                              {"apiVersion", "v1"},
                              {"metadata", nlohmann::ordered_json::object()},
                              {"status", "Failure"},
                              {"message", std::string(message)},
                              {"reason", std::string(reason)},
                              {"code", code}};
  // Invalid UTF-8 in a message (e.g. an echoed path) must not throw.
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

bool splitHostPort(std::string_view listen, std::string& host, uint16_t& port) {
  size_t colon;
  if (!listen.empty() && listen.front() == '[') {
    size_t close = listen.find(']');
    if (close == std::string_view::npos || close + 1 >= listen.size() || listen[close + 1] != ':')
      return false;
    host = std::string(listen.substr(1, close - 1));
    colon = close + 1;
  } else {
    colon = listen.rfind(':');
    if (colon == std::string_view::npos) return false;
    host = std::string(listen.substr(0, colon));
    if (host.find(':') != std::string::npos) return false;  // bare IPv6 needs brackets
  }
  std::string_view p = listen.substr(colon + 1);
  if (p.empty() || p.size() > 5) return false;
  unsigned v = 0;
  for (char c : p) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + unsigned(c - '0');
  }
  if (v > 65535) return false;
  port = uint16_t(v);
  return true;
}

bool parseTarget(std::string_view target, std::string& path,
                 std::multimap<std::string, std::string>& query) {
  query.clear();
  if (target.empty() || target.front() != '/') return false;
  size_t q = target.find('?');
  std::string_view rawPath = target.substr(0, q);
  size_t hash = rawPath.find('#');
  if (hash != std::string_view::npos) rawPath = rawPath.substr(0, hash);
  if (!percentDecode(rawPath, false, path)) return false;
  if (q == std::string_view::npos) return true;
  std::string_view rest = target.substr(q + 1);
  hash = rest.find('#');
  if (hash != std::string_view::npos) rest = rest.substr(0, hash);
  return parseQuery(rest, query);
}

bool Request::flag(std::string_view key) const {
  std::string v = param(key);
  return v == "1" || v == "t" || v == "T" || v == "true" || v == "TRUE" || v == "True";
}

}  // namespace skiff::apiserver
