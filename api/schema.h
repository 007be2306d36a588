// The type model: one description of every API type skiff serves, from which
// strict decoding, defaulting's and validation's field paths, the OpenAPI
// documents kubectl downloads, and strategic-merge-patch keys are all derived,
// so that they cannot drift apart.
//
// Objects themselves travel as nlohmann::json (already checked against this
// model by decode()); the model says what shape that JSON may have.
//
// The model is built once, on first use, and is immutable afterwards:
// everything here is safe to read from any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace skiff::api {

// group "" is the core group ("v1").
struct GroupVersionKind {
  std::string group;
  std::string version;
  std::string kind;
  std::string apiVersion() const { return group.empty() ? version : group + "/" + version; }
  bool operator==(const GroupVersionKind&) const = default;
};

enum class FieldKind {
  kString,
  kInteger,      // int32 or int64, see FieldDef::format
  kNumber,       // double
  kBoolean,
  kObject,       // FieldDef::type names the TypeDef
  kArray,        // elements described by FieldDef::elem*
  kMap,          // string keys; values described by FieldDef::elem*
  kIntOrString,  // e.g. targetPort
  kQuantity,     // resource.Quantity: "100m", "1Gi", or a number
  kTime,         // RFC 3339 string
  kAny,          // free-form JSON (e.g. Status.details, RawExtension)
};

struct TypeDef;

struct FieldDef {
  std::string name;
  FieldKind kind = FieldKind::kString;
  const TypeDef* type = nullptr;  // kObject, or the element type of kArray/kMap of objects
  FieldKind elemKind = FieldKind::kString;  // kArray, kMap
  std::string format;                       // "int32", "int64", "date-time", "int-or-string", "byte"
  std::string description;
  bool required = false;
  std::vector<std::string> enumValues;      // documented values, for errors and OpenAPI

  // Strategic merge patch and server-side apply metadata, as Kubernetes' struct tags.
  std::string patchStrategy;  // "", "merge", "retainKeys", "merge,retainKeys"
  std::string patchMergeKey;  // "name", "port", "containerPort", "ip", ...
  std::string listType;       // "", "atomic", "map", "set"
  std::vector<std::string> listMapKeys;
};

struct TypeDef {
  // OpenAPI definition name, e.g. "io.k8s.api.core.v1.ServicePort".
  std::string name;
  std::string description;
  std::vector<FieldDef> fields;
  // Set on top-level kinds (Pod, Service, PodList, Status, ...).
  std::optional<GroupVersionKind> gvk;

  const FieldDef* field(std::string_view fieldName) const;
};

// Every type, in a stable order.
const std::vector<const TypeDef*>& allTypes();
// By OpenAPI name; nullptr when unknown.
const TypeDef* findType(std::string_view name);
// By group/version/kind; nullptr when skiff does not serve the kind.
const TypeDef* typeForKind(const GroupVersionKind& gvk);

}  // namespace skiff::api
