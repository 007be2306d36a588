// The EndpointsController against a real apiserver (in-process, temp dir, free port).
#include "controllers/endpoints.h"

#include <unistd.h>
#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <thread>

#include "apiserver/server.h"
#include "client/kubeconfig.h"
#include "tests/test_apiserver.h"
#include "tests/test_util.h"

using namespace skiff;
using api::Json;

namespace {

const std::string kNs = "/api/v1/namespaces/default";

struct Cluster : skiff::testing::TestApiServer {
  Cluster() : TestApiServer("endpoints") {}

  // A bound pod labelled app=web with a container port named http.
  void addPod(const std::string& name, const std::string& ip, bool ready) {
    Json p = {{"apiVersion", "v1"},
              {"kind", "Pod"},
              {"metadata", {{"name", name}, {"labels", {{"app", "web"}}}}},
              {"spec",
               {{"nodeName", "node1"},
                {"containers",
                 Json::array(
                     {{{"name", "c"},
                       {"image", "busybox"},
                       {"ports", Json::array({{{"name", "http"}, {"containerPort", 8080}}})}}})}}}};
    REQUIRE(client->post(kNs + "/pods", p));
    setStatus(name, ip, ready);
  }

  void setStatus(const std::string& name, const std::string& ip, bool ready) {
    auto cur = client->get(kNs + "/pods/" + name);
    REQUIRE(cur);
    (*cur)["status"] = {
        {"phase", "Running"},
        {"podIP", ip},
        {"podIPs", Json::array({{{"ip", ip}}})},
        {"conditions", Json::array({{{"type", "Ready"}, {"status", ready ? "True" : "False"}}})}};
    REQUIRE(client->put(kNs + "/pods/" + name + "/status", *cur));
  }

  Json endpoints(const std::string& name) {
    auto r = client->get(kNs + "/endpoints/" + name);
    return r ? *r : Json();
  }
};

using skiff::testing::eventually;

// "ready:ip,ip notready:ip" over all subsets, for compact checks.
std::string summary(const Json& ep) {
  if (!ep.is_object()) return "<none>";
  std::vector<std::string> ready, notReady;
  for (const Json& s : ep.value("subsets", Json::array())) {
    for (const Json& a : s.value("addresses", Json::array())) ready.push_back(a["ip"]);
    for (const Json& a : s.value("notReadyAddresses", Json::array())) notReady.push_back(a["ip"]);
  }
  std::sort(ready.begin(), ready.end());
  std::sort(notReady.begin(), notReady.end());
  std::string out = "ready:";
  for (size_t i = 0; i < ready.size(); ++i) out += (i ? "," : "") + ready[i];
  out += " notready:";
  for (size_t i = 0; i < notReady.size(); ++i) out += (i ? "," : "") + notReady[i];
  return out;
}

// The controller's write count once it has not moved for 200 ms.
uint64_t settledWrites(const controllers::EndpointsController& ctl) {
  uint64_t w = ctl.writes();
  for (int i = 0; i < 100; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    uint64_t now = ctl.writes();
    if (now == w) break;
    w = now;
  }
  return w;
}

}  // namespace

