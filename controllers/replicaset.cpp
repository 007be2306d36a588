#include "controllers/replicaset.h"

#include <algorithm>

#include "api/selector.h"
#include "base/log.h"

namespace skiff::controllers {

namespace {

int phaseRank(const Json& pod) {
  std::string phase = str(pod, "status", "phase");
  if (phase == "Pending" || phase.empty()) return 0;
  if (phase == "Unknown") return 1;
  if (phase == "Running") return 2;
  return 3;
}

std::optional<TimePoint> readySince(const Json& pod) {
  const Json* conds = pod.contains("status") ? &pod["status"] : nullptr;
  if (!conds || !conds->is_object() || !conds->contains("conditions")) return std::nullopt;
  for (const Json& c : (*conds)["conditions"])
    if (c.is_object() && c.value("type", "") == "Ready" && c.value("status", "") == "True")
      return parseTime(c.value("lastTransitionTime", ""));
  return std::nullopt;
}

long long restarts(const Json& pod) {
  long long n = 0;
  const Json* st = pod.contains("status") ? &pod["status"] : nullptr;
  if (st && st->is_object() && st->contains("containerStatuses") &&
      (*st)["containerStatuses"].is_array())
    for (const Json& c : (*st)["containerStatuses"])
      if (c.is_object()) n = std::max(n, c.value("restartCount", 0LL));
  return n;
}

std::string rsApiPath(const std::string& ns, const std::string& name) {
  return "/apis/apps/v1/namespaces/" + ns + "/replicasets/" + name;
}
std::string podPath(const std::string& ns, const std::string& name) {
  return "/api/v1/namespaces/" + ns + "/pods/" + name;
}

bool selectorMatches(const Json& rs, const Json& pod) {
  const Json* sel =
      rs.contains("spec") && rs["spec"].contains("selector") ? &rs["spec"]["selector"] : nullptr;
  if (!sel) return false;
  auto s = api::LabelSelector::fromJson(*sel);
  if (!s || s->empty()) return false;
  const Json& md = pod["metadata"];
  return s->matches(md.contains("labels") ? md["labels"] : Json());
}

bool isNotFound(const Error& e) {
  return e.code == Code::kNotFound;
}

}  // namespace

bool deleteFirst(const Json& a, const Json& b) {
  bool aAssigned = !str(a, "spec", "nodeName").empty();
  bool bAssigned = !str(b, "spec", "nodeName").empty();
  if (aAssigned != bAssigned) return !aAssigned;
  int ra = phaseRank(a), rb = phaseRank(b);
  if (ra != rb) return ra < rb;
  bool aReady = podIsReady(a), bReady = podIsReady(b);
  if (aReady != bReady) return !aReady;
  if (aReady && bReady) {
    auto ta = readySince(a), tb = readySince(b);
    if (ta && tb && *ta != *tb) return *ta > *tb;  // ready for less time first
  }
  long long ca = restarts(a), cb = restarts(b);
  if (ca != cb) return ca > cb;
  auto ta = parseTime(str(a, "metadata", "creationTimestamp"));
  auto tb = parseTime(str(b, "metadata", "creationTimestamp"));
  if (ta.has_value() != tb.has_value()) return !ta.has_value();
  if (ta && tb && *ta != *tb) return *ta > *tb;  // newer first
  return str(a, "metadata", "name") > str(b, "metadata", "name");
}

std::vector<Json> podsToDelete(std::vector<Json> pods, size_t count) {
  std::stable_sort(pods.begin(), pods.end(), deleteFirst);
  if (pods.size() > count) pods.resize(count);
  return pods;
}

Json podFromTemplate(const Json& rs) {
  Json tmpl = rs["spec"].value("template", Json::object());
  Json pod = {{"apiVersion", "v1"}, {"kind", "Pod"}};
  Json md = Json::object();
  Json tmd = tmpl.value("metadata", Json::object());
  if (tmd.contains("labels")) md["labels"] = tmd["labels"];
  if (tmd.contains("annotations")) md["annotations"] = tmd["annotations"];
  if (tmd.contains("finalizers")) md["finalizers"] = tmd["finalizers"];
  md["generateName"] = str(rs, "metadata", "name") + "-";
  md["namespace"] = str(rs, "metadata", "namespace");
  md["ownerReferences"] = Json::array({makeControllerRef(rs, "apps/v1", "ReplicaSet")});
  pod["metadata"] = md;
  pod["spec"] = tmpl.value("spec", Json::object());
  return pod;
}

Json replicaSetStatus(const Json& rs, const std::vector<Json>& pods, TimePoint now) {
  long long minReady = num(rs, "spec", "minReadySeconds", 0);
  Json tmplLabels = Json::object();
  if (rs.contains("spec") && rs["spec"].contains("template") &&
      rs["spec"]["template"].contains("metadata"))
    tmplLabels = rs["spec"]["template"]["metadata"].value("labels", Json::object());
  long long fully = 0, ready = 0, available = 0;
  for (const Json& p : pods) {
    Json labels = p["metadata"].value("labels", Json::object());
    bool all = true;
    for (auto it = tmplLabels.begin(); it != tmplLabels.end(); ++it)
      if (!labels.contains(it.key()) || labels[it.key()] != it.value()) all = false;
    if (all) ++fully;
    if (podIsReady(p)) ++ready;
    if (podIsAvailable(p, minReady, now)) ++available;
  }
  Json status = {{"replicas", static_cast<long long>(pods.size())},
                 {"fullyLabeledReplicas", fully},
                 {"readyReplicas", ready},
                 {"availableReplicas", available},
                 {"observedGeneration", num(rs, "metadata", "generation", 0)}};
  if (rs.contains("status") && rs["status"].is_object() && rs["status"].contains("conditions"))
    status["conditions"] = rs["status"]["conditions"];
  return status;
}

long long secondsUntilNextAvailable(const std::vector<Json>& pods, long long minReadySeconds,
                                    TimePoint now) {
  long long best = -1;
  if (minReadySeconds <= 0) return -1;
  for (const Json& p : pods) {
    if (!podIsReady(p) || podIsAvailable(p, minReadySeconds, now)) continue;
    auto since = readySince(p);
    if (!since) continue;
    auto left = std::chrono::duration_cast<std::chrono::seconds>(
                    *since + std::chrono::seconds(minReadySeconds) - now)
                    .count() +
                1;
    if (best < 0 || left < best) best = left;
  }
  return best;
}

// ---- Expectations ----

bool Expectations::satisfied(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return true;
  if (it->second.adds <= 0 && it->second.deletes.empty()) return true;
  return std::chrono::steady_clock::now() - it->second.at > kExpectationsTimeout;
}

void Expectations::expectCreations(const std::string& key, int count) {
  std::lock_guard<std::mutex> lock(mu_);
  Entry& e = entries_[key];
  e.adds = count;
  e.deletes.clear();
  e.at = std::chrono::steady_clock::now();
}

void Expectations::creationObserved(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(key);
  if (it != entries_.end() && it->second.adds > 0) --it->second.adds;
}

void Expectations::expectDeletions(const std::string& key, const std::vector<std::string>& uids) {
  std::lock_guard<std::mutex> lock(mu_);
  Entry& e = entries_[key];
  e.adds = 0;
  e.deletes = std::set<std::string>(uids.begin(), uids.end());
  e.at = std::chrono::steady_clock::now();
}

void Expectations::deletionObserved(const std::string& key, const std::string& uid) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(key);
  if (it != entries_.end()) it->second.deletes.erase(uid);
}

