#include "controllers/deployment.h"

#include <algorithm>
#include <climits>
#include <cmath>

#include "api/selector.h"
#include "base/log.h"

namespace skiff::controllers {

namespace {

const char* const kAlphanums = "bcdfghjklmnpqrstvwxz2456789";

std::string rsPath(const std::string& ns, const std::string& name) {
  return "/apis/apps/v1/namespaces/" + ns + "/replicasets/" + name;
}
std::string deployPath(const std::string& ns, const std::string& name) {
  return "/apis/apps/v1/namespaces/" + ns + "/deployments/" + name;
}

long long statusNum(const Json& obj, const char* field) {
  return num(obj, "status", field, 0);
}

// Available replicas, never more than the ReplicaSet's spec until its status
// has caught up with a scale-down (so a stale count is never spent twice).
long long availableOf(const Json& rs) {
  long long a = statusNum(rs, "availableReplicas");
  if (statusNum(rs, "observedGeneration") < num(rs, "metadata", "generation", 0))
    a = std::min(a, specReplicas(rs));
  return a;
}

TimePoint createdAt(const Json& obj) {
  return parseTime(str(obj, "metadata", "creationTimestamp")).value_or(TimePoint{});
}

// Oldest first, then by name.
void sortByCreation(std::vector<Json>& rs) {
  std::stable_sort(rs.begin(), rs.end(), [](const Json& a, const Json& b) {
    auto ta = createdAt(a), tb = createdAt(b);
    if (ta != tb) return ta < tb;
    return str(a, "metadata", "name") < str(b, "metadata", "name");
  });
}

bool hasProgressDeadline(const Json& d) {
  long long p = num(d, "spec", "progressDeadlineSeconds", -1);
  return p > 0 && p != INT32_MAX;
}

// Drops nulls, {} and [] (recursively): Kubernetes compares templates as Go
// structs, where `resources: {}` and no resources are the same value, and
// kubectl's rollout undo sends the template re-encoded from Go.
void dropEmpty(Json& j) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end();) {
      dropEmpty(it.value());
      bool empty = it.value().is_null() ||
                   ((it.value().is_object() || it.value().is_array()) && it.value().empty());
      it = empty ? j.erase(it) : std::next(it);
    }
  } else if (j.is_array()) {
    for (Json& e : j) dropEmpty(e);
  }
}

Json stripHash(Json tmpl) {
  dropEmpty(tmpl);
  if (tmpl.is_object() && tmpl.contains("metadata") && tmpl["metadata"].is_object() &&
      tmpl["metadata"].contains("labels") && tmpl["metadata"]["labels"].is_object()) {
    tmpl["metadata"]["labels"].erase(kPodTemplateHashLabel);
    if (tmpl["metadata"]["labels"].empty()) tmpl["metadata"].erase("labels");
  }
  return tmpl;
}

bool isRolling(const Json& d) {
  return str(d, "spec", "strategy", "type") != "Recreate";
}

Json templateOf(const Json& obj) {
  if (obj.contains("spec") && obj["spec"].is_object() && obj["spec"].contains("template"))
    return obj["spec"]["template"];
  return Json::object();
}

long long annotationInt(const Json& obj, const char* name, long long fallback) {
  std::string v = str(obj, "metadata", "annotations", name);
  if (v.empty()) return fallback;
  try {
    return std::stoll(v);
  } catch (...) {
    return fallback;
  }
}

}  // namespace

// ---- pure decisions ----

std::string podTemplateHash(const Json& podTemplate, long long collisionCount) {
  std::string text = stripHash(podTemplate).dump();
  if (collisionCount > 0) text += std::to_string(collisionCount);
  uint32_t h = 2166136261u;
  for (unsigned char c : text) {
    h ^= c;
    h *= 16777619u;
  }
  std::string dec = std::to_string(h);
  std::string out;
  for (unsigned char c : dec) out += kAlphanums[c % 27];
  return out;
}

bool equalIgnoreHash(const Json& a, const Json& b) {
  return stripHash(a) == stripHash(b);
}

long long revisionOf(const Json& rs) {
  return annotationInt(rs, kRevisionAnnotation, 0);
}

long long specReplicas(const Json& obj) {
  return num(obj, "spec", "replicas", 1);
}

Fenceposts resolveFenceposts(const Json& d) {
  Fenceposts f;
  if (!isRolling(d)) return f;
  long long replicas = specReplicas(d);
  const Json* ru = nullptr;
  if (d.contains("spec") && d["spec"].contains("strategy") &&
      d["spec"]["strategy"].contains("rollingUpdate"))
    ru = &d["spec"]["strategy"]["rollingUpdate"];
  const Json* surge = ru && ru->contains("maxSurge") ? &(*ru)["maxSurge"] : nullptr;
  const Json* unav = ru && ru->contains("maxUnavailable") ? &(*ru)["maxUnavailable"] : nullptr;
  f.surge = resolveIntOrPercent(surge, replicas, true);
  f.unavailable = resolveIntOrPercent(unav, replicas, false);
  if (f.surge == 0 && f.unavailable == 0) f.unavailable = 1;
  return f;
}

long long maxUnavailable(const Json& d) {
  long long replicas = specReplicas(d);
  if (!isRolling(d) || replicas == 0) return 0;
  return std::min(resolveFenceposts(d).unavailable, replicas);
}

