// The model's registry and the meta/v1 types every kind shares. The kinds
// themselves live in types_pod.cpp (Pod and its many parts), types_core.cpp
// (the rest of core/v1) and types_apps.cpp (apps/v1, autoscaling/v1).
#include <algorithm>
#include <unordered_map>

#include "api/schema.h"
#include "api/types_internal.h"

namespace skiff::api {

const FieldDef* TypeDef::field(std::string_view fieldName) const {
  for (const FieldDef& f : fields) {
    if (f.name == fieldName) return &f;
  }
  return nullptr;
}

namespace model {

TypeDef* Model::ref(const std::string& name) {
  auto it = types_.find(name);
  if (it != types_.end()) return it->second.get();
  auto t = std::make_unique<TypeDef>();
  t->name = name;
  TypeDef* raw = t.get();
  types_.emplace(name, std::move(t));
  order_.push_back(name);
  defined_[name] = false;
  return raw;
}

TypeDef* Model::def(const std::string& name, std::string description, std::vector<FieldDef> fields,
                    std::optional<GroupVersionKind> gvk) {
  TypeDef* t = ref(name);
  t->description = std::move(description);
  t->fields = std::move(fields);
  t->gvk = std::move(gvk);
  defined_[name] = true;
  return t;
}

namespace {
std::vector<FieldDef> typeMeta(const std::string& kindName) {
  std::vector<FieldDef> f;
  f.push_back(
      str("apiVersion")
          .doc("APIVersion defines the versioned schema of this representation of an object."));
  f.push_back(
      str("kind").doc("Kind is a string value representing the REST resource this object "
                      "represents. In CamelCase."));
  return f;
}
}  // namespace

TypeDef* Model::kind(const std::string& name, GroupVersionKind gvk, std::string description,
                     std::vector<FieldDef> fields) {
  std::vector<FieldDef> all = typeMeta(gvk.kind);
  all.push_back(obj("metadata", ref(kMeta + "ObjectMeta")).doc("Standard object's metadata."));
  for (FieldDef& f : fields) all.push_back(std::move(f));
  return def(name, std::move(description), std::move(all), std::move(gvk));
}

TypeDef* Model::list(const std::string& name, GroupVersionKind gvk, const TypeDef* item) {
  std::vector<FieldDef> all = typeMeta(gvk.kind);
  all.push_back(obj("metadata", ref(kMeta + "ListMeta")).doc("Standard list metadata."));
  all.push_back(arr("items", item).req().doc("List of " + item->name + "."));
  return def(name, gvk.kind + " is a list of objects.", std::move(all), std::move(gvk));
}

std::vector<const TypeDef*> Model::ordered() const {
  std::vector<const TypeDef*> out;
  for (const std::string& n : order_) out.push_back(types_.at(n).get());
  return out;
}

std::vector<std::string> Model::undefined() const {
  std::vector<std::string> out;
  for (const auto& [n, d] : defined_) {
    if (!d) out.push_back(n);
  }
  return out;
}

void defineMeta(Model& m) {
  m.def(kMeta + "ObjectMeta", "ObjectMeta is metadata that all persisted resources must have.",
        {
            str("name").doc("Name must be unique within a namespace."),
            str("generateName"),
            str("namespace"),
            str("selfLink"),
            str("uid"),
            str("resourceVersion"),
            i64("generation"),
            time("creationTimestamp"),
            time("deletionTimestamp"),
            i64("deletionGracePeriodSeconds"),
            mapStr("labels"),
            mapStr("annotations"),
            arr("ownerReferences", m.ref(kMeta + "OwnerReference")).merge("uid"),
            strs("finalizers").strategy("merge").set(),
            arr("managedFields", m.ref(kMeta + "ManagedFieldsEntry")).atomic(),
        });
  m.def(kMeta + "ListMeta", "ListMeta describes metadata that synthetic resources must have.",
        {str("selfLink"), str("resourceVersion"), str("continue"), i64("remainingItemCount")});
  m.def(kMeta + "OwnerReference",
        "OwnerReference contains enough information to let you identify an owning object.",
        {str("apiVersion").req(), str("kind").req(), str("name").req(), str("uid").req(),
         boolean("controller"), boolean("blockOwnerDeletion")});
  m.def(kMeta + "ManagedFieldsEntry",
        "ManagedFieldsEntry is a workflow-id, a FieldSet and the group version of the resource "
        "that the fieldset applies to.",
        {str("manager"), str("operation"), str("apiVersion"), time("time"), str("fieldsType"),
         any("fieldsV1"), str("subresource")});
  m.def(kMeta + "Status", "Status is a return value for calls that don't return other objects.",
        {str("apiVersion"), str("kind"), obj("metadata", m.ref(kMeta + "ListMeta")),
         str("status").enums({"Success", "Failure"}), str("message"), str("reason"),
         obj("details", m.ref(kMeta + "StatusDetails")), i32("code")},
        GroupVersionKind{"", "v1", "Status"});
  m.def(kMeta + "StatusDetails", "StatusDetails is a set of additional properties.",
        {str("name"), str("group"), str("kind"), str("uid"),
         arr("causes", m.ref(kMeta + "StatusCause")).atomic(), i32("retryAfterSeconds")});
  m.def(kMeta + "StatusCause", "StatusCause provides more information about an api.Status failure.",
        {str("reason"), str("message"), str("field")});
  m.def(kMeta + "DeleteOptions", "DeleteOptions may be provided when deleting an API object.",
        {str("apiVersion"), str("kind"), i64("gracePeriodSeconds"),
         obj("preconditions", m.ref(kMeta + "Preconditions")), boolean("orphanDependents"),
         str("propagationPolicy").enums({"Orphan", "Background", "Foreground"}),
         strs("dryRun").atomic(), boolean("ignoreStoreReadErrorWithClusterBreakingPotential")},
        GroupVersionKind{"", "v1", "DeleteOptions"});
  m.def(kMeta + "Preconditions",
        "Preconditions must be fulfilled before an operation is carried out.",
        {str("uid"), str("resourceVersion")});
  m.def(kMeta + "WatchEvent", "Event represents a single event to a watched resource.",
        {str("type").req().enums({"ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"}),
         any("object").req().doc("Object is the object that changed (a RawExtension).")},
        GroupVersionKind{"", "v1", "WatchEvent"});
  m.def(kMeta + "LabelSelector", "A label selector is a label query over a set of resources.",
        {mapStr("matchLabels"),
         arr("matchExpressions", m.ref(kMeta + "LabelSelectorRequirement")).atomic()});
  m.def(kMeta + "LabelSelectorRequirement",
        "A label selector requirement is a selector that contains values, a key, and an operator.",
        {str("key").req(), str("operator").req().enums({"In", "NotIn", "Exists", "DoesNotExist"}),
         strs("values").atomic()});
  m.def(kMeta + "Condition", "Condition contains details for one aspect of the current state.",
        {str("type").req(), str("status").req().enums({"True", "False", "Unknown"}),
         i64("observedGeneration"), time("lastTransitionTime").req(), str("reason").req(),
         str("message").req()});
}

}  // namespace model

namespace {

struct Registry {
  model::Model model;
  std::vector<const TypeDef*> all;
  std::unordered_map<std::string, const TypeDef*> byName;
};

const Registry& registry() {
  static const Registry* r = [] {
    auto* reg = new Registry();
    model::defineMeta(reg->model);
    model::definePod(reg->model);
    model::defineCore(reg->model);
    model::defineApps(reg->model);
    model::defineAuth(reg->model);
    model::defineDocs(reg->model);
    reg->all = reg->model.ordered();
    for (const TypeDef* t : reg->all) reg->byName.emplace(t->name, t);
    return reg;
  }();
  return *r;
}

}  // namespace

const std::vector<const TypeDef*>& allTypes() {
  return registry().all;
}

const TypeDef* findType(std::string_view name) {
  const auto& m = registry().byName;
  auto it = m.find(std::string(name));
  return it == m.end() ? nullptr : it->second;
}

const TypeDef* typeForKind(const GroupVersionKind& gvk) {
  for (const TypeDef* t : allTypes()) {
    if (t->gvk && *t->gvk == gvk) return t;
  }
  return nullptr;
}

// For tests: types that were referred to but never defined (should be none).
std::vector<std::string> undefinedTypesForTest() {
  return registry().model.undefined();
}

}  // namespace skiff::api
