#include "netproxy/service_state.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <set>

namespace skiff::netproxy {
namespace {

using api::Json;

const Json* field(const Json& obj, const char* name) {
  return api::jsonAt(obj, {name});
}

std::string stringField(const Json& obj, const char* name, const std::string& dflt = "") {
  const Json* f = field(obj, name);
  return f && f->is_string() ? f->get<std::string>() : dflt;
}

Error invalid(const std::string& key, const std::string& path, const std::string& what) {
  return makeError(Code::kInvalid, "service " + key + ": " + path + ": " + what);
}

Result<Protocol> parseProtocol(const Json& port, const std::string& key, const std::string& path) {
  std::string p = stringField(port, "protocol", "TCP");
  if (auto known = protocolFromName(p)) return *known;
  return invalid(key, path + ".protocol", "Unsupported value: \"" + p + "\"");
}

// Reads an integer port in 1..65535 (0 allowed when `optional`).
Result<int> parsePort(const Json& obj, const char* name, bool optional, const std::string& key,
                      const std::string& path) {
  const Json* f = field(obj, name);
  if (!f) {
    if (optional) return 0;
    return invalid(key, path + "." + name, "Required value");
  }
  if (!f->is_number_integer()) return invalid(key, path + "." + name, "must be an integer");
  long long v = f->get<long long>();
  if (v == 0 && optional) return 0;
  if (v < 1 || v > 65535) {
    return invalid(
        key, path + "." + name,
        "Invalid value: " + std::to_string(v) + ": must be between 1 and 65535, inclusive");
  }
  return static_cast<int>(v);
}

// IPv4 strings of an array field, in order, without duplicates; others ignored.
void appendIPv4(std::vector<std::string>& out, const std::string& ip) {
  if (isIPv4(ip) && std::find(out.begin(), out.end(), ip) == out.end()) out.push_back(ip);
}

}  // namespace

std::optional<Protocol> protocolFromName(const std::string& name) {
  if (name == "TCP") return Protocol::kTcp;
  if (name == "UDP") return Protocol::kUdp;
  if (name == "SCTP") return Protocol::kSctp;
  return std::nullopt;
}

const char* protocolName(Protocol p) {
  switch (p) {
    case Protocol::kTcp:
      return "tcp";
    case Protocol::kUdp:
      return "udp";
    case Protocol::kSctp:
      return "sctp";
  }
  return "tcp";
}

bool isIPv4(const std::string& s) {
  in_addr a;
  return !s.empty() && s.size() <= 15 && inet_pton(AF_INET, s.c_str(), &a) == 1;
}

bool validCidr(const std::string& cidr) {
  auto slash = cidr.find('/');
  if (slash == std::string::npos) return false;
  std::string len = cidr.substr(slash + 1);
  if (len.empty() || len.size() > 2 || !std::all_of(len.begin(), len.end(), ::isdigit))
    return false;
  return isIPv4(cidr.substr(0, slash)) && std::stoi(len) <= 32;
}

std::string normalizedCidr(const std::string& cidr) {
  if (!validCidr(cidr)) return "";
  auto slash = cidr.find('/');
  int len = std::stoi(cidr.substr(slash + 1));
  in_addr a{};
  inet_pton(AF_INET, cidr.substr(0, slash).c_str(), &a);
  uint32_t mask = len == 0 ? 0 : ~uint32_t{0} << (32 - len);
  a.s_addr = htonl(ntohl(a.s_addr) & mask);
  char text[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, &a, text, sizeof text);
  return std::string(text) + "/" + std::to_string(len);
}

bool validInterfaceName(const std::string& name) {
  return !name.empty() && name.size() <= 15 &&
         std::all_of(name.begin(), name.end(), [](unsigned char ch) {
           return std::isalnum(ch) || ch == '_' || ch == '.' || ch == '-';
         });
}

Result<std::optional<ServiceInfo>> serviceFromJson(const Json& service, const Json* endpoints) {
  const Json* meta = field(service, "metadata");
  if (!meta) return makeError(Code::kInvalid, "service: metadata: Required value");
  ServiceInfo info;
  info.ns = stringField(*meta, "namespace", "default");
  info.name = stringField(*meta, "name");
  if (info.name.empty()) return makeError(Code::kInvalid, "service: metadata.name: Required value");
  const std::string key = info.key();
  const Json empty = Json::object();
  const Json* specp = field(service, "spec");
  const Json& spec = specp ? *specp : empty;

  info.type = stringField(spec, "type", "ClusterIP");
  if (info.type == "ExternalName") return std::optional<ServiceInfo>();
  if (info.type != "ClusterIP" && info.type != "NodePort" && info.type != "LoadBalancer") {
    return invalid(key, "spec.type", "Unsupported value: \"" + info.type + "\"");
  }
  std::string clusterIP = stringField(spec, "clusterIP");
  if (clusterIP == "None") return std::optional<ServiceInfo>();  // headless: DNS only
  if (const Json* ips = field(spec, "clusterIPs"); ips && ips->is_array()) {
    for (const Json& ip : *ips) {
      if (ip.is_string()) appendIPv4(info.clusterIPs, ip.get<std::string>());
    }
  }
  appendIPv4(info.clusterIPs, clusterIP);
  if (const Json* ips = field(spec, "externalIPs"); ips && ips->is_array()) {
    for (const Json& ip : *ips) {
      if (ip.is_string()) appendIPv4(info.externalIPs, ip.get<std::string>());
    }
  }
  if (const Json* status = field(service, "status")) {
    if (const Json* lb = field(*status, "loadBalancer")) {
      if (const Json* ingress = field(*lb, "ingress"); ingress && ingress->is_array()) {
        for (const Json& in : *ingress) appendIPv4(info.loadBalancerIPs, stringField(in, "ip"));
      }
    }
  }
  info.affinity = stringField(spec, "sessionAffinity", "None") == "ClientIP";
  if (const Json* cfg = field(spec, "sessionAffinityConfig")) {
    if (const Json* cip = field(*cfg, "clientIP")) {
      if (const Json* t = field(*cip, "timeoutSeconds"); t && t->is_number_integer()) {
        long long v = t->get<long long>();
        if (v < 1 || v > 86400) {
          return invalid(key, "spec.sessionAffinityConfig.clientIP.timeoutSeconds",
                         "Invalid value: " + std::to_string(v) + ": must be in (0, 86400]");
        }
        info.affinityTimeoutSeconds = static_cast<int>(v);
      }
    }
  }
  info.externalLocal = stringField(spec, "externalTrafficPolicy", "Cluster") == "Local";
  if (const Json* hc = field(spec, "healthCheckNodePort");
      hc && hc->is_number_integer() && info.type == "LoadBalancer" && info.externalLocal) {
    long long v = hc->get<long long>();
    if (v < 1 || v > 65535) {
      return invalid(key, "spec.healthCheckNodePort",
                     "Invalid value: " + std::to_string(v) + ": must be between 1 and 65535");
    }
    info.healthCheckNodePort = static_cast<int>(v);
  }

  if (const Json* ranges = field(spec, "loadBalancerSourceRanges");
      ranges && ranges->is_array() && !ranges->empty() && info.type == "LoadBalancer") {
    info.restrictSources = true;
    for (size_t i = 0; i < ranges->size(); ++i) {
      const Json& r = (*ranges)[i];
      std::string text = r.is_string() ? r.get<std::string>() : "";
      // Kubernetes trims the spaces of "10.0.0.0/8, 192.168.0.0/16" pieces.
      while (!text.empty() && text.back() == ' ') text.pop_back();
      while (!text.empty() && text.front() == ' ') text.erase(text.begin());
      if (text.find(':') != std::string::npos) continue;  // IPv6: no ip6 table yet
      std::string cidr = normalizedCidr(text);
      if (cidr.empty()) {
        return invalid(key, "spec.loadBalancerSourceRanges[" + std::to_string(i) + "]",
                       "Invalid value: \"" + text + "\": must be an IPv4 CIDR (e.g. 10.0.0.0/8)");
      }
      info.sourceRanges.push_back(cidr);
    }
    std::sort(info.sourceRanges.begin(), info.sourceRanges.end());
    info.sourceRanges.erase(std::unique(info.sourceRanges.begin(), info.sourceRanges.end()),
                            info.sourceRanges.end());
  }

  const Json* ports = field(spec, "ports");
  if (ports && ports->is_array()) {
    for (size_t i = 0; i < ports->size(); ++i) {
      const Json& p = (*ports)[i];
      std::string path = "spec.ports[" + std::to_string(i) + "]";
      ServicePortInfo sp;
      sp.name = stringField(p, "name");
      auto proto = parseProtocol(p, key, path);
      if (!proto.ok()) return proto.error();
      sp.protocol = *proto;
      auto port = parsePort(p, "port", false, key, path);
      if (!port.ok()) return port.error();
      sp.port = *port;
      if (info.type != "ClusterIP") {
        auto np = parsePort(p, "nodePort", true, key, path);
        if (!np.ok()) return np.error();
        sp.nodePort = *np;
      }
      sp.endpoints = readyEndpoints(endpoints, sp.name, sp.protocol);
      info.ports.push_back(std::move(sp));
    }
  }
  // A Service without any IPv4 address and without node ports has nothing to program.
  bool anyNodePort = std::any_of(info.ports.begin(), info.ports.end(),
                                 [](const ServicePortInfo& p) { return p.nodePort != 0; });
  if (info.clusterIPs.empty() && info.externalIPs.empty() && info.loadBalancerIPs.empty() &&
      !anyNodePort) {
    return std::optional<ServiceInfo>();
  }
  return std::optional<ServiceInfo>(std::move(info));
}

Model buildModel(const std::vector<Json>& services, const std::vector<Json>& endpoints,
                 std::vector<std::string>* skipped) {
  std::map<std::string, const Json*> byKey;
  for (const Json& e : endpoints) {
    const Json* meta = field(e, "metadata");
    if (!meta) continue;
    byKey[stringField(*meta, "namespace", "default") + "/" + stringField(*meta, "name")] = &e;
  }
  Model model;
  for (const Json& s : services) {
    const Json* meta = field(s, "metadata");
    std::string key =
        meta ? stringField(*meta, "namespace", "default") + "/" + stringField(*meta, "name") : "";
    auto it = byKey.find(key);
    auto info = serviceFromJson(s, it == byKey.end() ? nullptr : it->second);
    if (!info.ok()) {
      if (skipped) skipped->push_back(info.error().message);
      continue;
    }
    if (info->has_value()) model.services.emplace(key, std::move(**info));
  }
  return model;
}

std::vector<Endpoint> readyEndpoints(const Json* endpoints, const std::string& portName,
                                     Protocol protocol) {
  std::set<Endpoint> out;
  if (!endpoints) return {};
  const Json* subsets = field(*endpoints, "subsets");
  if (!subsets || !subsets->is_array()) return {};
  for (const Json& subset : *subsets) {
    const Json* ports = field(subset, "ports");
    const Json* addrs = field(subset, "addresses");
    if (!ports || !ports->is_array() || !addrs || !addrs->is_array()) continue;
    for (const Json& p : *ports) {
      if (stringField(p, "name") != portName) continue;
      auto proto = parseProtocol(p, "", "");
      if (!proto.ok() || *proto != protocol) continue;
      const Json* num = field(p, "port");
      if (!num || !num->is_number_integer()) continue;
      long long port = num->get<long long>();
      if (port < 1 || port > 65535) continue;
      for (const Json& a : *addrs) {
        std::string ip = stringField(a, "ip");
        if (isIPv4(ip)) out.insert(Endpoint{ip, static_cast<int>(port)});
      }
    }
  }
  return {out.begin(), out.end()};
}

}  // namespace skiff::netproxy
