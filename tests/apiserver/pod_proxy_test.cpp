// planPodProxy: which kubelet request a pods/log, pods/exec or pods/portforward
// call becomes,
// and Kubernetes' errors when it cannot.
#include "apiserver/pod_proxy.h"

#include <catch2/catch.hpp>

using namespace skiff;
using namespace skiff::apiserver;
using api::Json;

namespace {

Json pod(std::vector<std::string> containers, const std::string& nodeName = "n1") {
  Json cs = Json::array();
  for (auto& c : containers) cs.push_back({{"name", c}, {"image", "busybox"}});
  Json p = {{"metadata", {{"name", "web"}, {"namespace", "default"}, {"uid", "u-1"}}},
            {"spec", {{"containers", cs}}},
            {"status", {{"phase", "Running"}}}};
  if (!nodeName.empty()) p["spec"]["nodeName"] = nodeName;
  return p;
}

Json node(int port) {
  return {{"metadata", {{"name", "n1"}}},
          {"status",
           {{"addresses", Json::array({{{"type", "InternalIP"}, {"address", "10.0.0.5"}},
                                       {{"type", "Hostname"}, {"address", "127.0.0.2"}}})},
            {"daemonEndpoints", {{"kubeletEndpoint", {{"Port", port}}}}}}}};
}

Request get(std::multimap<std::string, std::string> query) {
  Request r;
  r.method = "GET";
  r.query = std::move(query);
  return r;
}

}  // namespace

TEST_CASE("pods/log becomes a kubelet containerLogs request", "[pod_proxy]") {
  Json n = node(10250);
  auto plan = planPodProxy(pod({"app"}), &n, "log",
                           get({{"follow", "true"}, {"tailLines", "5"}, {"pretty", "x"}}), "tok");
  REQUIRE(plan);
  CHECK(plan->host == "127.0.0.2");  // the node's loopback address, not its InternalIP
  CHECK(plan->port == 10250);
  CHECK(plan->head.rfind(
            "GET /containerLogs/default/web/u-1/app?follow=true&tailLines=5 HTTP/1.1\r\n", 0) == 0);
  CHECK(plan->head.find("Authorization: Bearer tok\r\n") != std::string::npos);
  CHECK(plan->head.find("Connection: close\r\n") != std::string::npos);
}

TEST_CASE("pods/exec becomes a WebSocket upgrade to the kubelet", "[pod_proxy]") {
  Json n = node(10250);
  n["status"].erase("addresses");
  Request r = get({{"command", "sh"},
                   {"command", "-c"},
                   {"command", "echo a b"},
                   {"stdout", "true"},
                   {"container", "app"}});
  r.headers = {{"upgrade", "websocket"},
               {"sec-websocket-key", "k"},
               {"sec-websocket-version", "13"},
               {"sec-websocket-protocol", "v5.channel.k8s.io"}};
  auto plan = planPodProxy(pod({"app", "side"}), &n, "exec", r, "tok");
  REQUIRE(plan);
  CHECK(plan->host == "127.0.0.1");
  CHECK(plan->head.rfind("GET /exec/default/web/u-1/app?command=sh&command=-c&command=echo%20a%20b"
                         "&stdin=false&stdout=true&stderr=false&tty=false HTTP/1.1\r\n",
                         0) == 0);
  CHECK(plan->head.find("sec-websocket-protocol: v5.channel.k8s.io\r\n") != std::string::npos);
  CHECK(plan->head.find("Upgrade: websocket\r\n") != std::string::npos);

  // SPDY: kubectl's fallback after a failed WebSocket upgrade. Its answer is
  // what kubectl prints, so it says why when the status shows it.
  r.headers["upgrade"] = "SPDY/3.1";
  Json running = pod({"app"});
  running["status"]["containerStatuses"] = Json::parse(
      R"([{"name": "app", "state": {"running": {"startedAt": "2026-01-01T00:00:00Z"}}}])");
  auto spdy = planPodProxy(running, &n, "exec", r, "tok");
  REQUIRE_FALSE(spdy);
  CHECK(spdy.error().code == Code::kBadRequest);
  CHECK(spdy.error().message.find("skiff does not speak SPDY") != std::string::npos);
  Json waiting = pod({"app"});
  waiting["status"]["containerStatuses"] =
      Json::parse(R"([{"name": "app", "state": {"waiting": {"reason": "ErrImageNeverPull"}}}])");
  auto notRunning = planPodProxy(waiting, &n, "exec", r, "tok");
  REQUIRE_FALSE(notRunning);
  CHECK(notRunning.error().code == Code::kBadRequest);
  CHECK(notRunning.error().message == "container not found (\"app\")");
}

