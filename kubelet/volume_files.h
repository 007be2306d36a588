// Volumes whose content the kubelet writes: configMap, secret, downwardAPI,
// and projected volumes of those three. Two halves, as Kubernetes' volume
// plugins and its AtomicWriter have them:
//
//   volumeFiles       pure: the Volume and the pod's context to the files it
//                     holds (path inside the volume, bytes, mode). A ConfigMap
//                     or Secret gives every key (data and binaryData), or with
//                     `items` the listed keys at their paths; `defaultMode`
//                     (defaulted to 0644 by the API) or an item's `mode`. A
//                     missing object, or a missing listed key, is an error
//                     unless `optional`. downwardAPI items resolve fieldRef as
//                     env does (process_spec.h). A projected
//                     serviceAccountToken source is a token of the pod's
//                     ServiceAccount (PodContext::serviceAccountToken).
//   writeVolumeFiles  the directory of the volume, laid out as the kubelet's
//                     AtomicWriter does: the files in a hidden directory
//                     `..<UTC time>.<random>`, `..data` a symlink to it, and one
//                     symlink per top-level name into `..data`. An update writes
//                     a new hidden directory and renames a new `..data` over the
//                     old, so a reader in the container sees the old set or the
//                     new, never a mix; unchanged content writes nothing.
//
// Differences from Kubernetes: a Secret's files live on the data directory's
// disk (which `skiff up` keeps 0700), not on a tmpfs; fsGroup does not change
// their group; downwardAPI resourceFieldRef is refused with an error that
// names it.
//
// Thread-safety: volumeFiles is pure; writeVolumeFiles must not run
// concurrently for one directory (each pod worker writes its own).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "api/json.h"
#include "base/result.h"
#include "kubelet/process_spec.h"

namespace skiff::kubelet {

struct VolumeFile {
  std::string path;  // relative, '/'-separated, no ".." (the API checks; so does this)
  std::string data;
  uint32_t mode = 0644;
  bool operator==(const VolumeFile&) const = default;
};

// True for a volume whose files the kubelet writes (the four kinds above).
bool isFileVolume(const api::Json& volume);

// True when `path`, taken relative to a directory, could leave it: absolute,
// or with a ".." element (a volume's file paths, a mount's subPath).
bool escapesDirectory(const std::string& path);

// The files of `volume`, sorted by path. Errors carry the text the kubelet
// reports after `MountVolume.SetUp failed for volume "NAME" : `, e.g.
// `configmap "app-config" not found`.
Result<std::vector<VolumeFile>> volumeFiles(const api::Json& volume, const PodContext& ctx);

// Makes `dir` (created when missing) hold exactly `files`, as above. Returns
// true when it wrote, false when the content was already there.
Result<bool> writeVolumeFiles(const std::string& dir, const std::vector<VolumeFile>& files);

}  // namespace skiff::kubelet
