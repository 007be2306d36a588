// The Kubernetes REST API over the store: discovery (/api, /apis, /version),
// OpenAPI, and for each resource get/list/watch/create/update/patch/delete/
// deletecollection and subresources, with admission (defaulting, validation,
// ClusterIP and NodePort allocation) inside the same store transaction as the
// write it belongs to.
//
// Thread-safe: handle() may be called from any number of I/O threads at once.
// Health endpoints and authentication are the transport's (server.h), not here.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "apiserver/http.h"
#include "base/result.h"
#include "storage/store.h"

namespace skiff::apiserver {

struct RestOptions {
  std::string serviceCidr = "10.96.0.0/12";
  // LoadBalancer ingress IPs (status.loadBalancer.ingress[0].ip); "" = none.
  std::string loadBalancerCidr = "10.255.0.0/24";
  int nodePortMin = 30000;
  int nodePortMax = 32767;
  std::string gitVersion = "v1.32.0-skiff.0.1.0";
  // Bearer token presented to kubelets for pods/log and pods/exec (pod_proxy.h);
  // ApiServer sets the admin token. Empty: those subresources answer 503.
  std::string kubeletToken;
  // The key that signs service account tokens (auth.h ensureServiceAccountKey);
  // ApiServer sets it. Empty: serviceaccounts/token answers 503.
  std::string serviceAccountKey;
};

class RestApi {
 public:
  // Bootstraps what must exist from first start (namespaces default,
  // kube-system, kube-public, kube-node-lease, each with its ServiceAccount
  // "default") and rebuilds the allocators from stored Services. `store` must
  // outlive the RestApi.
  static Result<std::unique_ptr<RestApi>> create(storage::Store& store, RestOptions options);
  virtual ~RestApi() = default;

  // Serves one request (already authenticated; request.user is set).
  virtual void handle(Request request, std::shared_ptr<ResponseWriter> writer) = 0;
  // Points default/kubernetes's Endpoints at ip:port now, and keeps them there
  // (checked every 10 s on the namespace loop, master_endpoints.h).
  virtual void keepMasterEndpoints(const std::string& ip, uint16_t port) = 0;
};

}  // namespace skiff::apiserver
