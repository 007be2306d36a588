// Reading an image archive (docker save or OCI layout in a tar) into a staging
// directory and working out which images it holds, with every blob's digest and
// size checked against what names it. Internal to the image store (images.cpp);
// layers are unpacked and their diff_ids checked by images_layer.h afterwards.
//
// Thread-safety: reentrant; values are owned by the caller.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "api/json.h"
#include "base/result.h"

namespace skiff::kubelet::images_detail {

// One regular file of the archive, copied to the staging directory.
struct StagedFile {
  std::string path;    // in the staging directory
  std::string digest;  // "sha256:<hex>" of its bytes
  uint64_t size = 0;
};

class ArchiveContents {
 public:
  // Copies every regular file of the archive at archivePath into stageDir
  // (which must exist), hashing on the way. kNotFound when the file is missing,
  // kBadRequest when it is not a readable (possibly compressed) tar.
  static Result<ArchiveContents> read(const std::string& archivePath, const std::string& stageDir);

  // The file at an archive path, following the archive's own symlinks and
  // hardlinks (docker save links identical layers); nullptr when absent.
  const StagedFile* find(const std::string& name) const;

 private:
  std::map<std::string, StagedFile> files_;
  std::map<std::string, std::string> links_;  // normalised name -> normalised target
};

struct PlannedLayer {
  const StagedFile* blob = nullptr;
  std::string diffId;  // from the image config: sha256 of the uncompressed tar
};

struct PlannedImage {
  std::string id;                        // config digest
  api::Json config;                      // the parsed config blob
  std::string manifestDigest;            // the manifest (or index) the archive names the image by
  bool registryManifest = false;         // false: synthesised for a docker save archive
  std::string syntheticManifest;         // its bytes when synthesised
  std::vector<const StagedFile*> blobs;  // manifests and config, to keep
  std::vector<PlannedLayer> layers;      // bottom-most first
  std::vector<std::string> tags;         // normalised "name:tag"
};

// Finds the images: docker save's manifest.json when present, else OCI's
// index.json. kBadRequest naming the file for anything missing, malformed or
// whose digest or size does not match.
Result<std::vector<PlannedImage>> planImages(const ArchiveContents& contents);

}  // namespace skiff::kubelet::images_detail
