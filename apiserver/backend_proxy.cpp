#include "apiserver/backend_proxy.h"

#include <arpa/inet.h>

#include <algorithm>
#include <random>

#include "apiserver/api_errors.h"
#include "apiserver/objects.h"
#include "apiserver/registry.h"
#include "apiserver/resources.h"
#include "base/url.h"

namespace skiff::apiserver {
namespace {

using api::Json;

// Go's net.IP.IsGlobalUnicast for a dotted quad; false for anything else.
bool globalUnicastV4(const std::string& ip) {
  in_addr a{};
  if (inet_pton(AF_INET, ip.c_str(), &a) != 1) return false;
  uint32_t v = ntohl(a.s_addr);
  if (v == 0 || v == 0xffffffffu) return false;  // unspecified, broadcast
  if ((v >> 24) == 127) return false;            // loopback
  if ((v >> 16) == 0xa9fe) return false;         // 169.254/16 link-local
  if ((v >> 28) == 0xe) return false;            // 224/4 multicast
  return true;
}

Result<SchemeNamePort> parseId(const std::string& kind, const std::string& id) {
  auto parts = splitSchemeNamePort(id);
  if (!parts) return badRequest("invalid " + kind + " request \"" + id + "\"");
  if (parts->scheme == "https")
    return badRequest("skiff proxies plain HTTP only: ask for http:" + parts->name +
                      (parts->port.empty() ? "" : ":" + parts->port) + " instead of " + id);
  return *parts;
}

std::vector<std::string> podIPsOf(const Json& pod) {
  std::vector<std::string> out;
  if (const Json* ips = fieldAt(pod, "status", "podIPs"); ips && ips->is_array()) {
    for (const auto& e : *ips)
      if (e.is_object() && e.contains("ip") && e["ip"].is_string())
        out.push_back(e["ip"].get<std::string>());
  }
  std::string single = stringAt(pod, "status", "podIP");
  if (!single.empty() && std::find(out.begin(), out.end(), single) == out.end())
    out.push_back(single);
  return out;
}

bool isHopByHop(const std::string& name) {
  static const char* kDropped[] = {"connection",          "keep-alive", "proxy-connection",
                                   "proxy-authorization", "te",         "trailer",
                                   "transfer-encoding",   "upgrade",    "host",
                                   "content-length",      "expect",     "authorization"};
  for (const char* d : kDropped)
    if (name == d) return true;
  return name.rfind("impersonate-", 0) == 0;
}

}  // namespace

std::optional<SchemeNamePort> splitSchemeNamePort(const std::string& id) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    size_t colon = id.find(':', start);
    parts.push_back(id.substr(start, colon - start));
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  SchemeNamePort out;
  switch (parts.size()) {
    case 1:
      out.name = parts[0];
      break;
    case 2:
      out.name = parts[0];
      out.port = parts[1];
      break;
    case 3:
      out.scheme = parts[0];
      out.name = parts[1];
      out.port = parts[2];
      break;
    default:
      return std::nullopt;
  }
  if (out.name.empty()) return std::nullopt;
  if (out.scheme != "" && out.scheme != "http" && out.scheme != "https") return std::nullopt;
  return out;
}

Result<ProxyTarget> podProxyTarget(const Json& pod, const SchemeNamePort& id) {
  std::string port = id.port;
  if (port.empty()) {
    if (const Json* cs = fieldAt(pod, "spec", "containers"); cs && cs->is_array()) {
      for (const auto& c : *cs) {
        if (!c.is_object() || !c.contains("ports") || !c["ports"].is_array() || c["ports"].empty())
          continue;
        const Json& first = c["ports"][0];
        if (first.is_object() && first.contains("containerPort") &&
            first["containerPort"].is_number_integer())
          port = std::to_string(first["containerPort"].get<int64_t>());
        break;
      }
    }
  }
  ProxyTarget out;
  out.ip = stringAt(pod, "status", "podIP");
  if (!globalUnicastV4(out.ip)) return badRequest("address not allowed");
  if (!port.empty()) {
    auto n = parsePort(port);
    if (!n)
      return badRequest("port " + port + " of pod " + id.name +
                        " is not a number from 1 to 65535: pods/proxy takes a port number");
    out.port = uint16_t(*n);
  }
  return out;
}

