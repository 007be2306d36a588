// Service account JWTs: what they carry, and every way a token is refused
// (tampered, expired, not yet valid, another key, another audience, alg none),
// directly and through TokenAuthenticator.
#include "apiserver/service_account_token.h"

#include <sys/stat.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <ctime>
#include <filesystem>

#include "api/json.h"
#include "apiserver/auth.h"

namespace skiff::apiserver {
namespace {

using api::Json;

const std::string kKey(32, 'k');

ServiceAccountClaims builder(int64_t now) {
  ServiceAccountClaims c;
  c.ns = "default";
  c.name = "builder";
  c.uid = "sa-uid";
  c.audiences = {std::string(kServiceAccountIssuer), "vault"};
  c.issuedAt = now;
  c.expires = now + 3600;
  c.id = "jti-1";
  c.bound = BoundObject{"Pod", "web", "pod-uid"};
  return c;
}

Json part(const std::string& token, int index) {
  size_t begin = 0;
  for (int i = 0; i < index; ++i) begin = token.find('.', begin) + 1;
  size_t end = token.find('.', begin);
  auto text = api::base64UrlDecode(token.substr(begin, end - begin));
  REQUIRE(text);
  return Json::parse(*text);
}

// `token` with the part at `index` replaced by `json`'s text (signature kept).
std::string withPart(const std::string& token, int index, const Json& json) {
  size_t dot1 = token.find('.'), dot2 = token.find('.', dot1 + 1);
  std::string parts[3] = {token.substr(0, dot1), token.substr(dot1 + 1, dot2 - dot1 - 1),
                          token.substr(dot2 + 1)};
  parts[index] = api::base64UrlEncode(json.dump());
  return parts[0] + "." + parts[1] + "." + parts[2];
}

Request bearer(const std::string& token) {
  Request r;
  r.headers["authorization"] = "Bearer " + token;
  return r;
}

TEST_CASE("a service account token carries Kubernetes' claims", "[auth][jwt]") {
  const int64_t now = 1'800'000'000;
  const std::string token = signServiceAccountToken(builder(now), kKey);
  CHECK(std::count(token.begin(), token.end(), '.') == 2);
  CHECK(token.find_first_of("+/=") == std::string::npos);
  CHECK(part(token, 0) == Json::parse(R"({"alg": "HS256", "typ": "JWT"})"));
  CHECK(part(token, 1) == Json::parse(R"({
    "iss": "https://kubernetes.default.svc.cluster.local",
    "sub": "system:serviceaccount:default:builder",
    "aud": ["https://kubernetes.default.svc.cluster.local", "vault"],
    "iat": 1800000000, "nbf": 1800000000, "exp": 1800003600, "jti": "jti-1",
    "kubernetes.io": {"namespace": "default",
                      "serviceaccount": {"name": "builder", "uid": "sa-uid"},
                      "pod": {"name": "web", "uid": "pod-uid"}}})"));

  auto claims = verifyServiceAccountToken(token, kKey, now + 10);
  REQUIRE(claims);
  CHECK(claims->userName() == "system:serviceaccount:default:builder");
  CHECK(claims->uid == "sa-uid");
  CHECK(claims->expires == now + 3600);
  REQUIRE(claims->bound);
  CHECK(claims->bound->kind == "Pod");
  CHECK(claims->bound->uid == "pod-uid");

  ServiceAccountClaims unbound = builder(now);
  unbound.bound.reset();
  CHECK_FALSE(part(signServiceAccountToken(unbound, kKey), 1)["kubernetes.io"].contains("pod"));
}

TEST_CASE("tampered, expired, foreign and unsigned tokens are refused", "[auth][jwt]") {
  const int64_t now = 1'800'000'000;
  const std::string token = signServiceAccountToken(builder(now), kKey);
  auto refused = [&](const std::string& t, int64_t at, const std::string& why) {
    auto r = verifyServiceAccountToken(t, kKey, at);
    INFO(t);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Code::kUnauthorized);
    CHECK(r.error().message == why);
  };
  REQUIRE(verifyServiceAccountToken(token, kKey, now));

  std::string flipped = token;
  flipped[flipped.size() - 3] = flipped[flipped.size() - 3] == 'A' ? 'B' : 'A';
  refused(flipped, now, "invalid signature");
  refused(signServiceAccountToken(builder(now), std::string(32, 'x')), now, "invalid signature");
  Json payload = part(token, 1);
  payload["sub"] = "system:serviceaccount:kube-system:admin";
  refused(withPart(token, 1, payload), now, "invalid signature");
  refused(withPart(token, 0, Json{{"alg", "none"}}), now, "invalid signature");
  refused(token.substr(0, token.rfind('.') + 1), now, "invalid signature");
  refused("not-a-jwt", now, "not a JSON Web Token");
  refused(token + ".x", now, "not a JSON Web Token");

  // Time, with go-jose's minute of leeway either side.
  refused(token, now + 3600 + 61, "service account token has expired");
  CHECK(verifyServiceAccountToken(token, kKey, now + 3600 + 59));
  refused(token, now - 61, "service account token is not valid yet");

  ServiceAccountClaims other = builder(now);
  other.audiences = {"vault"};
  refused(signServiceAccountToken(other, kKey), now,
          "token audiences do not include https://kubernetes.default.svc.cluster.local");
}

TEST_CASE("TokenAuthenticator: the admin token and live service account tokens", "[auth][jwt]") {
  const int64_t now = std::time(nullptr);
  const std::string admin = "abc123abc123abc123abc123abc123ab";
  bool live = true;
  TokenAuthenticator auth(admin, kKey, [&](const ServiceAccountClaims& c) {
    CHECK(c.name == "builder");
    return live;
  });
  CHECK(auth.authenticate(bearer(admin)) == "admin");
  const std::string token = signServiceAccountToken(builder(now), kKey);
  CHECK(auth.authenticate(bearer(token)) == "system:serviceaccount:default:builder");

  std::string flipped = token;
  flipped.back() = flipped.back() == 'A' ? 'B' : 'A';
  CHECK(auth.authenticate(bearer(flipped)) == "");
  ServiceAccountClaims expired = builder(now - 7200);
  CHECK(auth.authenticate(bearer(signServiceAccountToken(expired, kKey))) == "");
  CHECK(auth.authenticate(bearer(signServiceAccountToken(builder(now), "another key"))) == "");
  live = false;  // the ServiceAccount or its pod is gone
  CHECK(auth.authenticate(bearer(token)) == "");

  TokenAuthenticator adminOnly(admin);
  CHECK(adminOnly.authenticate(bearer(token)) == "");
}

TEST_CASE("ensureServiceAccountKey creates a 0600 key of 32 bytes once", "[auth]") {
  char tmpl[] = "/tmp/skiff-sa-key-test-XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  const std::string dir = tmpl;
  auto k1 = ensureServiceAccountKey(dir);
  REQUIRE(k1);
  CHECK(k1->size() == 32);
  struct stat st {};
  REQUIRE(::stat((dir + "/pki/service-account.key").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  auto k2 = ensureServiceAccountKey(dir);
  REQUIRE(k2);
  CHECK(*k2 == *k1);
  auto admin = ensureAdminToken(dir);
  REQUIRE(admin);
  CHECK(*admin != *k1);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace skiff::apiserver
