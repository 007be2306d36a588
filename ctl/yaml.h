// YAML <-> JSON, as kubectl converts them (sigs.k8s.io/yaml over go-yaml v2).
//
// Reading: plain scalars resolve with YAML 1.1 rules as go-yaml v2 does
// (true/false/yes/no/on/off/y/n in their three spellings are booleans; ~, null
// and empty are null; 0x.., 0o.., 0b.. and leading-0 octal integers; floats,
// .inf, .nan); quoted and block scalars and explicit !!str stay strings; map
// keys always become strings. A stream splits into documents on `---` lines,
// as kubectl's YAMLReader does, so one bad document does not hide the others.
//
// Writing: go-yaml v2's layout, which `kubectl get -o yaml` prints: keys
// sorted, two-space indent, sequences not indented under their key, strings
// that would read back as something else single-quoted, multi-line strings as
// literal blocks.
//
// Pure functions; yaml-cpp exceptions stop here.
#pragma once

#include <string>
#include <vector>

#include "api/json.h"
#include "base/result.h"

namespace skiff::ctl {

using api::Json;

// One document of a stream: the object, or why it could not be read.
struct YamlDocument {
  int firstLine = 1;  // 1-based line of the document's first line in the stream
  Result<Json> object = Json();
};

// Splits `text` into documents and converts each; empty documents are dropped.
// A syntax error reads (no `error:` prefix, no file name):
//   `error converting YAML to JSON: yaml: line 5, column 8: mapping values are
//    not allowed in this context`
// with the line counted in the whole stream.
std::vector<YamlDocument> parseYamlStream(const std::string& text);

// One document (tests, kubeconfig-like uses). Null for an empty document.
Result<Json> yamlToJson(const std::string& text);

// go-yaml v2 text for a JSON value, ending in a newline.
std::string jsonToYaml(const Json& value);

}  // namespace skiff::ctl
