#include "ctl/objects.h"

#include <cstdio>
#include <thread>

#include "ctl/printers.h"

namespace skiff::ctl {

std::string BoundObject::word() const {
  return typeWord(type.kind, type.group) + "/" + name;
}

std::string ObjectRef::word() const {
  return typeWord(type.kind, type.group) + "/" + name;
}

Result<BoundObject> bindManifest(Cli& cli, const Json& object, const std::string& source,
                                 bool nameRequired) {
  auto d = cli.discovery();
  if (!d) return d.error();
  std::string apiVersion = object.value("apiVersion", ""), kind = object.value("kind", "");
  BoundObject b;
  b.source = source;
  b.object = object;
  std::string name, ns;
  if (object.contains("metadata") && object["metadata"].is_object()) {
    name = object["metadata"].value("name", "");
    ns = object["metadata"].value("namespace", "");
  }
  auto t = (*d)->forKind(apiVersion, kind);
  if (!t) {
    return makeError(Code::kNotFound, "resource mapping not found for name: \"" + name +
                                          "\" namespace: \"" + ns + "\" from \"" + source +
                                          "\": no matches for kind \"" + kind + "\" in version \"" +
                                          apiVersion + "\"\nensure CRDs are installed first");
  }
  b.type = *t;
  if (name.empty() && nameRequired)
    return makeError(Code::kBadRequest, "error when retrieving current configuration of " + kind +
                                            " from \"" + source +
                                            "\": resource name may not be empty");
  b.name = name;
  if (b.type.namespaced) {
    if (!ns.empty() && cli.namespaceExplicit() && ns != cli.ns())
      return makeError(Code::kBadRequest, "the namespace from the provided object \"" + ns +
                                              "\" does not match the namespace \"" + cli.ns() +
                                              "\". You must pass '--namespace=" + ns +
                                              "' to perform this operation.");
    b.ns = ns.empty() ? cli.ns() : ns;
    b.object["metadata"]["namespace"] = b.ns;
  }
  return b;
}

namespace {
// Go's encoding/json escapes <, > and & (and U+2028/2029) inside strings;
// kubectl's annotation text is that encoding, so match it byte for byte.
std::string goJson(const Json& v) {
  std::string in = v.dump(), out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '<')
      out += "\\u003c";
    else if (c == '>')
      out += "\\u003e";
    else if (c == '&')
      out += "\\u0026";
    else if (c == '\xe2' && i + 2 < in.size() && in[i + 1] == '\x80' &&
             (in[i + 2] == '\xa8' || in[i + 2] == '\xa9')) {
      out += in[i + 2] == '\xa8' ? "\\u2028" : "\\u2029";
      i += 2;
    } else
      out.push_back(c);
  }
  return out;
}
}  // namespace

Json withLastApplied(const Json& manifest) {
  Json obj = manifest;
  Json& meta = obj["metadata"];
  Json annotations = meta.contains("annotations") && meta["annotations"].is_object()
                         ? meta["annotations"]
                         : Json::object();
  annotations.erase(kLastApplied);
  meta["annotations"] = annotations;
  std::string text = goJson(obj) + "\n";
  meta["annotations"][kLastApplied] = text;
  return obj;
}

namespace {
const Json* findCondition(const Json& obj, const std::string& type) {
  if (!obj.contains("status") || !obj["status"].is_object()) return nullptr;
  const Json& st = obj["status"];
  if (!st.contains("conditions") || !st["conditions"].is_array()) return nullptr;
  for (const auto& c : st["conditions"])
    if (c.is_object() && c.value("type", "") == type) return &c;
  return nullptr;
}
std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
  return s;
}
}  // namespace

