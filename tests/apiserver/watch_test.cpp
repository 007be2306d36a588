// Watch streams through RestApi::handle().
#include <catch2/catch.hpp>

#include <thread>

#include "tests/apiserver/rest_test_util.h"

using namespace skiff::apiserver::testing;
using skiff::api::Json;

namespace {

std::vector<Json> events(const std::vector<std::string>& lines) {
  std::vector<Json> out;
  for (const auto& l : lines) out.push_back(Json::parse(l));
  return out;
}

std::string typesOf(const std::vector<Json>& evs) {
  std::string s;
  for (const auto& e : evs) s += e["type"].get<std::string>() + " ";
  return s;
}

}  // namespace

TEST_CASE("watch without resourceVersion: current state, then live events in order", "[watch]") {
  Cluster c;
  REQUIRE(c.post("/api/v1/namespaces/default/pods", pod("a")).status == 201);
  auto w = c.stream("/api/v1/namespaces/default/pods?watch=1");
  auto first = events(w->waitLines(1));
  REQUIRE(first.size() == 1);
  CHECK(first[0]["type"] == "ADDED");
  CHECK(first[0]["object"]["metadata"]["name"] == "a");
  REQUIRE(c.post("/api/v1/namespaces/default/pods", pod("b")).status == 201);
  REQUIRE(c.patch("/api/v1/namespaces/default/pods/a", "application/merge-patch+json",
                  {{"metadata", {{"labels", {{"x", "y"}}}}}})
              .status == 200);
  auto del = c.del("/api/v1/namespaces/default/pods/b");
  REQUIRE(del.status == 200);
  auto all = events(w->waitLines(4));
  REQUIRE(all.size() == 4);
  CHECK(typesOf(all) == "ADDED ADDED MODIFIED DELETED ");
  CHECK(all[1]["object"]["metadata"]["name"] == "b");
  CHECK(all[2]["object"]["metadata"]["labels"]["x"] == "y");
  CHECK(all[3]["object"]["metadata"]["name"] == "b");
  // resourceVersions strictly increase; the DELETED one is the deletion's revision.
  long long prev = 0;
  for (const auto& e : all) {
    long long rv = std::stoll(e["object"]["metadata"]["resourceVersion"].get<std::string>());
    CHECK(rv > prev);
    prev = rv;
  }
  CHECK(prev == c.store->currentRevision());
  // Events in other namespaces do not show up.
  Json ns = {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", "other"}}}};
  REQUIRE(c.post("/api/v1/namespaces", ns).status == 201);
  REQUIRE(c.post("/api/v1/namespaces/other/pods", pod("z", "other")).status == 201);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK(FakeWriter::splitLines(w->body()).size() == 4);
  w->disconnect();
}

TEST_CASE("watch from a resourceVersion replays what came after it", "[watch]") {
  Cluster c;
  auto a = c.post("/api/v1/namespaces/default/pods", pod("a"));
  std::string rv = a.json["metadata"]["resourceVersion"];
  REQUIRE(c.post("/api/v1/namespaces/default/pods", pod("b")).status == 201);
  auto w = c.stream("/api/v1/pods?watch=true&resourceVersion=" + rv);
  auto evs = events(w->waitLines(1));
  REQUIRE(evs.size() == 1);
  CHECK(evs[0]["type"] == "ADDED");
  CHECK(evs[0]["object"]["metadata"]["name"] == "b");
  w->disconnect();

  SECTION("legacy /watch/ path") {
    auto lw = c.stream("/api/v1/watch/namespaces/default/pods");
    CHECK(events(lw->waitLines(2)).size() == 2);
    lw->disconnect();
  }
}

TEST_CASE("watch from a compacted resourceVersion gets 410 Expired as an ERROR event", "[watch]") {
  Cluster c;
  for (int i = 0; i < 5; ++i)
    REQUIRE(c.post("/api/v1/namespaces/default/pods", pod("p" + std::to_string(i))).status == 201);
  REQUIRE(c.store->compact(c.store->currentRevision() - 1).ok());
  auto w = c.stream("/api/v1/namespaces/default/pods?watch=1&resourceVersion=2");
  auto evs = events(w->waitLines(1));
  REQUIRE(evs.size() == 1);
  CHECK(evs[0]["type"] == "ERROR");
  CHECK(evs[0]["object"]["kind"] == "Status");
  CHECK(evs[0]["object"]["code"] == 410);
  CHECK(evs[0]["object"]["reason"] == "Expired");
  CHECK(evs[0]["object"]["message"].get<std::string>().rfind("too old resource version: 2", 0) ==
        0);
  CHECK(w->waitEnded(std::chrono::seconds(2)));
}

TEST_CASE("watch with a label selector reports transitions", "[watch]") {
  Cluster c;
  REQUIRE(c.post("/api/v1/namespaces/default/pods", pod("a", "default", {{"app", "web"}})).status ==
          201);
  REQUIRE(c.post("/api/v1/namespaces/default/pods", pod("b", "default", {{"app", "db"}})).status ==
          201);
  auto w = c.stream("/api/v1/namespaces/default/pods?watch=1&labelSelector=app%3Dweb");
  auto evs = events(w->waitLines(1));
  REQUIRE(evs.size() == 1);
  CHECK(evs[0]["object"]["metadata"]["name"] == "a");
  auto relabel = [&](const std::string& name, const std::string& app) {
    REQUIRE(c.patch("/api/v1/namespaces/default/pods/" + name, "application/merge-patch+json",
                    {{"metadata", {{"labels", {{"app", app}}}}}})
                .status == 200);
  };
  relabel("b", "web");  // enters: ADDED
  relabel("a", "db");   // leaves: DELETED
  relabel("a", "db2");  // still out: nothing
  relabel("b", "web");  // no-op update: no event at all
  REQUIRE(c.patch("/api/v1/namespaces/default/pods/b", "application/merge-patch+json",
                  {{"metadata", {{"annotations", {{"k", "v"}}}}}})
              .status == 200);  // stays in: MODIFIED
  evs = events(w->waitLines(4));
  REQUIRE(evs.size() == 4);
  CHECK(typesOf(evs) == "ADDED ADDED DELETED MODIFIED ");
  CHECK(evs[1]["object"]["metadata"]["name"] == "b");
  CHECK(evs[2]["object"]["metadata"]["name"] == "a");
  w->disconnect();
}

TEST_CASE("Table watches carry column definitions only in the first event", "[watch]") {
  Cluster c;
  REQUIRE(c.post("/api/v1/namespaces/default/pods", pod("a")).status == 201);
  auto w = c.stream("/api/v1/namespaces/default/pods?watch=1",
                    {{"accept", "application/json;as=Table;v=v1;g=meta.k8s.io"}});
  REQUIRE(c.post("/api/v1/namespaces/default/pods", pod("b")).status == 201);
  auto evs = events(w->waitLines(2));
  REQUIRE(evs.size() == 2);
  CHECK(evs[0]["object"]["kind"] == "Table");
  CHECK(evs[0]["object"]["columnDefinitions"].size() > 0);
  CHECK(evs[0]["object"]["rows"].size() == 1);
  CHECK_FALSE(evs[1]["object"].contains("columnDefinitions"));
  CHECK(evs[1]["object"]["rows"].size() == 1);
  w->disconnect();
}

TEST_CASE("watch timeoutSeconds ends the stream", "[watch]") {
  Cluster c;
  auto w = c.stream("/api/v1/namespaces/default/pods?watch=1&timeoutSeconds=1");
  CHECK(w->waitEnded(std::chrono::seconds(3)));
}

TEST_CASE("a slow or gone watcher is dropped without blocking writers", "[watch]") {
  Cluster c;
  auto w = c.stream("/api/v1/namespaces/default/pods?watch=1");
  w->refuseWrites();
  for (int i = 0; i < 20; ++i)
    REQUIRE(c.post("/api/v1/namespaces/default/pods", pod("p" + std::to_string(i))).status == 201);
  auto healthy = c.stream("/api/v1/namespaces/default/pods?watch=1");
  CHECK(events(healthy->waitLines(20)).size() == 20);
  healthy->disconnect();
}

TEST_CASE("bookmarks and the initial-events-end marker", "[watch]") {
  Cluster c;
  REQUIRE(c.post("/api/v1/namespaces/default/pods", pod("a")).status == 201);
  auto w = c.stream(
      "/api/v1/namespaces/default/pods?watch=1&allowWatchBookmarks=true&sendInitialEvents=true"
      "&resourceVersionMatch=NotOlderThan");
  auto evs = events(w->waitLines(2));
  REQUIRE(evs.size() == 2);
  CHECK(evs[0]["type"] == "ADDED");
  CHECK(evs[1]["type"] == "BOOKMARK");
  CHECK(evs[1]["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"] == "true");
  CHECK(evs[1]["object"]["kind"] == "Pod");
  w->disconnect();
}

TEST_CASE("a watch of endpointslices follows the endpoints they show", "[watch]") {
  Cluster c;
  auto endpoints = [](const std::string& name, const std::string& subsets) {
    return Json::parse(R"({"apiVersion":"v1","kind":"Endpoints","metadata":{"name":")" + name +
                       R"("},"subsets":)" + subsets + "}");
  };
  const std::string one = R"([{"addresses":[{"ip":"10.244.0.5"}],"ports":[{"port":80}]}])";
  const std::string two = R"([{"addresses":[{"ip":"10.244.0.5"}],"ports":[{"port":80}]},
                              {"addresses":[{"ip":"10.244.0.6"}],"ports":[{"port":81}]}])";
  REQUIRE(c.post("/api/v1/namespaces/default/endpoints", endpoints("web", one)).status == 201);
  REQUIRE(c.post("/api/v1/namespaces/default/endpoints", endpoints("db", one)).status == 201);

  // kubectl's and client-go's query: one Service's slices.
  auto w = c.stream(
      "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices?watch=1"
      "&labelSelector=kubernetes.io%2Fservice-name%3Dweb");
  auto first = events(w->waitLines(1));
  REQUIRE(first.size() == 1);
  CHECK(first[0]["type"] == "ADDED");
  CHECK(first[0]["object"]["kind"] == "EndpointSlice");
  const Json slice = first[0]["object"];

  // A second subset adds a slice and modifies the first; losing it deletes
  // that slice; deleting the endpoints deletes the rest. The other Service's
  // changes stay out.
  auto put = [&](const std::string& name, const std::string& subsets) {
    Json ep = endpoints(name, subsets);
    ep["metadata"]["resourceVersion"] =
        c.get("/api/v1/namespaces/default/endpoints/" + name).json["metadata"]["resourceVersion"];
    REQUIRE(c.put("/api/v1/namespaces/default/endpoints/" + name, ep).status == 200);
  };
  put("web", two);
  put("db", two);
  put("web", one);
  REQUIRE(c.del("/api/v1/namespaces/default/endpoints/web").status == 200);
  auto all = events(w->waitLines(6));
  REQUIRE(all.size() == 6);
  CHECK(typesOf(all) == "ADDED MODIFIED ADDED MODIFIED DELETED DELETED ");
  CHECK(all[1]["object"]["metadata"]["name"] == slice["metadata"]["name"]);
  const Json added = all[2]["object"];
  CHECK(added["metadata"]["name"] != slice["metadata"]["name"]);
  CHECK(added["endpoints"][0]["addresses"][0] == "10.244.0.6");
  CHECK(all[4]["object"]["metadata"]["name"] == added["metadata"]["name"]);
  CHECK(all[5]["object"]["metadata"]["name"] == slice["metadata"]["name"]);
  CHECK(all[5]["object"]["metadata"]["resourceVersion"] ==
        std::to_string(c.store->currentRevision()));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK(FakeWriter::splitLines(w->body()).size() == 6);

  // From a resourceVersion: only what changes after it.
  const std::string rv = std::to_string(c.store->currentRevision());
  auto later = c.stream(
      "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices?watch=1"
      "&resourceVersion=" +
      rv);
  put("db", one);
  auto lines = events(later->waitLines(2));
  REQUIRE(lines.size() == 2);
  CHECK(typesOf(lines) == "MODIFIED DELETED ");
}
