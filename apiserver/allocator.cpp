#include "apiserver/allocator.h"

#include <arpa/inet.h>

#include <random>

#include "api/validation.h"
#include "apiserver/objects.h"
#include "base/log.h"

namespace skiff::apiserver {

using api::Json;

namespace {

std::string ownerOf(const Json& svc) {
  const Json& md = svc["metadata"];
  return md.value("namespace", "") + "/" + md.value("name", "");
}

std::string specType(const Json& svc) {
  const Json& spec = svc.contains("spec") ? svc["spec"] : Json::object();
  std::string t = spec.is_object() ? spec.value("type", "") : "";
  return t.empty() ? "ClusterIP" : t;
}

bool needsClusterIp(const Json& svc) {
  return specType(svc) != "ExternalName";
}

bool needsNodePorts(const Json& svc) {
  std::string t = specType(svc);
  if (t == "NodePort") return true;
  if (t == "LoadBalancer") {
    const Json& spec = svc["spec"];
    return !(spec.contains("allocateLoadBalancerNodePorts") &&
             spec["allocateLoadBalancerNodePorts"].is_boolean() &&
             !spec["allocateLoadBalancerNodePorts"].get<bool>());
  }
  return false;
}

std::string clusterIpOf(const Json& svc) {
  if (!svc.contains("spec") || !svc["spec"].is_object()) return "";
  const Json& spec = svc["spec"];
  if (spec.contains("clusterIP") && spec["clusterIP"].is_string())
    return spec["clusterIP"].get<std::string>();
  if (spec.contains("clusterIPs") && spec["clusterIPs"].is_array() && !spec["clusterIPs"].empty() &&
      spec["clusterIPs"][0].is_string())
    return spec["clusterIPs"][0].get<std::string>();
  return "";
}

// A LoadBalancer Service that skiff's pool serves (another loadBalancerClass is
// some other controller's).
bool wantsPoolIp(const Json& svc) {
  if (specType(svc) != "LoadBalancer") return false;
  const Json& spec = svc["spec"];
  return !(spec.contains("loadBalancerClass") && spec["loadBalancerClass"].is_string() &&
           !spec["loadBalancerClass"].get<std::string>().empty());
}

// status.loadBalancer.ingress[0].ip, or "".
std::string ingressIpOf(const Json& svc) {
  if (!svc.is_object() || !svc.contains("status") || !svc["status"].is_object()) return "";
  const Json& st = svc["status"];
  if (!st.contains("loadBalancer") || !st["loadBalancer"].is_object()) return "";
  const Json& lb = st["loadBalancer"];
  if (!lb.contains("ingress") || !lb["ingress"].is_array() || lb["ingress"].empty()) return "";
  const Json& first = lb["ingress"][0];
  return first.is_object() && first.contains("ip") && first["ip"].is_string()
             ? first["ip"].get<std::string>()
             : "";
}

// Kubernetes' needsHCNodePort: a LoadBalancer keeping client addresses gets a
// port its load balancer can ask "any endpoint here?" (netproxy/health_server.h).
bool needsHealthCheckPort(const Json& svc) {
  if (specType(svc) != "LoadBalancer") return false;
  const Json& spec = svc["spec"];
  return spec.contains("externalTrafficPolicy") && spec["externalTrafficPolicy"] == "Local";
}

int healthCheckPortOf(const Json& svc) {
  if (!svc.contains("spec") || !svc["spec"].is_object()) return 0;
  const Json& spec = svc["spec"];
  if (spec.contains("healthCheckNodePort") && spec["healthCheckNodePort"].is_number_integer())
    return spec["healthCheckNodePort"].get<int>();
  return 0;
}

int nodePortOf(const Json& port) {
  if (port.is_object() && port.contains("nodePort") && port["nodePort"].is_number_integer())
    return port["nodePort"].get<int>();
  return 0;
}

}  // namespace

std::optional<uint32_t> parseIpv4(const std::string& text) {
  in_addr a{};
  if (inet_pton(AF_INET, text.c_str(), &a) != 1) return std::nullopt;
  return ntohl(a.s_addr);
}

std::string formatIpv4(uint32_t ip) {
  in_addr a{};
  a.s_addr = htonl(ip);
  char buf[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, &a, buf, sizeof buf);
  return buf;
}

Result<Ipv4Cidr> parseCidr(const std::string& text) {
  auto slash = text.find('/');
  if (slash == std::string::npos) return makeError(Code::kBadRequest, "invalid CIDR " + text);
  auto ip = parseIpv4(text.substr(0, slash));
  int prefix = -1;
  try {
    prefix = std::stoi(text.substr(slash + 1));
  } catch (...) {
  }
  if (!ip || prefix < 8 || prefix > 30)
    return makeError(Code::kBadRequest, "invalid service CIDR " + text + " (IPv4, /8 to /30)");
  Ipv4Cidr c;
  c.prefix = prefix;
  uint32_t mask = prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix);
  c.network = *ip & mask;
  return c;
}

