#include <catch2/catch.hpp>

#include "api/endpoint_slices.h"
#include "api/table.h"

using skiff::api::endpointSlicesOf;
using skiff::api::Json;

namespace {

Json endpoints(const std::string& subsetsJson) {
  return Json::parse(
      R"({"apiVersion":"v1","kind":"Endpoints","metadata":{"name":"web","namespace":"shop",
          "uid":"0b7c7d9e-1111-4222-8333-444455556666","resourceVersion":"42",
          "creationTimestamp":"2024-01-10T11:55:00Z","labels":{"team":"a"}},"subsets":)" +
      subsetsJson + "}");
}

}  // namespace

TEST_CASE("an Endpoints subset shows as an EndpointSlice", "[endpointslices]") {
  Json ep = endpoints(R"([{
      "addresses":[{"ip":"10.244.0.5","nodeName":"n1","targetRef":{"kind":"Pod","name":"web-1"}},
                   {"ip":"10.244.0.6","hostname":"h"}],
      "notReadyAddresses":[{"ip":"10.244.0.7"}],
      "ports":[{"name":"http","port":8080},{"name":"dns","port":53,"protocol":"UDP"}]}])");
  auto slices = endpointSlicesOf(ep);
  REQUIRE(slices.size() == 1);
  const Json& s = slices[0];
  CHECK(s["kind"] == "EndpointSlice");
  CHECK(s["apiVersion"] == "discovery.k8s.io/v1");
  CHECK(s["addressType"] == "IPv4");
  const std::string name = s["metadata"]["name"];
  CHECK(name.rfind("web-", 0) == 0);
  CHECK(name.size() == std::string("web-").size() + 5);
  CHECK(s["metadata"]["namespace"] == "shop");
  CHECK(s["metadata"]["resourceVersion"] == "42");
  CHECK(s["metadata"]["creationTimestamp"] == "2024-01-10T11:55:00Z");
  CHECK(s["metadata"]["uid"] != ep["metadata"]["uid"]);
  CHECK(s["metadata"]["labels"] == Json{{"team", "a"},
                                        {"kubernetes.io/service-name", "web"},
                                        {"endpointslice.kubernetes.io/managed-by",
                                         "endpointslicemirroring-controller.k8s.io"}});
  REQUIRE(s["endpoints"].size() == 3);
  CHECK(s["endpoints"][0] == Json::parse(R"({"addresses":["10.244.0.5"],"nodeName":"n1",
                        "targetRef":{"kind":"Pod","name":"web-1"},
                        "conditions":{"ready":true,"serving":true,"terminating":false}})"));
  CHECK(s["endpoints"][1]["hostname"] == "h");
  CHECK(s["endpoints"][2]["addresses"] == Json::array({"10.244.0.7"}));
  CHECK(s["endpoints"][2]["conditions"]["ready"] == false);
  CHECK(s["endpoints"][2]["conditions"]["serving"] == false);
  CHECK(s["ports"] == Json::parse(R"([{"name":"http","port":8080,"protocol":"TCP"},
                                      {"name":"dns","port":53,"protocol":"UDP"}])"));

  // The same Endpoints shows the same slice every time; another subset,
  // another slice.
  CHECK(endpointSlicesOf(ep)[0] == s);
  Json two = endpoints(R"([{"addresses":[{"ip":"10.244.0.5"}],"ports":[{"port":80}]},
                           {"addresses":[{"ip":"fd00::6"}],"ports":[{"port":81}]}])");
  auto twoSlices = endpointSlicesOf(two);
  REQUIRE(twoSlices.size() == 2);
  CHECK(twoSlices[0]["metadata"]["name"] != twoSlices[1]["metadata"]["name"]);
  CHECK(twoSlices[0]["metadata"]["uid"] != twoSlices[1]["metadata"]["uid"]);
  CHECK(twoSlices[1]["addressType"] == "IPv6");
  CHECK(twoSlices[0]["ports"][0] == Json{{"name", ""}, {"port", 80}, {"protocol", "TCP"}});
}

TEST_CASE("an Endpoints without subsets shows one empty slice", "[endpointslices]") {
  for (const char* subsets : {"[]", "null"}) {
    auto slices = endpointSlicesOf(endpoints(subsets));
    REQUIRE(slices.size() == 1);
    CHECK(slices[0]["endpoints"].is_null());
    CHECK(slices[0]["ports"].is_null());
    CHECK(slices[0]["metadata"]["labels"]["kubernetes.io/service-name"] == "web");
  }
}

TEST_CASE("table: endpointslices", "[endpointslices]") {
  std::vector<std::string> names;
  for (auto& c : skiff::api::tableColumns("endpointslices")) names.push_back(c["name"]);
  CHECK(names == std::vector<std::string>{"Name", "AddressType", "Ports", "Endpoints", "Age"});
  skiff::api::TableOptions o;
  o.now = std::chrono::system_clock::from_time_t(1704888000);  // 2024-01-10T12:00:00Z
  Json ep = endpoints(R"([{"addresses":[{"ip":"10.0.0.1"},{"ip":"10.0.0.2"},{"ip":"10.0.0.3"},
                                        {"ip":"10.0.0.4"}],
                           "ports":[{"port":1},{"port":2},{"port":3},{"port":4},{"port":5}]}])");
  Json row = skiff::api::toTable("endpointslices", endpointSlicesOf(ep), Json::object(),
                                 o)["rows"][0]["cells"];
  CHECK(row[1] == "IPv4");
  CHECK(row[2] == "1,2,3 + 2 more...");
  CHECK(row[3] == "10.0.0.1,10.0.0.2,10.0.0.3 + 1 more...");
  CHECK(row[4] == "5m");
  Json none = skiff::api::toTable("endpointslices", endpointSlicesOf(endpoints("[]")),
                                  Json::object(), o)["rows"][0]["cells"];
  CHECK(none[2] == "<unset>");
  CHECK(none[3] == "<unset>");
}
