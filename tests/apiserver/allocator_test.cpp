// Service admission: ClusterIP and NodePort allocation as store keys.
#include <catch2/catch.hpp>

#include <set>
#include <thread>

#include "apiserver/allocator.h"
#include "tests/apiserver/rest_test_util.h"

using namespace skiff::apiserver;
using namespace skiff::apiserver::testing;
using skiff::api::Json;

namespace {

void requireInvalid(const Response& r, const std::string& field, const std::string& message) {
  INFO(r.body);
  REQUIRE(r.status == 422);
  REQUIRE(r.json["reason"] == "Invalid");
  REQUIRE(r.json["details"]["kind"] == "Service");
  bool found = false;
  for (const auto& c : r.json["details"]["causes"])
    if (c["field"] == field && c["message"] == message) found = true;
  CHECK(found);
}

}  // namespace

TEST_CASE("CIDR parsing", "[allocator]") {
  auto c = parseCidr("10.96.0.0/12");
  REQUIRE(c.ok());
  CHECK(formatIpv4(c->network) == "10.96.0.0");
  CHECK(formatIpv4(c->broadcast()) == "10.111.255.255");
  CHECK_FALSE(c->usable(c->network));
  CHECK_FALSE(c->usable(c->broadcast()));
  CHECK(c->usable(*parseIpv4("10.100.1.2")));
  CHECK_FALSE(c->usable(*parseIpv4("10.112.0.1")));
  CHECK_FALSE(parseCidr("10.96.0.0").ok());
  CHECK_FALSE(parseCidr("banana/12").ok());
}

TEST_CASE("ClusterIPs are allocated, checked and released", "[allocator][rest]") {
  Cluster c;
  auto r = c.post("/api/v1/namespaces/default/services", service("web"));
  INFO(r.body);
  REQUIRE(r.status == 201);
  std::string ip = r.json["spec"]["clusterIP"];
  auto parsed = parseIpv4(ip);
  REQUIRE(parsed);
  CHECK(parseCidr("10.96.0.0/12")->usable(*parsed));
  CHECK(r.json["spec"]["clusterIPs"] == Json::array({ip}));
  CHECK(r.json["status"] == Json({{"loadBalancer", Json::object()}}));
  auto key = c.store->get("/registry/allocations/clusterips/" + ip);
  REQUIRE(key.ok());
  CHECK(key->value == "default/web");
  CHECK_FALSE(r.json["spec"]["ports"][0].contains("nodePort"));

  Json taken = service("taken");
  taken["spec"]["clusterIP"] = ip;
  requireInvalid(c.post("/api/v1/namespaces/default/services", taken), "spec.clusterIPs",
                 "Invalid value: []string{\"" + ip + "\"}: failed to allocate IP " + ip +
                     ": provided IP is already allocated");

  Json outside = service("outside");
  outside["spec"]["clusterIP"] = "10.200.0.1";
  requireInvalid(
      c.post("/api/v1/namespaces/default/services", outside), "spec.clusterIPs",
      "Invalid value: []string{\"10.200.0.1\"}: failed to allocate IP 10.200.0.1: the provided "
      "IP (10.200.0.1) is not in the valid range. The range of valid IPs is "
      "10.96.0.0/12");

  Json chosen = service("chosen");
  chosen["spec"]["clusterIP"] = "10.96.0.10";
  auto ok = c.post("/api/v1/namespaces/default/services", chosen);
  REQUIRE(ok.status == 201);
  CHECK(ok.json["spec"]["clusterIP"] == "10.96.0.10");

  Json headless = service("headless");
  headless["spec"]["clusterIP"] = "None";
  headless["spec"]["ports"][0]["targetPort"] = 80;
  auto h = c.post("/api/v1/namespaces/default/services", headless);
  INFO(h.body);
  REQUIRE(h.status == 201);
  CHECK(h.json["spec"]["clusterIP"] == "None");

  Json ext = {{"apiVersion", "v1"},
              {"kind", "Service"},
              {"metadata", {{"name", "ext"}}},
              {"spec", {{"type", "ExternalName"}, {"externalName", "example.com"}}}};
  auto e = c.post("/api/v1/namespaces/default/services", ext);
  INFO(e.body);
  REQUIRE(e.status == 201);
  CHECK_FALSE(e.json["spec"].contains("clusterIP"));

  REQUIRE(c.del("/api/v1/namespaces/default/services/web").status == 200);
  CHECK_FALSE(c.store->get("/registry/allocations/clusterips/" + ip).ok());
  taken["metadata"]["name"] = "reuse";
  CHECK(c.post("/api/v1/namespaces/default/services", taken).status == 201);
}

