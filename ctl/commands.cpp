#include "ctl/commands.h"

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace skiff::ctl {
namespace {

struct Verb {
  const char* name;
  const char* summary;
  int (*fn)(int, char**);
};

const Verb kVerbs[] = {
    {"up", "Start a cluster on this machine (API server and components) and print its kubeconfig",
     runUpCommand},
    {"down", "Stop the cluster `skiff up --detach` started", runDownCommand},
    {"apply", "Apply a configuration to resources by file name or stdin", runApplyCommand},
    {"create", "Create resources from a file or stdin", runCreateCommand},
    {"replace", "Replace resources by file name or stdin", runReplaceCommand},
    {"get", "Display one or many resources", runGetCommand},
    {"describe", "Show details of a specific resource or group of resources", runDescribeCommand},
    {"delete", "Delete resources by file names, stdin, resources and names, or by label selector",
     runDeleteCommand},
    {"wait", "Wait for a specific condition on one or many resources", runWaitCommand},
    {"logs", "Print the logs for a container in a pod", runLogsCommand},
    {"exec", "Execute a command in a container", runExecCommand},
    {"scale", "Set a new size for a deployment or replica set", runScaleCommand},
    {"rollout", "Manage the rollout of a deployment", runRolloutCommand},
    {"set", "Set specific features on objects (set image)", runSetCommand},
    {"image", "Load, list and remove container images (skiff image load|ls|rm)", runImageCommand},
    {"api-resources", "Print the supported API resources on the server", runApiResourcesCommand},
    {"version", "Print the client and server version information", runVersionCommand},
    {"completion", "Output shell completion code for bash", runCompletionCommand},
    {"apiserver", "Run the API server alone (on SQLite in --data-dir)", runApiserverCommand},
    {"kubelet", "Run the kubelet alone against a running API server", runKubeletCommand},
    {"scheduler", "Run the scheduler alone against a running API server", runSchedulerCommand},
    {"controller-manager", "Run the controllers alone against a running API server",
     runControllerManagerCommand},
    {"netproxy", "Run the service proxy and cluster DNS alone against a running API server",
     runNetproxyCommand},
};

void usage(FILE* out) {
  std::fprintf(
      out,
      "skiff: Kubernetes for one machine. Speaks the Kubernetes API; kubectl works too.\n\n"
      "Usage:\n  skiff VERB [flags]\n\nVerbs:\n");
  for (const auto& v : kVerbs) std::fprintf(out, "  %-19s %s\n", v.name, v.summary);
  std::fprintf(out,
               "\nFinding the server: --kubeconfig F, else $KUBECONFIG, else "
               "/var/lib/skiff/kubeconfig; --context, -n/--namespace as kubectl.\n"
               "\nUse \"skiff VERB --help\" for more about a verb.\n");
}

// kubectl takes its global flags before the verb too (`kubectl -n kube-system
// get pods`, `kubectl --kubeconfig F get ns`). Leading ones move behind the
// verb, where every verb parses them; what is left for the verb decides.
std::vector<char*> verbFirst(int argc, char** argv) {
  static const char* const kWithValue[] = {"-n", "--namespace", "--kubeconfig", "--context", "-v",
                                           "--v"};
  std::vector<char*> globals, out{argv[0]};
  int i = 1;
  while (i < argc && argv[i][0] == '-') {
    std::string a = argv[i];
    std::string name = a.substr(0, a.find('='));
    bool known = false;
    for (const char* f : kWithValue) known = known || name == f;
    if (!known) break;
    globals.push_back(argv[i++]);
    if (name == a && i < argc) globals.push_back(argv[i++]);  // "--flag value"
  }
  if (globals.empty() || i >= argc) return {argv, argv + argc};
  out.push_back(argv[i++]);  // the verb
  out.insert(out.end(), globals.begin(), globals.end());
  out.insert(out.end(), argv + i, argv + argc);
  return out;
}

}  // namespace

int run(int argc, char** argv) {
  std::vector<char*> reordered = verbFirst(argc, argv);
  argc = static_cast<int>(reordered.size());
  reordered.push_back(nullptr);
  argv = reordered.data();
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") ||
      !std::strcmp(argv[1], "help")) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 1 : 0;
  }
  for (const auto& v : kVerbs)
    if (!std::strcmp(argv[1], v.name)) return v.fn(argc - 1, argv + 1);
  std::fprintf(stderr,
               "error: unknown command \"%s\" for \"skiff\"\nRun 'skiff --help' for usage.\n",
               argv[1]);
  return 1;
}

}  // namespace skiff::ctl
