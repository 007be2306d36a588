#include "apiserver/auth.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <strings.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "apiserver/http_server.h"
#include "apiserver/tls.h"
#include "base/file.h"

namespace skiff::apiserver {
namespace {

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

const char kHex[] = "0123456789abcdef";

// DIR/pki/NAME: 32 random bytes as hex, created (with DIR/pki, 0700) when
// missing and kept 0600; what admin.token and service-account.key hold.
Result<std::string> ensureSecretFile(const std::string& dataDir, const char* name) {
  std::string dir = dataDir + "/pki";
  std::string path = dir + "/" + name;
  auto existing = readWholeFile(path);
  if (existing) {
    std::string secret = trim(*existing);
    if (secret.size() >= 32) return secret;
    return makeError(Code::kInternal, "read " + path + ": too short");
  }
  if (existing.error().code != Code::kNotFound) return existing.error();
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    return makeError(Code::kInternal, "mkdir " + dir + ": " + std::strerror(errno));
  unsigned char raw[32];
  if (RAND_bytes(raw, sizeof raw) != 1)
    return makeError(Code::kInternal, "create " + path + ": no randomness");
  std::string secret;
  for (unsigned char c : raw) {
    secret += kHex[c >> 4];
    secret += kHex[c & 15];
  }
  if (auto st = writeFileAtomic(path, secret + "\n", {.mode = 0600}); !st) return st.error();
  return secret;
}

}  // namespace

Result<std::string> ensureAdminToken(const std::string& dataDir) {
  return ensureSecretFile(dataDir, "admin.token");
}

Result<std::string> ensureServiceAccountKey(const std::string& dataDir) {
  auto hex = ensureSecretFile(dataDir, "service-account.key");
  if (!hex) return hex.error();
  const std::string path = dataDir + "/pki/service-account.key";
  if (hex->size() != 64 || hex->find_first_not_of(kHex) != std::string::npos)
    return makeError(Code::kInternal, "read " + path + ": want 64 hex digits");
  std::string key;
  for (size_t i = 0; i < hex->size(); i += 2)
    key += static_cast<char>(std::stoi(hex->substr(i, 2), nullptr, 16));
  return key;
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
  if (token.empty()) return "";
  if (!token_.empty() && constantTimeEquals(token, token_)) return "admin";
  if (serviceAccountKey_.empty() || token.find('.') == std::string_view::npos) return "";
  auto claims = verifyServiceAccountToken(token, serviceAccountKey_, std::time(nullptr));
  if (!claims || (live_ && !live_(*claims))) return "";
  return claims->userName();
}

std::string unauthorizedBody() {
  return statusJson(401, "Unauthorized", "Unauthorized");
}

}  // namespace skiff::apiserver
