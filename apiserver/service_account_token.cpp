#include "apiserver/service_account_token.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>

#include "api/json.h"

namespace skiff::apiserver {

using api::Json;

namespace {

constexpr std::string_view kHeader = R"({"alg":"HS256","typ":"JWT"})";

// HMAC-SHA256 of `data`, raw (32 bytes).
std::string hmacSha256(std::string_view key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &len);
  return std::string(reinterpret_cast<const char*>(mac), len);
}

Error unauthorized(std::string why) {
  return makeError(Code::kUnauthorized, std::move(why));
}

// A claim that must be a string (a missing one reads as "").
std::string stringClaim(const Json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

// NumericDate: seconds, possibly fractional; nullopt when absent or not a number.
std::optional<int64_t> timeClaim(const Json& payload, const char* key) {
  auto it = payload.find(key);
  if (it == payload.end() || !it->is_number()) return std::nullopt;
  return static_cast<int64_t>(it->get<double>());
}

}  // namespace

std::string signServiceAccountToken(const ServiceAccountClaims& c, std::string_view key) {
  Json k8s = {{"namespace", c.ns}, {"serviceaccount", {{"name", c.name}, {"uid", c.uid}}}};
  if (c.bound) {
    std::string kind = c.bound->kind;
    std::transform(kind.begin(), kind.end(), kind.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    k8s[kind] = {{"name", c.bound->name}, {"uid", c.bound->uid}};
  }
  Json payload = {{"iss", std::string(kServiceAccountIssuer)},
                  {"sub", c.userName()},
                  {"aud", c.audiences},
                  {"iat", c.issuedAt},
                  {"nbf", c.issuedAt},
                  {"exp", c.expires},
                  {"kubernetes.io", std::move(k8s)}};
  if (!c.id.empty()) payload["jti"] = c.id;
  std::string signingInput =
      api::base64UrlEncode(kHeader) + "." + api::base64UrlEncode(payload.dump());
  return signingInput + "." + api::base64UrlEncode(hmacSha256(key, signingInput));
}

Result<ServiceAccountClaims> verifyServiceAccountToken(std::string_view token, std::string_view key,
                                                       int64_t now) {
  const size_t dot1 = token.find('.');
  const size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos)
    return unauthorized("not a JSON Web Token");
  if (key.empty()) return unauthorized("no service account key");
  // The signature first: nothing an unauthenticated party wrote is parsed
  // before it is known to be ours.
  const std::string_view signingInput = token.substr(0, dot2);
  const std::string expected = api::base64UrlEncode(hmacSha256(key, signingInput));
  const std::string_view signature = token.substr(dot2 + 1);
  if (signature.size() != expected.size() ||
      CRYPTO_memcmp(signature.data(), expected.data(), expected.size()) != 0)
    return unauthorized("invalid signature");

  auto headerText = api::base64UrlDecode(token.substr(0, dot1));
  auto payloadText = api::base64UrlDecode(token.substr(dot1 + 1, dot2 - dot1 - 1));
  if (!headerText || !payloadText) return unauthorized("malformed token");
  auto header = api::parseJson(*headerText);
  auto payload = api::parseJson(*payloadText);
  if (!header || !payload || !header->is_object() || !payload->is_object())
    return unauthorized("malformed token");
  if (stringClaim(*header, "alg") != "HS256") return unauthorized("unexpected signing algorithm");

  const Json& p = *payload;
  if (stringClaim(p, "iss") != kServiceAccountIssuer) return unauthorized("unexpected issuer");
  auto exp = timeClaim(p, "exp");
  auto nbf = timeClaim(p, "nbf");
  auto iat = timeClaim(p, "iat");
  if (!exp) return unauthorized("service account token has no expiry");
  if (now > *exp + kTokenLeewaySeconds) return unauthorized("service account token has expired");
  if (nbf && now + kTokenLeewaySeconds < *nbf)
    return unauthorized("service account token is not valid yet");
  if (iat && now + kTokenLeewaySeconds < *iat)
    return unauthorized("service account token is issued in the future");

  ServiceAccountClaims c;
  const Json& aud = p.contains("aud") ? p["aud"] : Json();
  if (aud.is_string()) {
    c.audiences.push_back(aud.get<std::string>());
  } else if (aud.is_array()) {
    for (const Json& a : aud)
      if (a.is_string()) c.audiences.push_back(a.get<std::string>());
  }
  if (std::find(c.audiences.begin(), c.audiences.end(), kServiceAccountIssuer) == c.audiences.end())
    return unauthorized("token audiences do not include " + std::string(kServiceAccountIssuer));

  const Json* k8s = api::jsonAt(p, {"kubernetes.io"});
  if (!k8s || !k8s->is_object()) return unauthorized("no kubernetes.io claim");
  c.ns = stringClaim(*k8s, "namespace");
  if (const Json* sa = api::jsonAt(*k8s, {"serviceaccount"}); sa && sa->is_object()) {
    c.name = stringClaim(*sa, "name");
    c.uid = stringClaim(*sa, "uid");
  }
  if (c.ns.empty() || c.name.empty() || c.uid.empty())
    return unauthorized("kubernetes.io claim names no service account");
  if (stringClaim(p, "sub") != c.userName()) return unauthorized("sub does not match");
  for (const char* kind : {"pod", "secret", "node"}) {
    const Json* b = api::jsonAt(*k8s, {kind});
    if (!b || !b->is_object()) continue;
    std::string k = kind;
    k[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(k[0])));
    c.bound = BoundObject{k, stringClaim(*b, "name"), stringClaim(*b, "uid")};
    break;
  }
  c.issuedAt = iat.value_or(nbf.value_or(0));
  c.expires = *exp;
  c.id = stringClaim(p, "jti");
  return c;
}

}  // namespace skiff::apiserver
