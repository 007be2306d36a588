#include "kubelet/service_env.h"

#include <catch2/catch.hpp>

#include <map>

using namespace skiff::kubelet;
using skiff::api::Json;

namespace {

Json service(const std::string& ns, const std::string& name, const std::string& ip, Json ports) {
  return {{"metadata", {{"name", name}, {"namespace", ns}}},
          {"spec", {{"clusterIP", ip}, {"ports", ports}}}};
}

std::map<std::string, std::string> asMap(
    const std::vector<std::pair<std::string, std::string>>& v) {
  return {v.begin(), v.end()};
}

}  // namespace

TEST_CASE("service variables as the kubelet's envvars.FromServices writes them", "[service_env]") {
  std::vector<Json> services = {
      service("default", "kubernetes", "10.96.0.1",
              Json::array({{{"name", "https"}, {"port", 443}, {"protocol", "TCP"}}})),
      service("prod", "http-go-np", "10.96.0.20",
              Json::array(
                  {{{"port", 80}}, {{"name", "metrics"}, {"port", 9090}, {"protocol", "UDP"}}})),
      service("prod", "headless", "None", Json::array({{{"port", 80}}})),
      {{"metadata", {{"name", "ext"}, {"namespace", "prod"}}},
       {"spec", {{"type", "ExternalName"}, {"externalName", "example.com"}}}},
      service("other", "elsewhere", "10.96.0.30", Json::array({{{"port", 80}}})),
  };
  auto vars = serviceEnv("prod", true, services);
  std::map<std::string, std::string> expected = {
      {"HTTP_GO_NP_SERVICE_HOST", "10.96.0.20"},
      {"HTTP_GO_NP_SERVICE_PORT", "80"},
      {"HTTP_GO_NP_SERVICE_PORT_METRICS", "9090"},
      {"HTTP_GO_NP_PORT", "tcp://10.96.0.20:80"},
      {"HTTP_GO_NP_PORT_80_TCP", "tcp://10.96.0.20:80"},
      {"HTTP_GO_NP_PORT_80_TCP_PROTO", "tcp"},
      {"HTTP_GO_NP_PORT_80_TCP_PORT", "80"},
      {"HTTP_GO_NP_PORT_80_TCP_ADDR", "10.96.0.20"},
      {"HTTP_GO_NP_PORT_9090_UDP", "udp://10.96.0.20:9090"},
      {"HTTP_GO_NP_PORT_9090_UDP_PROTO", "udp"},
      {"HTTP_GO_NP_PORT_9090_UDP_PORT", "9090"},
      {"HTTP_GO_NP_PORT_9090_UDP_ADDR", "10.96.0.20"},
      {"KUBERNETES_SERVICE_HOST", "10.96.0.1"},
      {"KUBERNETES_SERVICE_PORT", "443"},
      {"KUBERNETES_SERVICE_PORT_HTTPS", "443"},
      {"KUBERNETES_PORT", "tcp://10.96.0.1:443"},
      {"KUBERNETES_PORT_443_TCP", "tcp://10.96.0.1:443"},
      {"KUBERNETES_PORT_443_TCP_PROTO", "tcp"},
      {"KUBERNETES_PORT_443_TCP_PORT", "443"},
      {"KUBERNETES_PORT_443_TCP_ADDR", "10.96.0.1"},
  };
  CHECK(asMap(vars) == expected);
  // Sorted by name, one entry per name.
  CHECK(vars.size() == expected.size());
  CHECK(std::is_sorted(vars.begin(), vars.end()));
}

TEST_CASE("enableServiceLinks: false keeps only the kubernetes service", "[service_env]") {
  std::vector<Json> services = {
      service("default", "kubernetes", "10.96.0.1", Json::array({{{"port", 443}}})),
      service("prod", "db", "10.96.0.9", Json::array({{{"port", 5432}}}))};
  Json pod = {{"metadata", {{"name", "p"}, {"namespace", "prod"}}},
              {"spec", {{"enableServiceLinks", false}}}};
  auto vars = asMap(serviceEnvForPod(pod, services));
  CHECK(vars.count("KUBERNETES_SERVICE_HOST"));
  CHECK_FALSE(vars.count("DB_SERVICE_HOST"));
  pod["spec"].erase("enableServiceLinks");
  vars = asMap(serviceEnvForPod(pod, services));
  CHECK(vars["DB_SERVICE_HOST"] == "10.96.0.9");
  CHECK(vars["DB_PORT"] == "tcp://10.96.0.9:5432");
}

TEST_CASE("IPv6 cluster IPs are bracketed in the link URLs", "[service_env]") {
  auto vars = asMap(serviceEnv(
      "default", true, {service("default", "v6", "fd00::10", Json::array({{{"port", 80}}}))}));
  CHECK(vars["V6_PORT"] == "tcp://[fd00::10]:80");
  CHECK(vars["V6_PORT_80_TCP_ADDR"] == "fd00::10");
}
