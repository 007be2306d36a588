// Pod validation, as pkg/apis/core/validation's ValidatePodSpec and
// ValidatePodUpdate: containers, ports, env, resources, probes, volumes, and
// the short list of pod spec fields an update may change.
#include <algorithm>
#include <cstring>
#include <map>
#include <set>
#include <sstream>

#include "api/validation.h"
#include "api/validation_internal.h"

namespace skiff::api::detail {

namespace {

long long intOf(const Json* v, long long dflt = 0) {
  return v && v->is_number_integer() ? v->get<long long>() : dflt;
}

Cause notFound(const std::string& field, const Json& value) {
  return {"FieldValueNotFound", field, "Not found: " + value.dump()};
}

void nonNegative(const Json& obj, const char* name, const std::string& path, FieldErrors& errs) {
  const Json* v = get(obj, name);
  if (v && v->is_number_integer() && v->get<long long>() < 0) {
    errs.push_back(invalid(child(path, name), *v, "must be greater than or equal to 0"));
  }
}

// Kubernetes lists most supported values from a sorted set (sets.List), so
// the texts name them in alphabetical order; `keepOrder` is for the few
// places that list them by hand.
void checkEnum(const Json& obj, const char* name, const std::string& path,
               std::initializer_list<std::string_view> allowed, bool requiredField,
               FieldErrors& errs, bool keepOrder = false) {
  const Json* value = get(obj, name);
  std::string_view v = value && value->is_string()
                           ? std::string_view(value->get_ref<const std::string&>())
                           : std::string_view();
  if (v.empty()) {
    if (requiredField) errs.push_back(required(child(path, name)));
    return;
  }
  if (std::find(allowed.begin(), allowed.end(), v) == allowed.end()) {
    std::vector<std::string> supported(allowed.begin(), allowed.end());
    if (!keepOrder) std::sort(supported.begin(), supported.end());
    errs.push_back(notSupported(child(path, name), std::string(v), supported));
  }
}

void validatePortNumOrName(const Json& port, const std::string& path, FieldErrors& errs) {
  if (port.is_number_integer()) {
    for (const std::string& m : isInRange(port.get<long long>(), 1, 65535)) {
      errs.push_back(invalid(path, port, m));
    }
  } else if (port.is_string()) {
    std::string s = port.get<std::string>();
    if (s.empty()) {
      errs.push_back(required(path));
    } else {
      for (const std::string& m : isValidPortName(s)) errs.push_back(invalid(path, port, m));
    }
  }
}

void validateHandler(const Json& h, const std::string& path, bool isProbe, FieldErrors& errs) {
  int handlers = 0;
  for (const char* k : {"exec", "httpGet", "tcpSocket", "grpc", "sleep"}) {
    const Json* v = get(h, k);
    if (!v) continue;
    if (++handlers > 1) {
      errs.push_back(forbidden(child(path, k), "may not specify more than 1 handler type"));
      continue;
    }
    std::string p = child(path, k);
    if (std::string(k) == "exec") {
      const Json* cmd = get(*v, "command");
      if (!cmd || !cmd->is_array() || cmd->empty()) errs.push_back(required(child(p, "command")));
    } else if (std::string(k) == "httpGet" || std::string(k) == "tcpSocket") {
      const Json* port = get(*v, "port");
      if (!port) {
        errs.push_back(required(child(p, "port")));
      } else {
        validatePortNumOrName(*port, child(p, "port"), errs);
      }
      if (std::string(k) == "httpGet") {
        checkEnum(*v, "scheme", p, {"HTTP", "HTTPS"}, false, errs);
      }
    } else if (std::string(k) == "grpc") {
      for (const std::string& m : isInRange(intOf(get(*v, "port")), 1, 65535)) {
        errs.push_back(invalid(child(p, "port"), intOf(get(*v, "port")), m));
      }
    }
  }
  if (handlers == 0) errs.push_back(required(path, "must specify a handler type"));
}

void validateProbe(const Json& c, const char* name, const std::string& cpath, FieldErrors& errs) {
  const Json* probe = get(c, name);
  if (!probe || !probe->is_object()) return;
  std::string p = child(cpath, name);
  validateHandler(*probe, p, true, errs);
  for (const char* f : {"initialDelaySeconds", "timeoutSeconds", "periodSeconds",
                        "successThreshold", "failureThreshold"}) {
    nonNegative(*probe, f, p, errs);
  }
  const Json* st = get(*probe, "successThreshold");
  if (std::string(name) != "readinessProbe" && st && intOf(st) != 1 && intOf(st) >= 0) {
    errs.push_back(invalid(child(p, "successThreshold"), *st, "must be 1"));
  }
  if (std::string(name) == "readinessProbe" && get(*probe, "terminationGracePeriodSeconds")) {
    errs.push_back(invalid(child(p, "terminationGracePeriodSeconds"),
                           *get(*probe, "terminationGracePeriodSeconds"),
                           "must not be set for readinessProbes"));
  }
}

std::string quantityText(const Json& q) {
  return q.is_string() ? q.get<std::string>() : q.dump();
}

// As validateContainerResourceName: standard names, or qualified extended ones.
void validateResourceName(const std::string& name, const std::string& path, FieldErrors& errs) {
  static const std::vector<std::string> standard = {"cpu", "memory", "ephemeral-storage"};
  if (std::find(standard.begin(), standard.end(), name) != standard.end() ||
      name.rfind("hugepages-", 0) == 0) {
    return;
  }
  for (const std::string& m : isQualifiedName(name)) errs.push_back(invalid(path, name, m));
  if (name.find('/') == std::string::npos) {
    errs.push_back(invalid(path, name, "must be a standard resource for containers"));
  }
}

void validateResources(const Json& c, const std::string& cpath, FieldErrors& errs) {
  const Json* res = get(c, "resources");
  if (!res || !res->is_object()) return;
  std::string p = child(cpath, "resources");
  std::map<std::string, double> limits;
  for (const char* kind : {"limits", "requests"}) {
    const Json* m = get(*res, kind);
    if (!m || !m->is_object()) continue;
    for (auto it = m->begin(); it != m->end(); ++it) {
      std::string fp = key(child(p, kind), it.key());
      validateResourceName(it.key(), fp, errs);
      std::string err;
      std::optional<double> q = parseQuantity(it.value(), &err);
      if (!q) {
        errs.push_back(invalid(fp, it.value(), err));
        continue;
      }
      if (*q < 0) {
        errs.push_back(invalid(fp, quantityText(it.value()), "must be greater than or equal to 0"));
        continue;
      }
      if (std::string(kind) == "limits") {
        limits[it.key()] = *q;
      } else if (auto l = limits.find(it.key()); l != limits.end() && *q > l->second) {
        const Json& lim = (*get(*res, "limits"))[it.key()];
        // Kubernetes names the requests map here, not the key.
        errs.push_back(invalid(
            child(p, kind), quantityText(it.value()),
            "must be less than or equal to " + it.key() + " limit of " + quantityText(lim)));
      }
    }
  }
}

void validateEnv(const Json& c, const std::string& cpath, FieldErrors& errs) {
  const Json* env = get(c, "env");
  if (!env || !env->is_array()) return;
  for (size_t i = 0; i < env->size(); ++i) {
    const Json& e = (*env)[i];
    std::string p = index(child(cpath, "env"), i);
    std::string name = getString(e, "name");
    if (name.empty()) {
      errs.push_back(required(child(p, "name")));
    } else {
      bool ok = true;
      for (char ch : name) ok = ok && ch >= 32 && ch < 127 && ch != '=';
      if (!ok) {
        errs.push_back(invalid(child(p, "name"), name,
                               "a valid environment variable name must consist only of printable "
                               "ASCII characters other than '='"));
      }
    }
    const Json* vf = get(e, "valueFrom");
    if (!vf) continue;
    std::string vp = child(p, "valueFrom");
    if (!getString(e, "value").empty()) {
      errs.push_back(invalid(vp, "", "may not be specified when `value` is not empty"));
    }
    int sources = 0;
    for (const char* s : {"fieldRef", "resourceFieldRef", "configMapKeyRef", "secretKeyRef"}) {
      const Json* src = get(*vf, s);
      if (!src) continue;
      ++sources;
      std::string sp = child(vp, s);
      if (std::string(s) == "fieldRef") {
        if (getString(*src, "fieldPath").empty()) errs.push_back(required(child(sp, "fieldPath")));
      } else if (std::string(s) == "resourceFieldRef") {
        if (getString(*src, "resource").empty()) errs.push_back(required(child(sp, "resource")));
      } else {
        if (getString(*src, "key").empty()) errs.push_back(required(child(sp, "key")));
        if (getString(*src, "name").empty()) errs.push_back(required(child(sp, "name")));
      }
    }
    if (sources == 0) {
      errs.push_back(invalid(vp, "",
                             "must specify one of: `fieldRef`, `resourceFieldRef`, "
                             "`configMapKeyRef` or `secretKeyRef`"));
    } else if (sources > 1) {
      errs.push_back(invalid(vp, "", "may not have more than one field specified at a time"));
    }
  }
}

void validateContainer(const Json& c, const std::string& p, const std::set<std::string>& volumes,
                       bool hostNetwork, std::set<std::string>& portNames, FieldErrors& errs) {
  std::string name = getString(c, "name");
  if (name.empty()) {
    errs.push_back(required(child(p, "name")));
  } else {
    for (const std::string& m : isDns1123Label(name))
      errs.push_back(invalid(child(p, "name"), name, m));
  }
  if (getString(c, "image").empty()) errs.push_back(required(child(p, "image")));
  if (const Json* ports = get(c, "ports"); ports && ports->is_array()) {
    for (size_t i = 0; i < ports->size(); ++i) {
      const Json& port = (*ports)[i];
      std::string pp = index(child(p, "ports"), i);
      std::string pn = getString(port, "name");
      if (!pn.empty()) {
        for (const std::string& m : isValidPortName(pn))
          errs.push_back(invalid(child(pp, "name"), pn, m));
        if (!portNames.insert(pn).second) errs.push_back(duplicate(child(pp, "name"), pn));
      }
      const Json* cp = get(port, "containerPort");
      if (intOf(cp) == 0) {
        errs.push_back(required(child(pp, "containerPort")));
      } else {
        for (const std::string& m : isInRange(intOf(cp), 1, 65535)) {
          errs.push_back(invalid(child(pp, "containerPort"), *cp, m));
        }
      }
      const Json* hp = get(port, "hostPort");
      if (intOf(hp) != 0) {
        for (const std::string& m : isInRange(intOf(hp), 1, 65535)) {
          errs.push_back(invalid(child(pp, "hostPort"), *hp, m));
        }
        if (hostNetwork && intOf(hp) != intOf(cp)) {
          errs.push_back(invalid(child(pp, "hostPort"), *hp,
                                 "must match `containerPort` when `hostNetwork` is true"));
        }
      }
      checkEnum(port, "protocol", pp, {"SCTP", "TCP", "UDP"}, true, errs);
    }
  }
  validateEnv(c, p, errs);
  validateResources(c, p, errs);
  if (const Json* mounts = get(c, "volumeMounts"); mounts && mounts->is_array()) {
    std::set<std::string> paths;
    for (size_t i = 0; i < mounts->size(); ++i) {
      const Json& m = (*mounts)[i];
      std::string mp = index(child(p, "volumeMounts"), i);
      std::string vname = getString(m, "name");
      if (vname.empty()) {
        errs.push_back(required(child(mp, "name")));
      } else if (!volumes.count(vname)) {
        errs.push_back(notFound(child(mp, "name"), vname));
      }
      std::string path = getString(m, "mountPath");
      if (path.empty()) {
        errs.push_back(required(child(mp, "mountPath")));
      } else if (!paths.insert(path).second) {
        errs.push_back(invalid(child(mp, "mountPath"), path, "must be unique"));
      }
      checkEnum(m, "mountPropagation", mp, {"Bidirectional", "HostToContainer", "None"}, false,
                errs);
    }
  }
  validateProbe(c, "livenessProbe", p, errs);
  validateProbe(c, "readinessProbe", p, errs);
  validateProbe(c, "startupProbe", p, errs);
  if (const Json* lc = get(c, "lifecycle")) {
    for (const char* h : {"postStart", "preStop"}) {
      if (const Json* handler = get(*lc, h)) {
        validateHandler(*handler, child(child(p, "lifecycle"), h), false, errs);
      }
    }
  }
  checkEnum(c, "imagePullPolicy", p, {"Always", "IfNotPresent", "Never"}, true, errs);
  checkEnum(c, "terminationMessagePolicy", p, {"File", "FallbackToLogsOnError"}, true, errs);
}

// Kubernetes' validateLocalNonReservedPath, for a file's path inside a volume.
void validateVolumeFilePath(const Json& holder, const std::string& p, FieldErrors& errs) {
  std::string path = getString(holder, "path");
  std::string at = child(p, "path");
  if (path.empty()) {
    errs.push_back(required(at));
    return;
  }
  if (path[0] == '/') errs.push_back(invalid(at, path, "must be a relative path"));
  std::stringstream parts(path);
  for (std::string part; std::getline(parts, part, '/');) {
    if (part != "..") continue;
    errs.push_back(invalid(at, path, "must not contain '..'"));
    break;
  }
  if (path.rfind("..", 0) == 0) errs.push_back(invalid(at, path, "must not start with '..'"));
}

void validateFileMode(const Json& holder, const char* key, const std::string& p,
                      FieldErrors& errs) {
  const Json* m = get(holder, key);
  if (!m || m->is_null()) return;
  if (!m->is_number_integer() || m->get<long long>() < 0 || m->get<long long>() > 0777)
    errs.push_back(
        invalid(child(p, key), *m, "must be a number between 0 and 0777 (octal), both inclusive"));
}

// A configMap or secret source's items.
void validateKeyToPaths(const Json& source, const std::string& p, FieldErrors& errs) {
  const Json* items = get(source, "items");
  if (!items || !items->is_array()) return;
  for (size_t i = 0; i < items->size(); ++i) {
    std::string ip = index(child(p, "items"), i);
    if (getString((*items)[i], "key").empty()) errs.push_back(required(child(ip, "key")));
    validateVolumeFilePath((*items)[i], ip, errs);
    validateFileMode((*items)[i], "mode", ip, errs);
  }
}

// A downwardAPI source's items: the pod fields a file may hold.
void validateDownwardAPIItems(const Json& source, const std::string& p, FieldErrors& errs) {
  static const std::vector<std::string> fields = {"metadata.annotations", "metadata.labels",
                                                  "metadata.name", "metadata.namespace",
                                                  "metadata.uid"};
  const Json* items = get(source, "items");
  if (!items || !items->is_array()) return;
  for (size_t i = 0; i < items->size(); ++i) {
    const Json& item = (*items)[i];
    std::string ip = index(child(p, "items"), i);
    validateVolumeFilePath(item, ip, errs);
    validateFileMode(item, "mode", ip, errs);
    const Json* ref = get(item, "fieldRef");
    if (!ref && !get(item, "resourceFieldRef")) {
      errs.push_back(required(ip, "one of fieldRef and resourceFieldRef is required"));
      continue;
    }
    if (!ref) continue;
    std::string fp = getString(*ref, "fieldPath");
    std::string at = child(child(ip, "fieldRef"), "fieldPath");
    bool subscript = false;
    for (const char* m : {"metadata.labels['", "metadata.annotations['"})
      subscript = subscript || (fp.rfind(m, 0) == 0 && fp.size() > std::strlen(m) + 2 &&
                                fp.compare(fp.size() - 2, 2, "']") == 0);
    if (fp.empty()) {
      errs.push_back(required(at));
    } else if (!subscript && std::find(fields.begin(), fields.end(), fp) == fields.end()) {
      errs.push_back(notSupported(at, fp, fields));
    }
  }
}

std::set<std::string> validateVolumes(const Json& spec, const std::string& path,
                                      FieldErrors& errs) {
  std::set<std::string> names;
  const Json* vols = get(spec, "volumes");
  if (!vols || !vols->is_array()) return names;
  for (size_t i = 0; i < vols->size(); ++i) {
    const Json& v = (*vols)[i];
    std::string p = index(child(path, "volumes"), i);
    std::string name = getString(v, "name");
    if (name.empty()) {
      errs.push_back(required(child(p, "name")));
    } else {
      for (const std::string& m : isDns1123Label(name))
        errs.push_back(invalid(child(p, "name"), name, m));
      if (!names.insert(name).second) errs.push_back(duplicate(child(p, "name"), name));
    }
    int sources = 0;
    for (const char* s : kVolumeSources) {
      if (!get(v, s)) continue;
      if (++sources > 1) {
        errs.push_back(forbidden(child(p, s), "may not specify more than 1 volume type"));
      }
    }
    if (sources == 0) errs.push_back(required(p, "must specify a volume type"));
    if (const Json* hp = get(v, "hostPath")) {
      if (getString(*hp, "path").empty())
        errs.push_back(required(child(child(p, "hostPath"), "path")));
      const Json* t = get(*hp, "type");
      if (t && t->is_string()) {
        static const std::vector<std::string> types = {
            "",       "DirectoryOrCreate", "Directory",  "FileOrCreate", "File",
            "Socket", "CharDevice",        "BlockDevice"};
        if (std::find(types.begin(), types.end(), t->get<std::string>()) == types.end()) {
          errs.push_back(notSupported(child(child(p, "hostPath"), "type"), *t, types));
        }
      }
    }
    if (const Json* cm = get(v, "configMap"); cm && cm->is_object()) {
      std::string cp = child(p, "configMap");
      if (getString(*cm, "name").empty()) errs.push_back(required(child(cp, "name")));
      validateFileMode(*cm, "defaultMode", cp, errs);
      validateKeyToPaths(*cm, cp, errs);
    }
    if (const Json* sec = get(v, "secret"); sec && sec->is_object()) {
      std::string sp = child(p, "secret");
      if (getString(*sec, "secretName").empty()) errs.push_back(required(child(sp, "secretName")));
      validateFileMode(*sec, "defaultMode", sp, errs);
      validateKeyToPaths(*sec, sp, errs);
    }
    if (const Json* down = get(v, "downwardAPI"); down && down->is_object()) {
      std::string dp = child(p, "downwardAPI");
      validateFileMode(*down, "defaultMode", dp, errs);
      validateDownwardAPIItems(*down, dp, errs);
    }
    if (const Json* proj = get(v, "projected"); proj && proj->is_object()) {
      std::string pp = child(p, "projected");
      validateFileMode(*proj, "defaultMode", pp, errs);
      const Json* sources = get(*proj, "sources");
      for (size_t j = 0; sources && sources->is_array() && j < sources->size(); ++j) {
        const Json& src = (*sources)[j];
        std::string sp = index(child(pp, "sources"), j);
        int kinds = 0;
        for (const char* k :
             {"configMap", "secret", "downwardAPI", "serviceAccountToken", "clusterTrustBundle"}) {
          if (!get(src, k)) continue;
          if (++kinds > 1)
            errs.push_back(forbidden(child(sp, k), "may not specify more than 1 volume type"));
        }
        for (const char* k : {"configMap", "secret"}) {
          const Json* o = get(src, k);
          if (!o || !o->is_object()) continue;
          if (getString(*o, "name").empty()) errs.push_back(required(child(child(sp, k), "name")));
          validateKeyToPaths(*o, child(sp, k), errs);
        }
        if (const Json* d = get(src, "downwardAPI"); d && d->is_object())
          validateDownwardAPIItems(*d, child(sp, "downwardAPI"), errs);
        if (const Json* t = get(src, "serviceAccountToken"); t && t->is_object()) {
          std::string tp = child(sp, "serviceAccountToken");
          validateVolumeFilePath(*t, tp, errs);
          const Json* secs = get(*t, "expirationSeconds");
          if (secs && secs->is_number_integer() && secs->get<long long>() < 600)
            errs.push_back(invalid(child(tp, "expirationSeconds"), *secs,
                                   "may not specify a duration less than 10 minutes"));
          if (secs && secs->is_number_integer() && secs->get<long long>() > (1LL << 32))
            errs.push_back(invalid(child(tp, "expirationSeconds"), *secs,
                                   "may not specify a duration larger than 2^32 seconds"));
        }
      }
    }
    if (const Json* pvc = get(v, "persistentVolumeClaim");
        pvc && getString(*pvc, "claimName").empty()) {
      errs.push_back(required(child(child(p, "persistentVolumeClaim"), "claimName")));
    }
  }
  return names;
}

// The first path at which two JSON values differ, for the "may not change" text.
std::string firstDiff(const Json& a, const Json& b, const std::string& path) {
  if (a.type() != b.type()) return path;
  if (a.is_object()) {
    for (auto it = a.begin(); it != a.end(); ++it) {
      if (!b.contains(it.key())) return child(path, it.key());
      std::string d = firstDiff(it.value(), b[it.key()], child(path, it.key()));
      if (!d.empty()) return d;
    }
    for (auto it = b.begin(); it != b.end(); ++it) {
      if (!a.contains(it.key())) return child(path, it.key());
    }
    return "";
  }
  if (a.is_array()) {
    if (a.size() != b.size()) return path;
    for (size_t i = 0; i < a.size(); ++i) {
      std::string d = firstDiff(a[i], b[i], index(path, i));
      if (!d.empty()) return d;
    }
    return "";
  }
  return a == b ? "" : path;
}

}  // namespace

void validatePodSpec(const Json& spec, const std::string& path, FieldErrors& errs) {
  std::set<std::string> volumes = validateVolumes(spec, path, errs);
  const Json* hn = get(spec, "hostNetwork");
  bool hostNetwork = hn && hn->is_boolean() && hn->get<bool>();
  std::set<std::string> containerNames, portNames;
  const Json* containers = get(spec, "containers");
  if (!containers || !containers->is_array() || containers->empty()) {
    errs.push_back(required(child(path, "containers")));
  }
  for (const char* list : {"initContainers", "containers"}) {
    const Json* cs = get(spec, list);
    if (!cs || !cs->is_array()) continue;
    for (size_t i = 0; i < cs->size(); ++i) {
      const Json& c = (*cs)[i];
      std::string p = index(child(path, list), i);
      validateContainer(c, p, volumes, hostNetwork, portNames, errs);
      std::string name = getString(c, "name");
      if (!name.empty() && !containerNames.insert(name).second) {
        errs.push_back(duplicate(child(p, "name"), name));
      }
    }
  }
  checkEnum(spec, "restartPolicy", path, {"Always", "OnFailure", "Never"}, true, errs);
  checkEnum(spec, "dnsPolicy", path, {"ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"},
            true, errs);
  if (getString(spec, "dnsPolicy") == "None" && !get(spec, "dnsConfig")) {
    errs.push_back(
        required(child(path, "dnsConfig"), "must provide `dnsConfig` when `dnsPolicy` is None"));
  }
  if (const Json* ads = get(spec, "activeDeadlineSeconds")) {
    for (const std::string& m : isInRange(intOf(ads), 1, 2147483647)) {
      errs.push_back(invalid(child(path, "activeDeadlineSeconds"), *ads, m));
    }
  }
  nonNegative(spec, "terminationGracePeriodSeconds", path, errs);
  if (const Json* ns = get(spec, "nodeSelector"))
    validateLabels(*ns, child(path, "nodeSelector"), errs);
  for (const char* f : {"hostname", "subdomain"}) {
    std::string v = getString(spec, f);
    if (v.empty()) continue;
    for (const std::string& m : isDns1123Label(v)) errs.push_back(invalid(child(path, f), v, m));
  }
  for (const char* f : {"serviceAccountName", "nodeName", "priorityClassName"}) {
    std::string v = getString(spec, f);
    if (v.empty()) continue;
    for (const std::string& m : isDns1123Subdomain(v))
      errs.push_back(invalid(child(path, f), v, m));
  }
  if (const Json* tols = get(spec, "tolerations"); tols && tols->is_array()) {
    for (size_t i = 0; i < tols->size(); ++i) {
      const Json& t = (*tols)[i];
      std::string p = index(child(path, "tolerations"), i);
      std::string k = getString(t, "key");
      if (!k.empty()) {
        for (const std::string& m : isQualifiedName(k))
          errs.push_back(invalid(child(p, "key"), k, m));
      }
      std::string op = getString(t, "operator");
      if (op.empty() && k.empty()) {
        errs.push_back(invalid(child(p, "operator"), op,
                               "operator must be Exists when `key` is empty, which means \"match "
                               "all values and all keys\""));
      }
      if (op == "Exists" && !getString(t, "value").empty()) {
        errs.push_back(invalid(child(p, "operator"), getString(t, "value"),
                               "value must be empty when `operator` is 'Exists'"));
      } else if (!op.empty() && op != "Equal" && op != "Exists") {
        errs.push_back(notSupported(child(p, "operator"), op, {"Equal", "Exists"}));
      }
      checkEnum(t, "effect", p, {"NoSchedule", "PreferNoSchedule", "NoExecute"}, false, errs,
                /*keepOrder=*/true);
      if (get(t, "tolerationSeconds") && getString(t, "effect") != "NoExecute") {
        errs.push_back(invalid(child(p, "effect"), getString(t, "effect"),
                               "effect must be 'NoExecute' when `tolerationSeconds` is set"));
      }
    }
  }
  if (const Json* ips = get(spec, "imagePullSecrets"); ips && ips->is_array()) {
    for (size_t i = 0; i < ips->size(); ++i) {
      if (getString((*ips)[i], "name").empty()) {
        errs.push_back(required(child(index(child(path, "imagePullSecrets"), i), "name")));
      }
    }
  }
  if (const Json* ha = get(spec, "hostAliases"); ha && ha->is_array()) {
    for (size_t i = 0; i < ha->size(); ++i) {
      std::string ip = getString((*ha)[i], "ip");
      if (!isIP(ip)) {
        errs.push_back(invalid(child(index(child(path, "hostAliases"), i), "ip"), ip,
                               "must be valid IP address"));
      }
    }
  }
  checkEnum(spec, "preemptionPolicy", path, {"Never", "PreemptLowerPriority"}, false, errs);
}

void validatePodSpecUpdate(const Json& spec, const Json& oldSpec, const std::string& path,
                           FieldErrors& errs) {
  // Start from the old spec, take over what may change, and compare the rest.
  Json munged = oldSpec;
  for (const char* list : {"containers", "initContainers"}) {
    const Json* now = get(spec, list);
    if (!now || !now->is_array() || !munged.contains(list) || !munged[list].is_array()) continue;
    if (now->size() != munged[list].size()) continue;
    for (size_t i = 0; i < now->size(); ++i) {
      if ((*now)[i].is_object() && (*now)[i].contains("image")) {
        munged[list][i]["image"] = (*now)[i]["image"];
      }
    }
  }
  const Json* ads = get(spec, "activeDeadlineSeconds");
  const Json* oldAds = get(oldSpec, "activeDeadlineSeconds");
  if (ads) {
    munged["activeDeadlineSeconds"] = *ads;
    if (oldAds && intOf(ads) > intOf(oldAds)) {
      errs.push_back(invalid(child(path, "activeDeadlineSeconds"), *ads,
                             "must be less than or equal to previous value"));
    }
  } else if (oldAds) {
    errs.push_back(invalid(child(path, "activeDeadlineSeconds"), nullptr,
                           "must not update from a positive integer to nil value"));
    munged.erase("activeDeadlineSeconds");
  }
  // Tolerations: only additions.
  const Json* tols = get(spec, "tolerations");
  const Json* oldTols = get(oldSpec, "tolerations");
  bool superset = true;
  if (oldTols && oldTols->is_array()) {
    for (const Json& t : *oldTols) {
      if (!tols || !tols->is_array() || std::find(tols->begin(), tols->end(), t) == tols->end()) {
        superset = false;
      }
    }
  }
  if (superset) {
    if (tols) munged["tolerations"] = *tols;
  }
  // terminationGracePeriodSeconds may go from negative to 1.
  const Json* tgp = get(spec, "terminationGracePeriodSeconds");
  const Json* oldTgp = get(oldSpec, "terminationGracePeriodSeconds");
  if (tgp && oldTgp && intOf(oldTgp) < 0 && intOf(tgp) == 1)
    munged["terminationGracePeriodSeconds"] = 1;

  if (munged != spec) {
    std::string diff = firstDiff(munged, spec, path);
    errs.push_back(forbidden(
        path,
        "pod updates may not change fields other than `spec.containers[*].image`,"
        "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only "
        "additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be "
        "set to 1 if it was previously negative)\n  changed: " +
            diff));
  }
}

}  // namespace skiff::api::detail