TEST_CASE("NodePorts are allocated for every port, checked and released", "[allocator][rest]") {
  Cluster c;
  Json ports = Json::array({{{"name", "http"}, {"port", 80}}, {{"name", "https"}, {"port", 443}}});
  auto r = c.post("/api/v1/namespaces/default/services", service("web", "NodePort", ports));
  INFO(r.body);
  REQUIRE(r.status == 201);
  int p0 = r.json["spec"]["ports"][0]["nodePort"];
  int p1 = r.json["spec"]["ports"][1]["nodePort"];
  CHECK(p0 >= 30000);
  CHECK(p0 <= 32767);
  CHECK(p1 != p0);
  CHECK(c.store->get("/registry/allocations/nodeports/" + std::to_string(p0)).ok());

  Json dup = service("dup", "NodePort", Json::array({{{"port", 80}, {"nodePort", p0}}}));
  requireInvalid(c.post("/api/v1/namespaces/default/services", dup), "spec.ports[0].nodePort",
                 "Invalid value: " + std::to_string(p0) + ": provided port is already allocated");
  Json low = service("low", "NodePort", Json::array({{{"port", 80}, {"nodePort", 80}}}));
  requireInvalid(c.post("/api/v1/namespaces/default/services", low), "spec.ports[0].nodePort",
                 "Invalid value: 80: provided port is not in the valid range. The range of valid "
                 "ports is 30000-32767");

  SECTION("a PUT without nodePorts keeps them") {
    Json svc = r.json;
    for (auto& p : svc["spec"]["ports"]) p.erase("nodePort");
    auto u = c.put("/api/v1/namespaces/default/services/web", svc);
    INFO(u.body);
    REQUIRE(u.status == 200);
    CHECK(u.json["spec"]["ports"][0]["nodePort"] == p0);
  }
  SECTION("removing a port releases its nodePort") {
    Json svc = r.json;
    svc["spec"]["ports"].erase(1);
    auto u = c.put("/api/v1/namespaces/default/services/web", svc);
    INFO(u.body);
    REQUIRE(u.status == 200);
    CHECK_FALSE(c.store->get("/registry/allocations/nodeports/" + std::to_string(p1)).ok());
    CHECK(c.store->get("/registry/allocations/nodeports/" + std::to_string(p0)).ok());
  }
  SECTION("changing to ClusterIP releases every nodePort") {
    auto u = c.patch("/api/v1/namespaces/default/services/web", "application/merge-patch+json",
                     {{"spec", {{"type", "ClusterIP"}}}});
    INFO(u.body);
    REQUIRE(u.status == 200);
    CHECK_FALSE(u.json["spec"]["ports"][0].contains("nodePort"));
    CHECK_FALSE(c.store->get("/registry/allocations/nodeports/" + std::to_string(p0)).ok());
  }
  SECTION("delete releases everything") {
    REQUIRE(c.del("/api/v1/namespaces/default/services/web").status == 200);
    CHECK_FALSE(c.store->get("/registry/allocations/nodeports/" + std::to_string(p0)).ok());
    CHECK(c.post("/api/v1/namespaces/default/services", dup).status == 201);
  }
}

TEST_CASE("a LoadBalancer with externalTrafficPolicy Local gets a healthCheckNodePort",
          "[allocator][rest]") {
  Cluster c;
  const std::string svcs = "/api/v1/namespaces/default/services";
  Json lb = service("lb", "LoadBalancer");
  lb["spec"]["externalTrafficPolicy"] = "Local";
  auto r = c.post(svcs, lb);
  INFO(r.body);
  REQUIRE(r.status == 201);
  int hc = r.json["spec"]["healthCheckNodePort"];
  int np = r.json["spec"]["ports"][0]["nodePort"];
  CHECK(hc >= 30000);
  CHECK(hc <= 32767);
  CHECK(hc != np);
  auto key = c.store->get("/registry/allocations/nodeports/" + std::to_string(hc));
  REQUIRE(key.ok());
  CHECK(key->value == "default/lb");

  // Cluster policy: none.
  Json cluster = service("cluster", "LoadBalancer");
  auto rc = c.post(svcs, cluster);
  REQUIRE(rc.status == 201);
  CHECK_FALSE(rc.json["spec"].contains("healthCheckNodePort"));

  // Asked for: taken, out of range, or held by another Service.
  Json asked = lb;
  asked["metadata"]["name"] = "asked";
  asked["spec"]["healthCheckNodePort"] = 32000;
  auto ra = c.post(svcs, asked);
  INFO(ra.body);
  REQUIRE(ra.status == 201);
  CHECK(ra.json["spec"]["healthCheckNodePort"] == 32000);
  Json dup = asked;
  dup["metadata"]["name"] = "dup";
  requireInvalid(c.post(svcs, dup), "spec.healthCheckNodePort",
                 "Invalid value: 32000: provided port is already allocated");
  dup["spec"]["healthCheckNodePort"] = np;
  requireInvalid(c.post(svcs, dup), "spec.healthCheckNodePort",
                 "Invalid value: " + std::to_string(np) + ": provided port is already allocated");
  dup["spec"]["healthCheckNodePort"] = 8080;
  requireInvalid(c.post(svcs, dup), "spec.healthCheckNodePort",
                 "Invalid value: 8080: provided port is not in the valid range. The range of "
                 "valid ports is 30000-32767");

  SECTION("a PUT without it keeps it; another value is refused") {
    Json svc = r.json;
    svc["spec"].erase("healthCheckNodePort");
    auto u = c.put(svcs + "/lb", svc);
    INFO(u.body);
    REQUIRE(u.status == 200);
    CHECK(u.json["spec"]["healthCheckNodePort"] == hc);
    svc = u.json;
    svc["spec"]["healthCheckNodePort"] = 32001;
    requireInvalid(c.put(svcs + "/lb", svc), "spec.healthCheckNodePort",
                   "Invalid value: 32001: cannot change healthCheckNodePort on loadBalancer "
                   "service with externalTraffic=Local during update");
  }
  SECTION("externalTrafficPolicy Cluster releases it") {
    auto u = c.patch(svcs + "/lb", "application/merge-patch+json",
                     {{"spec", {{"externalTrafficPolicy", "Cluster"}}}});
    INFO(u.body);
    REQUIRE(u.status == 200);
    CHECK_FALSE(u.json["spec"].contains("healthCheckNodePort"));
    CHECK_FALSE(c.store->get("/registry/allocations/nodeports/" + std::to_string(hc)).ok());
    CHECK(c.store->get("/registry/allocations/nodeports/" + std::to_string(np)).ok());
    // Back to Local: a port again.
    u = c.patch(svcs + "/lb", "application/merge-patch+json",
                {{"spec", {{"externalTrafficPolicy", "Local"}}}});
    REQUIRE(u.status == 200);
    CHECK(u.json["spec"]["healthCheckNodePort"].is_number_integer());
  }
  SECTION("changing to NodePort releases it") {
    auto u =
        c.patch(svcs + "/lb", "application/merge-patch+json", {{"spec", {{"type", "NodePort"}}}});
    INFO(u.body);
    REQUIRE(u.status == 200);
    CHECK_FALSE(u.json["spec"].contains("healthCheckNodePort"));
    CHECK_FALSE(c.store->get("/registry/allocations/nodeports/" + std::to_string(hc)).ok());
  }
  SECTION("delete releases it") {
    REQUIRE(c.del(svcs + "/lb").status == 200);
    CHECK_FALSE(c.store->get("/registry/allocations/nodeports/" + std::to_string(hc)).ok());
  }
}