TEST_CASE("endpoints follow pods: readiness, deletion, service deletion",
          "[controllers][endpoints]") {
  Cluster c;
  controllers::EndpointsController ctl(c.config, controllers::EndpointsControllerOptions{});
  REQUIRE(ctl.start());

  Json svc = {
      {"apiVersion", "v1"},
      {"kind", "Service"},
      {"metadata", {{"name", "web"}, {"labels", {{"tier", "fe"}}}}},
      {"spec",
       {{"selector", {{"app", "web"}}},
        {"ports", Json::array({{{"name", "http"}, {"port", 80}, {"targetPort", "http"}}})}}}};
  REQUIRE(c.client->post(kNs + "/services", svc));
  // An Endpoints with no subsets appears at once.
  REQUIRE(eventually([&] { return c.endpoints("web").is_object(); }));
  CHECK(c.endpoints("web")["metadata"]["labels"] == Json{{"tier", "fe"}});

  c.addPod("a", "10.244.0.5", true);
  c.addPod("b", "10.244.0.6", false);
  CHECK(eventually(
      [&] { return summary(c.endpoints("web")) == "ready:10.244.0.5 notready:10.244.0.6"; }));
  Json ep = c.endpoints("web");
  REQUIRE(ep["subsets"].size() == 1);
  CHECK(ep["subsets"][0]["ports"] ==
        Json::array({{{"name", "http"}, {"port", 8080}, {"protocol", "TCP"}}}));
  Json addr = ep["subsets"][0]["addresses"][0];
  CHECK(addr["nodeName"] == "node1");
  CHECK(addr["targetRef"]["kind"] == "Pod");
  CHECK(addr["targetRef"]["name"] == "a");
  CHECK(addr["targetRef"]["namespace"] == "default");
  CHECK(addr["targetRef"]["uid"] == c.client->get(kNs + "/pods/a").value()["metadata"]["uid"]);

  // Readiness flips.
  c.setStatus("b", "10.244.0.6", true);
  CHECK(eventually(
      [&] { return summary(c.endpoints("web")) == "ready:10.244.0.5,10.244.0.6 notready:"; }));

  // A pod being deleted (bound, graceful) leaves the Endpoints while it still exists.
  REQUIRE(c.client->del(kNs + "/pods/a", Json{{"gracePeriodSeconds", 30}}));
  REQUIRE(c.client->get(kNs + "/pods/a"));
  CHECK(eventually([&] { return summary(c.endpoints("web")) == "ready:10.244.0.6 notready:"; }));

  // No write when nothing changed: a label-only pod change that keeps it selected.
  // The controller counts a write when its response is back, which can be after
  // the test already sees the object: count from a settled figure.
  uint64_t writes = settledWrites(ctl);
  auto b = c.client->get(kNs + "/pods/b");
  REQUIRE(b);
  (*b)["metadata"]["labels"]["extra"] = "1";
  REQUIRE(c.client->put(kNs + "/pods/b", *b));
  // Then a change that does matter, to know the first one was processed.
  c.addPod("d", "10.244.0.8", false);
  CHECK(eventually(
      [&] { return summary(c.endpoints("web")) == "ready:10.244.0.6 notready:10.244.0.8"; }));
  CHECK(settledWrites(ctl) == writes + 1);

  // Deleting the Service deletes its Endpoints.
  REQUIRE(c.client->del(kNs + "/services/web"));
  CHECK(eventually([&] { return !c.endpoints("web").is_object(); }));
  ctl.stop();
}

TEST_CASE("services without a selector keep the user's Endpoints", "[controllers][endpoints]") {
  Cluster c;
  controllers::EndpointsController ctl(c.config, controllers::EndpointsControllerOptions{});
  REQUIRE(ctl.start());
  Json svc = {{"apiVersion", "v1"},
              {"kind", "Service"},
              {"metadata", {{"name", "external"}}},
              {"spec", {{"ports", Json::array({{{"port", 80}}})}}}};
  REQUIRE(c.client->post(kNs + "/services", svc));
  Json user = {{"apiVersion", "v1"},
               {"kind", "Endpoints"},
               {"metadata", {{"name", "external"}}},
               {"subsets", Json::array({{{"addresses", Json::array({{{"ip", "192.0.2.10"}}})},
                                         {"ports", Json::array({{{"port", 80}}})}}})}};
  REQUIRE(c.client->post(kNs + "/endpoints", user));
  // A managed Service created afterwards proves the controller has been running.
  Json managed = {
      {"apiVersion", "v1"},
      {"kind", "Service"},
      {"metadata", {{"name", "managed"}}},
      {"spec", {{"selector", {{"app", "x"}}}, {"ports", Json::array({{{"port", 80}}})}}}};
  REQUIRE(c.client->post(kNs + "/services", managed));
  REQUIRE(eventually([&] { return c.endpoints("managed").is_object(); }));
  CHECK(summary(c.endpoints("external")) == "ready:192.0.2.10 notready:");

  // Deleting the selector-less Service leaves the hand-written Endpoints alone.
  REQUIRE(c.client->del(kNs + "/services/external"));
  REQUIRE(c.client->del(kNs + "/services/managed"));
  REQUIRE(eventually([&] { return !c.endpoints("managed").is_object(); }));
  CHECK(summary(c.endpoints("external")) == "ready:192.0.2.10 notready:");
}

TEST_CASE("a restarted controller removes Endpoints of Services deleted meanwhile",
          "[controllers][endpoints]") {
  Cluster c;
  Json svc = {{"apiVersion", "v1"},
              {"kind", "Service"},
              {"metadata", {{"name", "web"}}},
              {"spec",
               {{"selector", {{"app", "web"}}},
                {"ports", Json::array({{{"port", 80}, {"targetPort", 8080}}})}}}};
  REQUIRE(c.client->post(kNs + "/services", svc));
  c.addPod("a", "10.244.0.5", true);
  {
    controllers::EndpointsController ctl(c.config);
    REQUIRE(ctl.start());
    REQUIRE(
        eventually([&] { return summary(c.endpoints("web")) == "ready:10.244.0.5 notready:"; }));
    ctl.stop();
  }
  REQUIRE(c.client->del(kNs + "/services/web"));
  CHECK(c.endpoints("web").is_object());  // nobody removed it while stopped
  controllers::EndpointsController again(c.config);
  REQUIRE(again.start());
  CHECK(eventually([&] { return !c.endpoints("web").is_object(); }));
}
