// The CRI log reader against real files: parsing, P/F lines, tail, since,
// timestamps, limitBytes, and follow with a file that grows.
#include "api/time.h"
#include "kubelet/log_reader.h"

#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

using namespace skiff;
using namespace skiff::kubelet;

namespace {

struct TempLog {
  std::filesystem::path dir;
  std::string path;
  TempLog() {
    char tmpl[] = "/tmp/skiff-logreader-XXXXXX";
    dir = mkdtemp(tmpl);
    path = (dir / "0.log").string();
  }
  ~TempLog() { std::filesystem::remove_all(dir); }
  void append(const std::string& text) {
    std::ofstream f(path, std::ios::app);
    f << text;
  }
};

std::string readAll(const std::string& path, const LogReadOptions& options) {
  std::string out;
  auto st = readCriLog(path, options, [&](std::string_view s) {
    out.append(s);
    return true;
  });
  REQUIRE(st);
  return out;
}

const char* kLog =
    "2016-10-06T00:17:09.669794202Z stdout F one\n"
    "2016-10-06T00:17:10.000000000Z stderr P tw\n"
    "2016-10-06T00:17:10.100000000Z stderr F o\n"
    "not a cri line\n"
    "2016-10-06T00:17:11Z stdout F three\n"
    "2016-10-06T02:17:12.5+02:00 stdout F four\n";

}  // namespace

TEST_CASE("parseCriLine reads time, stream, tag and text", "[kubelet][logs]") {
  auto m = parseCriLine("2016-10-06T00:17:09.669794202Z stdout F hello world");
  REQUIRE(m);
  CHECK(m->stream == "stdout");
  CHECK_FALSE(m->partial);
  CHECK(m->text == "hello world");
  CHECK(api::formatTime(m->time, api::TimeFraction::kNano) == "2016-10-06T00:17:09.669794202Z");

  auto p = parseCriLine("2016-10-06T00:17:09Z stderr P ");
  REQUIRE(p);
  CHECK(p->partial);
  CHECK(p->text.empty());

  CHECK_FALSE(parseCriLine("garbage"));
  CHECK_FALSE(parseCriLine("2016-10-06T00:17:09Z stdin F x"));
  CHECK_FALSE(parseCriLine("2016-13-06T00:17:09Z stdout F x"));
  CHECK_FALSE(parseCriLine("2016-10-06T00:17:09Z stdout X x"));
}

TEST_CASE("readCriLog joins partial lines and skips foreign lines", "[kubelet][logs]") {
  TempLog log;
  log.append(kLog);
  CHECK(readAll(log.path, {}) == "one\ntwo\nthree\nfour\n");
}

TEST_CASE("readCriLog tailLines counts logical lines", "[kubelet][logs]") {
  TempLog log;
  log.append(kLog);
  LogReadOptions o;
  o.tailLines = 3;
  CHECK(readAll(log.path, o) == "two\nthree\nfour\n");
  o.tailLines = 0;
  CHECK(readAll(log.path, o).empty());
  o.tailLines = 100;
  CHECK(readAll(log.path, o) == "one\ntwo\nthree\nfour\n");
}

TEST_CASE("readCriLog timestamps prefix each line with its first message's time",
          "[kubelet][logs]") {
  TempLog log;
  log.append(kLog);
  LogReadOptions o;
  o.timestamps = true;
  o.tailLines = 2;
  CHECK(readAll(log.path, o) == "2016-10-06T00:17:11Z three\n2016-10-06T00:17:12.5Z four\n");
  o.tailLines = 3;
  CHECK(readAll(log.path, o).rfind("2016-10-06T00:17:10Z two\n", 0) == 0);
}

TEST_CASE("readCriLog since and limitBytes", "[kubelet][logs]") {
  TempLog log;
  log.append(kLog);
  LogReadOptions o;
  o.since = skiff::api::parseTimePrecise("2016-10-06T00:17:10.5Z");
  CHECK(readAll(log.path, o) == "three\nfour\n");
  LogReadOptions l;
  l.limitBytes = 6;
  CHECK(readAll(log.path, l) == "one\ntw");
}

TEST_CASE("readCriLog of a missing file is NotFound", "[kubelet][logs]") {
  auto st = readCriLog("/nonexistent/skiff/0.log", {}, [](std::string_view) { return true; });
  REQUIRE_FALSE(st);
  CHECK(st.error().code == Code::kNotFound);
}

TEST_CASE("readCriLog follow sees appended lines and stops when told", "[kubelet][logs]") {
  TempLog log;
  log.append("2016-10-06T00:17:09Z stdout F first\n");
  std::mutex mu;
  std::condition_variable cv;
  std::string out;
  std::atomic<bool> running{true};
  LogReadOptions o;
  o.follow = true;
  std::thread reader([&] {
    auto st = readCriLog(
        log.path, o,
        [&](std::string_view s) {
          std::lock_guard<std::mutex> lock(mu);
          out.append(s);
          cv.notify_all();
          return true;
        },
        [&] { return running.load(); });
    CHECK(st);
  });
  auto waitFor = [&](const std::string& want) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, std::chrono::seconds(20), [&] { return out == want; });
  };
  CHECK(waitFor("first\n"));
  log.append("2016-10-06T00:17:10Z stdout P sec");
  log.append("ond\n");  // a message split across writes
  log.append("2016-10-06T00:17:10Z stdout F \n");
  CHECK(waitFor("first\nsecond\n"));
  log.append("2016-10-06T00:17:11Z stderr F third\n");
  CHECK(waitFor("first\nsecond\nthird\n"));
  running = false;
  reader.join();
  CHECK(out == "first\nsecond\nthird\n");
}

TEST_CASE("readCriLog follow stops when the sink refuses", "[kubelet][logs]") {
  TempLog log;
  log.append("2016-10-06T00:17:09Z stdout F a\n2016-10-06T00:17:09Z stdout F b\n");
  LogReadOptions o;
  o.follow = true;
  int calls = 0;
  auto st = readCriLog(
      log.path, o, [&](std::string_view) { return ++calls < 1; }, [] { return true; });
  CHECK(st);
  CHECK(calls == 1);
}
