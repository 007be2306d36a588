#include "kubelet/process_spec.h"

#include <algorithm>
#include <charconv>

namespace skiff::kubelet {
namespace {

const char* kDefaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

using api::lenient::field;
std::string text(const api::Json& j, const char* key) { return api::lenient::str(j, key); }

std::vector<std::string> strings(const api::Json& j, const char* key) {
  std::vector<std::string> out;
  const api::Json& v = field(j, key);
  if (!v.is_array()) return out;
  for (const auto& s : v) {
    if (s.is_string()) out.push_back(s.get<std::string>());
  }
  return out;
}

bool flag(const api::Json& j, const char* key) {
  const api::Json& v = field(j, key);
  return v.is_boolean() && v.get<bool>();
}

// An ordered environment where a later KEY replaces an earlier one in place.
class EnvList {
 public:
  void set(const std::string& key, const std::string& value) {
    for (auto& kv : vars_) {
      if (kv.first == key) {
        kv.second = value;
        return;
      }
    }
    vars_.emplace_back(key, value);
  }
  void setEntry(const std::string& entry) {  // "KEY=value" (or "KEY")
    size_t eq = entry.find('=');
    if (eq == std::string::npos)
      set(entry, "");
    else
      set(entry.substr(0, eq), entry.substr(eq + 1));
  }
  const std::string* get(const std::string& key) const {
    for (const auto& kv : vars_) {
      if (kv.first == key) return &kv.second;
    }
    return nullptr;
  }
  const std::vector<std::pair<std::string, std::string>>& vars() const { return vars_; }

 private:
  std::vector<std::pair<std::string, std::string>> vars_;
};

std::string podRef(const api::Json& pod) {
  const api::Json& md = field(pod, "metadata");
  return text(md, "name") + "_" + text(md, "namespace") + "(" + text(md, "uid") + ")";
}

// Go's %q for the strings the kubelet quotes.
std::string quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? sep : "") + v[i];
  return out;
}

// fieldpath.FormatMap: sorted `key="value"` lines.
std::string formatMap(const api::Json& m) {
  std::vector<std::string> lines;
  if (m.is_object()) {
    for (const auto& [k, v] : m.items()) {
      lines.push_back(k + "=" + quote(v.is_string() ? v.get<std::string>() : v.dump()));
    }
  }
  std::sort(lines.begin(), lines.end());
  return join(lines, "\n");
}

// An int64 securityContext field, when present.
Result<std::optional<int64_t>> idField(const api::Json& sc, const api::Json& podSc,
                                       const char* key) {
  const api::Json* v = &field(sc, key);
  if (v->is_null()) v = &field(podSc, key);
  if (v->is_null()) return std::optional<int64_t>();
  if (!v->is_number_integer() || v->get<int64_t>() < 0 || v->get<int64_t>() > 2147483647) {
    return makeError(Code::kBadRequest,
                     std::string("securityContext.") + key + ": invalid id " + v->dump());
  }
  return std::optional<int64_t>(v->get<int64_t>());
}

std::optional<uint32_t> numericId(const std::string& s) {
  uint32_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

Result<std::optional<std::string>> keyRef(const api::Json& ref, const PodContext::DataLookup& fn,
                                          const char* kind, const char* what,
                                          const std::string& ns) {
  std::string name = text(ref, "name"), key = text(ref, "key");
  bool optional = flag(ref, "optional");
  if (!fn) return makeError(Code::kInternal, std::string(what) + " is not supported here");
  auto data = fn(name);
  if (!data) {
    if (data.error().code == Code::kNotFound && optional) return std::optional<std::string>();
    if (data.error().code == Code::kNotFound) {
      std::string lower = kind;
      std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
      return makeError(Code::kNotFound, lower + " " + quote(name) + " not found");
    }
    return data.error();
  }
  auto it = data->find(key);
  if (it == data->end()) {
    if (optional) return std::optional<std::string>();
    return makeError(Code::kNotFound,
                     "couldn't find key " + key + " in " + kind + " " + ns + "/" + name);
  }
  return std::optional<std::string>(it->second);
}

}  // namespace

