#include "kubelet/volume_files.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <map>
#include <set>

#include "base/file.h"
#include "kubelet/pod_status.h"

namespace skiff::kubelet {
namespace {

namespace fs = std::filesystem;
using api::Json;

constexpr const char* kDataLink = "..data";

// The kinds and, for ConfigMap and Secret, how the kubelet names them in errors.
struct ObjectKind {
  const char* volumeKey;  // "configMap" / "secret"
  const char* nameKey;    // the volume's field naming the object ("secretName" for a secret volume)
  const char* noun;       // "configmap" / "secret"
  const char* missingKey;
  PodContext::DataLookup PodContext::*lookup;
};
const ObjectKind kConfigMap{
    "configMap", "name", "configmap",
    "configmap references non-existent config key: ", &PodContext::configMapData};
const ObjectKind kSecret{"secret", "secretName", "secret",
                         "references non-existent secret key: ", &PodContext::secretData};

Error bad(const std::string& message) {
  return makeError(Code::kBadRequest, message);
}

// A file's path in the volume: not empty, inside it, and not starting with
// ".." (the writer's own names do).
bool badPath(const std::string& p) {
  return p.empty() || p.rfind("..", 0) == 0 || escapesDirectory(p);
}

Result<uint32_t> modeOf(const Json& holder, const char* key, uint32_t fallback,
                        const std::string& what) {
  const Json& v = member(holder, key);
  if (v.is_null()) return fallback;
  if (!v.is_number_integer() || v.get<long long>() < 0 || v.get<long long>() > 0777)
    return bad(what + "." + key + ": must be a number between 0 and 0777 (octal), both inclusive");
  return static_cast<uint32_t>(v.get<long long>());
}

Status addFile(std::map<std::string, VolumeFile>& out, std::string path, std::string data,
               uint32_t mode) {
  if (badPath(path)) return bad("path \"" + path + "\" must be relative and may not contain '..'");
  out[path] = VolumeFile{path, std::move(data), mode};
  return {};
}

// A ConfigMap's or Secret's keys (all, or `items`) into `out`.
Status objectFiles(const ObjectKind& kind, const Json& source, const char* nameKey,
                   uint32_t defaultMode, const PodContext& ctx, const std::string& what,
                   std::map<std::string, VolumeFile>& out) {
  std::string name = textOf(source, nameKey);
  bool optional = member(source, "optional").is_boolean() && member(source, "optional").get<bool>();
  const auto& lookup = ctx.*kind.lookup;
  if (!lookup) return bad(std::string(kind.noun) + " volumes are not available here");
  auto data = lookup(name);
  if (!data) {
    if (data.error().code != Code::kNotFound) return data.error();
    if (optional) return {};
    return makeError(Code::kNotFound, std::string(kind.noun) + " \"" + name + "\" not found");
  }
  const Json& items = member(source, "items");
  if (!items.is_array() || items.empty()) {
    for (auto& [key, value] : *data)
      if (auto st = addFile(out, key, value, defaultMode); !st) return st;
    return {};
  }
  for (size_t i = 0; i < items.size(); ++i) {
    const Json& item = items[i];
    std::string key = textOf(item, "key");
    auto it = data->find(key);
    if (it == data->end()) {
      if (optional) continue;
      return makeError(Code::kNotFound, kind.missingKey + key);
    }
    auto mode = modeOf(item, "mode", defaultMode, what + ".items[" + std::to_string(i) + "]");
    if (!mode) return mode.error();
    if (auto st = addFile(out, textOf(item, "path"), it->second, *mode); !st) return st;
  }
  return {};
}

Status downwardFiles(const Json& source, uint32_t defaultMode, const PodContext& ctx,
                     const std::string& what, std::map<std::string, VolumeFile>& out) {
  const Json& items = member(source, "items");
  if (!items.is_array()) return {};
  for (size_t i = 0; i < items.size(); ++i) {
    const Json& item = items[i];
    std::string at = what + ".items[" + std::to_string(i) + "]";
    if (!member(item, "resourceFieldRef").is_null())
      return bad(at + ".resourceFieldRef: not supported by skiff's kubelet; use fieldRef");
    auto value = podFieldValue(textOf(member(item, "fieldRef"), "fieldPath"), ctx);
    if (!value) return value.error();
    auto mode = modeOf(item, "mode", defaultMode, at);
    if (!mode) return mode.error();
    if (auto st = addFile(out, textOf(item, "path"), std::move(*value), *mode); !st) return st;
  }
  return {};
}

std::string errnoText(const std::string& step, const std::string& path) {
  return step + " " + path + ": " + std::strerror(errno);
}

// True when directory `dir` holds exactly `files` (regular files, content and mode).
bool holds(const std::string& dir, const std::vector<VolumeFile>& files) {
  std::error_code ec;
  size_t seen = 0;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (it->is_directory(ec)) continue;
    ++seen;
  }
  if (ec || seen != files.size()) return false;
  for (const auto& f : files) {
    std::string path = dir + "/" + f.path;
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || (st.st_mode & 07777) != f.mode)
      return false;
    auto content = readWholeFile(path, f.data.size() + 1);
    if (!content || *content != f.data) return false;
  }
  return true;
}

}  // namespace

bool escapesDirectory(const std::string& path) {
  if (!path.empty() && path[0] == '/') return true;
  for (const auto& part : fs::path(path))
    if (part == "..") return true;
  return false;
}

bool isFileVolume(const Json& volume) {
  for (const char* k : {"configMap", "secret", "downwardAPI", "projected"})
    if (member(volume, k).is_object()) return true;
  return false;
}

