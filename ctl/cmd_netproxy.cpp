// Placeholder until this verb lands: says so and fails.
#include <cstdio>

#include "ctl/commands.h"

namespace skiff::ctl {

int runNetproxyCommand(int, char**) {
  std::fprintf(stderr, "error: skiff netproxy is not available in this build yet\n");
  return 1;
}

}  // namespace skiff::ctl
