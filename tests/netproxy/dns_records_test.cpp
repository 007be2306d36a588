// Cluster DNS records: pure computation from Services and Endpoints.
#include "netproxy/dns_records.h"

#include <catch2/catch.hpp>

using namespace skiff::netproxy;
using skiff::api::Json;

namespace {

Json svc(const std::string& name, const std::string& ns, Json spec) {
  return {{"apiVersion", "v1"},
          {"kind", "Service"},
          {"metadata", {{"name", name}, {"namespace", ns}}},
          {"spec", spec}};
}

Json endpoints(Json subsets) {
  return {{"kind", "Endpoints"}, {"subsets", subsets}};
}

std::vector<std::string> show(const std::vector<DnsRecord>& rs) {
  std::vector<std::string> out;
  for (const auto& r : rs) {
    const char* t = r.type == DnsType::kA     ? "A"
                    : r.type == DnsType::kSrv ? "SRV"
                    : r.type == DnsType::kPtr ? "PTR"
                                              : "CNAME";
    std::string s = r.name + " " + t + " " + r.target;
    if (r.type == DnsType::kSrv) s += ":" + std::to_string(r.port);
    out.push_back(s);
  }
  return out;
}

}  // namespace

TEST_CASE("dns: ClusterIP Service gives A and SRV per named port", "[dns]") {
  Json s = svc("Web", "default",
               {{"clusterIP", "10.96.0.20"},
                {"ports", Json::array({{{"name", "http"}, {"port", 80}},
                                       {{"name", "dns"}, {"port", 53}, {"protocol", "UDP"}},
                                       {{"port", 9000}}})}});
  auto rs = serviceDnsRecords(s, nullptr, "cluster.local");
  CHECK(show(rs) ==
        std::vector<std::string>{
            "20.0.96.10.in-addr.arpa PTR web.default.svc.cluster.local",
            "_dns._udp.web.default.svc.cluster.local SRV web.default.svc.cluster.local:53",
            "_http._tcp.web.default.svc.cluster.local SRV "
            "web.default.svc.cluster.local:80",
            "web.default.svc.cluster.local A 10.96.0.20",
        });
}

TEST_CASE("dns: headless Service gives the ready endpoint IPs and per-endpoint names", "[dns]") {
  Json s = svc("db", "prod",
               {{"clusterIP", "None"}, {"ports", Json::array({{{"name", "pg"}, {"port", 5432}}})}});
  Json e = endpoints(Json::array(
      {{{"addresses",
         Json::array({{{"ip", "10.244.0.5"}, {"hostname", "db-0"}}, {{"ip", "10.244.0.6"}}})},
        {"notReadyAddresses", Json::array({{{"ip", "10.244.0.7"}}})},
        {"ports", Json::array({{{"name", "pg"}, {"port", 15432}}})}}}));
  auto rs = serviceDnsRecords(s, &e, "cluster.local");
  DnsZone zone;
  zone.setService("prod/db", rs);
  auto a = zone.lookup("DB.prod.svc.cluster.local.", DnsType::kA);
  REQUIRE(a.result == DnsLookup::Result::kAnswer);
  CHECK(show(a.records) == std::vector<std::string>{"db.prod.svc.cluster.local A 10.244.0.5",
                                                    "db.prod.svc.cluster.local A 10.244.0.6"});
  CHECK(show(zone.lookup("db-0.db.prod.svc.cluster.local", DnsType::kA).records) ==
        std::vector<std::string>{"db-0.db.prod.svc.cluster.local A 10.244.0.5"});
  CHECK(show(zone.lookup("10-244-0-6.db.prod.svc.cluster.local", DnsType::kA).records) ==
        std::vector<std::string>{"10-244-0-6.db.prod.svc.cluster.local A 10.244.0.6"});
  auto srv = zone.lookup("_pg._tcp.db.prod.svc.cluster.local", DnsType::kSrv);
  CHECK(show(srv.records) == std::vector<std::string>{"_pg._tcp.db.prod.svc.cluster.local SRV "
                                                      "10-244-0-6.db.prod.svc.cluster.local:15432",
                                                      "_pg._tcp.db.prod.svc.cluster.local SRV "
                                                      "db-0.db.prod.svc.cluster.local:15432"});
  // Not-ready endpoints are not published.
  CHECK(zone.lookup("10-244-0-7.db.prod.svc.cluster.local", DnsType::kA).result ==
        DnsLookup::Result::kNxDomain);
  // Reverse names give each ready endpoint's own name.
  CHECK(show(zone.lookup("5.0.244.10.in-addr.arpa.", DnsType::kPtr).records) ==
        std::vector<std::string>{"5.0.244.10.in-addr.arpa PTR db-0.db.prod.svc.cluster.local"});
  CHECK(
      show(zone.lookup("6.0.244.10.in-addr.arpa", DnsType::kPtr).records) ==
      std::vector<std::string>{"6.0.244.10.in-addr.arpa PTR 10-244-0-6.db.prod.svc.cluster.local"});
  CHECK(zone.lookup("7.0.244.10.in-addr.arpa", DnsType::kPtr).result ==
        DnsLookup::Result::kNotInZone);
}

