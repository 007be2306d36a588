#include "apiserver/master_endpoints.h"

#include "apiserver/objects.h"
#include "apiserver/registry.h"

namespace skiff::apiserver {

using api::Json;

namespace {
constexpr const char* kKey = "/registry/endpoints/default/kubernetes";
}  // namespace

Json masterEndpointSubsets(const std::string& ip, uint16_t port) {
  return Json::array(
      {{{"addresses", Json::array({{{"ip", ip}}})},
        {"ports", Json::array({{{"name", "https"}, {"port", port}, {"protocol", "TCP"}}})}}});
}

Result<bool> reconcileMasterEndpoints(storage::Store& store, const std::string& ip, uint16_t port) {
  Json subsets = masterEndpointSubsets(ip, port);
  auto current = store.get(kKey);
  storage::Op op;
  if (current) {
    auto obj = parseStored(current->value);
    if (!obj) return obj.error();
    if (obj->value("subsets", Json()) == subsets) return false;
    (*obj)["subsets"] = subsets;
    if (obj->contains("metadata") && (*obj)["metadata"].is_object())
      (*obj)["metadata"].erase("resourceVersion");
    op = updateOp(kKey, current->modRevision, std::move(*obj));
  } else if (current.error().code == Code::kNotFound) {
    Json obj = {{"apiVersion", "v1"},
                {"kind", "Endpoints"},
                {"metadata",
                 {{"name", "kubernetes"},
                  {"namespace", "default"},
                  {"uid", newUid()},
                  {"creationTimestamp", nowRfc3339()},
                  // As Kubernetes: the API server's own EndpointSlice is not mirrored.
                  {"labels", {{"endpointslice.kubernetes.io/skip-mirror", "true"}}}}},
                {"subsets", subsets}};
    op.key = kKey;
    op.encode = revisionEncoder(std::move(obj));
  } else {
    return current.error();
  }
  auto r = store.commitSync({std::move(op)});
  if (!r) return r.error();
  return true;
}

}  // namespace skiff::apiserver
