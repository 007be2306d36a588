#include <cstdio>

#include "ctl/commands.h"

namespace skiff::ctl {

int runApiserverCommand(int, char**) {
  std::fprintf(stderr, "error: the API server is not built yet\n");
  return 1;
}

}  // namespace skiff::ctl