long long newReplicaSetReplicas(const Json& d, const std::vector<Json>& allRs, const Json* newRs) {
  long long replicas = specReplicas(d);
  if (!isRolling(d)) return replicas;
  // Pods that exist count even when the spec says fewer (an old ReplicaSet
  // scaled down whose pods are not gone yet): never more than replicas +
  // maxSurge pods, not only ReplicaSet sizes.
  long long current = 0;
  for (const Json& rs : allRs) current += std::max(specReplicas(rs), statusNum(rs, "replicas"));
  long long newSpec = newRs ? specReplicas(*newRs) : 0;
  long long maxTotal = replicas + resolveFenceposts(d).surge;
  if (current >= maxTotal) return newSpec;
  long long up = std::min(maxTotal - current, replicas - newSpec);
  return newSpec + std::max(0LL, up);
}

std::map<std::string, long long> oldReplicaSetScaleDown(const Json& d,
                                                        const std::vector<Json>& oldRsIn,
                                                        const Json* newRs) {
  std::map<std::string, long long> out;
  std::vector<Json> oldRs = oldRsIn;
  sortByCreation(oldRs);
  long long oldCount = 0, allCount = newRs ? specReplicas(*newRs) : 0;
  for (const Json& rs : oldRs) {
    oldCount += specReplicas(rs);
    allCount += specReplicas(rs);
  }
  if (oldCount == 0) return out;
  long long minAvailable = specReplicas(d) - maxUnavailable(d);
  long long newUnavailable = newRs ? specReplicas(*newRs) - availableOf(*newRs) : 0;
  long long maxScaledDown = allCount - minAvailable - newUnavailable;
  if (maxScaledDown <= 0) return out;

  // Unhealthy replicas first: they add nothing to availability.
  long long cleaned = 0;
  for (Json& rs : oldRs) {
    if (cleaned >= maxScaledDown) break;
    long long spec = specReplicas(rs);
    long long unhealthy = spec - availableOf(rs);
    if (spec == 0 || unhealthy <= 0) continue;
    long long n = std::min(maxScaledDown - cleaned, unhealthy);
    rs["spec"]["replicas"] = spec - n;
    out[str(rs, "metadata", "name")] = spec - n;
    cleaned += n;
  }
  // Then available ones, while enough stay available.
  long long available = newRs ? availableOf(*newRs) : 0;
  for (const Json& rs : oldRs) available += std::min(availableOf(rs), specReplicas(rs));
  if (available <= minAvailable) return out;
  long long total = available - minAvailable, done = 0;
  for (Json& rs : oldRs) {
    if (done >= total) break;
    long long spec = specReplicas(rs);
    if (spec == 0) continue;
    long long n = std::min(spec, total - done);
    rs["spec"]["replicas"] = spec - n;
    out[str(rs, "metadata", "name")] = spec - n;
    done += n;
  }
  return out;
}

std::vector<std::string> replicaSetsToCleanUp(const Json& d, const std::vector<Json>& oldRs) {
  std::vector<std::string> out;
  if (!d.contains("spec") || !d["spec"].contains("revisionHistoryLimit")) return out;
  long long limit = num(d, "spec", "revisionHistoryLimit", 10);
  std::vector<Json> cleanable;
  for (const Json& rs : oldRs)
    if (!isDeleting(rs)) cleanable.push_back(rs);
  long long diff = static_cast<long long>(cleanable.size()) - limit;
  if (diff <= 0) return out;
  std::stable_sort(cleanable.begin(), cleanable.end(), [](const Json& a, const Json& b) {
    long long ra = revisionOf(a), rb = revisionOf(b);
    if (ra != rb) return ra < rb;
    return createdAt(a) < createdAt(b);
  });
  for (long long i = 0; i < diff; ++i) {
    const Json& rs = cleanable[i];
    if (statusNum(rs, "replicas") != 0 || specReplicas(rs) != 0 ||
        num(rs, "metadata", "generation", 0) > statusNum(rs, "observedGeneration"))
      continue;
    out.push_back(str(rs, "metadata", "name"));
  }
  return out;
}

const Json* findCondition(const Json& status, const std::string& type) {
  if (!status.is_object() || !status.contains("conditions") || !status["conditions"].is_array())
    return nullptr;
  for (const Json& c : status["conditions"])
    if (c.value("type", "") == type) return &c;
  return nullptr;
}

void setCondition(Json& status, const std::string& type, const std::string& condStatus,
                  const std::string& reason, const std::string& message, TimePoint now) {
  std::string t = formatTime(now);
  Json cond = {{"type", type},        {"status", condStatus},
               {"lastUpdateTime", t}, {"lastTransitionTime", t},
               {"reason", reason},    {"message", message}};
  const Json* cur = findCondition(status, type);
  if (cur) {
    if (cur->value("status", "") == condStatus && cur->value("reason", "") == reason) return;
    if (cur->value("status", "") == condStatus)
      cond["lastTransitionTime"] = cur->value("lastTransitionTime", t);
  }
  Json conds = Json::array();
  if (status.contains("conditions") && status["conditions"].is_array())
    for (const Json& c : status["conditions"])
      if (c.value("type", "") != type) conds.push_back(c);
  conds.push_back(cond);
  status["conditions"] = conds;
}

Json calculateStatus(const Json& d, const std::vector<Json>& allRs, const Json* newRs,
                     TimePoint now) {
  long long available = 0, total = 0, actual = 0, ready = 0;
  for (const Json& rs : allRs) {
    available += statusNum(rs, "availableReplicas");
    total += specReplicas(rs);
    actual += statusNum(rs, "replicas");
    ready += statusNum(rs, "readyReplicas");
  }
  Json old = d.value("status", Json::object());
  Json s = Json::object();
  s["observedGeneration"] = num(d, "metadata", "generation", 0);
  s["replicas"] = actual;
  s["updatedReplicas"] = newRs ? statusNum(*newRs, "replicas") : 0;
  s["readyReplicas"] = ready;
  s["availableReplicas"] = available;
  s["unavailableReplicas"] = std::max(0LL, total - available);
  if (old.contains("collisionCount")) s["collisionCount"] = old["collisionCount"];
  if (old.contains("conditions")) s["conditions"] = old["conditions"];
  if (available >= specReplicas(d) - maxUnavailable(d))
    setCondition(s, "Available", "True", "MinimumReplicasAvailable",
                 "Deployment has minimum availability.", now);
  else
    setCondition(s, "Available", "False", "MinimumReplicasUnavailable",
                 "Deployment does not have minimum availability.", now);
  return s;
}

