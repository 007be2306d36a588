// Service, Endpoints, Node and Event validation, as pkg/apis/core/validation
// (ValidateService, ValidateServiceUpdate, ValidateEndpoints, ValidateNode,
// ValidateEventCreate).
#include <algorithm>
#include <set>

#include "api/validation.h"
#include "api/validation_internal.h"

namespace skiff::api::detail {

namespace {

constexpr const char* kIPError = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)";

long long intOf(const Json* v) {
  return v && v->is_number_integer() ? v->get<long long>() : 0;
}

bool in(const std::string& v, const std::vector<std::string>& set) {
  return std::find(set.begin(), set.end(), v) != set.end();
}

bool isCIDR(const std::string& s) {
  size_t slash = s.find('/');
  if (slash == std::string::npos) return false;
  std::string ip = s.substr(0, slash), bits = s.substr(slash + 1);
  if (bits.empty() || bits.size() > 3 || !std::all_of(bits.begin(), bits.end(), ::isdigit)) {
    return false;
  }
  int n = std::stoi(bits);
  if (isIPv4(ip)) return n <= 32;
  if (isIPv6(ip)) return n <= 128;
  return false;
}

void validatePortName(const Json& port, bool requireName, const std::string& p,
                      std::set<std::string>& names, FieldErrors& errs) {
  std::string name = getString(port, "name");
  if (requireName && name.empty()) {
    errs.push_back(required(child(p, "name")));
  } else if (!name.empty()) {
    for (const std::string& m : isDns1123Label(name))
      errs.push_back(invalid(child(p, "name"), name, m));
    if (!names.insert(name).second) errs.push_back(duplicate(child(p, "name"), name));
  }
}

void validateProtocol(const Json& port, const std::string& p, FieldErrors& errs) {
  std::string proto = getString(port, "protocol");
  if (proto.empty()) {
    errs.push_back(required(child(p, "protocol")));
  } else if (!in(proto, {"SCTP", "TCP", "UDP"})) {
    errs.push_back(notSupported(child(p, "protocol"), proto, {"SCTP", "TCP", "UDP"}));
  }
}

void validateServicePorts(const Json& spec, bool headless, const std::string& type,
                          FieldErrors& errs) {
  const Json* ports = get(spec, "ports");
  size_t n = ports && ports->is_array() ? ports->size() : 0;
  if (n == 0) {
    if (!headless && type != "ExternalName") errs.push_back(required("spec.ports"));
    return;
  }
  std::set<std::string> names, portKeys, nodePortKeys;
  for (size_t i = 0; i < n; ++i) {
    const Json& sp = (*ports)[i];
    std::string p = index("spec.ports", i);
    validatePortName(sp, n > 1, p, names, errs);
    const Json* port = get(sp, "port");
    for (const std::string& m : isInRange(intOf(port), 1, 65535)) {
      errs.push_back(invalid(child(p, "port"), port ? *port : Json(0), m));
    }
    validateProtocol(sp, p, errs);
    if (const Json* tp = get(sp, "targetPort")) {
      if (tp->is_number_integer()) {
        for (const std::string& m : isInRange(tp->get<long long>(), 1, 65535)) {
          errs.push_back(invalid(child(p, "targetPort"), *tp, m));
        }
        if (headless && tp->get<long long>() != intOf(port)) {
          errs.push_back(invalid(child(p, "targetPort"), *tp,
                                 "must be equal to the value of 'port' when clusterIP = None"));
        }
      } else if (tp->is_string()) {
        for (const std::string& m : isValidPortName(tp->get<std::string>())) {
          errs.push_back(invalid(child(p, "targetPort"), *tp, m));
        }
      }
    }
    std::string ap = getString(sp, "appProtocol");
    if (!ap.empty()) {
      for (const std::string& m : isQualifiedName(ap)) {
        errs.push_back(invalid(child(p, "appProtocol"), ap, m));
      }
    }
    const Json* np = get(sp, "nodePort");
    if (intOf(np) != 0) {
      if (type == "ClusterIP") {
        errs.push_back(
            forbidden(child(p, "nodePort"), "may not be used when `type` is 'ClusterIP'"));
      } else {
        for (const std::string& m : isInRange(intOf(np), 1, 65535)) {
          errs.push_back(invalid(child(p, "nodePort"), *np, m));
        }
      }
      std::string nk = std::to_string(intOf(np)) + "/" + getString(sp, "protocol");
      if (!nodePortKeys.insert(nk).second) errs.push_back(duplicate(child(p, "nodePort"), *np));
    }
    std::string pk = std::to_string(intOf(port)) + "/" + getString(sp, "protocol");
    if (!portKeys.insert(pk).second) {
      errs.push_back(
          duplicate(p, Json{{"port", intOf(port)}, {"protocol", getString(sp, "protocol")}}));
    }
  }
}

void validateAffinity(const Json& spec, FieldErrors& errs) {
  std::string affinity = getString(spec, "sessionAffinity");
  const Json* cfg = get(spec, "sessionAffinityConfig");
  if (affinity.empty()) {
    errs.push_back(required("spec.sessionAffinity"));
  } else if (!in(affinity, {"ClientIP", "None"})) {
    errs.push_back(notSupported("spec.sessionAffinity", affinity, {"ClientIP", "None"}));
  }
  if (affinity == "ClientIP") {
    const Json* cip = cfg ? get(*cfg, "clientIP") : nullptr;
    const Json* ts = cip ? get(*cip, "timeoutSeconds") : nullptr;
    if (!cfg) {
      errs.push_back(
          required("spec.sessionAffinityConfig", "when session affinity type is ClientIP"));
    } else if (!cip) {
      errs.push_back(required("spec.sessionAffinityConfig.clientIP",
                              "when session affinity type is ClientIP"));
    } else if (!ts) {
      errs.push_back(required("spec.sessionAffinityConfig.clientIP.timeoutSeconds",
                              "when session affinity type is ClientIP"));
    } else if (intOf(ts) <= 0 || intOf(ts) > 86400) {
      errs.push_back(invalid("spec.sessionAffinityConfig.clientIP.timeoutSeconds", *ts,
                             "must be greater than 0 and less than 86400"));
    }
  } else if (affinity == "None" && cfg) {
    errs.push_back(invalid("spec.sessionAffinityConfig", *cfg,
                           "must not be set when session affinity is None"));
  }
}

void validateClusterIPs(const Json& spec, const std::string& type, FieldErrors& errs) {
  std::string clusterIP = getString(spec, "clusterIP");
  const Json* ips = get(spec, "clusterIPs");
  if (type == "ExternalName") {
    if (!clusterIP.empty()) {
      errs.push_back(forbidden("spec.clusterIP", "may not be set for ExternalName services"));
    }
    if (ips && ips->is_array() && !ips->empty()) {
      errs.push_back(forbidden("spec.clusterIPs", "may not be set for ExternalName services"));
    }
    if (get(spec, "ipFamilies")) {
      errs.push_back(forbidden("spec.ipFamilies", "may not be set for ExternalName services"));
    }
    if (get(spec, "ipFamilyPolicy")) {
      errs.push_back(forbidden("spec.ipFamilyPolicy", "may not be set for ExternalName services"));
    }
    return;
  }
  if (ips && ips->is_array() && !ips->empty()) {
    if (!clusterIP.empty() && (*ips)[0] != clusterIP) {
      errs.push_back(invalid("spec.clusterIPs", *ips,
                             "element [0] must match the first element of `clusterIPs`"));
    }
    for (size_t i = 0; i < ips->size(); ++i) {
      std::string ip = (*ips)[i].is_string() ? (*ips)[i].get<std::string>() : "";
      if (ip == "None" && i == 0) continue;
      if (!isIP(ip)) errs.push_back(invalid(index("spec.clusterIPs", i), ip, kIPError));
    }
  } else if (!clusterIP.empty() && clusterIP != "None" && !isIP(clusterIP)) {
    errs.push_back(invalid("spec.clusterIP", clusterIP, kIPError));
  }
  if (clusterIP == "None" && (type == "NodePort" || type == "LoadBalancer")) {
    errs.push_back(invalid("spec.clusterIPs[0]", clusterIP,
                           "may not be set to 'None' for " + type + " services"));
  }
  if (const Json* fams = get(spec, "ipFamilies"); fams && fams->is_array()) {
    std::set<std::string> seen;
    for (size_t i = 0; i < fams->size(); ++i) {
      std::string f = (*fams)[i].is_string() ? (*fams)[i].get<std::string>() : "";
      if (!in(f, {"IPv4", "IPv6"})) {
        errs.push_back(notSupported(index("spec.ipFamilies", i), f, {"IPv4", "IPv6"}));
      } else if (!seen.insert(f).second) {
        errs.push_back(duplicate(index("spec.ipFamilies", i), f));
      }
    }
  }
  std::string policy = getString(spec, "ipFamilyPolicy");
  if (!policy.empty() && !in(policy, {"SingleStack", "PreferDualStack", "RequireDualStack"})) {
    errs.push_back(notSupported("spec.ipFamilyPolicy", policy,
                                {"PreferDualStack", "RequireDualStack", "SingleStack"}));
  }
}

Cause onlyForLoadBalancer(const char* field) {
  return forbidden(field, "may only be used when `type` is 'LoadBalancer'");
}

bool isSpecialIP(const std::string& ip, std::string* why) {
  if (isIPv4(ip)) {
    unsigned a = 0, b = 0, c = 0, d = 0;
    std::sscanf(ip.c_str(), "%u.%u.%u.%u", &a, &b, &c, &d);
    if (a == 0 && b == 0 && c == 0 && d == 0)
      return *why = "may not be unspecified (0.0.0.0)", true;
    if (a == 127) return *why = "may not be in the loopback range (127.0.0.0/8, ::1/128)", true;
    if (a == 169 && b == 254) {
      return *why = "may not be in the link-local range (169.254.0.0/16, fe80::/10)", true;
    }
    if (a == 224 && b == 0 && c == 0) {
      return *why = "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)", true;
    }
    return false;
  }
  std::string lower = ip;
  for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (lower == "::") return *why = "may not be unspecified (::)", true;
  if (lower == "::1") return *why = "may not be in the loopback range (127.0.0.0/8, ::1/128)", true;
  if (lower.rfind("fe8", 0) == 0 || lower.rfind("fe9", 0) == 0 || lower.rfind("fea", 0) == 0 ||
      lower.rfind("feb", 0) == 0) {
    return *why = "may not be in the link-local range (169.254.0.0/16, fe80::/10)", true;
  }
  if (lower.rfind("ff02:", 0) == 0) {
    return *why = "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)", true;
  }
  return false;
}

}  // namespace

