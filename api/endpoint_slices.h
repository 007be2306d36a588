// EndpointSlices (discovery.k8s.io/v1) as skiff serves them: read-only views of
// the Endpoints objects, the way Kubernetes' EndpointSlice mirroring shows a
// Service's Endpoints. kubectl reads them where it once read Endpoints
// (`kubectl describe service` prints its Endpoints line from the Service's
// slices), and clients list them by the label kubernetes.io/service-name.
//
// One slice per subset of the Endpoints (a subset and a slice each hold one
// set of ports); an Endpoints without subsets shows one slice without
// endpoints or ports, as Kubernetes keeps one for a Service with none. A
// slice's name is the Endpoints' name and a suffix of five characters fixed
// by the Endpoints (its uid and name) and the subset's index, so it stays the
// same from read to read and a re-created Endpoints shows new slices; its uid
// is fixed likewise, and its resourceVersion and creationTimestamp are the
// Endpoints'. The API server lists and watches them through the Endpoints
// (ResourceInfo::derive).
//
// Pure functions of the Endpoints object; safe from any thread.
#pragma once

#include <string>
#include <vector>

#include "api/json.h"

namespace skiff::api {

// The slices that show `endpoints` (a v1 Endpoints as stored), in subset order.
std::vector<Json> endpointSlicesOf(const Json& endpoints);

// The label that names a slice's Service, and the manager the slices name.
inline constexpr const char* kServiceNameLabel = "kubernetes.io/service-name";
inline constexpr const char* kSliceManagedByLabel = "endpointslice.kubernetes.io/managed-by";
inline constexpr const char* kSliceMirroringManager = "endpointslicemirroring-controller.k8s.io";

}  // namespace skiff::api
