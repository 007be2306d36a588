// The compact model netproxy programs into the kernel: core/v1 Services and
// Endpoints reduced to what the data plane needs (addresses, ports, ready
// endpoints, affinity, traffic policy).
//
// serviceFromJson() is a pure function of one Service and its Endpoints (same
// namespace and name). Everything that reaches the nftables text is checked
// here: addresses are dotted-quad IPv4 (IPv6 is ignored until the `ip6 skiff`
// table exists), ports are 1..65535, so no user string is ever pasted into a
// ruleset. ExternalName and headless (`clusterIP: None`) Services yield no
// rules (std::nullopt); they exist for DNS only.
//
// Endpoint ports are matched to Service ports by port name (and protocol), as
// kube-proxy does; only `addresses` count, never `notReadyAddresses`.
//
// Thread-safety: plain values.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "api/json.h"
#include "base/result.h"

namespace skiff::netproxy {

enum class Protocol { kTcp, kUdp, kSctp };
// "TCP", "UDP", "SCTP" (a Service port's protocol); nullopt for anything else.
std::optional<Protocol> protocolFromName(const std::string& name);
const char* protocolName(Protocol p);  // "tcp", "udp", "sctp" (nft spelling)

struct Endpoint {
  std::string ip;  // IPv4, validated
  int port = 0;
  auto operator<=>(const Endpoint&) const = default;
};

struct ServicePortInfo {
  std::string name;  // Service port name ("" for a single unnamed port)
  Protocol protocol = Protocol::kTcp;
  int port = 0;                     // the Service port
  int nodePort = 0;                 // 0: none (ClusterIP Services, or not allocated yet)
  std::vector<Endpoint> endpoints;  // ready endpoints, sorted, unique
  bool operator==(const ServicePortInfo&) const = default;
};

struct ServiceInfo {
  std::string ns;
  std::string name;
  std::string type = "ClusterIP";            // ClusterIP, NodePort, LoadBalancer
  std::vector<std::string> clusterIPs;       // IPv4 only
  std::vector<std::string> externalIPs;      // spec.externalIPs
  std::vector<std::string> loadBalancerIPs;  // status.loadBalancer.ingress[].ip
  bool affinity = false;                     // sessionAffinity: ClientIP
  int affinityTimeoutSeconds = 10800;        // sessionAffinityConfig.clientIP.timeoutSeconds
  bool externalLocal = false;                // externalTrafficPolicy: Local
  int healthCheckNodePort = 0;               // LoadBalancer + Local: spec.healthCheckNodePort
  // LoadBalancer with spec.loadBalancerSourceRanges: only these sources may
  // connect to its ingress IPs. IPv4 CIDRs with the host bits cleared
  // ("10.0.0.0/8"), sorted, unique (empty with restrictSources: IPv6 ranges
  // only, so no IPv4 source).
  bool restrictSources = false;
  std::vector<std::string> sourceRanges;
  std::vector<ServicePortInfo> ports;
  bool operator==(const ServiceInfo&) const = default;

  std::string key() const { return ns + "/" + name; }
};

// Services by "namespace/name". Only Services that need rules are present.
struct Model {
  std::map<std::string, ServiceInfo> services;
  bool operator==(const Model&) const = default;
};

// True for a dotted-quad IPv4 address ("10.96.0.1").
bool isIPv4(const std::string& s);
// True for "a.b.c.d/n", n <= 32.
bool validCidr(const std::string& cidr);
// A valid CIDR with its host bits cleared ("10.1.2.3/8" -> "10.0.0.0/8");
// "" when not valid.
std::string normalizedCidr(const std::string& cidr);
// True for a Linux interface name (1-15 of letters, digits, '_', '.', '-').
bool validInterfaceName(const std::string& name);

// The ready endpoints (IPv4 addresses, each with its own subset's port, 1..65535)
// of the Endpoints ports named `portName` with `protocol`, sorted and unique.
std::vector<Endpoint> readyEndpoints(const api::Json* endpoints, const std::string& portName,
                                     Protocol protocol);

// Converts one Service (and its Endpoints, nullptr when none exists yet).
// nullopt: ExternalName or headless, nothing to program.
// kInvalid: the object is not a Service this code can read (missing
// metadata.name, a port outside 1..65535, an unknown protocol); the message
// names the field.
Result<std::optional<ServiceInfo>> serviceFromJson(const api::Json& service,
                                                   const api::Json* endpoints);

// Builds a Model from lists of Services and Endpoints. Services that fail to
// convert are skipped and reported in `skipped` (one message each) so a single
// bad object cannot stop the rest from being programmed.
Model buildModel(const std::vector<api::Json>& services, const std::vector<api::Json>& endpoints,
                 std::vector<std::string>* skipped = nullptr);

}  // namespace skiff::netproxy
