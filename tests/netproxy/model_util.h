// Services and models for the netproxy tests (ruleset, proxier, kernel): one
// ClusterIP Service with one TCP port 80, and a Model of several.
// Header only.
#pragma once

#include <initializer_list>
#include <string>
#include <vector>

#include "netproxy/service_state.h"

namespace skiff::netproxy::testing {

// default/NAME on CLUSTERIP:80, a NodePort Service when nodePort is not 0.
inline ServiceInfo service(const std::string& name, const std::string& clusterIP,
                           std::vector<Endpoint> endpoints, int nodePort = 0) {
  ServiceInfo s;
  s.ns = "default";
  s.name = name;
  s.type = nodePort ? "NodePort" : "ClusterIP";
  s.clusterIPs = {clusterIP};
  ServicePortInfo p;
  p.port = 80;
  p.nodePort = nodePort;
  p.endpoints = std::move(endpoints);
  s.ports.push_back(p);
  return s;
}

// N pod endpoints, 10.244.0.10:8080 and up.
inline std::vector<Endpoint> podEndpoints(int n) {
  std::vector<Endpoint> out;
  for (int i = 0; i < n; ++i) out.push_back({"10.244.0." + std::to_string(10 + i), 8080});
  return out;
}

inline Model modelOf(std::initializer_list<ServiceInfo> services) {
  Model m;
  for (const auto& s : services) m.services[s.key()] = s;
  return m;
}

}  // namespace skiff::netproxy::testing
