#include "api/time.h"

#include <cctype>
#include <cstdio>
#include <ctime>

namespace skiff::api {

std::string formatTime(TimePoint t) {
  std::time_t s = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&s, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::optional<TimePoint> parseTime(const std::string& s) {
  std::tm tm{};
  int n = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6)
    return std::nullopt;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  std::time_t t = timegm(&tm);
  size_t pos = static_cast<size_t>(n);
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) ++pos;
  }
  if (pos < s.size() && s[pos] == 'Z') {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int hh = 0, mm = 0, used = 0;
    if (std::sscanf(s.c_str() + pos + 1, "%2d:%2d%n", &hh, &mm, &used) != 2) return std::nullopt;
    t -= (hh * 3600 + mm * 60) * (s[pos] == '+' ? 1 : -1);
    pos += 1 + static_cast<size_t>(used);
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  return std::chrono::system_clock::from_time_t(t);
}

}  // namespace skiff::api
