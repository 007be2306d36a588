#include "kubelet/image_ref.h"

#include <algorithm>
#include <mutex>
#include <regex>
#include <unordered_map>

namespace skiff::kubelet {
namespace {

// The grammar of github.com/distribution/reference (regexp.go).
const std::string kAlnum = "[a-z0-9]+";
const std::string kSeparator = "(?:[._]|__|[-]+)";
const std::string kPathComponent = kAlnum + "(?:" + kSeparator + kAlnum + ")*";
const std::string kDomainComponent = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const std::string kDomain =
    "(?:" + kDomainComponent + "(?:\\." + kDomainComponent + ")*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?";
const std::string kTag = "[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}";
const std::string kDigest = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}";

const std::regex& referenceRegex() {
  static const std::regex re("^((?:" + kDomain + ")/" + kPathComponent + "(?:/" + kPathComponent +
                             ")*)(?::(" + kTag + "))?(?:@(" + kDigest + "))?$");
  return re;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

bool isHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

Error parseError(std::string_view text, const std::string& why) {
  return makeError(Code::kBadRequest,
                   "couldn't parse image name \"" + std::string(text) + "\": " + why);
}

}  // namespace

bool isSha256Digest(std::string_view text) {
  return text.size() == 71 && text.substr(0, 7) == "sha256:" && isHex(text.substr(7));
}

std::string ImageRef::str() const {
  std::string s = name();
  if (!tag.empty()) s += ":" + tag;
  if (!digest.empty()) s += "@" + digest;
  return s;
}

std::string ImageRef::nameTag() const {
  return tag.empty() ? name() + "@" + digest : name() + ":" + tag;
}

std::string ImageRef::familiarName() const {
  if (domain != "docker.io") return name();
  if (path.rfind("library/", 0) == 0 && path.find('/', 8) == std::string::npos) {
    return path.substr(8);
  }
  return path;
}

namespace {

Result<ImageRef> parseUncached(std::string_view text) {
  std::string s(text);
  if (s.size() == 64 && isHex(s)) {
    return parseError(
        text, "invalid repository name (" + s + "), cannot specify 64-byte hexadecimal strings");
  }
  // splitDockerDomain
  std::string domain, remainder;
  size_t slash = s.find('/');
  if (slash == std::string::npos ||
      (s.substr(0, slash).find_first_of(".:") == std::string::npos &&
       s.substr(0, slash) != "localhost" && lower(s.substr(0, slash)) == s.substr(0, slash))) {
    domain = "docker.io";
    remainder = s;
  } else {
    domain = s.substr(0, slash);
    remainder = s.substr(slash + 1);
  }
  if (domain == "index.docker.io") domain = "docker.io";
  if (domain == "docker.io" && remainder.find('/') == std::string::npos) {
    remainder = "library/" + remainder;
  }
  std::string remote = remainder.substr(0, remainder.find(':'));
  if (lower(remote) != remote) {
    return parseError(
        text, "invalid reference format: repository name (" + remote + ") must be lowercase");
  }
  std::smatch m;
  std::string full = domain + "/" + remainder;
  if (text.empty() || !std::regex_match(full, m, referenceRegex())) {
    return parseError(text, "invalid reference format");
  }
  if (m[1].length() > 255) {
    return parseError(text, "repository name must not be more than 255 characters");
  }
  ImageRef ref;
  ref.domain = domain;
  ref.path = m[1].str().substr(domain.size() + 1);
  ref.tag = m[2].str();
  ref.digest = m[3].str();
  if (!ref.digest.empty()) {
    size_t colon = ref.digest.find(':');
    std::string alg = ref.digest.substr(0, colon), hex = ref.digest.substr(colon + 1);
    if (alg != "sha256") return parseError(text, "unsupported digest algorithm");
    if (hex.size() != 64) return parseError(text, "invalid checksum digest length");
    if (!isHex(hex)) return parseError(text, "invalid checksum digest format");
  }
  if (ref.tag.empty() && ref.digest.empty()) ref.tag = "latest";
  return ref;
}

}  // namespace

// Every pod start parses its images' names, and the same few names again and
// again. std::regex_match is slow and recursive: one match touches ~31 KB of
// the calling thread's stack, which then stays resident on every pod
// worker's thread (3 MB with 100 pods). So results are kept, for at most
// kCacheSize names (then the cache starts over).
Result<ImageRef> parseImageRef(std::string_view text) {
  constexpr size_t kCacheSize = 256;
  static std::mutex mu;
  static std::unordered_map<std::string, Result<ImageRef>> cache;  // guarded by mu
  std::string key(text);
  {
    std::lock_guard<std::mutex> lock(mu);
    if (auto it = cache.find(key); it != cache.end()) return it->second;
  }
  Result<ImageRef> parsed = parseUncached(text);
  std::lock_guard<std::mutex> lock(mu);
  if (cache.size() >= kCacheSize) cache.clear();
  cache.emplace(std::move(key), parsed);
  return parsed;
}

}  // namespace skiff::kubelet
