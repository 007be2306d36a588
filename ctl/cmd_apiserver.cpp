// `skiff apiserver`: runs the API server alone until SIGINT or SIGTERM.

#include <signal.h>

#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>
#include <string>

#include "apiserver/server.h"
#include "base/log.h"
#include "ctl/cli.h"
#include "ctl/commands.h"

namespace skiff::ctl {
namespace {

namespace po = boost::program_options;

}  // namespace

int runApiserverCommand(int argc, char** argv) {
  apiserver::ServerOptions options;
  std::string logLevel = "info";
  bool noFsync = false;
  po::options_description flags("Flags");
  flags.add_options()("help,h", "Show this help")(
      "data-dir", po::value<std::string>(&options.dataDir)->default_value(options.dataDir),
      "Directory for state.db, pki/ and kubeconfig")(
      "listen", po::value<std::string>(&options.listen)->default_value(options.listen),
      "Address to serve HTTPS on, IP:PORT (port 0 picks a free port)")(
      "log-level", po::value<std::string>(&logLevel)->default_value(logLevel),
      "debug, info, warn or error (debug logs one line per request)")(
      "io-threads", po::value<int>(&options.ioThreads)->default_value(options.ioThreads),
      "Threads serving connections")("no-fsync", po::bool_switch(&noFsync),
                                     "Do not fsync commits (tests only; unsafe)");
  po::variables_map vm;
  if (!parseComponentFlags(argc, argv, flags, "apiserver", vm)) return 1;
  if (vm.count("help")) {
    std::cout << "Run the Kubernetes API server alone, on SQLite in --data-dir.\n\n"
                 "On first start it creates DIR/pki/ (a CA, a server certificate and the admin\n"
                 "token) and DIR/kubeconfig for kubectl. It runs until SIGINT or SIGTERM.\n\n"
                 "Examples:\n"
                 "  # Serve on 127.0.0.1:6443 with state in /var/lib/skiff\n"
                 "  skiff apiserver\n\n"
                 "  # A throwaway server on a free port\n"
                 "  skiff apiserver --data-dir /tmp/k --listen 127.0.0.1:0\n"
                 "  kubectl --kubeconfig /tmp/k/kubeconfig get --raw /healthz\n\n"
                 "Usage:\n  skiff apiserver [flags]\n\n"
              << flags << "\n";
    return 0;
  }
  if (!applyLogLevelFlag(logLevel)) return 1;
  options.fsync = !noFsync;

  // Before any thread starts: only waitForStopSignal() sees the stop signals.
  sigset_t stopSignals = blockStopSignals();

  auto server = apiserver::ApiServer::start(options);
  if (!server) {
    std::fprintf(stderr, "error: %s\n", server.error().message.c_str());
    return 1;
  }
  logInfo("apiserver stopping", {{"signal", waitForStopSignal(stopSignals)}});
  (*server)->stop();
  return 0;
}

}  // namespace skiff::ctl
