// Discovery: which resource types the server has, and what the CLI's names
// for them mean ("po", "pods", "pod", "Pod", "svc", "deploy", "deployments.apps",
// "deployments.v1.apps").
//
// load() reads GET /api, /api/{v}, /apis and /apis/{g}/{v} (preferred versions
// first) into a table; resolve() looks names up in that table (reading the
// documents again only through a refresher), so tests build a Discovery from
// fixed JSON with fromDocuments().
//
// Not thread-safe. resolve() and forKind() may read the server's documents
// again (see setRefresher), so they are not const.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "api/json.h"
#include "base/result.h"

namespace skiff::client {

class RestClient;

struct ResourceType {
  std::string group;     // "" for core
  std::string version;   // "v1"
  std::string name;      // plural, "pods"
  std::string singular;  // "pod"
  std::string kind;      // "Pod"
  bool namespaced = true;
  std::vector<std::string> shortNames;
  std::vector<std::string> verbs;
  std::vector<std::string> categories;  // "all"
  bool preferred = true;                // from the group's preferred version

  std::string apiVersion() const { return group.empty() ? version : group + "/" + version; }
  // "pods" or "deployments.apps": kubectl's name for the type in messages.
  std::string qualifiedName() const { return group.empty() ? name : name + "." + group; }
  // "/api/v1" or "/apis/apps/v1"
  std::string basePath() const;
  // Collection path: ns empty = all namespaces (or cluster-scoped).
  std::string collectionPath(const std::string& ns) const;
  std::string objectPath(const std::string& ns, const std::string& objName) const;
  bool hasVerb(const std::string& verb) const;
};

class Discovery {
 public:
  // Reads the server's discovery documents. Errors are the client's.
  static Result<Discovery> load(RestClient& client);
  // The documents load() reads (APIResourceList each, preferred versions
  // first), for a cache.
  static Result<std::vector<api::Json>> loadDocuments(RestClient& client);
  // `groupVersions` are APIResourceList documents (each with groupVersion);
  // the first version of a group seen is the preferred one.
  static Discovery fromDocuments(const std::vector<api::Json>& resourceLists);

  // kubectl's resolution: exact plural, singular, short name, kind
  // (case-insensitive), optionally qualified by .version.group or .group.
  // kNotFound: `the server doesn't have a resource type "pdos"`, followed by
  // ` (did you mean "pods"?)` when a name is close.
  Result<ResourceType> resolve(const std::string& name);
  // A comma-separated list ("pods,svc", "all"), as kubectl reads it: a name
  // that is a category stands for the preferred types listing it, in
  // discovery order (kubectl expands categories first); any other name is
  // resolve()'d. Empty names are skipped; the first name that resolves to
  // nothing is the error.
  Result<std::vector<ResourceType>> resolveList(const std::string& names);
  // The type serving apiVersion+kind (for manifests); kNotFound with kubectl's
  // `no matches for kind "Foo" in version "v1"`.
  Result<ResourceType> forKind(const std::string& apiVersion, const std::string& kind);

  const std::vector<ResourceType>& resources() const { return resources_; }

  // For a Discovery built from cached documents: called once, when resolve()
  // or forKind() finds no match, to read the server's documents again (as
  // kubectl's disk cache does); the lookup is then retried on them.
  void setRefresher(std::function<Result<std::vector<api::Json>>()> refresh) {
    refresh_ = std::move(refresh);
  }

 private:
  void add(const api::Json& resourceList, bool preferred);
  Result<ResourceType> resolveOnce(const std::string& name) const;
  Result<ResourceType> forKindOnce(const std::string& apiVersion, const std::string& kind) const;
  // Replaces the table with the refresher's documents; false when there is no
  // refresher (any more) or it failed.
  bool refresh();
  std::vector<ResourceType> resources_;
  std::function<Result<std::vector<api::Json>>()> refresh_;
};

}  // namespace skiff::client
