#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "kubelet/volume_files.h"
#include "tests/test_util.h"

namespace fs = std::filesystem;
using skiff::Code;
using skiff::api::Json;
using skiff::kubelet::isFileVolume;
using skiff::kubelet::PodContext;
using skiff::kubelet::VolumeFile;
using skiff::kubelet::volumeFiles;
using skiff::kubelet::writeVolumeFiles;
using skiff::testing::modeOf;

namespace {

using Data = std::map<std::string, std::string>;

PodContext context() {
  PodContext ctx;
  ctx.pod = Json::parse(R"J({
    "metadata": {"name": "web", "namespace": "prod", "uid": "u-1",
                 "labels": {"app": "web", "tier": "front"}},
    "spec": {"containers": []}})J");
  ctx.configMapData = [](const std::string& name) -> skiff::Result<Data> {
    if (name == "app") return Data{{"app.conf", "listen 80\n"}, {"level", "debug"}};
    return skiff::makeError(Code::kNotFound, "configmaps \"" + name + "\" not found");
  };
  ctx.secretData = [](const std::string& name) -> skiff::Result<Data> {
    if (name == "creds") return Data{{"password", "s3cr3t"}};
    return skiff::makeError(Code::kNotFound, "secrets \"" + name + "\" not found");
  };
  return ctx;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("volume files: a ConfigMap gives every key, with defaultMode", "[volumes]") {
  auto v = Json::parse(R"({"name": "cfg", "configMap": {"name": "app", "defaultMode": 256}})");
  REQUIRE(isFileVolume(v));
  auto files = volumeFiles(v, context());
  REQUIRE(files);
  REQUIRE(*files ==
          std::vector<VolumeFile>{{"app.conf", "listen 80\n", 0400}, {"level", "debug", 0400}});
}

TEST_CASE("volume files: items pick keys, paths and modes", "[volumes]") {
  auto v = Json::parse(R"({"name": "cfg", "configMap": {"name": "app", "items": [
      {"key": "app.conf", "path": "nginx/conf.d/app.conf", "mode": 384}]}})");
  auto files = volumeFiles(v, context());
  REQUIRE(files);
  REQUIRE(*files == std::vector<VolumeFile>{{"nginx/conf.d/app.conf", "listen 80\n", 0600}});
}

TEST_CASE("volume files: missing objects and keys", "[volumes]") {
  SECTION("a missing ConfigMap is an error naming it") {
    auto files =
        volumeFiles(Json::parse(R"({"name": "c", "configMap": {"name": "nope"}})"), context());
    REQUIRE_FALSE(files);
    CHECK(files.error().message == "configmap \"nope\" not found");
  }
  SECTION("a missing Secret likewise") {
    auto files =
        volumeFiles(Json::parse(R"({"name": "s", "secret": {"secretName": "nope"}})"), context());
    REQUIRE_FALSE(files);
    CHECK(files.error().message == "secret \"nope\" not found");
  }
  SECTION("optional: an empty volume") {
    auto files = volumeFiles(
        Json::parse(R"({"name": "c", "configMap": {"name": "nope", "optional": true}})"),
        context());
    REQUIRE(files);
    CHECK(files->empty());
  }
  SECTION("a listed key that is missing") {
    auto files = volumeFiles(Json::parse(R"({"name": "c", "configMap": {"name": "app",
        "items": [{"key": "other", "path": "o"}]}})"),
                             context());
    REQUIRE_FALSE(files);
    CHECK(files.error().message == "configmap references non-existent config key: other");
    auto secret = volumeFiles(Json::parse(R"({"name": "s", "secret": {"secretName": "creds",
        "items": [{"key": "token", "path": "t"}]}})"),
                              context());
    REQUIRE_FALSE(secret);
    CHECK(secret.error().message == "references non-existent secret key: token");
  }
}

TEST_CASE("volume files: bad paths and modes are refused", "[volumes]") {
  for (const char* path : {"../escape", "/abs", "a/../../b", "..hidden"}) {
    Json v = Json::parse(R"({"name": "c", "configMap": {"name": "app"}})");
    v["configMap"]["items"] = Json::array({{{"key", "level"}, {"path", path}}});
    auto files = volumeFiles(v, context());
    INFO(path);
    REQUIRE_FALSE(files);
    CHECK(files.error().message.find("must be relative") != std::string::npos);
  }
  auto files = volumeFiles(
      Json::parse(R"({"name": "c", "configMap": {"name": "app", "defaultMode": 4096}})"),
      context());
  REQUIRE_FALSE(files);
  CHECK(files.error().message ==
        "configMap.defaultMode: must be a number between 0 and 0777 (octal), both inclusive");
}