std::string expandVars(const std::string& input,
                       const std::function<bool(const std::string&, std::string*)>& lookup) {
  std::string out;
  size_t checkpoint = 0;
  for (size_t cursor = 0; cursor < input.size(); ++cursor) {
    if (input[cursor] != '$' || cursor + 1 >= input.size()) continue;
    out += input.substr(checkpoint, cursor - checkpoint);
    char next = input[cursor + 1];
    size_t advance = 1;
    if (next == '$') {
      out += '$';  // escaped operator
    } else if (next == '(') {
      size_t close = input.find(')', cursor + 2);
      if (close == std::string::npos) {
        out += "$(";  // incomplete reference
      } else {
        std::string name = input.substr(cursor + 2, close - cursor - 2);
        std::string value;
        out += lookup(name, &value) ? value : "$(" + name + ")";
        advance = close - cursor;
      }
    } else {
      out += '$';
      out += next;
    }
    cursor += advance;
    checkpoint = cursor + 1;
  }
  return out + input.substr(std::min(checkpoint, input.size()));
}

Result<std::string> podFieldValue(const std::string& path, const PodContext& ctx) {
  const api::Json& md = field(ctx.pod, "metadata");
  const api::Json& spec = field(ctx.pod, "spec");
  if (path == "metadata.name") return text(md, "name");
  if (path == "metadata.namespace") return text(md, "namespace");
  if (path == "metadata.uid") return text(md, "uid");
  if (path == "metadata.labels") return formatMap(field(md, "labels"));
  if (path == "metadata.annotations") return formatMap(field(md, "annotations"));
  for (const char* m : {"labels", "annotations"}) {
    std::string prefix = std::string("metadata.") + m + "['";
    if (path.rfind(prefix, 0) == 0 && path.size() > prefix.size() + 2 &&
        path.compare(path.size() - 2, 2, "']") == 0) {
      std::string key = path.substr(prefix.size(), path.size() - prefix.size() - 2);
      return text(field(md, m), key.c_str());
    }
  }
  if (path == "spec.nodeName") {
    std::string n = text(spec, "nodeName");
    return n.empty() ? ctx.nodeName : n;
  }
  if (path == "spec.serviceAccountName") return text(spec, "serviceAccountName");
  if (path == "status.podIP") return ctx.podIPs.empty() ? "" : ctx.podIPs[0];
  if (path == "status.podIPs") return join(ctx.podIPs, ",");
  if (path == "status.hostIP") return ctx.hostIPs.empty() ? "" : ctx.hostIPs[0];
  if (path == "status.hostIPs") return join(ctx.hostIPs, ",");
  return makeError(Code::kBadRequest, "field label not supported: " + path);
}

