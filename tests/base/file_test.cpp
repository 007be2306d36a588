#include "base/file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>

using namespace skiff;
namespace fs = std::filesystem;

namespace {

// An empty directory of this test's own (removed by the test when done).
fs::path freshDir(const std::string& name) {
  fs::path dir =
      fs::temp_directory_path() / ("skiff-file-test-" + std::to_string(::getpid()) + "-" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  return {std::istreambuf_iterator<char>(in), {}};
}

unsigned modeOf(const fs::path& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 ? st.st_mode & 07777 : 0;
}

size_t entries(const fs::path& dir) {
  return size_t(std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
}

}  // namespace

TEST_CASE("writeFileAtomic replaces the file and leaves no temporary behind", "[file]") {
  fs::path dir = freshDir("replace");
  auto f = dir / "f";
  REQUIRE(writeFileAtomic(f, "one"));
  REQUIRE(writeFileAtomic(f, "two", {.durable = false}));
  CHECK(slurp(f) == "two");
  CHECK(entries(dir) == 1);
  fs::remove_all(dir);
}

TEST_CASE("writeFileAtomic: an exact mode ignores the umask; none is 0644 under it", "[file]") {
  fs::path dir = freshDir("mode");
  mode_t old = ::umask(077);
  auto exact = writeFileAtomic(dir / "exact", "x", {.mode = 0644});
  auto plain = writeFileAtomic(dir / "plain", "x");
  ::umask(old);
  REQUIRE(exact);
  REQUIRE(plain);
  CHECK(modeOf(dir / "exact") == 0644);
  CHECK(modeOf(dir / "plain") == 0600);
  fs::remove_all(dir);
}

TEST_CASE("writeFileAtomic names the step and the file when it fails", "[file]") {
  fs::path dir = freshDir("fail");
  auto s = writeFileAtomic(dir / "missing" / "f", "x");
  REQUIRE_FALSE(s);
  CHECK(s.error().code == Code::kInternal);
  CHECK(s.error().message.rfind("create " + (dir / "missing" / "f").string() + ": ", 0) == 0);
  // A directory in the way: the rename fails and the temporary file goes.
  fs::create_directory(dir / "dir");
  fs::create_directory(dir / "dir" / "sub");
  s = writeFileAtomic(dir / "dir", "x");
  REQUIRE_FALSE(s);
  CHECK(s.error().message.rfind("rename ", 0) == 0);
  CHECK(entries(dir) == 1);
  fs::remove_all(dir);
}

TEST_CASE("readWholeFile reads a file, and a missing one is NotFound", "[file]") {
  fs::path dir = freshDir("read");
  std::ofstream(dir / "f") << "secret";
  CHECK(*readWholeFile(dir / "f") == "secret");
  auto missing = readWholeFile(dir / "missing");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code == Code::kNotFound);
  fs::remove_all(dir);
}

TEST_CASE("readWholeFile refuses a file larger than its limit", "[file]") {
  fs::path dir = freshDir("limit");
  std::ofstream(dir / "f") << "0123456789";
  CHECK(*readWholeFile(dir / "f", 10) == "0123456789");
  auto big = readWholeFile(dir / "f", 9);
  REQUIRE_FALSE(big);
  CHECK(big.error().code == Code::kTooLarge);
  CHECK(big.error().message == (dir / "f").string() + ": file too large (10 bytes, limit 9)");
  // /proc files say size 0: the read goes to the end, and the limit still holds.
  CHECK(!readWholeFile("/proc/self/status")->empty());
  CHECK(readWholeFile("/proc/self/status", 8).error().code == Code::kTooLarge);
  fs::remove_all(dir);
}
