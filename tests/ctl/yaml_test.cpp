#include <catch2/catch.hpp>

#include "ctl/manifest.h"
#include "ctl/yaml.h"

using namespace skiff;
using namespace skiff::ctl;

TEST_CASE("YAML scalars resolve as sigs.k8s.io/yaml resolves them", "[ctl][yaml]") {
  auto j = yamlToJson(R"(
port: 80
neg: -3
octal: 0755
hex: 0x1F
float: 1.5
big: 12345678901
t: true
yes1: yes
no1: "no"
on1: on
nul: null
tilde: ~
empty:
quoted: "80"
single: '1.5'
block: |
  line1
  line2
str: !!str 5
version: v1
ts: 2024-01-01
80: eighty
)");
  REQUIRE(j);
  const Json& o = *j;
  CHECK(o["port"] == 80);
  CHECK(o["port"].is_number_integer());
  CHECK(o["neg"] == -3);
  CHECK(o["octal"] == 493);
  CHECK(o["hex"] == 31);
  CHECK(o["float"] == 1.5);
  CHECK(o["big"] == 12345678901LL);
  CHECK(o["t"] == true);
  CHECK(o["yes1"] == true);  // YAML 1.1, as go-yaml v2
  CHECK(o["no1"] == "no");
  CHECK(o["on1"] == true);
  CHECK(o["nul"].is_null());
  CHECK(o["tilde"].is_null());
  CHECK(o["empty"].is_null());
  CHECK(o["quoted"] == "80");
  CHECK(o["single"] == "1.5");
  CHECK(o["block"] == "line1\nline2\n");
  CHECK(o["str"] == "5");
  CHECK(o["version"] == "v1");
  CHECK(o["ts"] == "2024-01-01");
  CHECK(o["80"] == "eighty");
}

TEST_CASE("YAML syntax errors name the line, the column and what was expected", "[ctl][yaml]") {
  auto docs = parseYamlStream("apiVersion: v1\nkind: Pod\n---\nmetadata:\n  name: x\n labels: y\n");
  REQUIRE(docs.size() == 2);
  REQUIRE(docs[0].object);
  REQUIRE_FALSE(docs[1].object);
  CHECK(docs[1].object.error().message ==
        "error converting YAML to JSON: yaml: line 6, column 2: did not find expected key (check "
        "the indentation of this line and the one above)");
  auto bad = yamlToJson("a: b: c\n");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message ==
        "error converting YAML to JSON: yaml: line 1, column 5: mapping values are not allowed in "
        "this context");
}

TEST_CASE("manifests: multi-document, JSON, kind List, errors in place", "[ctl][yaml]") {
  auto ms = parseManifestText(R"(# a comment only
---
apiVersion: v1
kind: Pod
metadata: {name: a}
---
---
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Service
  metadata: {name: b}
- apiVersion: v1
  kind: Service
  metadata: {name: c}
---
metadata: {name: nokind}
)",
                              "f.yaml");
  REQUIRE(ms.size() == 4);
  CHECK((*ms[0].object)["metadata"]["name"] == "a");
  CHECK((*ms[1].object)["metadata"]["name"] == "b");
  CHECK((*ms[2].object)["kind"] == "Service");
  REQUIRE_FALSE(ms[3].object);
  CHECK(ms[3].object.error().message ==
        "error validating \"f.yaml\": error validating data: kind not set");

  auto js =
      parseManifestText(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"j"}})", "p.json");
  REQUIRE(js.size() == 1);
  CHECK((*js[0].object)["metadata"]["name"] == "j");

  auto bad = parseManifestText("kind: Pod\n  x: [\n", "bad.yaml");
  REQUIRE(bad.size() == 1);
  REQUIRE_FALSE(bad[0].object);
  CHECK(bad[0].object.error().message.rfind(
            "error parsing bad.yaml: error converting YAML to JSON: yaml: line 2", 0) == 0);

  std::istringstream none;
  auto missing = readManifests({"/nonexistent/x.yaml"}, false, none);
  REQUIRE(missing.size() == 1);
  CHECK(missing[0].object.error().message == "the path \"/nonexistent/x.yaml\" does not exist");
  std::istringstream in("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: s\n");
  auto fromStdin = readManifests({"-"}, false, in);
  REQUIRE(fromStdin.size() == 1);
  CHECK(fromStdin[0].source == "STDIN");
}

TEST_CASE("JSON to YAML as kubectl -o yaml prints it", "[ctl][yaml]") {
  Json o = Json::parse(R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"x","annotations":
    {"a":"{\"k\":1}\n"},"labels":{"app":"web","port":"80","flag":"yes"}},
    "spec":{"ports":[{"port":80,"targetPort":8080,"name":""}],"selector":{},"clusterIPs":["10.96.0.1"],
    "empty":[],"ratio":0.5,"on":true,"nothing":null}})");
  std::string y = jsonToYaml(o);
  CHECK(y == R"(apiVersion: v1
kind: Service
metadata:
  annotations:
    a: |
      {"k":1}
  labels:
    app: web
    flag: "yes"
    port: "80"
  name: x
spec:
  clusterIPs:
  - 10.96.0.1
  empty: []
  nothing: null
  "on": true
  ports:
  - name: ""
    port: 80
    targetPort: 8080
  ratio: 0.5
  selector: {}
)");
  // And it reads back to the same JSON.
  auto back = yamlToJson(y);
  REQUIRE(back);
  CHECK(*back == o);
}