TEST_CASE("volume files: downwardAPI and projected", "[volumes]") {
  auto down = volumeFiles(Json::parse(R"({"name": "d", "downwardAPI": {"items": [
      {"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}},
      {"path": "name", "fieldRef": {"fieldPath": "metadata.name"}}]}})"),
                          context());
  REQUIRE(down);
  REQUIRE(*down == std::vector<VolumeFile>{{"labels", "app=\"web\"\ntier=\"front\"", 0644},
                                           {"name", "web", 0644}});

  auto projected = volumeFiles(Json::parse(R"({"name": "p", "projected": {"defaultMode": 288,
      "sources": [{"configMap": {"name": "app", "items": [{"key": "level", "path": "level"}]}},
                  {"secret": {"name": "creds"}},
                  {"downwardAPI": {"items": [{"path": "ns",
                      "fieldRef": {"fieldPath": "metadata.namespace"}}]}}]}})"),
                               context());
  REQUIRE(projected);
  REQUIRE(*projected == std::vector<VolumeFile>{{"level", "debug", 0440},
                                                {"ns", "prod", 0440},
                                                {"password", "s3cr3t", 0440}});

  Json withToken = Json::parse(R"({"name": "p", "projected": {"defaultMode": 384, "sources": [
      {"serviceAccountToken": {"path": "token", "audience": "vault", "expirationSeconds": 7200}}]}})");
  auto unavailable = volumeFiles(withToken, context());
  REQUIRE_FALSE(unavailable);
  CHECK(unavailable.error().message.find("projected.sources[0].serviceAccountToken") == 0);
  PodContext ctx = context();
  ctx.serviceAccountToken = [](const std::string& audience, int64_t seconds) {
    return skiff::Result<std::string>("jwt-for-" + audience + "-" + std::to_string(seconds));
  };
  auto token = volumeFiles(withToken, ctx);
  REQUIRE(token);
  CHECK(*token == std::vector<VolumeFile>{{"token", "jwt-for-vault-7200", 0600}});
}

TEST_CASE("volume files: written as the kubelet's AtomicWriter lays them out", "[volumes]") {
  skiff::testing::ScopedTempDir tmp("volfiles");
  fs::path dir = fs::path(tmp.path) / "cfg";
  std::vector<VolumeFile> first = {{"app.conf", "one", 0644}, {"sub/inner", "deep", 0600}};
  auto wrote = writeVolumeFiles(dir.string(), first);
  REQUIRE(wrote);
  CHECK(*wrote);
  CHECK(fs::is_symlink(dir / "..data"));
  CHECK(fs::read_symlink(dir / "app.conf") == "..data/app.conf");
  CHECK(slurp(dir / "app.conf") == "one");
  CHECK(slurp(dir / "sub" / "inner") == "deep");
  CHECK(modeOf(dir / "sub" / "inner") == 0600);
  fs::path payload = dir / fs::read_symlink(dir / "..data");

  SECTION("the same content writes nothing") {
    auto again = writeVolumeFiles(dir.string(), first);
    REQUIRE(again);
    CHECK_FALSE(*again);
    CHECK(dir / fs::read_symlink(dir / "..data") == payload);
  }
  SECTION("a change swaps the payload; gone keys go, the old payload goes") {
    auto changed = writeVolumeFiles(dir.string(), {{"app.conf", "two", 0644}, {"new", "n", 0644}});
    REQUIRE(changed);
    CHECK(*changed);
    CHECK(slurp(dir / "app.conf") == "two");
    CHECK(slurp(dir / "new") == "n");
    CHECK_FALSE(fs::exists(fs::symlink_status(dir / "sub")));
    CHECK_FALSE(fs::exists(payload));
    int entries = 0;
    for (const auto& e : fs::directory_iterator(dir)) {
      (void)e;
      ++entries;
    }
    CHECK(entries == 4);  // ..data, the payload, app.conf, new
  }
  SECTION("a mode change alone is a change") {
    auto changed = writeVolumeFiles(dir.string(), {{"app.conf", "one", 0400}, first[1]});
    REQUIRE(changed);
    CHECK(*changed);
    CHECK(modeOf(dir / "app.conf") == 0400);
  }
  SECTION("an empty volume is an empty directory besides ..data") {
    auto emptied = writeVolumeFiles(dir.string(), {});
    REQUIRE(emptied);
    CHECK(*emptied);
    CHECK_FALSE(fs::exists(fs::symlink_status(dir / "app.conf")));
  }
}