void validateService(const Json& svc, FieldErrors& errs) {
  const Json* specp = get(svc, "spec");
  const Json& spec = valueOrEmptyObject(specp);
  std::string type = getString(spec, "type");
  static const std::vector<std::string> types = {"ClusterIP", "ExternalName", "LoadBalancer",
                                                 "NodePort"};
  if (type.empty()) {
    errs.push_back(required("spec.type"));
  } else if (!in(type, types)) {
    errs.push_back(notSupported("spec.type", type, types));
  }
  bool headless = getString(spec, "clusterIP") == "None";
  if (type == "ExternalName") {
    std::string name = getString(spec, "externalName");
    if (name.empty()) {
      errs.push_back(required("spec.externalName"));
    } else {
      std::string clean = name.back() == '.' ? name.substr(0, name.size() - 1) : name;
      for (const std::string& m : isDns1123Subdomain(clean)) {
        errs.push_back(invalid("spec.externalName", name, m));
      }
    }
  }
  validateServicePorts(spec, headless, type, errs);
  if (const Json* sel = get(spec, "selector")) validateLabels(*sel, "spec.selector", errs);
  validateAffinity(spec, errs);
  validateClusterIPs(spec, type, errs);
  if (const Json* eips = get(spec, "externalIPs"); eips && eips->is_array()) {
    for (size_t i = 0; i < eips->size(); ++i) {
      std::string ip = (*eips)[i].is_string() ? (*eips)[i].get<std::string>() : "";
      if (!isIP(ip)) errs.push_back(invalid(index("spec.externalIPs", i), ip, kIPError));
    }
  }
  if (type != "LoadBalancer") {
    if (const Json* r = get(spec, "loadBalancerSourceRanges"); r && r->is_array() && !r->empty()) {
      errs.push_back(onlyForLoadBalancer("spec.loadBalancerSourceRanges"));
    }
    if (get(spec, "allocateLoadBalancerNodePorts")) {
      errs.push_back(onlyForLoadBalancer("spec.allocateLoadBalancerNodePorts"));
    }
    if (get(spec, "loadBalancerClass"))
      errs.push_back(onlyForLoadBalancer("spec.loadBalancerClass"));
  } else if (const Json* r = get(spec, "loadBalancerSourceRanges"); r && r->is_array()) {
    for (size_t i = 0; i < r->size(); ++i) {
      std::string cidr = (*r)[i].is_string() ? (*r)[i].get<std::string>() : "";
      if (!isCIDR(cidr)) {
        errs.push_back(invalid("spec.loadBalancerSourceRanges", cidr,
                               "must be a list of IP ranges. For example, 10.240.0.0/24,"
                               "10.250.0.0/24 "));
      }
    }
  }
  std::string etp = getString(spec, "externalTrafficPolicy");
  if (type == "NodePort" || type == "LoadBalancer") {
    if (etp.empty()) {
      errs.push_back(required("spec.externalTrafficPolicy"));
    } else if (!in(etp, {"Cluster", "Local"})) {
      errs.push_back(notSupported("spec.externalTrafficPolicy", etp, {"Cluster", "Local"}));
    }
  } else if (!etp.empty()) {
    errs.push_back(invalid("spec.externalTrafficPolicy", etp,
                           "may only be set when `type` is 'NodePort' or 'LoadBalancer'"));
  }
  if (const Json* hc = get(spec, "healthCheckNodePort"); hc && intOf(hc) != 0) {
    if (type != "LoadBalancer" || etp != "Local") {
      errs.push_back(invalid("spec.healthCheckNodePort", *hc,
                             "may only be set when `type` is 'LoadBalancer' and "
                             "`externalTrafficPolicy` is 'Local'"));
    } else {
      for (const std::string& m : isInRange(intOf(hc), 1, 65535)) {
        errs.push_back(invalid("spec.healthCheckNodePort", *hc, m));
      }
    }
  }
  std::string itp = getString(spec, "internalTrafficPolicy");
  if (type != "ExternalName") {
    if (itp.empty()) {
      errs.push_back(required("spec.internalTrafficPolicy"));
    } else if (!in(itp, {"Cluster", "Local"})) {
      errs.push_back(notSupported("spec.internalTrafficPolicy", itp, {"Cluster", "Local"}));
    }
  }
  std::string td = getString(spec, "trafficDistribution");
  if (!td.empty() && td != "PreferClose") {
    errs.push_back(notSupported("spec.trafficDistribution", td, {"PreferClose"}));
  }
}

