// Placeholder until this verb lands: says so and fails.
#include <cstdio>

#include "ctl/commands.h"

namespace skiff::ctl {

int runLogsCommand(int, char**) {
  std::fprintf(stderr, "error: skiff logs is not available in this build yet\n");
  return 1;
}

int runExecCommand(int, char**) {
  std::fprintf(stderr, "error: skiff exec is not available in this build yet\n");
  return 1;
}

}  // namespace skiff::ctl
