#include "apiserver/objects.h"

#include <cstring>
#include <ctime>
#include <random>

namespace skiff::apiserver {

using api::Json;

namespace {

const char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string base64Url(const std::string& in) {
  std::string out;
  uint32_t buf = 0;
  int bits = 0;
  for (unsigned char c : in) {
    buf = (buf << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kB64[(buf >> bits) & 63];
    }
  }
  if (bits > 0) out += kB64[(buf << (6 - bits)) & 63];
  return out;
}

std::optional<std::string> unBase64Url(const std::string& in) {
  std::string out;
  uint32_t buf = 0;
  int bits = 0;
  for (char c : in) {
    const char* p = c ? strchr(kB64, c) : nullptr;
    if (!p) return std::nullopt;
    buf = (buf << 6) | static_cast<uint32_t>(p - kB64);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buf >> bits) & 0xff);
    }
  }
  return out;
}

}  // namespace

std::mt19937_64& rng() {
  thread_local std::mt19937_64 gen{std::random_device{}()};
  return gen;
}

std::string newUid() {
  std::uniform_int_distribution<int> d(0, 15);
  const char* hex = "0123456789abcdef";
  std::string s = "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx";
  for (char& c : s) {
    if (c == 'x') c = hex[d(rng())];
    if (c == 'y') c = hex[8 + (d(rng()) & 3)];
  }
  return s;
}

std::string randomSuffix(int n) {
  static const char alphabet[] = "bcdfghjklmnpqrstvwxz2456789";
  std::uniform_int_distribution<int> d(0, sizeof(alphabet) - 2);
  std::string s;
  for (int i = 0; i < n; ++i) s += alphabet[d(rng())];
  return s;
}

std::string encodeWithRevision(const Json& object, storage::Revision rv) {
  Json copy = object;
  copy["metadata"]["resourceVersion"] = std::to_string(rv);
  return api::dumpJson(copy);
}

std::function<std::string(storage::Revision)> revisionEncoder(Json object) {
  // A per-process random marker stands where the revision goes; it cannot
  // occur in user data by chance, and is checked to occur exactly once.
  static const std::string marker = "skiff-rv-" + randomSuffix(12) + randomSuffix(12);
  object["metadata"]["resourceVersion"] = marker;
  std::string text = api::dumpJson(object);
  // memmem, not string::find: find stops at every '"' of the text to compare.
  auto find = [&](size_t from) -> size_t {
    const void* hit = memmem(text.data() + from, text.size() - from, marker.data(), marker.size());
    return hit ? static_cast<const char*>(hit) - text.data() : std::string::npos;
  };
  size_t at = find(0);
  if (at == std::string::npos || find(at + marker.size()) != std::string::npos) {
    return [object = std::move(object)](storage::Revision rv) {
      return encodeWithRevision(object, rv);
    };
  }
  return [text = std::move(text), at](storage::Revision rv) {
    std::string number = std::to_string(rv);
    std::string out;
    out.reserve(text.size() - marker.size() + number.size());
    out.append(text, 0, at);
    out += number;
    out.append(text, at + marker.size());
    return out;
  };
}

storage::Op updateOp(const std::string& key, storage::Revision expected, Json next) {
  storage::Op op;
  op.kind = storage::Op::Kind::kUpdate;
  op.key = key;
  op.expectedRevision = expected;
  op.encode = revisionEncoder(std::move(next));
  return op;
}

std::string encodeContinue(storage::Revision rv, const std::string& lastKey) {
  Json j = {{"v", "meta.k8s.io/v1"}, {"rv", rv}, {"start", lastKey}};
  return base64Url(j.dump());
}

std::optional<ContinueToken> decodeContinue(const std::string& token) {
  auto raw = unBase64Url(token);
  if (!raw) return std::nullopt;
  Json j = Json::parse(*raw, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("rv") || !j["rv"].is_number_integer() ||
      !j.contains("start") || !j["start"].is_string())
    return std::nullopt;
  return ContinueToken{j["rv"].get<storage::Revision>(), j["start"].get<std::string>()};
}

std::string podQosClass(const Json& pod) {
  const Json* spec = pod.contains("spec") ? &pod["spec"] : nullptr;
  if (!spec || !spec->is_object()) return "BestEffort";
  bool any = false, guaranteed = true;
  for (const char* list : {"containers", "initContainers"}) {
    if (!spec->contains(list) || !(*spec)[list].is_array()) continue;
    for (const auto& c : (*spec)[list]) {
      if (!c.is_object()) continue;
      const Json* limits = api::jsonAt(c, {"resources", "limits"});
      const Json* requests = api::jsonAt(c, {"resources", "requests"});
      for (const char* r : {"cpu", "memory"}) {
        const Json* limit = limits ? api::jsonAt(*limits, {r}) : nullptr;
        const Json* request = requests ? api::jsonAt(*requests, {r}) : nullptr;
        if (limit || request) any = true;
        if (!limit || (request && *request != *limit)) guaranteed = false;
      }
    }
  }
  if (!any) return "BestEffort";
  return guaranteed ? "Guaranteed" : "Burstable";
}

const Json* fieldAt(const Json& object, const char* section, const char* field) {
  return api::jsonAt(object, {section, field});
}

std::string stringAt(const Json& object, const char* section, const char* field) {
  const Json* f = fieldAt(object, section, field);
  return f && f->is_string() ? f->get<std::string>() : "";
}

}  // namespace skiff::apiserver
