#include "base/thread.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <string>
#include <thread>

using namespace skiff;

// jemalloc's control interface: base_tests link jemalloc as build/skiff does
// (SKIFF_JEMALLOC), so it is there; null otherwise.
extern "C" int mallctl(const char* name, void* oldp, size_t* oldlenp, void* newp,
                       size_t newlen) __attribute__((weak));

namespace {

// The calling thread's name as the kernel reports it (what top -H shows).
std::string kernelName() {
  std::ifstream in("/proc/self/task/" + std::to_string(::gettid()) + "/comm");
  std::string name;
  std::getline(in, name);
  return name;
}

// Whether the calling thread allocates through jemalloc's per-thread cache.
bool threadCacheOn() {
  bool on = false;
  size_t size = sizeof on;
  if (mallctl("thread.tcache.enabled", &on, &size, nullptr, 0) != 0) return false;
  return on;
}

}  // namespace

TEST_CASE("nameThisThread names the calling thread only, cut to 15 bytes", "[thread]") {
  std::string before = kernelName();
  std::string named, cut;
  std::thread([&] {
    nameThisThread("store-writer");
    named = kernelName();
    nameThisThread("a-name-longer-than-fifteen");
    cut = kernelName();
  }).join();
  CHECK(named == "store-writer");
  CHECK(cut == "a-name-longer-t");
  CHECK(kernelName() == before);
}

TEST_CASE("skipThreadCache turns off the calling thread's allocator cache only", "[thread]") {
#ifdef SKIFF_JEMALLOC
  REQUIRE(mallctl != nullptr);
#endif
  if (!mallctl) {
    skipThreadCache();  // glibc's malloc: nothing to do, nothing breaks
    std::thread([] { skipThreadCache(); }).join();
    return;
  }
  bool before = false, after = true;
  std::thread([&] {
    std::string warm(100, 'x');  // the cache exists once the thread allocated
    before = threadCacheOn();
    skipThreadCache();
    after = threadCacheOn();
    std::string still(100, 'y');  // and allocation works without it
    warm += still;
  }).join();
  CHECK(before);
  CHECK_FALSE(after);
  CHECK(threadCacheOn());
}
