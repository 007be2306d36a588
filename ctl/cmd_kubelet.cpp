// `skiff kubelet`: runs the kubelet alone against a running API server, with
// the real runtime (runc under conmon, a netns per pod) and the loopback
// server the apiserver proxies logs and exec to, until SIGINT or SIGTERM.
// Containers keep running when it stops; a new kubelet re-adopts them.
#include <malloc.h>
#include <signal.h>

#include <cstdio>
#include <iostream>

#include "base/log.h"
#include "client/kubeconfig.h"
#include "ctl/cli.h"
#include "ctl/commands.h"
#include "kubelet/kubelet.h"
#include "kubelet/runc_runtime.h"
#include "kubelet/server.h"

namespace skiff::ctl {

int runKubeletCommand(int argc, char** argv) {
  std::string kubeconfig, logLevel = "info", listen = "127.0.0.1:10250";
  kubelet::KubeletOptions options;
  kubelet::RuncRuntimeOptions runtimeOptions;
  options.podCIDR = runtimeOptions.podCidr;
  po::options_description desc("Flags");
  desc.add_options()("help,h", "Show this help")(
      "kubeconfig", po::value(&kubeconfig),
      "Kubeconfig of the API server (default $KUBECONFIG, else /var/lib/skiff/kubeconfig)")(
      "data-dir", po::value(&options.dataDir)->default_value(options.dataDir),
      "Where images (DATA/images) and pods (DATA/pods) live")(
      "node-name", po::value(&options.nodeName), "The Node's name (default: the host name)")(
      "node-ip", po::value(&options.nodeIP),
      "The node's InternalIP (default: the first address of an interface that is up)")(
      "pod-cidr", po::value(&options.podCIDR)->default_value(options.podCIDR),
      "Addresses for pods (a range inside the bridge's 10.244.0.0/16)")(
      "cluster-dns", po::value(&options.clusterDNS)->default_value(options.clusterDNS),
      "The DNS Service's address pods with dnsPolicy ClusterFirst use")(
      "cluster-domain", po::value(&options.clusterDomain)->default_value(options.clusterDomain),
      "The cluster's DNS domain")(
      "pods-pids-limit", po::value(&options.podPidsLimit)->default_value(options.podPidsLimit),
      "Process limit per container (0: none)")(
      "bridge", po::value(&runtimeOptions.bridgeName)->default_value(runtimeOptions.bridgeName),
      "The bridge pods' veths join")(
      "bridge-address",
      po::value(&runtimeOptions.bridgeAddress)->default_value(runtimeOptions.bridgeAddress),
      "The bridge's address (the pods' gateway) with the pods' prefix length")(
      "runc-root", po::value(&runtimeOptions.runcRoot)->default_value(runtimeOptions.runcRoot),
      "runc's state directory (runc --root)")(
      "cgroup-parent",
      po::value(&runtimeOptions.cgroupParent)->default_value(runtimeOptions.cgroupParent),
      "Containers' cgroup parent (relative: under the kubelet's own cgroup)")(
      "netns-prefix",
      po::value(&runtimeOptions.netnsPrefix)->default_value(runtimeOptions.netnsPrefix),
      "Pod network namespaces are /run/netns/PREFIX<pod uid>")(
      "parallel-starts", po::value(&options.parallelStarts)->default_value(0),
      "Pods starting at once (sandbox, containers); 0: two per core")(
      "listen", po::value(&listen)->default_value(listen),
      "Loopback IP:PORT for logs and exec, which the API server proxies to")(
      "log-level", po::value(&logLevel)->default_value(logLevel), "debug, info, warn or error");
  po::variables_map vm;
  if (!parseComponentFlags(argc, argv, desc, "kubelet", vm)) return 1;
  if (vm.count("help")) {
    std::cout << "Run the kubelet against an API server: register this machine as a Node and\n"
                 "run the pods bound to it as runc containers, each pod in its own network\n"
                 "namespace. Needs root. Runs until SIGINT or SIGTERM; containers keep running\n"
                 "and a restarted kubelet takes them over.\n\n"
                 "Examples:\n  skiff kubelet --kubeconfig /var/lib/skiff/kubeconfig\n\n"
                 "Usage:\n  skiff kubelet [flags]\n\n"
              << desc << "\n";
    return 0;
  }
  if (!applyLogLevelFlag(logLevel)) return 1;
  auto config = loadKubeconfigFlag(kubeconfig);
  if (!config) return 1;
  // One thread per pod: glibc would give each busy thread a malloc arena of
  // its own (up to 8 per core), each keeping freed memory resident. Two
  // arenas serve the kubelet's short allocations as fast and keep ~1-2 MB
  // less resident with 100 pods. (For a build on glibc's malloc,
  // -DSKIFF_JEMALLOC=OFF; jemalloc's two arenas are set in ctl/main.cpp.)
  ::mallopt(M_ARENA_MAX, 2);
  // Before any thread starts: only waitForStopSignal() sees the stop signals.
  sigset_t stopSignals = blockStopSignals();

  runtimeOptions.dataDir = options.dataDir;
  runtimeOptions.podCidr = options.podCIDR;
  auto runtime = kubelet::RuncRuntime::create(runtimeOptions);
  if (!runtime) {
    std::fprintf(stderr, "error: %s\n", runtime.error().message.c_str());
    return 1;
  }
  // One image store for the runtime and the kubelet's decisions.
  kubelet::ImageStore& images = (*runtime)->images();
  options.imageResolver = [&images](const std::string& ref) { return images.resolve(ref); };
  // The server needs the runtime, which the Kubelet will own; the runtime
  // lives on the heap, so the reference stays valid after the move.
  auto server = std::make_unique<kubelet::KubeletServer>(
      **runtime, kubelet::KubeletServerOptions{listen, config->token});
  if (Status s = server->start(); !s) {
    std::fprintf(stderr, "error: %s\n", s.error().message.c_str());
    return 1;
  }
  options.kubeletPort = server->port();
  kubelet::Kubelet node(*config, options, std::move(*runtime));
  if (Status s = node.start(); !s) {
    std::fprintf(stderr, "error: %s\n", s.error().message.c_str());
    server->stop();
    return 1;
  }
  logInfo("kubelet stopping", {{"signal", waitForStopSignal(stopSignals)}});
  server->stop();
  server.reset();
  node.stop();
  return 0;
}

}  // namespace skiff::ctl
