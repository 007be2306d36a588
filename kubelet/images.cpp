#include "kubelet/images.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <set>

#include "base/file.h"
#include "base/log.h"
#include "kubelet/image_ref.h"
#include "kubelet/images_archive.h"
#include "kubelet/images_layer.h"
#include "kubelet/images_util.h"

namespace skiff::kubelet {

using namespace images_detail;
namespace fs = std::filesystem;

namespace {

constexpr size_t kMaxIndex = 64 << 20;

std::vector<std::string> strings(const api::Json& j, const char* key) {
  std::vector<std::string> out;
  if (!j.is_object() || !j.contains(key) || !j[key].is_array()) return out;
  for (const auto& v : j[key]) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

// The writers' lock: an flock on DIR/lock, plus a mutex for threads of one process
// (flock locks are per open file description, so two threads would not exclude).
class WriterLock {
 public:
  static Result<std::unique_ptr<WriterLock>> acquire(const std::string& dir) {
    static std::mutex mu;
    std::unique_lock<std::mutex> guard(mu);
    Fd fd(::open((dir + "/lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!fd.valid()) return sysError("open", dir + "/lock", errno);
    while (::flock(fd.get(), LOCK_EX) != 0) {
      if (errno != EINTR) return sysError("lock", dir + "/lock", errno);
    }
    return std::unique_ptr<WriterLock>(new WriterLock(std::move(guard), std::move(fd)));
  }

 private:
  WriterLock(std::unique_lock<std::mutex> g, Fd fd) : guard_(std::move(g)), fd_(std::move(fd)) {}
  std::unique_lock<std::mutex> guard_;
  Fd fd_;  // closing releases the flock
};

Result<api::Json> readIndex(const std::string& dir) {
  std::string path = dir + "/index.json";
  auto text = readWholeFile(path, kMaxIndex);
  if (!text && text.error().code == Code::kNotFound)  // a store nothing was loaded into
    return api::Json{{"images", api::Json::object()}, {"refs", api::Json::object()}};
  if (!text) return text.error();
  auto j = parseJsonText(*text, path);
  if (!j || !j->is_object() || !(*j)["images"].is_object() || !(*j)["refs"].is_object()) {
    return makeError(Code::kInternal, "image index " + path + " is corrupt");
  }
  return j;
}

Status writeIndex(const std::string& dir, const api::Json& index) {
  return writeFileAtomic(dir + "/index.json", index.dump(2) + "\n");
}

ImageSummary summarise(const api::Json& index, const std::string& id) {
  ImageSummary s;
  s.id = id;
  const api::Json& rec = index["images"][id];
  for (const auto& [tag, target] : index["refs"].items()) {
    if (target == id) s.repoTags.push_back(tag);
  }
  std::sort(s.repoTags.begin(), s.repoTags.end());
  if (rec.value("registryManifest", false)) {
    std::set<std::string> names;
    for (const auto& t : s.repoTags) {
      auto ref = parseImageRef(t);
      if (ref) names.insert(ref->name());
    }
    for (const auto& n : names) s.repoDigests.push_back(n + "@" + rec.value("manifest", ""));
  }
  s.size = rec.value("size", uint64_t{0});
  s.created = rec.value("created", "");
  return s;
}

bool isHexString(const std::string& s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// Finds the image id a reference names; "" with a kNotFound error otherwise.
Result<std::string> lookup(const api::Json& index, const std::string& text) {
  const api::Json& images = index["images"];
  std::string hex = text.rfind("sha256:", 0) == 0 ? text.substr(7) : text;
  if (hex.size() >= 12 && hex.size() <= 64 && isHexString(hex)) {
    std::string found;
    int matches = 0;
    for (const auto& [id, rec] : images.items()) {
      if (id.compare(7, hex.size(), hex) == 0) {
        found = id;
        ++matches;
      }
    }
    if (matches == 1) return found;
    if (text.rfind("sha256:", 0) == 0) {
      return makeError(Code::kNotFound, "image \"" + text + "\" not found");
    }
  }
  auto ref = parseImageRef(text);
  if (!ref) return ref.error();
  if (!ref->digest.empty()) {
    for (const auto& [id, rec] : images.items()) {
      if (id != ref->digest && rec.value("manifest", "") != ref->digest) continue;
      for (const auto& [tag, target] : index["refs"].items()) {
        auto t = parseImageRef(tag);
        if (target == id && t && t->name() == ref->name()) return id;
      }
    }
  } else if (auto it = index["refs"].find(ref->nameTag()); it != index["refs"].end()) {
    return it->get<std::string>();
  }
  return makeError(Code::kNotFound, "image \"" + text + "\" not found");
}

// Deletes blobs, layers and staging directories that no image in the index uses.
// Runs under the writer lock, so no load is in flight.
void collectGarbage(const std::string& dir, const api::Json& index) {
  std::set<std::string> blobs, layers;
  for (const auto& [id, rec] : index["images"].items()) {
    for (const auto& b : strings(rec, "blobs")) blobs.insert(b.substr(7));
    for (const auto& l : strings(rec, "layers")) layers.insert(l.substr(7));
  }
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir + "/blobs/sha256", ec)) {
    if (!blobs.count(e.path().filename())) fs::remove(e.path(), ec);
  }
  for (const auto& e : fs::directory_iterator(dir + "/layers", ec)) {
    if (layers.count(e.path().filename())) continue;
    // Out of layers/ first, so a half-deleted tree never looks like a layer.
    fs::path trash = dir + "/tmp/rm-" + e.path().filename().string();
    if (::rename(e.path().c_str(), trash.c_str()) == 0) fs::remove_all(trash, ec);
  }
  for (const auto& e : fs::directory_iterator(dir + "/tmp", ec)) fs::remove_all(e.path(), ec);
}

}  // namespace

Result<ImageConfig> imageConfigFromJson(const api::Json& doc) {
  if (!doc.is_object()) return makeError(Code::kBadRequest, "image config: not an object");
  ImageConfig c;
  const api::Json& cfg =
      doc.contains("config") && doc["config"].is_object() ? doc["config"] : api::Json();
  c.entrypoint = strings(cfg, "Entrypoint");
  c.cmd = strings(cfg, "Cmd");
  c.env = strings(cfg, "Env");
  if (cfg.is_object()) {
    c.workingDir = cfg.value("WorkingDir", "");
    c.user = cfg.value("User", "");
    if (cfg.contains("ExposedPorts") && cfg["ExposedPorts"].is_object()) {
      for (const auto& [port, _] : cfg["ExposedPorts"].items()) c.exposedPorts.push_back(port);
    }
    if (cfg.contains("Labels") && cfg["Labels"].is_object()) {
      for (const auto& [k, v] : cfg["Labels"].items()) {
        if (v.is_string()) c.labels[k] = v.get<std::string>();
      }
    }
  }
  std::sort(c.exposedPorts.begin(), c.exposedPorts.end());
  return c;
}

std::string humanSize(uint64_t bytes) {
  static const char* kUnits[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
  double size = static_cast<double>(bytes);
  size_t i = 0;
  while (size >= 1000 && i + 1 < std::size(kUnits)) {
    size /= 1000;
    ++i;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g%s", size, kUnits[i]);
  return buf;
}

std::vector<std::vector<std::string>> imageTableRows(const std::vector<ImageSummary>& images) {
  std::vector<std::vector<std::string>> rows = {{"IMAGE", "TAG", "IMAGE ID", "SIZE"}};
  for (const auto& img : images) {
    std::string id = img.id.substr(img.id.rfind(':') + 1).substr(0, 13);
    std::string size = humanSize(img.size);
    if (img.repoTags.empty()) rows.push_back({"<none>", "<none>", id, size});
    for (const auto& t : img.repoTags) {
      auto ref = parseImageRef(t);
      if (ref) rows.push_back({ref->name(), ref->tag.empty() ? "<none>" : ref->tag, id, size});
    }
  }
  return rows;
}

ImageStore::~ImageStore() = default;

Result<std::unique_ptr<ImageStore>> ImageStore::open(const std::string& dir) {
  for (const char* sub : {"", "/blobs", "/blobs/sha256", "/layers", "/tmp"}) {
    std::string p = dir + sub;
    if (::mkdir(p.c_str(), 0700) != 0 && errno != EEXIST) return sysError("mkdir", p, errno);
  }
  auto index = readIndex(dir);
  if (!index) return index.error();
  return std::unique_ptr<ImageStore>(new ImageStore(dir));
}

Result<std::vector<ImageSummary>> ImageStore::load(const std::string& archivePath) {
  auto fail = [&](const Error& e) { return e.wrap("load image archive " + archivePath); };
  auto lock = WriterLock::acquire(dir_);
  if (!lock) return fail(lock.error());
  auto index = readIndex(dir_);
  if (!index) return fail(index.error());
  collectGarbage(dir_, *index);  // leftovers of a crashed load or remove

  std::string stage = dir_ + "/tmp/load-XXXXXX";
  if (!::mkdtemp(stage.data())) return fail(sysError("mkdtemp", stage, errno));
  struct Cleanup {
    std::string path;
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(path, ec);
    }
  } cleanup{stage};
  for (const char* sub : {"/raw", "/layers"}) {
    if (::mkdir((stage + sub).c_str(), 0700) != 0)
      return fail(sysError("mkdir", stage + sub, errno));
  }

  auto contents = ArchiveContents::read(archivePath, stage + "/raw");
  if (!contents) return fail(contents.error());
  auto images = planImages(*contents);
  if (!images) return fail(images.error());

  // Unpack (or, for layers the store already has, just hash) every layer, and
  // check each against the diff_id its config promises.
  std::map<std::string, uint64_t> layerSizes;  // diff_id -> uncompressed size, verified
  std::set<std::string> verifiedBlobs;         // blob digests verified this load
  std::set<std::string> staged;                // diff_ids unpacked into the stage
  for (auto& img : *images) {
    for (auto& layer : img.layers) {
      if (layerSizes.count(layer.diffId) && verifiedBlobs.count(layer.blob->digest)) continue;
      std::string hex = digestHex(layer.diffId);
      bool have =
          staged.count(layer.diffId) || ::access((dir_ + "/layers/" + hex).c_str(), F_OK) == 0;
      Result<LayerInfo> info = LayerInfo{};
      if (have) {
        info = hashLayer(layer.blob->path);
      } else {
        std::string dest = stage + "/layers/" + hex;
        if (::mkdir(dest.c_str(), 0755) != 0) return fail(sysError("mkdir", dest, errno));
        info = unpackLayer(layer.blob->path, dest);
        staged.insert(layer.diffId);
      }
      if (!info) return fail(info.error().wrap("layer " + layer.blob->digest));
      if (info->diffId != layer.diffId) {
        return fail(makeError(Code::kBadRequest,
                              "layer " + layer.blob->digest + ": digest mismatch: diff_id " +
                                  layer.diffId + " in the image config, uncompressed content is " +
                                  info->diffId));
      }
      layerSizes[layer.diffId] = info->size;
      verifiedBlobs.insert(layer.blob->digest);
    }
  }

  // Everything checked out: move blobs and layers into place, then the index.
  auto place = [&](const std::string& from, const std::string& to) -> Status {
    if (::access(to.c_str(), F_OK) == 0) return {};
    if (::rename(from.c_str(), to.c_str()) != 0 && errno != EEXIST && errno != ENOTEMPTY) {
      return sysError("rename", from, errno);
    }
    return {};
  };
  api::Json& recs = (*index)["images"];
  api::Json& refs = (*index)["refs"];
  std::set<std::string> displaced;
  std::vector<std::string> ids;
  for (auto& img : *images) {
    api::Json blobs = api::Json::array();
    if (!img.syntheticManifest.empty()) {
      std::string p = stage + "/manifest-" + digestHex(img.manifestDigest);
      if (auto s = writeFileAtomic(p, img.syntheticManifest); !s) return fail(s.error());
      if (auto s = place(p, dir_ + "/blobs/sha256/" + digestHex(img.manifestDigest)); !s) {
        return fail(s.error());
      }
      blobs.push_back(img.manifestDigest);
    }
    for (const StagedFile* b : img.blobs) {
      if (auto s = place(b->path, dir_ + "/blobs/sha256/" + digestHex(b->digest)); !s) {
        return fail(s.error());
      }
      blobs.push_back(b->digest);
    }
    api::Json layers = api::Json::array();
    uint64_t size = 0;
    for (const auto& l : img.layers) {
      if (auto s = place(l.blob->path, dir_ + "/blobs/sha256/" + digestHex(l.blob->digest)); !s) {
        return fail(s.error());
      }
      std::string hex = digestHex(l.diffId);
      if (staged.count(l.diffId)) {
        if (auto s = place(stage + "/layers/" + hex, dir_ + "/layers/" + hex); !s) {
          return fail(s.error());
        }
      }
      blobs.push_back(l.blob->digest);
      layers.push_back(l.diffId);
      size += layerSizes[l.diffId];
    }
    api::Json rec = {{"manifest", img.manifestDigest},
                     {"registryManifest", img.registryManifest},
                     {"blobs", blobs},
                     {"layers", layers},
                     {"size", size},
                     {"created", img.config.is_object() ? img.config.value("created", "") : ""}};
    if (recs.contains(img.id)) {
      // The same image loaded before: keep every blob it had, and a registry
      // manifest (a real repo digest) over one synthesised for docker save.
      const api::Json& old = recs[img.id];
      for (const auto& b : strings(old, "blobs")) {
        if (std::find(blobs.begin(), blobs.end(), b) == blobs.end()) rec["blobs"].push_back(b);
      }
      if (old.value("registryManifest", false) && !img.registryManifest) {
        rec["manifest"] = old["manifest"];
        rec["registryManifest"] = true;
      }
    }
    recs[img.id] = std::move(rec);
    for (const auto& tag : img.tags) {
      if (refs.contains(tag) && refs[tag] != img.id) displaced.insert(refs[tag].get<std::string>());
      refs[tag] = img.id;
    }
    ids.push_back(img.id);
  }
  for (const auto& old : displaced) {
    bool tagged = false;
    for (const auto& [tag, target] : refs.items()) tagged = tagged || target == old;
    if (!tagged && std::find(ids.begin(), ids.end(), old) == ids.end()) recs.erase(old);
  }
  {
    Fd d(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (d.valid()) ::syncfs(d.get());  // the layers' files, before the index names them
  }
  if (auto s = writeIndex(dir_, *index); !s) return fail(s.error());
  std::vector<ImageSummary> out;
  for (size_t i = 0; i < images->size(); ++i) {
    ImageSummary s = summarise(*index, ids[i]);
    s.repoTags = (*images)[i].tags;
    out.push_back(std::move(s));
    logInfo("image loaded", {{"id", ids[i]}, {"archive", archivePath}});
  }
  collectGarbage(dir_, *index);
  return out;
}

Result<std::vector<ImageSummary>> ImageStore::list() const {
  auto index = readIndex(dir_);
  if (!index) return index.error();
  std::vector<ImageSummary> out;
  for (const auto& [id, rec] : (*index)["images"].items()) out.push_back(summarise(*index, id));
  std::sort(out.begin(), out.end(), [](const ImageSummary& a, const ImageSummary& b) {
    std::string ka = a.repoTags.empty() ? "~" : a.repoTags[0];
    std::string kb = b.repoTags.empty() ? "~" : b.repoTags[0];
    return ka != kb ? ka < kb : a.id < b.id;
  });
  return out;
}

Result<ResolvedImage> ImageStore::resolve(const std::string& ref) const {
  auto index = readIndex(dir_);
  if (!index) return index.error();
  auto id = lookup(*index, ref);
  if (!id) return id.error();
  const api::Json& rec = (*index)["images"][*id];
  ResolvedImage out;
  out.id = *id;
  out.manifestDigest = rec.value("manifest", "");
  auto text = readStoreFile(dir_ + "/blobs/sha256/" + digestHex(*id), 8 << 20);
  if (!text) return text.error().wrap("image " + ref);
  auto doc = parseJsonText(*text, "image config " + *id);
  if (!doc) return doc.error();
  auto cfg = imageConfigFromJson(*doc);
  if (!cfg) return cfg.error();
  out.config = std::move(*cfg);
  auto layers = strings(rec, "layers");
  for (auto it = layers.rbegin(); it != layers.rend(); ++it) {
    std::string d = dir_ + "/layers/" + digestHex(*it);
    if (::access(d.c_str(), F_OK) != 0) {
      return makeError(Code::kInternal, "image " + ref + ": layer " + *it + " missing from " + d);
    }
    out.layerDirs.push_back(d);
  }
  return out;
}

Result<ImageStore::Removed> ImageStore::remove(const std::string& ref) {
  auto lock = WriterLock::acquire(dir_);
  if (!lock) return lock.error();
  auto index = readIndex(dir_);
  if (!index) return index.error();
  auto id = lookup(*index, ref);
  if (!id) return id.error();
  Removed out;
  out.image = summarise(*index, *id);
  api::Json& refs = (*index)["refs"];
  auto parsed = parseImageRef(ref);
  bool byTag = parsed && parsed->digest.empty() && refs.contains(parsed->nameTag()) &&
               refs[parsed->nameTag()] == *id;
  if (byTag) {
    refs.erase(parsed->nameTag());
    out.untagged.push_back(parsed->nameTag());
  } else {
    out.untagged = out.image.repoTags;
    for (const auto& t : out.untagged) refs.erase(t);
  }
  bool tagged = false;
  for (const auto& [tag, target] : refs.items()) tagged = tagged || target == *id;
  if (!tagged) {
    (*index)["images"].erase(*id);
    out.deleted = true;
  }
  if (auto s = writeIndex(dir_, *index); !s) return s.error();
  collectGarbage(dir_, *index);
  logInfo("image removed",
          {{"ref", ref}, {"id", *id}, {"deleted", out.deleted ? "true" : "false"}});
  return out;
}

}  // namespace skiff::kubelet
