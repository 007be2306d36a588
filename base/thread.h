// Names for threads, as `top -H`, `ps -L`, perf and gdb show them: a process
// that runs the API server, the store and every component (skiff up) is
// otherwise a list of threads all called "skiff".
//
// Thread-safety: names the calling thread only.
#pragma once

#include <string_view>

namespace skiff {

// Names the calling thread; Linux keeps the first 15 bytes. Failure (none is
// expected) leaves the old name.
void nameThisThread(std::string_view name);

}  // namespace skiff
