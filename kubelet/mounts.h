// The mounts the runtime makes on the host: a container's overlayfs root, the
// tmpfs behind an emptyDir of medium Memory, and their removal. Removing a
// directory tree that still has a mount in it would delete what is mounted
// there (an overlay's lower layers are the image store's!), so every removal
// goes through removeTreeUnmounted(), which unmounts first and refuses when it
// cannot.
//
// Thread-safety: free functions; safe from any thread.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "base/result.h"

namespace skiff::kubelet {

// The options string of an overlay mount (pure): "lowerdir=A:B,upperdir=U,workdir=W".
// Lower dirs are given top-most first. kBadRequest when a path holds ',' or ':',
// or the string would pass the kernel's one-page limit.
Result<std::string> overlayOptions(const std::vector<std::string>& lowerDirs,
                                   const std::string& upper, const std::string& work);

Status mountOverlay(const std::vector<std::string>& lowerDirs, const std::string& upper,
                    const std::string& work, const std::string& target);
Status mountTmpfs(const std::string& target);

// True when path is the root of a mount.
bool isMountPoint(const std::string& path);
// Mount points at or below dir, deepest first (from /proc/self/mountinfo).
std::vector<std::string> mountsUnder(const std::string& dir);
// Unmounts (lazily) every mount at or below dir.
Status unmountAll(const std::string& dir);
// Unmounts everything below dir, then removes dir and its contents. Refuses
// (kInternal) when a mount remains. Success when dir does not exist.
Status removeTreeUnmounted(const std::string& dir);

// The runtime's small files (pid files, /proc entries, hosts, resolv.conf) are
// read with base/file.h's readWholeFile under this limit, and replaced
// atomically by temp file + rename (no fsync: they describe processes that a
// power loss ends anyway).
inline constexpr size_t kSmallFileLimit = 16u << 20;
Status replaceFile(const std::string& path, const std::string& data);

}  // namespace skiff::kubelet