std::set<std::string> heldAllocationKeys(const Json& svc) {
  std::set<std::string> keys;
  if (needsClusterIp(svc)) {
    std::string ip = clusterIpOf(svc);
    if (!ip.empty() && ip != "None") keys.insert(kClusterIpPrefix + ip);
  }
  if (svc.contains("spec") && svc["spec"].is_object() && svc["spec"].contains("ports") &&
      svc["spec"]["ports"].is_array()) {
    for (const auto& p : svc["spec"]["ports"]) {
      int np = nodePortOf(p);
      if (np > 0) keys.insert(kNodePortPrefix + std::to_string(np));
    }
  }
  if (wantsPoolIp(svc)) {
    std::string ip = ingressIpOf(svc);
    if (parseIpv4(ip)) keys.insert(kLoadBalancerIpPrefix + ip);
  }
  if (needsHealthCheckPort(svc) && healthCheckPortOf(svc) > 0)
    keys.insert(kNodePortPrefix + std::to_string(healthCheckPortOf(svc)));
  return keys;
}

Result<std::unique_ptr<ServiceAllocator>> ServiceAllocator::create(storage::Store& store,
                                                                   const RestOptions& options) {
  auto cidr = parseCidr(options.serviceCidr);
  if (!cidr) return cidr.error();
  if (options.nodePortMin < 1 || options.nodePortMax > 65535 ||
      options.nodePortMin > options.nodePortMax)
    return makeError(Code::kBadRequest, "invalid node port range");
  std::optional<Ipv4Cidr> lb;
  if (!options.loadBalancerCidr.empty()) {
    auto parsed = parseCidr(options.loadBalancerCidr);
    if (!parsed)
      return makeError(Code::kBadRequest, "invalid load-balancer CIDR " + options.loadBalancerCidr +
                                              " (IPv4, /8 to /30)");
    lb = *parsed;
  }
  return std::unique_ptr<ServiceAllocator>(new ServiceAllocator(store, options, *cidr, lb));
}

bool ServiceAllocator::taken(const std::string& key) {
  auto r = store_.get(key);
  return r.ok() || r.error().code != Code::kNotFound;
}

std::optional<std::string> ServiceAllocator::pickIp(const std::set<std::string>& avoid) {
  // As Kubernetes: the lowest addresses form a static band that users pick
  // from by hand; dynamic allocation prefers the rest of the range.
  uint64_t usable = cidr_.size() - 2;
  uint64_t band = std::min<uint64_t>(std::max<uint64_t>(16, cidr_.size() / 16), 256);
  uint64_t lo = 1, hi = usable;  // offsets from the network address, inclusive
  if (usable > band * 2) lo = band + 1;
  for (int pass = 0; pass < 2; ++pass) {
    std::uniform_int_distribution<uint64_t> dist(lo, hi);
    for (int attempt = 0; attempt < 64; ++attempt) {
      std::string ip = formatIpv4(cidr_.network + static_cast<uint32_t>(dist(rng())));
      std::string key = kClusterIpPrefix + ip;
      if (!avoid.count(key) && !taken(key)) return ip;
    }
    lo = 1;
  }
  // Nearly full: walk the range.
  for (uint64_t off = 1; off <= usable; ++off) {
    std::string ip = formatIpv4(cidr_.network + static_cast<uint32_t>(off));
    std::string key = kClusterIpPrefix + ip;
    if (!avoid.count(key) && !taken(key)) return ip;
  }
  return std::nullopt;
}

std::optional<int> ServiceAllocator::pickPort(const std::set<std::string>& avoid) {
  std::uniform_int_distribution<int> dist(options_.nodePortMin, options_.nodePortMax);
  for (int attempt = 0; attempt < 64; ++attempt) {
    int p = dist(rng());
    std::string key = kNodePortPrefix + std::to_string(p);
    if (!avoid.count(key) && !taken(key)) return p;
  }
  for (int p = options_.nodePortMin; p <= options_.nodePortMax; ++p) {
    std::string key = kNodePortPrefix + std::to_string(p);
    if (!avoid.count(key) && !taken(key)) return p;
  }
  return std::nullopt;
}

