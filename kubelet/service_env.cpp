#include "kubelet/service_env.h"

#include <algorithm>
#include <cctype>
#include <map>

#include "kubelet/pod_status.h"

namespace skiff::kubelet {

using api::Json;

namespace {

// envvars.makeEnvVariableName.
std::string envName(const std::string& s) {
  std::string out = s;
  for (char& c : out)
    c = c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// net.JoinHostPort: IPv6 addresses in brackets.
std::string joinHostPort(const std::string& host, const std::string& port) {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + port;
  return host + ":" + port;
}

// v1helper.IsServiceIPSet.
bool hasClusterIP(const Json& svc) {
  std::string ip = textOf(member(svc, "spec"), "clusterIP");
  return !ip.empty() && ip != "None";
}

void addService(const Json& svc, std::map<std::string, std::string>& out) {
  const Json& spec = member(svc, "spec");
  const Json& ports = member(spec, "ports");
  if (!ports.is_array() || ports.empty()) return;
  std::string ip = textOf(spec, "clusterIP");
  std::string prefix = envName(textOf(member(svc, "metadata"), "name"));
  auto portOf = [](const Json& p) {
    return p.contains("port") && p["port"].is_number_integer()
               ? std::to_string(p["port"].get<long long>())
               : std::string("0");
  };
  out[prefix + "_SERVICE_HOST"] = ip;
  out[prefix + "_SERVICE_PORT"] = portOf(ports[0]);
  for (const auto& p : ports) {
    std::string name = textOf(p, "name");
    if (!name.empty()) out[prefix + "_SERVICE_PORT_" + envName(name)] = portOf(p);
  }
  bool first = true;
  for (const auto& p : ports) {
    std::string protocol = textOf(p, "protocol");
    if (protocol.empty()) protocol = "TCP";
    std::string port = portOf(p);
    std::string url = lower(protocol) + "://" + joinHostPort(ip, port);
    if (first) out[prefix + "_PORT"] = url;
    first = false;
    std::string portPrefix = prefix + "_PORT_" + port + "_" + envName(protocol);
    out[portPrefix] = url;
    out[portPrefix + "_PROTO"] = lower(protocol);
    out[portPrefix + "_PORT"] = port;
    out[portPrefix + "_ADDR"] = ip;
  }
}

}  // namespace

std::vector<std::pair<std::string, std::string>> serviceEnv(const std::string& podNamespace,
                                                            bool enableServiceLinks,
                                                            const std::vector<Json>& services) {
  // By service name: the pod's own namespace wins over the master service.
  std::map<std::string, const Json*> chosen;
  for (const auto& svc : services) {
    if (!hasClusterIP(svc)) continue;
    const Json& md = member(svc, "metadata");
    std::string name = textOf(md, "name"), ns = textOf(md, "namespace");
    if (ns == podNamespace && enableServiceLinks) {
      chosen[name] = &svc;
    } else if (ns == "default" && name == "kubernetes") {
      chosen.emplace(name, &svc);
    }
  }
  std::map<std::string, std::string> vars;
  for (const auto& [name, svc] : chosen) addService(*svc, vars);
  return {vars.begin(), vars.end()};
}

std::vector<std::pair<std::string, std::string>> serviceEnvForPod(
    const Json& pod, const std::vector<Json>& services) {
  const Json& links = member(member(pod, "spec"), "enableServiceLinks");
  return serviceEnv(textOf(member(pod, "metadata"), "namespace"),
                    links.is_boolean() ? links.get<bool>() : true, services);
}

}  // namespace skiff::kubelet
