// The Endpoints of the `kubernetes` Service (default/kubernetes), kept by the
// API server as Kubernetes' master endpoints reconciler keeps them: one
// address, the one pods reach the API server at (`skiff up`: the pods'
// bridge gateway), and the port it serves on, named "https" like the
// Service's port. The netproxy then sends the Service's ClusterIP:443 there,
// so a pod's in-cluster client (KUBERNETES_SERVICE_HOST, the mounted token
// and ca.crt) reaches the API server.
//
// Thread-safety: reconcileMasterEndpoints may run on any thread; the store
// orders it against other writers (a concurrent change makes it fail with
// kConflict, and the next call repairs).
#pragma once

#include <cstdint>
#include <string>

#include "api/json.h"
#include "base/result.h"
#include "storage/store.h"

namespace skiff::apiserver {

// The subsets the Endpoints should hold.
api::Json masterEndpointSubsets(const std::string& ip, uint16_t port);

// Creates the Endpoints, or updates their subsets when they differ. Returns
// true when it wrote.
Result<bool> reconcileMasterEndpoints(storage::Store& store, const std::string& ip, uint16_t port);

}  // namespace skiff::apiserver
