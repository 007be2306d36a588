// Small helpers shared by the image store's files (images*.cpp): sha256 over
// OpenSSL EVP, file descriptors, whole-file reads and atomic writes, JSON parsing
// that turns nlohmann's exceptions into Errors. Internal to kubelet/images*.
//
// Thread-safety: Sha256 and Fd are single-owner values; the functions are reentrant.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "api/json.h"
#include "base/result.h"

typedef struct evp_md_ctx_st EVP_MD_CTX;

namespace skiff::kubelet::images_detail {

// Incremental sha256; digest() returns "sha256:<64 lowercase hex>".
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(const void* data, size_t len);
  std::string digest();  // finalises; call once

 private:
  EVP_MD_CTX* ctx_;
};

std::string sha256Of(std::string_view data);

// Owns a file descriptor; closes it on destruction.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd();
  Fd(Fd&& o) noexcept : fd_(o.release()) {}
  Fd& operator=(Fd&& o) noexcept;
  int get() const { return fd_; }
  int release() {
    int f = fd_;
    fd_ = -1;
    return f;
  }
  bool valid() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

// "op path: strerror(errno)" as an Internal error.
Error sysError(const std::string& op, const std::string& path, int err);

// A file the store itself wrote or staged (a config blob the index names, a
// staged archive member), read whole under `maxBytes`. Its absence is a broken
// store or archive, kInternal: ImageStore keeps kNotFound for "never loaded"
// (which a pod shows as ErrImageNeverPull).
Result<std::string> readStoreFile(const std::string& path, size_t maxBytes);

// Parses JSON text; kBadRequest "what: <parser message>" on failure.
Result<api::Json> parseJsonText(std::string_view text, const std::string& what);

// "sha256:<hex>" -> "<hex>"; the caller has checked isSha256Digest.
inline std::string digestHex(const std::string& digest) {
  return digest.substr(7);
}

}  // namespace skiff::kubelet::images_detail
