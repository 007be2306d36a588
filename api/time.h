// Kubernetes timestamps (metav1.Time): RFC 3339 in UTC with seconds,
// "2026-11-26T15:34:53Z". One formatter and one parser for every component.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace skiff::api {

using TimePoint = std::chrono::system_clock::time_point;

// "2026-11-26T15:34:53Z" (whole seconds, UTC).
std::string formatTime(TimePoint t);
inline std::string nowRfc3339() { return formatTime(std::chrono::system_clock::now()); }

// Accepts "YYYY-MM-DDTHH:MM:SS", optional fractional seconds (one digit or
// more), then "Z" or a "+HH:MM"/"-HH:MM" offset, and nothing after; nullopt
// otherwise. parseTimePrecise keeps the fraction (to the nanosecond: CRI log
// lines, sinceTime); parseTime drops it (metav1.Time has whole seconds).
std::optional<TimePoint> parseTimePrecise(std::string_view text);
std::optional<TimePoint> parseTime(std::string_view text);

}  // namespace skiff::api
