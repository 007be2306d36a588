// Image store tests: archives from scripts/make-busybox-image.sh (docker save and
// OCI), and hand-made hostile archives built here with libarchive's writer.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"  // Entry{name, type, data}

#include <archive.h>
#include <archive_entry.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "kubelet/images.h"
#include "kubelet/images_util.h"
#include "tests/kubelet/source_root.h"
#include "tests/test_util.h"

namespace fs = std::filesystem;
using skiff::kubelet::ImageStore;
using skiff::kubelet::images_detail::sha256Of;

namespace {

struct Entry {
  std::string name;
  char type = 'f';  // f file, d dir, l symlink, h hardlink, c char device
  std::string data;
  std::string link;
  int mode = 0644;
};

std::string tarBytes(const std::vector<Entry>& entries, bool gzip = false) {
  archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  if (gzip) archive_write_add_filter_gzip(a);
  std::string buf(32 << 20, '\0');
  size_t used = 0;
  REQUIRE(archive_write_open_memory(a, buf.data(), buf.size(), &used) == ARCHIVE_OK);
  for (const auto& e : entries) {
    archive_entry* en = archive_entry_new();
    archive_entry_set_pathname(en, e.name.c_str());
    archive_entry_set_perm(en, e.mode);
    archive_entry_set_mtime(en, 1700000000, 0);
    switch (e.type) {
      case 'f':
        archive_entry_set_filetype(en, AE_IFREG);
        archive_entry_set_size(en, e.data.size());
        break;
      case 'd':
        archive_entry_set_filetype(en, AE_IFDIR);
        break;
      case 'l':
        archive_entry_set_filetype(en, AE_IFLNK);
        archive_entry_set_symlink(en, e.link.c_str());
        break;
      case 'h':
        archive_entry_set_filetype(en, AE_IFREG);
        archive_entry_set_hardlink(en, e.link.c_str());
        archive_entry_set_size(en, 0);
        break;
      case 'c':
        archive_entry_set_filetype(en, AE_IFCHR);
        archive_entry_set_rdev(en, makedev(8, 0));
        break;
    }
    REQUIRE(archive_write_header(a, en) == ARCHIVE_OK);
    if (e.type == 'f' && !e.data.empty()) {
      REQUIRE(archive_write_data(a, e.data.data(), e.data.size()) ==
              static_cast<la_ssize_t>(e.data.size()));
    }
    archive_entry_free(en);
  }
  REQUIRE(archive_write_close(a) == ARCHIVE_OK);
  archive_write_free(a);
  buf.resize(used);
  return buf;
}

void writeFile(const std::string& path, const std::string& data) {
  std::ofstream f(path, std::ios::binary);
  f << data;
}

std::string hexOf(const std::string& data) {
  return sha256Of(data).substr(7);
}

// A docker save archive of the given layers (each a tar, maybe compressed).
// diffIds: the config's rootfs.diff_ids; by default the sha256 of each layer.
std::string dockerArchive(const std::vector<std::string>& layers, const std::string& tag,
                          std::vector<std::string> diffIds = {}, const std::string& configName = "",
                          const std::string& user = "") {
  if (diffIds.empty()) {
    for (const auto& l : layers) diffIds.push_back(sha256Of(l));
  }
  skiff::api::Json config = {{"architecture", "amd64"},
                             {"os", "linux"},
                             {"created", "2024-01-02T03:04:05Z"},
                             {"config",
                              {{"Entrypoint", {"/bin/app"}},
                               {"Cmd", {"--serve"}},
                               {"Env", {"PATH=/bin", "MODE=test"}},
                               {"WorkingDir", "/srv"},
                               {"User", user},
                               {"ExposedPorts", {{"8080/tcp", skiff::api::Json::object()}}}}},
                             {"rootfs", {{"type", "layers"}, {"diff_ids", diffIds}}}};
  std::string cfg = config.dump();
  std::string cfgName = configName.empty() ? hexOf(cfg) + ".json" : configName;
  std::vector<Entry> outer = {{cfgName, 'f', cfg}};
  skiff::api::Json names = skiff::api::Json::array();
  for (size_t i = 0; i < layers.size(); ++i) {
    std::string dir = "layer" + std::to_string(i);
    outer.push_back({dir, 'd', "", "", 0755});
    outer.push_back({dir + "/layer.tar", 'f', layers[i]});
    names.push_back(dir + "/layer.tar");
  }
  skiff::api::Json manifest = skiff::api::Json::array();
  manifest.push_back({{"Config", cfgName},
                      {"RepoTags", tag.empty() ? skiff::api::Json(nullptr) : skiff::api::Json{tag}},
                      {"Layers", names}});
  outer.push_back({"manifest.json", 'f', manifest.dump()});
  return tarBytes(outer);
}

// An OCI archive of one layer blob (diffId: the sha256 of its uncompressed tar).
// tamper: the blob stored under the layer's digest has one byte changed.
std::string ociArchive(const std::string& layerBlob, const std::string& diffId,
                       const std::string& mediaType, const std::string& ref, bool tamper = false) {
  skiff::api::Json config = {{"architecture", "amd64"},
                             {"os", "linux"},
                             {"config", {{"Cmd", {"sh"}}, {"User", "1000:1000"}}},
                             {"rootfs", {{"type", "layers"}, {"diff_ids", {diffId}}}}};
  std::string cfg = config.dump();
  skiff::api::Json manifest = {
      {"schemaVersion", 2},
      {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
      {"config",
       {{"mediaType", "application/vnd.oci.image.config.v1+json"},
        {"digest", sha256Of(cfg)},
        {"size", cfg.size()}}},
      {"layers",
       {{{"mediaType", mediaType}, {"digest", sha256Of(layerBlob)}, {"size", layerBlob.size()}}}}};
  std::string mf = manifest.dump();
  skiff::api::Json index = {{"schemaVersion", 2},
                            {"manifests",
                             {{{"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                               {"digest", sha256Of(mf)},
                               {"size", mf.size()},
                               {"annotations", {{"org.opencontainers.image.ref.name", ref}}}}}}};
  std::string stored = layerBlob;
  if (tamper) stored[stored.size() / 2] ^= 1;
  return tarBytes({{"oci-layout", 'f', R"({"imageLayoutVersion":"1.0.0"})"},
                   {"index.json", 'f', index.dump()},
                   {"blobs", 'd', "", "", 0755},
                   {"blobs/sha256", 'd', "", "", 0755},
                   {"blobs/sha256/" + hexOf(cfg), 'f', cfg},
                   {"blobs/sha256/" + hexOf(mf), 'f', mf},
                   {"blobs/sha256/" + hexOf(layerBlob), 'f', stored}});
}

// Runs scripts/make-busybox-image.sh of this source tree.
void runScript(const std::string& dir, const std::string& args) {
  std::string root = skiff::testing::sourceRoot();
  std::string cmd =
      root + "/scripts/make-busybox-image.sh " + args + " >" + dir + "/script.log 2>&1";
  INFO(cmd);
  REQUIRE(std::system(cmd.c_str()) == 0);
}

std::set<std::string> entriesOf(const std::string& dir) {
  std::set<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) out.insert(e.path().filename());
  return out;
}

// After a refused load: no ref, no blob, no layer, no staging left behind.
void requireNothingStored(ImageStore& store) {
  auto list = store.list();
  REQUIRE(list.ok());
  CHECK(list->empty());
  CHECK(entriesOf(store.dir() + "/blobs/sha256").empty());
  CHECK(entriesOf(store.dir() + "/layers").empty());
  CHECK(entriesOf(store.dir() + "/tmp").empty());
}

}  // namespace

TEST_CASE("a docker save archive from the busybox script loads, lists and resolves", "[images]") {
  skiff::testing::ScopedTempDir t("images-test");
  runScript(t.path, t.path + "/bb.tar");
  auto store = ImageStore::open(t.path + "/store");
  REQUIRE(store.ok());
  auto loaded = (*store)->load(t.path + "/bb.tar");
  REQUIRE(loaded.ok());
  REQUIRE(loaded->size() == 1);
  const auto& img = (*loaded)[0];
  CHECK(img.repoTags == std::vector<std::string>{"docker.io/library/busybox:latest"});
  CHECK(img.id.size() == 71);
  CHECK(img.repoDigests.empty());  // docker save carries no registry manifest
  CHECK(img.size > 1000000);
  CHECK_FALSE(img.created.empty());
  // The id is the config digest, stored content-addressed.
  CHECK(fs::exists(t.path + "/store/blobs/sha256/" + img.id.substr(7)));

  auto list = (*store)->list();
  REQUIRE(list.ok());
  REQUIRE(list->size() == 1);
  CHECK((*list)[0].id == img.id);
  CHECK((*list)[0].repoTags == img.repoTags);

  for (const std::string& ref :
       std::vector<std::string>{"busybox", "busybox:latest", "docker.io/library/busybox", img.id,
                                img.id.substr(7, 12), "busybox@" + img.id}) {
    INFO(ref);
    auto r = (*store)->resolve(ref);
    REQUIRE(r.ok());
    CHECK(r->id == img.id);
    CHECK(r->config.cmd == std::vector<std::string>{"sh"});
    CHECK(r->config.entrypoint.empty());
    CHECK(r->config.env ==
          std::vector<std::string>{
              "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"});
    REQUIRE(r->layerDirs.size() == 1);
    const std::string& layer = r->layerDirs[0];
    CHECK(fs::is_regular_file(fs::symlink_status(layer + "/bin/busybox")));
    CHECK((fs::status(layer + "/bin/busybox").permissions() & fs::perms::owner_exec) !=
          fs::perms::none);
    CHECK(fs::is_symlink(layer + "/bin/sh"));
    CHECK(fs::read_symlink(layer + "/bin/sh") == "busybox");
    CHECK(fs::read_symlink(layer + "/usr/bin/env") == "../../bin/busybox");
    CHECK(fs::is_regular_file(layer + "/etc/passwd"));
    CHECK((fs::status(layer + "/tmp").permissions() & fs::perms::sticky_bit) != fs::perms::none);
  }
  auto missing = (*store)->resolve("alpine");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code == skiff::Code::kNotFound);
  CHECK(missing.error().message == "image \"alpine\" not found");
  auto bad = (*store)->resolve("Alpine");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code == skiff::Code::kBadRequest);

  // Loading again is idempotent.
  auto again = (*store)->load(t.path + "/bb.tar");
  REQUIRE(again.ok());
  CHECK((*store)->list()->size() == 1);
}