TEST_CASE("dns: reverse names of ClusterIPs, and pods by address", "[dns]") {
  DnsZone zone;
  zone.setService("default/web",
                  serviceDnsRecords(svc("web", "default", {{"clusterIP", "10.96.0.20"}}), nullptr,
                                    "cluster.local"));
  auto ptr = zone.lookup("20.0.96.10.IN-ADDR.ARPA.", DnsType::kPtr);
  REQUIRE(ptr.result == DnsLookup::Result::kAnswer);
  CHECK(show(ptr.records) ==
        std::vector<std::string>{"20.0.96.10.in-addr.arpa PTR web.default.svc.cluster.local"});
  CHECK(zone.lookup("20.0.96.10.in-addr.arpa", DnsType::kA).result == DnsLookup::Result::kNoData);
  // Other reverse names are the host resolvers' (CoreDNS falls through).
  CHECK(zone.lookup("1.2.0.192.in-addr.arpa", DnsType::kPtr).result ==
        DnsLookup::Result::kNotInZone);
  zone.setService("default/web", {});
  CHECK(zone.lookup("20.0.96.10.in-addr.arpa", DnsType::kPtr).result ==
        DnsLookup::Result::kNotInZone);

  // a-b-c-d.NS.pod.cluster.local: any address (CoreDNS' `pods insecure`).
  auto pod = zone.lookup("10-244-1-7.shop.pod.cluster.local", DnsType::kA);
  REQUIRE(pod.result == DnsLookup::Result::kAnswer);
  CHECK(show(pod.records) ==
        std::vector<std::string>{"10-244-1-7.shop.pod.cluster.local A 10.244.1.7"});
  CHECK(zone.lookup("10-244-1-7.shop.pod.cluster.local", DnsType::kSrv).result ==
        DnsLookup::Result::kNoData);
  CHECK(zone.lookup("pod.cluster.local", DnsType::kA).result == DnsLookup::Result::kNoData);
  for (const char* bad : {"10-244-1.shop.pod.cluster.local", "10-244-1-300.shop.pod.cluster.local",
                          "10-244-1-7.pod.cluster.local", "x.10-244-1-7.shop.pod.cluster.local"})
    CHECK(zone.lookup(bad, DnsType::kA).result == DnsLookup::Result::kNxDomain);
}

