// pods/proxy and services/proxy planning: where a request goes, what the pod
// receives, and Kubernetes' errors when it cannot go anywhere.
#include "apiserver/backend_proxy.h"

#include <catch2/catch.hpp>
#include <set>

using namespace skiff;
using namespace skiff::apiserver;
using api::Json;

namespace {

Json pod(const std::string& ip, Json ports = Json::array({{{"containerPort", 8080}}})) {
  Json c = {{"name", "app"}, {"image", "busybox"}};
  if (!ports.empty()) c["ports"] = ports;
  return {{"metadata", {{"name", "web"}, {"namespace", "default"}}},
          {"spec", {{"containers", Json::array({Json::object(), c})}}},
          {"status", {{"podIP", ip}, {"podIPs", Json::array({{{"ip", ip}}})}}}};
}

SchemeNamePort id(const std::string& s) {
  auto p = splitSchemeNamePort(s);
  REQUIRE(p);
  return *p;
}

Json service() {
  return {{"metadata", {{"name", "web"}, {"namespace", "default"}}},
          {"spec",
           {{"ports",
             Json::array({{{"name", "http"}, {"port", 80}}, {{"name", "alt"}, {"port", 81}}})}}}};
}

Json address(const std::string& ip, const std::string& podName, const std::string& ns = "default") {
  return {{"ip", ip}, {"targetRef", {{"kind", "Pod"}, {"namespace", ns}, {"name", podName}}}};
}

Json endpoints(Json addresses) {
  return {
      {"metadata", {{"name", "web"}, {"namespace", "default"}}},
      {"subsets", Json::array({{{"addresses", addresses},
                                {"ports", Json::array({{{"name", "http"}, {"port", 8080}},
                                                       {{"name", "alt"}, {"port", 9090}}})}}})}};
}

// Pods a, b and c exist with IPs 10.244.0.2, .3 and .4.
std::vector<std::string> podIPs(const std::string& name) {
  if (name == "a") return {"10.244.0.2"};
  if (name == "b") return {"10.244.0.3"};
  if (name == "c") return {"10.244.0.4"};
  return {};
}

}  // namespace

TEST_CASE("a proxy name splits as Kubernetes' SplitSchemeNamePort", "[backend_proxy]") {
  auto p = splitSchemeNamePort("web");
  REQUIRE(p);
  CHECK((p->scheme == "" && p->name == "web" && p->port == ""));
  p = splitSchemeNamePort("web:8080");
  REQUIRE(p);
  CHECK((p->name == "web" && p->port == "8080"));
  p = splitSchemeNamePort("http:web:alt");
  REQUIRE(p);
  CHECK((p->scheme == "http" && p->name == "web" && p->port == "alt"));
  CHECK_FALSE(splitSchemeNamePort("ftp:web:80"));
  CHECK_FALSE(splitSchemeNamePort(":80"));
  CHECK_FALSE(splitSchemeNamePort("a:b:c:d"));
}

TEST_CASE("pods/proxy goes to the pod's IP and port", "[backend_proxy]") {
  auto t = podProxyTarget(pod("10.244.0.7"), id("web:9090"));
  REQUIRE(t);
  CHECK((t->ip == "10.244.0.7" && t->port == 9090));
  // No port: the first container port the spec declares.
  t = podProxyTarget(pod("10.244.0.7"), id("web"));
  REQUIRE(t);
  CHECK(t->port == 8080);
  // No port anywhere: 80.
  t = podProxyTarget(pod("10.244.0.7", Json::array()), id("web"));
  REQUIRE(t);
  CHECK(t->port == 80);

  // No address yet, or one no proxy may dial: Kubernetes' 400.
  for (const char* ip : {"", "127.0.0.1", "0.0.0.0", "169.254.169.254", "224.0.0.1"}) {
    auto bad = podProxyTarget(pod(ip), id("web"));
    REQUIRE_FALSE(bad);
    CHECK(bad.error().code == Code::kBadRequest);
    CHECK(bad.error().message == "address not allowed");
  }
  auto named = podProxyTarget(pod("10.244.0.7"), id("web:http"));
  REQUIRE_FALSE(named);
  CHECK(named.error().code == Code::kBadRequest);
  CHECK(named.error().message.find("port http of pod web is not a number") != std::string::npos);
}

TEST_CASE("services/proxy picks a ready address of the named port", "[backend_proxy]") {
  Json svc = service();
  Json eps = endpoints(Json::array({address("10.244.0.2", "a"), address("10.244.0.3", "b")}));
  std::set<std::string> seen;
  for (uint64_t seed = 0; seed < 40; ++seed) {
    // Port 81 is the Service port named "alt": its endpoint port is 9090.
    auto t = serviceProxyTarget("web", &svc, &eps, id("web:81"), podIPs, seed);
    REQUIRE(t);
    CHECK(t->port == 9090);
    seen.insert(t->ip);
  }
  CHECK(seen == std::set<std::string>{"10.244.0.2", "10.244.0.3"});
  // A port name needs no Service.
  auto t = serviceProxyTarget("web", nullptr, &eps, id("http:web:http"), podIPs, 1);
  REQUIRE(t);
  CHECK(t->port == 8080);
}

