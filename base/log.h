// Structured logs: one line per event, `time level msg key=value ...`, on stderr.
//
//   logInfo("store opened", {{"path", path}, {"revision", std::to_string(rev)}});
//
// Thread-safe: each line is written with one write(2). The level threshold is
// process-wide (setLogLevel), read without locking.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace skiff {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3, kOff = 4 };

using LogField = std::pair<std::string_view, std::string>;

void setLogLevel(LogLevel level);
LogLevel logLevel();
void logAt(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields = {});

inline void logDebug(std::string_view msg, std::initializer_list<LogField> f = {}) {
  if (logLevel() <= LogLevel::kDebug) logAt(LogLevel::kDebug, msg, f);
}
inline void logInfo(std::string_view msg, std::initializer_list<LogField> f = {}) {
  logAt(LogLevel::kInfo, msg, f);
}
inline void logWarn(std::string_view msg, std::initializer_list<LogField> f = {}) {
  logAt(LogLevel::kWarn, msg, f);
}
inline void logError(std::string_view msg, std::initializer_list<LogField> f = {}) {
  logAt(LogLevel::kError, msg, f);
}

}  // namespace skiff
