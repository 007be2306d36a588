// Proxier against the fake executor: full vs partial syncs, failures, cleanup.
#include <catch2/catch.hpp>

#include "netproxy/proxier.h"
#include "tests/netproxy/model_util.h"

using namespace skiff;
using namespace skiff::netproxy;
using namespace skiff::netproxy::testing;

namespace {

// The proxier tests' Services, with affinity when asked.
ServiceInfo sticky(ServiceInfo s) {
  s.affinity = true;
  return s;
}

RulesetConfig config() {
  RulesetConfig c;
  c.table = "skiff_ptest";
  return c;
}

bool isFull(const std::string& text) {
  return text.find("delete table ip skiff_ptest") != std::string::npos;
}

}  // namespace

TEST_CASE("Proxier: full sync first, then partial, nothing when nothing changed", "[proxier]") {
  FakeNftExecutor nft;
  Proxier p(nft, config());
  Model m1 = modelOf({service("a", "10.96.0.1", {{"10.244.0.2", 80}})});
  REQUIRE(p.sync(m1).ok());
  REQUIRE(nft.applied.size() == 1);
  CHECK(isFull(nft.applied[0]));
  CHECK(p.lastSync().full);
  CHECK(p.lastSync().ok);

  Model m2 = m1;
  m2.services["default/b"] = service("b", "10.96.0.2", {{"10.244.0.3", 80}});
  REQUIRE(p.sync(m2).ok());
  REQUIRE(nft.applied.size() == 2);
  CHECK_FALSE(isFull(nft.applied[1]));
  CHECK(nft.applied[1].find("10.96.0.2") != std::string::npos);
  CHECK(nft.applied[1].find("10.96.0.1") == std::string::npos);
  CHECK(p.lastSync().changedServices == 1);
  CHECK(p.applied() == m2);

  REQUIRE(p.sync(m2).ok());
  CHECK(nft.applied.size() == 2);  // no transaction for no change
}

TEST_CASE("Proxier: any failure makes the next sync a full one", "[proxier]") {
  FakeNftExecutor nft;
  Proxier p(nft, config());
  Model m1 = modelOf({service("a", "10.96.0.1", {{"10.244.0.2", 80}})});
  REQUIRE(p.sync(m1).ok());
  Model m2 = modelOf({service("a", "10.96.0.1", {{"10.244.0.9", 80}})});
  nft.failNext();
  Status st = p.sync(m2);
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().message.find("partial sync: nftables transaction") != std::string::npos);
  CHECK(p.needsFullSync());
  CHECK(p.applied() == m1);  // the kernel still holds m1
  REQUIRE(p.sync(m2).ok());
  CHECK(isFull(nft.applied.back()));
  CHECK_FALSE(p.needsFullSync());
  p.forceFullSync();
  REQUIRE(p.sync(m2).ok());
  CHECK(isFull(nft.applied.back()));
}

TEST_CASE("Proxier: affinity Services losing endpoints get their entries cleaned", "[proxier]") {
  FakeNftExecutor nft;
  Proxier p(nft, config());
  Model m1 = modelOf({sticky(service("s", "10.96.0.5", {{"10.244.0.2", 80}, {"10.244.0.3", 80}}))});
  REQUIRE(p.sync(m1).ok());
  CHECK(nft.listed.empty());  // full sync starts the affinity map afresh
  nft.setListing(R"({"nftables": [{"map": {"name": "aff", "elem": [
      [{"elem": {"val": {"concat": ["10.250.0.2", "10.96.0.5", "tcp", 80]}}}, {"concat": ["10.244.0.3", 80]}],
      [{"elem": {"val": {"concat": ["10.250.0.3", "10.96.0.5", "tcp", 80]}}}, {"concat": ["10.244.0.2", 80]}]]}}]})");
  Model m2 = modelOf({sticky(service("s", "10.96.0.5", {{"10.244.0.2", 80}}))});
  REQUIRE(p.sync(m2).ok());
  REQUIRE(nft.listed.size() == 1);
  CHECK(nft.listed[0] == "list map ip skiff_ptest aff");
  REQUIRE(nft.applied.size() == 3);
  CHECK(nft.applied[2] ==
        "delete element ip skiff_ptest aff { 10.250.0.2 . 10.96.0.5 . tcp . 80 }\n");

  // A Service without affinity never triggers a listing.
  Model m3 = m2;
  m3.services["default/t"] = service("t", "10.96.0.6", {{"10.244.0.4", 80}});
  REQUIRE(p.sync(m3).ok());
  CHECK(nft.listed.size() == 1);
}

