// Cluster DNS records: the pure part of netproxy's DNS server. Services and
// Endpoints in, the records of the `cluster.local` zone out, as Kubernetes' DNS
// specification (kubernetes/dns, schema.md) describes them:
//
//   svc.ns.svc.cluster.local                A      ClusterIP, or for a headless
//                                                  Service every ready endpoint IP
//   _port._proto.svc.ns.svc.cluster.local   SRV    0 100 port svc.ns.svc.cluster.local
//                                                  (headless: one per endpoint, target
//                                                  <hostname or a-b-c-d>.svc.ns.svc...)
//   <hostname>.svc.ns.svc.cluster.local     A      headless: each endpoint's own name
//   svc.ns.svc.cluster.local                CNAME  spec.externalName (ExternalName)
//   d.c.b.a.in-addr.arpa                    PTR    svc.ns.svc.cluster.local for a ClusterIP,
//                                                  <hostname or a-b-c-d>.svc.ns.svc... for a
//                                                  headless Service's endpoint; other
//                                                  reverse names are not in the zone
//                                                  (forwarded, as CoreDNS falls through)
//   a-b-c-d.ns.pod.cluster.local            A      a.b.c.d, for any address (CoreDNS'
//                                                  `pods insecure`, kubeadm's default)
//
// Names are compared case-insensitively (stored lowercase, without the final
// dot). DnsZone keeps the records per Service so one Service change replaces only
// its own records, and answers lookups: records, NODATA (the name exists, e.g.
// `ns.svc.cluster.local`, but has no record of that type) or NXDOMAIN.
//
// Thread-safety: serviceDnsRecords() is pure; DnsZone is a plain value (the
// server guards it with its own mutex).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "api/json.h"

namespace skiff::netproxy {

enum class DnsType { kA, kSrv, kCname, kPtr };

struct DnsRecord {
  std::string name;  // lowercase, no final dot: "web.default.svc.cluster.local"
  DnsType type = DnsType::kA;
  std::string target;  // A: dotted quad; CNAME, SRV, PTR: a host name (no final dot)
  int port = 0;        // SRV only
  int priority = 0;    // SRV only
  int weight = 100;    // SRV only
  auto operator<=>(const DnsRecord&) const = default;
};

// The records one Service contributes (its Endpoints may be nullptr). Empty for
// a Service without a ClusterIP or ports to publish, or with a name DNS cannot
// carry. `domain` is the cluster domain, e.g. "cluster.local".
std::vector<DnsRecord> serviceDnsRecords(const api::Json& service, const api::Json* endpoints,
                                         const std::string& domain);

// Lowercases and drops a final dot.
std::string canonicalDnsName(std::string name);

struct DnsLookup {
  enum class Result { kAnswer, kNoData, kNxDomain, kNotInZone };
  Result result = Result::kNxDomain;
  // kAnswer: records of the asked type; or a CNAME when the name has one (and
  // the type asked was not CNAME), as a resolver expects.
  std::vector<DnsRecord> records;
};

class DnsZone {
 public:
  explicit DnsZone(std::string domain = "cluster.local");

  // Replaces the records of Service `key` ("ns/name"); an empty list removes it.
  void setService(const std::string& key, std::vector<DnsRecord> records);
  void clear();

  DnsLookup lookup(const std::string& name, DnsType type) const;
  // The zone's own name, e.g. "cluster.local".
  const std::string& domain() const { return domain_; }
  size_t serviceCount() const { return byService_.size(); }

 private:
  void index(const DnsRecord& r, int delta);

  std::string domain_;
  std::map<std::string, std::vector<DnsRecord>> byService_;
  std::map<std::string, std::vector<DnsRecord>> byName_;  // owner name -> records
  std::map<std::string, int> nodes_;  // every owner name and its ancestors in the zone
};

}  // namespace skiff::netproxy
