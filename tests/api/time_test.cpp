#include "api/time.h"

#include <catch2/catch.hpp>

using namespace skiff::api;

TEST_CASE("timestamps format and parse as metav1.Time", "[time]") {
  auto t = parseTime("2026-11-26T15:34:53Z");
  REQUIRE(t);
  CHECK(formatTime(*t) == "2026-11-26T15:34:53Z");
  CHECK(parseTime("2026-11-26T15:34:53.123456Z") == t);  // fractions ignored
  CHECK(parseTime("2026-11-26T16:34:53+01:00") == t);
  CHECK(parseTime("2026-11-26T14:04:53-01:30") == t);
  CHECK_FALSE(parseTime(""));
  CHECK_FALSE(parseTime("yesterday"));
  CHECK_FALSE(parseTime("2026-11-26T15:34:53"));  // no zone
  CHECK_FALSE(parseTime("2026-11-26T15:34:53Zjunk"));
  CHECK_FALSE(parseTime("2026-11-26T15:34:53+01"));
  CHECK(nowRfc3339().size() == 20);
}
