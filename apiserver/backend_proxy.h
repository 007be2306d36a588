// pods/proxy and services/proxy: the API server as an HTTP proxy to a pod's
// port, as Kubernetes' apiserver serves
//   /api/v1/namespaces/NS/pods/[SCHEME:]NAME[:PORT]/proxy[/PATH]
//   /api/v1/namespaces/NS/services/[SCHEME:]NAME[:PORT]/proxy[/PATH]
// for `kubectl proxy`, `kubectl get --raw .../services/web:80/proxy/healthz` and
// client libraries' ProxyGet. Every method is proxied; the path after /proxy,
// the raw query, the headers (less hop-by-hop ones and Authorization) and the
// body go to the pod, and its answer — an upgrade included — reaches the client
// unchanged (ResponseWriter::tunnel).
//
// Where it goes, as Kubernetes' ResourceLocation decides:
//   pods      the pod's IP (status.podIP, which must be a unicast address, else
//             400 "address not allowed") and PORT, or the first container port
//             the spec declares, or 80.
//   services  PORT, if a number, names the Service port with that number (503
//             `no service port 81 found for service "web"` when none has it);
//             then a random ready address of the Endpoints port of that name
//             whose targetRef is a pod of the namespace that still has that IP
//             (hand-written addresses without a pod are never dialed, as in
//             Kubernetes). None: 503 `no endpoints available for service "web"`.
//   A pod that does not answer: 503 "error trying to reach service: dial tcp
//   IP:PORT: <reason>".
//
// Difference from Kubernetes: the `https:` scheme is refused (400); skiff's API
// server proxies plain HTTP only. HTML in answers is not rewritten.
//
// Pure planning functions plus one effectful entry point; thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "api/json.h"
#include "apiserver/http.h"
#include "base/result.h"
#include "storage/store.h"

namespace skiff::apiserver {

// "name", "name:port" or "scheme:name:port" (Kubernetes' SplitSchemeNamePort):
// nullopt when there are more parts, the name is empty or the scheme is not
// "", "http" or "https".
struct SchemeNamePort {
  std::string scheme, name, port;
};
std::optional<SchemeNamePort> splitSchemeNamePort(const std::string& id);

struct ProxyTarget {
  std::string ip;
  uint16_t port = 80;
};

// The pod's address for `id` (its name part already matched `pod`).
Result<ProxyTarget> podProxyTarget(const api::Json& pod, const SchemeNamePort& id);

// The Service's backend for `id`. `service` may be null when `id`'s port is not
// a number (Kubernetes reads the Service only to map a port number to its
// name); `endpoints` null means the Endpoints do not exist (404). `podIPs(name)`
// gives the IPs of pod `name` in the Service's namespace (empty when it does not
// exist). `seed` picks the random subset and address.
Result<ProxyTarget> serviceProxyTarget(
    const std::string& serviceName, const api::Json* service, const api::Json* endpoints,
    const SchemeNamePort& id,
    const std::function<std::vector<std::string>(const std::string&)>& podIPs, uint64_t seed);

// The raw path after ".../NAME/proxy" in a request target ("/a/b/?x=1" ->
// "/a/b/"; nothing -> "/"), as the client encoded it, and the raw query ("x=1").
struct RawProxyPath {
  std::string path, query;
};
RawProxyPath rawProxyPath(const std::string& target);

// The complete request (head and body) the pod gets.
std::string proxyRequest(const Request& request, const RawProxyPath& raw, const ProxyTarget& to);

// Serves `request` for pods or services `plural` ("pods", "services") of `ns`,
// `id` being the path's name segment.
void proxyToBackend(storage::Store& store, const std::string& plural, const std::string& ns,
                    const std::string& id, const Request& request,
                    std::shared_ptr<ResponseWriter> writer);

}  // namespace skiff::apiserver