void Expectations::forget(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  entries_.erase(key);
}

// ---- controller ----

ReplicaSetController::ReplicaSetController(client::ClientConfig config,
                                           ReplicaSetControllerOptions options)
    : config_(std::move(config)), options_(options) {}

ReplicaSetController::~ReplicaSetController() {
  stop();
}

Status ReplicaSetController::start() {
  if (started_) return {};
  started_ = true;
  client_ = std::make_unique<client::RestClient>(config_);
  watchClient_ = std::make_unique<client::RestClient>(config_);
  events_ = std::make_unique<client::EventRecorder>(config_, "replicaset-controller");
  pods_ = std::make_unique<client::Informer>(*watchClient_, "/api/v1/pods");
  replicaSets_ = std::make_unique<client::Informer>(*watchClient_, "/apis/apps/v1/replicasets");

  client::InformerHandlers rsHandlers;
  rsHandlers.onAdd = [this](const Json& rs) { queue_.add(keyOf(rs)); };
  rsHandlers.onUpdate = [this](const Json&, const Json& rs) { queue_.add(keyOf(rs)); };
  rsHandlers.onDelete = [this](const Json& rs) {
    expectations_.forget(keyOf(rs));
    queue_.add(keyOf(rs));
  };
  replicaSets_->addHandlers(rsHandlers);

  client::InformerHandlers podHandlers;
  podHandlers.onAdd = [this](const Json& pod) {
    const Json* ref = controllerRef(pod);
    if (ref && ref->value("kind", "") == "ReplicaSet")
      expectations_.creationObserved(str(pod, "metadata", "namespace") + "/" +
                                     ref->value("name", ""));
    if (isDeleting(pod) && ref && ref->value("kind", "") == "ReplicaSet")
      expectations_.deletionObserved(
          str(pod, "metadata", "namespace") + "/" + ref->value("name", ""), uidOf(pod));
    enqueueForPod(pod);
  };
  podHandlers.onUpdate = [this](const Json& oldPod, const Json& pod) {
    const Json* ref = controllerRef(pod);
    if (isDeleting(pod) && ref && ref->value("kind", "") == "ReplicaSet")
      expectations_.deletionObserved(
          str(pod, "metadata", "namespace") + "/" + ref->value("name", ""), uidOf(pod));
    const Json* oldRef = controllerRef(oldPod);
    if (oldRef && (!ref || oldRef->value("uid", "") != ref->value("uid", "")))
      enqueueForPod(oldPod);
    enqueueForPod(pod);
  };
  podHandlers.onDelete = [this](const Json& pod) {
    const Json* ref = controllerRef(pod);
    if (ref && ref->value("kind", "") == "ReplicaSet")
      expectations_.deletionObserved(
          str(pod, "metadata", "namespace") + "/" + ref->value("name", ""), uidOf(pod));
    enqueueForPod(pod);
  };
  pods_->addHandlers(podHandlers);

  pods_->start();
  replicaSets_->start();
  workers_.start(
      options_.workers, options_.resync, [this] { worker(); }, [this] { resync(); });
  logInfo("replicaset controller started");
  return {};
}

