#include <catch2/catch.hpp>

#include "ctl/cli.h"
#include "ctl/objects.h"
#include "ctl/printers.h"

using namespace skiff;
using namespace skiff::ctl;

namespace {
Json serviceTable() {
  return Json::parse(R"J({"kind":"Table","apiVersion":"meta.k8s.io/v1","columnDefinitions":[
    {"name":"Name","type":"string","format":"name","priority":0},
    {"name":"Type","type":"string","priority":0},
    {"name":"Cluster-IP","type":"string","priority":0},
    {"name":"External-IP","type":"string","priority":0},
    {"name":"Port(s)","type":"string","priority":0},
    {"name":"Age","type":"string","priority":0},
    {"name":"Selector","type":"string","priority":1}],
   "rows":[
    {"cells":["kubernetes","ClusterIP","10.96.0.1","<none>","443/TCP","5m","<none>"],
     "object":{"metadata":{"name":"kubernetes","namespace":"default","labels":{"component":"apiserver","provider":"kubernetes"}}}},
    {"cells":["http-go-np","NodePort","10.96.7.20","<none>","80:30001/TCP","3s","app=http-go"],
     "object":{"metadata":{"name":"http-go-np","namespace":"default"}}}]})J");
}
}  // namespace

TEST_CASE("tables print as kubectl prints them", "[ctl][printers]") {
  TablePrintOptions o;
  CHECK(tabwrite(tableCells(serviceTable(), o)) ==
        "NAME         TYPE        CLUSTER-IP   EXTERNAL-IP   PORT(S)        AGE\n"
        "kubernetes   ClusterIP   10.96.0.1    <none>        443/TCP        5m\n"
        "http-go-np   NodePort    10.96.7.20   <none>        80:30001/TCP   3s\n");
  o.wide = true;
  o.withNamespace = true;
  o.noHeaders = true;
  CHECK(tabwrite(tableCells(serviceTable(), o)) ==
        "default   kubernetes   ClusterIP   10.96.0.1    <none>   443/TCP        5m    <none>\n"
        "default   http-go-np   NodePort    10.96.7.20   <none>   80:30001/TCP   3s    "
        "app=http-go\n");
  TablePrintOptions l;
  l.showLabels = true;
  l.kindPrefix = "service";
  auto cells = tableCells(serviceTable(), l);
  CHECK(cells[0].back() == "LABELS");
  CHECK(cells[1][0] == "service/kubernetes");
  CHECK(cells[1].back() == "component=apiserver,provider=kubernetes");
  CHECK(cells[2].back() == "<none>");
}

TEST_CASE("the minimum cell width is 6, as kubectl's tabwriter", "[ctl][printers]") {
  CHECK(tabwrite({{"A", "B", "C"}, {"x", "yy", "z"}}) == "A     B     C\nx     yy    z\n");
}

TEST_CASE("describe output aligns per column block", "[ctl][printers]") {
  std::string in =
      "Name:\tweb\nNamespace:\tdefault\nPort:\t<unset>\t80/TCP\nTargetPort:\t8080/TCP\n"
      "Events:\n  Type\tReason\tAge\n  ----\t------\t----\n";
  CHECK(goTabwriter(in, 0, 2) ==
        "Name:        web\nNamespace:   default\nPort:        <unset>  80/TCP\nTargetPort:  "
        "8080/TCP\n"
        "Events:\n  Type  Reason  Age\n  ----  ------  ----\n");
}

TEST_CASE("jsonpath templates", "[ctl][printers]") {
  Json list = Json::parse(R"({"kind":"List","items":[
    {"metadata":{"name":"a","labels":{"app.kubernetes.io/name":"x"}},"spec":{"ports":[{"port":80,"nodePort":30001}]},
     "status":{"conditions":[{"type":"Ready","status":"True"},{"type":"Other","status":"False"}]}},
    {"metadata":{"name":"b"},"spec":{"ports":[{"port":81}]}}]})");
  CHECK(*jsonPath("{.items[*].metadata.name}", list) == "a b");
  CHECK(*jsonPath("{.items[0].spec.ports[0].nodePort}", list) == "30001");
  CHECK(*jsonPath("{range .items[*]}{.metadata.name}{\"\\n\"}{end}", list) == "a\nb\n");
  CHECK(*jsonPath("{.items[0].status.conditions[?(@.type==\"Ready\")].status}", list) == "True");
  CHECK(*jsonPath("{.items[0].metadata.labels['app.kubernetes.io/name']}", list) == "x");
  CHECK(*jsonPath("n={..port}", list) == "n=80 81");
  CHECK(*jsonPath("{.items[1].spec}", list) == R"({"ports":[{"port":81}]})");
  CHECK_FALSE(jsonPath("{.items[*].metadata.name", list));
  CHECK_FALSE(jsonPath("{range .items[*]}{.x}", list));
}

