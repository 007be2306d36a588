#include "apiserver/pod_proxy.h"

#include <vector>

#include "apiserver/api_errors.h"
#include "apiserver/objects.h"
#include "apiserver/registry.h"
#include "apiserver/resources.h"
#include "base/url.h"

namespace skiff::apiserver {
namespace {

using api::Json;

std::string escape(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += char(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::vector<std::string> containerNames(const Json& pod, const char* field) {
  std::vector<std::string> out;
  const Json* list = fieldAt(pod, "spec", field);
  if (!list || !list->is_array()) return out;
  for (const auto& c : *list)
    if (c.is_object() && c.contains("name") && c["name"].is_string())
      out.push_back(c["name"].get<std::string>());
  return out;
}

std::string bracketList(const std::vector<std::string>& names) {
  std::string out = "[";
  for (size_t i = 0; i < names.size(); ++i) out += (i ? " " : "") + names[i];
  return out + "]";
}

// True when the pod's status shows `container` running.
bool statusShowsRunning(const Json& pod, const std::string& container) {
  for (const char* list : {"containerStatuses", "initContainerStatuses"}) {
    const Json* statuses = fieldAt(pod, "status", list);
    if (!statuses || !statuses->is_array()) continue;
    for (const auto& s : *statuses)
      if (s.is_object() && s.value("name", Json()) == container)
        return fieldAt(s, "state", "running") != nullptr;
  }
  return false;
}

bool isLoopback(const std::string& ip) {
  return ip.rfind("127.", 0) == 0 || ip == "::1";
}

}  // namespace

Result<KubeletRequest> planPodProxy(const Json& pod, const Json* node, const std::string& sub,
                                    const Request& request, const std::string& kubeletToken) {
  std::string name = stringAt(pod, "metadata", "name");
  std::string ns = stringAt(pod, "metadata", "namespace");
  std::string uid = stringAt(pod, "metadata", "uid");
  auto containers = containerNames(pod, "containers");
  auto inits = containerNames(pod, "initContainers");
  std::string container = request.param("container");
  bool forward = sub == "portforward";  // the pod's network, no container
  if (!forward && container.empty()) {
    if (containers.size() == 1 && inits.empty()) {
      container = containers[0];
    } else {
      std::string msg = "a container name must be specified for pod " + name +
                        ", choose one of: " + bracketList(containers);
      if (!inits.empty()) msg += " or one of the init containers: " + bracketList(inits);
      return badRequest(msg);
    }
  }
  bool known = forward;
  for (const auto* list : {&containers, &inits})
    for (const auto& c : *list) known = known || c == container;
  if (!known) return badRequest("container " + container + " is not valid for pod " + name);
  std::string nodeName = stringAt(pod, "spec", "nodeName");
  if (nodeName.empty()) return badRequest("pod " + name + " does not have a host assigned");

  std::string query;
  auto add = [&](const std::string& key, const std::string& value) {
    query += (query.empty() ? "?" : "&") + escape(key) + "=" + escape(value);
  };
  std::string path;
  if (sub == "log") {
    if (request.method != "GET") return methodNotAllowed();
    for (const char* key : {"follow", "tailLines", "previous", "timestamps", "sinceSeconds",
                            "sinceTime", "limitBytes"})
      if (request.hasParam(key)) add(key, request.param(key));
    path = "/containerLogs/";
  } else if (sub == "exec") {
    if (request.method != "GET" && request.method != "POST") return methodNotAllowed();
    std::string phase = stringAt(pod, "status", "phase");
    if (phase == "Succeeded" || phase == "Failed")
      return badRequest("cannot exec into a container in a completed pod; current phase is " +
                        phase);
    bool any = false;
    for (auto [it, end] = request.query.equal_range("command"); it != end; ++it) {
      add("command", it->second);
      any = true;
    }
    if (!any) return badRequest("you must specify at least 1 command");
    if (!request.flag("stdin") && !request.flag("stdout") && !request.flag("stderr"))
      return badRequest("you must specify at least 1 of stdin, stdout, stderr");
    for (const char* key : {"stdin", "stdout", "stderr", "tty"})
      add(key, request.flag(key) ? "true" : "false");
    std::string upgrade = request.header("upgrade");
    for (char& c : upgrade) c = char(std::tolower(static_cast<unsigned char>(c)));
    // kubectl falls back to SPDY when its WebSocket upgrade failed, and then
    // prints this answer: it says why the upgrade failed when the status shows it.
    if (upgrade != "websocket" && !statusShowsRunning(pod, container))
      return badRequest("container not found (\"" + container + "\")");
    if (upgrade != "websocket")
      return badRequest(
          "exec needs a WebSocket upgrade (Upgrade: websocket, subprotocol "
          "v5.channel.k8s.io or v4.channel.k8s.io); skiff does not speak SPDY");
    path = "/exec/";
  } else if (forward) {
    if (request.method != "GET" && request.method != "POST") return methodNotAllowed();
    // PodPortForwardOptions.ports (repeated, or "8080,9090") become the
    // kubelet's `port` parameter, as Kubernetes' streamParams writes it. SPDY
    // clients name their ports in stream headers and send none.
    std::string ports;
    for (auto [it, end] = request.query.equal_range("ports"); it != end; ++it) {
      auto list = parsePortList(it->second);
      if (!list)
        return badRequest("ports: Invalid value: \"" + it->second +
                          "\": each port must be a number from 1 to 65535");
      for (uint16_t p : *list) ports += (ports.empty() ? "" : ",") + std::to_string(p);
    }
    if (!ports.empty()) add("port", ports);
    path = "/portForward/";
  } else {
    return resourceNotFound();
  }

  if (!node) return notFound("nodes", nodeName);
  int64_t port = 0;
  if (const Json* de = fieldAt(*node, "status", "daemonEndpoints");
      de && de->is_object() && de->contains("kubeletEndpoint")) {
    const Json& ke = (*de)["kubeletEndpoint"];
    if (ke.is_object() && ke.contains("Port") && ke["Port"].is_number_integer())
      port = ke["Port"].get<int64_t>();
  }
  if (port <= 0 || port > 65535)
    return makeError(Code::kUnavailable,
                     "node " + nodeName +
                         " does not advertise its kubelet's port "
                         "(status.daemonEndpoints.kubeletEndpoint.Port): is its kubelet running?");
  std::string host = "127.0.0.1";
  if (const Json* addrs = fieldAt(*node, "status", "addresses"); addrs && addrs->is_array()) {
    for (const auto& a : *addrs) {
      if (!a.is_object() || !a.contains("address") || !a["address"].is_string()) continue;
      std::string ip = a["address"].get<std::string>();
      if (isLoopback(ip)) {
        host = ip;
        break;
      }
    }
  }

  KubeletRequest out;
  out.host = host;
  out.port = uint16_t(port);
  std::string hostHeader =
      (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
  out.head = "GET " + path + escape(ns) + "/" + escape(name) + "/" + escape(uid) +
             (forward ? "" : "/" + escape(container)) + query + " HTTP/1.1\r\nHost: " + hostHeader +
             "\r\nAuthorization: Bearer " + kubeletToken + "\r\nUser-Agent: skiff-apiserver\r\n";
  std::string upgrade = request.header("upgrade");
  for (char& c : upgrade) c = char(std::tolower(static_cast<unsigned char>(c)));
  if (sub == "exec" || (forward && upgrade == "websocket")) {
    out.head += "Connection: Upgrade\r\nUpgrade: websocket\r\n";
    for (const char* h : {"sec-websocket-key", "sec-websocket-version", "sec-websocket-protocol"}) {
      std::string v = request.header(h);
      if (!v.empty()) out.head += std::string(h) + ": " + v + "\r\n";
    }
  } else if (forward && upgrade == "spdy/3.1") {
    // kubectl's fallback when its WebSocket upgrade failed.
    out.head += "Connection: Upgrade\r\nUpgrade: SPDY/3.1\r\n";
    std::string v = request.header("x-stream-protocol-version");
    if (!v.empty()) out.head += "X-Stream-Protocol-Version: " + v + "\r\n";
  } else {
    out.head += "Connection: close\r\n";
  }
  out.head += "\r\n";
  return out;
}

void proxyPodSubresource(storage::Store& store, const std::string& kubeletToken,
                         const std::string& ns, const std::string& name, const std::string& sub,
                         const Request& request, std::shared_ptr<ResponseWriter> writer) {
  auto pod = readStored(store, "pods", ns, name);
  if (!pod) return respondError(*writer, pod.error());
  std::optional<Json> node;
  std::string nodeName = stringAt(*pod, "spec", "nodeName");
  if (!nodeName.empty()) {
    auto n = readStored(store, "nodes", "", nodeName);
    if (n) {
      node = std::move(*n);
    } else if (n.error().code != Code::kNotFound) {
      return respondError(*writer, n.error());
    }
  }
  if (kubeletToken.empty())
    return respondError(*writer,
                        makeError(Code::kUnavailable, "pods/" + sub +
                                                          " is not available: this apiserver "
                                                          "has no token to present to kubelets"));
  auto plan = planPodProxy(*pod, node ? &*node : nullptr, sub, request, kubeletToken);
  if (!plan) return respondError(*writer, plan.error());
  writer->tunnel(plan->host, plan->port, std::move(plan->head));
}

}  // namespace skiff::apiserver