TEST_CASE("an OCI archive from the busybox script (gzip layer) loads; same image, one layer",
          "[images]") {
  skiff::testing::ScopedTempDir t("images-test");
  runScript(t.path, "--oci " + t.path + "/oci.tar team/box:1.0");
  runScript(t.path, t.path + "/bb.tar");
  auto store = ImageStore::open(t.path + "/store");
  REQUIRE(store.ok());
  auto loaded = (*store)->load(t.path + "/oci.tar");
  REQUIRE(loaded.ok());
  REQUIRE(loaded->size() == 1);
  CHECK((*loaded)[0].repoTags == std::vector<std::string>{"docker.io/team/box:1.0"});
  REQUIRE((*loaded)[0].repoDigests.size() == 1);
  std::string repoDigest = (*loaded)[0].repoDigests[0];
  CHECK(repoDigest.rfind("docker.io/team/box@sha256:", 0) == 0);

  auto byDigest = (*store)->resolve("team/box@" + repoDigest.substr(repoDigest.find('@') + 1));
  REQUIRE(byDigest.ok());
  CHECK(byDigest->id == (*loaded)[0].id);
  CHECK(fs::is_regular_file(byDigest->layerDirs.at(0) + "/bin/busybox"));
  // A digest under another name does not resolve.
  CHECK_FALSE((*store)->resolve("other@" + repoDigest.substr(repoDigest.find('@') + 1)).ok());

  // The docker save archive holds the same config, so the same image: it gains
  // a tag, keeps its repo digest, and its layer is unpacked once.
  auto again = (*store)->load(t.path + "/bb.tar");
  REQUIRE(again.ok());
  CHECK((*again)[0].id == (*loaded)[0].id);
  auto list = (*store)->list();
  REQUIRE(list->size() == 1);
  CHECK((*list)[0].repoTags ==
        std::vector<std::string>{"docker.io/library/busybox:latest", "docker.io/team/box:1.0"});
  CHECK((*list)[0].repoDigests ==
        std::vector<std::string>{
            "docker.io/library/busybox" + repoDigest.substr(repoDigest.find('@')), repoDigest});
  CHECK(entriesOf(t.path + "/store/layers").size() == 1);

  // Removing one tag keeps the image; removing the last empties the store.
  auto rm = (*store)->remove("team/box:1.0");
  REQUIRE(rm.ok());
  CHECK_FALSE(rm->deleted);
  CHECK(rm->untagged == std::vector<std::string>{"docker.io/team/box:1.0"});
  CHECK(entriesOf(t.path + "/store/layers").size() == 1);
  CHECK((*store)->resolve("busybox").ok());
  auto rm2 = (*store)->remove("busybox");
  REQUIRE(rm2.ok());
  CHECK(rm2->deleted);
  CHECK((*store)->list()->empty());
  CHECK(entriesOf(t.path + "/store/layers").empty());
  CHECK(entriesOf(t.path + "/store/blobs/sha256").empty());
  auto gone = (*store)->remove("busybox");
  REQUIRE_FALSE(gone.ok());
  CHECK(gone.error().code == skiff::Code::kNotFound);
}

