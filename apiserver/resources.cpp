#include "apiserver/resources.h"

#include <algorithm>
#include <tuple>

#include "api/endpoint_slices.h"

namespace skiff::apiserver {

namespace {

const std::vector<std::string> kAllVerbs = {"create", "delete", "deletecollection", "get",
                                            "list",   "patch",  "update",           "watch"};
const std::vector<std::string> kStatusVerbs = {"get", "patch", "update"};
const std::vector<std::string> kProxyVerbs = {"create", "delete", "get", "patch", "update"};

SubresourceInfo statusOf(const std::string& group, const std::string& kind) {
  return {"status", group, "v1", kind, kStatusVerbs};
}

std::vector<ResourceInfo> build() {
  std::vector<ResourceInfo> out;
  ResourceInfo pods;
  pods.version = "v1";
  pods.plural = "pods";
  pods.singular = "pod";
  pods.kind = "Pod";
  pods.shortNames = {"po"};
  pods.categories = {"all"};
  pods.verbs = kAllVerbs;
  pods.subresources = {statusOf("", "Pod"),
                       {"binding", "", "v1", "Binding", {"create"}},
                       {"log", "", "v1", "Pod", {"get"}},
                       {"exec", "", "v1", "PodExecOptions", {"create", "get"}},
                       {"proxy", "", "v1", "PodProxyOptions", kProxyVerbs},
                       {"portforward", "", "v1", "PodPortForwardOptions", {"create", "get"}}};
  pods.hasStatus = true;
  out.push_back(pods);

  ResourceInfo svc;
  svc.version = "v1";
  svc.plural = "services";
  svc.singular = "service";
  svc.kind = "Service";
  svc.shortNames = {"svc"};
  svc.categories = {"all"};
  svc.verbs = kAllVerbs;
  svc.subresources = {statusOf("", "Service"),
                      {"proxy", "", "v1", "ServiceProxyOptions", kProxyVerbs}};
  svc.hasStatus = true;
  out.push_back(svc);

  ResourceInfo ep;
  ep.version = "v1";
  ep.plural = "endpoints";
  ep.singular = "endpoints";
  ep.kind = "Endpoints";
  ep.shortNames = {"ep"};
  ep.verbs = kAllVerbs;
  ep.allowCreateOnUpdate = true;
  out.push_back(ep);

  for (const auto& [plural, singular, kind, shortName] :
       {std::tuple{"configmaps", "configmap", "ConfigMap", "cm"},
        std::tuple{"secrets", "secret", "Secret", ""}}) {
    ResourceInfo r;
    r.version = "v1";
    r.plural = plural;
    r.singular = singular;
    r.kind = kind;
    if (*shortName) r.shortNames = {shortName};
    r.verbs = kAllVerbs;
    out.push_back(r);
  }

  ResourceInfo sa;
  sa.version = "v1";
  sa.plural = "serviceaccounts";
  sa.singular = "serviceaccount";
  sa.kind = "ServiceAccount";
  sa.shortNames = {"sa"};
  sa.verbs = kAllVerbs;
  // POST a TokenRequest, get it back with a signed token (service_accounts.cpp).
  sa.subresources = {{"token", "authentication.k8s.io", "v1", "TokenRequest", {"create"}}};
  out.push_back(sa);

  ResourceInfo nodes;
  nodes.version = "v1";
  nodes.plural = "nodes";
  nodes.singular = "node";
  nodes.kind = "Node";
  nodes.namespaced = false;
  nodes.shortNames = {"no"};
  nodes.verbs = kAllVerbs;
  nodes.subresources = {statusOf("", "Node")};
  nodes.hasStatus = true;
  out.push_back(nodes);

  ResourceInfo ns;
  ns.version = "v1";
  ns.plural = "namespaces";
  ns.singular = "namespace";
  ns.kind = "Namespace";
  ns.namespaced = false;
  ns.shortNames = {"ns"};
  ns.verbs = {"create", "delete", "get", "list", "patch", "update", "watch"};
  ns.subresources = {statusOf("", "Namespace")};
  ns.hasStatus = true;
  out.push_back(ns);

  ResourceInfo ev;
  ev.version = "v1";
  ev.plural = "events";
  ev.singular = "event";
  ev.kind = "Event";
  ev.shortNames = {"ev"};
  ev.verbs = kAllVerbs;
  ev.allowCreateOnUpdate = true;
  out.push_back(ev);

  ResourceInfo bindings;
  bindings.version = "v1";
  bindings.plural = "bindings";
  bindings.singular = "binding";
  bindings.kind = "Binding";
  bindings.verbs = {"create"};
  bindings.storable = false;
  out.push_back(bindings);

  if (api::typeForKind({"apps", "v1", "Deployment"}) &&
      api::typeForKind({"apps", "v1", "ReplicaSet"})) {
    struct AppsKind {
      const char *plural, *singular, *kind, *shortName;
    };
    for (const AppsKind& k : {AppsKind{"deployments", "deployment", "Deployment", "deploy"},
                              AppsKind{"replicasets", "replicaset", "ReplicaSet", "rs"}}) {
      std::string plural = k.plural, singular = k.singular, kind = k.kind, shortName = k.shortName;
      ResourceInfo r;
      r.group = "apps";
      r.version = "v1";
      r.plural = plural;
      r.singular = singular;
      r.kind = kind;
      r.shortNames = {shortName};
      r.categories = {"all"};
      r.verbs = kAllVerbs;
      r.subresources = {{"scale", "autoscaling", "v1", "Scale", kStatusVerbs},
                        statusOf("apps", kind)};
      r.hasStatus = true;
      r.setsGeneration = true;
      out.push_back(r);
    }
  }

  // The caller's questions about itself (kubectl auth whoami, kubectl auth
  // can-i): answered, never stored.
  struct Review {
    const char *group, *plural, *singular, *kind;
  };
  for (const Review& k : {Review{"authentication.k8s.io", "selfsubjectreviews", "selfsubjectreview",
                                 "SelfSubjectReview"},
                          Review{"authorization.k8s.io", "selfsubjectaccessreviews",
                                 "selfsubjectaccessreview", "SelfSubjectAccessReview"},
                          Review{"authorization.k8s.io", "selfsubjectrulesreviews",
                                 "selfsubjectrulesreview", "SelfSubjectRulesReview"}}) {
    if (!api::typeForKind({k.group, "v1", k.kind})) continue;
    ResourceInfo r;
    r.group = k.group;
    r.version = "v1";
    r.plural = k.plural;
    r.singular = k.singular;
    r.kind = k.kind;
    r.namespaced = false;
    r.verbs = {"create"};
    r.storable = false;
    out.push_back(r);
  }

  // What kubectl and client-go read where they once read Endpoints (`kubectl
  // describe service` among them): each Endpoints shown as EndpointSlices,
  // read-only.
  ResourceInfo slices;
  slices.group = "discovery.k8s.io";
  slices.version = "v1";
  slices.plural = "endpointslices";
  slices.singular = "endpointslice";
  slices.kind = "EndpointSlice";
  slices.verbs = {"get", "list", "watch"};
  slices.storable = false;
  slices.derivedFrom = "endpoints";
  slices.derive = api::endpointSlicesOf;
  out.push_back(slices);
  return out;
}

}  // namespace

const SubresourceInfo* ResourceInfo::subresource(const std::string& name) const {
  for (const auto& s : subresources)
    if (s.name == name) return &s;
  return nullptr;
}

const std::vector<ResourceInfo>& allResources() {
  static const std::vector<ResourceInfo> resources = build();
  return resources;
}

const ResourceInfo* findResource(const std::string& group, const std::string& version,
                                 const std::string& plural) {
  for (const auto& r : allResources())
    if (r.group == group && r.version == version && r.plural == plural) return &r;
  return nullptr;
}

const std::vector<std::string>& servedGroups() {
  static const std::vector<std::string> groups = [] {
    std::vector<std::string> g;
    for (const auto& r : allResources()) {
      if (!r.group.empty() && std::find(g.begin(), g.end(), r.group) == g.end())
        g.push_back(r.group);
    }
    return g;
  }();
  return groups;
}

const ResourceInfo& storedResource(const ResourceInfo& r) {
  if (r.derivedFrom.empty()) return r;
  const ResourceInfo* source = findResource("", "v1", r.derivedFrom);
  return source ? *source : r;  // build() derives only from resources it serves
}

std::string objectKey(const ResourceInfo& r, const std::string& ns, const std::string& name) {
  if (r.namespaced) return "/registry/" + r.plural + "/" + ns + "/" + name;
  return "/registry/" + r.plural + "/" + name;
}

std::string collectionPrefix(const ResourceInfo& r, const std::string& ns) {
  if (r.namespaced && !ns.empty()) return "/registry/" + r.plural + "/" + ns + "/";
  return "/registry/" + r.plural + "/";
}

}  // namespace skiff::apiserver
