#include "kubelet/images_util.h"

#include <openssl/evp.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/file.h"

namespace skiff::kubelet::images_detail {

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr);
}
Sha256::~Sha256() {
  EVP_MD_CTX_free(ctx_);
}
void Sha256::update(const void* data, size_t len) {
  EVP_DigestUpdate(ctx_, data, len);
}

std::string Sha256::digest() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_DigestFinal_ex(ctx_, md, &n);
  static const char* kHex = "0123456789abcdef";
  std::string out = "sha256:";
  for (unsigned int i = 0; i < n; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 15];
  }
  return out;
}

std::string sha256Of(std::string_view data) {
  Sha256 h;
  h.update(data.data(), data.size());
  return h.digest();
}

Fd::~Fd() {
  if (fd_ >= 0) ::close(fd_);
}

Fd& Fd::operator=(Fd&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.release();
  }
  return *this;
}

Error sysError(const std::string& op, const std::string& path, int err) {
  return makeError(Code::kInternal, op + " " + path + ": " + std::strerror(err));
}

Result<std::string> readStoreFile(const std::string& path, size_t maxBytes) {
  auto text = readWholeFile(path, maxBytes);
  if (!text && text.error().code == Code::kNotFound) {
    Error e = text.error();
    e.code = Code::kInternal;
    return e;
  }
  return text;
}

Result<api::Json> parseJsonText(std::string_view text, const std::string& what) {
  try {
    // Bound nesting depth like api::parseJson: image metadata is shallow.
    int depth = 0, maxDepth = 0;
    bool inString = false, escaped = false;
    for (char c : text) {
      if (inString) {
        if (escaped)
          escaped = false;
        else if (c == '\\')
          escaped = true;
        else if (c == '"')
          inString = false;
      } else if (c == '"') {
        inString = true;
      } else if (c == '{' || c == '[') {
        maxDepth = std::max(maxDepth, ++depth);
      } else if (c == '}' || c == ']') {
        --depth;
      }
    }
    if (maxDepth > api::kMaxJsonDepth) {
      return makeError(Code::kBadRequest, what + ": JSON nested too deeply");
    }
    return api::Json::parse(text.begin(), text.end());
  } catch (const std::exception& e) {
    return makeError(Code::kBadRequest, what + ": invalid JSON: " + e.what());
  }
}

}  // namespace skiff::kubelet::images_detail