TEST_CASE("image config fields, multi-layer order, tags moving and untagging", "[images]") {
  skiff::testing::ScopedTempDir t("images-test");
  std::string base = tarBytes({{"bin", 'd', "", "", 0755}, {"bin/app", 'f', "v1", "", 0755}});
  std::string top = tarBytes({{"bin/app", 'f', "v2", "", 0755}, {"etc/conf", 'f', "c"}}, true);
  // The top layer is gzip-compressed: its diff_id is the sha256 of the plain tar.
  std::string topPlain = tarBytes({{"bin/app", 'f', "v2", "", 0755}, {"etc/conf", 'f', "c"}});
  writeFile(
      t.path + "/a.tar",
      dockerArchive({base, top}, "app:v1", {sha256Of(base), sha256Of(topPlain)}, "", "1000:2000"));
  auto store = ImageStore::open(t.path + "/store");
  REQUIRE(store.ok());
  auto loaded = (*store)->load(t.path + "/a.tar");
  REQUIRE(loaded.ok());
  auto r = (*store)->resolve("app:v1");
  REQUIRE(r.ok());
  CHECK(r->config.entrypoint == std::vector<std::string>{"/bin/app"});
  CHECK(r->config.cmd == std::vector<std::string>{"--serve"});
  CHECK(r->config.env == std::vector<std::string>{"PATH=/bin", "MODE=test"});
  CHECK(r->config.workingDir == "/srv");
  CHECK(r->config.user == "1000:2000");
  CHECK(r->config.exposedPorts == std::vector<std::string>{"8080/tcp"});
  REQUIRE(r->layerDirs.size() == 2);
  std::ifstream topApp(r->layerDirs[0] + "/bin/app"), baseApp(r->layerDirs[1] + "/bin/app");
  std::string v;
  topApp >> v;
  CHECK(v == "v2");  // top-most first
  baseApp >> v;
  CHECK(v == "v1");
  CHECK(fs::exists(r->layerDirs[0] + "/etc/conf"));

  // A second image tagged app:v1 takes the tag; the untagged first one goes away.
  std::string other = tarBytes({{"x", 'f', "other"}});
  writeFile(t.path + "/b.tar", dockerArchive({other}, "app:v1"));
  auto second = (*store)->load(t.path + "/b.tar");
  REQUIRE(second.ok());
  auto list = (*store)->list();
  REQUIRE(list->size() == 1);
  CHECK((*list)[0].id == (*second)[0].id);
  CHECK(entriesOf(t.path + "/store/layers").size() == 1);

  // Two tags: removing one only untags.
  writeFile(t.path + "/c.tar", dockerArchive({other}, "app:v2"));
  REQUIRE((*store)->load(t.path + "/c.tar").ok());
  REQUIRE((*store)->list()->size() == 1);
  CHECK((*store)->list()->at(0).repoTags ==
        std::vector<std::string>{"docker.io/library/app:v1", "docker.io/library/app:v2"});
  auto rm = (*store)->remove("app:v1");
  REQUIRE(rm.ok());
  CHECK_FALSE(rm->deleted);
  CHECK((*store)->resolve("app:v2").ok());
  CHECK_FALSE((*store)->resolve("app:v1").ok());
  // By id: the image and every tag.
  auto byId = (*store)->remove((*second)[0].id);
  REQUIRE(byId.ok());
  CHECK(byId->deleted);
  CHECK((*store)->list()->empty());
}

