// Private to api/: the small vocabulary the type model (schema.cpp and
// types_*.cpp) is written in. A Model owns every TypeDef; types refer to each
// other by pointer, obtained by name with ref() before or after they are
// defined, so definitions can come in any order. Not thread-safe: used only
// while the model is built, once, under the static initialiser in schema.cpp.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "api/schema.h"

namespace skiff::api::model {

inline const std::string kCore = "io.k8s.api.core.v1.";
inline const std::string kMeta = "io.k8s.apimachinery.pkg.apis.meta.v1.";
inline const std::string kApps = "io.k8s.api.apps.v1.";
inline const std::string kAutoscaling = "io.k8s.api.autoscaling.v1.";
inline const std::string kAuthentication = "io.k8s.api.authentication.v1.";
inline const std::string kAuthorization = "io.k8s.api.authorization.v1.";

class Model {
 public:
  // The TypeDef called `name`, created empty when first mentioned.
  TypeDef* ref(const std::string& name);
  // Fills in the TypeDef called `name`.
  TypeDef* def(const std::string& name, std::string description, std::vector<FieldDef> fields,
               std::optional<GroupVersionKind> gvk = std::nullopt);
  // A top-level kind: apiVersion, kind, metadata (ObjectMeta) then `fields`.
  TypeDef* kind(const std::string& name, GroupVersionKind gvk, std::string description,
                std::vector<FieldDef> fields);
  // The list kind for `item`: apiVersion, kind, metadata (ListMeta), items.
  TypeDef* list(const std::string& name, GroupVersionKind gvk, const TypeDef* item);

  std::vector<const TypeDef*> ordered() const;
  std::vector<std::string> undefined() const;  // mentioned but never defined

 private:
  std::map<std::string, std::unique_ptr<TypeDef>> types_;
  std::map<std::string, bool> defined_;
  std::vector<std::string> order_;
};

// A FieldDef under construction: str("name").req().doc("...").
class F {
 public:
  explicit F(std::string name, FieldKind kind) {
    d_.name = std::move(name);
    d_.kind = kind;
  }
  F&& req() && {
    d_.required = true;
    return std::move(*this);
  }
  F&& doc(std::string s) && {
    d_.description = std::move(s);
    return std::move(*this);
  }
  F&& fmt(std::string s) && {
    d_.format = std::move(s);
    return std::move(*this);
  }
  F&& enums(std::vector<std::string> v) && {
    d_.enumValues = std::move(v);
    return std::move(*this);
  }
  // patchStrategy:"merge" patchMergeKey:key, +listType=map +listMapKey=key (or `keys`).
  F&& merge(std::string key, std::vector<std::string> keys = {}) && {
    d_.patchStrategy = "merge";
    d_.patchMergeKey = key;
    d_.listType = "map";
    d_.listMapKeys = keys.empty() ? std::vector<std::string>{key} : std::move(keys);
    return std::move(*this);
  }
  F&& strategy(std::string s) && {
    d_.patchStrategy = std::move(s);
    return std::move(*this);
  }
  F&& atomic() && {
    d_.listType = "atomic";
    return std::move(*this);
  }
  F&& set() && {
    d_.listType = "set";
    return std::move(*this);
  }
  F&& mapList(std::vector<std::string> keys) && {
    d_.listType = "map";
    d_.listMapKeys = std::move(keys);
    return std::move(*this);
  }
  operator FieldDef() && { return std::move(d_); }
  FieldDef& def() { return d_; }

 private:
  FieldDef d_;
};

inline F str(std::string n) {
  return F(std::move(n), FieldKind::kString);
}
inline F i32(std::string n) {
  return std::move(F(std::move(n), FieldKind::kInteger)).fmt("int32");
}
inline F i64(std::string n) {
  return std::move(F(std::move(n), FieldKind::kInteger)).fmt("int64");
}
inline F num(std::string n) {
  return std::move(F(std::move(n), FieldKind::kNumber)).fmt("double");
}
inline F boolean(std::string n) {
  return F(std::move(n), FieldKind::kBoolean);
}
inline F time(std::string n) {
  return std::move(F(std::move(n), FieldKind::kTime)).fmt("date-time");
}
inline F qty(std::string n) {
  return F(std::move(n), FieldKind::kQuantity);
}
inline F ios(std::string n) {
  return std::move(F(std::move(n), FieldKind::kIntOrString)).fmt("int-or-string");
}
inline F any(std::string n) {
  return F(std::move(n), FieldKind::kAny);
}
inline F obj(std::string n, const TypeDef* t) {
  F f(std::move(n), FieldKind::kObject);
  f.def().type = t;
  return f;
}
inline F arr(std::string n, const TypeDef* t) {
  F f(std::move(n), FieldKind::kArray);
  f.def().type = t;
  f.def().elemKind = FieldKind::kObject;
  return f;
}
inline F arrOf(std::string n, FieldKind elem, std::string format = "") {
  F f(std::move(n), FieldKind::kArray);
  f.def().elemKind = elem;
  f.def().format = std::move(format);
  return f;
}
inline F strs(std::string n) {
  return arrOf(std::move(n), FieldKind::kString);
}
inline F mapOf(std::string n, FieldKind elem) {
  F f(std::move(n), FieldKind::kMap);
  f.def().elemKind = elem;
  return f;
}
inline F mapStr(std::string n) {
  return mapOf(std::move(n), FieldKind::kString);
}
inline F mapQty(std::string n) {
  return mapOf(std::move(n), FieldKind::kQuantity);
}

// Definitions, one function per area, called by schema.cpp in this order.
void defineMeta(Model& m);
void definePod(Model& m);
void defineCore(Model& m);
void defineApps(Model& m);
void defineAuth(Model& m);
void defineDocs(Model& m);  // descriptions of common fields; last, after every definition

}  // namespace skiff::api::model
