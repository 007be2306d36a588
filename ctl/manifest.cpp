#include "ctl/manifest.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "ctl/yaml.h"

namespace skiff::ctl {
namespace fs = std::filesystem;
namespace {

void expandInto(const api::Json& obj, const std::string& source, std::vector<Manifest>& out) {
  if (obj.is_object()) {
    std::string kind = obj.value("kind", "");
    if (kind.size() >= 4 && kind.compare(kind.size() - 4, 4, "List") == 0 &&
        obj.contains("items") && obj["items"].is_array()) {
      for (const auto& item : obj["items"]) expandInto(item, source, out);
      return;
    }
    if (!obj.contains("kind") || !obj["kind"].is_string() ||
        obj["kind"].get<std::string>().empty()) {
      out.push_back(
          {source, makeError(Code::kBadRequest, "error validating \"" + source +
                                                    "\": error validating data: kind not set")});
      return;
    }
    if (!obj.contains("apiVersion") || !obj["apiVersion"].is_string()) {
      out.push_back({source, makeError(Code::kBadRequest,
                                       "error validating \"" + source +
                                           "\": error validating data: apiVersion not set")});
      return;
    }
    out.push_back({source, obj});
    return;
  }
  out.push_back(
      {source, makeError(Code::kBadRequest, "error parsing " + source +
                                                ": a manifest must be a YAML or JSON object")});
}

bool hasManifestExtension(const fs::path& p) {
  auto e = p.extension().string();
  return e == ".yaml" || e == ".yml" || e == ".json";
}

void readPath(const std::string& path, bool recursive, bool top, std::istream& in,
              std::vector<Manifest>& out) {
  if (path == "-") {
    std::ostringstream ss;
    ss << in.rdbuf();
    auto docs = parseManifestText(ss.str(), "STDIN");
    out.insert(out.end(), docs.begin(), docs.end());
    return;
  }
  std::error_code ec;
  auto st = fs::status(path, ec);
  if (ec || !fs::exists(st)) {
    out.push_back({path, makeError(Code::kNotFound, "the path \"" + path + "\" does not exist")});
    return;
  }
  if (fs::is_directory(st)) {
    std::vector<fs::path> entries;
    for (const auto& e : fs::directory_iterator(path, ec)) entries.push_back(e.path());
    std::sort(entries.begin(), entries.end());
    for (const auto& e : entries) {
      if (fs::is_directory(e)) {
        if (recursive) readPath(e.string(), recursive, false, in, out);
      } else if (hasManifestExtension(e)) {
        readPath(e.string(), recursive, false, in, out);
      }
    }
    return;
  }
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    out.push_back({path, makeError(Code::kBadRequest, "open " + path + ": permission denied")});
    return;
  }
  std::ostringstream ss;
  ss << f.rdbuf();
  auto docs = parseManifestText(ss.str(), path);
  out.insert(out.end(), docs.begin(), docs.end());
}

}  // namespace

std::vector<Manifest> parseManifestText(const std::string& text, const std::string& source) {
  std::vector<Manifest> out;
  auto first = text.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && (text[first] == '{' || text[first] == '[')) {
    // A JSON stream: one or more objects back to back.
    try {
      std::istringstream in(text);
      bool any = false;
      while (true) {
        in >> std::ws;
        if (in.peek() == EOF) break;
        api::Json j;
        in >> j;
        any = true;
        if (j.is_array()) {
          for (const auto& e : j) expandInto(e, source, out);
        } else {
          expandInto(j, source, out);
        }
      }
      if (any) return out;
    } catch (const std::exception& e) {
      out.clear();
      // Fall through to the YAML reader, which reads JSON as YAML and reports
      // the position of the problem.
    }
  }
  for (auto& d : parseYamlStream(text)) {
    if (!d.object) {
      out.push_back({source, makeError(Code::kBadRequest, "error parsing " + source + ": " +
                                                              d.object.error().message)});
      continue;
    }
    expandInto(*d.object, source, out);
  }
  return out;
}

std::vector<Manifest> readManifests(const std::vector<std::string>& paths, bool recursive,
                                    std::istream& stdinStream) {
  std::vector<Manifest> out;
  for (const auto& p : paths) readPath(p, recursive, true, stdinStream, out);
  return out;
}

}  // namespace skiff::ctl
