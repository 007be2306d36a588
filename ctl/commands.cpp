#include "ctl/commands.h"

#include <cstdio>
#include <cstring>
#include <string>

namespace skiff::ctl {
namespace {

struct Verb {
  const char* name;
  const char* summary;
  int (*fn)(int, char**);
};

const Verb kVerbs[] = {
    {"apiserver", "Run the API server alone (on SQLite in --data-dir)", runApiserverCommand},
    {"version", "Print the client and server versions", runVersionCommand},
};

void usage(FILE* out) {
  std::fprintf(out, "skiff: Kubernetes for one machine.\n\nUsage:\n  skiff VERB [flags]\n\nVerbs:\n");
  for (const auto& v : kVerbs) std::fprintf(out, "  %-12s %s\n", v.name, v.summary);
  std::fprintf(out, "\nUse \"skiff VERB --help\" for more about a verb.\n");
}

}  // namespace

int runVersionCommand(int, char**) {
  std::printf("Client Version: v1.32.0-skiff.0.1.0\n");
  return 0;
}

int run(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") ||
      !std::strcmp(argv[1], "help")) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 1 : 0;
  }
  for (const auto& v : kVerbs)
    if (!std::strcmp(argv[1], v.name)) return v.fn(argc - 1, argv + 1);
  std::fprintf(stderr, "error: unknown command \"%s\" for \"skiff\"\nRun 'skiff --help' for usage.\n",
               argv[1]);
  return 1;
}

}  // namespace skiff::ctl