bool deploymentComplete(const Json& d, const Json& s) {
  long long r = specReplicas(d);
  return s.value("updatedReplicas", 0LL) == r && s.value("replicas", 0LL) == r &&
         s.value("availableReplicas", 0LL) == r &&
         s.value("observedGeneration", 0LL) >= num(d, "metadata", "generation", 0);
}

namespace {

bool deploymentProgressing(const Json& d, const Json& s) {
  Json old = d.value("status", Json::object());
  long long oldOld = old.value("replicas", 0LL) - old.value("updatedReplicas", 0LL);
  long long newOld = s.value("replicas", 0LL) - s.value("updatedReplicas", 0LL);
  return s.value("updatedReplicas", 0LL) > old.value("updatedReplicas", 0LL) || newOld < oldOld ||
         s.value("readyReplicas", 0LL) > old.value("readyReplicas", 0LL) ||
         s.value("availableReplicas", 0LL) > old.value("availableReplicas", 0LL);
}

bool deploymentTimedOut(const Json& d, const Json& s, TimePoint now) {
  if (!hasProgressDeadline(d)) return false;
  const Json* c = findCondition(s, "Progressing");
  if (!c) return false;
  std::string reason = c->value("reason", "");
  if (reason == "NewReplicaSetAvailable") return false;
  if (reason == "ProgressDeadlineExceeded") return true;
  auto from = parseTime(c->value("lastUpdateTime", ""));
  if (!from) return false;
  return *from + std::chrono::seconds(num(d, "spec", "progressDeadlineSeconds", 600)) < now;
}

}  // namespace

Json rolloutStatus(const Json& d, const std::vector<Json>& allRs, const Json* newRs,
                   TimePoint now) {
  Json s = calculateStatus(d, allRs, newRs, now);
  if (!hasProgressDeadline(d) && s.contains("conditions")) {
    Json conds = Json::array();
    for (const Json& c : s["conditions"])
      if (c.value("type", "") != "Progressing") conds.push_back(c);
    s["conditions"] = conds;
  }
  std::string rsName = newRs ? str(*newRs, "metadata", "name") : "";
  const Json* cur = findCondition(s, "Progressing");
  // "Complete" for another ReplicaSet than today's new one is a rollout that
  // has started (a status written before the new ReplicaSet was lost or not
  // yet seen): say so, or the rollout would look finished forever.
  if (hasProgressDeadline(d) && newRs && cur &&
      cur->value("reason", "") == "NewReplicaSetAvailable" &&
      cur->value("message", "") != "ReplicaSet \"" + rsName + "\" has successfully progressed.") {
    setCondition(s, "Progressing", "True", "FoundNewReplicaSet",
                 "Found new replica set \"" + rsName + "\"", now);
    cur = findCondition(s, "Progressing");
  }
  bool complete = s.value("replicas", 0LL) == s.value("updatedReplicas", 0LL) && cur &&
                  cur->value("reason", "") == "NewReplicaSetAvailable";
  if (hasProgressDeadline(d) && !complete) {
    if (deploymentComplete(d, s)) {
      setCondition(s, "Progressing", "True", "NewReplicaSetAvailable",
                   newRs ? "ReplicaSet \"" + rsName + "\" has successfully progressed."
                         : "Deployment has successfully progressed.",
                   now);
    } else if (deploymentProgressing(d, s)) {
      std::string msg =
          newRs ? "ReplicaSet \"" + rsName + "\" is progressing." : "Deployment is progressing.";
      std::string t = formatTime(now);
      Json cond = {{"type", "Progressing"},         {"status", "True"},
                   {"lastUpdateTime", t},           {"lastTransitionTime", t},
                   {"reason", "ReplicaSetUpdated"}, {"message", msg}};
      if (cur && cur->value("status", "") == "True")
        cond["lastTransitionTime"] = cur->value("lastTransitionTime", t);
      Json conds = Json::array();
      for (const Json& c : s["conditions"])
        if (c.value("type", "") != "Progressing") conds.push_back(c);
      conds.push_back(cond);
      s["conditions"] = conds;
    } else if (deploymentTimedOut(d, s, now)) {
      setCondition(s, "Progressing", "False", "ProgressDeadlineExceeded",
                   newRs ? "ReplicaSet \"" + rsName + "\" has timed out progressing."
                         : "Deployment has timed out progressing.",
                   now);
    }
  }
  return s;
}