TEST_CASE("durations as kubectl takes them", "[ctl]") {
  CHECK(parseDuration("30s")->count() == 30000);
  CHECK(parseDuration("1m30s")->count() == 90000);
  CHECK(parseDuration("500ms")->count() == 500);
  CHECK(parseDuration("2")->count() == 2000);
  CHECK(parseDuration("1h")->count() == 3600000);
  CHECK_FALSE(parseDuration("soon"));
  CHECK_FALSE(parseDuration("5x"));
}

TEST_CASE("last-applied-configuration is kubectl's encoding", "[ctl]") {
  Json m = Json::parse(
      R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"s","namespace":"default"},
    "spec":{"ports":[{"port":80}],"selector":{"app":"a<b>&"}}})");
  Json out = withLastApplied(m);
  CHECK(
      out["metadata"]["annotations"][kLastApplied] ==
      "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"annotations\":{},\"name\":\"s\","
      "\"namespace\":\"default\"},\"spec\":{\"ports\":[{\"port\":80}],\"selector\":{\"app\":"
      "\"a\\u003cb\\u003e\\u0026\"}}}\n");
  // Re-applying the annotated object yields the same annotation.
  CHECK(withLastApplied(out)["metadata"]["annotations"][kLastApplied] ==
        out["metadata"]["annotations"][kLastApplied]);
}

TEST_CASE("wait --for conditions", "[ctl]") {
  Json pod = Json::parse(
      R"({"status":{"phase":"Running","conditions":[{"type":"Ready","status":"False","reason":"ContainersNotReady"}]}})");
  auto r = evaluateWaitFor("condition=Ready", &pod);
  REQUIRE(r);
  CHECK_FALSE(r->done);
  CHECK(r->why == "Ready=False (ContainersNotReady)");
  CHECK(evaluateWaitFor("condition=Ready=false", &pod)->done);
  CHECK(evaluateWaitFor("condition=ready=False", &pod)->done);
  CHECK(evaluateWaitFor("jsonpath={.status.phase}=Running", &pod)->done);
  CHECK_FALSE(evaluateWaitFor("jsonpath={.status.phase}=Pending", &pod)->done);
  CHECK(evaluateWaitFor("delete", nullptr)->done);
  CHECK_FALSE(evaluateWaitFor("delete", &pod)->done);
  CHECK_FALSE(evaluateWaitFor("bogus", &pod));
}

TEST_CASE("flags parse as kubectl's", "[ctl]") {
  GlobalFlags g;
  std::string out;
  po::options_description desc;
  desc.add_options()("output,o", po::value(&out), "");
  addGlobalFlags(desc, g, true);
  std::vector<std::string> argvS = {"get", "pods", "-n", "kube-system", "-oyaml", "x", "-A"};
  std::vector<char*> argv;
  for (auto& s : argvS) argv.push_back(s.data());
  po::variables_map vm;
  std::vector<std::string> args;
  CHECK(parseFlags(static_cast<int>(argv.size()), argv.data(), desc, vm, args) == "");
  CHECK(g.ns == "kube-system");
  CHECK(out == "yaml");
  CHECK(g.allNamespaces);
  CHECK(args == std::vector<std::string>{"pods", "x"});

  std::vector<std::string> badS = {"get", "--bogus"};
  std::vector<char*> bad;
  for (auto& s : badS) bad.push_back(s.data());
  po::variables_map vm2;
  std::vector<std::string> args2;
  GlobalFlags g2;
  po::options_description d2;
  addGlobalFlags(d2, g2, false);
  CHECK(parseFlags(2, bad.data(), d2, vm2, args2) == "unknown flag: --bogus");
}
