// service_state: Service + Endpoints JSON -> the compact model.
#include <catch2/catch.hpp>

#include "netproxy/service_state.h"

using namespace skiff;
using namespace skiff::netproxy;
using skiff::api::Json;

namespace {

Json svc(const std::string& name, Json spec, Json status = Json::object()) {
  return Json{{"apiVersion", "v1"},
              {"kind", "Service"},
              {"metadata", {{"name", name}, {"namespace", "default"}}},
              {"spec", spec},
              {"status", status}};
}

Json eps(const std::string& name, Json subsets) {
  return Json{{"apiVersion", "v1"},
              {"kind", "Endpoints"},
              {"metadata", {{"name", name}, {"namespace", "default"}}},
              {"subsets", subsets}};
}

}  // namespace

TEST_CASE("ClusterIP Service: ready addresses only, ports matched by name", "[service_state]") {
  Json s =
      svc("web", {{"type", "ClusterIP"},
                  {"clusterIP", "10.96.0.10"},
                  {"clusterIPs", {"10.96.0.10"}},
                  {"ports",
                   {{{"name", "http"}, {"port", 80}, {"protocol", "TCP"}, {"targetPort", "web"}},
                    {{"name", "metrics"}, {"port", 9100}, {"protocol", "TCP"}}}}});
  Json e = eps("web", {{{"addresses", {{{"ip", "10.244.0.5"}}, {{"ip", "10.244.0.4"}}}},
                        {"notReadyAddresses", {{{"ip", "10.244.0.9"}}}},
                        {"ports",
                         {{{"name", "metrics"}, {"port", 9090}, {"protocol", "TCP"}},
                          {{"name", "http"}, {"port", 8080}, {"protocol", "TCP"}}}}}});
  auto r = serviceFromJson(s, &e);
  REQUIRE(r.ok());
  REQUIRE(r->has_value());
  const ServiceInfo& info = **r;
  CHECK(info.key() == "default/web");
  CHECK(info.clusterIPs == std::vector<std::string>{"10.96.0.10"});
  CHECK_FALSE(info.affinity);
  REQUIRE(info.ports.size() == 2);
  CHECK(info.ports[0].port == 80);
  CHECK(info.ports[0].protocol == Protocol::kTcp);
  CHECK(info.ports[0].nodePort == 0);
  // Sorted, 10.244.0.9 (not ready) absent, port from the Endpoints port named "http".
  CHECK(info.ports[0].endpoints ==
        std::vector<Endpoint>{{"10.244.0.4", 8080}, {"10.244.0.5", 8080}});
  CHECK(info.ports[1].endpoints ==
        std::vector<Endpoint>{{"10.244.0.4", 9090}, {"10.244.0.5", 9090}});
}

TEST_CASE("Endpoints ports must match protocol too; UDP and SCTP", "[service_state]") {
  Json s = svc("dns", {{"clusterIP", "10.96.0.53"},
                       {"ports",
                        {{{"name", "dns"}, {"port", 53}, {"protocol", "UDP"}},
                         {{"name", "dns-tcp"}, {"port", 53}, {"protocol", "TCP"}},
                         {{"name", "s"}, {"port", 9}, {"protocol", "SCTP"}}}}});
  Json e = eps("dns", {{{"addresses", {{{"ip", "10.244.1.2"}}}},
                        {"ports",
                         {{{"name", "dns"}, {"port", 5353}, {"protocol", "UDP"}},
                          {{"name", "dns-tcp"}, {"port", 5353}, {"protocol", "UDP"}},
                          {{"name", "s"}, {"port", 99}, {"protocol", "SCTP"}}}}}});
  auto r = serviceFromJson(s, &e);
  REQUIRE(r.ok());
  const ServiceInfo& info = **r;
  CHECK(info.ports[0].protocol == Protocol::kUdp);
  CHECK(info.ports[0].endpoints == std::vector<Endpoint>{{"10.244.1.2", 5353}});
  CHECK(info.ports[1].endpoints.empty());  // named port exists but for UDP only
  CHECK(info.ports[2].protocol == Protocol::kSctp);
  CHECK(info.ports[2].endpoints == std::vector<Endpoint>{{"10.244.1.2", 99}});
  CHECK(std::string(protocolName(Protocol::kSctp)) == "sctp");
}

