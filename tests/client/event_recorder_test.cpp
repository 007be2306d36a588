// EventRecorder against a real apiserver (in-process, temp dir, free port).
#include "client/event_recorder.h"

#include <catch2/catch.hpp>

#include "apiserver/server.h"
#include "client/rest_client.h"
#include "tests/test_apiserver.h"

using namespace skiff;
using api::Json;

namespace {

std::vector<Json> eventsIn(client::RestClient& c, const std::string& ns) {
  auto list = c.get("/api/v1/namespaces/" + ns + "/events");
  REQUIRE(list);
  return (*list)["items"].get<std::vector<Json>>();
}

}  // namespace

TEST_CASE("events are written about their object, and repeats counted on the first",
          "[client][events]") {
  skiff::testing::TestApiServer c("events");
  Json pod = {{"apiVersion", "v1"},
              {"kind", "Pod"},
              {"metadata", {{"name", "web"}, {"namespace", "default"}}},
              {"spec", {{"containers", {{{"name", "main"}, {"image", "busybox"}}}}}}};
  auto created = c.client->post("/api/v1/namespaces/default/pods", pod);
  REQUIRE(created);

  client::EventRecorder recorder(c.config, "kubelet", "node-1");
  recorder.record(*created, "Warning", "ErrImageNeverPull", "image \"busybox\" is not present");
  recorder.record(*created, "Normal", "Started", "Started container main");
  recorder.record(*created, "Warning", "ErrImageNeverPull", "image \"busybox\" is not present");
  recorder.record(*created, "Warning", "ErrImageNeverPull", "image \"busybox\" is not present");
  recorder.flush();

  auto events = eventsIn(*c.client, "default");
  REQUIRE(events.size() == 2);
  const Json* failed = nullptr;
  for (const Json& e : events)
    if (e["reason"] == "ErrImageNeverPull") failed = &e;
  REQUIRE(failed);
  const Json& e = *failed;
  CHECK(e["type"] == "Warning");
  CHECK(e["message"] == "image \"busybox\" is not present");
  CHECK(e["count"] == 3);
  CHECK(e["firstTimestamp"].is_string());
  CHECK(e["lastTimestamp"] >= e["firstTimestamp"]);
  CHECK(e["involvedObject"]["kind"] == "Pod");
  CHECK(e["involvedObject"]["name"] == "web");
  CHECK(e["involvedObject"]["namespace"] == "default");
  CHECK(e["involvedObject"]["uid"] == (*created)["metadata"]["uid"]);
  CHECK(e["source"] == Json{{"component", "kubelet"}, {"host", "node-1"}});
  CHECK(e["reportingComponent"] == "kubelet");
  CHECK(e["metadata"]["name"].get<std::string>().rfind("web.", 0) == 0);

  // As kubectl describe finds them: by the involved object's fields.
  auto found = c.client->get(
      "/api/v1/namespaces/default/events?fieldSelector=involvedObject.name%3Dweb,"
      "involvedObject.kind%3DPod");
  REQUIRE(found);
  CHECK((*found)["items"].size() == 2);

  // The first event deleted meanwhile: a repeat writes a new one.
  REQUIRE(c.client->del("/api/v1/namespaces/default/events/" +
                        e["metadata"]["name"].get<std::string>()));
  recorder.record(*created, "Warning", "ErrImageNeverPull", "image \"busybox\" is not present");
  recorder.flush();
  int count = 0;
  for (const Json& ev : eventsIn(*c.client, "default"))
    if (ev["reason"] == "ErrImageNeverPull") {
      ++count;
      CHECK(ev["count"] == 1);
    }
  CHECK(count == 1);
}
