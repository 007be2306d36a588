// Reading container logs in the CRI format that conmon writes, as the kubelet
// serves them for `kubectl logs`.
//
// Each line of the file is one message:
//
//   2016-10-06T00:17:09.669794202Z stdout F hello world
//   2016-10-06T00:17:09.669794202Z stderr P a long line cut he
//   2016-10-06T00:17:09.700000000Z stderr F re, continued
//
// TIMESTAMP (RFC 3339, UTC "Z" or a "+hh:mm" offset) STREAM (stdout|stderr)
// TAG (F full, P partial: the runtime cut a long line; the next message of the
// same line carries the rest) then the text and '\n'. A logical line is a run
// of P messages ended by an F message; the reader works on logical lines, so
// tailLines counts what the container printed, not how the runtime cut it.
//
// Options follow Kubernetes' PodLogOptions: tailLines (last N lines), since
// (lines stamped at or after it), timestamps (prefix each line with its
// first message's time in RFC 3339 with nanoseconds, trailing zeros trimmed,
// as Go's RFC3339Nano), limitBytes (stop after that many bytes of output, even
// in the middle of a line) and follow (after the end of the file, wait for it
// to grow — inotify — until the container stops).
//
// Pure parsing (parseCriLine; times through api::formatTime) plus one reading loop over a
// real file; thread-safe (no shared state).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace skiff::kubelet {

struct CriMessage {
  std::chrono::system_clock::time_point time;
  std::string_view stream;  // "stdout" or "stderr"
  bool partial = false;     // tag P
  std::string_view text;    // without the trailing '\n'
};

// Parses one line of a CRI log file (without its '\n'); nullopt when it is
// not in the format (such lines are skipped by the reader).
std::optional<CriMessage> parseCriLine(std::string_view line);

struct LogReadOptions {
  std::optional<int64_t> tailLines;   // >= 0
  std::optional<int64_t> limitBytes;  // > 0
  std::optional<std::chrono::system_clock::time_point> since;
  bool timestamps = false;
  bool follow = false;
};

// Receives output; returns false to stop reading (the client went away).
using LogSink = std::function<bool(std::string_view)>;
// Asked while following, when the file has not grown for a while: true to
// keep waiting (the container still runs and the client is still there).
using FollowPredicate = std::function<bool()>;

// Writes the log at `path` through `sink` as `options` select. With follow,
// returns once keepFollowing() says false and everything written by then has
// been sent, or the sink refuses. kNotFound when the file does not exist.
Status readCriLog(const std::string& path, const LogReadOptions& options, const LogSink& sink,
                  const FollowPredicate& keepFollowing = {});

}  // namespace skiff::kubelet
