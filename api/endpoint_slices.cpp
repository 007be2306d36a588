#include "api/endpoint_slices.h"

#include <cstdint>
#include <cstdio>

namespace skiff::api {

namespace {

using lenient::array;
using lenient::field;
using lenient::str;

uint64_t fnv1a(const std::string& text, uint64_t seed) {
  uint64_t h = seed;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

// Five characters of the alphabet Kubernetes' generated names use.
std::string suffixOf(const std::string& seed) {
  static const char kAlphabet[] = "bcdfghjklmnpqrstvwxz2456789";
  uint64_t h = fnv1a(seed, 14695981039346656037ull);
  std::string s;
  for (int i = 0; i < 5; ++i) {
    s += kAlphabet[h % (sizeof(kAlphabet) - 1)];
    h /= sizeof(kAlphabet) - 1;
  }
  return s;
}

// A version-4-shaped UUID fixed by `seed`.
std::string uidOf(const std::string& seed) {
  uint64_t a = fnv1a(seed, 14695981039346656037ull);
  uint64_t b = fnv1a(seed, 0x9e3779b97f4a7c15ull);
  char out[37];
  std::snprintf(out, sizeof out, "%08x-%04x-4%03x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0xfff),
                static_cast<unsigned>(0x8000 | ((b >> 48) & 0x3fff)),
                static_cast<unsigned long long>(b & 0xffffffffffffull));
  return out;
}

// One address of a subset as a slice's endpoint.
Json endpointOf(const Json& address, bool ready) {
  Json e = Json::object();
  e["addresses"] = Json::array({str(address, "ip")});
  e["conditions"] = {{"ready", ready}, {"serving", ready}, {"terminating", false}};
  for (const char* key : {"hostname", "nodeName"}) {
    std::string v = str(address, key);
    if (!v.empty()) e[key] = v;
  }
  if (const Json& ref = field(address, "targetRef"); ref.is_object()) e["targetRef"] = ref;
  return e;
}

Json portOf(const Json& port) {
  Json p = Json::object();
  p["name"] = str(port, "name");
  if (const Json& n = field(port, "port"); n.is_number_integer()) p["port"] = n;
  std::string protocol = str(port, "protocol");
  p["protocol"] = protocol.empty() ? "TCP" : protocol;
  std::string app = str(port, "appProtocol");
  if (!app.empty()) p["appProtocol"] = app;
  return p;
}

}  // namespace

std::vector<Json> endpointSlicesOf(const Json& endpoints) {
  const Json& md = field(endpoints, "metadata");
  const std::string name = str(md, "name");
  const Json& subsets = array(endpoints, "subsets");
  const size_t count = subsets.empty() ? 1 : subsets.size();
  static const Json kNoSubset;  // an Endpoints without subsets shows one empty slice

  std::vector<Json> out;
  for (size_t i = 0; i < count; ++i) {
    const Json& subset = i < subsets.size() ? subsets[i] : kNoSubset;
    const std::string seed = str(md, "uid") + "/" + name + "/" + std::to_string(i);
    Json slice = Json::object();
    slice["kind"] = "EndpointSlice";
    slice["apiVersion"] = "discovery.k8s.io/v1";
    Json smd = Json::object();
    smd["name"] = name + "-" + suffixOf(seed);
    for (const char* key : {"namespace", "resourceVersion", "creationTimestamp"})
      if (const Json& v = field(md, key); !v.is_null()) smd[key] = v;
    smd["uid"] = uidOf(seed);
    smd["generation"] = 1;
    Json labels = Json::object();
    if (const Json& l = field(md, "labels"); l.is_object()) labels = l;
    labels[kServiceNameLabel] = name;
    labels[kSliceManagedByLabel] = kSliceMirroringManager;
    smd["labels"] = labels;
    slice["metadata"] = smd;

    Json eps = Json::array();
    std::string addressType = "IPv4";
    for (const auto& [key, ready] : {std::pair{"addresses", true}, {"notReadyAddresses", false}}) {
      for (const Json& a : array(subset, key)) {
        if (str(a, "ip").find(':') != std::string::npos) addressType = "IPv6";
        eps.push_back(endpointOf(a, ready));
      }
    }
    Json ports = Json::array();
    for (const Json& p : array(subset, "ports")) ports.push_back(portOf(p));
    slice["addressType"] = addressType;
    // Kubernetes writes null, not [], for a slice with none.
    slice["endpoints"] = eps.empty() ? Json() : eps;
    slice["ports"] = ports.empty() ? Json() : ports;
    out.push_back(std::move(slice));
  }
  return out;
}

}  // namespace skiff::api
