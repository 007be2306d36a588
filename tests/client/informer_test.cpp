#include "client/informer.h"

#include <unistd.h>
#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <mutex>
#include <thread>

#include "apiserver/server.h"
#include "client/kubeconfig.h"
#include "tests/test_apiserver.h"

using namespace skiff;
using namespace skiff::client;
using api::Json;

namespace {

using Cluster = skiff::testing::TestApiServer;

// Endpoints are the simplest object skiff serves; a label carries the value.
Json object(const std::string& name, const std::string& value) {
  return Json{{"apiVersion", "v1"},
              {"kind", "Endpoints"},
              {"metadata", {{"name", name}, {"labels", {{"v", value}}}}}};
}

// Waits until pred() holds (checked every 10 ms), for at most 10 s.
bool eventually(const std::function<bool()>& pred) {
  for (int i = 0; i < 1000; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return pred();
}

struct Recorder {
  std::mutex mu;
  std::vector<std::string> events;
  InformerHandlers handlers() {
    return InformerHandlers{
        [this](const Json& o) { add("add " + Informer::keyOf(o)); },
        [this](const Json&, const Json& n) {
          add("update " + Informer::keyOf(n) + " " + n["metadata"]["labels"].value("v", ""));
        },
        [this](const Json& o) { add("delete " + Informer::keyOf(o)); }};
  }
  void add(std::string e) {
    std::lock_guard<std::mutex> lock(mu);
    events.push_back(std::move(e));
  }
  bool has(const std::string& e) {
    std::lock_guard<std::mutex> lock(mu);
    return std::find(events.begin(), events.end(), e) != events.end();
  }
};

}  // namespace

TEST_CASE("informer lists, then follows adds, updates and deletes", "[client][informer]") {
  Cluster c;
  const std::string path = "/api/v1/namespaces/default/endpoints";
  REQUIRE(c.client->post(path, object("before", "1")));

  Informer inf(*c.client, path);
  Recorder rec;
  inf.addHandlers(rec.handlers());
  inf.start();
  REQUIRE(inf.waitForSync(std::chrono::seconds(10)));
  CHECK(rec.has("add default/before"));
  auto got = inf.get("default/before");
  REQUIRE(got);
  CHECK((*got)["kind"] == "Endpoints");  // list items carry their kind

  REQUIRE(c.client->post(path, object("after", "1")));
  CHECK(eventually([&] { return rec.has("add default/after"); }));
  auto cur = c.client->get(path + "/after");
  REQUIRE(cur);
  (*cur)["metadata"]["labels"]["v"] = "2";
  REQUIRE(c.client->put(path + "/after", *cur));
  CHECK(eventually([&] { return rec.has("update default/after 2"); }));
  CHECK(inf.get("default/after").value()["metadata"]["labels"]["v"] == "2");

  REQUIRE(c.client->del(path + "/before"));
  CHECK(eventually([&] { return rec.has("delete default/before"); }));
  CHECK_FALSE(inf.get("default/before"));
  CHECK(inf.list().size() == 1);
  inf.stop();
}

TEST_CASE("informer with a field selector sees only matching objects", "[client][informer]") {
  Cluster c;
  REQUIRE(c.client->post("/api/v1/namespaces", Json{{"metadata", {{"name", "other"}}}}));
  Informer inf(*c.client, "/api/v1/endpoints", "fieldSelector=metadata.namespace%3Dother");
  inf.start();
  REQUIRE(inf.waitForSync(std::chrono::seconds(10)));
  REQUIRE(c.client->post("/api/v1/namespaces/default/endpoints", object("a", "1")));
  REQUIRE(c.client->post("/api/v1/namespaces/other/endpoints", object("b", "1")));
  CHECK(eventually([&] { return inf.get("other/b").has_value(); }));
  CHECK_FALSE(inf.get("default/a"));
}

TEST_CASE("informer stops promptly on an idle watch", "[client][informer]") {
  Cluster c;
  Informer inf(*c.client, "/api/v1/namespaces/default/endpoints");
  inf.start();
  REQUIRE(inf.waitForSync(std::chrono::seconds(10)));
  auto t0 = std::chrono::steady_clock::now();
  inf.stop();
  // Not a timing assertion on speed: a stop that waited for the server's
  // 300 s watch timeout would hang the test; this bounds it loosely.
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(30));
}

TEST_CASE("informer relists after the server restarts and delivers what changed meanwhile",
          "[client][informer]") {
  Cluster c;
  const std::string path = "/api/v1/namespaces/default/endpoints";
  REQUIRE(c.client->post(path, object("x", "1")));
  // A client of its own: c.client is replaced by the restart.
  RestClient reader(c.config);
  Informer inf(reader, path);
  Recorder rec;
  inf.addHandlers(rec.handlers());
  inf.start();
  REQUIRE(inf.waitForSync(std::chrono::seconds(10)));
  // Restart the server on the same port and data dir; change things while
  // the informer's watch is broken.
  c.restart();
  REQUIRE(c.client->del(path + "/x"));
  REQUIRE(c.client->post(path, object("y", "1")));
  CHECK(eventually([&] { return rec.has("delete default/x") && rec.has("add default/y"); }));
  inf.stop();
}
