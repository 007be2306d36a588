// LoadBalancer ingress IPs: allocated by the apiserver from its pool at create
// and update time (never <pending>), kept across updates, released when the
// type changes away or the Service goes.
#include <catch2/catch.hpp>

#include "apiserver/allocator.h"
#include "tests/apiserver/rest_test_util.h"

using namespace skiff::apiserver;
using namespace skiff::apiserver::testing;
using skiff::api::Json;

namespace {

const std::string kPath = "/api/v1/namespaces/default/services";

// (Not svc["status"]...: const operator[] on a missing key is undefined in
// nlohmann, and a ClusterIP Service has no ingress.)
std::string ingressIp(const Json& svc) {
  const Json* in = skiff::api::jsonAt(svc, {"status", "loadBalancer", "ingress"});
  return in && in->is_array() && !in->empty() ? (*in)[0].value("ip", "") : "";
}

bool held(Cluster& c, const std::string& ip) {
  return c.store->get(std::string(kLoadBalancerIpPrefix) + ip).ok();
}

}  // namespace

TEST_CASE("LoadBalancer Services get a pool address at once", "[allocator][lb]") {
  RestOptions o;
  o.loadBalancerCidr = "10.255.0.0/29";  // 6 usable: .1 .. .6
  Cluster c(o);
  auto a = c.post(kPath, service("a", "LoadBalancer"));
  INFO(a.body);
  REQUIRE(a.status == 201);
  CHECK(ingressIp(a.json) == "10.255.0.1");  // lowest free first
  CHECK(a.json["spec"]["ports"][0]["nodePort"].is_number_integer());
  CHECK(held(c, "10.255.0.1"));
  auto got = c.get(kPath + "/a");
  CHECK(ingressIp(got.json) == "10.255.0.1");  // stored, not only in the answer

  auto b = c.post(kPath, service("b", "LoadBalancer"));
  REQUIRE(b.status == 201);
  CHECK(ingressIp(b.json) == "10.255.0.2");

  SECTION("an update keeps the address, even one that sends an empty status") {
    Json next = a.json;
    next["metadata"]["labels"] = {{"x", "y"}};
    next["status"] = Json::object();
    auto u = c.put(kPath + "/a", next);
    INFO(u.body);
    REQUIRE(u.status == 200);
    CHECK(ingressIp(u.json) == "10.255.0.1");
  }
  SECTION("type ClusterIP releases it; LoadBalancer again takes the lowest free") {
    auto u =
        c.patch(kPath + "/a", "application/merge-patch+json", {{"spec", {{"type", "ClusterIP"}}}});
    INFO(u.body);
    REQUIRE(u.status == 200);
    CHECK(ingressIp(u.json).empty());
    CHECK_FALSE(held(c, "10.255.0.1"));
    auto n = c.post(kPath, service("n", "NodePort"));
    CHECK(ingressIp(n.json).empty());
    auto back = c.patch(kPath + "/a", "application/merge-patch+json",
                        {{"spec", {{"type", "LoadBalancer"}}}});
    INFO(back.body);
    REQUIRE(back.status == 200);
    CHECK(ingressIp(back.json) == "10.255.0.1");
  }
  SECTION("delete releases it") {
    REQUIRE(c.del(kPath + "/a").status == 200);
    CHECK_FALSE(held(c, "10.255.0.1"));
    auto d = c.post(kPath, service("d", "LoadBalancer"));
    CHECK(ingressIp(d.json) == "10.255.0.1");
  }
  SECTION("spec.loadBalancerIP inside the pool is honoured, outside or taken is 422") {
    Json want = service("want", "LoadBalancer");
    want["spec"]["loadBalancerIP"] = "10.255.0.5";
    auto w = c.post(kPath, want);
    INFO(w.body);
    REQUIRE(w.status == 201);
    CHECK(ingressIp(w.json) == "10.255.0.5");
    want["metadata"]["name"] = "again";
    auto taken = c.post(kPath, want);
    CHECK(taken.status == 422);
    CHECK(taken.body.find("provided IP is already allocated") != std::string::npos);
    Json outside = service("outside", "LoadBalancer");
    outside["spec"]["loadBalancerIP"] = "192.0.2.1";
    auto o2 = c.post(kPath, outside);
    CHECK(o2.status == 422);
    CHECK(o2.body.find("spec.loadBalancerIP") != std::string::npos);
    CHECK(o2.body.find("10.255.0.0/29") != std::string::npos);
  }
  SECTION("a full pool is a 422 naming the pool") {
    for (int i = 0; i < 4; ++i)
      REQUIRE(c.post(kPath, service("f" + std::to_string(i), "LoadBalancer")).status == 201);
    auto full = c.post(kPath, service("full", "LoadBalancer"));
    CHECK(full.status == 422);
    CHECK(full.body.find("pool 10.255.0.0/29 is full") != std::string::npos);
  }
  SECTION("another loadBalancerClass is left alone") {
    Json other = service("other", "LoadBalancer");
    other["spec"]["loadBalancerClass"] = "example.com/lb";
    auto r = c.post(kPath, other);
    INFO(r.body);
    REQUIRE(r.status == 201);
    CHECK(ingressIp(r.json).empty());
  }
}
