#include "controllers/gc.h"

#include <algorithm>

#include "base/log.h"

namespace skiff::controllers {

struct GarbageCollector::Kind {
  std::string kind;        // "ReplicaSet"
  std::string apiVersion;  // "apps/v1"
  std::string base;        // "/apis/apps/v1"
  std::string plural;      // "replicasets"
  std::unique_ptr<client::Informer> informer;
  std::string path(const std::string& ns, const std::string& name) const {
    return base + "/namespaces/" + ns + "/" + plural + "/" + name;
  }
};

OwnerVerdict judgeOwners(const std::vector<std::string>& uids,
                         const std::vector<OwnerState>& owners, bool hasDependents) {
  OwnerVerdict v;
  std::vector<std::string> dangling, waiting;
  size_t solid = 0;
  for (size_t i = 0; i < owners.size() && i < uids.size(); ++i) {
    if (owners[i] == OwnerState::kGone)
      dangling.push_back(uids[i]);
    else if (owners[i] == OwnerState::kWaitingForDependents)
      waiting.push_back(uids[i]);
    else
      ++solid;
  }
  if (dangling.empty() && waiting.empty()) return v;
  if (solid > 0) {
    v.action = OwnerVerdict::Action::kRemoveRefs;
    v.removeUids = dangling;
    v.removeUids.insert(v.removeUids.end(), waiting.begin(), waiting.end());
    return v;
  }
  if (!waiting.empty()) {
    // The owner waits for us: its processing deletes us (foreground); nothing here
    // unless every other owner is gone.
    if (!dangling.empty() || waiting.size() == owners.size()) {
      v.action = OwnerVerdict::Action::kDelete;
      v.propagation = hasDependents ? "Foreground" : "Background";
    }
    return v;
  }
  v.action = OwnerVerdict::Action::kDelete;
  v.propagation = "Background";
  return v;
}

bool hasFinalizer(const Json& obj, const std::string& finalizer) {
  if (!obj.contains("metadata") || !obj["metadata"].contains("finalizers")) return false;
  const Json& f = obj["metadata"]["finalizers"];
  return f.is_array() && std::find(f.begin(), f.end(), Json(finalizer)) != f.end();
}

GarbageCollector::GarbageCollector(client::ClientConfig config, GarbageCollectorOptions options)
    : config_(std::move(config)), options_(options) {}

GarbageCollector::~GarbageCollector() {
  stop();
}

const GarbageCollector::Kind* GarbageCollector::kindNamed(const std::string& kind) const {
  for (const auto& k : kinds_)
    if (k->kind == kind) return k.get();
  return nullptr;
}

Status GarbageCollector::start() {
  if (started_) return {};
  started_ = true;
  client_ = std::make_unique<client::RestClient>(config_);
  watchClient_ = std::make_unique<client::RestClient>(config_);
  auto add = [&](const char* kind, const char* apiVersion, const char* base, const char* plural) {
    auto k = std::make_unique<Kind>();
    k->kind = kind;
    k->apiVersion = apiVersion;
    k->base = base;
    k->plural = plural;
    k->informer =
        std::make_unique<client::Informer>(*watchClient_, std::string(base) + "/" + plural);
    kinds_.push_back(std::move(k));
  };
  add("Pod", "v1", "/api/v1", "pods");
  add("ReplicaSet", "apps/v1", "/apis/apps/v1", "replicasets");
  add("Deployment", "apps/v1", "/apis/apps/v1", "deployments");
  for (auto& k : kinds_) {
    const Kind* kind = k.get();
    client::InformerHandlers h;
    h.onAdd = [this, kind](const Json& o) { enqueueRelated(*kind, o, false); };
    h.onUpdate = [this, kind](const Json&, const Json& o) { enqueueRelated(*kind, o, false); };
    h.onDelete = [this, kind](const Json& o) { enqueueRelated(*kind, o, true); };
    k->informer->addHandlers(h);
    k->informer->start();
  }
  workers_.start(
      options_.workers, options_.resync, [this] { worker(); }, [this] { resync(); });
  logInfo("garbage collector started");
  return {};
}

void GarbageCollector::stop() {
  if (!workers_.stop()) return;  // never started, or stopped already
  std::vector<client::Informer*> informers;
  for (auto& k : kinds_) informers.push_back(k->informer.get());
  stopInformers(informers);
}

namespace {
bool hasOwners(const Json& obj) {
  return obj.contains("metadata") && obj["metadata"].contains("ownerReferences") &&
         obj["metadata"]["ownerReferences"].is_array() &&
         !obj["metadata"]["ownerReferences"].empty();
}
bool needsOwnerWork(const Json& obj) {
  return isDeleting(obj) &&
         (hasFinalizer(obj, kForegroundFinalizer) || hasFinalizer(obj, kOrphanFinalizer));
}
}  // namespace

void GarbageCollector::enqueueRelated(const Kind& kind, const Json& obj, bool deleted) {
  std::string ns = str(obj, "metadata", "namespace");
  if (!deleted && (hasOwners(obj) || needsOwnerWork(obj))) queue_.add(kind.kind + "|" + keyOf(obj));
  if (!deleted) return;
  // Its dependents may now be orphans; its owners may be waiting for it.
  for (auto& [k, dep] : dependentsOf(uidOf(obj))) queue_.add(k->kind + "|" + keyOf(dep));
  if (hasOwners(obj))
    for (const Json& ref : obj["metadata"]["ownerReferences"])
      queue_.add(ref.value("kind", "") + "|" + ns + "/" + ref.value("name", ""));
}

std::vector<std::pair<const GarbageCollector::Kind*, Json>> GarbageCollector::dependentsOf(
    const std::string& uid) {
  std::vector<std::pair<const Kind*, Json>> out;
  if (uid.empty()) return out;
  for (auto& k : kinds_)
    for (Json& o : k->informer->list([&](const Json& x) {
           if (!hasOwners(x)) return false;
           for (const Json& r : x["metadata"]["ownerReferences"])
             if (r.value("uid", "") == uid) return true;
           return false;
         }))
      out.emplace_back(k.get(), std::move(o));
  return out;
}

void GarbageCollector::resync() {
  for (auto& k : kinds_)
    for (const Json& o : k->informer->list())
      if (hasOwners(o) || needsOwnerWork(o)) queue_.add(k->kind + "|" + keyOf(o));
}

void GarbageCollector::worker() {
  std::vector<client::Informer*> informers;
  for (auto& k : kinds_) informers.push_back(k->informer.get());
  drainQueue(queue_, informers, "garbage collector",
             [this](const std::string& item) { return process(item); });
}

Status GarbageCollector::process(const std::string& item) {
  auto bar = item.find('|');
  const Kind* kind = kindNamed(item.substr(0, bar));
  if (!kind) return {};
  auto obj = kind->informer->get(item.substr(bar + 1));
  if (!obj) return {};
  if (needsOwnerWork(*obj)) {
    if (Status s = processOwner(*kind, *obj); !s) return s;
  }
  if (hasOwners(*obj)) return checkOwners(*kind, *obj);
  return {};
}

Result<OwnerState> GarbageCollector::ownerState(const Json& ref, const std::string& ns) {
  const Kind* kind = kindNamed(ref.value("kind", ""));
  if (!kind || ref.value("apiVersion", "") != kind->apiVersion)
    return OwnerState::kExists;  // a kind we do not track: never assume it is gone
  std::string uid = ref.value("uid", "");
  std::string name = ref.value("name", "");
  auto cached = kind->informer->get(ns + "/" + name);
  Json owner;
  if (cached && uidOf(*cached) == uid) {
    owner = *cached;
  } else {
    auto live = client_->get(kind->path(ns, name));
    if (!live) {
      if (live.error().code == Code::kNotFound) return OwnerState::kGone;
      return live.error();
    }
    if (uidOf(*live) != uid) return OwnerState::kGone;
    owner = *live;
  }
  if (isDeleting(owner) && hasFinalizer(owner, kForegroundFinalizer))
    return OwnerState::kWaitingForDependents;
  return OwnerState::kExists;
}

Status GarbageCollector::checkOwners(const Kind& kind, const Json& obj) {
  std::string ns = str(obj, "metadata", "namespace");
  std::vector<std::string> uids;
  std::vector<OwnerState> states;
  for (const Json& ref : obj["metadata"]["ownerReferences"]) {
    auto st = ownerState(ref, ns);
    if (!st) return st.error();
    uids.push_back(ref.value("uid", ""));
    states.push_back(*st);
  }
  OwnerVerdict v = judgeOwners(uids, states, !dependentsOf(uidOf(obj)).empty());
  std::string name = str(obj, "metadata", "name");
  if (v.action == OwnerVerdict::Action::kRemoveRefs) {
    Json refs = Json::array();
    for (const std::string& u : v.removeUids) refs.push_back({{"$patch", "delete"}, {"uid", u}});
    auto r = client_->patch(kind.path(ns, name),
                            Json{{"metadata", {{"uid", uidOf(obj)}, {"ownerReferences", refs}}}},
                            client::kStrategicMergePatch);
    if (!r && r.error().code != Code::kNotFound) return r.error();
  } else if (v.action == OwnerVerdict::Action::kDelete) {
    if (isDeleting(obj)) return {};
    logInfo("garbage collector deletes",
            {{"kind", kind.kind}, {"object", keyOf(obj)}, {"propagationPolicy", v.propagation}});
    // A conflict: its update event brings it back here.
    Status s = deleteAsCached(kind, obj, v.propagation);
    if (!s && s.error().code != Code::kConflict) return s;
  }
  return {};
}

Status GarbageCollector::deleteAsCached(const Kind& kind, const Json& obj,
                                        const std::string& propagation) {
  auto r = client_->del(
      kind.path(str(obj, "metadata", "namespace"), str(obj, "metadata", "name")),
      Json{{"propagationPolicy", propagation},
           {"preconditions",
            {{"uid", uidOf(obj)}, {"resourceVersion", str(obj, "metadata", "resourceVersion")}}}});
  if (!r && r.error().code != Code::kNotFound) return r.error();
  return {};
}

Status GarbageCollector::processOwner(const Kind& kind, const Json& owner) {
  std::string uid = uidOf(owner);
  auto deps = dependentsOf(uid);
  if (hasFinalizer(owner, kOrphanFinalizer)) {
    for (auto& [k, dep] : deps) {
      auto r = client_->patch(
          k->path(str(dep, "metadata", "namespace"), str(dep, "metadata", "name")),
          Json{{"metadata",
                {{"uid", uidOf(dep)},
                 {"ownerReferences", Json::array({{{"$patch", "delete"}, {"uid", uid}}})}}}},
          client::kStrategicMergePatch);
      if (!r && r.error().code != Code::kNotFound) return r.error();
    }
    logInfo("garbage collector orphaned dependents",
            {{"owner", keyOf(owner)}, {"count", std::to_string(deps.size())}});
    return removeFinalizer(kind, owner, kOrphanFinalizer);
  }
  // Foreground: delete the dependents, wait for the blocking ones to go.
  bool blocking = false;
  Status changed;  // a dependent changed since the cache saw it
  for (auto& [k, dep] : deps) {
    for (const Json& r : dep["metadata"]["ownerReferences"])
      if (r.value("uid", "") == uid && r.value("blockOwnerDeletion", false)) blocking = true;
    if (isDeleting(dep)) continue;
    // On a conflict the owner is retried, by when the cache knows whether
    // the dependent still is one (it may have been orphaned meanwhile).
    Status s = deleteAsCached(*k, dep, k->kind == "Pod" ? "Background" : "Foreground");
    if (!s && s.error().code == Code::kConflict) {
      changed = s;
    } else if (!s) {
      return s;
    }
  }
  if (!changed) return changed;
  if (blocking) return {};  // dependents' delete events bring us back
  return removeFinalizer(kind, owner, kForegroundFinalizer);
}

Status GarbageCollector::removeFinalizer(const Kind& kind, const Json& obj,
                                         const std::string& finalizer) {
  std::string path = kind.path(str(obj, "metadata", "namespace"), str(obj, "metadata", "name"));
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto live = client_->get(path);
    if (!live) return live.error().code == Code::kNotFound ? Status() : Status(live.error());
    if (uidOf(*live) != uidOf(obj) || !hasFinalizer(*live, finalizer)) return {};
    Json next = *live;
    Json kept = Json::array();
    for (const Json& f : next["metadata"]["finalizers"])
      if (f != finalizer) kept.push_back(f);
    next["metadata"]["finalizers"] = kept;
    auto r = client_->put(path, next);
    if (r) return {};
    if (r.error().code == Code::kNotFound) return {};
    if (r.error().code != Code::kConflict) return r.error();
  }
  return makeError(Code::kConflict, "remove finalizer " + finalizer + " from " + path +
                                        ": conflicts kept happening");
}

}  // namespace skiff::controllers
