#include "api/time.h"

#include <cstdio>
#include <ctime>
#include <limits>

namespace skiff::api {

std::string formatTime(int64_t unixSeconds, int64_t nanos, TimeFraction fraction) {
  // The calendar by arithmetic (std::chrono's civil dates), not gmtime_r:
  // glibc's takes the time-zone lock on every call, and every create asks.
  int64_t days = unixSeconds / 86400, secs = unixSeconds % 86400;
  if (secs < 0) {
    secs += 86400;
    --days;
  }
  std::chrono::year_month_day ymd{std::chrono::sys_days{std::chrono::days{days}}};
  char buf[64];
  size_t n = 0;
  auto digits = [&](long long v, int width) {
    for (int i = width - 1; i >= 0; --i, v /= 10) buf[n + i] = static_cast<char>('0' + v % 10);
    n += width;
  };
  // Go pads the year to four digits ("0001").
  digits(static_cast<int>(ymd.year()), 4);
  buf[n++] = '-';
  digits(static_cast<unsigned>(ymd.month()), 2);
  buf[n++] = '-';
  digits(static_cast<unsigned>(ymd.day()), 2);
  buf[n++] = 'T';
  digits(secs / 3600, 2);
  buf[n++] = ':';
  digits(secs / 60 % 60, 2);
  buf[n++] = ':';
  digits(secs % 60, 2);
  if (fraction == TimeFraction::kMicro) {
    buf[n++] = '.';
    digits(nanos / 1000, 6);
  } else if (fraction == TimeFraction::kNano && nanos != 0) {
    buf[n++] = '.';
    digits(nanos, 9);
    while (buf[n - 1] == '0') --n;
  }
  buf[n++] = 'Z';
  return std::string(buf, n);
}

std::string formatTime(TimePoint t, TimeFraction fraction) {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  int64_t secs = ns / 1000000000, frac = ns % 1000000000;
  if (frac < 0) {  // before 1970: the fraction counts up from the second below
    frac += 1000000000;
    --secs;
  }
  return formatTime(secs, frac, fraction);
}

namespace {

// n digits at s[pos..]; false when one is not a digit.
bool digits(std::string_view s, size_t pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
// days_from_civil): timegm without its locking and normalisation.
long long daysFromCivil(int y, int m, int d) {
  y -= m <= 2;
  const long long era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + static_cast<unsigned>(d) - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<long long>(doe) - 719468;
}

}  // namespace

// Parsed by hand: every Table row's age and every CRI log line come here.
std::optional<UnixTime> parseTimeSeconds(std::string_view s) {
  int year, month, day, hour, minute, second;
  if (!digits(s, 0, 4, year) || s.size() < 19 || s[4] != '-' || !digits(s, 5, 2, month) ||
      s[7] != '-' || !digits(s, 8, 2, day) || (s[10] != 'T' && s[10] != 't') ||
      !digits(s, 11, 2, hour) || s[13] != ':' || !digits(s, 14, 2, minute) || s[16] != ':' ||
      !digits(s, 17, 2, second))
    return std::nullopt;
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60)
    return std::nullopt;
  long long t = daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
  size_t pos = 19;
  long long nanos = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int n = 0;
    for (; pos < s.size() && s[pos] >= '0' && s[pos] <= '9'; ++pos) {
      if (n < 9) {
        nanos = nanos * 10 + (s[pos] - '0');
        ++n;
      }
    }
    if (n == 0) return std::nullopt;
    for (; n < 9; ++n) nanos *= 10;
  }
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int hh, mm;
    if (!digits(s, pos + 1, 2, hh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !digits(s, pos + 4, 2, mm) || hh > 23 || mm > 59)
      return std::nullopt;
    t -= (hh * 3600 + mm * 60) * (s[pos] == '+' ? 1 : -1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  return UnixTime{t, nanos};
}

std::optional<TimePoint> parseTimePrecise(std::string_view s) {
  auto u = parseTimeSeconds(s);
  // Whole seconds of TimePoint's range, one short of each end for the fraction.
  constexpr int64_t kLimit = std::numeric_limits<int64_t>::max() / 1000000000 - 1;
  if (!u || u->seconds > kLimit || u->seconds < -kLimit) return std::nullopt;
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(
      std::chrono::seconds(u->seconds) + std::chrono::nanoseconds(u->nanos)));
}

std::optional<TimePoint> parseTime(std::string_view s) {
  auto t = parseTimePrecise(s);
  if (!t) return std::nullopt;
  return std::chrono::floor<std::chrono::seconds>(*t);
}

}  // namespace skiff::api