RolloutView viewRollout(const Json& d) {
  RolloutView v;
  std::string name = str(d, "metadata", "name");
  Json s = d.value("status", Json::object());
  if (num(d, "metadata", "generation", 0) <= s.value("observedGeneration", 0LL)) {
    const Json* c = findCondition(s, "Progressing");
    if (c && c->value("reason", "") == "ProgressDeadlineExceeded") {
      v.error = "deployment \"" + name + "\" exceeded its progress deadline";
      return v;
    }
    long long replicas = specReplicas(d);
    long long updated = s.value("updatedReplicas", 0LL);
    long long total = s.value("replicas", 0LL);
    long long available = s.value("availableReplicas", 0LL);
    if (updated < replicas) {
      v.message = "Waiting for deployment \"" + name +
                  "\" rollout to finish: " + std::to_string(updated) + " out of " +
                  std::to_string(replicas) + " new replicas have been updated...\n";
    } else if (total > updated) {
      v.message = "Waiting for deployment \"" + name +
                  "\" rollout to finish: " + std::to_string(total - updated) +
                  " old replicas are pending termination...\n";
    } else if (available < updated) {
      v.message = "Waiting for deployment \"" + name +
                  "\" rollout to finish: " + std::to_string(available) + " of " +
                  std::to_string(updated) + " updated replicas are available...\n";
    } else {
      v.message = "deployment \"" + name + "\" successfully rolled out\n";
      v.done = true;
    }
    return v;
  }
  v.message = "Waiting for deployment spec update to be observed...\n";
  return v;
}

// ---- controller ----

struct DeploymentController::SyncState {
  Json d;                    // as cached, status possibly amended in memory
  Json originalStatus;       // as cached
  std::vector<Json> rsList;  // claimed ReplicaSets
  std::optional<Json> newRs;
  std::vector<Json> oldRs;
  std::vector<Json> all() const {
    std::vector<Json> a = oldRs;
    if (newRs) a.push_back(*newRs);
    return a;
  }
  std::string ns() const { return str(d, "metadata", "namespace"); }
  std::string name() const { return str(d, "metadata", "name"); }
};

DeploymentController::DeploymentController(client::ClientConfig config,
                                           DeploymentControllerOptions options)
    : config_(std::move(config)), options_(options) {}

DeploymentController::~DeploymentController() {
  stop();
}

Status DeploymentController::start() {
  if (started_) return {};
  started_ = true;
  client_ = std::make_unique<client::RestClient>(config_);
  watchClient_ = std::make_unique<client::RestClient>(config_);
  events_ = std::make_unique<client::EventRecorder>(config_, "deployment-controller");
  deployments_ = std::make_unique<client::Informer>(*watchClient_, "/apis/apps/v1/deployments");
  replicaSets_ = std::make_unique<client::Informer>(*watchClient_, "/apis/apps/v1/replicasets");
  pods_ = std::make_unique<client::Informer>(*watchClient_, "/api/v1/pods");

  client::InformerHandlers dh;
  dh.onAdd = [this](const Json& d) { queue_.add(keyOf(d)); };
  dh.onUpdate = [this](const Json&, const Json& d) { queue_.add(keyOf(d)); };
  dh.onDelete = [this](const Json& d) { queue_.add(keyOf(d)); };
  deployments_->addHandlers(dh);

  client::InformerHandlers rh;
  rh.onAdd = [this](const Json& rs) { enqueueOwner(rs); };
  rh.onUpdate = [this](const Json& old, const Json& rs) {
    enqueueOwner(old);
    enqueueOwner(rs);
  };
  rh.onDelete = [this](const Json& rs) {
    {
      std::lock_guard<std::mutex> lock(writtenMu_);
      written_.erase(keyOf(rs));
    }
    enqueueOwner(rs);
  };
  replicaSets_->addHandlers(rh);

  // Pods matter only for Recreate (wait until old pods are gone).
  client::InformerHandlers ph;
  ph.onDelete = [this](const Json& pod) {
    const Json* ref = controllerRef(pod);
    if (!ref || ref->value("kind", "") != "ReplicaSet") return;
    auto rs = replicaSets_->get(str(pod, "metadata", "namespace") + "/" + ref->value("name", ""));
    if (rs) enqueueOwner(*rs);
  };
  pods_->addHandlers(ph);

  deployments_->start();
  replicaSets_->start();
  pods_->start();
  workers_.start(
      options_.workers, options_.resync, [this] { worker(); }, [this] { resync(); });
  logInfo("deployment controller started");
  return {};
}

void DeploymentController::stop() {
  if (!workers_.stop()) return;  // never started, or stopped already
  stopInformers({deployments_.get(), replicaSets_.get(), pods_.get()});
}

void DeploymentController::resync() {
  for (const Json& d : deployments_->list()) queue_.add(keyOf(d));
}

void DeploymentController::enqueueOwner(const Json& rs) {
  std::string ns = str(rs, "metadata", "namespace");
  if (const Json* ref = controllerRef(rs)) {
    if (ref->value("kind", "") == "Deployment") queue_.add(ns + "/" + ref->value("name", ""));
    return;
  }
  for (const Json& d :
       deployments_->list([&](const Json& x) { return str(x, "metadata", "namespace") == ns; })) {
    auto sel = api::LabelSelector::fromJson(d["spec"].value("selector", Json()));
    if (sel && !sel->empty() && sel->matches(rs["metadata"].value("labels", Json())))
      queue_.add(keyOf(d));
  }
}

void DeploymentController::worker() {
  drainQueue(queue_, {deployments_.get(), replicaSets_.get(), pods_.get()}, "deployment",
             [this](const std::string& key) { return sync(key); });
}

namespace {
long long rvOf(const Json& obj) {
  try {
    return std::stoll(str(obj, "metadata", "resourceVersion"));
  } catch (...) {
    return 0;
  }
}
}  // namespace

void DeploymentController::remember(const Json& rs) {
  std::lock_guard<std::mutex> lock(writtenMu_);
  written_[keyOf(rs)] = rs;
}

