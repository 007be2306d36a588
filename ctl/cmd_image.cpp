// `skiff image load|ls|rm`: the node's image store (kubelet/images.h) from the
// command line, as `docker load`, `docker images` and `docker rmi` print it.
// The store is a directory (DATA/images), shared with a running kubelet: the
// store's own locking makes loading while pods start safe.
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "base/log.h"
#include "ctl/cli.h"
#include "ctl/commands.h"
#include "ctl/printers.h"
#include "kubelet/image_ref.h"
#include "kubelet/images.h"

namespace skiff::ctl {

namespace {

using kubelet::ImageStore;
using kubelet::ImageSummary;

constexpr const char* kUsage =
    "skiff image load FILE | skiff image ls [-q] | skiff image rm REF... [--data-dir DIR]";

// "docker.io/library/busybox:latest" -> "busybox:latest", as docker prints tags.
std::string familiarTag(const std::string& tag) {
  auto ref = kubelet::parseImageRef(tag);
  if (!ref) return tag;
  return ref->familiarName() + (ref->tag.empty() ? "" : ":" + ref->tag);
}

std::string shortId(const std::string& id) {
  return id.substr(id.find(':') + 1).substr(0, 12);
}

int fail(const std::string& message) {
  std::fprintf(stderr, "error: %s\n", message.c_str());
  return 1;
}

bool storeExists(const std::string& dir) {
  struct stat st;
  return ::stat(dir.c_str(), &st) == 0;
}

int load(const std::string& dir, const std::string& file) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return fail("mkdir " + dir + ": " + ec.message());
  auto store = ImageStore::open(dir);
  if (!store) return fail(store.error().message);
  auto loaded = (*store)->load(file);
  if (!loaded) return fail(loaded.error().message);
  for (const auto& img : *loaded) {
    if (img.repoTags.empty()) std::printf("Loaded image ID: %s\n", img.id.c_str());
    for (const auto& t : img.repoTags) std::printf("Loaded image: %s\n", familiarTag(t).c_str());
  }
  return 0;
}

int list(const std::string& dir, bool quiet) {
  std::vector<ImageSummary> images;
  if (storeExists(dir)) {
    auto store = ImageStore::open(dir);
    if (!store) return fail(store.error().message);
    auto all = (*store)->list();
    if (!all) return fail(all.error().message);
    images = std::move(*all);
  }
  if (quiet) {
    for (const auto& img : images) std::printf("%s\n", shortId(img.id).c_str());
    return 0;
  }
  std::vector<std::vector<std::string>> rows = {{"REPOSITORY", "TAG", "IMAGE ID", "SIZE"}};
  for (const auto& img : images) {
    std::string size = kubelet::humanSize(img.size);
    if (img.repoTags.empty()) rows.push_back({"<none>", "<none>", shortId(img.id), size});
    for (const auto& t : img.repoTags) {
      auto ref = kubelet::parseImageRef(t);
      if (!ref) continue;
      rows.push_back(
          {ref->familiarName(), ref->tag.empty() ? "<none>" : ref->tag, shortId(img.id), size});
    }
  }
  std::fputs(tabwrite(rows).c_str(), stdout);
  return 0;
}

int remove(const std::string& dir, const std::vector<std::string>& refs) {
  int rc = 0;
  std::unique_ptr<ImageStore> store;
  if (storeExists(dir)) {
    auto s = ImageStore::open(dir);
    if (!s) return fail(s.error().message);
    store = std::move(*s);
  }
  for (const auto& ref : refs) {
    if (!store) {
      rc = fail("image \"" + ref + "\" not found");
      continue;
    }
    auto removed = store->remove(ref);
    if (!removed) {
      rc = fail(removed.error().message);
      continue;
    }
    for (const auto& t : removed->untagged) std::printf("Untagged: %s\n", familiarTag(t).c_str());
    if (removed->deleted) std::printf("Deleted: %s\n", removed->image.id.c_str());
  }
  return rc;
}

}  // namespace

int runImageCommand(int argc, char** argv) {
  std::string dataDir = "/var/lib/skiff";
  std::string input;
  bool quiet = false, force = false, help = false;
  po::options_description desc;
  desc.add_options()("data-dir", po::value(&dataDir),
                     "skiff's data directory; images live in DATA/images (default /var/lib/skiff)")(
      "input,i", po::value(&input), "load: read from this archive instead of the argument")(
      "quiet,q", po::bool_switch(&quiet), "ls: only show image IDs")(
      "force,f", po::bool_switch(&force), "rm: accepted for docker compatibility")(
      "help,h", po::bool_switch(&help), "Help for this command");
  po::variables_map vm;
  std::vector<std::string> args;
  if (auto err = parseFlags(argc, argv, desc, vm, args); !err.empty()) {
    return usageError("image", err);
  }
  setLogLevel(LogLevel::kWarn);  // the store's info lines are for daemons, not this output
  if (help || args.empty()) {
    if (!help) return usageError("image", "a subcommand is required: load, ls or rm");
    printHelp(
        kUsage,
        "Load container images from docker save or OCI archives into the node's image "
        "store, list them, and remove them.",
        "  # Load an archive (docker save, podman save --format oci-archive)\n"
        "  skiff image load busybox.tar\n\n"
        "  # List images\n  skiff image ls\n\n"
        "  # Remove a tag (the image goes with its last tag)\n  skiff image rm busybox:latest",
        desc);
    return 0;
  }
  std::string sub = args[0];
  std::vector<std::string> rest(args.begin() + 1, args.end());
  std::string dir = dataDir + "/images";
  if (sub == "load") {
    if (!input.empty()) rest.insert(rest.begin(), input);
    if (rest.size() != 1) return usageError("image", "image load needs exactly one archive FILE");
    return load(dir, rest[0]);
  }
  if (sub == "ls" || sub == "list") {
    if (!rest.empty()) return usageError("image", "image ls takes no arguments");
    return list(dir, quiet);
  }
  if (sub == "rm" || sub == "remove" || sub == "rmi") {
    if (rest.empty()) return usageError("image", "image rm needs at least one image REF");
    return remove(dir, rest);
  }
  return usageError("image", "unknown subcommand \"" + sub + "\" (want load, ls or rm)");
}

}  // namespace skiff::ctl
