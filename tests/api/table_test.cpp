#include <catch2/catch.hpp>

#include "api/table.h"

using skiff::api::humanDuration;
using skiff::api::Json;
using skiff::api::tableColumns;
using skiff::api::TableOptions;
using skiff::api::TableWriter;
using skiff::api::toTable;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

namespace {

// 2024-01-10T12:00:00Z
const auto kNow = std::chrono::system_clock::from_time_t(1704888000);

TableOptions opts() {
  TableOptions o;
  o.now = kNow;
  return o;
}

std::vector<std::string> columnNames(const std::string& resource) {
  std::vector<std::string> names;
  for (auto& c : tableColumns(resource)) names.push_back(c["name"].get<std::string>());
  return names;
}

std::vector<int> priorities(const std::string& resource) {
  std::vector<int> p;
  for (auto& c : tableColumns(resource)) p.push_back(c["priority"].get<int>());
  return p;
}

Json cells(const std::string& resource, const Json& obj) {
  Json t = toTable(resource, {obj}, Json::object(), opts());
  return t["rows"][0]["cells"];
}

Json pod(const std::string& statusJson,
         const std::string& specJson = R"({"containers":[{"name":"c"}]})",
         const std::string& extraMeta = "") {
  return Json::parse(R"({"metadata":{"name":"web","namespace":"default",)" + extraMeta +
                     R"("creationTimestamp":"2024-01-10T11:55:00Z"},"spec":)" + specJson +
                     R"(,"status":)" + statusJson + "}");
}

}  // namespace

TEST_CASE("humanDuration matches k8s duration.HumanDuration") {
  CHECK(humanDuration(seconds(-5)) == "<invalid>");
  CHECK(humanDuration(seconds(-1)) == "0s");
  CHECK(humanDuration(seconds(0)) == "0s");
  CHECK(humanDuration(seconds(45)) == "45s");
  CHECK(humanDuration(seconds(119)) == "119s");
  CHECK(humanDuration(seconds(120)) == "2m");
  CHECK(humanDuration(seconds(125)) == "2m5s");
  CHECK(humanDuration(minutes(10)) == "10m");
  CHECK(humanDuration(minutes(179)) == "179m");
  CHECK(humanDuration(hours(3)) == "3h");
  CHECK(humanDuration(hours(3) + minutes(20)) == "3h20m");
  CHECK(humanDuration(hours(8) + minutes(20)) == "8h");
  CHECK(humanDuration(hours(47)) == "47h");
  CHECK(humanDuration(hours(48)) == "2d");
  CHECK(humanDuration(hours(24 * 4 + 3)) == "4d3h");
  CHECK(humanDuration(hours(24 * 8 + 3)) == "8d");
  CHECK(humanDuration(hours(24 * 400)) == "400d");
  CHECK(humanDuration(hours(24 * 365 * 2)) == "2y");
  CHECK(humanDuration(hours(24 * (365 * 3 + 10))) == "3y10d");
  CHECK(humanDuration(hours(24 * 365 * 9)) == "9y");
}

TEST_CASE("table: Table envelope, PartialObjectMetadata rows and includeObject") {
  Json obj = Json::parse(
      R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"dev","resourceVersion":"7",
          "creationTimestamp":"2024-01-10T11:00:00Z"},"status":{"phase":"Active"}})");
  Json t = toTable("namespaces", {obj}, Json{{"resourceVersion", "42"}}, opts());
  CHECK(t["kind"] == "Table");
  CHECK(t["apiVersion"] == "meta.k8s.io/v1");
  CHECK(t["metadata"]["resourceVersion"] == "42");
  CHECK(t["columnDefinitions"][0] ==
        Json({{"name", "Name"},
              {"type", "string"},
              {"format", "name"},
              {"description", t["columnDefinitions"][0]["description"]},
              {"priority", 0}}));
  CHECK(t["columnDefinitions"][0]["description"].get<std::string>().rfind("Name must be unique",
                                                                          0) == 0);
  CHECK(t["rows"][0]["cells"] == Json({"dev", "Active", "60m"}));
  CHECK(t["rows"][0]["object"] == Json({{"kind", "PartialObjectMetadata"},
                                        {"apiVersion", "meta.k8s.io/v1"},
                                        {"metadata", obj["metadata"]}}));
  TableOptions o = opts();
  o.includeObject = "Object";
  CHECK(toTable("namespaces", {obj}, Json::object(), o)["rows"][0]["object"] == obj);
  o.includeObject = "None";
  CHECK(toTable("namespaces", {obj}, Json::object(), o)["rows"][0]["object"].is_null());
  CHECK(toTable("namespaces", {}, Json::object(), opts())["rows"] == Json::array());
}

