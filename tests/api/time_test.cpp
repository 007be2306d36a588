#include "api/time.h"

#include <catch2/catch.hpp>

#include <ctime>

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

TEST_CASE("parseTime agrees with timegm across years, leap days and zones", "[time]") {
  for (const char* s : {"1970-01-01T00:00:00Z", "1969-12-31T23:59:59Z", "2000-02-29T12:00:00Z",
                        "2024-02-29T23:59:59Z", "2100-03-01T00:00:00Z", "1999-12-31T23:59:59Z",
                        "2026-11-27T08:30:00Z", "2038-01-19T03:14:08Z", "1900-03-01T01:02:03Z"}) {
    INFO(s);
    std::tm tm{};
    REQUIRE(strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm) != nullptr);
    auto t = parseTime(s);
    REQUIRE(t);
    CHECK(std::chrono::system_clock::to_time_t(*t) == timegm(&tm));
    CHECK(formatTime(*t) == s);
  }
  CHECK_FALSE(parseTime("2026-13-01T00:00:00Z"));
  CHECK_FALSE(parseTime("2026-00-01T00:00:00Z"));
  CHECK_FALSE(parseTime("2026-11-00T00:00:00Z"));
  CHECK_FALSE(parseTime("2026-11-26T24:00:00Z"));
  CHECK_FALSE(parseTime("2026-11-26 15:34:53Z"));
  CHECK_FALSE(parseTime("2026-1-26T15:34:53Z"));
  CHECK_FALSE(parseTime("2026-11-26T15:34:53+1:00"));
  CHECK_FALSE(parseTime("2026-11-26T15:34:53.Z"));  // a fraction needs a digit
  // The precise form keeps the fraction (to the nanosecond), parseTime drops it.
  auto precise = parseTimePrecise("2026-11-26T15:34:53.123456789Z");
  REQUIRE(precise);
  CHECK(std::chrono::duration_cast<std::chrono::nanoseconds>(precise->time_since_epoch()).count() %
            1000000000 ==
        123456789);
  CHECK(parseTime("2026-11-26T15:34:53.999Z") == parseTime("2026-11-26T15:34:53Z"));
}

TEST_CASE("formatTime writes metav1.Time, MicroTime and RFC3339Nano fractions", "[time]") {
  auto t = parseTimePrecise("2016-10-06T00:17:09.669794202Z");
  REQUIRE(t);
  CHECK(formatTime(*t) == "2016-10-06T00:17:09Z");
  CHECK(formatTime(*t, TimeFraction::kMicro) == "2016-10-06T00:17:09.669794Z");
  CHECK(formatTime(*t, TimeFraction::kNano) == "2016-10-06T00:17:09.669794202Z");
  // RFC3339Nano drops trailing zeros and a zero fraction; MicroTime keeps six digits.
  CHECK(formatTime(1475713032, 500000000, TimeFraction::kNano) == "2016-10-06T00:17:12.5Z");
  CHECK(formatTime(1475713032, 0, TimeFraction::kNano) == "2016-10-06T00:17:12Z");
  CHECK(formatTime(1475713032, 0, TimeFraction::kMicro) == "2016-10-06T00:17:12.000000Z");
  // Go's zero time, which a TimePoint cannot hold, and a time before 1970.
  CHECK(formatTime(-62135596800, 0, TimeFraction::kNone) == "0001-01-01T00:00:00Z");
  CHECK(formatTime(std::chrono::system_clock::time_point(std::chrono::milliseconds(-1500)),
                   TimeFraction::kNano) == "1969-12-31T23:59:58.5Z");
  // Leap days, the last second of a year, and the largest year RFC 3339 holds.
  CHECK(formatTime(951782400, 0, TimeFraction::kNone) == "2000-02-29T00:00:00Z");
  CHECK(formatTime(-2203891200, 0, TimeFraction::kNone) == "1900-03-01T00:00:00Z");
  CHECK(formatTime(1798761599, 0, TimeFraction::kNone) == "2026-12-31T23:59:59Z");
  CHECK(formatTime(253402300799, 999999999, TimeFraction::kNano) ==
        "9999-12-31T23:59:59.999999999Z");
}

TEST_CASE("RFC 3339 offsets and RFC3339Nano output (CRI log times)", "[time]") {
  auto a = parseTimePrecise("2016-10-06T02:17:12.5+02:00");
  REQUIRE(a);
  CHECK(formatTime(*a, TimeFraction::kNano) == "2016-10-06T00:17:12.5Z");
  auto b = parseTimePrecise("2016-10-06T00:17:12Z");
  REQUIRE(b);
  CHECK(formatTime(*b, TimeFraction::kNano) == "2016-10-06T00:17:12Z");
  CHECK_FALSE(parseTimePrecise("2016-10-06 00:17:12Z"));
  CHECK_FALSE(parseTimePrecise("2016-10-06T00:17:12"));
}

TEST_CASE("times outside a TimePoint's years parse as seconds, not as TimePoints", "[time]") {
  // Go's zero time and year 9999 are valid metav1.Time values a client may send.
  auto zero = parseTimeSeconds("0001-01-01T00:00:00Z");
  REQUIRE(zero);
  CHECK(zero->seconds == -62135596800);
  CHECK(formatTime(zero->seconds, zero->nanos, TimeFraction::kNone) == "0001-01-01T00:00:00Z");
  auto last = parseTimeSeconds("9999-12-31T23:59:59.5Z");
  REQUIRE(last);
  CHECK(last->seconds == 253402300799);
  CHECK(last->nanos == 500000000);
  // A TimePoint (int64 nanoseconds) cannot hold them: nullopt, not an overflow.
  CHECK_FALSE(parseTimePrecise("0001-01-01T00:00:00Z"));
  CHECK_FALSE(parseTime("9999-12-31T23:59:59Z"));
  CHECK(parseTimePrecise("2262-01-01T00:00:00Z"));
  CHECK_FALSE(parseTimeSeconds("0001-01-01T00:00:00"));
}
