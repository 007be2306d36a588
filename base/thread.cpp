#include "base/thread.h"

#include <pthread.h>

#include <string>

// jemalloc's control interface, null unless jemalloc is linked in.
extern "C" int mallctl(const char* name, void* oldp, size_t* oldlenp, void* newp,
                       size_t newlen) __attribute__((weak));

namespace skiff {

void nameThisThread(std::string_view name) {
  std::string n(name.substr(0, 15));
  (void)::pthread_setname_np(::pthread_self(), n.c_str());
}

void skipThreadCache() {
  if (!mallctl) return;
  bool off = false;
  // Disabling flushes what the cache holds back to the arenas.
  (void)mallctl("thread.tcache.enabled", nullptr, nullptr, &off, sizeof off);
}

}  // namespace skiff
