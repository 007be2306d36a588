#include "base/log.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <ctime>

namespace skiff {
namespace {

std::atomic<LogLevel> g_level{LogLevel::kInfo};

const char* levelName(LogLevel l) {
  switch (l) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
    default: return "off";
  }
}

// Values with spaces, quotes or '=' are quoted so lines stay machine-readable.
void appendValue(std::string& out, const std::string& v) {
  bool quote = v.empty() || v.find_first_of(" \t\"=\n") != std::string::npos;
  if (!quote) {
    out += v;
    return;
  }
  out += '"';
  for (char c : v) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  out += '"';
}

}  // namespace

void setLogLevel(LogLevel level) { g_level = level; }
LogLevel logLevel() { return g_level; }

void logAt(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields) {
  if (level < g_level.load(std::memory_order_relaxed)) return;
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char ts[40];
  std::snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, int(ms));
  std::string line = ts;
  line += ' ';
  line += levelName(level);
  line += ' ';
  appendValue(line, std::string(msg));
  for (const auto& [k, v] : fields) {
    line += ' ';
    line += k;
    line += '=';
    appendValue(line, v);
  }
  line += '\n';
  ssize_t unused = ::write(2, line.data(), line.size());
  (void)unused;
}

}  // namespace skiff