void ReplicaSetController::stop() {
  if (!workers_.stop()) return;  // never started, or stopped already
  stopInformers({pods_.get(), replicaSets_.get()});
}

void ReplicaSetController::resync() {
  for (const Json& rs : replicaSets_->list()) queue_.add(keyOf(rs));
}

void ReplicaSetController::enqueueForPod(const Json& pod) {
  std::string ns = str(pod, "metadata", "namespace");
  if (const Json* ref = controllerRef(pod)) {
    if (ref->value("kind", "") == "ReplicaSet") queue_.add(ns + "/" + ref->value("name", ""));
    return;
  }
  // An orphan: every ReplicaSet that could adopt it looks again.
  for (const Json& rs : replicaSets_->list([&](const Json& r) {
         return str(r, "metadata", "namespace") == ns && selectorMatches(r, pod);
       }))
    queue_.add(keyOf(rs));
}

void ReplicaSetController::worker() {
  drainQueue(queue_, {replicaSets_.get(), pods_.get()}, "replicaset",
             [this](const std::string& key) { return sync(key); });
}

Status ReplicaSetController::updateStatus(const Json& rs, const Json& status) {
  Json old = rs.value("status", Json::object());
  Json want = status;
  if (old == want) return {};
  Json patch = Json::object();
  for (auto it = want.begin(); it != want.end(); ++it) {
    bool zero = it.value().is_number_integer() && it.value().get<long long>() == 0;
    patch[it.key()] = (zero && it.key() != "replicas") ? Json() : it.value();
  }
  auto r = client_->patch(
      rsApiPath(str(rs, "metadata", "namespace"), str(rs, "metadata", "name")) + "/status",
      Json{{"status", patch}}, client::kMergePatch);
  if (!r && !isNotFound(r.error())) return r.error();
  return {};
}

