#include "base/thread.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <string>
#include <thread>

using namespace skiff;

namespace {

// The calling thread's name as the kernel reports it (what top -H shows).
std::string kernelName() {
  std::ifstream in("/proc/self/task/" + std::to_string(::gettid()) + "/comm");
  std::string name;
  std::getline(in, name);
  return name;
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
