#include "kubelet/images_archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <regex>
#include <vector>

#include "kubelet/image_ref.h"
#include "kubelet/images_util.h"

namespace skiff::kubelet::images_detail {
namespace {

constexpr size_t kMaxJsonFile = 8 << 20;
constexpr size_t kMaxEntries = 1 << 20;

const char* kOciManifest = "application/vnd.oci.image.manifest.v1+json";
const char* kOciIndex = "application/vnd.oci.image.index.v1+json";
const char* kDockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
const char* kDockerList = "application/vnd.docker.distribution.manifest.list.v2+json";

// Lexically normalised archive path ("./a//b/../c" -> "a/c"); "" for the root.
std::string normalise(const std::string& path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    std::string c = path.substr(i, j - i);
    if (c == "..") {
      if (!out.empty()) out.pop_back();
    } else if (!c.empty() && c != ".") {
      out.push_back(c);
    }
    i = j + 1;
  }
  std::string s;
  for (size_t k = 0; k < out.size(); ++k) s += (k ? "/" : "") + out[k];
  return s;
}

std::string archiveError(archive* a, const char* fallback) {
  const char* msg = archive_error_string(a);
  return msg ? msg : fallback;
}

const char* goArch() {
#if defined(__x86_64__)
  return "amd64";
#elif defined(__aarch64__)
  return "arm64";
#elif defined(__arm__)
  return "arm";
#else
  return "unknown";
#endif
}

std::string str(const api::Json& j, const char* key) {
  if (!j.is_object()) return "";
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

Result<api::Json> readJsonFile(const StagedFile& f, const std::string& what) {
  auto text = readStoreFile(f.path, kMaxJsonFile);
  if (!text) return text.error().wrap(what);
  return parseJsonText(*text, what);
}

Status checkDigest(const StagedFile& f, const std::string& what, const std::string& expected) {
  if (f.digest != expected) {
    return makeError(Code::kBadRequest,
                     what + ": digest mismatch: expected " + expected + ", got " + f.digest);
  }
  return {};
}

// The diff_ids of a config, checked against the number of layers.
Result<std::vector<std::string>> diffIds(const api::Json& config, const std::string& id,
                                         size_t layers) {
  std::vector<std::string> out;
  const api::Json* ids = nullptr;
  if (config.is_object() && config.contains("rootfs") && config["rootfs"].is_object() &&
      config["rootfs"].contains("diff_ids")) {
    ids = &config["rootfs"]["diff_ids"];
  }
  if (!ids || !ids->is_array()) {
    return makeError(Code::kBadRequest, "image config " + id + ": no rootfs.diff_ids");
  }
  for (const auto& d : *ids) {
    if (!d.is_string() || !isSha256Digest(d.get<std::string>())) {
      return makeError(
          Code::kBadRequest,
          "image config " + id + ": rootfs.diff_ids: not a sha256 digest: " + d.dump());
    }
    out.push_back(d.get<std::string>());
  }
  if (out.size() != layers) {
    return makeError(Code::kBadRequest, "image config " + id + ": " + std::to_string(out.size()) +
                                            " diff_ids for " + std::to_string(layers) + " layers");
  }
  return out;
}

Result<std::string> normaliseTag(const std::string& text, const std::string& where) {
  auto ref = parseImageRef(text);
  if (!ref) return ref.error().wrap(where);
  return ref->nameTag();
}

// --- docker save ---------------------------------------------------------------

Result<std::vector<PlannedImage>> planDocker(const ArchiveContents& c, const StagedFile& mf) {
  auto manifest = readJsonFile(mf, "manifest.json");
  if (!manifest) return manifest.error();
  if (!manifest->is_array() || manifest->empty()) {
    return makeError(Code::kBadRequest, "manifest.json: expected a non-empty array of images");
  }
  static const std::regex kConfigName("^(?:blobs/sha256/)?([0-9a-f]{64})(?:\\.json)?$");
  static const std::regex kBlobName("^blobs/sha256/([0-9a-f]{64})$");
  std::vector<PlannedImage> out;
  for (const auto& entry : *manifest) {
    PlannedImage img;
    std::string configName = normalise(str(entry, "Config"));
    if (configName.empty())
      return makeError(Code::kBadRequest, "manifest.json: image without Config");
    const StagedFile* config = c.find(configName);
    if (!config) {
      return makeError(Code::kBadRequest,
                       "manifest.json: config \"" + configName + "\" not found in the archive");
    }
    std::smatch m;
    if (std::regex_match(configName, m, kConfigName)) {
      if (auto s = checkDigest(*config, "config " + configName, "sha256:" + m[1].str()); !s) {
        return s.error();
      }
    }
    img.id = config->digest;
    auto cfg = readJsonFile(*config, "config " + configName);
    if (!cfg) return cfg.error();
    img.config = std::move(*cfg);
    img.blobs.push_back(config);

    const api::Json& layers =
        entry.is_object() && entry.contains("Layers") ? entry["Layers"] : api::Json();
    if (!layers.is_array())
      return makeError(Code::kBadRequest, "manifest.json: Layers is not an array");
    auto ids = diffIds(img.config, img.id, layers.size());
    if (!ids) return ids.error();
    api::Json synth = {{"schemaVersion", 2},
                       {"mediaType", kOciManifest},
                       {"config",
                        {{"mediaType", "application/vnd.oci.image.config.v1+json"},
                         {"digest", config->digest},
                         {"size", config->size}}},
                       {"layers", api::Json::array()}};
    for (size_t i = 0; i < layers.size(); ++i) {
      std::string name = layers[i].is_string() ? normalise(layers[i].get<std::string>()) : "";
      const StagedFile* blob = name.empty() ? nullptr : c.find(name);
      if (!blob) {
        return makeError(Code::kBadRequest,
                         "manifest.json: layer \"" + name + "\" not found in the archive");
      }
      if (std::regex_match(name, m, kBlobName)) {
        if (auto s = checkDigest(*blob, "layer " + name, "sha256:" + m[1].str()); !s)
          return s.error();
      }
      img.layers.push_back({blob, (*ids)[i]});
      synth["layers"].push_back({{"mediaType", "application/vnd.oci.image.layer.v1.tar"},
                                 {"digest", blob->digest},
                                 {"size", blob->size}});
    }
    img.syntheticManifest = synth.dump();
    img.manifestDigest = sha256Of(img.syntheticManifest);
    if (entry.contains("RepoTags") && entry["RepoTags"].is_array()) {
      for (const auto& t : entry["RepoTags"]) {
        if (!t.is_string())
          return makeError(Code::kBadRequest, "manifest.json: RepoTags: not a string");
        auto tag = normaliseTag(t.get<std::string>(), "manifest.json: RepoTags");
        if (!tag) return tag.error();
        img.tags.push_back(*tag);
      }
    }
    out.push_back(std::move(img));
  }
  return out;
}

// --- OCI layout ----------------------------------------------------------------

// The blob a descriptor names, with its digest and size checked.
Result<const StagedFile*> descriptorBlob(const ArchiveContents& c, const api::Json& desc,
                                         const std::string& what) {
  std::string digest = str(desc, "digest");
  if (digest.rfind("sha256:", 0) != 0 && digest.find(':') != std::string::npos) {
    return makeError(Code::kBadRequest, what + ": unsupported digest algorithm: " + digest);
  }
  if (!isSha256Digest(digest)) {
    return makeError(Code::kBadRequest, what + ": invalid digest \"" + digest + "\"");
  }
  const StagedFile* f = c.find("blobs/sha256/" + digestHex(digest));
  if (!f)
    return makeError(Code::kBadRequest, what + ": blob " + digest + " not found in the archive");
  if (auto s = checkDigest(*f, what + " blob " + digest, digest); !s) return s.error();
  if (desc.contains("size") && desc["size"].is_number_unsigned() &&
      desc["size"].get<uint64_t>() != f->size) {
    return makeError(Code::kBadRequest, what + " blob " + digest + ": size mismatch: expected " +
                                            std::to_string(desc["size"].get<uint64_t>()) +
                                            ", got " + std::to_string(f->size));
  }
  return f;
}

Status planOciManifest(const ArchiveContents& c, const api::Json& desc, PlannedImage& img,
                       int depth) {
  if (depth > 4) return makeError(Code::kBadRequest, "index.json: image indexes nested too deeply");
  auto blob = descriptorBlob(c, desc, "manifest");
  if (!blob) return blob.error();
  img.blobs.push_back(*blob);
  auto doc = readJsonFile(**blob, "manifest " + (*blob)->digest);
  if (!doc) return doc.error();
  std::string mediaType = str(*doc, "mediaType");
  if (mediaType.empty()) mediaType = str(desc, "mediaType");
  if (mediaType == kOciIndex || mediaType == kDockerList ||
      (mediaType.empty() && doc->contains("manifests"))) {
    const api::Json& ms = (*doc)["manifests"];
    if (!ms.is_array())
      return makeError(Code::kBadRequest, "index " + (*blob)->digest + ": no manifests");
    const api::Json* chosen = nullptr;
    for (const auto& m : ms) {
      const api::Json& p = m.contains("platform") ? m["platform"] : api::Json();
      if (p.is_object() ? (str(p, "os") == "linux" && str(p, "architecture") == goArch())
                        : ms.size() == 1) {
        chosen = &m;
        break;
      }
    }
    if (!chosen) {
      return makeError(Code::kBadRequest, std::string("index ") + (*blob)->digest +
                                              ": no manifest for platform linux/" + goArch());
    }
    return planOciManifest(c, *chosen, img, depth + 1);
  }
  if (!mediaType.empty() && mediaType != kOciManifest && mediaType != kDockerManifest) {
    return makeError(Code::kBadRequest,
                     "manifest " + (*blob)->digest + ": unsupported media type " + mediaType);
  }
  if (!doc->contains("config")) {
    return makeError(Code::kBadRequest, "manifest " + (*blob)->digest + ": no config");
  }
  auto config = descriptorBlob(c, (*doc)["config"], "config");
  if (!config) return config.error();
  img.blobs.push_back(*config);
  img.id = (*config)->digest;
  auto cfg = readJsonFile(**config, "config " + img.id);
  if (!cfg) return cfg.error();
  img.config = std::move(*cfg);
  const api::Json& layers = doc->contains("layers") ? (*doc)["layers"] : api::Json();
  if (!layers.is_array()) {
    return makeError(Code::kBadRequest, "manifest " + (*blob)->digest + ": no layers");
  }
  auto ids = diffIds(img.config, img.id, layers.size());
  if (!ids) return ids.error();
  for (size_t i = 0; i < layers.size(); ++i) {
    auto layer = descriptorBlob(c, layers[i], "layer " + std::to_string(i));
    if (!layer) return layer.error();
    img.layers.push_back({*layer, (*ids)[i]});
  }
  return {};
}

Result<std::vector<PlannedImage>> planOci(const ArchiveContents& c, const StagedFile& indexFile) {
  if (const StagedFile* layout = c.find("oci-layout")) {
    auto doc = readJsonFile(*layout, "oci-layout");
    if (!doc) return doc.error();
    if (str(*doc, "imageLayoutVersion").empty()) {
      return makeError(Code::kBadRequest, "oci-layout: no imageLayoutVersion");
    }
  }
  auto index = readJsonFile(indexFile, "index.json");
  if (!index) return index.error();
  if (!index->is_object() || !index->contains("manifests") || !(*index)["manifests"].is_array()) {
    return makeError(Code::kBadRequest, "index.json: no manifests");
  }
  std::vector<PlannedImage> out;
  for (const auto& desc : (*index)["manifests"]) {
    PlannedImage img;
    img.registryManifest = true;
    img.manifestDigest = str(desc, "digest");
    if (auto s = planOciManifest(c, desc, img, 0); !s) return s.error();
    const api::Json& ann = desc.contains("annotations") ? desc["annotations"] : api::Json();
    std::string name = str(ann, "io.containerd.image.name");
    if (name.empty()) name = str(ann, "org.opencontainers.image.ref.name");
    if (!name.empty()) {
      auto tag = normaliseTag(name, "index.json: org.opencontainers.image.ref.name");
      if (!tag) return tag.error();
      img.tags.push_back(*tag);
    }
    // Several descriptors may name the same image under different tags.
    bool merged = false;
    for (auto& o : out) {
      if (o.id == img.id && o.manifestDigest == img.manifestDigest) {
        o.tags.insert(o.tags.end(), img.tags.begin(), img.tags.end());
        merged = true;
      }
    }
    if (!merged) out.push_back(std::move(img));
  }
  if (out.empty()) return makeError(Code::kBadRequest, "index.json: no manifests");
  return out;
}

}  // namespace

Result<ArchiveContents> ArchiveContents::read(const std::string& archivePath,
                                              const std::string& stageDir) {
  struct stat st;
  if (::stat(archivePath.c_str(), &st) != 0) {
    if (errno == ENOENT) return makeError(Code::kNotFound, archivePath + ": no such file");
    return sysError("stat", archivePath, errno);
  }
  archive* a = archive_read_new();
  archive_read_support_filter_all(a);
  archive_read_support_format_tar(a);
  archive_read_support_format_gnutar(a);
  struct Closer {
    archive* a;
    ~Closer() { archive_read_free(a); }
  } closer{a};
  if (archive_read_open_filename(a, archivePath.c_str(), 1 << 16) != ARCHIVE_OK) {
    return makeError(Code::kBadRequest, archiveError(a, "cannot open"));
  }
  ArchiveContents out;
  std::vector<char> buf(1 << 16);
  size_t n = 0;
  for (;;) {
    archive_entry* e = nullptr;
    int r = archive_read_next_header(a, &e);
    if (r == ARCHIVE_EOF) break;
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
      return makeError(Code::kBadRequest, archiveError(a, "unreadable archive"));
    }
    if (++n > kMaxEntries) return makeError(Code::kBadRequest, "too many entries");
    const char* rawName = archive_entry_pathname(e);
    if (!rawName) continue;
    std::string name = normalise(rawName);
    if (name.empty()) continue;
    if (const char* hl = archive_entry_hardlink(e)) {
      out.links_[name] = normalise(hl);
      continue;
    }
    auto type = archive_entry_filetype(e);
    if (type == AE_IFLNK) {
      const char* t = archive_entry_symlink(e);
      std::string target = t ? t : "";
      std::string dir = name.find('/') == std::string::npos ? "" : name.substr(0, name.rfind('/'));
      out.links_[name] =
          normalise(!target.empty() && target[0] == '/' ? target : dir + "/" + target);
      continue;
    }
    if (type != AE_IFREG) continue;
    StagedFile f;
    f.path = stageDir + "/" + std::to_string(n);
    Fd fd(::open(f.path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
    if (!fd.valid()) return sysError("create", f.path, errno);
    Sha256 h;
    for (;;) {
      la_ssize_t got = archive_read_data(a, buf.data(), buf.size());
      if (got < 0) return makeError(Code::kBadRequest, name + ": " + archiveError(a, "read error"));
      if (got == 0) break;
      h.update(buf.data(), got);
      f.size += got;
      for (la_ssize_t done = 0; done < got;) {
        ssize_t w = ::write(fd.get(), buf.data() + done, got - done);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return sysError("write", f.path, errno);
        done += w;
      }
    }
    f.digest = h.digest();
    out.links_.erase(name);
    out.files_[name] = std::move(f);
  }
  if (n == 0) return makeError(Code::kBadRequest, "empty archive");
  return out;
}

const StagedFile* ArchiveContents::find(const std::string& name) const {
  std::string cur = normalise(name);
  for (int hops = 0; hops < 16; ++hops) {
    if (auto it = files_.find(cur); it != files_.end()) return &it->second;
    auto l = links_.find(cur);
    if (l == links_.end()) return nullptr;
    cur = l->second;
  }
  return nullptr;
}

Result<std::vector<PlannedImage>> planImages(const ArchiveContents& contents) {
  if (const StagedFile* mf = contents.find("manifest.json")) return planDocker(contents, *mf);
  if (const StagedFile* index = contents.find("index.json")) return planOci(contents, *index);
  return makeError(Code::kBadRequest,
                   "not a docker save or OCI image archive: no manifest.json or index.json");
}

}  // namespace skiff::kubelet::images_detail
