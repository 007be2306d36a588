// Bearer-token authentication for the apiserver: one admin token, generated on
// first start (32 random bytes, hex) into DIR/pki/admin.token (0600) and reused
// afterwards. Requests carrying "Authorization: Bearer <token>" are user
// "admin"; the comparison takes the same time wherever the tokens differ.
// Service account tokens (service_account_token.h), signed with the key in
// DIR/pki/service-account.key (made the same way), authenticate as
// "system:serviceaccount:NS:NAME". Health (/healthz, /livez, /readyz and their
// sub-paths) and /version are public, as Kubernetes' system:public-info-viewer
// role makes them. Authorization is not here: every authenticated user may do
// everything.
//
// Thread-safety: TokenAuthenticator is immutable after construction; use it
// from any thread (the liveness check it is given must allow that too).
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "apiserver/http.h"
#include "apiserver/service_account_token.h"
#include "base/result.h"

namespace skiff::apiserver {

// Reads DIR/pki/admin.token, creating it (and DIR/pki, 0700) when missing.
Result<std::string> ensureAdminToken(const std::string& dataDir);

// The 32-byte key that signs service account tokens: DIR/pki/service-account.key
// (hex, 0600), created like the admin token when missing.
Result<std::string> ensureServiceAccountKey(const std::string& dataDir);

// True when a and b are equal; time depends only on their lengths.
bool constantTimeEquals(std::string_view a, std::string_view b);

// Paths anyone may read without credentials.
bool isPublicPath(std::string_view path);

class TokenAuthenticator {
 public:
  // Whether a verified service account token still names a ServiceAccount (and
  // bound object) that exists with the uid it was issued for; Kubernetes
  // refuses a token that outlived them. Empty: not checked.
  using TokenLiveness = std::function<bool(const ServiceAccountClaims&)>;

  // An empty serviceAccountKey accepts the admin token alone.
  explicit TokenAuthenticator(std::string adminToken, std::string serviceAccountKey = "",
                              TokenLiveness live = nullptr)
      : token_(std::move(adminToken)),
        serviceAccountKey_(std::move(serviceAccountKey)),
        live_(std::move(live)) {}

  // The user name for the request's credentials, or "" when there are none or
  // they are wrong (a service account token also when expired, not yet valid,
  // for another audience or no longer live).
  std::string authenticate(const Request& request) const;

 private:
  const std::string token_;
  const std::string serviceAccountKey_;
  const TokenLiveness live_;
};

// The 401 body Kubernetes sends.
std::string unauthorizedBody();

}  // namespace skiff::apiserver
