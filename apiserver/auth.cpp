#include "apiserver/auth.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <strings.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "apiserver/http_server.h"
#include "apiserver/tls.h"
#include "base/file.h"

namespace skiff::apiserver {
namespace {

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

Result<std::string> ensureAdminToken(const std::string& dataDir) {
  std::string dir = dataDir + "/pki";
  std::string path = dir + "/admin.token";
  auto existing = readWholeFile(path);
  if (existing) {
    std::string token = trim(*existing);
    if (token.size() >= 32) return token;
    return makeError(Code::kInternal, "read " + path + ": token too short");
  }
  if (existing.error().code != Code::kNotFound) return existing.error();
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    return makeError(Code::kInternal, "mkdir " + dir + ": " + std::strerror(errno));
  unsigned char raw[32];
  if (RAND_bytes(raw, sizeof raw) != 1)
    return makeError(Code::kInternal, "create " + path + ": no randomness");
  static const char kHex[] = "0123456789abcdef";
  std::string token;
  for (unsigned char c : raw) {
    token += kHex[c >> 4];
    token += kHex[c & 15];
  }
  if (auto st = writeFileAtomic(path, token + "\n", {.mode = 0600}); !st) return st.error();
  return token;
}

bool constantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool isPublicPath(std::string_view path) {
  for (std::string_view p : {"/healthz", "/livez", "/readyz"}) {
    if (path == p) return true;
    if (path.size() > p.size() && path.substr(0, p.size()) == p && path[p.size()] == '/')
      return true;
  }
  return path == "/version" || path == "/version/";
}

std::string TokenAuthenticator::authenticate(const Request& request) const {
  std::string auth = request.header("authorization");
  // The scheme is case-insensitive (RFC 7235), as Kubernetes accepts it.
  if (auth.size() < 7 || strncasecmp(auth.c_str(), "bearer ", 7) != 0) return "";
  std::string_view token(auth);
  token.remove_prefix(7);
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  if (token.empty() || token_.empty()) return "";
  return constantTimeEquals(token, token_) ? "admin" : "";
}

std::string unauthorizedBody() {
  return statusJson(401, "Unauthorized", "Unauthorized");
}

}  // namespace skiff::apiserver