void validateServiceUpdate(const Json& svc, const Json& old, FieldErrors& errs) {
  const Json* s = get(svc, "spec");
  const Json* o = get(old, "spec");
  const Json& spec = valueOrEmptyObject(s);
  const Json& oldSpec = valueOrEmptyObject(o);
  std::string type = getString(spec, "type"), oldType = getString(oldSpec, "type");
  // The cluster IPs as the object states them: clusterIPs, else [clusterIP].
  auto ipsOf = [](const Json& sp) {
    const Json* ips = get(sp, "clusterIPs");
    if (ips && ips->is_array() && !ips->empty()) return *ips;
    std::string ip = getString(sp, "clusterIP");
    return ip.empty() ? Json::array() : Json::array({ip});
  };
  Json ips = ipsOf(spec), oldIPs = ipsOf(oldSpec);
  // As validateUpgradeDowngradeClusterIPs: the primary IP may not change unless
  // the service is moving to or from ExternalName. An update that leaves the IPs
  // out keeps the allocated ones (the REST layer copies them, as Kubernetes'
  // patchAllocatedValues does), so absence is not a change.
  if (type != "ExternalName" && oldType != "ExternalName" && !oldIPs.empty() && !ips.empty() &&
      ips[0] != oldIPs[0]) {
    errs.push_back(invalid("spec.clusterIPs[0]", ips, "may not change once set"));
  }
  std::string lbc = getString(spec, "loadBalancerClass");
  std::string oldLbc = getString(oldSpec, "loadBalancerClass");
  if (type == "LoadBalancer" && oldType == "LoadBalancer" && lbc != oldLbc) {
    errs.push_back(invalid("spec.loadBalancerClass", lbc.empty() ? Json() : Json(lbc),
                           "may not change once set"));
  }
}