TEST_CASE("table: TableWriter writes the same Table as toTable, row by row") {
  Json ns = Json::parse(
      R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"dev","resourceVersion":"7",
          "creationTimestamp":"2024-01-10T11:00:00Z"},"status":{"phase":"Active"}})");
  Json other = ns;
  other["metadata"]["name"] = "prod";
  Json md = {{"resourceVersion", "42"}, {"continue", "abc"}};
  for (const char* include : {"Metadata", "Object", "None"}) {
    TableOptions o = opts();
    o.includeObject = include;
    TableWriter w("namespaces", o);
    w.add(Json(ns));
    w.add(Json(other));
    CHECK(Json::parse(w.finish(md)) == toTable("namespaces", {ns, other}, md, o));
  }
  TableWriter empty("namespaces", opts());
  CHECK(Json::parse(empty.finish(md)) == toTable("namespaces", {}, md, opts()));
}

TEST_CASE("table: pod columns") {
  CHECK(columnNames("pods") == std::vector<std::string>{"Name", "Ready", "Status", "Restarts",
                                                        "Age", "IP", "Node", "Nominated Node",
                                                        "Readiness Gates"});
  CHECK(priorities("pods") == std::vector<int>{0, 0, 0, 0, 0, 1, 1, 1, 1});
  for (auto& c : tableColumns("pods")) CHECK(c["type"] == "string");
}

TEST_CASE("table: pod running, ready, with ip and node") {
  Json p = pod(R"({"phase":"Running","podIP":"10.244.0.5","podIPs":[{"ip":"10.244.0.5"}],
                   "containerStatuses":[{"name":"c","ready":true,"restartCount":0,
                                         "state":{"running":{"startedAt":"2024-01-10T11:55:01Z"}}}]})",
               R"({"nodeName":"node1","containers":[{"name":"c"}]})");
  CHECK(cells("pods", p) ==
        Json({"web", "1/1", "Running", "0", "5m", "10.244.0.5", "node1", "<none>", "<none>"}));
}

TEST_CASE("table: pod pending without status") {
  Json p = pod(R"({"phase":"Pending"})", R"({"containers":[{"name":"a"},{"name":"b"}]})");
  CHECK(cells("pods", p) ==
        Json({"web", "0/2", "Pending", "0", "5m", "<none>", "<none>", "<none>", "<none>"}));
}

TEST_CASE("table: pod restarts carry the last restart age") {
  Json p = pod(R"({"phase":"Running","containerStatuses":[
      {"name":"c","ready":false,"restartCount":4,
       "state":{"waiting":{"reason":"CrashLoopBackOff"}},
       "lastState":{"terminated":{"exitCode":1,"finishedAt":"2024-01-10T11:58:00Z"}}}]})");
  Json c = cells("pods", p);
  CHECK(c[1] == "0/1");
  CHECK(c[2] == "CrashLoopBackOff");
  CHECK(c[3] == "4 (2m ago)");
}

TEST_CASE("table: pod waiting reason ErrImageNeverPull") {
  Json p = pod(R"({"phase":"Pending","containerStatuses":[
      {"name":"c","ready":false,"restartCount":0,"state":{"waiting":{"reason":"ErrImageNeverPull"}}}]})");
  CHECK(cells("pods", p)[2] == "ErrImageNeverPull");
}

