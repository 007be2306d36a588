// pods/log, pods/exec and pods/portforward: the apiserver checks the request
// against the stored Pod (and its Node), then hands the client's connection to
// the kubelet that runs the pod (ResponseWriter::tunnel), as Kubernetes'
// apiserver proxies them with its upgrade-aware handler. The kubelet's answer
// — a log stream, a WebSocket (v5/v4.channel.k8s.io) carrying the exec
// session, or the port-forward session (SPDY/3.1, inside a WebSocket with
// the subprotocol SPDY/3.1+portforward.k8s.io, or on a plain Upgrade:
// SPDY/3.1 — kubectl's fallback) — reaches the client unchanged. Port-forward
// names no container: the kubelet path is /portForward/{ns}/{pod}/{uid}. See
// kubelet/server.h for the kubelet's side.
//
// Finding the kubelet: the pod's spec.nodeName names a Node whose
// status.daemonEndpoints.kubeletEndpoint.Port the kubelet advertises. The
// kubelet listens on loopback only, so the apiserver dials the Node's first
// loopback address in status.addresses (any type), else 127.0.0.1. It
// authenticates with "Authorization: Bearer <kubeletToken>" (in skiff, the
// admin token).
//
// Errors are Kubernetes' (400 BadRequest unless said otherwise):
//   pods "p" not found                                             (404)
//   a container name must be specified for pod p, choose one of: [a b]
//   container x is not valid for pod p
//   pod p does not have a host assigned
//   cannot exec into a container in a completed pod; current phase is Succeeded
//   you must specify at least 1 command
// and errors the kubelet words itself (container not available, previous
// container not found, pod does not exist), passed through. A pod that is not
// Running is refused by kubectl port-forward itself, before it connects.
//
// Pure planning (planPodProxy) plus one effectful entry point; thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "api/json.h"
#include "apiserver/http.h"
#include "base/result.h"
#include "storage/store.h"

namespace skiff::apiserver {

// Where and what to send to the kubelet.
struct KubeletRequest {
  std::string host;  // IP address
  uint16_t port = 0;
  std::string head;  // the complete HTTP request (no body)
};

// Decides the kubelet request for `sub` ("log", "exec" or "portforward") of
// `pod`, or the error the client gets. `node` is the pod's Node (null when it
// does not exist).
Result<KubeletRequest> planPodProxy(const api::Json& pod, const api::Json* node,
                                    const std::string& sub, const Request& request,
                                    const std::string& kubeletToken);

// Reads the pod and its node from `store`, then tunnels or answers an error.
void proxyPodSubresource(storage::Store& store, const std::string& kubeletToken,
                         const std::string& ns, const std::string& name, const std::string& sub,
                         const Request& request, std::shared_ptr<ResponseWriter> writer);

}  // namespace skiff::apiserver
