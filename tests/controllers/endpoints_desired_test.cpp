// desiredEndpoints(): the pure decision of the Endpoints controller.
#include <catch2/catch.hpp>

#include "controllers/endpoints.h"

using namespace skiff::controllers;
using skiff::api::Json;

namespace {

Json service(Json ports = Json::array({{{"port", 80}, {"targetPort", 8080}, {"protocol", "TCP"}}}),
             Json selector = {{"app", "web"}}) {
  return Json{
      {"metadata", {{"name", "web"}, {"namespace", "default"}, {"labels", {{"tier", "fe"}}}}},
      {"spec",
       {{"selector", selector},
        {"clusterIP", "10.96.0.5"},
        {"type", "ClusterIP"},
        {"ports", ports}}}};
}

Json pod(const std::string& name, const std::string& ip, bool ready = true,
         Json labels = {{"app", "web"}}) {
  return Json{
      {"metadata",
       {{"name", name}, {"namespace", "default"}, {"uid", "uid-" + name}, {"labels", labels}}},
      {"spec",
       {{"nodeName", "node1"},
        {"containers",
         Json::array(
             {{{"name", "c"},
               {"ports",
                Json::array({{{"name", "http"}, {"containerPort", 8080}},
                             {{"name", "dns"}, {"containerPort", 53}, {"protocol", "UDP"}}})}}})}}},
      {"status",
       {{"phase", "Running"},
        {"podIP", ip},
        {"conditions", Json::array({{{"type", "Ready"}, {"status", ready ? "True" : "False"}}})}}}};
}

Json address(const std::string& name, const std::string& ip) {
  return Json{
      {"ip", ip},
      {"nodeName", "node1"},
      {"targetRef",
       {{"kind", "Pod"}, {"namespace", "default"}, {"name", name}, {"uid", "uid-" + name}}}};
}

}  // namespace

TEST_CASE("ready pods become sorted addresses with targetRef and nodeName") {
  Json ep = desiredEndpoints(service(), {pod("b", "10.244.0.9"), pod("a", "10.244.0.10")});
  CHECK(ep["apiVersion"] == "v1");
  CHECK(ep["kind"] == "Endpoints");
  CHECK(ep["metadata"]["name"] == "web");
  CHECK(ep["metadata"]["namespace"] == "default");
  CHECK(ep["metadata"]["labels"] == Json{{"tier", "fe"}});
  // Sorted by IP as strings, as Kubernetes does.
  Json want = Json::array(
      {{{"addresses", Json::array({address("a", "10.244.0.10"), address("b", "10.244.0.9")})},
        {"ports", Json::array({{{"port", 8080}, {"protocol", "TCP"}}})}}});
  CHECK(ep["subsets"] == want);
}

TEST_CASE("not-ready pods go to notReadyAddresses, or to addresses with publishNotReadyAddresses") {
  Json svc = service();
  Json ep = desiredEndpoints(svc, {pod("a", "10.0.0.1"), pod("b", "10.0.0.2", false)});
  REQUIRE(ep["subsets"].size() == 1);
  CHECK(ep["subsets"][0]["addresses"] == Json::array({address("a", "10.0.0.1")}));
  CHECK(ep["subsets"][0]["notReadyAddresses"] == Json::array({address("b", "10.0.0.2")}));

  svc["spec"]["publishNotReadyAddresses"] = true;
  ep = desiredEndpoints(svc, {pod("a", "10.0.0.1"), pod("b", "10.0.0.2", false)});
  CHECK(ep["subsets"][0]["addresses"].size() == 2);
  CHECK_FALSE(ep["subsets"][0].contains("notReadyAddresses"));

  // A pod with no Ready condition at all is not ready.
  Json fresh = pod("c", "10.0.0.3");
  fresh["status"].erase("conditions");
  ep = desiredEndpoints(service(), {fresh});
  CHECK(ep["subsets"][0]["notReadyAddresses"].size() == 1);
}