Result<ProcessSpec> processSpec(const api::Json& container, const ImageConfig& image,
                                const PodContext& ctx) {
  const std::string ns = text(field(ctx.pod, "metadata"), "namespace");
  const std::string cname = text(container, "name");

  // The container's own variables (kubelet makeEnvironmentVariables): envFrom
  // first, then env in order, each value expanded against what came before.
  EnvList declared;
  const api::Json& envFrom = field(container, "envFrom");
  if (envFrom.is_array()) {
    for (const auto& src : envFrom) {
      std::string prefix = text(src, "prefix");
      bool isCm = src.contains("configMapRef");
      const api::Json& ref = field(src, isCm ? "configMapRef" : "secretRef");
      const auto& fn = isCm ? ctx.configMapData : ctx.secretData;
      if (!ref.is_object()) continue;
      if (!fn) return makeError(Code::kInternal, "envFrom is not supported here");
      auto data = fn(text(ref, "name"));
      if (!data) {
        if (data.error().code == Code::kNotFound && flag(ref, "optional")) continue;
        if (data.error().code == Code::kNotFound) {
          return makeError(Code::kNotFound, std::string(isCm ? "configmap " : "secret ") +
                                                quote(text(ref, "name")) + " not found");
        }
        return data.error();
      }
      for (const auto& [k, v] : *data) declared.set(prefix + k, v);
    }
  }
  auto lookupDeclared = [&](const std::string& name, std::string* out) {
    if (const std::string* v = declared.get(name)) {
      *out = *v;
      return true;
    }
    for (const auto& [k, v] : ctx.serviceEnv) {
      if (k == name) {
        *out = v;
        return true;
      }
    }
    return false;
  };
  const api::Json& env = field(container, "env");
  if (env.is_array()) {
    for (const auto& e : env) {
      std::string name = text(e, "name");
      std::string value = text(e, "value");
      const api::Json& from = field(e, "valueFrom");
      if (!value.empty()) {
        value = expandVars(value, lookupDeclared);
      } else if (from.is_object()) {
        if (from.contains("fieldRef")) {
          auto v = podFieldValue(text(from["fieldRef"], "fieldPath"), ctx);
          if (!v) return v.error();
          value = *v;
        } else if (from.contains("configMapKeyRef")) {
          auto v = keyRef(from["configMapKeyRef"], ctx.configMapData, "ConfigMap",
                          "configMapKeyRef", ns);
          if (!v) return v.error();
          if (!*v) continue;
          value = **v;
        } else if (from.contains("secretKeyRef")) {
          auto v = keyRef(from["secretKeyRef"], ctx.secretData, "Secret", "secretKeyRef", ns);
          if (!v) return v.error();
          if (!*v) continue;
          value = **v;
        } else if (from.contains("resourceFieldRef")) {
          return makeError(Code::kBadRequest,
                           "env " + name + ": valueFrom.resourceFieldRef is not supported");
        }
      }
      declared.set(name, value);
    }
  }
  EnvList containerEnv = declared;
  for (const auto& [k, v] : ctx.serviceEnv) {
    if (!declared.get(k)) containerEnv.set(k, v);
  }
  auto lookupAll = [&](const std::string& name, std::string* out) {
    if (const std::string* v = containerEnv.get(name)) {
      *out = *v;
      return true;
    }
    return false;
  };

  ProcessSpec ps;
  // argv: kubelet expands command and args; the runtime merges with the image.
  std::vector<std::string> command = strings(container, "command");
  std::vector<std::string> args = strings(container, "args");
  for (auto& s : command) s = expandVars(s, lookupAll);
  for (auto& s : args) s = expandVars(s, lookupAll);
  if (command.empty()) {
    if (args.empty()) args = image.cmd;
    command = image.entrypoint;
  }
  if (command.empty() && args.empty()) return makeError(Code::kBadRequest, "no command specified");
  ps.args = command;
  ps.args.insert(ps.args.end(), args.begin(), args.end());

  // env: runtime defaults, the image, then the container.
  EnvList final;
  final.setEntry(kDefaultPath);
  // kubelet GeneratePodHostNameAndDomain: spec.hostname, else the pod name, cut
  // to 63 characters without a trailing '-' or '.'.
  std::string hostname = ctx.hostname;
  if (hostname.empty()) hostname = text(field(ctx.pod, "spec"), "hostname");
  if (hostname.empty()) hostname = text(field(ctx.pod, "metadata"), "name");
  if (hostname.size() > 63) {
    hostname.resize(63);
    while (!hostname.empty() && (hostname.back() == '-' || hostname.back() == '.')) {
      hostname.pop_back();
    }
  }
  if (!hostname.empty()) final.set("HOSTNAME", hostname);
  for (const auto& e : image.env) final.setEntry(e);
  for (const auto& [k, v] : containerEnv.vars()) final.set(k, v);
  for (const auto& [k, v] : final.vars()) ps.env.push_back(k + "=" + v);

  ps.cwd = text(container, "workingDir");
  if (ps.cwd.empty()) ps.cwd = image.workingDir;
  if (ps.cwd.empty()) ps.cwd = "/";

  // user
  const api::Json& sc = field(container, "securityContext");
  const api::Json& podSc = field(field(ctx.pod, "spec"), "securityContext");
  auto runAsUser = idField(sc, podSc, "runAsUser");
  if (!runAsUser) return runAsUser.error();
  auto runAsGroup = idField(sc, podSc, "runAsGroup");
  if (!runAsGroup) return runAsGroup.error();
  const api::Json* nonRootField = &field(sc, "runAsNonRoot");
  if (nonRootField->is_null()) nonRootField = &field(podSc, "runAsNonRoot");
  bool runAsNonRoot = nonRootField->is_boolean() && nonRootField->get<bool>();
  std::string imageUser = image.user, imageGroup;
  if (size_t colon = imageUser.find(':'); colon != std::string::npos) {
    imageGroup = imageUser.substr(colon + 1);
    imageUser = imageUser.substr(0, colon);
  }
  std::optional<uint32_t> imageUid =
      imageUser.empty() ? std::optional<uint32_t>(0) : numericId(imageUser);
  const std::string pod = quote(podRef(ctx.pod));
  if (runAsNonRoot) {
    if (*runAsUser) {
      if (**runAsUser == 0) {
        return makeError(Code::kBadRequest, "container's runAsUser breaks non-root policy (pod: " +
                                                pod + ", container: " + cname + ")");
      }
    } else if (!imageUid) {
      return makeError(Code::kBadRequest,
                       "container has runAsNonRoot and image has non-numeric user (" + imageUser +
                           "), cannot verify user is non-root (pod: " + pod +
                           ", container: " + cname + ")");
    } else if (*imageUid == 0) {
      return makeError(Code::kBadRequest,
                       "container has runAsNonRoot and image will run as root (pod: " + pod +
                           ", container: " + cname + ")");
    }
  }
  if (*runAsUser) {
    ps.uid = static_cast<uint32_t>(**runAsUser);
  } else if (imageUid) {
    ps.uid = *imageUid;
  } else {
    return makeError(Code::kBadRequest, "container has non-numeric user (" + imageUser +
                                            ") in its image, which skiff cannot map to a uid; set "
                                            "securityContext.runAsUser (pod: " +
                                            pod + ", container: " + cname + ")");
  }
  if (*runAsGroup) {
    ps.gid = static_cast<uint32_t>(**runAsGroup);
  } else if (!imageGroup.empty()) {
    auto g = numericId(imageGroup);
    if (!g) {
      return makeError(Code::kBadRequest, "container has non-numeric group (" + imageGroup +
                                              ") in its image, which skiff cannot map to a gid; "
                                              "set securityContext.runAsGroup (pod: " +
                                              pod + ", container: " + cname + ")");
    }
    ps.gid = *g;
  }
  const api::Json& groups = field(podSc, "supplementalGroups");
  if (groups.is_array()) {
    for (const auto& g : groups) {
      if (g.is_number_integer() && g.get<int64_t>() >= 0 && g.get<int64_t>() <= 4294967295LL) {
        ps.additionalGids.push_back(static_cast<uint32_t>(g.get<int64_t>()));
      }
    }
  }
  const api::Json& fsGroup = field(podSc, "fsGroup");
  if (fsGroup.is_number_integer() && fsGroup.get<int64_t>() >= 0 &&
      fsGroup.get<int64_t>() <= 4294967295LL) {
    ps.additionalGids.push_back(static_cast<uint32_t>(fsGroup.get<int64_t>()));
  }
  std::sort(ps.additionalGids.begin(), ps.additionalGids.end());
  ps.additionalGids.erase(std::unique(ps.additionalGids.begin(), ps.additionalGids.end()),
                          ps.additionalGids.end());
  return ps;
}

}  // namespace skiff::kubelet
