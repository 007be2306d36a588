#include "kubelet/termination.h"

#include <catch2/catch.hpp>

using namespace skiff::kubelet;
using skiff::api::Json;
using namespace std::chrono_literals;

namespace {

const TimePoint kT0 = std::chrono::system_clock::from_time_t(1800000000);

Json endpoints(const std::string& ns, const std::string& name, Json ready, Json notReady) {
  Json subset = {{"addresses", Json::array()}, {"ports", Json::array({{{"port", 80}}})}};
  for (const auto& ip : ready) subset["addresses"].push_back({{"ip", ip}});
  if (!notReady.empty()) {
    subset["notReadyAddresses"] = Json::array();
    for (const auto& ip : notReady) subset["notReadyAddresses"].push_back({{"ip", ip}});
  }
  return {{"metadata", {{"namespace", ns}, {"name", name}}}, {"subsets", Json::array({subset})}};
}

DrainInput running(long long grace, std::optional<size_t> listedIn) {
  DrainInput in;
  in.graceSeconds = grace;
  in.podIP = "10.244.0.7";
  in.anyRunning = true;
  in.listedIn = listedIn;
  in.since = kT0;
  in.now = kT0;
  return in;
}

}  // namespace

TEST_CASE("endpointsListingIP: ready addresses of the pod's namespace only", "[termination]") {
  std::vector<Json> eps = {
      endpoints("default", "web", Json::array({"10.244.0.7", "10.244.0.8"}), Json::array()),
      endpoints("default", "warming", Json::array(), Json::array({"10.244.0.7"})),
      endpoints("other", "web", Json::array({"10.244.0.7"}), Json::array()),
      {{"metadata", {{"namespace", "default"}, {"name", "empty"}}}},
  };
  CHECK(endpointsListingIP(eps, "default", "10.244.0.7") == std::vector<std::string>{"web"});
  CHECK(endpointsListingIP(eps, "other", "10.244.0.7") == std::vector<std::string>{"web"});
  CHECK(endpointsListingIP(eps, "default", "10.244.0.9").empty());
  CHECK(endpointsListingIP(eps, "default", "").empty());
}

TEST_CASE("drainDecision: hold while listed, up to 2 s and never past the grace period",
          "[termination]") {
  DrainInput in = running(30, 1);
  auto d = drainDecision(in);
  CHECK(d.hold);
  CHECK(d.nextLook == kT0 + 20ms);  // looks again soon
  CHECK(d.reason == "still in Endpoints");

  in.now = kT0 + 1990ms;
  d = drainDecision(in);
  CHECK(d.hold);
  CHECK(d.nextLook == kT0 + 2s);  // not past the deadline

  in.now = kT0 + 2s;
  d = drainDecision(in);
  CHECK_FALSE(d.hold);
  CHECK(d.reason == "still in Endpoints at the deadline");

  in = running(1, 1);  // a 1 s grace period bounds the wait
  in.now = kT0 + 999ms;
  CHECK(drainDecision(in).hold);
  in.now = kT0 + 1s;
  CHECK_FALSE(drainDecision(in).hold);
}

TEST_CASE("drainDecision: SIGTERM at once when out of the Endpoints", "[termination]") {
  auto d = drainDecision(running(30, 0));
  CHECK_FALSE(d.hold);
  CHECK(d.reason == "not in any Endpoints");
}

TEST_CASE("drainDecision: unknown Endpoints count as listed until the deadline", "[termination]") {
  DrainInput in = running(30, std::nullopt);
  auto d = drainDecision(in);
  CHECK(d.hold);
  CHECK(d.reason == "Endpoints not listed yet");
  in.now = kT0 + 2s;
  CHECK(drainDecision(in).reason == "Endpoints unknown at the deadline");
}

TEST_CASE("drainDecision: no wait for grace 0, host network, no IP, nothing running",
          "[termination]") {
  CHECK(drainDecision(running(0, 1)).reason == "grace period 0");
  DrainInput host = running(30, 1);
  host.hostNetwork = true;
  CHECK_FALSE(drainDecision(host).hold);
  DrainInput noIP = running(30, 1);
  noIP.podIP = "";
  CHECK_FALSE(drainDecision(noIP).hold);
  DrainInput stopped = running(30, 1);
  stopped.anyRunning = false;
  CHECK(drainDecision(stopped).reason == "no running container");
}