TEST_CASE("pods without IP, terminating, ended, unselected or elsewhere are left out") {
  Json noIp = pod("noip", "");
  Json terminating = pod("term", "10.0.0.2");
  terminating["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z";
  Json done = pod("done", "10.0.0.3");
  done["status"]["phase"] = "Succeeded";
  Json failed = pod("failed", "10.0.0.4");
  failed["status"]["phase"] = "Failed";
  Json other = pod("other", "10.0.0.5", true, {{"app", "db"}});
  Json elsewhere = pod("elsewhere", "10.0.0.6");
  elsewhere["metadata"]["namespace"] = "prod";
  Json ep = desiredEndpoints(service(), {noIp, terminating, done, failed, other, elsewhere});
  CHECK(ep["subsets"] == Json::array());
  CHECK(desiredEndpoints(service(), {}).at("subsets") == Json::array());

  // publishNotReadyAddresses keeps a terminating pod (Kubernetes' includeTerminating).
  Json svc = service();
  svc["spec"]["publishNotReadyAddresses"] = true;
  CHECK(desiredEndpoints(svc, {terminating})["subsets"][0]["addresses"].size() == 1);
}

TEST_CASE("named targetPorts resolve per pod; pods that resolve alike share a subset") {
  Json svc = service(
      Json::array({{{"name", "http"}, {"port", 80}, {"targetPort", "http"}, {"protocol", "TCP"}}}));
  Json a = pod("a", "10.0.0.1");
  Json b = pod("b", "10.0.0.2");
  b["spec"]["containers"][0]["ports"][0]["containerPort"] = 9090;
  Json c = pod("c", "10.0.0.3");
  c["spec"]["containers"][0]["ports"] = Json::array();  // no port named http: no endpoint
  Json d = pod("d", "10.0.0.4");
  Json ep = desiredEndpoints(svc, {a, b, c, d});
  Json want = Json::array(
      {{{"addresses", Json::array({address("a", "10.0.0.1"), address("d", "10.0.0.4")})},
        {"ports", Json::array({{{"name", "http"}, {"port", 8080}, {"protocol", "TCP"}}})}},
       {{"addresses", Json::array({address("b", "10.0.0.2")})},
        {"ports", Json::array({{{"name", "http"}, {"port", 9090}, {"protocol", "TCP"}}})}}});
  CHECK(ep["subsets"] == want);
}

TEST_CASE("named targetPort matches the protocol too") {
  Json svc = service(
      Json::array({{{"name", "dns"}, {"port", 53}, {"targetPort", "dns"}, {"protocol", "TCP"}}}));
  CHECK(desiredEndpoints(svc, {pod("a", "10.0.0.1")})["subsets"] == Json::array());
  svc["spec"]["ports"][0]["protocol"] = "UDP";
  CHECK(desiredEndpoints(svc, {pod("a", "10.0.0.1")})["subsets"][0]["ports"][0]["port"] == 53);
}

TEST_CASE("multi-port services list every port with name, port, protocol and appProtocol") {
  Json svc = service(
      Json::array({{{"name", "http"},
                    {"port", 80},
                    {"targetPort", 8080},
                    {"protocol", "TCP"},
                    {"appProtocol", "http"}},
                   {{"name", "dns"}, {"port", 53}, {"targetPort", "dns"}, {"protocol", "UDP"}}}));
  Json ep = desiredEndpoints(svc, {pod("a", "10.0.0.1"), pod("b", "10.0.0.2", false)});
  Json ports = Json::array(
      {{{"name", "dns"}, {"port", 53}, {"protocol", "UDP"}},
       {{"name", "http"}, {"port", 8080}, {"protocol", "TCP"}, {"appProtocol", "http"}}});
  REQUIRE(ep["subsets"].size() == 1);
  CHECK(ep["subsets"][0]["ports"] == ports);
  CHECK(ep["subsets"][0]["addresses"] == Json::array({address("a", "10.0.0.1")}));
  CHECK(ep["subsets"][0]["notReadyAddresses"] == Json::array({address("b", "10.0.0.2")}));

  // A pod offering only one of the ports: as RepackSubsets, each port goes with
  // the set of addresses offering it, so "a" appears under both subsets.
  Json c = pod("c", "10.0.0.3");
  c["spec"]["containers"][0]["ports"].erase(1);
  ep = desiredEndpoints(svc, {pod("a", "10.0.0.1"), c});
  REQUIRE(ep["subsets"].size() == 2);
  CHECK(ep["subsets"][0]["addresses"] ==
        Json::array({address("a", "10.0.0.1"), address("c", "10.0.0.3")}));
  CHECK(ep["subsets"][0]["ports"] == Json::array({ports[1]}));
  CHECK(ep["subsets"][1]["addresses"] == Json::array({address("a", "10.0.0.1")}));
  CHECK(ep["subsets"][1]["ports"] == Json::array({ports[0]}));
}

TEST_CASE("headless services: label, portless addresses, hostname with subdomain") {
  Json svc = service(Json::array());
  svc["spec"]["clusterIP"] = "None";
  Json a = pod("a", "10.0.0.1");
  a["spec"]["hostname"] = "web-0";
  a["spec"]["subdomain"] = "web";
  Json ep = desiredEndpoints(svc, {a});
  CHECK(ep["metadata"]["labels"] == Json{{"tier", "fe"}, {"service.kubernetes.io/headless", ""}});
  Json want = address("a", "10.0.0.1");
  want["hostname"] = "web-0";
  CHECK(ep["subsets"] == Json::array({{{"addresses", Json::array({want})}}}));
  // A non-headless Service without ports has no endpoints.
  CHECK(desiredEndpoints(service(Json::array()), {a})["subsets"] == Json::array());
}

TEST_CASE("services without a selector or of type ExternalName are not managed") {
  CHECK(managesEndpointsOf(service()));
  Json none = service();
  none["spec"].erase("selector");
  CHECK_FALSE(managesEndpointsOf(none));
  none["spec"]["selector"] = Json::object();
  CHECK_FALSE(managesEndpointsOf(none));
  Json ext = service();
  ext["spec"]["type"] = "ExternalName";
  CHECK_FALSE(managesEndpointsOf(ext));
  CHECK(desiredEndpoints(none, {pod("a", "10.0.0.1")})["subsets"] == Json::array());
}

TEST_CASE("endpointsUpToDate compares canonical subsets and labels") {
  Json desired = desiredEndpoints(service(), {pod("a", "10.0.0.1"), pod("b", "10.0.0.2")});
  Json stored = desired;
  stored["metadata"]["resourceVersion"] = "42";
  // The server may return fields in another order, with targetRef.resourceVersion, etc.
  std::swap(stored["subsets"][0]["addresses"][0], stored["subsets"][0]["addresses"][1]);
  stored["subsets"][0]["addresses"][0]["targetRef"]["resourceVersion"] = "7";
  CHECK(endpointsUpToDate(stored, desired));
  stored["subsets"][0]["ports"][0]["port"] = 9999;
  CHECK_FALSE(endpointsUpToDate(stored, desired));
  Json relabelled = desired;
  relabelled["metadata"]["labels"]["tier"] = "be";
  CHECK_FALSE(endpointsUpToDate(relabelled, desired));
  Json empty = desired;
  empty["subsets"] = nullptr;
  CHECK_FALSE(endpointsUpToDate(empty, desired));
  CHECK(canonicalSubsets(nullptr) == Json::array());
}
