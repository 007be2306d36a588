// ApiServer end to end over TLS: generated credentials, auth, health, restart,
// and the kubeconfig as kubectl reads it.

#include "apiserver/server.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>

#include "apiserver/master_endpoints.h"
#include "apiserver/tls.h"
#include "base/file.h"
#include "tests/apiserver/https_test_client.h"
#include "tests/test_util.h"

namespace skiff::apiserver {
namespace {

using testing::HttpsTestClient;
using testing::TestResponse;

using skiff::testing::modeOf;

std::string tempDir() {
  return skiff::testing::makeTempDir("server-test");
}

std::unique_ptr<ApiServer> startServer(const std::string& dir, std::string listen = "127.0.0.1:0") {
  ServerOptions o;
  o.dataDir = dir;
  o.listen = std::move(listen);
  o.fsync = false;
  auto s = ApiServer::start(o);
  if (!s) FAIL(s.error().message);
  return std::move(*s);
}

std::string token(const std::string& dir) {
  auto t = readWholeFile(dir + "/pki/admin.token");
  REQUIRE(t.ok());
  std::string s = *t;
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

const char* kUnauthorized =
    R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)"
    R"("message":"Unauthorized","reason":"Unauthorized","code":401})";

TEST_CASE("ApiServer creates credentials with private modes and a kubeconfig", "[server]") {
  auto dir = tempDir() + "/data";  // start() creates it
  auto s = startServer(dir);
  CHECK(s->port() != 0);
  CHECK(s->url() == "https://127.0.0.1:" + std::to_string(s->port()));
  CHECK(s->kubeconfigPath() == dir + "/kubeconfig");
  CHECK(modeOf(dir) == 0700);
  CHECK(modeOf(dir + "/kubeconfig") == 0600);
  CHECK(modeOf(dir + "/pki/admin.token") == 0600);
  CHECK(modeOf(dir + "/pki/ca.key") == 0600);
  CHECK(modeOf(dir + "/pki/server.key") == 0600);
  auto kc = readWholeFile(dir + "/kubeconfig");
  REQUIRE(kc.ok());
  CHECK(kc->find("server: \"" + s->url() + "\"") != std::string::npos);
  CHECK(kc->find("token: \"" + token(dir) + "\"") != std::string::npos);
  s->stop();
  std::filesystem::remove_all(std::filesystem::path(dir).parent_path());
}

TEST_CASE("ApiServer requires the admin token except for health and version", "[server]") {
  auto dir = tempDir();
  auto s = startServer(dir);
  HttpsTestClient c(s->port(), dir + "/pki/ca.crt");
  REQUIRE(c.ok());
  for (const char* path : {"/healthz", "/livez", "/readyz", "/readyz?verbose", "/healthz/ping"}) {
    auto r = c.request("GET", path);
    CHECK(r.status == 200);
    if (std::string(path) == "/readyz?verbose") {
      CHECK(r.body.find("readyz check passed") != std::string::npos);
    } else {
      CHECK(r.body == "ok");
    }
  }
  auto v = c.request("GET", "/version");
  CHECK(v.status == 200);
  CHECK(v.body.find("gitVersion") != std::string::npos);

  auto none = c.request("GET", "/api/v1/namespaces");
  CHECK(none.status == 401);
  CHECK(none.body == kUnauthorized);
  CHECK(none.headers["content-type"] == "application/json");
  auto wrong = c.request("GET", "/api/v1/namespaces", "",
                         {{"Authorization", "Bearer " + std::string(64, '0')}});
  CHECK(wrong.status == 401);
  CHECK(wrong.body == kUnauthorized);
  auto right =
      c.request("GET", "/api/v1/namespaces", "", {{"Authorization", "Bearer " + token(dir)}});
  CHECK(right.status == 200);
  CHECK(right.body.find("\"kube-system\"") != std::string::npos);
  s->stop();
  std::filesystem::remove_all(dir);
}

TEST_CASE("ApiServer refuses impersonation instead of answering as the admin", "[server]") {
  auto dir = tempDir();
  auto s = startServer(dir);
  HttpsTestClient c(s->port(), dir + "/pki/ca.crt");
  REQUIRE(c.ok());
  const std::string bearer = "Bearer " + token(dir);
  auto asBob = c.request("GET", "/api/v1/namespaces", "",
                         {{"Authorization", bearer}, {"Impersonate-User", "bob"}});
  CHECK(asBob.status == 403);
  CHECK(asBob.body.find(R"("reason":"Forbidden")") != std::string::npos);
  CHECK(asBob.body.find(R"(users \"bob\" is forbidden: User \"admin\" cannot impersonate)") !=
        std::string::npos);
  // The user is named first, whatever else is impersonated.
  auto both = c.request(
      "GET", "/api/v1/namespaces", "",
      {{"Authorization", bearer}, {"Impersonate-Group", "devs"}, {"Impersonate-User", "bob"}});
  CHECK(both.status == 403);
  CHECK(both.body.find(R"(users \"bob\")") != std::string::npos);
  auto group = c.request("GET", "/api/v1/namespaces", "",
                         {{"Authorization", bearer}, {"Impersonate-Group", "devs"}});
  CHECK(group.status == 403);
  CHECK(group.body.find(R"(groups \"devs\" is forbidden)") != std::string::npos);
  // Without a token the answer is still 401: who asks comes first.
  auto anonymous = c.request("GET", "/api/v1/namespaces", "", {{"Impersonate-User", "bob"}});
  CHECK(anonymous.status == 401);
  auto plain = c.request("GET", "/api/v1/namespaces", "", {{"Authorization", bearer}});
  CHECK(plain.status == 200);
  s->stop();
  std::filesystem::remove_all(dir);
}

TEST_CASE("ApiServer restarts on the same data dir without new credentials", "[server]") {
  auto dir = tempDir();
  auto s = startServer(dir);
  auto key = readWholeFile(dir + "/pki/server.key");
  auto tok = token(dir);
  s->stop();
  s.reset();
  s = startServer(dir);
  HttpsTestClient c(s->port(), dir + "/pki/ca.crt");
  auto r = c.request("GET", "/readyz");
  CHECK(r.status == 200);
  CHECK(*readWholeFile(dir + "/pki/server.key") == *key);
  CHECK(token(dir) == tok);
  // The port changed (port 0), so the kubeconfig follows it.
  auto kc = readWholeFile(dir + "/kubeconfig");
  CHECK(kc->find(":" + std::to_string(s->port()) + "\"") != std::string::npos);
  s->stop();
  std::filesystem::remove_all(dir);
}

TEST_CASE("ApiServer is healthy only once its kubeconfig is written", "[server]") {
  // A client that starts the server, waits for /healthz and then reads the
  // kubeconfig (as the bench and users' test suites do) must find it there.
  auto dir = tempDir();
  std::vector<TestResponse> meanwhile;
  bool kubeconfigMeanwhile = true;
  ServerOptions o;
  o.dataDir = dir;
  o.listen = "127.0.0.1:0";
  o.fsync = false;
  o.onListening = [&](uint16_t port) {  // serving, start-up not finished
    HttpsTestClient c(port);
    for (const char* path : {"/healthz", "/livez", "/readyz", "/healthz?verbose"})
      meanwhile.push_back(c.request("GET", path));
    meanwhile.push_back(
        c.request("GET", "/api/v1/namespaces", "", {{"Authorization", "Bearer " + token(dir)}}));
    kubeconfigMeanwhile = std::filesystem::exists(dir + "/kubeconfig");
  };
  auto s = ApiServer::start(o);
  REQUIRE(s.ok());
  CHECK_FALSE(kubeconfigMeanwhile);
  REQUIRE(meanwhile.size() == 5);
  for (size_t i = 0; i < 4; ++i) CHECK(meanwhile[i].status == 500);
  CHECK(meanwhile[3].body.find("[-]poststarthook/skiff-kubeconfig failed: not finished") !=
        std::string::npos);
  CHECK(meanwhile[3].body.find("healthz check failed") != std::string::npos);
  CHECK(meanwhile[4].status == 503);
  CHECK(meanwhile[4].body.find("the apiserver is starting") != std::string::npos);
  // Started: the kubeconfig is there and every health endpoint says ok.
  CHECK(std::filesystem::exists(dir + "/kubeconfig"));
  HttpsTestClient c((*s)->port(), dir + "/pki/ca.crt");
  for (const char* path : {"/healthz", "/livez", "/readyz"})
    CHECK(c.request("GET", path).status == 200);
  CHECK(c.request("GET", "/healthz?verbose").body.find("[+]poststarthook/skiff-kubeconfig ok") !=
        std::string::npos);
  (*s)->stop();
  std::filesystem::remove_all(dir);
}

TEST_CASE(
    "ApiServer with an advertise address: serves there, names it, keeps the kubernetes "
    "Endpoints",
    "[server]") {
  auto dir = tempDir();
  ServerOptions o;
  o.dataDir = dir;
  o.listen = "127.0.0.1:0";
  o.fsync = false;
  o.advertiseAddress = "127.0.0.2";  // on lo, as every 127/8 address
  o.rest.serviceCidr = "10.96.16.0/20";
  auto s = ApiServer::start(o);
  REQUIRE(s);
  // The same port on the advertise address.
  HttpsTestClient there((*s)->port(), dir + "/pki/ca.crt", std::chrono::seconds(10), "127.0.0.2");
  CHECK(there.request("GET", "/version").status == 200);
  // In-cluster clients dial the kubernetes Service by its ClusterIP or names.
  auto pem = readWholeFile(dir + "/pki/server.crt");
  REQUIRE(pem);
  auto sans = certificateSans(*pem);
  REQUIRE(sans);
  for (const char* want : {"IP:127.0.0.2", "IP:10.96.16.1", "DNS:kubernetes",
                           "DNS:kubernetes.default.svc.cluster.local"})
    CHECK(std::find(sans->begin(), sans->end(), want) != sans->end());
  // default/kubernetes's Endpoints: that address and port, named as the Service's.
  HttpsTestClient c((*s)->port());
  auto ep = c.request("GET", "/api/v1/namespaces/default/endpoints/kubernetes", "",
                      {{"Authorization", "Bearer " + token(dir)}});
  REQUIRE(ep.status == 200);
  auto body = api::Json::parse(ep.body);
  CHECK(body["subsets"] ==
        api::Json::parse(R"([{"addresses": [{"ip": "127.0.0.2"}],
      "ports": [{"name": "https", "port": )" +
                         std::to_string((*s)->port()) + R"(, "protocol": "TCP"}]}])"));
  (*s)->stop();
  std::filesystem::remove_all(dir);
}

TEST_CASE("reconcileMasterEndpoints: creates, leaves alone, repairs", "[server]") {
  auto dir = tempDir();
  auto store = storage::Store::open(dir + "/state.db", {});
  REQUIRE(store);
  auto created = reconcileMasterEndpoints(**store, "10.244.0.1", 6443);
  REQUIRE(created);
  CHECK(*created);
  auto again = reconcileMasterEndpoints(**store, "10.244.0.1", 6443);
  REQUIRE(again);
  CHECK_FALSE(*again);
  // Someone points them elsewhere: the next round puts them back, same uid.
  auto rec = (*store)->get("/registry/endpoints/default/kubernetes");
  REQUIRE(rec);
  auto obj = api::Json::parse(rec->value);
  std::string uid = obj["metadata"]["uid"];
  obj["subsets"][0]["addresses"][0]["ip"] = "10.0.0.9";
  storage::Op op;
  op.kind = storage::Op::Kind::kUpdate;
  op.key = rec->key;
  op.encode = [text = obj.dump()](storage::Revision) { return text; };
  REQUIRE((*store)->commitSync({op}));
  auto repaired = reconcileMasterEndpoints(**store, "10.244.0.1", 6444);
  REQUIRE(repaired);
  CHECK(*repaired);
  auto now = api::Json::parse((*store)->get(rec->key)->value);
  CHECK(now["subsets"] == masterEndpointSubsets("10.244.0.1", 6444));
  CHECK(now["metadata"]["uid"] == uid);
  store->reset();
  std::filesystem::remove_all(dir);
}

TEST_CASE("ApiServer names a busy listen address", "[server]") {
  auto dir = tempDir();
  auto s = startServer(dir);
  ServerOptions o;
  o.dataDir = dir + "/second";
  o.listen = "127.0.0.1:" + std::to_string(s->port());
  o.fsync = false;
  auto t = ApiServer::start(o);
  REQUIRE_FALSE(t.ok());
  CHECK(t.error().message == "listen " + o.listen + ": Address already in use");
  s->stop();
  std::filesystem::remove_all(dir);
}

TEST_CASE("kubectl talks to ApiServer with the generated kubeconfig", "[server]") {
  if (access("/usr/bin/kubectl", X_OK) != 0) {
    WARN("kubectl not installed; skipped");
    return;
  }
  auto dir = tempDir();
  auto s = startServer(dir);
  auto kc = s->kubeconfigPath();
  auto [code, out] =
      skiff::testing::runCommand("/usr/bin/kubectl --kubeconfig " + kc + " get --raw /healthz");
  CHECK(code == 0);
  CHECK(out == "ok");
  auto [code2, out2] = skiff::testing::runCommand("/usr/bin/kubectl --kubeconfig " + kc +
                                                  " get --raw /api/v1/namespaces");
  CHECK(code2 == 0);
  CHECK(out2.find("kube-system") != std::string::npos);
  // A wrong token is refused the way Kubernetes refuses it.
  auto bad = readWholeFile(kc);
  std::string text = *bad;
  auto at = text.find("token: \"");
  REQUIRE(at != std::string::npos);
  text.replace(at + 8, 64, std::string(64, 'f'));
  REQUIRE(writeFileAtomic(dir + "/bad-kubeconfig", text, {.mode = 0600}).ok());
  auto [code3, out3] = skiff::testing::runCommand("/usr/bin/kubectl --kubeconfig " + dir +
                                                  "/bad-kubeconfig get --raw /api/v1/namespaces");
  CHECK(code3 != 0);
  CHECK(out3.find("Unauthorized") != std::string::npos);
  s->stop();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace skiff::apiserver
