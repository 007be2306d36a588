// Placeholder until this verb lands: says so and fails.
#include <cstdio>

#include "ctl/commands.h"

namespace skiff::ctl {

int runScaleCommand(int, char**) {
  std::fprintf(stderr, "error: skiff scale is not available in this build yet\n");
  return 1;
}

int runRolloutCommand(int, char**) {
  std::fprintf(stderr, "error: skiff rollout is not available in this build yet\n");
  return 1;
}

int runSetCommand(int, char**) {
  std::fprintf(stderr, "error: skiff set is not available in this build yet\n");
  return 1;
}

}  // namespace skiff::ctl
