// Unpacking one image layer (a tar, plain or compressed) into a directory that
// overlayfs can use as a lower dir. Internal to the image store (images.cpp).
//
// How it works. The layer blob is read by one libarchive reader in "raw" format
// (it undoes gzip/zstd/xz/bzip2, or nothing), whose output feeds a second reader
// in tar format through a pull callback that also hashes every byte: so one pass
// yields both the unpacked tree and the layer's diff_id (the sha256 of the
// uncompressed tar), which the caller compares with the image config.
//
// Entries are created with *at() system calls relative to a directory descriptor
// of the layer root, walking every parent component with O_NOFOLLOW: nothing is
// ever written through a symlink, so nothing can land outside destDir. Refused,
// failing the whole unpack (the caller discards destDir):
//   - an absolute entry name, or one with a ".." component;
//   - a parent path component that is a symlink or not a directory;
//   - a hardlink whose target is absolute or has a ".." component, or is missing;
//   - a symlink with a relative target that climbs above the layer root when
//     followed (resolving other symlinks of the layer). Absolute targets are
//     allowed: they resolve inside the container's root at run time, as
//     `/bin/sh -> /bin/busybox` must;
//   - character and block devices;
//   - xattrs in the trusted.* namespace (they could forge overlay metadata).
// Whiteouts become overlayfs whiteouts: `.wh.NAME` -> character device 0/0 NAME,
// `.wh..wh..opq` -> xattr trusted.overlay.opaque=y on its directory (both need
// CAP_MKNOD / CAP_SYS_ADMIN, i.e. root). Ownership is applied when running as
// root; modes, mtimes and the remaining xattrs always.
//
// Thread-safety: reentrant; each call owns its readers.
#pragma once

#include <cstdint>
#include <string>

#include "base/result.h"

namespace skiff::kubelet::images_detail {

struct LayerInfo {
  std::string diffId;  // "sha256:<hex>" of the uncompressed tar stream
  uint64_t size = 0;   // bytes of the uncompressed tar stream
};

// Unpacks blobPath into destDir (an existing empty directory). Errors name the
// offending entry: `layer entry "../x": path has a ".." component`.
Result<LayerInfo> unpackLayer(const std::string& blobPath, const std::string& destDir);

// Only decompresses and hashes (for layers already unpacked in the store).
Result<LayerInfo> hashLayer(const std::string& blobPath);

}  // namespace skiff::kubelet::images_detail