Result<ProxyTarget> serviceProxyTarget(
    const std::string& serviceName, const Json* service, const Json* endpoints,
    const SchemeNamePort& id,
    const std::function<std::vector<std::string>(const std::string&)>& podIPs, uint64_t seed) {
  std::string portName = id.port;
  if (auto n = parsePort(id.port)) {
    if (!service) return notFound("services", serviceName);
    bool found = false;
    if (const Json* ports = fieldAt(*service, "spec", "ports"); ports && ports->is_array()) {
      for (const auto& p : *ports) {
        if (p.is_object() && p.value("port", Json()) == *n) {
          portName = p.value("name", std::string());
          found = true;
          break;
        }
      }
    }
    if (!found)
      return makeError(Code::kUnavailable,
                       "no service port " + id.port + " found for service \"" + serviceName + "\"");
  }
  if (!endpoints) return notFound("endpoints", serviceName);
  Error none =
      makeError(Code::kUnavailable, "no endpoints available for service \"" + serviceName + "\"");
  const Json* subsets = endpoints->contains("subsets") ? &(*endpoints)["subsets"] : nullptr;
  if (!subsets || !subsets->is_array() || subsets->empty()) return none;
  std::mt19937_64 rng(seed);
  std::string ns = stringAt(*endpoints, "metadata", "namespace");
  size_t count = subsets->size();
  size_t first = rng() % count;
  for (size_t si = 0; si < count; ++si) {
    const Json& ss = (*subsets)[(first + si) % count];
    if (!ss.is_object() || !ss.contains("addresses") || !ss["addresses"].is_array() ||
        ss["addresses"].empty() || !ss.contains("ports") || !ss["ports"].is_array())
      continue;
    const Json& addrs = ss["addresses"];
    for (const auto& p : ss["ports"]) {
      if (!p.is_object() || p.value("name", std::string()) != portName) continue;
      auto port = p.contains("port") && p["port"].is_number_integer()
                      ? parsePort(std::to_string(p["port"].get<int64_t>()))
                      : std::nullopt;
      if (!port) continue;
      size_t start = rng() % addrs.size();
      for (size_t t = 0; t < addrs.size(); ++t) {
        const Json& a = addrs[(start + t) % addrs.size()];
        if (!a.is_object() || !a.contains("ip") || !a["ip"].is_string()) continue;
        std::string ip = a["ip"].get<std::string>();
        // Kubernetes' isValidAddress: only an address whose pod still has it.
        const Json* ref = a.contains("targetRef") ? &a["targetRef"] : nullptr;
        if (!ref || !ref->is_object() || ref->value("namespace", std::string()) != ns ||
            !(*ref).contains("name") || !(*ref)["name"].is_string())
          continue;
        auto ips = podIPs((*ref)["name"].get<std::string>());
        if (std::find(ips.begin(), ips.end(), ip) == ips.end()) continue;
        if (!globalUnicastV4(ip)) continue;
        return ProxyTarget{ip, uint16_t(*port)};
      }
    }
  }
  return none;
}

RawProxyPath rawProxyPath(const std::string& target) {
  RawProxyPath out;
  std::string path = target;
  if (size_t q = target.find('?'); q != std::string::npos) {
    path = target.substr(0, q);
    out.query = target.substr(q + 1);
  }
  // /api/v1/namespaces/NS/RESOURCE/NAME/proxy[/rest]: the rest starts after the
  // 7th slash-separated segment.
  size_t pos = 0;
  for (int seg = 0; seg < 7 && pos != std::string::npos; ++seg) pos = path.find('/', pos + 1);
  out.path = pos == std::string::npos ? "/" : path.substr(pos);
  if (out.path.empty()) out.path = "/";
  return out;
}

