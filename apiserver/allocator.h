// Service admission: ClusterIP, NodePort and LoadBalancer ingress IP allocation.
//
// Every allocation is its own store key, created in the same transaction as the
// Service write that takes it and deleted in the transaction that gives it up:
//   /registry/allocations/clusterips/10.96.0.5   value "default/web"
//   /registry/allocations/nodeports/30001        value "default/web"
//   /registry/allocations/loadbalancerips/10.255.0.1  value "default/web"
// so two Services can never hold the same address or port, even when hundreds
// are created at once: the store refuses the second kCreate (kAlreadyExists),
// and the caller either re-plans with another free value (for an automatically
// picked one) or answers 422 (for one the user asked for) with Kubernetes' text.
// The allocator keeps no state of its own: the keys are the state, and repair()
// reconciles them with the stored Services after a crash or an upgrade.
//
// LoadBalancer Services (without spec.loadBalancerClass) get an ingress IP from
// the local pool (RestOptions::loadBalancerCidr, lowest free address first, or
// spec.loadBalancerIP when it is inside the pool) written to
// status.loadBalancer.ingress[0].ip in the same write, so it is never
// <pending>; netproxy DNATs it like a ClusterIP. Changing the type away or
// deleting the Service releases it. One with externalTrafficPolicy: Local also
// gets spec.healthCheckNodePort from the node port range (its own nodeports
// key), which netproxy serves; it is kept across updates (a different value is
// Kubernetes' 422) and released when the policy or the type changes.
//
// Thread-safe: it only reads the store and builds ops.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "api/json.h"
#include "apiserver/rest.h"
#include "base/result.h"
#include "storage/store.h"

namespace skiff::apiserver {

struct Ipv4Cidr {
  uint32_t network = 0;
  int prefix = 0;
  uint64_t size() const { return uint64_t{1} << (32 - prefix); }
  uint32_t broadcast() const { return network + static_cast<uint32_t>(size() - 1); }
  // Usable for Services: inside, and neither the network nor the broadcast address.
  bool usable(uint32_t ip) const { return ip > network && ip < broadcast(); }
};
Result<Ipv4Cidr> parseCidr(const std::string& text);
std::optional<uint32_t> parseIpv4(const std::string& text);
std::string formatIpv4(uint32_t ip);

inline constexpr const char* kClusterIpPrefix = "/registry/allocations/clusterips/";
inline constexpr const char* kNodePortPrefix = "/registry/allocations/nodeports/";
inline constexpr const char* kLoadBalancerIpPrefix = "/registry/allocations/loadbalancerips/";

struct AllocationPlan {
  std::vector<storage::Op> ops;           // kCreate of taken values, kDelete of released ones
  std::set<std::string> autoKeys;         // keys picked by the allocator (retry on kAlreadyExists)
  std::map<std::string, Cause> userKeys;  // keys the user asked for -> the 422 cause if taken
};

class ServiceAllocator {
 public:
  static Result<std::unique_ptr<ServiceAllocator>> create(storage::Store& store,
                                                          const RestOptions& options);

  // Decides the allocations of Service `svc` (defaulted; modified in place:
  // spec.clusterIP(s), ipFamilies, ipFamilyPolicy, ports[].nodePort,
  // status.loadBalancer), given
  // its previous state `old` (nullptr on create). `avoid` lists keys that lost a
  // race in an earlier attempt. kInvalid (422, with causes) for a requested value
  // out of range.
  Result<AllocationPlan> plan(api::Json& svc, const api::Json* old,
                              const std::set<std::string>& avoid = {});
  // Ops releasing everything `svc` holds (for its deletion).
  std::vector<storage::Op> releaseOps(const api::Json& svc);

  // Drops allocation keys whose owner no longer holds them and creates missing
  // ones for stored Services. Synchronous; run at startup.
  Status repair();

  const Ipv4Cidr& cidr() const { return cidr_; }
  // The first usable address (the `kubernetes` Service's).
  std::string firstIp() const { return formatIpv4(cidr_.network + 1); }

 private:
  ServiceAllocator(storage::Store& store, RestOptions options, Ipv4Cidr cidr,
                   std::optional<Ipv4Cidr> lbCidr)
      : store_(store), options_(std::move(options)), cidr_(cidr), lbCidr_(lbCidr) {}
  std::optional<std::string> pickIp(const std::set<std::string>& avoid);
  std::optional<int> pickPort(const std::set<std::string>& avoid);
  std::optional<std::string> pickLoadBalancerIp(const std::set<std::string>& avoid);
  bool taken(const std::string& key);
  void releaseIfOwned(const std::string& key, const std::string& owner,
                      std::vector<storage::Op>& ops);

  storage::Store& store_;
  const RestOptions options_;
  const Ipv4Cidr cidr_;
  const std::optional<Ipv4Cidr> lbCidr_;  // nullopt: no pool
};

// Keys a stored Service holds (for repair and release).
std::set<std::string> heldAllocationKeys(const api::Json& svc);

}  // namespace skiff::apiserver