void validateEndpoints(const Json& ep, FieldErrors& errs) {
  const Json* subsets = get(ep, "subsets");
  if (!subsets || !subsets->is_array()) return;
  for (size_t i = 0; i < subsets->size(); ++i) {
    const Json& ss = (*subsets)[i];
    std::string sp = index("subsets", i);
    const Json* addrs = get(ss, "addresses");
    const Json* notReady = get(ss, "notReadyAddresses");
    bool none = (!addrs || !addrs->is_array() || addrs->empty()) &&
                (!notReady || !notReady->is_array() || notReady->empty());
    if (none) {
      errs.push_back(required(sp, "must specify `addresses` or `notReadyAddresses`"));
    }
    for (const char* list : {"addresses", "notReadyAddresses"}) {
      const Json* as = get(ss, list);
      if (!as || !as->is_array()) continue;
      for (size_t j = 0; j < as->size(); ++j) {
        const Json& a = (*as)[j];
        std::string ap = index(child(sp, list), j);
        std::string ip = getString(a, "ip");
        std::string why;
        if (!isIP(ip)) {
          errs.push_back(invalid(child(ap, "ip"), ip, "must be a valid IP address"));
        } else if (isSpecialIP(ip, &why)) {
          errs.push_back(invalid(child(ap, "ip"), ip, why));
        }
        std::string host = getString(a, "hostname");
        if (!host.empty()) {
          for (const std::string& m : isDns1123Label(host)) {
            errs.push_back(invalid(child(ap, "hostname"), host, m));
          }
        }
        std::string node = getString(a, "nodeName");
        if (!node.empty()) {
          for (const std::string& m : isDns1123Subdomain(node)) {
            errs.push_back(invalid(child(ap, "nodeName"), node, m));
          }
        }
      }
    }
    const Json* ports = get(ss, "ports");
    size_t n = ports && ports->is_array() ? ports->size() : 0;
    if (n == 0) errs.push_back(required(child(sp, "ports")));
    std::set<std::string> names;
    for (size_t j = 0; j < n; ++j) {
      const Json& port = (*ports)[j];
      std::string pp = index(child(sp, "ports"), j);
      validatePortName(port, n > 1, pp, names, errs);
      const Json* pn = get(port, "port");
      for (const std::string& m : isInRange(intOf(pn), 1, 65535)) {
        errs.push_back(invalid(child(pp, "port"), pn ? *pn : Json(0), m));
      }
      validateProtocol(port, pp, errs);
    }
  }
}