std::vector<Json> DeploymentController::replicaSetsIn(const std::string& ns) {
  std::vector<Json> out =
      replicaSets_->list([&](const Json& rs) { return str(rs, "metadata", "namespace") == ns; });
  std::lock_guard<std::mutex> lock(writtenMu_);
  for (auto it = written_.begin(); it != written_.end();) {
    const Json& w = it->second;
    bool found = false, drop = false;
    for (Json& rs : out) {
      if (keyOf(rs) != it->first) continue;
      found = true;
      if (uidOf(rs) != uidOf(w) || rvOf(rs) >= rvOf(w))
        drop = true;  // the cache caught up (or it is another object now)
      else
        rs = w;
    }
    if (!found && str(w, "metadata", "namespace") == ns) out.push_back(w);  // created, unseen
    it = drop ? written_.erase(it) : std::next(it);
  }
  return out;
}

Result<std::vector<Json>> DeploymentController::claimReplicaSets(const Json& d) {
  std::string ns = str(d, "metadata", "namespace");
  std::string uid = uidOf(d);
  auto sel = api::LabelSelector::fromJson(d["spec"].value("selector", Json()));
  std::vector<Json> out;
  if (!sel) return out;
  for (const Json& rs : replicaSetsIn(ns)) {
    const Json* ref = controllerRef(rs);
    bool matches = !sel->empty() && sel->matches(rs["metadata"].value("labels", Json()));
    if (ref) {
      if (ref->value("uid", "") != uid) continue;
      if (matches || isDeleting(d)) {
        out.push_back(rs);
        continue;
      }
      Json p = {{"metadata",
                 {{"uid", uidOf(rs)},
                  {"ownerReferences", Json::array({{{"$patch", "delete"}, {"uid", uid}}})}}}};
      auto r =
          client_->patch(rsPath(ns, str(rs, "metadata", "name")), p, client::kStrategicMergePatch);
      if (!r && r.error().code != Code::kNotFound) return r.error();
      continue;
    }
    if (!matches || isDeleting(d) || isDeleting(rs)) continue;
    Json p = {
        {"metadata",
         {{"uid", uidOf(rs)},
          {"ownerReferences", Json::array({makeControllerRef(d, "apps/v1", "Deployment")})}}}};
    auto r =
        client_->patch(rsPath(ns, str(rs, "metadata", "name")), p, client::kStrategicMergePatch);
    if (!r) {
      if (r.error().code == Code::kNotFound) continue;
      return r.error();
    }
    remember(*r);
    out.push_back(*r);
  }
  return out;
}

Result<Json> DeploymentController::scaleReplicaSet(const Json& d, const Json& rs,
                                                   long long replicas) {
  std::string desired = std::to_string(specReplicas(d));
  std::string maxR = std::to_string(specReplicas(d) + resolveFenceposts(d).surge);
  if (specReplicas(rs) == replicas &&
      str(rs, "metadata", "annotations", kDesiredReplicasAnnotation) == desired &&
      str(rs, "metadata", "annotations", kMaxReplicasAnnotation) == maxR)
    return rs;
  Json p = {
      {"metadata",
       {{"resourceVersion", str(rs, "metadata", "resourceVersion")},
        {"annotations", {{kDesiredReplicasAnnotation, desired}, {kMaxReplicasAnnotation, maxR}}}}},
      {"spec", {{"replicas", replicas}}}};
  auto r = client_->patch(rsPath(str(rs, "metadata", "namespace"), str(rs, "metadata", "name")), p,
                          client::kMergePatch);
  if (!r) return r.error();
  if (specReplicas(rs) != replicas) {
    logInfo("deployment scaled replicaset", {{"deployment", keyOf(d)},
                                             {"replicaset", str(rs, "metadata", "name")},
                                             {"from", std::to_string(specReplicas(rs))},
                                             {"to", std::to_string(replicas)}});
    events_->record(d, "Normal", "ScalingReplicaSet",
                    std::string(replicas > specReplicas(rs) ? "Scaled up" : "Scaled down") +
                        " replica set " + str(rs, "metadata", "name") + " from " +
                        std::to_string(specReplicas(rs)) + " to " + std::to_string(replicas));
  }
  remember(*r);
  return r;
}

namespace {
// Annotations a new ReplicaSet copies from its Deployment (all but these).
bool skipAnnotation(const std::string& k) {
  return k == "kubectl.kubernetes.io/last-applied-configuration" || k == kRevisionAnnotation ||
         k == "deployment.kubernetes.io/revision-history" || k == kDesiredReplicasAnnotation ||
         k == kMaxReplicasAnnotation || k == "deprecated.deployment.rollback.to";
}
}  // namespace

