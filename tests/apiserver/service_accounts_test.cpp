// ServiceAccounts through RestApi::handle(): CRUD and the Table, and the
// default ServiceAccount of every namespace.
#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

#include "tests/apiserver/rest_test_util.h"

using namespace skiff::apiserver;
using namespace skiff::apiserver::testing;
using skiff::api::Json;

namespace {

Json serviceAccount(const std::string& name) {
  return {{"apiVersion", "v1"}, {"kind", "ServiceAccount"}, {"metadata", {{"name", name}}}};
}

// Polls until `path` answers `status` (the namespace loop runs on its own thread).
bool eventually(Cluster& c, const std::string& path, int status) {
  for (int i = 0; i < 100; ++i) {
    if (c.get(path).status == status) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

}  // namespace

TEST_CASE("serviceaccounts: create, get, list as a Table, delete", "[rest][serviceaccounts]") {
  Cluster c;
  Json sa = serviceAccount("builder");
  sa["secrets"] = Json::array({{{"name", "builder-token"}}});
  sa["imagePullSecrets"] = Json::array({{{"name", "regcred"}}});
  sa["automountServiceAccountToken"] = false;
  auto created = c.post("/api/v1/namespaces/default/serviceaccounts", sa);
  INFO(created.body);
  REQUIRE(created.status == 201);
  CHECK(!created.json["metadata"]["uid"].get<std::string>().empty());
  CHECK(created.json["automountServiceAccountToken"] == false);

  auto got = c.get("/api/v1/namespaces/default/serviceaccounts/builder");
  REQUIRE(got.status == 200);
  CHECK(got.json["imagePullSecrets"][0]["name"] == "regcred");

  auto table = c.get("/api/v1/namespaces/default/serviceaccounts",
                     {{"accept", "application/json;as=Table;v=v1;g=meta.k8s.io"}});
  INFO(table.body);
  REQUIRE(table.status == 200);
  std::vector<std::string> columns;
  for (const Json& col : table.json["columnDefinitions"]) columns.push_back(col["name"]);
  CHECK(columns == std::vector<std::string>{"Name", "Secrets", "Age"});
  std::map<std::string, Json> rows;
  for (const Json& row : table.json["rows"]) rows[row["cells"][0]] = row["cells"][1];
  CHECK(rows.size() == 2);
  CHECK(rows["builder"] == 1);
  CHECK(rows["default"] == 0);

  REQUIRE(c.del("/api/v1/namespaces/default/serviceaccounts/builder").status == 200);
  CHECK(c.get("/api/v1/namespaces/default/serviceaccounts/builder").status == 404);
}

TEST_CASE("serviceaccounts: bad names and fields are refused, nothing stored",
          "[rest][serviceaccounts]") {
  Cluster c;
  const auto before = c.store->currentRevision();
  auto badName = c.post("/api/v1/namespaces/default/serviceaccounts", serviceAccount("Bad_Name"));
  INFO(badName.body);
  REQUIRE(badName.status == 422);
  CHECK(badName.json["details"]["causes"][0]["field"] == "metadata.name");
  Json badField = serviceAccount("x");
  badField["automountServiceAccountToken"] = "yes";
  auto typed = c.post("/api/v1/namespaces/default/serviceaccounts", badField);
  INFO(typed.body);
  CHECK(typed.status == 400);
  CHECK(typed.json["message"].get<std::string>().find("automountServiceAccountToken") !=
        std::string::npos);
  CHECK(c.store->currentRevision() == before);
}

TEST_CASE("every namespace has a default ServiceAccount, kept while it lives",
          "[rest][serviceaccounts]") {
  Cluster c;
  for (const char* ns : {"default", "kube-system", "kube-public", "kube-node-lease"}) {
    auto sa = c.get(std::string("/api/v1/namespaces/") + ns + "/serviceaccounts/default");
    INFO(ns << ": " << sa.body);
    CHECK(sa.status == 200);
  }

  Json ns = {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", "team"}}}};
  REQUIRE(c.post("/api/v1/namespaces", ns).status == 201);
  const std::string teamDefault = "/api/v1/namespaces/team/serviceaccounts/default";
  REQUIRE(eventually(c, teamDefault, 200));
  auto first = c.get(teamDefault);

  // Deleted: it comes back, as a new object.
  REQUIRE(c.del(teamDefault).status == 200);
  REQUIRE(eventually(c, teamDefault, 200));
  CHECK(c.get(teamDefault).json["metadata"]["uid"] != first.json["metadata"]["uid"]);

  // A namespace being deleted does not get one back: it empties and goes.
  REQUIRE(c.del("/api/v1/namespaces/team").status == 200);
  REQUIRE(eventually(c, "/api/v1/namespaces/team", 404));
  CHECK(c.get(teamDefault).status == 404);
  std::this_thread::sleep_for(std::chrono::milliseconds(700));  // a loop pass or more
  CHECK(c.get(teamDefault).status == 404);
}

TEST_CASE("a restart recreates a missing default ServiceAccount in a system namespace",
          "[rest][serviceaccounts]") {
  Cluster c;
  // Deleted behind the API's back (as in a data directory from before
  // ServiceAccounts were served): bootstrap puts it back at once.
  skiff::storage::Op op;
  op.kind = skiff::storage::Op::Kind::kDelete;
  op.key = "/registry/serviceaccounts/kube-system/default";
  REQUIRE(c.store->commitSync({op}));
  c.api.reset();
  auto again = RestApi::create(*c.store, {});
  REQUIRE(again);
  c.api = std::move(*again);
  CHECK(c.get("/api/v1/namespaces/kube-system/serviceaccounts/default").status == 200);
}