std::optional<std::string> ServiceAllocator::pickLoadBalancerIp(
    const std::set<std::string>& avoid) {
  if (!lbCidr_) return std::nullopt;
  // Lowest free address first, as MetalLB does: small pools read predictably.
  for (uint64_t off = 1; off + 1 < lbCidr_->size(); ++off) {
    std::string ip = formatIpv4(lbCidr_->network + static_cast<uint32_t>(off));
    std::string key = kLoadBalancerIpPrefix + ip;
    if (!avoid.count(key) && !taken(key)) return ip;
  }
  return std::nullopt;
}

void ServiceAllocator::releaseIfOwned(const std::string& key, const std::string& owner,
                                      std::vector<storage::Op>& ops) {
  auto r = store_.get(key);
  if (!r || r->value != owner) return;
  storage::Op op;
  op.kind = storage::Op::Kind::kDelete;
  op.key = key;
  op.expectedRevision = r->modRevision;
  ops.push_back(std::move(op));
}

Result<AllocationPlan> ServiceAllocator::plan(Json& svc, const Json* old,
                                              const std::set<std::string>& avoid) {
  AllocationPlan plan;
  std::string owner = ownerOf(svc);
  if (!svc.contains("spec") || !svc["spec"].is_object()) svc["spec"] = Json::object();
  Json& spec = svc["spec"];
  std::set<std::string> oldKeys = old ? heldAllocationKeys(*old) : std::set<std::string>{};
  api::FieldErrors errors;
  std::set<std::string> planned;  // keys created in this plan
  auto takeKey = [&](const std::string& key, bool automatic, const Cause& cause) {
    if (oldKeys.count(key) || planned.count(key)) return;
    planned.insert(key);
    storage::Op op;
    op.kind = storage::Op::Kind::kCreate;
    op.key = key;
    op.encode = [owner](storage::Revision) { return owner; };
    plan.ops.push_back(std::move(op));
    if (automatic) {
      plan.autoKeys.insert(key);
    } else {
      plan.userKeys[key] = cause;
    }
  };

  // ClusterIP.
  if (!needsClusterIp(svc)) {
    // Changing to ExternalName drops the address the Service held.
    if (old && clusterIpOf(svc) == clusterIpOf(*old)) {
      spec.erase("clusterIP");
      spec.erase("clusterIPs");
      spec.erase("ipFamilies");
      spec.erase("ipFamilyPolicy");
    }
  } else {
    std::string ip = clusterIpOf(svc);
    if (ip.empty() && old) ip = clusterIpOf(*old);  // a PUT that leaves it out keeps it
    if (ip.empty()) {
      std::set<std::string> avoidNow = avoid;
      auto picked = pickIp(avoidNow);
      if (!picked) {
        return api::invalidError({"", "v1", "Service"}, svc["metadata"].value("name", ""),
                                 {api::invalid("spec.clusterIPs", Json::array(),
                                               "failed to allocate a serviceIP: range is full")});
      }
      ip = *picked;
      takeKey(kClusterIpPrefix + ip, true, {});
    } else if (ip != "None") {
      auto parsed = parseIpv4(ip);
      if (parsed && !cidr_.usable(*parsed)) {
        errors.push_back(api::invalid(
            "spec.clusterIPs", Json::array({ip}),
            "failed to allocate IP " + ip + ": the provided IP (" + ip +
                ") is not in the valid range. The range of valid IPs is " + options_.serviceCidr));
      } else if (parsed) {
        takeKey(kClusterIpPrefix + ip, false,
                api::invalid("spec.clusterIPs", Json::array({ip}),
                             "failed to allocate IP " + ip + ": provided IP is already allocated"));
      }
      // Unparseable addresses are validation's to report.
    }
    spec["clusterIP"] = ip;
    spec["clusterIPs"] = Json::array({ip});
    if (!spec.contains("ipFamilies")) spec["ipFamilies"] = Json::array({"IPv4"});
    if (!spec.contains("ipFamilyPolicy")) spec["ipFamilyPolicy"] = "SingleStack";
  }

  // Fields that only mean something for some types go when the type changes
  // away, if the user left them as they were (Kubernetes'
  // dropTypeDependentFields): LoadBalancer -> NodePort drops
  // allocateLoadBalancerNodePorts and loadBalancerClass, -> ClusterIP also
  // externalTrafficPolicy. (healthCheckNodePort: below.)
  if (old && (*old)["spec"].is_object()) {
    const Json& oldSpec = (*old)["spec"];
    const std::string type = specType(svc);
    const bool lb = type == "LoadBalancer";
    const bool external = lb || type == "NodePort";
    auto dropIfKept = [&](const char* f) {
      if (spec.contains(f) && oldSpec.contains(f) && spec[f] == oldSpec[f]) spec.erase(f);
    };
    if (!lb) dropIfKept("allocateLoadBalancerNodePorts");
    if (!lb) dropIfKept("loadBalancerClass");
    if (!external) dropIfKept("externalTrafficPolicy");
  }

  // The node port for `field`: `np` when the user asked for one (checked
  // against the range and, with `unshared`, against this plan's other node
  // ports), else a free one. 0 when none is free; errors go to `errors`.
  auto claimNodePort = [&](const std::string& field, int np, bool unshared) -> int {
    const std::string key = kNodePortPrefix + std::to_string(np);
    if (np == 0) {
      std::set<std::string> avoidNow = avoid;
      avoidNow.insert(planned.begin(), planned.end());
      auto picked = pickPort(avoidNow);
      if (!picked) {
        errors.push_back(api::invalid(field, 0, "range is full"));
        return 0;
      }
      takeKey(kNodePortPrefix + std::to_string(*picked), true, {});
      return *picked;
    }
    if (np < options_.nodePortMin || np > options_.nodePortMax) {
      errors.push_back(api::invalid(field, np,
                                    "provided port is not in the valid range. The range of "
                                    "valid ports is " +
                                        std::to_string(options_.nodePortMin) + "-" +
                                        std::to_string(options_.nodePortMax)));
    } else if (unshared && planned.count(key)) {
      errors.push_back(api::invalid(field, np, "provided port is already allocated"));
    } else {
      takeKey(key, false, api::invalid(field, np, "provided port is already allocated"));
    }
    return np;
  };

  // NodePorts.
  if (spec.contains("ports") && spec["ports"].is_array()) {
    Json& ports = spec["ports"];
    const Json* oldPorts = nullptr;
    if (old && old->contains("spec") && (*old)["spec"].contains("ports") &&
        (*old)["spec"]["ports"].is_array())
      oldPorts = &(*old)["spec"]["ports"];
    bool want = needsNodePorts(svc);
    for (size_t i = 0; i < ports.size(); ++i) {
      Json& port = ports[i];
      if (!port.is_object()) continue;
      int np = nodePortOf(port);
      if (!want) {
        // Changing away from NodePort/LoadBalancer drops the ports it held.
        if (np > 0 && oldKeys.count(kNodePortPrefix + std::to_string(np))) port.erase("nodePort");
        continue;
      }
      if (np == 0 && oldPorts) {
        // A PUT that leaves nodePort out keeps the one this port had.
        for (const auto& op : *oldPorts) {
          if (!op.is_object() || nodePortOf(op) == 0) continue;
          bool samePort = op.value("port", 0) == port.value("port", -1) &&
                          op.value("protocol", "TCP") == port.value("protocol", "TCP");
          bool sameName =
              !port.value("name", "").empty() && op.value("name", "") == port.value("name", "");
          if (samePort || sameName) {
            np = nodePortOf(op);
            break;
          }
        }
      }
      // (Two ports of one Service may share a node port: 53/TCP and 53/UDP.)
      np = claimNodePort("spec.ports[" + std::to_string(i) + "].nodePort", np, false);
      if (np != 0) port["nodePort"] = np;
    }
  }
  // The health check port of a LoadBalancer with externalTrafficPolicy: Local,
  // from the node port range (Kubernetes' allocHealthCheckNodePort).
  if (old && needsHealthCheckPort(*old) && !needsHealthCheckPort(svc) &&
      healthCheckPortOf(svc) == healthCheckPortOf(*old)) {
    spec.erase("healthCheckNodePort");  // policy or type changed: it goes back
  }
  if (needsHealthCheckPort(svc)) {
    int hc = healthCheckPortOf(svc);
    const bool had = old && needsHealthCheckPort(*old) && healthCheckPortOf(*old) > 0;
    if (hc == 0 && had) hc = healthCheckPortOf(*old);  // a PUT that leaves it out keeps it
    const std::string field = "spec.healthCheckNodePort";
    if (had && hc != healthCheckPortOf(*old)) {
      errors.push_back(api::invalid(field, hc,
                                    "cannot change healthCheckNodePort on loadBalancer service "
                                    "with externalTraffic=Local during update"));
    } else {
      hc = claimNodePort(field, hc, true);
    }
    if (hc != 0) spec["healthCheckNodePort"] = hc;
  }

  // LoadBalancer ingress IP, written to the status in this same write.
  if (lbCidr_ && wantsPoolIp(svc)) {
    std::string requested = spec.contains("loadBalancerIP") && spec["loadBalancerIP"].is_string()
                                ? spec["loadBalancerIP"].get<std::string>()
                                : "";
    std::string ip = requested.empty() && old && wantsPoolIp(*old) ? ingressIpOf(*old) : requested;
    if (!requested.empty()) {
      auto parsed = parseIpv4(requested);
      if (!parsed || !lbCidr_->usable(*parsed)) {
        errors.push_back(api::invalid("spec.loadBalancerIP", requested,
                                      "must be an address of the load-balancer pool " +
                                          options_.loadBalancerCidr +
                                          " (or leave it out to get one)"));
        ip.clear();
      } else {
        takeKey(kLoadBalancerIpPrefix + requested, false,
                api::invalid(
                    "spec.loadBalancerIP", requested,
                    "failed to allocate IP " + requested + ": provided IP is already allocated"));
      }
    } else if (ip.empty()) {
      std::set<std::string> avoidNow = avoid;
      avoidNow.insert(planned.begin(), planned.end());
      auto picked = pickLoadBalancerIp(avoidNow);
      if (!picked) {
        errors.push_back(api::invalid("spec.type", "LoadBalancer",
                                      "failed to allocate a load-balancer IP: the pool " +
                                          options_.loadBalancerCidr + " is full"));
      } else {
        ip = *picked;
        takeKey(kLoadBalancerIpPrefix + ip, true, {});
      }
    }
    if (!ip.empty()) {
      if (!svc.contains("status") || !svc["status"].is_object()) svc["status"] = Json::object();
      svc["status"]["loadBalancer"] = {{"ingress", Json::array({{{"ip", ip}, {"ipMode", "VIP"}}})}};
    }
  } else if (old && wantsPoolIp(*old) && !ingressIpOf(*old).empty() &&
             ingressIpOf(svc) == ingressIpOf(*old)) {
    // The type changed away (or to another class): the address goes back.
    svc["status"]["loadBalancer"] = Json::object();
  }
  if (!errors.empty())
    return api::invalidError({"", "v1", "Service"}, svc["metadata"].value("name", ""), errors);

  // Release what the old state held and the new one does not.
  std::set<std::string> newKeys = heldAllocationKeys(svc);
  for (const auto& key : oldKeys)
    if (!newKeys.count(key)) releaseIfOwned(key, owner, plan.ops);
  return plan;
}

