// apps/v1 validation, as pkg/apis/apps/validation: Deployment and ReplicaSet
// specs, and the pod template rules they share.
#include <algorithm>

#include "api/validation.h"
#include "api/validation_internal.h"

namespace skiff::api::detail {

namespace {

long long intOf(const Json* v) {
  return v && v->is_number_integer() ? v->get<long long>() : 0;
}

void nonNegative(const Json& spec, const char* name, FieldErrors& errs) {
  const Json* v = get(spec, name);
  if (v && v->is_number_integer() && v->get<long long>() < 0) {
    errs.push_back(invalid(child("spec", name), *v, "must be greater than or equal to 0"));
  }
}

bool selectorMatches(const Json& sel, const Json& labels) {
  auto label = [&](const std::string& k) -> const Json* {
    if (!labels.is_object()) return nullptr;
    auto it = labels.find(k);
    return it == labels.end() ? nullptr : &*it;
  };
  if (const Json* ml = get(sel, "matchLabels"); ml && ml->is_object()) {
    for (auto it = ml->begin(); it != ml->end(); ++it) {
      const Json* v = label(it.key());
      if (!v || *v != it.value()) return false;
    }
  }
  if (const Json* exprs = get(sel, "matchExpressions"); exprs && exprs->is_array()) {
    for (const Json& e : *exprs) {
      std::string op = getString(e, "operator");
      const Json* v = label(getString(e, "key"));
      const Json* values = get(e, "values");
      bool inValues = v && values && values->is_array() &&
                      std::find(values->begin(), values->end(), *v) != values->end();
      if (op == "In" && !inValues) return false;
      if (op == "NotIn" && inValues) return false;
      if (op == "Exists" && !v) return false;
      if (op == "DoesNotExist" && v) return false;
    }
  }
  return true;
}

bool selectorEmpty(const Json& sel) {
  const Json* ml = get(sel, "matchLabels");
  const Json* me = get(sel, "matchExpressions");
  return (!ml || ml->empty()) && (!me || me->empty());
}

// Validates spec.selector and spec.template; returns false when the selector is unusable.
void validateSelectorAndTemplate(const Json& spec, const char* kindName, FieldErrors& errs) {
  const Json* sel = get(spec, "selector");
  if (!sel) {
    errs.push_back(required("spec.selector"));
  } else {
    validateLabelSelector(*sel, "spec.selector", errs);
    if (selectorEmpty(*sel)) {
      errs.push_back(
          invalid("spec.selector", *sel, std::string("empty selector is invalid for ") + kindName));
    }
  }
  const Json* tmpl = get(spec, "template");
  if (!tmpl) {
    errs.push_back(required("spec.template"));
    return;
  }
  validatePodTemplate(*tmpl, sel && !selectorEmpty(*sel) ? sel : nullptr, "spec.template", errs);
}

}  // namespace

void validatePodTemplate(const Json& tmpl, const Json* selector, const std::string& path,
                         FieldErrors& errs) {
  const Json* meta = get(tmpl, "metadata");
  Json labels = meta && get(*meta, "labels") ? *get(*meta, "labels") : Json::object();
  if (selector && !selectorMatches(*selector, labels)) {
    // Go prints an empty map as map[string]string{} too.
    Cause c = invalid(child(path, "metadata.labels"), labels,
                      "`selector` does not match template `labels`");
    if (labels.empty())
      c.message =
          "Invalid value: map[string]string{}: `selector` does not "
          "match template `labels`";
    errs.push_back(c);
  }
  if (meta) {
    if (const Json* l = get(*meta, "labels"))
      validateLabels(*l, child(path, "metadata.labels"), errs);
  }
  const Json* spec = get(tmpl, "spec");
  const Json& s = valueOrEmptyObject(spec);
  validatePodSpec(s, child(path, "spec"), errs);
  std::string rp = getString(s, "restartPolicy");
  if (!rp.empty() && rp != "Always") {
    errs.push_back(notSupported(child(path, "spec.restartPolicy"), rp, {"Always"}));
  }
  if (get(s, "activeDeadlineSeconds")) {
    errs.push_back(forbidden(child(path, "spec.activeDeadlineSeconds"),
                             "activeDeadlineSeconds in ReplicaSet is not Supported"));
  }
}

void validateDeployment(const Json& d, FieldErrors& errs) {
  const Json* specp = get(d, "spec");
  const Json& spec = valueOrEmptyObject(specp);
  nonNegative(spec, "replicas", errs);
  nonNegative(spec, "minReadySeconds", errs);
  nonNegative(spec, "revisionHistoryLimit", errs);
  nonNegative(spec, "progressDeadlineSeconds", errs);
  validateSelectorAndTemplate(spec, "deployment", errs);
  if (const Json* pds = get(spec, "progressDeadlineSeconds")) {
    if (intOf(pds) <= intOf(get(spec, "minReadySeconds"))) {
      errs.push_back(
          invalid("spec.progressDeadlineSeconds", *pds, "must be greater than minReadySeconds"));
    }
  }
  const Json* strategy = get(spec, "strategy");
  if (!strategy) return;
  std::string type = getString(*strategy, "type");
  if (type == "Recreate") {
    if (get(*strategy, "rollingUpdate")) {
      errs.push_back(forbidden("spec.strategy.rollingUpdate",
                               "may not be specified when strategy `type` is 'Recreate'"));
    }
  } else if (type == "RollingUpdate") {
    const Json* ru = get(*strategy, "rollingUpdate");
    if (!ru) return;
    auto check = [&](const char* name) -> std::optional<double> {
      const Json* v = get(*ru, name);
      if (!v) return std::nullopt;
      std::string p = std::string("spec.strategy.rollingUpdate.") + name;
      if (v->is_number_integer()) {
        if (v->get<long long>() < 0) {
          errs.push_back(invalid(p, *v, "must be greater than or equal to 0"));
        }
        return static_cast<double>(v->get<long long>());
      }
      std::string s = v->is_string() ? v->get<std::string>() : "";
      bool ok = s.size() >= 2 && s.back() == '%' && std::all_of(s.begin(), s.end() - 1, ::isdigit);
      if (!ok) {
        errs.push_back(invalid(p, s,
                               "a valid percent string must be a numeric string followed "
                               "by an ending '%' (e.g. '1%',  or '93%', regex used for "
                               "validation is '[0-9]+%')"));
        return std::nullopt;
      }
      int pct = std::stoi(s.substr(0, s.size() - 1));
      if (pct > 100) errs.push_back(invalid(p, s, "must not be greater than 100%"));
      return static_cast<double>(pct);
    };
    std::optional<double> mu = check("maxUnavailable");
    std::optional<double> ms = check("maxSurge");
    if (mu && ms && *mu == 0 && *ms == 0) {
      errs.push_back(invalid("spec.strategy.rollingUpdate.maxUnavailable",
                             *get(*ru, "maxUnavailable"), "may not be 0 when `maxSurge` is 0"));
    }
  } else if (!type.empty()) {
    errs.push_back(notSupported("spec.strategy.type", type, {"Recreate", "RollingUpdate"}));
  } else {
    errs.push_back(required("spec.strategy.type"));
  }
}

void validateReplicaSet(const Json& rs, FieldErrors& errs) {
  const Json* specp = get(rs, "spec");
  const Json& spec = valueOrEmptyObject(specp);
  nonNegative(spec, "replicas", errs);
  nonNegative(spec, "minReadySeconds", errs);
  validateSelectorAndTemplate(spec, "replicaset", errs);
}

}  // namespace skiff::api::detail
