// Image references, parsed and normalised as Kubernetes and container runtimes do.
//
// A pod names its image the way a person types it (`busybox`, `busybox:1.36`,
// `localhost:5000/team/app:v1`, `app@sha256:<64 hex>`). The kubelet and the image
// store compare references only in their fully qualified form, which follows the
// Docker distribution rules (github.com/distribution/reference,
// ParseNormalizedNamed) plus the kubelet's default tag:
//
//   busybox                      -> docker.io/library/busybox:latest
//   team/app:v1                  -> docker.io/team/app:v1
//   localhost:5000/app           -> localhost:5000/app:latest
//   quay.io/x/y@sha256:<hex>     -> quay.io/x/y@sha256:<hex>      (no tag added)
//   app:v1@sha256:<hex>          -> docker.io/library/app:v1@sha256:<hex>
//
// The first path component is a registry host when it contains '.' or ':', is
// `localhost`, or has an upper-case letter; otherwise the registry is docker.io,
// and a single-component name on docker.io gets `library/`. `index.docker.io`
// is spelled `docker.io`.
//
// Errors carry the kubelet's wording: `couldn't parse image name "Busy:box":
// invalid reference format`.
//
// Thread-safety: pure functions over values.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace skiff::kubelet {

struct ImageRef {
  std::string domain;  // "docker.io", "localhost:5000"
  std::string path;    // "library/busybox"
  std::string tag;     // "latest"; empty only when a digest is given without a tag
  std::string digest;  // "sha256:<64 lowercase hex>", or empty

  // "docker.io/library/busybox" (repository name, no tag or digest).
  std::string name() const { return domain + "/" + path; }
  // The canonical string: name[:tag][@digest].
  std::string str() const;
  // "docker.io/library/busybox:latest" — name:tag, or name@digest when there is no tag.
  std::string nameTag() const;
  // Short form as `docker images` prints it: "busybox" for docker.io/library/busybox,
  // "team/app" for docker.io/team/app, the full name elsewhere.
  std::string familiarName() const;
};

// Parses and normalises (default registry, `library/`, default tag `latest` unless
// a digest is given). kBadRequest with the kubelet's message for invalid input.
Result<ImageRef> parseImageRef(std::string_view text);

// True for "sha256:<64 hex>".
bool isSha256Digest(std::string_view text);

}  // namespace skiff::kubelet