Result<Readiness> evaluateWaitFor(const std::string& forSpec, const Json* object) {
  Readiness r;
  if (forSpec == "delete") {
    r.done = object == nullptr;
    r.why = r.done ? "deleted" : "still exists";
    return r;
  }
  if (forSpec == "create") {
    r.done = object != nullptr;
    r.why = r.done ? "created" : "not created yet";
    return r;
  }
  if (forSpec.rfind("condition=", 0) == 0) {
    std::string cond = forSpec.substr(10), want = "true";
    if (auto eq = cond.find('='); eq != std::string::npos) {
      want = lower(cond.substr(eq + 1));
      cond = cond.substr(0, eq);
    }
    if (!object) {
      r.why = "not found";
      return r;
    }
    const Json* c = findCondition(*object, cond);
    // kubectl compares condition types case-insensitively.
    if (!c && object->contains("status") && (*object)["status"].contains("conditions"))
      for (const auto& x : (*object)["status"]["conditions"])
        if (lower(x.value("type", "")) == lower(cond)) c = &x;
    if (!c) {
      r.why = "no " + cond + " condition yet";
      return r;
    }
    r.done = lower(c->value("status", "")) == want;
    r.why = cond + "=" + c->value("status", "");
    if (!r.done && !c->value("reason", "").empty()) r.why += " (" + c->value("reason", "") + ")";
    return r;
  }
  if (forSpec.rfind("jsonpath=", 0) == 0) {
    std::string spec = forSpec.substr(9);
    // {.path}=value, or {.path} alone (any non-empty value).
    std::string expr = spec, want;
    bool hasWant = false;
    if (auto close = spec.rfind('}');
        close != std::string::npos && close + 1 < spec.size() && spec[close + 1] == '=') {
      expr = spec.substr(0, close + 1);
      want = spec.substr(close + 2);
      hasWant = true;
    } else if (spec.find('{') == std::string::npos) {
      auto eq = spec.find('=');
      if (eq != std::string::npos) {
        expr = "{" + spec.substr(0, eq) + "}";
        want = spec.substr(eq + 1);
        hasWant = true;
      } else {
        expr = "{" + spec + "}";
      }
    }
    if (!object) {
      r.why = "not found";
      return r;
    }
    auto v = jsonPath(expr, *object);
    if (!v) return v.error();
    r.done = hasWant ? *v == want : !v->empty();
    r.why = expr + "=" + *v;
    return r;
  }
  return makeError(Code::kBadRequest, "unrecognized condition: \"" + forSpec + "\"");
}

std::string defaultWaitFor(const std::string& kind) {
  if (kind == "Pod") return "condition=Ready";
  if (kind == "Deployment") return "condition=Available";
  if (kind == "ReplicaSet") return "jsonpath={.status.readyReplicas}";
  return "";
}

std::vector<size_t> waitForAll(Cli& cli, const std::vector<std::string>& paths,
                               const std::vector<std::string>& words,
                               const std::vector<std::string>& forSpecs,
                               std::chrono::milliseconds timeout,
                               const std::function<void(size_t)>& onDone, Error* error) {
  auto c = cli.client();
  std::vector<size_t> pending;
  if (!c) {
    if (error) *error = c.error();
    for (size_t i = 0; i < paths.size(); ++i) pending.push_back(i);
    return pending;
  }
  for (size_t i = 0; i < paths.size(); ++i) pending.push_back(i);
  std::vector<std::string> why(paths.size());
  bool tty = stdoutIsTerminal();
  size_t drawn = 0;
  auto start = std::chrono::steady_clock::now();
  auto deadline = start + timeout;
  auto clear = [&] {
    if (!tty) return;
    for (size_t k = 0; k < drawn; ++k) std::fputs("\033[1A\033[2K", stdout);
    drawn = 0;
  };
  while (true) {
    std::vector<size_t> still;
    for (size_t i : pending) {
      auto r = (*c)->get(paths[i]);
      const Json* obj = nullptr;
      Json holder;
      if (r) {
        holder = std::move(*r);
        obj = &holder;
      } else if (r.error().code != Code::kNotFound) {
        if (error) *error = r.error();
        clear();
        return pending;
      }
      auto rd = evaluateWaitFor(forSpecs[i], obj);
      if (!rd) {
        if (error) *error = rd.error();
        clear();
        return pending;
      }
      why[i] = rd->why;
      if (rd->done) {
        clear();
        onDone(i);
      } else {
        still.push_back(i);
      }
    }
    pending = std::move(still);
    if (pending.empty()) return pending;
    if (std::chrono::steady_clock::now() >= deadline) {
      clear();
      return pending;
    }
    if (tty) {
      clear();
      double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      for (size_t i : pending) {
        std::printf("waiting for %s: %s (%.0fs)\n", words[i].c_str(), why[i].c_str(), secs);
        ++drawn;
      }
      std::fflush(stdout);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

std::vector<size_t> waitForAllReporting(Cli& cli, const std::vector<std::string>& paths,
                                        const std::vector<std::string>& words,
                                        const std::vector<std::string>& forSpecs,
                                        std::chrono::milliseconds timeout, Error* error) {
  return waitForAll(
      cli, paths, words, forSpecs, timeout,
      [&](size_t i) {
        std::printf("%s condition met\n", words[i].c_str());
        std::fflush(stdout);
      },
      error);
}

Result<bool> waitForAllOrComplain(Cli& cli, const std::vector<std::string>& paths,
                                  const std::vector<std::string>& words,
                                  const std::vector<std::string>& forSpecs,
                                  std::chrono::milliseconds timeout, bool reportMet) {
  Error err;
  auto left = reportMet ? waitForAllReporting(cli, paths, words, forSpecs, timeout, &err)
                        : waitForAll(
                              cli, paths, words, forSpecs, timeout, [](size_t) {}, &err);
  if (!err.message.empty()) return err;
  for (size_t i : left)
    std::fprintf(stderr, "error: timed out waiting for the condition on %s\n", words[i].c_str());
  return left.empty();
}

}  // namespace skiff::ctl
