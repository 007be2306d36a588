// `skiff version`, `skiff api-resources`, `skiff completion`.
#include <algorithm>
#include <cstdio>

#include "ctl/cli.h"
#include "ctl/commands.h"
#include "ctl/printers.h"
#include "ctl/yaml.h"

namespace skiff::ctl {

inline constexpr const char* kClientVersion = "v1.32.0-skiff.0.1.0";

int runVersionCommand(int argc, char** argv) {
  GlobalFlags g;
  bool clientOnly = false;
  std::string output;
  po::options_description desc;
  desc.add_options()("client", po::bool_switch(&clientOnly),
                     "If true, shows client version only (no server required)")(
      "output,o", po::value(&output), "One of 'yaml' or 'json'");
  addGlobalFlags(desc, g, false);
  po::variables_map vm;
  std::vector<std::string> args;
  if (auto err = parseFlags(argc, argv, desc, vm, args); !err.empty())
    return usageError("version", err);
  if (vm["help"].as<bool>()) {
    printHelp("skiff version [--client] [-o json|yaml]",
              "Print the client and server version information.",
              "  # Print the client and server versions\n  skiff version\n\n  # Client only\n  "
              "skiff version --client",
              desc);
    return 0;
  }
  Json info = {{"clientVersion",
                {{"gitVersion", kClientVersion},
                 {"major", "1"},
                 {"minor", "32"},
                 {"platform", "linux/amd64"}}}};
  Error serverErr;
  if (!clientOnly) {
    Cli cli(g);
    auto c = cli.client();
    if (!c)
      serverErr = c.error();
    else {
      auto v = (*c)->get("/version");
      if (v)
        info["serverVersion"] = *v;
      else
        serverErr = v.error();
    }
    if (!serverErr.message.empty()) {
      if (output.empty()) std::printf("Client Version: %s\n", kClientVersion);
      return cli.fail(serverErr);
    }
  }
  if (output == "json")
    std::fputs(toJsonText(info).c_str(), stdout);
  else if (output == "yaml")
    std::fputs(jsonToYaml(info).c_str(), stdout);
  else if (!output.empty())
    return usageError("version", "--output must be 'yaml' or 'json'");
  else {
    std::printf("Client Version: %s\n", kClientVersion);
    if (info.contains("serverVersion"))
      std::printf("Server Version: %s\n", info["serverVersion"].value("gitVersion", "").c_str());
  }
  return 0;
}

int runApiResourcesCommand(int argc, char** argv) {
  GlobalFlags g;
  std::string output, group, namespacedText;
  bool noHeaders = false;
  po::options_description desc;
  desc.add_options()("output,o", po::value(&output), "Output format: wide or name")(
      "api-group", po::value(&group), "Limit to resources in the specified API group")(
      "namespaced", po::value(&namespacedText),
      "If false, non-namespaced resources are returned; if true, namespaced ones")(
      "no-headers", po::bool_switch(&noHeaders), "Don't print headers");
  addGlobalFlags(desc, g, false);
  po::variables_map vm;
  std::vector<std::string> args;
  if (auto err = parseFlags(argc, argv, desc, vm, args); !err.empty())
    return usageError("api-resources", err);
  if (vm["help"].as<bool>()) {
    printHelp(
        "skiff api-resources [flags]", "Print the supported API resources on the server.",
        "  # Print the supported API resources\n  skiff api-resources\n\n"
        "  # Print the supported namespaced resources\n  skiff api-resources --namespaced=true",
        desc);
    return 0;
  }
  Cli cli(g);
  auto d = cli.discovery();
  if (!d) return cli.fail(d.error());
  std::vector<client::ResourceType> rs;
  for (const auto& r : (*d)->resources()) {
    if (!r.preferred) continue;
    if (vm.count("api-group") && r.group != group) continue;
    if (!namespacedText.empty() && r.namespaced != (namespacedText == "true")) continue;
    rs.push_back(r);
  }
  std::stable_sort(rs.begin(), rs.end(), [](const auto& a, const auto& b) {
    return a.group != b.group ? a.group < b.group : a.name < b.name;
  });
  if (output == "name") {
    for (const auto& r : rs) std::printf("%s\n", r.qualifiedName().c_str());
    return 0;
  }
  std::vector<std::vector<std::string>> rows;
  if (!noHeaders) {
    rows.push_back({"NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"});
    if (output == "wide") rows.back().push_back("VERBS");
  }
  for (const auto& r : rs) {
    std::string shorts;
    for (const auto& s : r.shortNames) shorts += (shorts.empty() ? "" : ",") + s;
    rows.push_back({r.name, shorts, r.apiVersion(), r.namespaced ? "true" : "false", r.kind});
    if (output == "wide") {
      std::string verbs;
      for (const auto& v : r.verbs) verbs += (verbs.empty() ? "" : " ") + v;
      rows.back().push_back("[" + verbs + "]");
    }
  }
  std::fputs(tabwrite(rows).c_str(), stdout);
  return 0;
}

int runCompletionCommand(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") {
    std::printf(
        "Output shell completion code for bash.\n\nExamples:\n"
        "  # Load completion into the current shell\n  source <(skiff completion bash)\n\n"
        "  # Install it for every new shell\n  skiff completion bash > "
        "/etc/bash_completion.d/skiff\n\n"
        "Usage:\n  skiff completion bash\n");
    return argc < 2 ? 1 : 0;
  }
  if (std::string(argv[1]) != "bash") {
    std::fprintf(stderr, "error: Unsupported shell type \"%s\".\n", argv[1]);
    return 1;
  }
  std::fputs(
      R"BASH(# bash completion for skiff                                  -*- shell-script -*-
_skiff_types() {
  skiff api-resources -o name 2>/dev/null | sed 's/\..*//'
  echo "po svc ep no ns ev deploy rs"
}
_skiff() {
  local cur prev verb
  COMPREPLY=()
  cur="${COMP_WORDS[COMP_CWORD]}"
  prev="${COMP_WORDS[COMP_CWORD-1]}"
  verb="${COMP_WORDS[1]}"
  local verbs="up down apply create replace get describe delete wait version api-resources completion apiserver"
  if [[ ${COMP_CWORD} -eq 1 ]]; then
    COMPREPLY=( $(compgen -W "${verbs}" -- "${cur}") ); return 0
  fi
  case "${prev}" in
    -f|--filename|--kubeconfig|--data-dir) COMPREPLY=( $(compgen -f -- "${cur}") ); return 0 ;;
    -o|--output) COMPREPLY=( $(compgen -W "wide name json yaml jsonpath=" -- "${cur}") ); return 0 ;;
    -n|--namespace) COMPREPLY=( $(compgen -W "$(skiff get ns -o name 2>/dev/null | sed 's|.*/||')" -- "${cur}") ); return 0 ;;
  esac
  if [[ "${cur}" == -* ]]; then
    COMPREPLY=( $(compgen -W "--help --namespace --all-namespaces --kubeconfig --context --filename --output --selector --watch --show-labels --no-headers --dry-run --wait --timeout --for --grace-period --recursive --data-dir --listen --detach --ephemeral" -- "${cur}") )
    return 0
  fi
  case "${verb}" in
    get|describe|delete|wait)
      if [[ ${COMP_CWORD} -eq 2 ]]; then
        COMPREPLY=( $(compgen -W "$(_skiff_types)" -- "${cur}") )
      else
        COMPREPLY=( $(compgen -W "$(skiff get "${COMP_WORDS[2]}" -o name 2>/dev/null | sed 's|.*/||')" -- "${cur}") )
      fi ;;
    completion) COMPREPLY=( $(compgen -W "bash" -- "${cur}") ) ;;
  esac
}
complete -o default -F _skiff skiff
)BASH",
      stdout);
  return 0;
}

}  // namespace skiff::ctl