TEST_CASE("No Endpoints object: ports with no endpoints", "[service_state]") {
  Json s = svc("lonely", {{"clusterIP", "10.96.0.11"}, {"ports", {{{"port", 80}}}}});
  auto r = serviceFromJson(s, nullptr);
  REQUIRE(r.ok());
  REQUIRE(r->has_value());
  CHECK((*r)->ports.at(0).protocol == Protocol::kTcp);  // default
  CHECK((*r)->ports.at(0).endpoints.empty());
}

TEST_CASE("ExternalName and headless Services get no rules", "[service_state]") {
  auto ext = serviceFromJson(
      svc("ext", {{"type", "ExternalName"}, {"externalName", "example.com"}}), nullptr);
  REQUIRE(ext.ok());
  CHECK_FALSE(ext->has_value());
  auto headless =
      serviceFromJson(svc("h", {{"clusterIP", "None"}, {"ports", {{{"port", 80}}}}}), nullptr);
  REQUIRE(headless.ok());
  CHECK_FALSE(headless->has_value());
}

TEST_CASE("NodePort and LoadBalancer: node ports, ingress IPs, externalIPs, policy, affinity",
          "[service_state]") {
  Json s = svc("lb",
               {{"type", "LoadBalancer"},
                {"clusterIP", "10.96.0.20"},
                {"clusterIPs", {"10.96.0.20", "fd00::20"}},
                {"externalIPs", {"192.0.2.7", "2001:db8::1", "192.0.2.7"}},
                {"externalTrafficPolicy", "Local"},
                {"healthCheckNodePort", 31999},
                {"sessionAffinity", "ClientIP"},
                {"sessionAffinityConfig", {{"clientIP", {{"timeoutSeconds", 5}}}}},
                {"ports", {{{"port", 80}, {"nodePort", 30001}}}}},
               {{"loadBalancer", {{"ingress", {{{"ip", "172.18.255.1"}}}}}}});
  auto r = serviceFromJson(s, nullptr);
  REQUIRE(r.ok());
  const ServiceInfo& info = **r;
  CHECK(info.type == "LoadBalancer");
  CHECK(info.clusterIPs == std::vector<std::string>{"10.96.0.20"});  // IPv6 ignored
  CHECK(info.externalIPs == std::vector<std::string>{"192.0.2.7"});  // deduplicated
  CHECK(info.loadBalancerIPs == std::vector<std::string>{"172.18.255.1"});
  CHECK(info.externalLocal);
  CHECK(info.healthCheckNodePort == 31999);
  CHECK(info.affinity);
  CHECK(info.affinityTimeoutSeconds == 5);
  CHECK(info.ports.at(0).nodePort == 30001);

  Json np = svc("np", {{"type", "NodePort"},
                       {"clusterIP", "10.96.0.21"},
                       {"sessionAffinity", "ClientIP"},
                       {"ports", {{{"port", 80}, {"nodePort", 30002}}}}});
  auto r2 = serviceFromJson(np, nullptr);
  REQUIRE(r2.ok());
  CHECK((*r2)->affinityTimeoutSeconds == 10800);  // Kubernetes' default
  CHECK_FALSE((*r2)->externalLocal);
  CHECK((*r2)->healthCheckNodePort == 0);

  // A ClusterIP Service never programs a node port even if one is written.
  Json cip =
      svc("c", {{"clusterIP", "10.96.0.22"}, {"ports", {{{"port", 80}, {"nodePort", 30003}}}}});
  CHECK((**serviceFromJson(cip, nullptr)).ports.at(0).nodePort == 0);
}