TEST_CASE("table: pod init containers") {
  std::string spec =
      R"({"initContainers":[{"name":"i1"},{"name":"i2"}],"containers":[{"name":"c"}]})";
  Json running = pod(R"({"phase":"Pending","initContainerStatuses":[
      {"name":"i1","ready":false,"restartCount":0,"state":{"running":{}}},
      {"name":"i2","ready":false,"restartCount":0,"state":{"waiting":{"reason":"PodInitializing"}}}]})",
                     spec);
  CHECK(cells("pods", running)[2] == "Init:0/2");
  Json second = pod(R"({"phase":"Pending","initContainerStatuses":[
      {"name":"i1","ready":false,"restartCount":0,"state":{"terminated":{"exitCode":0,"reason":"Completed"}}},
      {"name":"i2","ready":false,"restartCount":0,"state":{"running":{}}}]})",
                    spec);
  CHECK(cells("pods", second)[2] == "Init:1/2");
  Json crash = pod(R"({"phase":"Pending","initContainerStatuses":[
      {"name":"i1","ready":false,"restartCount":3,"state":{"waiting":{"reason":"CrashLoopBackOff"}}}]})",
                   spec);
  CHECK(cells("pods", crash)[2] == "Init:CrashLoopBackOff");
  CHECK(cells("pods", crash)[3] == "3");
  Json failed = pod(R"({"phase":"Failed","initContainerStatuses":[
      {"name":"i1","ready":false,"restartCount":0,"state":{"terminated":{"exitCode":2}}}]})",
                    spec);
  CHECK(cells("pods", failed)[2] == "Init:ExitCode:2");
  Json signal = pod(R"({"phase":"Failed","initContainerStatuses":[
      {"name":"i1","ready":false,"restartCount":0,"state":{"terminated":{"exitCode":137,"signal":9}}}]})",
                    spec);
  CHECK(cells("pods", signal)[2] == "Init:Signal:9");
}

TEST_CASE("table: pod completed, error, terminating and node lost") {
  Json done = pod(R"({"phase":"Succeeded","containerStatuses":[
      {"name":"c","ready":false,"restartCount":0,"state":{"terminated":{"exitCode":0,"reason":"Completed"}}}]})");
  Json t = toTable("pods", {done}, Json::object(), opts());
  CHECK(t["rows"][0]["cells"][2] == "Completed");
  CHECK(t["rows"][0]["conditions"] == Json::parse(R"([{"type":"Completed","status":"True",
      "reason":"Succeeded","message":"The pod has completed successfully."}])"));
  Json err = pod(R"({"phase":"Failed","containerStatuses":[
      {"name":"c","ready":false,"restartCount":0,"state":{"terminated":{"exitCode":1,"reason":"Error"}}}]})");
  CHECK(cells("pods", err)[2] == "Error");
  Json noReason = pod(R"({"phase":"Failed","containerStatuses":[
      {"name":"c","ready":false,"restartCount":0,"state":{"terminated":{"exitCode":3}}}]})");
  CHECK(cells("pods", noReason)[2] == "ExitCode:3");
  Json deleting =
      pod(R"({"phase":"Running","containerStatuses":[
      {"name":"c","ready":true,"restartCount":0,"state":{"running":{}}}]})",
          R"({"containers":[{"name":"c"}]})", R"("deletionTimestamp":"2024-01-10T11:59:00Z",)");
  CHECK(cells("pods", deleting)[2] == "Terminating");
  Json lost = pod(R"({"phase":"Running","reason":"NodeLost"})", R"({"containers":[{"name":"c"}]})",
                  R"("deletionTimestamp":"2024-01-10T11:59:00Z",)");
  CHECK(cells("pods", lost)[2] == "Unknown");
  Json evicted = pod(R"({"phase":"Failed","reason":"Evicted"})");
  CHECK(cells("pods", evicted)[2] == "Evicted");
}

TEST_CASE("table: pod with a completed sidecar-less container and one running shows Running") {
  Json p = pod(
      R"({"phase":"Running","conditions":[{"type":"Ready","status":"True"}],"containerStatuses":[
      {"name":"a","ready":false,"restartCount":0,"state":{"terminated":{"exitCode":0,"reason":"Completed"}}},
      {"name":"b","ready":true,"restartCount":0,"state":{"running":{}}}]})",
      R"({"containers":[{"name":"a"},{"name":"b"}]})");
  CHECK(cells("pods", p)[1] == "1/2");
  CHECK(cells("pods", p)[2] == "Running");
}

