// The table of resources the REST API serves (pods, services, ..., apps/v1
// deployments and replicasets, discovery.k8s.io/v1 endpointslices as a view of
// the endpoints), and how each maps to store keys.
//
// Keys follow Kubernetes' etcd layout: /registry/<plural>/<namespace>/<name> for
// namespaced resources and /registry/<plural>/<name> for cluster-scoped ones
// (apps resources too: plural names do not collide across served groups).
//
// Immutable after first use; safe to read from any thread.
#pragma once

#include <string>
#include <vector>

#include "api/json.h"
#include "api/schema.h"

namespace skiff::apiserver {

struct SubresourceInfo {
  std::string name;                  // "status", "binding", "log", "exec", "scale"
  std::string group, version, kind;  // the subresource's own kind (Scale is autoscaling/v1)
  std::vector<std::string> verbs;
};

struct ResourceInfo {
  std::string group;    // "" core, "apps"
  std::string version;  // "v1"
  std::string plural;
  std::string singular;
  std::string kind;
  bool namespaced = true;
  std::vector<std::string> shortNames;
  std::vector<std::string> categories;
  std::vector<std::string> verbs;
  std::vector<SubresourceInfo> subresources;
  bool hasStatus = false;            // spec/status split: PUT on the main resource keeps status
  bool allowCreateOnUpdate = false;  // PUT of a missing object creates it (events, endpoints)
  bool setsGeneration = false;       // metadata.generation 1 on create, bumped on spec change
  bool storable = true;  // false for create-only virtual resources: bindings, the self reviews
  // A read-only view of another resource's objects: `derive` makes the view's
  // objects from one stored object of the core resource `derivedFrom`, read,
  // listed and watched under that resource's keys (endpointslices from
  // endpoints: api/endpoint_slices.h). Not storable.
  std::string derivedFrom;
  std::vector<api::Json> (*derive)(const api::Json& source) = nullptr;

  api::GroupVersionKind gvk() const { return {group, version, kind}; }
  std::string apiVersion() const { return group.empty() ? version : group + "/" + version; }
  // "pods", "deployments.apps": the resource as error messages name it.
  std::string groupResource() const { return group.empty() ? plural : plural + "." + group; }
  const SubresourceInfo* subresource(const std::string& name) const;
};

// Every served resource, core first. apps/v1 resources appear only when the
// type model knows Deployment/ReplicaSet.
const std::vector<ResourceInfo>& allResources();
const ResourceInfo* findResource(const std::string& group, const std::string& version,
                                 const std::string& plural);
// The API groups served besides the core group, in discovery's order.
const std::vector<std::string>& servedGroups();

// The resource whose keys hold `r`'s objects: `r` itself, or what a derived
// resource is derived from.
const ResourceInfo& storedResource(const ResourceInfo& r);

// /registry/pods/default/web, /registry/nodes/n1
std::string objectKey(const ResourceInfo& r, const std::string& ns, const std::string& name);
// /registry/pods/default/ (one namespace) or /registry/pods/ (all namespaces, or
// a cluster-scoped resource when ns is empty).
std::string collectionPrefix(const ResourceInfo& r, const std::string& ns);

}  // namespace skiff::apiserver