void validateNode(const Json& node, FieldErrors& errs) {
  const Json* spec = get(node, "spec");
  if (!spec) return;
  std::string cidr = getString(*spec, "podCIDR");
  if (!cidr.empty() && !isCIDR(cidr)) {
    errs.push_back(invalid("spec.podCIDR", cidr, "must be a valid CIDR"));
  }
  if (const Json* cidrs = get(*spec, "podCIDRs"); cidrs && cidrs->is_array()) {
    for (size_t i = 0; i < cidrs->size(); ++i) {
      std::string c = (*cidrs)[i].is_string() ? (*cidrs)[i].get<std::string>() : "";
      if (!isCIDR(c)) errs.push_back(invalid(index("spec.podCIDRs", i), c, "must be a valid CIDR"));
    }
  }
  if (const Json* taints = get(*spec, "taints"); taints && taints->is_array()) {
    std::set<std::string> seen;
    for (size_t i = 0; i < taints->size(); ++i) {
      const Json& t = (*taints)[i];
      std::string p = index("spec.taints", i);
      std::string k = getString(t, "key");
      for (const std::string& m : isQualifiedName(k))
        errs.push_back(invalid(child(p, "key"), k, m));
      std::string effect = getString(t, "effect");
      static const std::vector<std::string> effects = {"NoSchedule", "PreferNoSchedule",
                                                       "NoExecute"};
      if (effect.empty()) {
        errs.push_back(required(child(p, "effect")));
      } else if (!in(effect, effects)) {
        errs.push_back(notSupported(child(p, "effect"), effect, effects));
      }
      if (!seen.insert(k + ":" + effect).second) {
        errs.push_back(duplicate(p, t));
      }
    }
  }
}

void validateEvent(const Json& ev, FieldErrors& errs) {
  const Json* meta = get(ev, "metadata");
  std::string ns = meta ? getString(*meta, "namespace") : "";
  const Json* io = get(ev, "involvedObject");
  std::string ioNs = io ? getString(*io, "namespace") : "";
  if (ioNs.empty()) {
    if (!ns.empty() && ns != "default") {
      errs.push_back(invalid("involvedObject.namespace", ioNs, "does not match event.namespace"));
    }
  } else if (ns != ioNs) {
    errs.push_back(invalid("involvedObject.namespace", ioNs, "does not match event.namespace"));
  }
  const Json* count = get(ev, "count");
  if (count && intOf(count) < 0) {
    errs.push_back(invalid("count", *count, "must be greater than or equal to 0"));
  }
}

}  // namespace skiff::api::detail
