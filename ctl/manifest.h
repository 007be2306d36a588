// Reading manifests for `-f`: files, directories (their .yaml/.yml/.json files
// in lexical order, sub-directories only with -R), `-` for stdin; multi-document
// YAML, JSON, and `kind: List` expanded into its items, in order.
//
// Every document becomes one Manifest holding the object or the reason it could
// not be read, so the verbs can act on the good ones in order and report each
// bad one, as kubectl does.
#pragma once

#include <istream>
#include <string>
#include <vector>

#include "api/json.h"
#include "base/result.h"

namespace skiff::ctl {

struct Manifest {
  std::string source;  // the path as given ("examples/pod.yaml", "STDIN")
  Result<api::Json> object = api::Json();
};

// Errors (`the path "x" does not exist`, `error parsing F: ...`) come as
// Manifests with an error, at the position where they occurred.
std::vector<Manifest> readManifests(const std::vector<std::string>& paths, bool recursive,
                                    std::istream& stdinStream);

// The documents of one text, named `source` in errors.
std::vector<Manifest> parseManifestText(const std::string& text, const std::string& source);

}  // namespace skiff::ctl
