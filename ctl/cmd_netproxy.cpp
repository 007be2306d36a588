// `skiff netproxy`: runs the service proxy (nftables rules) and cluster DNS
// alone against an apiserver until SIGINT or SIGTERM.

#include <signal.h>

#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>
#include <string>

#include "base/log.h"
#include "client/kubeconfig.h"
#include "ctl/cli.h"
#include "ctl/commands.h"
#include "ctl/host_routes.h"
#include "netproxy/netproxy.h"

namespace skiff::ctl {
namespace po = boost::program_options;

int runNetproxyCommand(int argc, char** argv) {
  std::string kubeconfig;
  std::string logLevel = "info";
  netproxy::NetProxyOptions options;
  std::vector<std::string> nodeAddresses;
  std::vector<std::string> upstreams;
  int resyncSeconds = static_cast<int>(options.resyncPeriod.count() / 1000);
  bool noDns = false;
  std::string bootstrapDns;
  po::options_description flags("Flags");
  flags.add_options()("help,h", "Show this help")(
      "kubeconfig", po::value<std::string>(&kubeconfig),
      "Path to the kubeconfig (default: $KUBECONFIG, else /var/lib/skiff/kubeconfig)")(
      "log-level", po::value<std::string>(&logLevel)->default_value(logLevel),
      "debug, info, warn or error")(
      "table", po::value<std::string>(&options.table)->default_value(options.table),
      "The nftables table (`ip TABLE`) netproxy owns")(
      "service-cidr",
      po::value<std::string>(&options.serviceCidr)->default_value(options.serviceCidr),
      "Service ClusterIP range (traffic to unused addresses is refused)")(
      "lb-cidr",
      po::value<std::string>(&options.loadBalancerCidr)->default_value(options.loadBalancerCidr),
      "LoadBalancer ingress pool (must match the apiserver's)")(
      "bridge", po::value<std::string>(&options.podBridge),
      "The cluster's pod bridge: pods on any other bridge (another cluster's) are left alone, "
      "and the service and LoadBalancer ranges are routed unreachable except for the host's "
      "own connections, which go via the bridge (default: none, every interface; no routes)")(
      "node-address", po::value<std::vector<std::string>>(&nodeAddresses),
      "A local IPv4 address NodePorts answer on (repeatable; default: every local address)")(
      "resync-seconds", po::value<int>(&resyncSeconds)->default_value(resyncSeconds),
      "Full sync (drift repair) period")(
      "dns-listen",
      po::value<std::string>(&options.dnsOptions.listen)->default_value(options.dnsOptions.listen),
      "IP:PORT the cluster DNS server listens on (UDP and TCP)")(
      "dns-upstream", po::value<std::vector<std::string>>(&upstreams),
      "Resolver for names outside the cluster domain, IP[:PORT] (repeatable; default: "
      "/etc/resolv.conf)")("no-dns", po::bool_switch(&noDns), "Do not serve cluster DNS")(
      "bootstrap-dns-service", po::value<std::string>(&bootstrapDns),
      "Create Service kube-system/kube-dns with this clusterIP (e.g. 10.96.0.10) and Endpoints "
      "pointing at --dns-listen, then run");
  po::variables_map vm;
  if (!parseComponentFlags(argc, argv, flags, "netproxy", vm)) return 1;
  if (vm.count("help")) {
    std::cout << "Run the service proxy and cluster DNS alone.\n\n"
                 "Keeps the nftables table `ip skiff` equal to the Services and Endpoints in the\n"
                 "API (ClusterIP, NodePort on every local address incl. 127.0.0.1, LoadBalancer\n"
                 "ingress IPs, externalIPs, session affinity) and answers DNS for cluster.local.\n"
                 "Exiting leaves the rules in place; a new netproxy takes them over.\n\n"
                 "Examples:\n"
                 "  skiff netproxy --kubeconfig /var/lib/skiff/kubeconfig\n"
                 "  skiff netproxy --dns-listen 10.244.0.1:53 --bootstrap-dns-service 10.96.0.10 "
                 "--bridge skiff0\n\n"
                 "Usage:\n  skiff netproxy [flags]\n\n"
              << flags << "\n";
    return 0;
  }
  if (!applyLogLevelFlag(logLevel)) return 1;
  if (options.table.empty() ||
      options.table.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                      "0123456789_") != std::string::npos) {
    std::fprintf(stderr, "error: --table \"%s\" must be letters, digits and '_'\n",
                 options.table.c_str());
    return 1;
  }
  for (const auto& [flag, value] :
       {std::pair<const char*, std::string>{"--service-cidr", options.serviceCidr},
        {"--lb-cidr", options.loadBalancerCidr}}) {
    if (!value.empty() && !netproxy::validCidr(value)) {
      std::fprintf(stderr, "error: %s \"%s\" is not an IPv4 CIDR (e.g. 10.96.0.0/12)\n", flag,
                   value.c_str());
      return 1;
    }
  }
  if (!options.podBridge.empty() && !netproxy::validInterfaceName(options.podBridge)) {
    std::fprintf(stderr, "error: --bridge \"%s\" is not an interface name\n",
                 options.podBridge.c_str());
    return 1;
  }
  for (const auto& a : nodeAddresses) {
    if (!netproxy::isIPv4(a)) {
      std::fprintf(stderr, "error: --node-address \"%s\" is not an IPv4 address\n", a.c_str());
      return 1;
    }
  }
  if (resyncSeconds < 1) {
    std::fprintf(stderr, "error: --resync-seconds must be at least 1\n");
    return 1;
  }
  if (!bootstrapDns.empty() && !netproxy::isIPv4(bootstrapDns)) {
    std::fprintf(stderr, "error: --bootstrap-dns-service \"%s\" is not an IPv4 address\n",
                 bootstrapDns.c_str());
    return 1;
  }
  options.nodeAddresses = nodeAddresses;
  options.dnsOptions.upstreams = upstreams;
  options.resyncPeriod = std::chrono::seconds(resyncSeconds);
  options.dns = !noDns;
  auto config = loadKubeconfigFlag(kubeconfig);
  if (!config) return 1;

  // Before any thread starts: only waitForStopSignal() sees the stop signals.
  sigset_t stopSignals = blockStopSignals();

  // With the pod bridge known, the ranges are routed as `skiff up` routes them
  // (ctl/host_routes.h): unreachable, except the host's own connections.
  if (!options.podBridge.empty()) {
    auto s = routeClusterRanges(options.podBridge, {{options.serviceCidr, options.serviceCidr},
                                                    {options.loadBalancerCidr,
                                                     options.loadBalancerCidr}});
    if (!s) {
      std::fprintf(stderr, "error: route the cluster ranges via --bridge %s: %s\n",
                   options.podBridge.c_str(), s.error().message.c_str());
      return 1;
    }
  }
  netproxy::NetProxy proxy(*config, options);
  if (auto s = proxy.start(); !s) {
    std::fprintf(stderr, "error: %s\n", s.error().message.c_str());
    return 1;
  }
  if (!bootstrapDns.empty() && proxy.dns()) {
    client::RestClient rc(*config);
    auto st = netproxy::bootstrapDnsService(rc, proxy.dns()->address(), proxy.dns()->port(),
                                            bootstrapDns);
    if (!st) {
      std::fprintf(stderr, "error: %s\n", st.error().message.c_str());
      proxy.stop();
      return 1;
    }
  }
  logInfo("netproxy stopping (rules stay in place)", {{"signal", waitForStopSignal(stopSignals)}});
  proxy.stop();
  return 0;
}

}  // namespace skiff::ctl