TEST_CASE("whiteouts become overlayfs whiteouts and opaque directories", "[images][root]") {
  skiff::testing::ScopedTempDir t("images-test");
  std::string lower =
      tarBytes({{"d", 'd', "", "", 0755}, {"d/keep", 'f', "k"}, {"gone", 'f', "g"}});
  std::string upper = tarBytes({{".wh.gone", 'f', ""},
                                {"d", 'd', "", "", 0755},
                                {"d/.wh..wh..opq", 'f', ""},
                                {"d/new", 'f', "n"}});
  writeFile(t.path + "/w.tar", dockerArchive({lower, upper}, "wh:1"));
  auto store = ImageStore::open(t.path + "/store");
  REQUIRE(store.ok());
  auto loaded = (*store)->load(t.path + "/w.tar");
  REQUIRE(loaded.ok());
  auto r = (*store)->resolve("wh:1");
  REQUIRE(r.ok());
  const std::string& top = r->layerDirs[0];
  struct stat st;
  REQUIRE(::lstat((top + "/gone").c_str(), &st) == 0);
  CHECK(S_ISCHR(st.st_mode));
  CHECK(st.st_rdev == makedev(0, 0));
  CHECK_FALSE(fs::exists(top + "/.wh.gone"));
  char value[8] = {};
  CHECK(::getxattr((top + "/d").c_str(), "trusted.overlay.opaque", value, sizeof value) == 1);
  CHECK(std::string(value) == "y");
  CHECK_FALSE(fs::exists(top + "/d/.wh..wh..opq"));
  CHECK(fs::exists(top + "/d/new"));
}