TEST_CASE("table: pod readiness gates") {
  Json p = pod(R"({"phase":"Running","conditions":[{"type":"example.com/lb","status":"True"}]})",
               R"({"containers":[{"name":"c"}],"readinessGates":[{"conditionType":"example.com/lb"},
                   {"conditionType":"example.com/other"}]})");
  CHECK(cells("pods", p)[8] == "1/2");
}

TEST_CASE("table: services") {
  CHECK(columnNames("services") == std::vector<std::string>{"Name", "Type", "Cluster-IP",
                                                            "External-IP", "Port(s)", "Age",
                                                            "Selector"});
  CHECK(priorities("services") == std::vector<int>{0, 0, 0, 0, 0, 0, 1});
  Json np = Json::parse(R"({"metadata":{"name":"web","creationTimestamp":"2024-01-08T12:00:00Z"},
    "spec":{"type":"NodePort","clusterIP":"10.96.0.20","clusterIPs":["10.96.0.20"],
      "selector":{"tier":"fe","app":"web"},
      "ports":[{"port":80,"nodePort":30001,"protocol":"TCP"},{"port":443,"protocol":"TCP"}]}})");
  CHECK(cells("services", np) == Json({"web", "NodePort", "10.96.0.20", "<none>",
                                       "80:30001/TCP,443/TCP", "2d", "app=web,tier=fe"}));
  Json lbPending = Json::parse(R"({"metadata":{"name":"lb"},"spec":{"type":"LoadBalancer",
    "clusterIPs":["10.96.0.21"],"ports":[{"port":53,"nodePort":31000,"protocol":"UDP"}]}})");
  Json c = cells("services", lbPending);
  CHECK(c[3] == "<pending>");
  CHECK(c[4] == "53:31000/UDP");
  CHECK(c[5] == "<unknown>");
  CHECK(c[6] == "<none>");
  Json lb = Json::parse(R"({"metadata":{"name":"lb"},"spec":{"type":"LoadBalancer",
    "clusterIPs":["10.96.0.21"],"externalIPs":["192.0.2.9"],"ports":[]},
    "status":{"loadBalancer":{"ingress":[{"ip":"192.0.2.7"},{"hostname":"lb.example.com"},{"ip":"192.0.2.1"}]}}})");
  c = cells("services", lb);
  CHECK(c[3] == "192.0.2.1,192.0.2.7,lb.example.com,192.0.2.9");
  CHECK(c[4] == "<none>");
  Json ext = Json::parse(R"({"metadata":{"name":"db"},"spec":{"type":"ExternalName",
    "externalName":"db.example.com"}})");
  c = cells("services", ext);
  CHECK(c[2] == "<none>");
  CHECK(c[3] == "db.example.com");
  Json cip = Json::parse(R"({"metadata":{"name":"c"},"spec":{"type":"ClusterIP","clusterIP":"None",
    "clusterIPs":["None"],"externalIPs":["1.2.3.4","5.6.7.8"]}})");
  c = cells("services", cip);
  CHECK(c[2] == "None");
  CHECK(c[3] == "1.2.3.4,5.6.7.8");
}

TEST_CASE("table: endpoints") {
  CHECK(columnNames("endpoints") == std::vector<std::string>{"Name", "Endpoints", "Age"});
  Json ep = Json::parse(R"({"metadata":{"name":"web"},"subsets":[
    {"addresses":[{"ip":"10.244.0.5"},{"ip":"10.244.0.6"}],"ports":[{"port":8080},{"port":9090}]}]})");
  CHECK(cells("endpoints", ep)[1] == "10.244.0.5:8080,10.244.0.6:8080,10.244.0.5:9090 + 1 more...");
  Json two = Json::parse(R"({"metadata":{"name":"web"},"subsets":[
    {"addresses":[{"ip":"10.244.0.5"},{"ip":"10.244.0.6"}],"ports":[{"port":8080}]}]})");
  CHECK(cells("endpoints", two)[1] == "10.244.0.5:8080,10.244.0.6:8080");
  CHECK(cells("endpoints", Json::parse(R"({"metadata":{"name":"x"}})"))[1] == "<none>");
  Json headless =
      Json::parse(R"({"metadata":{"name":"h"},"subsets":[{"addresses":[{"ip":"10.0.0.1"}]}]})");
  CHECK(cells("endpoints", headless)[1] == "10.0.0.1");
  Json notReady = Json::parse(R"({"metadata":{"name":"h"},"subsets":[
    {"notReadyAddresses":[{"ip":"10.0.0.1"}],"ports":[{"port":80}]}]})");
  CHECK(cells("endpoints", notReady)[1] == "");
  Json v6 = Json::parse(
      R"({"metadata":{"name":"h"},"subsets":[{"addresses":[{"ip":"fd00::1"}],"ports":[{"port":80}]}]})");
  CHECK(cells("endpoints", v6)[1] == "[fd00::1]:80");
}