Result<Json> DeploymentController::getNewReplicaSet(SyncState& s, bool create) {
  const Json& d = s.d;
  long long maxOld = 0;
  for (const Json& rs : s.oldRs) maxOld = std::max(maxOld, revisionOf(rs));
  std::string newRevision = std::to_string(maxOld + 1);
  auto now = std::chrono::system_clock::now();

  if (s.newRs) {
    Json rs = *s.newRs;
    Json p = Json::object();
    if (revisionOf(rs) < maxOld + 1)
      p["metadata"]["annotations"][kRevisionAnnotation] = newRevision;
    long long mrs = num(d, "spec", "minReadySeconds", 0);
    if (num(rs, "spec", "minReadySeconds", 0) != mrs) p["spec"]["minReadySeconds"] = mrs;
    if (!p.empty()) {
      p["metadata"]["resourceVersion"] = str(rs, "metadata", "resourceVersion");
      auto r = client_->patch(rsPath(s.ns(), str(rs, "metadata", "name")), p, client::kMergePatch);
      if (!r) return r.error();
      rs = *r;
      remember(rs);
      s.newRs = rs;
    }
    std::string rev = str(rs, "metadata", "annotations", kRevisionAnnotation);
    if (str(d, "metadata", "annotations", kRevisionAnnotation) != rev) {
      auto r = client_->patch(deployPath(s.ns(), s.name()),
                              Json{{"metadata", {{"annotations", {{kRevisionAnnotation, rev}}}}}},
                              client::kMergePatch);
      if (!r) return r.error();
    }
    if (!findCondition(s.d.value("status", Json::object()), "Progressing") &&
        hasProgressDeadline(d)) {
      Json st = s.d.value("status", Json::object());
      setCondition(st, "Progressing", "True", "FoundNewReplicaSet",
                   "Found new replica set \"" + str(rs, "metadata", "name") + "\"", now);
      s.d["status"] = st;
    }
    return rs;
  }
  if (!create) return Json();

  long long collisions = num(d, "status", "collisionCount", 0);
  Json tmpl = templateOf(d);
  std::string hash = podTemplateHash(tmpl, collisions);
  tmpl["metadata"]["labels"][kPodTemplateHashLabel] = hash;
  Json selector = d["spec"].value("selector", Json::object());
  selector["matchLabels"][kPodTemplateHashLabel] = hash;
  std::string name = s.name() + "-" + hash;
  Json annotations = Json::object();
  if (d["metadata"].contains("annotations") && d["metadata"]["annotations"].is_object())
    for (auto it = d["metadata"]["annotations"].begin(); it != d["metadata"]["annotations"].end();
         ++it)
      if (!skipAnnotation(it.key())) annotations[it.key()] = it.value();
  annotations[kRevisionAnnotation] = newRevision;
  annotations[kDesiredReplicasAnnotation] = std::to_string(specReplicas(d));
  annotations[kMaxReplicasAnnotation] =
      std::to_string(specReplicas(d) + resolveFenceposts(d).surge);
  Json rs = {{"apiVersion", "apps/v1"},
             {"kind", "ReplicaSet"},
             {"metadata",
              {{"name", name},
               {"namespace", s.ns()},
               {"labels", tmpl["metadata"]["labels"]},
               {"annotations", annotations},
               {"ownerReferences", Json::array({makeControllerRef(d, "apps/v1", "Deployment")})}}},
             {"spec",
              {{"replicas", 0},
               {"minReadySeconds", num(d, "spec", "minReadySeconds", 0)},
               {"selector", selector},
               {"template", tmpl}}}};
  rs["spec"]["replicas"] = newReplicaSetReplicas(d, s.all(), nullptr);
  auto r = client_->post("/apis/apps/v1/namespaces/" + s.ns() + "/replicasets", rs);
  if (!r) {
    if (r.error().code != Code::kAlreadyExists) return r.error();
    auto existing = client_->get(rsPath(s.ns(), name));
    if (!existing) return existing.error();
    const Json* ref = controllerRef(*existing);
    if (ref && ref->value("uid", "") == uidOf(d) &&
        equalIgnoreHash(templateOf(*existing), templateOf(d))) {
      remember(*existing);
      s.newRs = *existing;
      return getNewReplicaSet(s, false);  // revision bookkeeping as for a found one
    }
    // A hash collision: bump collisionCount, which changes the next name.
    auto u =
        client_->patch(deployPath(s.ns(), s.name()) + "/status",
                       Json{{"status", {{"collisionCount", collisions + 1}}}}, client::kMergePatch);
    if (!u) return u.error();
    return makeError(Code::kConflict, "replicaset " + name +
                                          " exists with another template; "
                                          "collisionCount now " +
                                          std::to_string(collisions + 1));
  }
  remember(*r);
  logInfo("deployment created replicaset", {{"deployment", keyOf(d)},
                                            {"replicaset", name},
                                            {"revision", newRevision},
                                            {"replicas", std::to_string(specReplicas(*r))}});
  if (specReplicas(*r) > 0)
    events_->record(
        d, "Normal", "ScalingReplicaSet",
        "Scaled up replica set " + name + " from 0 to " + std::to_string(specReplicas(*r)));
  s.newRs = *r;
  auto u =
      client_->patch(deployPath(s.ns(), s.name()),
                     Json{{"metadata", {{"annotations", {{kRevisionAnnotation, newRevision}}}}}},
                     client::kMergePatch);
  if (!u && u.error().code != Code::kNotFound) return u.error();
  if (hasProgressDeadline(d)) {
    Json st = s.d.value("status", Json::object());
    // Created is a fresh start of progress: replace any previous reason.
    Json conds = Json::array();
    if (st.contains("conditions"))
      for (const Json& c : st["conditions"])
        if (c.value("type", "") != "Progressing") conds.push_back(c);
    st["conditions"] = conds;
    setCondition(st, "Progressing", "True", "NewReplicaSetCreated",
                 "Created new replica set \"" + name + "\"", now);
    s.d["status"] = st;
  }
  return *r;
}