TEST_CASE("hostile layers are refused whole, naming the entry, writing nothing outside",
          "[images]") {
  skiff::testing::ScopedTempDir t("images-test");
  const std::string outside = t.path + "/outside";
  struct Case {
    std::string what;
    std::vector<Entry> layer;
    std::string message;
  };
  std::vector<Case> cases = {
      {"dot-dot entry",
       {{"ok", 'f', "x"}, {"../outside", 'f', "pwned"}},
       "refusing layer entry \"../outside\": path has a \"..\" component"},
      {"nested dot-dot",
       {{"a/../../../outside", 'f', "pwned"}},
       "refusing layer entry \"a/../../../outside\": path has a \"..\" component"},
      {"absolute path",
       {{outside, 'f', "pwned"}},
       "refusing layer entry \"" + outside + "\": path is absolute"},
      {"symlink escape",
       {{"esc", 'l', "", "../../../../outside"}},
       "refusing layer entry \"esc\": symlink target \"../../../../outside\" escapes the "
       "layer root"},
      {"symlink escape through another symlink",
       {{"dot", 'l', "", "."}, {"lib", 'd'}, {"lib/esc", 'l', "", "../dot/.."}},
       "refusing layer entry \"lib/esc\": symlink target \"../dot/..\" escapes the layer root"},
      {"write through a symlink",
       {{"sl", 'l', "", t.path}, {"sl/outside", 'f', "pwned"}},
       "refusing layer entry \"sl/outside\": path component \"sl\" is a symlink or not a "
       "directory"},
      {"hardlink escape",
       {{"hl", 'h', "", "../../../../outside"}},
       "refusing layer entry \"hl\": hardlink target \"../../../../outside\" escapes the "
       "layer root"},
      {"absolute hardlink",
       {{"hl", 'h', "", "/etc/passwd"}},
       "refusing layer entry \"hl\": hardlink target \"/etc/passwd\" escapes the layer root"},
      {"device node",
       {{"dev", 'd'}, {"dev/sda", 'c'}},
       "refusing layer entry \"dev/sda\": device nodes are not allowed in image layers"},
  };
  auto store = ImageStore::open(t.path + "/store");
  REQUIRE(store.ok());
  for (auto& c : cases) {
    SECTION(c.what) {
      for (auto& e : c.layer) {
        if (e.type == 'd') e.mode = 0755;
      }
      std::string layer = tarBytes(c.layer);
      writeFile(t.path + "/evil.tar", dockerArchive({layer}, "evil:1"));
      auto r = (*store)->load(t.path + "/evil.tar");
      REQUIRE_FALSE(r.ok());
      CHECK(r.error().code == skiff::Code::kBadRequest);
      CHECK_THAT(r.error().message, Catch::Contains(c.message));
      CHECK_THAT(r.error().message,
                 Catch::StartsWith("load image archive " + t.path + "/evil.tar: layer sha256:"));
      CHECK(entriesOf(t.path) == std::set<std::string>{"store", "evil.tar"});
      requireNothingStored(**store);
    }
  }
}

TEST_CASE("absolute symlinks resolve inside the root and are allowed", "[images]") {
  skiff::testing::ScopedTempDir t("images-test");
  std::string layer = tarBytes({{"bin", 'd', "", "", 0755},
                                {"bin/busybox", 'f', "bb", "", 0755},
                                {"bin/sh", 'l', "", "/bin/busybox"},
                                {"lib", 'l', "", "usr/lib"},
                                {"usr/lib/x", 'f', "x"}});
  writeFile(t.path + "/ok.tar", dockerArchive({layer}, "abs:1"));
  auto store = ImageStore::open(t.path + "/store");
  REQUIRE(store.ok());
  REQUIRE((*store)->load(t.path + "/ok.tar").ok());
  auto r = (*store)->resolve("abs:1");
  REQUIRE(r.ok());
  CHECK(fs::read_symlink(r->layerDirs[0] + "/bin/sh") == "/bin/busybox");
}