TEST_CASE("200 concurrent NodePort Services get distinct ports", "[allocator][rest]") {
  RestOptions opts;
  opts.nodePortMin = 30000;
  opts.nodePortMax = 30399;  // a small range makes collisions (and retries) likely
  Cluster c(opts);
  std::vector<std::thread> threads;
  std::mutex mu;
  std::vector<Response> responses;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = t; i < 200; i += 8) {
        auto r = c.post("/api/v1/namespaces/default/services",
                        service("svc-" + std::to_string(i), "NodePort"));
        std::lock_guard<std::mutex> lock(mu);
        responses.push_back(r);
      }
    });
  }
  for (auto& t : threads) t.join();
  std::set<int> ports;
  std::set<std::string> ips;
  for (const auto& r : responses) {
    INFO(r.body);
    REQUIRE(r.status == 201);
    ports.insert(r.json["spec"]["ports"][0]["nodePort"].get<int>());
    ips.insert(r.json["spec"]["clusterIP"].get<std::string>());
  }
  CHECK(ports.size() == 200);
  CHECK(ips.size() == 200);
  auto held = c.store->list("/registry/allocations/nodeports/");
  CHECK(held->items.size() == 200);
}

TEST_CASE("50 concurrent creates asking for one nodePort: exactly one wins", "[allocator][rest]") {
  Cluster c;
  std::vector<std::thread> threads;
  std::atomic<int> created{0}, invalid{0};
  for (int t = 0; t < 50; ++t) {
    threads.emplace_back([&, t] {
      auto r = c.post("/api/v1/namespaces/default/services",
                      service("s" + std::to_string(t), "NodePort",
                              Json::array({{{"port", 80}, {"nodePort", 31000}}})));
      if (r.status == 201) ++created;
      if (r.status == 422) ++invalid;
    });
  }
  for (auto& t : threads) t.join();
  CHECK(created == 1);
  CHECK(invalid == 49);
  CHECK(c.get("/api/v1/namespaces/default/services").json["items"].size() == 2);  // + kubernetes
}

TEST_CASE("repair drops allocations no Service holds", "[allocator]") {
  char tmpl[] = "/tmp/skiff-alloc-test-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  skiff::storage::Store::Options so;
  so.fsync = false;
  auto store = skiff::storage::Store::open(dir + "/state.db", so);
  REQUIRE(store.ok());
  skiff::storage::Op stale;
  stale.key = "/registry/allocations/nodeports/30123";
  stale.encode = [](skiff::storage::Revision) { return std::string("default/gone"); };
  REQUIRE((*store)->commitSync({stale}).ok());
  {
    auto api = RestApi::create(**store, {});
    REQUIRE(api.ok());
  }
  CHECK_FALSE((*store)->get("/registry/allocations/nodeports/30123").ok());
  CHECK((*store)->get("/registry/allocations/clusterips/10.96.0.1").ok());
  store->reset();
  std::filesystem::remove_all(dir);
}
