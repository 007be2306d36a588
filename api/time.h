// Kubernetes timestamps (metav1.Time): RFC 3339 in UTC with seconds,
// "2026-11-26T15:34:53Z". One formatter and one parser for every component.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace skiff::api {

using TimePoint = std::chrono::system_clock::time_point;

// "2026-11-26T15:34:53Z" (whole seconds, UTC).
std::string formatTime(TimePoint t);
inline std::string nowRfc3339() { return formatTime(std::chrono::system_clock::now()); }

// Accepts "YYYY-MM-DDTHH:MM:SS", optional fractional seconds (ignored), then
// "Z" or a "+HH:MM"/"-HH:MM" offset, and nothing after; nullopt otherwise.
std::optional<TimePoint> parseTime(const std::string& text);

}  // namespace skiff::api
