// The node's image store: images loaded from archives, kept content-addressed
// under DATA/images, resolved by reference for the kubelet.
//
// There is no registry: a person loads images from files (`skiff image load
// FILE`, like `kind load image-archive`). load() accepts
//   - a `docker save` archive: manifest.json (Config, RepoTags, Layers), the config
//     <hex>.json or blobs/sha256/<hex>, layer tars (plain or compressed);
//   - an OCI image archive (`podman save --format oci-archive`, `skopeo copy ...
//     oci-archive:`): oci-layout, index.json naming manifests through the
//     org.opencontainers.image.ref.name (or io.containerd.image.name)
//     annotation, blobs/sha256/<hex>; nested image indexes pick linux/<this arch>.
// The archive itself may be gzip/zstd/xz compressed.
//
// On disk (DIR = DATA/images):
//   DIR/blobs/sha256/<hex>   every manifest, config and layer blob, verified
//   DIR/layers/<hex>/        each layer unpacked once, named by its diff_id hex,
//                            ready as an overlayfs lower dir (see images_layer.h
//                            for what an entry may and may not be)
//   DIR/index.json           {"images": {id: {...}}, "refs": {name:tag: id}},
//                            replaced atomically (temp file + rename)
//   DIR/tmp/                 staging; DIR/lock: the writers' flock
// An image's id is its config digest (as docker, crictl). A load stages every
// file under DIR/tmp, verifies every digest and size (blob names, descriptors,
// config diff_ids against the uncompressed layers) and unpacks every layer there;
// only when everything checked out are blobs and layers renamed into place and
// the index rewritten. Any failure removes the staging directory: nothing is
// half-stored and nothing is written outside DIR. Loading a name:tag that points
// elsewhere moves the tag; an image left without tags is removed then.
//
// Thread-safety: every method may be called from several threads and processes
// at once (the CLI loads while the kubelet resolves). Writers (load, remove)
// serialise on an flock of DIR/lock; readers read index.json, which is only ever
// replaced whole. Removing an image deletes its layer directories even if a
// container's overlay still uses them: the caller checks that first.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "api/json.h"
#include "base/result.h"

namespace skiff::kubelet {

// The runtime-relevant part of an image config ("config" in the OCI image spec).
struct ImageConfig {
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  std::vector<std::string> env;  // "KEY=value"
  std::string workingDir;
  std::string user;                       // "uid[:gid]" or names; "" = root
  std::vector<std::string> exposedPorts;  // "80/tcp", sorted
  std::map<std::string, std::string> labels;
};

// Parses an image config JSON document (the whole config blob).
Result<ImageConfig> imageConfigFromJson(const api::Json& config);

// One image, as `crictl images` / `docker images` list it.
struct ImageSummary {
  std::string id;                        // "sha256:<config digest hex>"
  std::vector<std::string> repoTags;     // "docker.io/library/busybox:latest", sorted
  std::vector<std::string> repoDigests;  // "docker.io/library/busybox@sha256:<manifest>"
  uint64_t size = 0;                     // bytes of the uncompressed layers
  std::string created;                   // RFC 3339 from the config; may be empty
};

// `skiff image ls` as `crictl images` prints it: a header row {"IMAGE", "TAG",
// "IMAGE ID", "SIZE"}, then one row per tag ("<none>" for an untagged image), the
// id cut to 13 hex digits and the size in decimal units ("2.13MB").
std::vector<std::vector<std::string>> imageTableRows(const std::vector<ImageSummary>& images);
// Docker's units.HumanSize: 4 significant digits, decimal units ("512B", "2.13MB").
std::string humanSize(uint64_t bytes);

// What the kubelet needs to run a container of an image.
struct ResolvedImage {
  std::string id;              // "sha256:<hex>"
  std::string manifestDigest;  // "sha256:<hex>"
  ImageConfig config;
  std::vector<std::string> layerDirs;  // absolute; top-most first, as overlayfs lowerdir=
};

class ImageStore {
 public:
  // Opens (creating when missing) the store at dir, e.g. DATA/images.
  static Result<std::unique_ptr<ImageStore>> open(const std::string& dir);
  ~ImageStore();

  // Loads every image of the archive. Returns the images loaded (their repoTags
  // are the tags this archive set). kBadRequest for a malformed, corrupt or
  // hostile archive, naming the file or entry: `load image archive x.tar: layer
  // sha256:…: refusing layer entry "../evil": path has a ".." component`;
  // kNotFound when the file does not exist; kInternal for I/O failures.
  Result<std::vector<ImageSummary>> load(const std::string& archivePath);

  // Every image, sorted by first tag then id.
  Result<std::vector<ImageSummary>> list() const;

  // Resolves a reference as a pod names it ("busybox", "busybox:1.36",
  // "x@sha256:<manifest or config digest>"), or an image id ("sha256:<hex>", or a
  // unique hex prefix of at least 12 characters). kNotFound: `image "busybox" not
  // found`; kBadRequest for an unparsable reference (kubelet's wording).
  Result<ResolvedImage> resolve(const std::string& ref) const;

  // Removes a reference. Given a tag: untags it, and removes the image when it
  // was its last tag. Given an id or name@digest: removes the image and all its
  // tags. Blobs and layers no remaining image uses are deleted. kNotFound as
  // resolve(). The result says what happened, for `Untagged:` / `Deleted:` lines.
  struct Removed {
    ImageSummary image;                 // as it was before
    std::vector<std::string> untagged;  // tags removed
    bool deleted = false;               // the image itself is gone
  };
  Result<Removed> remove(const std::string& ref);

  const std::string& dir() const { return dir_; }

 private:
  explicit ImageStore(std::string dir) : dir_(std::move(dir)) {}
  std::string dir_;
};

}  // namespace skiff::kubelet