std::vector<storage::Op> ServiceAllocator::releaseOps(const Json& svc) {
  std::vector<storage::Op> ops;
  std::string owner = ownerOf(svc);
  for (const auto& key : heldAllocationKeys(svc)) releaseIfOwned(key, owner, ops);
  return ops;
}

Status ServiceAllocator::repair() {
  auto services = store_.list("/registry/services/");
  if (!services) return services.error();
  std::map<std::string, std::string> expected;  // key -> owner
  for (const auto& rec : services->items) {
    Json svc = api::parseStoredJson(rec.value);
    if (svc.is_discarded()) continue;
    for (const auto& key : heldAllocationKeys(svc)) expected[key] = ownerOf(svc);
  }
  std::vector<storage::Op> ops;
  for (const char* prefix : {kClusterIpPrefix, kNodePortPrefix, kLoadBalancerIpPrefix}) {
    auto held = store_.list(prefix);
    if (!held) return held.error();
    for (const auto& rec : held->items) {
      auto it = expected.find(rec.key);
      if (it != expected.end() && it->second == rec.value) {
        expected.erase(it);
        continue;
      }
      storage::Op op;
      op.kind = storage::Op::Kind::kDelete;
      op.key = rec.key;
      op.expectedRevision = rec.modRevision;
      ops.push_back(std::move(op));
    }
  }
  if (!ops.empty()) {
    logInfo("allocator repair: dropping stale allocations",
            {{"count", std::to_string(ops.size())}});
    auto r = store_.commitSync(std::move(ops));
    if (!r) return r.error();
  }
  std::vector<storage::Op> creates;
  for (const auto& [key, owner] : expected) {
    if (store_.get(key).ok()) continue;
    storage::Op create;
    create.key = key;
    std::string o = owner;
    create.encode = [o](storage::Revision) { return o; };
    creates.push_back(std::move(create));
  }
  if (!creates.empty()) {
    logInfo("allocator repair: recording missing allocations",
            {{"count", std::to_string(creates.size())}});
    auto r = store_.commitSync(std::move(creates));
    if (!r) return r.error();
  }
  return {};
}

}  // namespace skiff::apiserver
