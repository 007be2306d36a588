// Kubernetes timestamps (metav1.Time): RFC 3339 in UTC with seconds,
// "2026-11-26T15:34:53Z". One formatter and one parser for every component.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace skiff::api {

using TimePoint = std::chrono::system_clock::time_point;

// The fraction of a second formatTime writes.
enum class TimeFraction {
  kNone,   // metav1.Time: "2026-11-26T15:34:53Z"
  kMicro,  // metav1.MicroTime: always six digits, "2026-11-26T15:34:53.000120Z"
  kNano,   // Go's RFC3339Nano (CRI log lines): up to nine, trailing zeros dropped
};

// RFC 3339 in UTC; `nanos` in [0, 1e9). The seconds form covers every year Go
// writes (metav1.Time of year 1 included), which a TimePoint cannot hold.
std::string formatTime(int64_t unixSeconds, int64_t nanos, TimeFraction fraction);
std::string formatTime(TimePoint t, TimeFraction fraction = TimeFraction::kNone);
inline std::string nowRfc3339() { return formatTime(std::chrono::system_clock::now()); }

// Accepts "YYYY-MM-DDTHH:MM:SS", optional fractional seconds (one digit or
// more), then "Z" or a "+HH:MM"/"-HH:MM" offset, and nothing after; nullopt
// otherwise. parseTimePrecise keeps the fraction (to the nanosecond: CRI log
// lines, sinceTime); parseTime drops it (metav1.Time has whole seconds).
// parseTimeSeconds is the grammar alone, as Unix seconds and nanoseconds, for
// any year 0000-9999; the other two also answer nullopt for a time a TimePoint
// (nanoseconds in int64: years 1678-2262) cannot hold.
struct UnixTime {
  int64_t seconds = 0;
  int64_t nanos = 0;  // 0..999,999,999
};
std::optional<UnixTime> parseTimeSeconds(std::string_view text);
std::optional<TimePoint> parseTimePrecise(std::string_view text);
std::optional<TimePoint> parseTime(std::string_view text);

}  // namespace skiff::api