TEST_CASE("services/proxy answers Kubernetes' errors", "[backend_proxy]") {
  Json svc = service();
  Json eps = endpoints(Json::array({address("10.244.0.2", "a")}));
  auto noPort = serviceProxyTarget("web", &svc, &eps, id("web:82"), podIPs, 0);
  REQUIRE_FALSE(noPort);
  CHECK(noPort.error().code == Code::kUnavailable);
  CHECK(noPort.error().message == "no service port 82 found for service \"web\"");

  auto noService = serviceProxyTarget("web", nullptr, &eps, id("web:80"), podIPs, 0);
  REQUIRE_FALSE(noService);
  CHECK(noService.error().code == Code::kNotFound);
  CHECK(noService.error().message == "services \"web\" not found");

  auto noEndpoints = serviceProxyTarget("web", &svc, nullptr, id("web:80"), podIPs, 0);
  REQUIRE_FALSE(noEndpoints);
  CHECK(noEndpoints.error().code == Code::kNotFound);
  CHECK(noEndpoints.error().message == "endpoints \"web\" not found");

  // The Service's ports are named, so an unnamed port matches none.
  auto unnamed = serviceProxyTarget("web", &svc, &eps, id("web"), podIPs, 0);
  REQUIRE_FALSE(unnamed);
  CHECK(unnamed.error().code == Code::kUnavailable);
  CHECK(unnamed.error().message == "no endpoints available for service \"web\"");

  Json empty = eps;
  empty.erase("subsets");
  CHECK_FALSE(serviceProxyTarget("web", &svc, &empty, id("web:80"), podIPs, 0));
}

TEST_CASE("services/proxy dials only addresses whose pod still has them", "[backend_proxy]") {
  Json svc = service();
  for (uint64_t seed = 0; seed < 20; ++seed) {
    Json eps = endpoints(Json::array({
        {{"ip", "198.51.100.7"}},             // hand-written: no pod
        address("10.244.0.9", "a"),           // pod a has another IP now
        address("10.244.0.4", "c", "other"),  // a pod of another namespace
        address("10.244.0.5", "gone"),        // no such pod
        address("10.244.0.3", "b"),           // the one good address
    }));
    auto t = serviceProxyTarget("web", &svc, &eps, id("web:80"), podIPs, seed);
    REQUIRE(t);
    CHECK(t->ip == "10.244.0.3");
  }
  Json handWritten = endpoints(Json::array({{{"ip", "198.51.100.7"}}}));
  auto none = serviceProxyTarget("web", &svc, &handWritten, id("web:80"), podIPs, 0);
  REQUIRE_FALSE(none);
  CHECK(none.error().message == "no endpoints available for service \"web\"");
}

TEST_CASE("the path after /proxy is passed on as the client wrote it", "[backend_proxy]") {
  auto r = rawProxyPath("/api/v1/namespaces/default/pods/web/proxy/a%2Fb/c/?x=1&y=%20");
  CHECK(r.path == "/a%2Fb/c/");
  CHECK(r.query == "x=1&y=%20");
  CHECK(rawProxyPath("/api/v1/namespaces/default/services/web:80/proxy").path == "/");
  CHECK(rawProxyPath("/api/v1/namespaces/default/services/web:80/proxy/").path == "/");
  CHECK(rawProxyPath("/api/v1/namespaces/default/services/web:80/proxy?z").query == "z");
}

TEST_CASE("the pod gets the request less hop-by-hop headers and credentials", "[backend_proxy]") {
  Request req;
  req.method = "POST";
  req.body = "payload";
  req.remoteAddr = "127.0.0.1:5555";
  req.headers = {{"authorization", "Bearer secret"},
                 {"impersonate-user", "someone"},
                 {"connection", "keep-alive"},
                 {"transfer-encoding", "chunked"},
                 {"host", "127.0.0.1:6443"},
                 {"content-type", "text/plain"},
                 {"x-test", "yes"}};
  std::string out = proxyRequest(req, {"/cgi-bin/echo", "a=1"}, {"10.244.0.3", 8080});
  CHECK(out.rfind("POST /cgi-bin/echo?a=1 HTTP/1.1\r\nHost: 10.244.0.3:8080\r\n", 0) == 0);
  CHECK(out.find("x-test: yes\r\n") != std::string::npos);
  CHECK(out.find("content-type: text/plain\r\n") != std::string::npos);
  CHECK(out.find("x-forwarded-for: 127.0.0.1\r\n") != std::string::npos);
  CHECK(out.find("Connection: close\r\n") != std::string::npos);
  CHECK(out.find("Content-Length: 7\r\n\r\npayload") != std::string::npos);
  CHECK(out.size() == out.find("\r\n\r\n") + 4 + 7);
  for (const char* gone : {"secret", "someone", "keep-alive", "chunked", "6443"})
    CHECK(out.find(gone) == std::string::npos);

  // An upgrade (a WebSocket to the pod) is passed on as one.
  Request ws;
  ws.method = "GET";
  ws.headers = {{"connection", "Upgrade"}, {"upgrade", "websocket"}, {"sec-websocket-key", "k"}};
  out = proxyRequest(ws, {"/ws", ""}, {"10.244.0.3", 8080});
  CHECK(out.rfind("GET /ws HTTP/1.1\r\n", 0) == 0);
  CHECK(out.find("Connection: Upgrade\r\nUpgrade: websocket\r\n") != std::string::npos);
  CHECK(out.find("sec-websocket-key: k\r\n") != std::string::npos);
  CHECK(out.find("Content-Length") == std::string::npos);
}
