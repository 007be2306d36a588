// Object metadata, labels and selectors (apimachinery's ValidateObjectMeta and
// metav1 validation), and the per-kind dispatch of validateCreate/Update.
#include "api/validation.h"
#include "api/validation_internal.h"

namespace skiff::api {

namespace detail {

namespace {

constexpr size_t kTotalAnnotationSizeLimit = 256 * 1024;

// Name checks accept a generateName prefix ending in '-' (maskTrailingDash).
std::vector<std::string> checkName(NameValidator fn, const std::string& name, bool prefix) {
  std::string n = name;
  if (prefix && n.size() > 1 && n.back() == '-') n.pop_back();
  return fn(n);
}

}  // namespace

void validateLabels(const Json& labels, const std::string& path, FieldErrors& errs) {
  if (!labels.is_object()) return;
  for (auto it = labels.begin(); it != labels.end(); ++it) {
    for (const std::string& m : isQualifiedName(it.key()))
      errs.push_back(invalid(path, it.key(), m));
    std::string v = it->is_string() ? it->get<std::string>() : "";
    for (const std::string& m : isValidLabelValue(v)) errs.push_back(invalid(path, v, m));
  }
}

void validateObjectMeta(const Json& meta, bool namespaced, NameValidator nameFn,
                        const std::string& path, FieldErrors& errs) {
  std::string name = getString(meta, "name");
  std::string generateName = getString(meta, "generateName");
  if (!generateName.empty()) {
    for (const std::string& m : checkName(nameFn, generateName, true)) {
      errs.push_back(invalid(child(path, "generateName"), generateName, m));
    }
  }
  if (name.empty()) {
    if (generateName.empty()) {
      errs.push_back(required(child(path, "name"), "name or generateName is required"));
    }
  } else {
    for (const std::string& m : checkName(nameFn, name, false)) {
      errs.push_back(invalid(child(path, "name"), name, m));
    }
  }
  std::string ns = getString(meta, "namespace");
  if (namespaced) {
    if (ns.empty()) {
      errs.push_back(required(child(path, "namespace")));
    } else {
      for (const std::string& m : isDns1123Label(ns)) {
        errs.push_back(invalid(child(path, "namespace"), ns, m));
      }
    }
  } else if (!ns.empty()) {
    errs.push_back(forbidden(child(path, "namespace"), "not allowed on this type"));
  }
  if (const Json* g = get(meta, "generation");
      g && g->is_number_integer() && g->get<long long>() < 0) {
    errs.push_back(invalid(child(path, "generation"), *g, "must be greater than or equal to 0"));
  }
  if (const Json* labels = get(meta, "labels"))
    validateLabels(*labels, child(path, "labels"), errs);
  if (const Json* ann = get(meta, "annotations"); ann && ann->is_object()) {
    size_t total = 0;
    for (auto it = ann->begin(); it != ann->end(); ++it) {
      std::string lower = it.key();
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      for (const std::string& m : isQualifiedName(lower)) {
        errs.push_back(invalid(child(path, "annotations"), it.key(), m));
      }
      total += it.key().size() + (it->is_string() ? it->get<std::string>().size() : 0);
    }
    if (total > kTotalAnnotationSizeLimit) {
      errs.push_back(tooLong(child(path, "annotations"), "", kTotalAnnotationSizeLimit));
    }
  }
  if (const Json* owners = get(meta, "ownerReferences"); owners && owners->is_array()) {
    int controllers = 0;
    std::string p = child(path, "ownerReferences");
    for (const Json& o : *owners) {
      if (getString(o, "apiVersion").empty()) {
        errs.push_back(invalid(child(p, "apiVersion"), "", "version must not be empty"));
      }
      if (getString(o, "kind").empty()) {
        errs.push_back(invalid(child(p, "kind"), "", "kind must not be empty"));
      }
      if (getString(o, "name").empty()) {
        errs.push_back(invalid(child(p, "name"), "", "name must not be empty"));
      }
      if (getString(o, "uid").empty()) {
        errs.push_back(invalid(child(p, "uid"), "", "uid must not be empty"));
      }
      const Json* c = get(o, "controller");
      if (c && c->is_boolean() && c->get<bool>()) ++controllers;
    }
    if (controllers > 1) {
      errs.push_back(invalid(p, *owners, "Only one reference can have Controller set to true."));
    }
  }
  if (const Json* fins = get(meta, "finalizers"); fins && fins->is_array()) {
    for (size_t i = 0; i < fins->size(); ++i) {
      std::string f = (*fins)[i].is_string() ? (*fins)[i].get<std::string>() : "";
      for (const std::string& m : isQualifiedName(f)) {
        errs.push_back(invalid(index(child(path, "finalizers"), i), f, m));
      }
    }
  }
}

void validateObjectMetaUpdate(const Json& meta, const Json& oldMeta, const std::string& path,
                              FieldErrors& errs) {
  for (const char* f : {"name", "namespace"}) {
    if (getString(meta, f) != getString(oldMeta, f)) {
      errs.push_back(invalid(child(path, f), getString(meta, f), "field is immutable"));
    }
  }
  // An update that leaves uid or creationTimestamp out keeps the stored value
  // (as rest.BeforeUpdate copies it); one that sets a different value is refused.
  for (const char* f : {"uid", "creationTimestamp"}) {
    std::string now = getString(meta, f);
    if (!now.empty() && now != getString(oldMeta, f)) {
      errs.push_back(invalid(child(path, f), now, "field is immutable"));
    }
  }
}

void validateLabelSelector(const Json& sel, const std::string& path, FieldErrors& errs) {
  if (!sel.is_object()) return;
  if (const Json* ml = get(sel, "matchLabels"))
    validateLabels(*ml, child(path, "matchLabels"), errs);
  const Json* exprs = get(sel, "matchExpressions");
  if (!exprs || !exprs->is_array()) return;
  for (size_t i = 0; i < exprs->size(); ++i) {
    const Json& e = (*exprs)[i];
    std::string p = index(child(path, "matchExpressions"), i);
    std::string op = getString(e, "operator");
    const Json* values = get(e, "values");
    size_t nvalues = values && values->is_array() ? values->size() : 0;
    if (op == "In" || op == "NotIn") {
      if (nvalues == 0) {
        errs.push_back(
            required(child(p, "values"), "must be specified when `operator` is 'In' or 'NotIn'"));
      }
    } else if (op == "Exists" || op == "DoesNotExist") {
      if (nvalues > 0) {
        errs.push_back(forbidden(child(p, "values"),
                                 "may not be specified when `operator` is 'Exists' or "
                                 "'DoesNotExist'"));
      }
    } else {
      errs.push_back(invalid(child(p, "operator"), op, "not a valid selector operator"));
    }
    std::string k = getString(e, "key");
    for (const std::string& m : isQualifiedName(k)) errs.push_back(invalid(child(p, "key"), k, m));
  }
}

}  // namespace detail

namespace {

using namespace detail;

// %#v of a *metav1.LabelSelector, as ValidateImmutableField prints it.
std::string goLabelSelector(const Json& sel) {
  auto strs = [](const Json* v) {
    if (!v || !v->is_array()) return std::string("[]string(nil)");
    std::string s = "[]string{";
    for (size_t i = 0; i < v->size(); ++i) s += (i ? ", " : "") + (*v)[i].dump();
    return s + "}";
  };
  std::string s = "v1.LabelSelector{MatchLabels:";
  const Json* ml = get(sel, "matchLabels");
  if (!ml || !ml->is_object()) {
    s += "map[string]string(nil)";
  } else {
    s += "map[string]string{";
    bool first = true;
    for (auto it = ml->begin(); it != ml->end(); ++it) {
      s += (first ? "" : ", ") + Json(it.key()).dump() + ":" + it.value().dump();
      first = false;
    }
    s += "}";
  }
  s += ", MatchExpressions:";
  const Json* me = get(sel, "matchExpressions");
  if (!me || !me->is_array()) {
    s += "[]v1.LabelSelectorRequirement(nil)";
  } else {
    s += "[]v1.LabelSelectorRequirement{";
    for (size_t i = 0; i < me->size(); ++i) {
      const Json& e = (*me)[i];
      s += std::string(i ? ", " : "") +
           "v1.LabelSelectorRequirement{Key:" + Json(getString(e, "key")).dump() +
           ", Operator:" + Json(getString(e, "operator")).dump() +
           ", Values:" + strs(get(e, "values")) + "}";
    }
    s += "}";
  }
  return s + "}";
}

struct KindRules {
  bool namespaced;
  NameValidator name;
};

KindRules rulesFor(const GroupVersionKind& gvk) {
  if (gvk.kind == "Namespace") return {false, isDns1123Label};
  if (gvk.kind == "Node") return {false, isDns1123Subdomain};
  if (gvk.kind == "Service") return {true, isDns1035Label};
  return {true, isDns1123Subdomain};
}

void validateNamespace(const Json& ns, FieldErrors& errs) {
  const Json* spec = get(ns, "spec");
  const Json* fins = spec ? get(*spec, "finalizers") : nullptr;
  if (!fins || !fins->is_array()) return;
  for (size_t i = 0; i < fins->size(); ++i) {
    std::string f = (*fins)[i].is_string() ? (*fins)[i].get<std::string>() : "";
    // Standard finalizers ("kubernetes") are plain names; others must be qualified.
    for (const std::string& m : isQualifiedName(f)) {
      errs.push_back(invalid(index("spec.finalizers", i), f, m));
    }
  }
}

}  // namespace

FieldErrors validateCreate(const Json& object, const GroupVersionKind& gvk) {
  FieldErrors errs;
  KindRules rules = rulesFor(gvk);
  const Json* meta = get(object, "metadata");
  validateObjectMeta(valueOrEmptyObject(meta), rules.namespaced, rules.name, "metadata", errs);
  const std::string& k = gvk.kind;
  if (gvk.group.empty()) {
    if (k == "Pod") {
      const Json* spec = get(object, "spec");
      validatePodSpec(valueOrEmptyObject(spec), "spec", errs);
    } else if (k == "Service") {
      validateService(object, errs);
    } else if (k == "Endpoints") {
      validateEndpoints(object, errs);
    } else if (k == "ConfigMap") {
      validateConfigMap(object, errs);
    } else if (k == "Secret") {
      validateSecret(object, errs);
    } else if (k == "Namespace") {
      validateNamespace(object, errs);
    } else if (k == "Node") {
      validateNode(object, errs);
    } else if (k == "Event") {
      validateEvent(object, errs);
    } else if (k == "Binding") {
      const Json* target = get(object, "target");
      if (!target || getString(*target, "name").empty()) {
        errs.push_back(required("target.name"));
      }
    }
  } else if (gvk.group == "apps") {
    if (k == "Deployment") validateDeployment(object, errs);
    if (k == "ReplicaSet") validateReplicaSet(object, errs);
  } else if (gvk.group == "autoscaling" && k == "Scale") {
    const Json* spec = get(object, "spec");
    const Json* r = spec ? get(*spec, "replicas") : nullptr;
    if (r && r->is_number_integer() && r->get<long long>() < 0) {
      errs.push_back(invalid("spec.replicas", *r, "must be greater than or equal to 0"));
    }
  }
  return errs;
}

FieldErrors validateUpdate(const Json& object, const Json& old, const GroupVersionKind& gvk) {
  FieldErrors errs;
  const Json* meta = get(object, "metadata");
  const Json* oldMeta = get(old, "metadata");
  validateObjectMetaUpdate(valueOrEmptyObject(meta), valueOrEmptyObject(oldMeta),
                           "metadata", errs);
  FieldErrors rest = validateCreate(object, gvk);
  errs.insert(errs.end(), rest.begin(), rest.end());
  const std::string& k = gvk.kind;
  auto specOf = [](const Json& o) -> const Json& { return valueOrEmptyObject(get(o, "spec")); };
  if (gvk.group.empty() && k == "Pod") {
    validatePodSpecUpdate(specOf(object), specOf(old), "spec", errs);
  } else if (gvk.group.empty() && k == "Service") {
    validateServiceUpdate(object, old, errs);
  } else if (gvk.group.empty() && (k == "ConfigMap" || k == "Secret")) {
    validateConfigDataUpdate(object, old, k == "Secret", errs);
  } else if (gvk.group == "apps" && (k == "Deployment" || k == "ReplicaSet")) {
    Json sel = specOf(object).value("selector", Json());
    Json oldSel = specOf(old).value("selector", Json());
    if (sel != oldSel) {
      errs.push_back({"FieldValueInvalid", "spec.selector",
                      "Invalid value: " + goLabelSelector(sel) + ": field is immutable"});
    }
  }
  return errs;
}

}  // namespace skiff::api
