// `skiff scheduler`: runs the scheduler alone against an apiserver until
// SIGINT or SIGTERM.

#include <signal.h>

#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>
#include <string>

#include "base/log.h"
#include "client/kubeconfig.h"
#include "ctl/cli.h"
#include "ctl/commands.h"
#include "scheduler/scheduler.h"

namespace skiff::ctl {
namespace {

namespace po = boost::program_options;

}  // namespace

int runSchedulerCommand(int argc, char** argv) {
  std::string kubeconfig;
  std::string logLevel = "info";
  std::string schedulerName = scheduler::SchedulerOptions{}.schedulerName;
  po::options_description flags("Flags");
  flags.add_options()("help,h", "Show this help")(
      "kubeconfig", po::value<std::string>(&kubeconfig),
      "Path to the kubeconfig (default: $KUBECONFIG, else /var/lib/skiff/kubeconfig)")(
      "log-level", po::value<std::string>(&logLevel)->default_value(logLevel),
      "debug, info, warn or error")(
      "scheduler-name", po::value<std::string>(&schedulerName)->default_value(schedulerName),
      "Schedule the pods whose spec.schedulerName is this");
  po::variables_map vm;
  if (!parseComponentFlags(argc, argv, flags, "scheduler", vm)) return 1;
  if (vm.count("help")) {
    std::cout << "Run the scheduler alone: bind pending pods to nodes.\n\n"
                 "Pods without spec.nodeName go to the node that fits (nodeSelector, node\n"
                 "affinity, taints, host ports, cpu and memory requests) and has the most room\n"
                 "left. A pod that fits nowhere gets PodScheduled=False, reason Unschedulable,\n"
                 "and is tried again when nodes or pods change. Runs until SIGINT or SIGTERM.\n\n"
                 "Examples:\n"
                 "  skiff scheduler --kubeconfig /var/lib/skiff/kubeconfig\n\n"
                 "Usage:\n  skiff scheduler [flags]\n\n"
              << flags << "\n";
    return 0;
  }
  if (!applyLogLevelFlag(logLevel)) return 1;
  if (schedulerName.empty()) {
    std::fprintf(stderr, "error: --scheduler-name must not be empty\n");
    return 1;
  }
  auto config = loadKubeconfigFlag(kubeconfig);
  if (!config) return 1;

  // Before any thread starts: only waitForStopSignal() sees the stop signals.
  sigset_t stopSignals = blockStopSignals();

  scheduler::SchedulerOptions options;
  options.schedulerName = schedulerName;
  scheduler::Scheduler sched(*config, options);
  if (auto s = sched.start(); !s) {
    std::fprintf(stderr, "error: %s\n", s.error().message.c_str());
    return 1;
  }
  logInfo("scheduler stopping", {{"signal", waitForStopSignal(stopSignals)}});
  sched.stop();
  return 0;
}

}  // namespace skiff::ctl
