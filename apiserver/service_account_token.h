// Service account tokens: the JSON Web Tokens (RFC 7519) the serviceaccounts/
// token subresource issues and the authenticator accepts, with the claims
// Kubernetes writes (pkg/serviceaccount/claims.go):
//
//   {"iss": "https://kubernetes.default.svc.cluster.local",
//    "sub": "system:serviceaccount:NS:NAME", "aud": [...],
//    "iat": ..., "nbf": ..., "exp": ..., "jti": "<uuid>",
//    "kubernetes.io": {"namespace": NS, "serviceaccount": {"name", "uid"},
//                      "pod": {"name", "uid"}}}      (or "secret", "node")
//
// Kubernetes signs with RS256/ES256 so others can verify with the public key
// (the OIDC discovery endpoints). skiff has one verifier, the apiserver itself,
// so it signs with HS256 and a 32-byte key (DIR/pki/service-account.key,
// auth.h): header {"alg":"HS256","typ":"JWT"}, and a token carrying any other
// "alg" (above all "none") is refused.
//
// Pure functions of their arguments (time is passed in); thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace skiff::apiserver {

// The issuer, and the audience tokens get when the request names none; the
// apiserver accepts only tokens for it.
inline constexpr std::string_view kServiceAccountIssuer =
    "https://kubernetes.default.svc.cluster.local";

// Clock skew forgiven on "exp" and "nbf", as go-jose's DefaultLeeway.
inline constexpr int64_t kTokenLeewaySeconds = 60;

// The object a token is bound to: the token is good only while it exists.
struct BoundObject {
  std::string kind;  // "Pod", "Secret" or "Node"
  std::string name;
  std::string uid;
};

struct ServiceAccountClaims {
  std::string ns;    // the ServiceAccount's namespace
  std::string name;  // and name
  std::string uid;   // and uid
  std::vector<std::string> audiences;
  int64_t issuedAt = 0;  // Unix seconds; nbf is the same
  int64_t expires = 0;
  std::string id;  // "jti"
  std::optional<BoundObject> bound;

  // "system:serviceaccount:NS:NAME", the user the token authenticates as.
  std::string userName() const { return "system:serviceaccount:" + ns + ":" + name; }
};

// "header.payload.signature", each part base64url without padding.
std::string signServiceAccountToken(const ServiceAccountClaims& claims, std::string_view key);

// The claims of a token signed with `key`, valid at `now` (Unix seconds), for
// audience kServiceAccountIssuer. kUnauthorized otherwise, the message saying
// why ("service account token has expired", "invalid signature", ...). The
// signature is checked, in time independent of where it differs, before any
// claim is read.
Result<ServiceAccountClaims> verifyServiceAccountToken(std::string_view token, std::string_view key,
                                                       int64_t now);

}  // namespace skiff::apiserver