TEST_CASE("table: nodes") {
  CHECK(columnNames("nodes") ==
        std::vector<std::string>{"Name", "Status", "Roles", "Age", "Version", "Internal-IP",
                                 "External-IP", "OS-Image", "Kernel-Version", "Container-Runtime"});
  CHECK(priorities("nodes") == std::vector<int>{0, 0, 0, 0, 0, 1, 1, 1, 1, 1});
  Json n = Json::parse(R"J({"metadata":{"name":"node1","creationTimestamp":"2024-01-10T09:00:00Z",
      "labels":{"node-role.kubernetes.io/control-plane":"","node-role.kubernetes.io/worker":"",
                "kubernetes.io/role":"edge"}},
    "spec":{"unschedulable":true},
    "status":{"conditions":[{"type":"MemoryPressure","status":"False"},{"type":"Ready","status":"True"}],
      "addresses":[{"type":"Hostname","address":"node1"},{"type":"InternalIP","address":"192.168.1.2"}],
      "nodeInfo":{"kubeletVersion":"v1.32.0","osImage":"Debian GNU/Linux 12 (bookworm)",
                  "kernelVersion":"6.1.0","containerRuntimeVersion":"skiff://0.1.0"}}})J");
  CHECK(cells("nodes", n) == Json({"node1", "Ready,SchedulingDisabled", "control-plane,edge,worker",
                                   "3h", "v1.32.0", "192.168.1.2", "<none>",
                                   "Debian GNU/Linux 12 (bookworm)", "6.1.0", "skiff://0.1.0"}));
  Json bare = Json::parse(
      R"({"metadata":{"name":"n2"},"status":{"conditions":[{"type":"Ready","status":"Unknown"}]}})");
  CHECK(cells("nodes", bare) == Json({"n2", "NotReady", "<none>", "<unknown>", "", "<none>",
                                      "<none>", "<unknown>", "<unknown>", "<unknown>"}));
  CHECK(cells("nodes", Json::parse(R"({"metadata":{"name":"n3"}})"))[1] == "Unknown");
}

TEST_CASE("table: namespaces") {
  CHECK(columnNames("namespaces") == std::vector<std::string>{"Name", "Status", "Age"});
  Json ns = Json::parse(R"({"metadata":{"name":"old","creationTimestamp":"2023-12-31T12:00:00Z"},
    "status":{"phase":"Terminating"}})");
  CHECK(cells("namespaces", ns) == Json({"old", "Terminating", "10d"}));
}

TEST_CASE("table: events") {
  CHECK(columnNames("events") == std::vector<std::string>{"Last Seen", "Type", "Reason", "Object",
                                                          "Subobject", "Source", "Message",
                                                          "First Seen", "Count", "Name"});
  CHECK(priorities("events") == std::vector<int>{0, 0, 0, 0, 1, 1, 0, 1, 1, 1});
  Json e = Json::parse(R"({"metadata":{"name":"web.17a","namespace":"default"},
    "involvedObject":{"kind":"Pod","name":"web","fieldPath":"spec.containers{c}"},
    "reason":"Pulled","message":"  Container image already present\n","type":"Normal",
    "source":{"component":"kubelet","host":"node1"},
    "firstTimestamp":"2024-01-10T11:00:00Z","lastTimestamp":"2024-01-10T11:59:30Z","count":3})");
  CHECK(cells("events", e) ==
        Json({"30s", "Normal", "Pulled", "pod/web", "spec.containers{c}", "kubelet, node1",
              "Container image already present", "60m", 3, "web.17a"}));
  Json newApi = Json::parse(R"({"metadata":{"name":"x"},"involvedObject":{"kind":"Node"},
    "eventTime":"2024-01-10T11:50:00.000000Z","reportingComponent":"skiff-scheduler","type":"Warning",
    "reason":"R","message":"m"})");
  CHECK(cells("events", newApi) ==
        Json({"10m", "Warning", "R", "node", "", "skiff-scheduler", "m", "10m", 1, "x"}));
  Json series = Json::parse(R"({"metadata":{"name":"s"},"involvedObject":{"kind":"Pod","name":"p"},
    "eventTime":"2024-01-10T11:00:00.000000Z","series":{"count":7,"lastObservedTime":"2024-01-10T11:58:00.000000Z"}})");
  Json c = cells("events", series);
  CHECK(c[0] == "2m");
  CHECK(c[5] == "<unknown>");
  CHECK(c[8] == 7);
}

