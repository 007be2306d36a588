// Helpers the object verbs share: mapping a manifest to its resource type and
// namespace, kubectl's `TYPE/NAME` words, and waiting for objects.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "api/json.h"
#include "client/discovery.h"
#include "ctl/cli.h"

namespace skiff::ctl {

using api::Json;

inline constexpr const char* kLastApplied = "kubectl.kubernetes.io/last-applied-configuration";

// A manifest bound to the server: its type, namespace (set into the object
// when the type is namespaced) and name.
struct BoundObject {
  client::ResourceType type;
  std::string ns;
  std::string name;
  Json object;
  std::string source;
  std::string word() const;  // "service/http-go-np", "deployment.apps/web"
  std::string path() const { return type.objectPath(ns, name); }
};

// An object named on the command line (TYPE/NAME, TYPE NAME, -l, --all):
// what `skiff delete`, `wait`, `rollout` and `scale` act on.
struct ObjectRef {
  client::ResourceType type;
  std::string ns;  // ignored when the type is cluster-scoped
  std::string name;
  std::string word() const;  // as BoundObject::word
  std::string path() const { return type.objectPath(type.namespaced ? ns : "", name); }
};

// Errors in kubectl's words (no mapping, namespace mismatch, missing name).
Result<BoundObject> bindManifest(Cli& cli, const Json& object, const std::string& source,
                                 bool nameRequired = true);

// kubectl's GetModifiedConfiguration: the manifest with its own JSON (sorted
// keys, trailing newline, `annotations: {}` kept) as last-applied annotation.
Json withLastApplied(const Json& manifest);

// What a condition wait observes about one object now.
struct Readiness {
  bool done = false;
  std::string why;  // "ContainersNotReady", "deleted", ...
};

// `--for` semantics: "condition=Ready" (optionally "=False"), "delete",
// "jsonpath={.status.phase}=Running", "create". `object` is null if absent.
Result<Readiness> evaluateWaitFor(const std::string& forSpec, const Json* object);

// Whether `apply --wait` should wait on this kind and for what ("" = don't).
std::string defaultWaitFor(const std::string& kind);

// Polls `paths` (GET each) every 200 ms until each satisfies forSpec or the
// deadline passes. On a terminal, redraws one status line per object; else
// prints nothing until done. Calls onDone(i) for each object as it finishes.
// Returns the indexes that timed out.
std::vector<size_t> waitForAll(Cli& cli, const std::vector<std::string>& paths,
                               const std::vector<std::string>& words,
                               const std::vector<std::string>& forSpecs,
                               std::chrono::milliseconds timeout,
                               const std::function<void(size_t)>& onDone, Error* error);
// waitForAll printing "<word> condition met" to stdout as each object finishes.
std::vector<size_t> waitForAllReporting(Cli& cli, const std::vector<std::string>& paths,
                                        const std::vector<std::string>& words,
                                        const std::vector<std::string>& forSpecs,
                                        std::chrono::milliseconds timeout, Error* error);
// waitForAll (reporting met conditions when reportMet) then "error: timed out
// waiting for the condition on <word>" on stderr for each object that timed
// out. True when all finished; an Error when waiting itself failed.
Result<bool> waitForAllOrComplain(Cli& cli, const std::vector<std::string>& paths,
                                  const std::vector<std::string>& words,
                                  const std::vector<std::string>& forSpecs,
                                  std::chrono::milliseconds timeout, bool reportMet);

}  // namespace skiff::ctl