Status ReplicaSetController::sync(const std::string& key) {
  auto cached = replicaSets_->get(key);
  if (!cached) {
    expectations_.forget(key);
    return {};
  }
  const Json& rs = *cached;
  std::string ns = str(rs, "metadata", "namespace");
  std::string name = str(rs, "metadata", "name");
  std::string uid = uidOf(rs);
  bool deleting = isDeleting(rs);
  auto selector = api::LabelSelector::fromJson(rs["spec"].value("selector", Json()));
  if (!selector) return {};  // validation keeps these out; nothing sane to do

  // 1. Claim.
  std::vector<Json> owned;
  for (const Json& pod : pods_->list([&](const Json& p) {
         return str(p, "metadata", "namespace") == ns && podIsActive(p);
       })) {
    const Json* ref = controllerRef(pod);
    Json labels = pod["metadata"].value("labels", Json());
    bool matches = !selector->empty() && selector->matches(labels);
    if (ref) {
      if (ref->value("uid", "") != uid) continue;
      if (matches || deleting) {
        owned.push_back(pod);
        continue;
      }
      // Release.
      Json p = {{"metadata",
                 {{"uid", uidOf(pod)},
                  {"ownerReferences", Json::array({{{"$patch", "delete"}, {"uid", uid}}})}}}};
      auto r = client_->patch(podPath(ns, str(pod, "metadata", "name")), p,
                              client::kStrategicMergePatch);
      if (!r && !isNotFound(r.error())) return r.error();
      continue;
    }
    if (!matches || deleting || isDeleting(pod)) continue;
    // Adopt.
    Json p = {
        {"metadata",
         {{"uid", uidOf(pod)},
          {"ownerReferences", Json::array({makeControllerRef(rs, "apps/v1", "ReplicaSet")})}}}};
    auto r =
        client_->patch(podPath(ns, str(pod, "metadata", "name")), p, client::kStrategicMergePatch);
    if (!r) {
      if (isNotFound(r.error())) continue;
      return r.error();
    }
    owned.push_back(*r);
    logInfo("replicaset adopted pod", {{"replicaset", key}, {"pod", str(pod, "metadata", "name")}});
  }

  // 2. Manage replicas.
  Status manageErr;
  if (!deleting && expectations_.satisfied(key)) {
    long long want = num(rs, "spec", "replicas", 1);
    long long diff = static_cast<long long>(owned.size()) - want;
    if (diff < 0) {
      int n = static_cast<int>(std::min<long long>(-diff, 500));
      expectations_.expectCreations(key, n);
      Json pod = podFromTemplate(rs);
      for (int i = 0; i < n; ++i) {
        auto r = client_->post("/api/v1/namespaces/" + ns + "/pods", pod);
        if (!r) {
          // Not coming: stop expecting this one and the rest.
          for (int j = i; j < n; ++j) expectations_.creationObserved(key);
          logWarn("replicaset create pod failed",
                  {{"replicaset", key}, {"error", r.error().message}});
          events_->record(rs, "Warning", "FailedCreate", "Error creating: " + r.error().message);
          manageErr = r.error();
          break;
        }
        events_->record(rs, "Normal", "SuccessfulCreate",
                        "Created pod: " + str(*r, "metadata", "name"));
      }
      if (n > 0)
        logInfo("replicaset created pods", {{"replicaset", key}, {"count", std::to_string(n)}});
    } else if (diff > 0) {
      std::vector<Json> victims = podsToDelete(owned, static_cast<size_t>(diff));
      std::vector<std::string> uids;
      for (const Json& p : victims) uids.push_back(uidOf(p));
      expectations_.expectDeletions(key, uids);
      for (const Json& p : victims) {
        auto r = client_->del(podPath(ns, str(p, "metadata", "name")),
                              Json{{"preconditions", {{"uid", uidOf(p)}}}});
        if (!r) {
          expectations_.deletionObserved(key, uidOf(p));
          if (!isNotFound(r.error())) manageErr = r.error();
        } else {
          events_->record(rs, "Normal", "SuccessfulDelete",
                          "Deleted pod: " + str(p, "metadata", "name"));
        }
      }
      logInfo("replicaset deleted pods", {{"replicaset", key}, {"count", std::to_string(diff)}});
    }
  }

  // 3. Status.
  auto now = std::chrono::system_clock::now();
  Json status = replicaSetStatus(rs, owned, now);
  Status st = updateStatus(rs, status);
  long long wait = secondsUntilNextAvailable(owned, num(rs, "spec", "minReadySeconds", 0), now);
  if (wait > 0) queue_.addAfter(key, std::chrono::seconds(wait));
  if (!manageErr) return manageErr;
  return st;
}

}  // namespace skiff::controllers
