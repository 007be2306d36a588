// What every verb shares: kubectl's global flags, the lazily built client and
// discovery, flag parsing with kubectl's error texts, and error printing with
// skiff's hints.
//
// One Cli per invocation, used by one thread.
#pragma once

#include <signal.h>

#include <boost/program_options.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "client/discovery.h"
#include "client/rest_client.h"

namespace skiff::ctl {

namespace po = boost::program_options;

struct GlobalFlags {
  std::string kubeconfig;
  std::string context;
  std::string ns;  // -n; empty = the context's
  bool allNamespaces = false;
  std::string requestTimeout;
};

class Cli {
 public:
  explicit Cli(GlobalFlags flags) : flags_(std::move(flags)) {}

  const GlobalFlags& flags() const { return flags_; }
  // The client for the chosen kubeconfig/context (loaded on first use).
  Result<client::RestClient*> client();
  Result<client::Discovery*> discovery();
  // -n, else the context's namespace, else "default".
  std::string ns();
  bool namespaceExplicit() const { return !flags_.ns.empty(); }

  // Prints renderError(e, context) and, for errors skiff can explain, a hint
  // line; returns 1 (the exit code).
  int fail(const Error& e, const std::string& context = "");
  // Prints the error line without a hint; for per-object failures in a loop.
  void report(const Error& e, const std::string& context = "");

 private:
  GlobalFlags flags_;
  std::unique_ptr<client::RestClient> client_;
  std::optional<client::Discovery> discovery_;
};

// Describes the global flags (added to every verb's options).
void addGlobalFlags(po::options_description& desc, GlobalFlags& flags, bool allNamespaces);

// Parses argv (argv[0] = verb) into `vm`; positionals go to `args`. Returns
// an error message in kubectl's words ("unknown flag: --foo") or "" on success.
std::string parseFlags(int argc, char** argv, const po::options_description& desc,
                       po::variables_map& vm, std::vector<std::string>& args);

// Prints `error: MSG\nSee 'skiff VERB -h' for help and examples` to stderr; returns 1.
int usageError(const std::string& verb, const std::string& message);

// Prints a verb's help: usage line, description, examples and flags.
void printHelp(const std::string& usage, const std::string& description,
               const std::string& examples, const po::options_description& desc);

// kubectl durations: "30s", "5m", "1h30m", "500ms", a bare number = seconds.
// kBadRequest for junk.
Result<std::chrono::milliseconds> parseDuration(const std::string& text);

// True when stdout is a terminal (progress lines are drawn only then).
bool stdoutIsTerminal();

}  // namespace skiff::ctl

namespace skiff::ctl {
// Percent-encodes a query parameter value.
std::string urlEncode(const std::string& s);

// The component verbs (apiserver, kubelet, scheduler, controller-manager,
// netproxy) share these.
// --log-level: sets the process's level, or prints `error: invalid
// --log-level "x" (debug, info, warn, error)` and returns false.
bool applyLogLevelFlag(const std::string& text);
// Blocks SIGINT and SIGTERM in the calling thread and ignores SIGPIPE. Call it
// before any thread starts: threads inherit the mask, so only
// waitForStopSignal() sees the signals.
sigset_t blockStopSignals();
// Waits for SIGINT or SIGTERM; returns its name for the log.
std::string waitForStopSignal(const sigset_t& stopSignals);
// Parses `argv` against `flags` into `vm`. A bad flag prints "error: <why>"
// and "See 'skiff <verb> --help' for usage." and returns false.
bool parseComponentFlags(int argc, char** argv,
                         const boost::program_options::options_description& flags, const char* verb,
                         boost::program_options::variables_map& vm);
// The kubeconfig --kubeconfig names (empty: $KUBECONFIG, else the default,
// as client::kubeconfigPath), or nullopt after printing "error: <why>".
std::optional<client::ClientConfig> loadKubeconfigFlag(const std::string& flag);
}  // namespace skiff::ctl