TEST_CASE("Proxier: deleteTable leaves the next sync full", "[proxier]") {
  FakeNftExecutor nft;
  Proxier p(nft, config());
  REQUIRE(p.sync(Model{}).ok());
  REQUIRE(p.deleteTable().ok());
  CHECK(nft.applied.back() == "add table ip skiff_ptest\ndelete table ip skiff_ptest\n");
  CHECK(p.needsFullSync());
}

TEST_CASE("Proxier: a full sync over an existing table refills it, keeping affinity entries",
          "[proxier]") {
  FakeNftExecutor nft;
  nft.setTableSets({"svc", "ep_1", "npep_1", "aff", "cluster_ips"});
  Proxier p(nft, config());
  Model m = modelOf({sticky(service("a", "10.96.0.1", {{"10.244.0.2", 80}})),
                     service("b", "10.96.0.2", {{"10.244.0.3", 80}, {"10.244.0.4", 80}})});
  REQUIRE(p.sync(m).ok());
  CHECK(p.lastSync().full);
  CHECK(p.lastSync().mode == "refill");
  REQUIRE(nft.applied.size() == 1);
  const std::string& rules = nft.applied[0];
  CHECK_FALSE(isFull(rules));  // no table deletion
  CHECK(rules.find("flush chain ip skiff_ptest nat_prerouting\n") != std::string::npos);
  CHECK(rules.find("add map ip skiff_ptest ep_1 ") == std::string::npos);  // exists: kept as is
  CHECK(rules.find("svc_1") == std::string::npos);
  CHECK(rules.find("add map ip skiff_ptest ep_2 ") != std::string::npos);  // new class
  CHECK(rules.find("add map ip skiff_ptest aff ") == std::string::npos);
  CHECK(rules.find("add element") == std::string::npos);  // elements go through refill()
  REQUIRE(nft.refills.size() == 1);
  CHECK(nft.refills[0].flush == std::set<std::string>{"svc", "ep_1", "npep_1", "cluster_ips"});
  const auto& svc = nft.refills[0].elements.at("svc");
  CHECK(svc == std::vector<std::pair<std::string, std::string>>{
                   {"10.96.0.1 . tcp . 80", "goto aff_1"}, {"10.96.0.2 . tcp . 80", "goto svc_2"}});
  CHECK(nft.listed.size() == 1);  // affinity entries checked against the endpoints

  // Then partial syncs as usual; class 1 is known, so it is never re-declared.
  Model m2 = m;
  m2.services["default/b"].ports[0].endpoints = {{"10.244.0.3", 80}};
  REQUIRE(p.sync(m2).ok());
  CHECK(p.lastSync().mode == "partial");
  CHECK(nft.applied.back().find("add map") == std::string::npos);
}

TEST_CASE("Proxier: a failed refill falls back to recreating the table in the same sync",
          "[proxier]") {
  FakeNftExecutor nft;
  nft.setTableSets({"svc"});
  nft.failNextRefill();
  Proxier p(nft, config());
  REQUIRE(p.sync(modelOf({service("a", "10.96.0.1", {{"10.244.0.2", 80}})})).ok());
  CHECK(p.lastSync().mode == "recreate");
  CHECK(isFull(nft.applied.back()));
  CHECK_FALSE(p.needsFullSync());
}

TEST_CASE("proxier: a full sync recreates the table when a class chain lost its rule",
          "[proxier]") {
  FakeNftExecutor nft;
  RulesetConfig config;
  config.table = "skiff_ptest";
  Proxier p(nft, config);
  Model m;
  ServiceInfo s;
  s.ns = "default";
  s.name = "a";
  s.clusterIPs = {"10.96.0.1"};
  ServicePortInfo port;
  port.port = 80;
  port.endpoints = {{"10.244.0.2", 8080}};
  s.ports.push_back(port);
  m.services[s.key()] = s;
  nft.setTableSets({"svc", "ep_1", "npep_1", "aff", "cluster_ips"});
  REQUIRE(p.sync(m).ok());
  CHECK(p.lastSync().mode == "refill");

  nft.emptyChains = {"np_1"};  // e.g. after `nft flush table`
  p.forceFullSync();
  REQUIRE(p.sync(m).ok());
  CHECK(p.lastSync().mode == "recreate");
}