TEST_CASE("loadBalancerSourceRanges: normalized IPv4 CIDRs, LoadBalancers only",
          "[service_state]") {
  Json spec = {{"type", "LoadBalancer"},
               {"clusterIP", "10.96.0.20"},
               {"loadBalancerSourceRanges",
                {" 10.1.2.3/8", "192.168.0.0/16", "10.0.0.0/8", "fd00::/8", "203.0.113.7/32"}},
               {"ports", {{{"port", 80}}}}};
  auto r = serviceFromJson(svc("lb", spec), nullptr);
  REQUIRE(r.ok());
  CHECK((*r)->restrictSources);
  CHECK((*r)->sourceRanges ==
        std::vector<std::string>{"10.0.0.0/8", "192.168.0.0/16", "203.0.113.7/32"});

  // Only IPv6 ranges: still restricted, so no IPv4 source is let in.
  spec["loadBalancerSourceRanges"] = {"fd00::/8"};
  r = serviceFromJson(svc("lb", spec), nullptr);
  REQUIRE(r.ok());
  CHECK((*r)->restrictSources);
  CHECK((*r)->sourceRanges.empty());

  // Another type ignores them; none means every source.
  spec["type"] = "NodePort";
  CHECK_FALSE((**serviceFromJson(svc("np", spec), nullptr)).restrictSources);
  spec["type"] = "LoadBalancer";
  spec.erase("loadBalancerSourceRanges");
  CHECK_FALSE((**serviceFromJson(svc("lb", spec), nullptr)).restrictSources);

  spec["loadBalancerSourceRanges"] = {"10.0.0.0/33"};
  auto bad = serviceFromJson(svc("lb", spec), nullptr);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message.find("spec.loadBalancerSourceRanges[0]") != std::string::npos);
}

TEST_CASE("Invalid Services are refused with a field path", "[service_state]") {
  auto bad = serviceFromJson(
      svc("bad", {{"clusterIP", "10.96.0.30"}, {"ports", {{{"port", 70000}}}}}), nullptr);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code == Code::kInvalid);
  CHECK(bad.error().message.find("spec.ports[0].port") != std::string::npos);
  auto proto = serviceFromJson(
      svc("p", {{"clusterIP", "10.96.0.31"}, {"ports", {{{"port", 80}, {"protocol", "ICMP"}}}}}),
      nullptr);
  REQUIRE_FALSE(proto.ok());
  CHECK(proto.error().message.find("spec.ports[0].protocol") != std::string::npos);
  // Injection attempt: a non-address string never reaches the model.
  auto inj = serviceFromJson(
      svc("i", {{"clusterIP", "10.96.0.32; flush ruleset"}, {"ports", {{{"port", 80}}}}}), nullptr);
  REQUIRE(inj.ok());
  CHECK_FALSE(inj->has_value());
}

TEST_CASE("buildModel pairs Endpoints by namespace/name and skips bad Services",
          "[service_state]") {
  std::vector<Json> services = {
      svc("a", {{"clusterIP", "10.96.1.1"}, {"ports", {{{"port", 80}}}}}),
      svc("b", {{"clusterIP", "10.96.1.2"}, {"ports", {{{"port", 0}}}}}),
      svc("c", {{"type", "ExternalName"}, {"externalName", "x.example"}})};
  std::vector<Json> endpoints = {
      eps("a", {{{"addresses", {{{"ip", "10.244.0.7"}}}}, {"ports", {{{"port", 8080}}}}}})};
  std::vector<std::string> skipped;
  Model m = buildModel(services, endpoints, &skipped);
  REQUIRE(m.services.size() == 1);
  CHECK(m.services.at("default/a").ports.at(0).endpoints ==
        std::vector<Endpoint>{{"10.244.0.7", 8080}});
  REQUIRE(skipped.size() == 1);
  CHECK(skipped[0].find("default/b") != std::string::npos);
}