Status DeploymentController::writeStatus(const SyncState& s, const Json& status) {
  // Look again when the progress deadline would pass.
  if (hasProgressDeadline(s.d) && !deploymentComplete(s.d, status)) {
    const Json* c = findCondition(status, "Progressing");
    if (c && c->value("status", "") == "True") {
      if (auto t = parseTime(c->value("lastUpdateTime", ""))) {
        auto due = *t + std::chrono::seconds(num(s.d, "spec", "progressDeadlineSeconds", 600) + 1);
        auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(
            due - std::chrono::system_clock::now());
        queue_.addAfter(keyOf(s.d), std::max(wait, std::chrono::milliseconds(100)));
      }
    }
  }
  if (status == s.originalStatus) return {};
  Json patch = Json::object();
  for (auto it = status.begin(); it != status.end(); ++it) {
    bool zero = it.value().is_number_integer() && it.value().get<long long>() == 0;
    patch[it.key()] = zero ? Json() : it.value();
  }
  for (auto it = s.originalStatus.begin(); it != s.originalStatus.end(); ++it)
    if (!status.contains(it.key())) patch[it.key()] = Json();
  // With the resourceVersion seen: a status computed from a stale cache must
  // not overwrite a newer one (the conflict requeues with fresh data).
  Json body = {{"metadata", {{"resourceVersion", str(s.d, "metadata", "resourceVersion")}}},
               {"status", patch}};
  auto r = client_->patch(deployPath(s.ns(), s.name()) + "/status", body, client::kMergePatch);
  if (!r && r.error().code != Code::kNotFound) return r.error();
  return {};
}

Status DeploymentController::cleanup(SyncState& s) {
  for (const std::string& name : replicaSetsToCleanUp(s.d, s.oldRs)) {
    logInfo("deployment deletes old replicaset",
            {{"deployment", keyOf(s.d)}, {"replicaset", name}});
    auto r = client_->del(rsPath(s.ns(), name));
    if (!r && r.error().code != Code::kNotFound) return r.error();
  }
  return {};
}

namespace {
std::vector<Json> activeOf(const std::vector<Json>& rs) {
  std::vector<Json> out;
  for (const Json& r : rs)
    if (specReplicas(r) > 0) out.push_back(r);
  return out;
}
}  // namespace

Status DeploymentController::rolling(SyncState& s) {
  auto nr = getNewReplicaSet(s, true);
  if (!nr) return nr.error();
  auto now = std::chrono::system_clock::now();
  Json& newRs = *s.newRs;
  long long replicas = specReplicas(s.d);
  // Scale the new ReplicaSet up (or down to replicas).
  if (specReplicas(newRs) != replicas) {
    long long want =
        specReplicas(newRs) > replicas ? replicas : newReplicaSetReplicas(s.d, s.all(), &newRs);
    if (want != specReplicas(newRs)) {
      auto r = scaleReplicaSet(s.d, newRs, want);
      if (!r) return r.error();
      newRs = *r;
      return writeStatus(s, rolloutStatus(s.d, s.all(), &newRs, now));
    }
  }
  // Scale old ones down.
  auto plan = oldReplicaSetScaleDown(s.d, activeOf(s.oldRs), &newRs);
  bool scaled = false;
  for (Json& rs : s.oldRs) {
    auto it = plan.find(str(rs, "metadata", "name"));
    if (it == plan.end() || it->second == specReplicas(rs)) continue;
    auto r = scaleReplicaSet(s.d, rs, it->second);
    if (!r) return r.error();
    rs = *r;
    scaled = true;
  }
  if (scaled) return writeStatus(s, rolloutStatus(s.d, s.all(), &newRs, now));
  if (deploymentComplete(s.d, s.originalStatus)) {
    if (Status c = cleanup(s); !c) return c;
  }
  Json st = rolloutStatus(s.d, s.all(), &newRs, now);
  return writeStatus(s, st);
}

Status DeploymentController::recreate(SyncState& s) {
  auto nr = getNewReplicaSet(s, false);
  if (!nr) return nr.error();
  auto now = std::chrono::system_clock::now();
  bool scaled = false;
  for (Json& rs : s.oldRs) {
    if (specReplicas(rs) == 0) continue;
    auto r = scaleReplicaSet(s.d, rs, 0);
    if (!r) return r.error();
    rs = *r;
    scaled = true;
  }
  const Json* newPtr = s.newRs ? &*s.newRs : nullptr;
  if (scaled) return writeStatus(s, rolloutStatus(s.d, s.all(), newPtr, now));
  // Wait until every old pod is gone (the status may lag: look at the pods).
  for (const Json& rs : s.oldRs) {
    if (statusNum(rs, "replicas") > 0)
      return writeStatus(s, rolloutStatus(s.d, s.all(), newPtr, now));
    std::string uid = uidOf(rs);
    auto pods = pods_->list([&](const Json& p) {
      const Json* ref = controllerRef(p);
      std::string phase = str(p, "status", "phase");
      return ref && ref->value("uid", "") == uid && phase != "Failed" && phase != "Succeeded";
    });
    if (!pods.empty()) return writeStatus(s, rolloutStatus(s.d, s.all(), newPtr, now));
  }
  if (!s.newRs) {
    auto r = getNewReplicaSet(s, true);
    if (!r) return r.error();
  }
  if (specReplicas(*s.newRs) != specReplicas(s.d)) {
    auto r = scaleReplicaSet(s.d, *s.newRs, specReplicas(s.d));
    if (!r) return r.error();
    s.newRs = *r;
  }
  if (deploymentComplete(s.d, s.originalStatus)) {
    if (Status c = cleanup(s); !c) return c;
  }
  return writeStatus(s, rolloutStatus(s.d, s.all(), &*s.newRs, now));
}

