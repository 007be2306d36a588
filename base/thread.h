// Names for threads, as `top -H`, `ps -L`, perf and gdb show them: a process
// that runs the API server, the store and every component (skiff up) is
// otherwise a list of threads all called "skiff".
//
// Thread-safety: each function acts on the calling thread only.
#pragma once

#include <string_view>

namespace skiff {

// Names the calling thread; Linux keeps the first 15 bytes. Failure (none is
// expected) leaves the old name.
void nameThisThread(std::string_view name);

// For a thread that lives long and mostly waits (the kubelet's one per pod):
// its allocations skip the allocator's per-thread cache. build/skiff runs on
// jemalloc, whose cache is fast for the API server's busy threads but keeps
// about 200 KB resident in every thread that ever used it, 20 MB at 100 pods.
// Without jemalloc in the process it does nothing.
void skipThreadCache();

}  // namespace skiff