TEST_CASE("corrupt, truncated and mismatching archives are refused", "[images]") {
  skiff::testing::ScopedTempDir t("images-test");
  auto store = ImageStore::open(t.path + "/store");
  REQUIRE(store.ok());
  std::string plain = tarBytes({{"file", 'f', std::string(200000, 'a') + "end"}});
  std::string gz = tarBytes({{"file", 'f', std::string(200000, 'a') + "end"}}, true);
  auto refused = [&](const std::string& archive, const std::string& message) {
    writeFile(t.path + "/bad.tar", archive);
    auto r = (*store)->load(t.path + "/bad.tar");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == skiff::Code::kBadRequest);
    CHECK_THAT(r.error().message, Catch::StartsWith("load image archive " + t.path + "/bad.tar: "));
    CHECK_THAT(r.error().message, Catch::Contains(message));
    CHECK(entriesOf(t.path) == std::set<std::string>{"store", "bad.tar"});
    requireNothingStored(**store);
  };

  SECTION("corrupt gzip layer") {
    std::string bad = gz;
    for (size_t i = 40; i < bad.size() - 20; i += 7) bad[i] ^= 0x5a;
    refused(dockerArchive({bad}, "c:1", {sha256Of(plain)}), "layer sha256:");
  }
  SECTION("truncated gzip layer") {
    refused(dockerArchive({gz.substr(0, gz.size() / 2)}, "c:1", {sha256Of(plain)}),
            "layer sha256:");
  }
  SECTION("truncated archive") {
    std::string whole = dockerArchive({plain}, "c:1");
    refused(whole.substr(0, whole.size() / 2), "");
  }
  SECTION("not an archive at all") {
    refused("this is not a tar file", "");
  }
  SECTION("diff_id mismatch") {
    refused(dockerArchive({plain}, "c:1", {sha256Of("something else")}),
            "digest mismatch: diff_id " + sha256Of("something else") +
                " in the image config, uncompressed content is " + sha256Of(plain));
  }
  SECTION("config digest mismatch") {
    std::string wrong(64, 'b');
    refused(dockerArchive({plain}, "c:1", {}, wrong + ".json"),
            "config " + wrong + ".json: digest mismatch: expected sha256:" + wrong);
  }
  SECTION("OCI blob digest mismatch") {
    refused(
        ociArchive(gz, sha256Of(plain), "application/vnd.oci.image.layer.v1.tar+gzip", "o:1", true),
        "layer 0 blob " + sha256Of(gz) + ": digest mismatch");
  }
  SECTION("diff_ids do not match the layers") {
    refused(dockerArchive({plain}, "c:1", {sha256Of(plain), sha256Of(plain)}),
            "2 diff_ids for 1 layers");
  }
  SECTION("a layer missing from the archive") {
    std::string whole = tarBytes(
        {{"manifest.json", 'f',
          R"([{"Config":"c.json","RepoTags":["x:1"],"Layers":["l/layer.tar"]}])"},
         {"c.json", 'f', R"({"rootfs":{"diff_ids":["sha256:)" + std::string(64, 'a') + R"("]}})"}});
    refused(whole, "manifest.json: layer \"l/layer.tar\" not found in the archive");
  }
  SECTION("an invalid tag") {
    refused(dockerArchive({plain}, "Bad:Tag"), "couldn't parse image name \"Bad:Tag\"");
  }
  SECTION("missing file") {
    auto r = (*store)->load(t.path + "/nope.tar");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == skiff::Code::kNotFound);
  }
}

TEST_CASE("an OCI archive with a plain layer and the image user", "[images]") {
  skiff::testing::ScopedTempDir t("images-test");
  std::string plain = tarBytes({{"hello", 'f', "world"}});
  writeFile(t.path + "/o.tar",
            ociArchive(plain, sha256Of(plain), "application/vnd.oci.image.layer.v1.tar",
                       "localhost:5000/o:2"));
  auto store = ImageStore::open(t.path + "/store");
  REQUIRE(store.ok());
  auto loaded = (*store)->load(t.path + "/o.tar");
  REQUIRE(loaded.ok());
  CHECK((*loaded)[0].repoTags == std::vector<std::string>{"localhost:5000/o:2"});
  auto r = (*store)->resolve("localhost:5000/o:2");
  REQUIRE(r.ok());
  CHECK(r->config.user == "1000:1000");
  CHECK(fs::exists(r->layerDirs.at(0) + "/hello"));
}

