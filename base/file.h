// Files read and replaced whole. A replacement is atomic: a reader (or a
// crash) sees the old content or the new, never a mix, because the data goes
// to a temporary file in the same directory that is then renamed over the
// target. Used for the image store's metadata, the kubelet's files mounted
// into pods, credentials and kubeconfigs, caches.
//
// Thread-safety: safe to call concurrently, for the same path too: each write
// has a temporary file of its own and the last rename wins.
#pragma once

#include <cstddef>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace skiff {

struct WriteFileOptions {
  // Permission bits the file gets exactly (fchmod after open, so the umask
  // cannot narrow or a stale file widen them): credentials. Unset: 0644 as
  // narrowed by the umask.
  std::optional<unsigned> mode = std::nullopt;
  // fsync the file before the rename and its directory after it, so the new
  // content survives a power cut. Off for caches and files rewritten anyway.
  bool durable = true;
};

// Replaces `path` with `data`. On failure kInternal "<step> <path>: <strerror>"
// (step: create, write, fsync or rename), the temporary file removed and
// `path` untouched.
Status writeFileAtomic(const std::string& path, std::string_view data,
                       const WriteFileOptions& options = {});

// The whole content of `path`, read to its end. kNotFound when it does not
// exist; kTooLarge "<path>: file too large (...)" when it holds more than
// `maxBytes` (files a hostile image or a full disk could make huge); other
// failures kInternal "<step> <path>: <strerror>" (step: open, stat or read).
Result<std::string> readWholeFile(const std::string& path,
                                  size_t maxBytes = std::numeric_limits<size_t>::max());

}  // namespace skiff