TEST_CASE("table: deployments") {
  CHECK(columnNames("deployments") == std::vector<std::string>{"Name", "Ready", "Up-to-date",
                                                               "Available", "Age", "Containers",
                                                               "Images", "Selector"});
  Json d = Json::parse(R"({"metadata":{"name":"web","creationTimestamp":"2024-01-10T11:59:15Z"},
    "spec":{"replicas":3,"selector":{"matchLabels":{"app":"web"},
        "matchExpressions":[{"key":"tier","operator":"In","values":["fe","be"]}]},
      "template":{"spec":{"containers":[{"name":"nginx","image":"nginx:1.25"},{"name":"log","image":"busybox"}]}}},
    "status":{"readyReplicas":2,"updatedReplicas":3,"availableReplicas":2}})");
  CHECK(cells("deployments", d) == Json({"web", "2/3", 3, 2, "45s", "nginx,log",
                                         "nginx:1.25,busybox", "app=web,tier in (be,fe)"}));
  Json empty = Json::parse(R"({"metadata":{"name":"e"},"spec":{"replicas":0,"selector":{}}})");
  CHECK(cells("deployments", empty) == Json({"e", "0/0", 0, 0, "<unknown>", "", "", ""}));
}

TEST_CASE("table: replicasets") {
  CHECK(columnNames("replicasets") == std::vector<std::string>{"Name", "Desired", "Current",
                                                               "Ready", "Age", "Containers",
                                                               "Images", "Selector"});
  auto cols = tableColumns("replicasets");
  CHECK(cols[1]["type"] == "integer");
  Json rs = Json::parse(R"({"metadata":{"name":"web-5d"},"spec":{"replicas":2,
      "selector":{"matchLabels":{"app":"web","pod-template-hash":"5d"}},
      "template":{"spec":{"containers":[{"name":"nginx","image":"nginx"}]}}},
    "status":{"replicas":2,"readyReplicas":1}})");
  CHECK(cells("replicasets", rs) ==
        Json({"web-5d", 2, 2, 1, "<unknown>", "nginx", "nginx", "app=web,pod-template-hash=5d"}));
  Json bare = Json::parse(R"({"metadata":{"name":"bare"}})");
  CHECK(cells("replicasets", bare) == Json({"bare", 1, 0, 0, "<unknown>", "", "", ""}));
}

TEST_CASE("table: configmaps, secrets and the generic fallback") {
  CHECK(columnNames("configmaps") == std::vector<std::string>{"Name", "Data", "Age"});
  Json cm =
      Json::parse(R"({"metadata":{"name":"cfg"},"data":{"a":"1","b":"2"},"binaryData":{"c":""}})");
  CHECK(cells("configmaps", cm) == Json({"cfg", 3, "<unknown>"}));
  CHECK(columnNames("secrets") == std::vector<std::string>{"Name", "Type", "Data", "Age"});
  Json sec = Json::parse(R"({"metadata":{"name":"s"},"type":"Opaque","data":{"a":"MQ=="}})");
  CHECK(cells("secrets", sec) == Json({"s", "Opaque", 1, "<unknown>"}));
  CHECK(columnNames("widgets") == std::vector<std::string>{"Name", "Age"});
  Json w = Json::parse(R"({"metadata":{"name":"w","creationTimestamp":"2024-01-10T11:59:59Z"}})");
  CHECK(cells("widgets", w) == Json({"w", "1s"}));
}
