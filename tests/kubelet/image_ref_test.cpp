#include <catch2/catch.hpp>

#include "kubelet/image_ref.h"

using skiff::kubelet::parseImageRef;

TEST_CASE("image references normalise as Kubernetes does", "[images]") {
  const std::string hex(64, 'a');
  struct Case {
    std::string in, out, familiar;
  };
  std::vector<Case> cases = {
      {"busybox", "docker.io/library/busybox:latest", "busybox"},
      {"busybox:1.36", "docker.io/library/busybox:1.36", "busybox"},
      {"library/busybox", "docker.io/library/busybox:latest", "busybox"},
      {"docker.io/busybox", "docker.io/library/busybox:latest", "busybox"},
      {"index.docker.io/library/busybox:1", "docker.io/library/busybox:1", "busybox"},
      {"team/app:v1", "docker.io/team/app:v1", "team/app"},
      {"localhost/app", "localhost/app:latest", "localhost/app"},
      {"localhost:5000/app:v2", "localhost:5000/app:v2", "localhost:5000/app"},
      {"quay.io/a/b/c:x_y-z.1", "quay.io/a/b/c:x_y-z.1", "quay.io/a/b/c"},
      {"my-registry.local:443/ns/img", "my-registry.local:443/ns/img:latest",
       "my-registry.local:443/ns/img"},
      {"app@sha256:" + hex, "docker.io/library/app@sha256:" + hex, "app"},
      {"app:v1@sha256:" + hex, "docker.io/library/app:v1@sha256:" + hex, "app"},
      {"a__b.c--d:T", "docker.io/library/a__b.c--d:T", "a__b.c--d"},
  };
  for (const auto& c : cases) {
    INFO(c.in);
    auto r = parseImageRef(c.in);
    REQUIRE(r.ok());
    CHECK(r->str() == c.out);
    CHECK(r->familiarName() == c.familiar);
  }
  auto d = parseImageRef("app@sha256:" + hex);
  REQUIRE(d.ok());
  CHECK(d->tag.empty());
  CHECK(d->nameTag() == "docker.io/library/app@sha256:" + hex);
}

TEST_CASE("invalid image references are refused with the kubelet's message", "[images]") {
  struct Case {
    std::string in, message;
  };
  const std::string hex(64, 'a');
  std::vector<Case> cases = {
      {"", "couldn't parse image name \"\": invalid reference format"},
      {"Busybox",
       "couldn't parse image name \"Busybox\": invalid reference format: repository "
       "name (library/Busybox) must be lowercase"},
      {"busy box", "couldn't parse image name \"busy box\": invalid reference format"},
      {"busybox:", "couldn't parse image name \"busybox:\": invalid reference format"},
      {"busybox::1", "couldn't parse image name \"busybox::1\": invalid reference format"},
      {"-busybox", "couldn't parse image name \"-busybox\": invalid reference format"},
      {"busybox/", "couldn't parse image name \"busybox/\": invalid reference format"},
      {"busybox:-tag", "couldn't parse image name \"busybox:-tag\": invalid reference format"},
      {"busybox@sha256:abc",
       "couldn't parse image name \"busybox@sha256:abc\": invalid "
       "reference format"},
      {"busybox@sha256:" + std::string(63, 'a') + "b0",
       "couldn't parse image name \"busybox@sha256:" + std::string(63, 'a') +
           "b0\": invalid checksum digest length"},
      {"busybox@md5:" + std::string(32, 'a'),
       "couldn't parse image name \"busybox@md5:" + std::string(32, 'a') +
           "\": unsupported digest algorithm"},
      {hex, "couldn't parse image name \"" + hex + "\": invalid repository name (" + hex +
                "), cannot specify 64-byte hexadecimal strings"},
      {"busybox:" + std::string(129, 'a'), ""},
  };
  for (const auto& c : cases) {
    INFO(c.in);
    auto r = parseImageRef(c.in);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == skiff::Code::kBadRequest);
    if (!c.message.empty()) CHECK(r.error().message == c.message);
  }
}