TEST_CASE("pods/log and pods/exec errors read as Kubernetes'", "[pod_proxy]") {
  Json n = node(10250);
  auto two = planPodProxy(pod({"a", "b"}), &n, "log", get({}), "t");
  REQUIRE_FALSE(two);
  CHECK(two.error().code == Code::kBadRequest);
  CHECK(two.error().message ==
        "a container name must be specified for pod web, choose one of: [a b]");

  auto bad = planPodProxy(pod({"a"}), &n, "log", get({{"container", "x"}}), "t");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message == "container x is not valid for pod web");

  auto unscheduled = planPodProxy(pod({"a"}, ""), nullptr, "log", get({}), "t");
  REQUIRE_FALSE(unscheduled);
  CHECK(unscheduled.error().message == "pod web does not have a host assigned");

  Json done = pod({"a"});
  done["status"]["phase"] = "Succeeded";
  auto completed = planPodProxy(done, &n, "exec", get({{"command", "ls"}, {"stdout", "1"}}), "t");
  REQUIRE_FALSE(completed);
  CHECK(completed.error().message ==
        "cannot exec into a container in a completed pod; current phase is Succeeded");

  auto noCommand = planPodProxy(pod({"a"}), &n, "exec", get({{"stdout", "1"}}), "t");
  REQUIRE_FALSE(noCommand);
  CHECK(noCommand.error().message == "you must specify at least 1 command");

  auto noNode = planPodProxy(pod({"a"}), nullptr, "log", get({}), "t");
  REQUIRE_FALSE(noNode);
  CHECK(noNode.error().code == Code::kNotFound);

  Json silent = node(0);
  auto noPort = planPodProxy(pod({"a"}), &silent, "log", get({}), "t");
  REQUIRE_FALSE(noPort);
  CHECK(noPort.error().code == Code::kUnavailable);
  CHECK(noPort.error().message.find("status.daemonEndpoints.kubeletEndpoint.Port") !=
        std::string::npos);
}

TEST_CASE("pods/portforward becomes an upgrade to the kubelet's portForward", "[pod_proxy]") {
  Json n = node(10250);
  // Any number of containers: port-forward is to the pod's network.
  Request r = get({});
  r.headers = {{"upgrade", "websocket"},
               {"connection", "Upgrade"},
               {"sec-websocket-key", "k"},
               {"sec-websocket-version", "13"},
               {"sec-websocket-protocol", "SPDY/3.1+portforward.k8s.io"}};
  auto plan = planPodProxy(pod({"app", "side"}), &n, "portforward", r, "tok");
  REQUIRE(plan);
  CHECK(plan->host == "127.0.0.2");
  CHECK(plan->port == 10250);
  CHECK(plan->head.rfind("GET /portForward/default/web/u-1 HTTP/1.1\r\n", 0) == 0);
  CHECK(plan->head.find("Authorization: Bearer tok\r\n") != std::string::npos);
  CHECK(plan->head.find("Upgrade: websocket\r\n") != std::string::npos);
  CHECK(plan->head.find("sec-websocket-protocol: SPDY/3.1+portforward.k8s.io\r\n") !=
        std::string::npos);
  CHECK(plan->head.find("sec-websocket-key: k\r\n") != std::string::npos);

  // kubectl's fallback: a plain SPDY upgrade (a POST), passed on as one.
  Request spdy;
  spdy.method = "POST";
  spdy.headers = {{"upgrade", "SPDY/3.1"},
                  {"connection", "Upgrade"},
                  {"x-stream-protocol-version", "portforward.k8s.io"}};
  auto fallback = planPodProxy(pod({"app"}), &n, "portforward", spdy, "tok");
  REQUIRE(fallback);
  CHECK(fallback->head.rfind("GET /portForward/default/web/u-1 HTTP/1.1\r\n", 0) == 0);
  CHECK(fallback->head.find("Upgrade: SPDY/3.1\r\n") != std::string::npos);
  CHECK(fallback->head.find("X-Stream-Protocol-Version: portforward.k8s.io\r\n") !=
        std::string::npos);
  CHECK(fallback->head.find("websocket") == std::string::npos);

  // The Python client names its ports (PodPortForwardOptions.ports): the
  // kubelet gets them as one `port` parameter, as Kubernetes' streamParams.
  Request py = get({{"ports", "8080,9000"}, {"ports", "81"}});
  py.headers = {{"upgrade", "websocket"},
                {"connection", "Upgrade"},
                {"sec-websocket-key", "k"},
                {"sec-websocket-protocol", "v4.channel.k8s.io"}};
  auto channels = planPodProxy(pod({"app"}), &n, "portforward", py, "tok");
  REQUIRE(channels);
  CHECK(channels->head.rfind("GET /portForward/default/web/u-1?port=8080%2C9000%2C81 HTTP/1.1\r\n",
                             0) == 0);
  CHECK(channels->head.find("sec-websocket-protocol: v4.channel.k8s.io\r\n") != std::string::npos);
  for (const char* bad : {"0", "65536", "http", "80,", ""}) {
    Request b = get({{"ports", bad}});
    auto refused = planPodProxy(pod({"app"}), &n, "portforward", b, "tok");
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code == Code::kBadRequest);
    CHECK(refused.error().message.find("each port must be a number from 1 to 65535") !=
          std::string::npos);
  }
}

TEST_CASE("pods/portforward errors read as Kubernetes'", "[pod_proxy]") {
  Json n = node(10250);
  auto unscheduled = planPodProxy(pod({"a"}, ""), nullptr, "portforward", get({}), "t");
  REQUIRE_FALSE(unscheduled);
  CHECK(unscheduled.error().code == Code::kBadRequest);
  CHECK(unscheduled.error().message == "pod web does not have a host assigned");

  Request put = get({});
  put.method = "PUT";
  auto method = planPodProxy(pod({"a"}), &n, "portforward", put, "t");
  REQUIRE_FALSE(method);
  CHECK(method.error().code == Code::kMethodNotAllowed);

  auto noNode = planPodProxy(pod({"a"}), nullptr, "portforward", get({}), "t");
  REQUIRE_FALSE(noNode);
  CHECK(noNode.error().code == Code::kNotFound);
}