Result<std::vector<VolumeFile>> volumeFiles(const Json& volume, const PodContext& ctx) {
  std::map<std::string, VolumeFile> files;
  for (const ObjectKind* kind : {&kConfigMap, &kSecret}) {
    const Json& source = member(volume, kind->volumeKey);
    if (!source.is_object()) continue;
    auto mode = modeOf(source, "defaultMode", 0644, kind->volumeKey);
    if (!mode) return mode.error();
    if (auto st = objectFiles(*kind, source, kind->nameKey, *mode, ctx, kind->volumeKey, files);
        !st)
      return st.error();
  }
  if (const Json& source = member(volume, "downwardAPI"); source.is_object()) {
    auto mode = modeOf(source, "defaultMode", 0644, "downwardAPI");
    if (!mode) return mode.error();
    if (auto st = downwardFiles(source, *mode, ctx, "downwardAPI", files); !st) return st.error();
  }
  if (const Json& projected = member(volume, "projected"); projected.is_object()) {
    auto mode = modeOf(projected, "defaultMode", 0644, "projected");
    if (!mode) return mode.error();
    const Json& sources = member(projected, "sources");
    for (size_t i = 0; sources.is_array() && i < sources.size(); ++i) {
      const Json& s = sources[i];
      std::string what = "projected.sources[" + std::to_string(i) + "]";
      Status st;
      if (const Json& t = member(s, "serviceAccountToken"); t.is_object()) {
        if (!ctx.serviceAccountToken)
          return bad(what + ".serviceAccountToken: service account tokens are not available here");
        auto token =
            ctx.serviceAccountToken(textOf(t, "audience"), intOf(t, "expirationSeconds", 3600));
        if (!token) return token.error();
        st = addFile(files, textOf(t, "path"), std::move(*token), *mode);
      } else if (const Json& cm = member(s, "configMap"); cm.is_object()) {
        st = objectFiles(kConfigMap, cm, "name", *mode, ctx, what + ".configMap", files);
      } else if (const Json& sec = member(s, "secret"); sec.is_object()) {
        st = objectFiles(kSecret, sec, "name", *mode, ctx, what + ".secret", files);
      } else if (const Json& d = member(s, "downwardAPI"); d.is_object()) {
        st = downwardFiles(d, *mode, ctx, what + ".downwardAPI", files);
      } else {
        return bad(what +
                   ": only configMap, secret, downwardAPI and serviceAccountToken sources are "
                   "supported");
      }
      if (!st) return st.error();
    }
  }
  std::vector<VolumeFile> out;
  out.reserve(files.size());
  for (auto& [path, f] : files) out.push_back(std::move(f));
  return out;
}

Result<bool> writeVolumeFiles(const std::string& dir, const std::vector<VolumeFile>& files) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return makeError(Code::kInternal, "create " + dir + ": " + ec.message());
  const std::string dataLink = dir + "/" + kDataLink;
  std::string old = fs::read_symlink(dataLink, ec).string();
  if (ec) old.clear();
  if (!old.empty() && holds(dir + "/" + old, files)) return false;

  // The new payload, in a hidden directory of its own.
  char stamp[64];
  std::time_t t = std::time(nullptr);
  struct tm utc {};
  ::gmtime_r(&t, &utc);
  std::strftime(stamp, sizeof stamp, "..%Y_%m_%d_%H_%M_%S.XXXXXX", &utc);
  std::string tmpl = dir + "/" + stamp;
  if (!::mkdtemp(tmpl.data())) return makeError(Code::kInternal, errnoText("mkdtemp", tmpl));
  std::string payload = fs::path(tmpl).filename().string();
  auto failed = [&](Error e) {
    fs::remove_all(tmpl, ec);
    return e;
  };
  if (::chmod(tmpl.c_str(), 0755) != 0)
    return failed(makeError(Code::kInternal, errnoText("chmod", tmpl)));
  std::set<std::string> tops;
  for (const auto& f : files) {
    if (badPath(f.path)) return failed(bad("path \"" + f.path + "\" may not contain '..'"));
    fs::path target = fs::path(tmpl) / f.path;
    fs::create_directories(target.parent_path(), ec);
    if (ec)
      return failed(makeError(Code::kInternal,
                              "create " + target.parent_path().string() + ": " + ec.message()));
    WriteFileOptions options;
    options.mode = f.mode;
    options.durable = false;
    if (auto st = writeFileAtomic(target.string(), f.data, options); !st) return failed(st.error());
    tops.insert(fs::path(f.path).begin()->string());
  }

  // Swap ..data in one rename, then the top-level names.
  const std::string tmpLink = dir + "/..data_tmp";
  ::unlink(tmpLink.c_str());
  if (::symlink(payload.c_str(), tmpLink.c_str()) != 0)
    return failed(makeError(Code::kInternal, errnoText("symlink", tmpLink)));
  if (::rename(tmpLink.c_str(), dataLink.c_str()) != 0) {
    ::unlink(tmpLink.c_str());
    return failed(makeError(Code::kInternal, errnoText("rename", tmpLink)));
  }
  for (const auto& top : tops) {
    std::string link = dir + "/" + top;
    struct stat st {};
    if (::lstat(link.c_str(), &st) == 0) continue;
    std::string to = std::string(kDataLink) + "/" + top;
    if (::symlink(to.c_str(), link.c_str()) != 0)
      return makeError(Code::kInternal, errnoText("symlink", link));
  }
  // What the old payload had and the new has not; stale payloads.
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::string name = e.path().filename().string();
    bool hidden = name.rfind("..", 0) == 0;
    if (hidden ? name != kDataLink && name != payload : !tops.count(name) && e.is_symlink())
      fs::remove_all(e.path(), ec);
  }
  return true;
}

}  // namespace skiff::kubelet