std::string proxyRequest(const Request& request, const RawProxyPath& raw, const ProxyTarget& to) {
  std::string hostPort = to.ip + ":" + std::to_string(to.port);
  std::string head = request.method + " " + raw.path + (raw.query.empty() ? "" : "?" + raw.query) +
                     " HTTP/1.1\r\nHost: " + hostPort + "\r\n";
  for (const auto& [name, value] : request.headers) {
    if (isHopByHop(name) || name == "x-forwarded-for") continue;
    // A header value never holds CR or LF (the parser would have split it).
    head += name + ": " + value + "\r\n";
  }
  std::string client = request.remoteAddr.substr(0, request.remoteAddr.rfind(':'));
  std::string forwarded = request.header("x-forwarded-for");
  if (!client.empty())
    head += "x-forwarded-for: " + (forwarded.empty() ? client : forwarded + ", " + client) + "\r\n";
  std::string upgrade = request.header("upgrade");
  std::string connection = request.header("connection");
  for (char& c : connection) c = char(std::tolower(static_cast<unsigned char>(c)));
  if (!upgrade.empty() && connection.find("upgrade") != std::string::npos) {
    head += "Connection: Upgrade\r\nUpgrade: " + upgrade + "\r\n";
  } else {
    head += "Connection: close\r\n";
  }
  if (!request.body.empty() || request.method == "POST" || request.method == "PUT" ||
      request.method == "PATCH")
    head += "Content-Length: " + std::to_string(request.body.size()) + "\r\n";
  head += "\r\n";
  head += request.body;
  return head;
}

void proxyToBackend(storage::Store& store, const std::string& plural, const std::string& ns,
                    const std::string& id, const Request& request,
                    std::shared_ptr<ResponseWriter> writer) {
  auto fail = [&](const Error& e) { respondError(*writer, e); };
  bool pods = plural == "pods";
  auto parts = parseId(pods ? "pod" : "service", id);
  if (!parts) return fail(parts.error());
  Result<ProxyTarget> target = makeError(Code::kInternal, "no target");
  // An object that may be missing: nullopt then; other errors fail the request.
  auto optional = [&](const char* plural, const std::string& name) -> Result<std::optional<Json>> {
    auto o = readStored(store, plural, ns, name);
    if (o) return std::optional<Json>(std::move(*o));
    if (o.error().code == Code::kNotFound) return std::optional<Json>();
    return o.error();
  };
  if (pods) {
    auto pod = readStored(store, "pods", ns, parts->name);
    if (!pod) return fail(pod.error());
    target = podProxyTarget(*pod, *parts);
  } else {
    std::optional<Json> service;
    if (parsePort(parts->port)) {
      auto s = optional("services", parts->name);
      if (!s) return fail(s.error());
      service = std::move(*s);
    }
    auto eps = optional("endpoints", parts->name);
    if (!eps) return fail(eps.error());
    std::optional<Error> readError;
    auto podIPs = [&](const std::string& name) -> std::vector<std::string> {
      auto pod = optional("pods", name);
      if (!pod) readError = pod.error();
      return pod && *pod ? podIPsOf(**pod) : std::vector<std::string>();
    };
    target = serviceProxyTarget(parts->name, service ? &*service : nullptr, *eps ? &**eps : nullptr,
                                *parts, podIPs, rng()());
    if (!target && readError) return fail(*readError);
  }
  if (!target) return fail(target.error());
  DialFailure dial{503, "ServiceUnavailable", "error trying to reach service"};
  writer->tunnel(target->ip, target->port,
                 proxyRequest(request, rawProxyPath(request.target), *target), dial);
}

}  // namespace skiff::apiserver