TEST_CASE("dns: headless SRV gives each endpoint the port of its own subset", "[dns]") {
  // Endpoints whose port numbers differ sit in different subsets (RepackSubsets).
  Json s = svc("db", "prod",
               {{"clusterIP", "None"}, {"ports", Json::array({{{"name", "pg"}, {"port", 5432}}})}});
  Json e = endpoints(Json::array(
      {{{"addresses", Json::array({{{"ip", "10.244.0.5"}}})},
        {"ports", Json::array({{{"name", "pg"}, {"port", 15432}}})}},
       {{"addresses", Json::array({{{"ip", "10.244.0.6"}}})},
        {"ports", Json::array({{{"name", "pg"}, {"port", 25432}}, {{"name", "x"}, {"port", 1}}})}},
       // A port outside 1..65535 gives its address no SRV record.
       {{"addresses", Json::array({{{"ip", "10.244.0.7"}}})},
        {"ports", Json::array({{{"name", "pg"}, {"port", 70000}}})}}}));
  DnsZone zone;
  zone.setService("prod/db", serviceDnsRecords(s, &e, "cluster.local"));
  CHECK(show(zone.lookup("_pg._tcp.db.prod.svc.cluster.local", DnsType::kSrv).records) ==
        std::vector<std::string>{
            "_pg._tcp.db.prod.svc.cluster.local SRV 10-244-0-5.db.prod.svc.cluster.local:15432",
            "_pg._tcp.db.prod.svc.cluster.local SRV 10-244-0-6.db.prod.svc.cluster.local:25432"});
}

TEST_CASE("dns: ExternalName is a CNAME, answered for any type", "[dns]") {
  Json s = svc("ext", "default", {{"type", "ExternalName"}, {"externalName", "Example.COM."}});
  DnsZone zone;
  zone.setService("default/ext", serviceDnsRecords(s, nullptr, "cluster.local"));
  auto a = zone.lookup("ext.default.svc.cluster.local", DnsType::kA);
  REQUIRE(a.result == DnsLookup::Result::kAnswer);
  CHECK(show(a.records) ==
        std::vector<std::string>{"ext.default.svc.cluster.local CNAME example.com"});
  // A bad externalName publishes nothing rather than a broken record.
  Json bad = svc("bad", "default", {{"type", "ExternalName"}, {"externalName", "a b"}});
  CHECK(serviceDnsRecords(bad, nullptr, "cluster.local").empty());
}

TEST_CASE("dns: zone answers NODATA for existing names, NXDOMAIN, not-in-zone", "[dns]") {
  DnsZone zone;
  zone.setService("default/web",
                  serviceDnsRecords(svc("web", "default", {{"clusterIP", "10.96.0.20"}}), nullptr,
                                    "cluster.local"));
  CHECK(zone.lookup("web.default.svc.cluster.local", DnsType::kSrv).result ==
        DnsLookup::Result::kNoData);
  CHECK(zone.lookup("default.svc.cluster.local", DnsType::kA).result == DnsLookup::Result::kNoData);
  CHECK(zone.lookup("cluster.local", DnsType::kA).result == DnsLookup::Result::kNoData);
  CHECK(zone.lookup("nope.default.svc.cluster.local", DnsType::kA).result ==
        DnsLookup::Result::kNxDomain);
  CHECK(zone.lookup("other.svc.cluster.local", DnsType::kA).result == DnsLookup::Result::kNxDomain);
  CHECK(zone.lookup("example.com", DnsType::kA).result == DnsLookup::Result::kNotInZone);
  CHECK(zone.lookup("notcluster.local", DnsType::kA).result == DnsLookup::Result::kNotInZone);

  // Replacing and removing a Service's records updates the names that exist.
  zone.setService("default/web", {});
  CHECK(zone.lookup("web.default.svc.cluster.local", DnsType::kA).result ==
        DnsLookup::Result::kNxDomain);
  CHECK(zone.lookup("default.svc.cluster.local", DnsType::kA).result ==
        DnsLookup::Result::kNxDomain);
  CHECK(zone.serviceCount() == 0);
}

TEST_CASE("dns: Services without an address publish nothing", "[dns]") {
  CHECK(serviceDnsRecords(svc("x", "default", Json::object()), nullptr, "cluster.local").empty());
  CHECK(serviceDnsRecords(svc("Bad_Name!", "default", {{"clusterIP", "10.96.0.1"}}), nullptr,
                          "cluster.local")
            .empty());
}
