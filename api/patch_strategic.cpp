// Kubernetes strategic merge patch and kubectl's three-way patch, following
// k8s.io/apimachinery/pkg/util/strategicpatch.
//
// How it works. A strategic patch is a JSON merge patch whose lists are not
// always replaced: a list field whose type model says patchStrategy "merge"
// is merged element by element, keyed by patchMergeKey (containers by name,
// ports by port), or for lists of scalars as a set union. Directives travel
// inside the patch:
//   {"$patch": "replace"|"delete"}        on a map: replace it / clear it;
//   list element {"$patch": "delete", key: v}  removes that element;
//   list element {"$patch": "replace"}   the list becomes the patch's list;
//   "$retainKeys": [..]                  drop every other key of this map;
//   "$setElementOrder/f": [..]           the order of list f after merging;
//   "$deleteFromPrimitiveList/f": [..]   remove these scalars from list f.
//
// The three-way patch (kubectl apply) is built from two diffs, as upstream:
// deletions = what `original` (last applied) had and `modified` lacks, and
// delta = what `modified` sets that `current` (live) differs on, ignoring
// deletions so fields the server defaulted survive. Their union is the patch.
#include <algorithm>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "api/patch.h"

namespace skiff::api {
namespace {

// ---- the type model, seen as patch metadata ---------------------------------

// Where a JSON value sits in the model: a struct type, or the values of a map
// field (labels, or a map of objects), or nothing known.
struct Node {
  const TypeDef* type = nullptr;
  const FieldDef* mapOf = nullptr;
};

// What the model says about one key of a map.
struct Child {
  Node node;             // the value's node (for a list: its elements' node)
  std::string strategy;  // patchStrategy ("merge", "retainKeys", "merge,retainKeys")
  std::string mergeKey;  // patchMergeKey
};

const FieldDef* findField(const TypeDef* t, const std::string& name) {
  if (!t) return nullptr;
  for (const auto& f : t->fields) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

Child childOf(const Node& n, const std::string& key) {
  Child c;
  if (n.mapOf) {
    if (n.mapOf->elemKind == FieldKind::kObject) c.node.type = n.mapOf->type;
    return c;
  }
  const FieldDef* f = findField(n.type, key);
  if (!f) return c;
  c.strategy = f->patchStrategy;
  c.mergeKey = f->patchMergeKey;
  switch (f->kind) {
    case FieldKind::kObject:
      c.node.type = f->type;
      break;
    case FieldKind::kArray:
      if (f->elemKind == FieldKind::kObject) c.node.type = f->type;
      break;
    case FieldKind::kMap:
      c.node.mapOf = f;
      break;
    default:
      break;
  }
  return c;
}

bool hasStrategy(const std::string& strategies, const std::string& want) {
  size_t start = 0;
  while (start <= strategies.size()) {
    size_t comma = strategies.find(',', start);
    std::string s = strategies.substr(start, comma == std::string::npos ? comma : comma - start);
    if (s == want) return true;
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return false;
}

const std::string kDirective = "$patch";
const std::string kRetainKeys = "$retainKeys";
const std::string kSetOrderPrefix = "$setElementOrder/";
const std::string kDeletePrimitivePrefix = "$deleteFromPrimitiveList/";

bool startsWith(const std::string& s, const std::string& p) {
  return s.rfind(p, 0) == 0;
}

Error badRequest(const std::string& m) {
  return makeError(Code::kBadRequest, m);
}

// Go's fmt %v of a scalar, used upstream to sort and compare merge keys.
std::string scalarString(const Json& v) {
  return v.is_string() ? v.get<std::string>() : v.dump();
}

// ---- applying a strategic merge patch ---------------------------------------

Result<Json> mergeMap(Json original, Json patch, const Node& node);
Result<Json> mergeList(Json original, const Json& patch, const Child& child);

// A patch value placed where the original had nothing (or a different type):
// directives are resolved against an empty value so none leak into the object.
Result<Json> cleaned(const Json& v, const Child& child) {
  if (v.is_object()) return mergeMap(Json::object(), v, child.node);
  if (v.is_array()) return mergeList(Json::array(), v, child);
  return v;
}

// Index of `item` in `list` by merge key (maps) or value (scalars); -1 if absent.
long indexIn(const Json& list, const Json& item, const std::string& mergeKey) {
  for (size_t i = 0; i < list.size(); ++i) {
    if (item.is_object()) {
      if (list[i].is_object() && list[i].contains(mergeKey) && item.contains(mergeKey) &&
          list[i][mergeKey] == item[mergeKey])
        return static_cast<long>(i);
    } else if (list[i] == item) {
      return static_cast<long>(i);
    }
  }
  return -1;
}

// Orders `merged` by `order` ($setElementOrder), keeping items the order does
// not mention ("server-only") near their place in `live`, as upstream's
// normalizeElementOrder + mergeSortedSlice.
Json applyElementOrder(const Json& merged, const Json& order, const Json& live,
                       const std::string& mergeKey) {
  std::vector<Json> patchItems, serverOnly;
  for (const auto& item : merged) {
    Json probe = item;
    if (item.is_object()) {
      probe = item.contains(mergeKey) ? Json{{mergeKey, item[mergeKey]}} : Json::object();
    }
    if (indexIn(order, probe, mergeKey) >= 0) {
      patchItems.push_back(item);
    } else {
      serverOnly.push_back(item);
    }
  }
  std::stable_sort(patchItems.begin(), patchItems.end(), [&](const Json& a, const Json& b) {
    return indexIn(order, a, mergeKey) < indexIn(order, b, mergeKey);
  });
  std::stable_sort(serverOnly.begin(), serverOnly.end(), [&](const Json& a, const Json& b) {
    return indexIn(live, a, mergeKey) < indexIn(live, b, mergeKey);
  });
  Json out = Json::array();
  size_t i = 0, j = 0;
  while (i < serverOnly.size() || j < patchItems.size()) {
    if (i >= serverOnly.size()) {
      out.push_back(patchItems[j++]);
    } else if (j >= patchItems.size()) {
      out.push_back(serverOnly[i++]);
    } else {
      long li = indexIn(live, serverOnly[i], mergeKey);
      long ri = indexIn(live, patchItems[j], mergeKey);
      if (li >= 0 && ri >= 0 && li < ri) {
        out.push_back(serverOnly[i++]);
      } else {
        out.push_back(patchItems[j++]);
      }
    }
  }
  return out;
}

bool anyObject(const Json& a, const Json& b) {
  for (const Json* l : {&a, &b}) {
    for (const auto& e : *l) {
      if (e.is_object()) return true;
    }
  }
  return false;
}

Result<Json> mergeList(Json original, const Json& patch, const Child& child) {
  if (!hasStrategy(child.strategy, "merge")) return patch;  // replaced, as upstream
  if (!anyObject(original, patch)) {
    // A set of scalars: union, first occurrence wins.
    Json out = Json::array();
    for (const Json* l : std::initializer_list<const Json*>{&original, &patch}) {
      for (const auto& v : *l) {
        if (std::find(out.begin(), out.end(), v) == out.end()) out.push_back(v);
      }
    }
    return out;
  }
  const std::string& key = child.mergeKey;
  if (key.empty()) return patch;
  Json rest = Json::array();
  bool replace = false;
  for (const auto& e : patch) {
    if (!e.is_object() || !e.contains(kDirective)) {
      rest.push_back(e);
      continue;
    }
    const Json& d = e[kDirective];
    if (d == "delete") {
      if (!e.contains(key)) return badRequest("delete patch type with no merge key defined");
      Json kept = Json::array();
      for (auto& o : original) {
        if (!(o.is_object() && o.contains(key) && o[key] == e[key])) kept.push_back(o);
      }
      original = std::move(kept);
    } else if (d == "replace") {
      replace = true;
    } else if (d == "merge") {
      return badRequest("merging lists cannot yet be specified in the patch");
    } else {
      return badRequest("unknown patch type: " + scalarString(d) + " in map: " + e.dump());
    }
  }
  if (replace) {
    Json out = Json::array();
    for (const auto& e : rest) {
      auto c = e.is_object() ? mergeMap(Json::object(), e, child.node) : Result<Json>(e);
      if (!c.ok()) return c;
      out.push_back(std::move(*c));
    }
    return out;
  }
  for (const auto& e : rest) {
    if (!e.is_object()) {
      original.push_back(e);
      continue;
    }
    if (!e.contains(key)) {
      return badRequest("map: " + e.dump() + " does not contain declared merge key: " + key);
    }
    long idx = indexIn(original, e, key);
    if (idx >= 0) {
      auto m = mergeMap(original[static_cast<size_t>(idx)], e, child.node);
      if (!m.ok()) return m;
      original[static_cast<size_t>(idx)] = std::move(*m);
    } else {
      auto m = mergeMap(Json::object(), e, child.node);
      if (!m.ok()) return m;
      original.push_back(std::move(*m));
    }
  }
  return original;
}

Result<Json> mergeMap(Json original, Json patch, const Node& node) {
  if (!original.is_object()) original = Json::object();
  if (auto it = patch.find(kDirective); it != patch.end()) {
    Json d = *it;
    patch.erase(it);
    if (d == "replace") return mergeMap(Json::object(), patch, node);
    if (d == "delete") return Json::object();
    if (d != "merge") {
      return badRequest("unknown patch type: " + scalarString(d) + " in map: " + patch.dump());
    }
  }
  if (auto it = patch.find(kRetainKeys); it != patch.end()) {
    if (!it->is_array()) return badRequest("invalid patch format of retainKeys");
    Json keep = *it;
    patch.erase(it);
    for (auto& [k, v] : patch.items()) {
      if (startsWith(k, "$") || v.is_null()) continue;
      if (std::find(keep.begin(), keep.end(), Json(k)) == keep.end()) {
        return badRequest("invalid patch format of retainKeys");
      }
    }
    Json kept = Json::object();
    for (auto& [k, v] : original.items()) {
      if (std::find(keep.begin(), keep.end(), Json(k)) != keep.end()) kept[k] = v;
    }
    original = std::move(kept);
  }
  std::vector<std::pair<std::string, Json>> orders;
  std::vector<std::string> directiveKeys;
  for (auto& [k, v] : patch.items()) {
    if (startsWith(k, kDeletePrimitivePrefix)) {
      std::string f = k.substr(kDeletePrimitivePrefix.size());
      if (!v.is_array()) return badRequest("invalid patch: " + k + " must be a list");
      if (auto o = original.find(f); o != original.end() && o->is_array()) {
        Json kept = Json::array();
        for (auto& x : *o) {
          if (std::find(v.begin(), v.end(), x) == v.end()) kept.push_back(x);
        }
        *o = std::move(kept);
      }
      directiveKeys.push_back(k);
    } else if (startsWith(k, kSetOrderPrefix)) {
      if (!v.is_array()) return badRequest("invalid patch: " + k + " must be a list");
      orders.emplace_back(k.substr(kSetOrderPrefix.size()), v);
      directiveKeys.push_back(k);
    }
  }
  for (auto& k : directiveKeys) patch.erase(k);
  // The live lists, before merging, are the reference order for server-only items.
  std::vector<Json> liveLists;
  for (auto& [f, order] : orders) {
    auto o = original.find(f);
    liveLists.push_back(o != original.end() && o->is_array() ? *o : Json::array());
  }

  for (auto& [k, v] : patch.items()) {
    if (v.is_null()) {
      original.erase(k);
      continue;
    }
    Child child = childOf(node, k);
    auto o = original.find(k);
    bool sameType = o != original.end() &&
                    ((o->is_object() && v.is_object()) || (o->is_array() && v.is_array()));
    if (!sameType) {
      auto c = cleaned(v, child);
      if (!c.ok()) return c;
      original[k] = std::move(*c);
      continue;
    }
    Result<Json> merged = Json();
    if (v.is_object()) {
      merged =
          hasStrategy(child.strategy, "replace") ? cleaned(v, child) : mergeMap(*o, v, child.node);
    } else {
      merged = mergeList(*o, v, child);
    }
    if (!merged.ok()) return merged;
    original[k] = std::move(*merged);
  }

  for (size_t i = 0; i < orders.size(); ++i) {
    auto& [f, order] = orders[i];
    auto o = original.find(f);
    if (o == original.end() || !o->is_array()) continue;
    *o = applyElementOrder(*o, order, liveLists[i], childOf(node, f).mergeKey);
  }
  return original;
}

// ---- diffing (CreateTwoWayMergePatch's diffMaps) ----------------------------

struct DiffOptions {
  bool ignoreChangesAndAdditions = false;
  bool ignoreDeletions = false;
  bool setElementOrder = false;
  bool buildRetainKeys = false;
};

Result<Json> diffMaps(const Json& original, const Json& modified, const Node& node,
                      DiffOptions opts);

std::vector<Json> sortedByKey(const Json& list, const std::string& key) {
  std::vector<Json> v(list.begin(), list.end());
  std::stable_sort(v.begin(), v.end(), [&](const Json& a, const Json& b) {
    return scalarString(a.value(key, Json())) < scalarString(b.value(key, Json()));
  });
  return v;
}

// Sorts `items` by their position in `modified` (normalizeSliceOrder).
void orderLike(std::vector<Json>& items, const Json& modified, const std::string& key) {
  std::stable_sort(items.begin(), items.end(), [&](const Json& a, const Json& b) {
    return indexIn(modified, a, key) < indexIn(modified, b, key);
  });
}

struct ListDiff {
  std::vector<Json> patch;
  std::vector<Json> deletions;  // scalars for $deleteFromPrimitiveList
  Json order;                   // null when no $setElementOrder is needed
};

Result<ListDiff> diffLists(const Json& original, const Json& modified, const Child& child,
                           const DiffOptions& opts) {
  ListDiff out;
  const std::string& key = child.mergeKey;
  if (original.empty()) {
    // Everything is an addition; upstream sends the list as is, with no order.
    if (!opts.ignoreChangesAndAdditions) out.patch.assign(modified.begin(), modified.end());
    return out;
  }
  if (anyObject(original, modified)) {
    if (key.empty()) return badRequest("list of maps without a merge key");
    for (const Json* l : {&original, &modified}) {
      for (auto& e : *l) {
        if (!e.is_object() || !e.contains(key)) {
          return badRequest("map: " + e.dump() + " does not contain declared merge key: " + key);
        }
      }
    }
    auto os = sortedByKey(original, key);
    auto ms = sortedByKey(modified, key);
    std::vector<Json> deletions;
    size_t i = 0, j = 0;
    while (i < os.size() || j < ms.size()) {
      std::string ok = i < os.size() ? scalarString(os[i][key]) : "";
      std::string mk = j < ms.size() ? scalarString(ms[j][key]) : "";
      if (i < os.size() && j < ms.size() && ok == mk) {
        auto d = diffMaps(os[i], ms[j], child.node, opts);
        if (!d.ok()) return d.error();
        if (!d->empty()) {
          (*d)[key] = ms[j][key];
          out.patch.push_back(std::move(*d));
        }
        ++i;
        ++j;
      } else if (i >= os.size() || (j < ms.size() && ok > mk)) {
        if (!opts.ignoreChangesAndAdditions) out.patch.push_back(ms[j]);
        ++j;
      } else {
        if (!opts.ignoreDeletions) deletions.push_back({{kDirective, "delete"}, {key, os[i][key]}});
        ++i;
      }
    }
    orderLike(out.patch, modified, key);
    bool orderSame = original.size() == modified.size();
    for (size_t k = 0; orderSame && k < original.size(); ++k) {
      orderSame = original[k][key] == modified[k][key];
    }
    out.patch.insert(out.patch.end(), deletions.begin(), deletions.end());
    if (opts.setElementOrder &&
        ((!opts.ignoreChangesAndAdditions && (!out.patch.empty() || !orderSame)) ||
         (!opts.ignoreDeletions && !out.patch.empty()))) {
      out.order = Json::array();
      for (auto& e : modified) out.order.push_back({{key, e[key]}});
    }
    return out;
  }
  for (const Json* l : {&original, &modified}) {
    for (auto& e : *l) {
      if (e.is_array()) return badRequest("lists of lists are not supported");
    }
  }
  std::vector<Json> os(original.begin(), original.end()), ms(modified.begin(), modified.end());
  auto byString = [](const Json& a, const Json& b) { return scalarString(a) < scalarString(b); };
  std::stable_sort(os.begin(), os.end(), byString);
  std::stable_sort(ms.begin(), ms.end(), byString);
  size_t i = 0, j = 0;
  while (i < os.size() || j < ms.size()) {
    std::string a = i < os.size() ? scalarString(os[i]) : "";
    std::string b = j < ms.size() ? scalarString(ms[j]) : "";
    if (i < os.size() && j < ms.size() && a == b) {
      ++i;
      ++j;
    } else if (i >= os.size() || (j < ms.size() && a > b)) {
      if (!opts.ignoreChangesAndAdditions) out.patch.push_back(ms[j]);
      ++j;
    } else {
      if (!opts.ignoreDeletions &&
          std::find(out.deletions.begin(), out.deletions.end(), os[i]) == out.deletions.end()) {
        out.deletions.push_back(os[i]);
      }
      ++i;
    }
  }
  orderLike(out.patch, modified, key);
  if (opts.setElementOrder && ((!opts.ignoreDeletions && !out.deletions.empty()) ||
                               (!opts.ignoreChangesAndAdditions && original != modified))) {
    out.order = modified;
  }
  return out;
}

Result<Json> diffMaps(const Json& original, const Json& modified, const Node& node,
                      DiffOptions opts) {
  Json patch = Json::object();
  Json retainKeys = Json::array();
  for (auto& [key, mv] : modified.items()) {
    if (opts.buildRetainKeys && !mv.is_null()) retainKeys.push_back(key);
    auto oit = original.find(key);
    if (oit == original.end()) {
      if (!opts.ignoreChangesAndAdditions) patch[key] = mv;
      continue;
    }
    const Json& ov = *oit;
    bool sameType = ov.type() == mv.type() ||
                    (ov.is_number() && mv.is_number());  // Go sees every number as float64
    if (!sameType) {
      if (!opts.ignoreChangesAndAdditions) patch[key] = mv;
      continue;
    }
    Child child = childOf(node, key);
    if (ov.is_object()) {
      if (hasStrategy(child.strategy, "replace")) {
        if (!opts.ignoreChangesAndAdditions && ov != mv) patch[key] = mv;
        continue;
      }
      DiffOptions sub = opts;
      sub.buildRetainKeys = hasStrategy(child.strategy, "retainKeys");
      auto d = diffMaps(ov, mv, child.node, sub);
      if (!d.ok()) return d;
      if (!d->empty()) patch[key] = std::move(*d);
    } else if (ov.is_array() && hasStrategy(child.strategy, "merge")) {
      DiffOptions sub = opts;
      sub.buildRetainKeys = hasStrategy(child.strategy, "retainKeys");
      auto d = diffLists(ov, mv, child, sub);
      if (!d.ok()) return d.error();
      if (!d->patch.empty()) patch[key] = Json(d->patch);
      if (!d->deletions.empty()) patch[kDeletePrimitivePrefix + key] = Json(d->deletions);
      if (!d->order.is_null()) patch[kSetOrderPrefix + key] = d->order;
    } else if (!opts.ignoreChangesAndAdditions && ov != mv) {
      patch[key] = mv;
    }
  }
  if (!opts.ignoreDeletions) {
    for (auto& [key, ov] : original.items()) {
      if (!modified.contains(key)) patch[key] = nullptr;
    }
  }
  if (!retainKeys.empty()) {
    bool originalHasMore = false;
    for (auto& [k, v] : original.items()) {
      if (!v.is_null() && !modified.contains(k)) originalHasMore = true;
    }
    // Upstream also emits it when `original` merely has extra keys; for the
    // delta (current -> modified, deletions ignored) that would drop fields
    // the server defaulted, so there only a real change carries it.
    if (!patch.empty() || (originalHasMore && !opts.ignoreDeletions)) {
      std::sort(retainKeys.begin(), retainKeys.end());
      patch[kRetainKeys] = retainKeys;
    }
  }
  return patch;
}

// Unites the deletions patch and the delta patch (upstream: mergeMap of the
// two patches). Directive lists from the delta win; merge lists are united by
// merge key; everything else from the delta overrides.
Json unitePatches(Json a, const Json& b, const Node& node) {
  for (auto& [k, vb] : b.items()) {
    auto it = a.find(k);
    if (it == a.end()) {
      a[k] = vb;
      continue;
    }
    if (startsWith(k, "$")) {
      if (startsWith(k, kDeletePrimitivePrefix) && it->is_array() && vb.is_array()) {
        for (auto& x : vb) {
          if (std::find(it->begin(), it->end(), x) == it->end()) it->push_back(x);
        }
      } else {
        *it = vb;
      }
      continue;
    }
    Child child = childOf(node, k);
    if (it->is_object() && vb.is_object()) {
      *it = unitePatches(*it, vb, child.node);
    } else if (it->is_array() && vb.is_array() && hasStrategy(child.strategy, "merge")) {
      for (auto& e : vb) {
        long idx = -1;
        if (e.is_object() && !child.mergeKey.empty()) {
          for (size_t i = 0; i < it->size(); ++i) {
            const Json& x = (*it)[i];
            if (x.is_object() && !x.contains(kDirective) && x.contains(child.mergeKey) &&
                e.contains(child.mergeKey) && x[child.mergeKey] == e[child.mergeKey]) {
              idx = static_cast<long>(i);
            }
          }
        } else if (std::find(it->begin(), it->end(), e) != it->end()) {
          continue;
        }
        if (idx >= 0) {
          (*it)[static_cast<size_t>(idx)] =
              unitePatches((*it)[static_cast<size_t>(idx)], e, child.node);
        } else {
          it->push_back(e);
        }
      }
    } else {
      *it = vb;
    }
  }
  return a;
}

Node rootNode(const TypeDef* type) {
  return Node{type, nullptr};
}

}  // namespace

Result<Json> applyStrategicMergePatch(const Json& target, const Json& patch, const TypeDef* type) {
  if (!patch.is_object()) {
    return badRequest("strategic merge patch must be a JSON object");
  }
  return mergeMap(target.is_object() ? target : Json::object(), patch, rootNode(type));
}

Result<Json> createThreeWayMergePatch(const Json& original, const Json& modified,
                                      const Json& current, const TypeDef* type) {
  Json o = original.is_object() ? original : Json::object();
  Json m = modified.is_object() ? modified : Json::object();
  Json c = current.is_object() ? current : Json::object();
  if (!modified.is_object()) return badRequest("modified object must be a JSON object");
  DiffOptions deltaOpts;
  deltaOpts.ignoreDeletions = true;
  deltaOpts.setElementOrder = true;
  auto delta = diffMaps(c, m, rootNode(type), deltaOpts);
  if (!delta.ok()) return delta;
  DiffOptions delOpts;
  delOpts.ignoreChangesAndAdditions = true;
  delOpts.setElementOrder = true;
  auto deletions = diffMaps(o, m, rootNode(type), delOpts);
  if (!deletions.ok()) return deletions;
  return unitePatches(std::move(*deletions), *delta, rootNode(type));
}

}  // namespace skiff::api
