// Admin token, authenticator and kubeconfig rendering.

#include "apiserver/auth.h"

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "apiserver/kubeconfig.h"
#include "apiserver/tls.h"

namespace skiff::apiserver {
namespace {

std::string tempDir() {
  char tmpl[] = "/tmp/skiff-auth-test-XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  return tmpl;
}

TEST_CASE("ensureAdminToken creates a 0600 hex token once", "[auth]") {
  auto dir = tempDir();
  auto t1 = ensureAdminToken(dir);
  REQUIRE(t1.ok());
  CHECK(t1->size() == 64);
  CHECK(t1->find_first_not_of("0123456789abcdef") == std::string::npos);
  struct stat st {};
  REQUIRE(::stat((dir + "/pki/admin.token").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  auto t2 = ensureAdminToken(dir);
  REQUIRE(t2.ok());
  CHECK(*t2 == *t1);
  std::filesystem::remove_all(dir);
}

TEST_CASE("TokenAuthenticator accepts only the admin token", "[auth]") {
  TokenAuthenticator auth("abc123abc123abc123abc123abc123ab");
  Request r;
  CHECK(auth.authenticate(r) == "");
  r.headers["authorization"] = "Bearer abc123abc123abc123abc123abc123ab";
  CHECK(auth.authenticate(r) == "admin");
  r.headers["authorization"] = "bearer abc123abc123abc123abc123abc123ab";
  CHECK(auth.authenticate(r) == "admin");
  r.headers["authorization"] = "Bearer abc123abc123abc123abc123abc123ac";
  CHECK(auth.authenticate(r) == "");
  r.headers["authorization"] = "Bearer abc123";
  CHECK(auth.authenticate(r) == "");
  r.headers["authorization"] = "Basic YWRtaW46eA==";
  CHECK(auth.authenticate(r) == "");
  r.headers["authorization"] = "Bearer ";
  CHECK(auth.authenticate(r) == "");
}

TEST_CASE("constantTimeEquals and public paths", "[auth]") {
  CHECK(constantTimeEquals("abc", "abc"));
  CHECK_FALSE(constantTimeEquals("abc", "abd"));
  CHECK_FALSE(constantTimeEquals("abc", "abcd"));
  for (const char* p :
       {"/healthz", "/livez", "/readyz", "/readyz/ping", "/healthz/etcd", "/version", "/version/"})
    CHECK(isPublicPath(p));
  for (const char* p : {"/healthzz", "/api", "/api/v1/pods", "/versions", "/", "/readyzfoo"})
    CHECK_FALSE(isPublicPath(p));
  CHECK(unauthorizedBody() ==
        R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)"
        R"("message":"Unauthorized","reason":"Unauthorized","code":401})");
}

TEST_CASE("kubeconfig names cluster, user and context skiff/admin", "[auth]") {
  CHECK(base64Encode("") == "");
  CHECK(base64Encode("f") == "Zg==");
  CHECK(base64Encode("fo") == "Zm8=");
  CHECK(base64Encode("foo") == "Zm9v");
  CHECK(base64Encode("foobar") == "Zm9vYmFy");
  CHECK(urlHost("0.0.0.0") == "127.0.0.1");
  CHECK(urlHost("::") == "127.0.0.1");
  CHECK(urlHost("::1") == "[::1]");
  CHECK(urlHost("10.0.0.2") == "10.0.0.2");
  std::string y = renderKubeconfig({"https://127.0.0.1:6443", "PEM", "tok"});
  CHECK(y.find("server: \"https://127.0.0.1:6443\"") != std::string::npos);
  CHECK(y.find("certificate-authority-data: \"UEVN\"") != std::string::npos);
  CHECK(y.find("token: \"tok\"") != std::string::npos);
  CHECK(y.find("current-context: skiff") != std::string::npos);
  auto dir = tempDir();
  REQUIRE(writeKubeconfig(dir + "/kubeconfig", {"https://127.0.0.1:1", "P", "t"}).ok());
  struct stat st {};
  REQUIRE(::stat((dir + "/kubeconfig").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace skiff::apiserver