TEST_CASE("image table rows and sizes as crictl prints them", "[images]") {
  CHECK(skiff::kubelet::humanSize(0) == "0B");
  CHECK(skiff::kubelet::humanSize(512) == "512B");
  CHECK(skiff::kubelet::humanSize(2129920) == "2.13MB");
  CHECK(skiff::kubelet::humanSize(1000) == "1kB");
  CHECK(skiff::kubelet::humanSize(123456789012) == "123.5GB");
  skiff::kubelet::ImageSummary a;
  a.id = "sha256:" + std::string(64, 'a');
  a.repoTags = {"docker.io/library/busybox:latest", "localhost:5000/bb:1"};
  a.size = 2129920;
  skiff::kubelet::ImageSummary b;
  b.id = "sha256:" + std::string(64, 'b');
  b.size = 10;
  auto rows = skiff::kubelet::imageTableRows({a, b});
  std::vector<std::vector<std::string>> want = {
      {"IMAGE", "TAG", "IMAGE ID", "SIZE"},
      {"docker.io/library/busybox", "latest", std::string(13, 'a'), "2.13MB"},
      {"localhost:5000/bb", "1", std::string(13, 'a'), "2.13MB"},
      {"<none>", "<none>", std::string(13, 'b'), "10B"}};
  CHECK(rows == want);
}

TEST_CASE("concurrent loads of one archive both succeed and store it once", "[images]") {
  skiff::testing::ScopedTempDir t("images-test");
  runScript(t.path, t.path + "/bb.tar");
  auto s1 = ImageStore::open(t.path + "/store");
  auto s2 = ImageStore::open(t.path + "/store");
  REQUIRE(s1.ok());
  REQUIRE(s2.ok());
  skiff::Result<std::vector<skiff::kubelet::ImageSummary>> r1 =
      skiff::makeError(skiff::Code::kInternal, "");
  auto r2 = r1;
  std::thread a([&] { r1 = (*s1)->load(t.path + "/bb.tar"); });
  std::thread b([&] { r2 = (*s2)->load(t.path + "/bb.tar"); });
  a.join();
  b.join();
  REQUIRE(r1.ok());
  REQUIRE(r2.ok());
  CHECK((*s1)->list()->size() == 1);
  CHECK(entriesOf(t.path + "/store/layers").size() == 1);
  CHECK(entriesOf(t.path + "/store/tmp").empty());
  CHECK((*s2)->resolve("busybox").ok());
}

TEST_CASE("unpacked layers work as overlayfs lower dirs", "[images][root]") {
  skiff::testing::ScopedTempDir t("images-test");
  std::string lower = tarBytes(
      {{"d", 'd', "", "", 0755}, {"d/keep", 'f', "k"}, {"gone", 'f', "g"}, {"stays", 'f', "s"}});
  std::string upper = tarBytes({{".wh.gone", 'f', ""},
                                {"d", 'd', "", "", 0755},
                                {"d/.wh..wh..opq", 'f', ""},
                                {"d/new", 'f', "n"}});
  writeFile(t.path + "/w.tar", dockerArchive({lower, upper}, "wh:1"));
  auto store = ImageStore::open(t.path + "/store");
  REQUIRE(store.ok());
  REQUIRE((*store)->load(t.path + "/w.tar").ok());
  auto r = (*store)->resolve("wh:1");
  REQUIRE(r.ok());
  std::string mnt = t.path + "/mnt";
  fs::create_directory(mnt);
  std::string opts = "lowerdir=" + r->layerDirs[0] + ":" + r->layerDirs[1];
  REQUIRE(::mount("overlay", mnt.c_str(), "overlay", MS_RDONLY, opts.c_str()) == 0);
  CHECK(fs::exists(mnt + "/stays"));
  CHECK_FALSE(fs::exists(mnt + "/gone"));    // whited out
  CHECK_FALSE(fs::exists(mnt + "/d/keep"));  // hidden by the opaque directory
  CHECK(fs::exists(mnt + "/d/new"));
  ::umount(mnt.c_str());
}

TEST_CASE("the busybox image's rootfs runs a shell", "[images][root]") {
  skiff::testing::ScopedTempDir t("images-test");
  runScript(t.path, "--oci " + t.path + "/bb.tar");
  auto store = ImageStore::open(t.path + "/store");
  REQUIRE(store.ok());
  REQUIRE((*store)->load(t.path + "/bb.tar").ok());
  auto r = (*store)->resolve("busybox:latest");
  REQUIRE(r.ok());
  std::string cmd = "chroot " + r->layerDirs[0] +
                    " /bin/sh -c 'echo hello from $(cat /etc/passwd | head -n1 | cut -d: -f1)'";
  FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p);
  char buf[256] = {};
  size_t n = std::fread(buf, 1, sizeof buf - 1, p);
  CHECK(::pclose(p) == 0);
  CHECK(std::string(buf, n) == "hello from root\n");
}

