// Bearer-token authentication for the apiserver: one admin token, generated on
// first start (32 random bytes, hex) into DIR/pki/admin.token (0600) and reused
// afterwards. Requests carrying "Authorization: Bearer <token>" are user
// "admin"; the comparison takes the same time wherever the tokens differ.
// Health (/healthz, /livez, /readyz and their sub-paths) and /version are
// public, as Kubernetes' system:public-info-viewer role makes them.
//
// Thread-safety: TokenAuthenticator is immutable after construction; use it
// from any thread.
#pragma once

#include <string>
#include <string_view>

#include "apiserver/http.h"
#include "base/result.h"

namespace skiff::apiserver {

// Reads DIR/pki/admin.token, creating it (and DIR/pki, 0700) when missing.
Result<std::string> ensureAdminToken(const std::string& dataDir);

// True when a and b are equal; time depends only on their lengths.
bool constantTimeEquals(std::string_view a, std::string_view b);

// Paths anyone may read without credentials.
bool isPublicPath(std::string_view path);

class TokenAuthenticator {
 public:
  explicit TokenAuthenticator(std::string adminToken) : token_(std::move(adminToken)) {}

  // The user name for the request's credentials, or "" when there are none or
  // they are wrong.
  std::string authenticate(const Request& request) const;

 private:
  const std::string token_;
};

// The 401 body Kubernetes sends.
std::string unauthorizedBody();

}  // namespace skiff::apiserver
