#include "netproxy/dns_records.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "netproxy/service_state.h"

namespace skiff::netproxy {
namespace {

using api::Json;

using api::lenient::array;
using api::lenient::field;
using api::lenient::str;

// A DNS label as Kubernetes names are (RFC 1123): letters, digits, '-', 1..63.
bool isLabel(const std::string& s) {
  if (s.empty() || s.size() > 63) return false;
  return std::all_of(s.begin(), s.end(),
                     [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '_'; });
}

// A host name of labels separated by dots (ExternalName values).
bool isHostName(const std::string& s) {
  if (s.empty() || s.size() > 253) return false;
  size_t start = 0;
  while (true) {
    size_t dot = s.find('.', start);
    std::string label = s.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!isLabel(label)) return false;
    if (dot == std::string::npos) return true;
    start = dot + 1;
  }
}

std::string dashed(const std::string& ip) {
  std::string out = ip;
  std::replace(out.begin(), out.end(), '.', '-');
  return out;
}

// "10.96.0.5" -> "5.0.96.10.in-addr.arpa".
std::string reverseName(const std::string& ip) {
  std::string out;
  size_t end = ip.size();
  while (true) {
    size_t dot = ip.rfind('.', end - 1);
    size_t start = dot == std::string::npos ? 0 : dot + 1;
    out += ip.substr(start, end - start) + ".";
    if (dot == std::string::npos) break;
    end = dot;
  }
  return out + "in-addr.arpa";
}

bool endsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

struct ReadyAddress {
  std::string ip;
  std::string hostname;
};

// Ready endpoint addresses of the whole Endpoints object (by IP, unique).
std::vector<ReadyAddress> readyAddresses(const Json* endpoints) {
  std::vector<ReadyAddress> out;
  std::set<std::string> seen;
  if (!endpoints) return out;
  const Json& subsets = field(*endpoints, "subsets");
  if (!subsets.is_array()) return out;
  for (const Json& s : subsets) {
    const Json& addrs = field(s, "addresses");
    if (!addrs.is_array()) continue;
    for (const Json& a : addrs) {
      std::string ip = str(a, "ip");
      if (!isIPv4(ip) || !seen.insert(ip).second) continue;
      std::string host = canonicalDnsName(str(a, "hostname"));
      out.push_back({ip, isLabel(host) ? host : ""});
    }
  }
  return out;
}

}  // namespace

std::string canonicalDnsName(std::string name) {
  for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  while (!name.empty() && name.back() == '.') name.pop_back();
  return name;
}