Status DeploymentController::scaleOnly(SyncState& s) {
  auto nr = getNewReplicaSet(s, false);
  if (!nr) return nr.error();
  auto now = std::chrono::system_clock::now();
  const Json* newPtr = s.newRs ? &*s.newRs : nullptr;
  long long replicas = specReplicas(s.d);

  // Everything but the indexes in `all` below refers to s.oldRs / s.newRs.
  std::vector<Json*> active;
  for (Json& rs : s.oldRs)
    if (specReplicas(rs) > 0) active.push_back(&rs);
  if (s.newRs && specReplicas(*s.newRs) > 0) active.push_back(&*s.newRs);

  Json* target = nullptr;
  if (active.size() == 1) {
    target = active[0];
  } else if (active.empty()) {
    if (s.newRs) {
      target = &*s.newRs;
    } else if (!s.oldRs.empty()) {
      target = &*std::max_element(s.oldRs.begin(), s.oldRs.end(), [](const Json& a, const Json& b) {
        return createdAt(a) < createdAt(b);
      });
    }
  }
  if (target) {
    auto r = scaleReplicaSet(s.d, *target, replicas);
    if (!r) return r.error();
    *target = *r;
  } else if (s.newRs && specReplicas(*s.newRs) == replicas &&
             statusNum(*s.newRs, "availableReplicas") == replicas) {
    for (Json& rs : s.oldRs) {
      if (specReplicas(rs) == 0) continue;
      auto r = scaleReplicaSet(s.d, rs, 0);
      if (!r) return r.error();
      rs = *r;
    }
  } else if (isRolling(s.d)) {
    // Proportional scaling across the active ReplicaSets, as Kubernetes.
    long long surge = resolveFenceposts(s.d).surge;
    long long allowed = replicas > 0 ? replicas + surge : 0;
    long long current = 0;
    for (Json* rs : active) current += specReplicas(*rs);
    long long toAdd = allowed - current;
    std::stable_sort(active.begin(), active.end(), [&](Json* a, Json* b) {
      long long sa = specReplicas(*a), sb = specReplicas(*b);
      if (sa != sb) return sa > sb;
      return toAdd > 0 ? createdAt(*a) > createdAt(*b) : createdAt(*a) < createdAt(*b);
    });
    std::vector<long long> sizes;
    long long added = 0;
    for (Json* rs : active) {
      long long spec = specReplicas(*rs);
      long long prop = 0;
      if (toAdd != 0 && spec != 0 && toAdd != added) {
        long long annotated =
            annotationInt(*rs, kMaxReplicasAnnotation, statusNum(s.d, "replicas"));
        long long fraction =
            annotated > 0
                ? std::llround(double(spec) * double(replicas + surge) / double(annotated)) - spec
                : -spec;
        if (replicas == 0) fraction = -spec;
        long long allowedLeft = toAdd - added;
        prop = toAdd > 0 ? std::min(fraction, allowedLeft) : std::max(fraction, allowedLeft);
      }
      sizes.push_back(spec + prop);
      added += prop;
    }
    if (!sizes.empty() && toAdd != added) sizes[0] = std::max(0LL, sizes[0] + toAdd - added);
    for (size_t i = 0; i < active.size(); ++i) {
      auto r = scaleReplicaSet(s.d, *active[i], sizes[i]);
      if (!r) return r.error();
      *active[i] = *r;
    }
  }
  newPtr = s.newRs ? &*s.newRs : nullptr;
  if (s.d["spec"].value("paused", false)) {
    if (deploymentComplete(s.d, s.originalStatus)) {
      if (Status c = cleanup(s); !c) return c;
    }
  }
  return writeStatus(s, calculateStatus(s.d, s.all(), newPtr, now));
}

Status DeploymentController::sync(const std::string& key) {
  auto cached = deployments_->get(key);
  if (!cached) return {};
  SyncState s;
  s.d = *cached;
  s.originalStatus = s.d.value("status", Json::object());
  auto sel = api::LabelSelector::fromJson(s.d["spec"].value("selector", Json()));
  if (!sel || sel->empty()) return {};  // Kubernetes: an empty selector selects nothing here
  auto claimed = claimReplicaSets(s.d);
  if (!claimed) return claimed.error();
  s.rsList = std::move(*claimed);
  sortByCreation(s.rsList);
  Json tmpl = templateOf(s.d);
  for (const Json& rs : s.rsList) {
    if (!s.newRs && equalIgnoreHash(templateOf(rs), tmpl))
      s.newRs = rs;
    else
      s.oldRs.push_back(rs);
  }
  auto now = std::chrono::system_clock::now();

  if (isDeleting(s.d)) {
    const Json* newPtr = s.newRs ? &*s.newRs : nullptr;
    return writeStatus(s, calculateStatus(s.d, s.all(), newPtr, now));
  }

  // Paused / resumed condition.
  bool paused = s.d["spec"].value("paused", false);
  {
    Json st = s.d.value("status", Json::object());
    const Json* c = findCondition(st, "Progressing");
    bool timedOut = c && c->value("reason", "") == "ProgressDeadlineExceeded";
    bool pausedCond = c && c->value("reason", "") == "DeploymentPaused";
    if (hasProgressDeadline(s.d) && !timedOut) {
      if (paused && !pausedCond)
        setCondition(st, "Progressing", "Unknown", "DeploymentPaused", "Deployment is paused", now);
      else if (!paused && pausedCond)
        setCondition(st, "Progressing", "Unknown", "DeploymentResumed", "Deployment is resumed",
                     now);
      s.d["status"] = st;
    }
  }
  if (paused) return scaleOnly(s);

  // A scaling event: an active ReplicaSet annotated with another desired size.
  bool scaling = false;
  for (const Json& rs : s.all()) {
    if (specReplicas(rs) == 0) continue;
    long long desired = annotationInt(rs, kDesiredReplicasAnnotation, -1);
    if (desired >= 0 && desired != specReplicas(s.d)) scaling = true;
  }
  // Only when the template has a ReplicaSet already (a new template is a rollout).
  if (scaling && s.newRs) return scaleOnly(s);
  if (!isRolling(s.d)) return recreate(s);
  return rolling(s);
}

}  // namespace skiff::controllers
