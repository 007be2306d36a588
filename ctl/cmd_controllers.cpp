// `skiff controller-manager`: runs the ReplicaSet, Deployment, garbage
// collection (and Endpoints) controllers alone until SIGINT or SIGTERM.
#include <signal.h>

#include <cstdio>
#include <iostream>

#include "base/log.h"
#include "client/kubeconfig.h"
#include "controllers/manager.h"
#include "ctl/cli.h"
#include "ctl/commands.h"

namespace skiff::ctl {

int runControllerManagerCommand(int argc, char** argv) {
  std::string kubeconfig, logLevel = "info";
  controllers::ControllerManagerOptions options;
  int workers = 2;
  po::options_description desc("Flags");
  desc.add_options()("help,h", "Show this help")(
      "kubeconfig", po::value(&kubeconfig),
      "Kubeconfig of the API server (default $KUBECONFIG, else /var/lib/skiff/kubeconfig)")(
      "log-level", po::value(&logLevel)->default_value(logLevel), "debug, info, warn or error")(
      "workers", po::value(&workers)->default_value(workers), "Worker threads per controller");
  po::variables_map vm;
  if (!parseComponentFlags(argc, argv, desc, "controller-manager", vm)) return 1;
  if (vm.count("help")) {
    std::cout << "Run the ReplicaSet, Deployment, garbage collector and Endpoints controllers\n"
                 "against an API server, until SIGINT or SIGTERM.\n\n"
                 "Examples:\n  skiff controller-manager --kubeconfig /tmp/k/kubeconfig\n\n"
                 "Usage:\n  skiff controller-manager [flags]\n\n"
              << desc << "\n";
    return 0;
  }
  if (!applyLogLevelFlag(logLevel)) return 1;
  if (workers < 1) {
    std::fprintf(stderr, "error: invalid --workers %d: must be at least 1\n", workers);
    return 1;
  }
  options.replicaSet.workers = options.deployment.workers = options.gc.workers = workers;
  auto config = loadKubeconfigFlag(kubeconfig);
  if (!config) return 1;
  // Before any thread starts: only waitForStopSignal() sees the stop signals.
  sigset_t stopSignals = blockStopSignals();
  controllers::ControllerManager manager(*config, options);
  if (Status s = manager.start(); !s) {
    std::fprintf(stderr, "error: %s\n", s.error().message.c_str());
    return 1;
  }
  logInfo("controller-manager stopping", {{"signal", waitForStopSignal(stopSignals)}});
  manager.stop();
  return 0;
}

}  // namespace skiff::ctl