std::vector<DnsRecord> serviceDnsRecords(const Json& service, const Json* endpoints,
                                         const std::string& domain) {
  std::vector<DnsRecord> out;
  const Json& md = field(service, "metadata");
  const Json& spec = field(service, "spec");
  std::string ns = canonicalDnsName(str(md, "namespace"));
  std::string name = canonicalDnsName(str(md, "name"));
  if (ns.empty()) ns = "default";
  if (!isLabel(name) || !isLabel(ns)) return out;
  const std::string fqdn = name + "." + ns + ".svc." + canonicalDnsName(domain);

  std::string type = str(spec, "type");
  if (type == "ExternalName") {
    std::string target = canonicalDnsName(str(spec, "externalName"));
    if (isHostName(target)) out.push_back({fqdn, DnsType::kCname, target});
    return out;
  }
  std::string clusterIP = str(spec, "clusterIP");
  bool headless = clusterIP == "None";
  if (!headless && !isIPv4(clusterIP)) return out;  // not allocated yet (or IPv6)

  std::vector<ReadyAddress> ready;
  if (headless) {
    ready = readyAddresses(endpoints);
    for (const auto& a : ready) {
      out.push_back({fqdn, DnsType::kA, a.ip});
      std::string own = (a.hostname.empty() ? dashed(a.ip) : a.hostname) + "." + fqdn;
      out.push_back({own, DnsType::kA, a.ip});
      out.push_back({reverseName(a.ip), DnsType::kPtr, own});
    }
  } else {
    out.push_back({fqdn, DnsType::kA, clusterIP});
    out.push_back({reverseName(clusterIP), DnsType::kPtr, fqdn});
  }

  const Json& ports = field(spec, "ports");
  if (ports.is_array()) {
    for (const Json& p : ports) {
      std::string pname = canonicalDnsName(str(p, "name"));
      std::string proto = str(p, "protocol");
      if (proto.empty()) proto = "TCP";
      const Json& num = field(p, "port");
      if (pname.empty() || !isLabel(pname) || !num.is_number_integer()) continue;
      std::string lowerProto = canonicalDnsName(proto);
      std::string srvName = "_" + pname + "._" + lowerProto + "." + fqdn;
      if (!headless) {
        out.push_back({srvName, DnsType::kSrv, fqdn, num.get<int>(), 0, 100});
        continue;
      }
      // Headless: each endpoint that serves this port, at its own port.
      auto protocol = protocolFromName(proto);
      if (!protocol) continue;
      std::map<std::string, int> serving;  // IP -> its port
      for (const auto& e : readyEndpoints(endpoints, str(p, "name"), *protocol))
        serving.emplace(e.ip, e.port);
      for (const auto& a : ready) {
        auto it = serving.find(a.ip);
        if (it == serving.end()) continue;
        std::string own = (a.hostname.empty() ? dashed(a.ip) : a.hostname) + "." + fqdn;
        out.push_back({srvName, DnsType::kSrv, own, it->second, 0, 100});
      }
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

DnsZone::DnsZone(std::string domain) : domain_(canonicalDnsName(std::move(domain))) {}

void DnsZone::index(const DnsRecord& r, int delta) {
  if (delta > 0) {
    byName_[r.name].push_back(r);
  } else {
    auto it = byName_.find(r.name);
    if (it != byName_.end()) {
      auto& v = it->second;
      auto pos = std::find(v.begin(), v.end(), r);
      if (pos != v.end()) v.erase(pos);
      if (v.empty()) byName_.erase(it);
    }
  }
  // The name and every ancestor down to the zone exist (empty non-terminals).
  std::string n = r.name;
  while (true) {
    int& count = nodes_[n];
    count += delta;
    if (count <= 0) nodes_.erase(n);
    if (n == domain_) break;
    size_t dot = n.find('.');
    if (dot == std::string::npos) break;
    n = n.substr(dot + 1);
  }
}

void DnsZone::setService(const std::string& key, std::vector<DnsRecord> records) {
  auto it = byService_.find(key);
  if (it != byService_.end()) {
    for (const auto& r : it->second) index(r, -1);
    byService_.erase(it);
  }
  if (records.empty()) return;
  for (const auto& r : records) index(r, +1);
  byService_.emplace(key, std::move(records));
}

void DnsZone::clear() {
  byService_.clear();
  byName_.clear();
  nodes_.clear();
}

DnsLookup DnsZone::lookup(const std::string& rawName, DnsType type) const {
  DnsLookup out;
  std::string name = canonicalDnsName(rawName);
  bool inZone = name == domain_ ||
                (name.size() > domain_.size() &&
                 name.compare(name.size() - domain_.size(), domain_.size(), domain_) == 0 &&
                 name[name.size() - domain_.size() - 1] == '.');
  if (!inZone) {
    // Reverse names of the zone's addresses; any other goes on to the host's
    // resolvers (CoreDNS' `fallthrough in-addr.arpa`).
    auto it = endsWith(name, ".in-addr.arpa") ? byName_.find(name) : byName_.end();
    if (it == byName_.end()) {
      out.result = DnsLookup::Result::kNotInZone;
      return out;
    }
    for (const auto& r : it->second)
      if (r.type == type) out.records.push_back(r);
    std::sort(out.records.begin(), out.records.end());
    out.result = out.records.empty() ? DnsLookup::Result::kNoData : DnsLookup::Result::kAnswer;
    return out;
  }
  // Pods by address, as CoreDNS' `pods insecure` answers them: 10-244-0-5.NS.pod.<domain>.
  const std::string podZone = ".pod." + domain_;
  if (endsWith(name, podZone)) {
    std::string rest = name.substr(0, name.size() - podZone.size());  // "10-244-0-5.ns"
    size_t dot = rest.find('.');
    std::string ip = dot == std::string::npos ? "" : rest.substr(0, dot);
    std::replace(ip.begin(), ip.end(), '-', '.');
    if (dot != std::string::npos && rest.find('.', dot + 1) == std::string::npos &&
        isLabel(rest.substr(dot + 1)) && isIPv4(ip)) {
      if (type == DnsType::kA) out.records.push_back({name, DnsType::kA, ip});
      out.result = out.records.empty() ? DnsLookup::Result::kNoData : DnsLookup::Result::kAnswer;
      return out;
    }
  }
  auto it = byName_.find(name);
  if (it != byName_.end()) {
    for (const auto& r : it->second)
      if (r.type == type) out.records.push_back(r);
    if (out.records.empty() && type != DnsType::kCname) {
      for (const auto& r : it->second)
        if (r.type == DnsType::kCname) out.records.push_back(r);
    }
  }
  std::sort(out.records.begin(), out.records.end());
  if (!out.records.empty()) {
    out.result = DnsLookup::Result::kAnswer;
  } else if (name == domain_ || name == "svc." + domain_ || name == "pod." + domain_ ||
             nodes_.count(name)) {
    out.result = DnsLookup::Result::kNoData;
  } else {
    out.result = DnsLookup::Result::kNxDomain;
  }
  return out;
}

}  // namespace skiff::netproxy