TEST_CASE("docker save variants: linked duplicate layers, gzip archive, blobs/ layout",
          "[images]") {
  skiff::testing::ScopedTempDir t("images-test");
  auto store = ImageStore::open(t.path + "/store");
  REQUIRE(store.ok());
  std::string layer = tarBytes({{"f", 'f', "same"}});
  skiff::api::Json config = {
      {"rootfs", {{"type", "layers"}, {"diff_ids", {sha256Of(layer), sha256Of(layer)}}}},
      {"config", {{"Cmd", {"sh"}}}}};
  std::string cfg = config.dump();

  SECTION("old docker: the second layer.tar is a symlink to the first, archive gzipped") {
    std::vector<Entry> outer = {
        {hexOf(cfg) + ".json", 'f', cfg},
        {"aaa", 'd', "", "", 0755},
        {"aaa/layer.tar", 'f', layer},
        {"bbb", 'd', "", "", 0755},
        {"bbb/layer.tar", 'l', "", "../aaa/layer.tar"},
        {"manifest.json", 'f',
         R"([{"Config":")" + hexOf(cfg) +
             R"(.json","RepoTags":["dup:1"],"Layers":["aaa/layer.tar","bbb/layer.tar"]}])"}};
    writeFile(t.path + "/d.tar.gz", tarBytes(outer, true));
    auto r = (*store)->load(t.path + "/d.tar.gz");
    REQUIRE(r.ok());
    auto img = (*store)->resolve("dup:1");
    REQUIRE(img.ok());
    CHECK(img->layerDirs.size() == 2);
    CHECK(img->layerDirs[0] == img->layerDirs[1]);
  }
  SECTION("docker 25+: config and layers under blobs/sha256") {
    std::vector<Entry> outer = {
        {"blobs/sha256/" + hexOf(cfg), 'f', cfg},
        {"blobs/sha256/" + hexOf(layer), 'f', layer},
        {"manifest.json", 'f',
         R"([{"Config":"blobs/sha256/)" + hexOf(cfg) +
             R"(","RepoTags":["new:1"],"Layers":["blobs/sha256/)" + hexOf(layer) +
             R"(","blobs/sha256/)" + hexOf(layer) + R"("]}])"}};
    writeFile(t.path + "/n.tar", tarBytes(outer));
    REQUIRE((*store)->load(t.path + "/n.tar").ok());
    CHECK((*store)->resolve("new:1").ok());
    // A blob whose content does not match its name is refused.
    outer[1].data = "tampered";
    writeFile(t.path + "/bad.tar", tarBytes(outer));
    auto bad = (*store)->load(t.path + "/bad.tar");
    REQUIRE_FALSE(bad.ok());
    CHECK_THAT(
        bad.error().message,
        Catch::Contains("layer blobs/sha256/" + hexOf(layer) + ": digest mismatch: expected " +
                        sha256Of(layer) + ", got " + sha256Of("tampered")));
    CHECK((*store)->list()->size() == 1);
  }
}

TEST_CASE("leftovers of a crashed load are swept by the next load", "[images]") {
  skiff::testing::ScopedTempDir t("images-test");
  runScript(t.path, t.path + "/bb.tar");
  auto store = ImageStore::open(t.path + "/store");
  REQUIRE(store.ok());
  fs::create_directories(t.path + "/store/tmp/load-crashed/raw");
  writeFile(t.path + "/store/tmp/load-crashed/raw/1", "half");
  writeFile(t.path + "/store/blobs/sha256/" + std::string(64, 'e'), "orphan");
  fs::create_directories(t.path + "/store/layers/" + std::string(64, 'f') + "/bin");
  REQUIRE((*store)->load(t.path + "/bb.tar").ok());
  CHECK(entriesOf(t.path + "/store/tmp").empty());
  CHECK_FALSE(fs::exists(t.path + "/store/blobs/sha256/" + std::string(64, 'e')));
  CHECK_FALSE(fs::exists(t.path + "/store/layers/" + std::string(64, 'f')));
  CHECK(entriesOf(t.path + "/store/layers").size() == 1);
  CHECK((*store)->resolve("busybox").ok());
}
