#include "apiserver/namespace_cache.h"

#include "api/json.h"
#include "api/meta.h"

namespace skiff::apiserver {

namespace {

constexpr const char* kPrefix = "/registry/namespaces/";

std::string nameOfKey(const std::string& key) { return key.substr(std::string(kPrefix).size()); }

}  // namespace

bool NamespaceCache::isNamespaceKey(const std::string& key) { return key.rfind(kPrefix, 0) == 0; }

std::string NamespaceCache::nameOf(const std::string& key) { return nameOfKey(key); }

NamespaceCache::State NamespaceCache::stateOf(const std::string& storedValue) {
  api::Json ns = api::parseStoredJson(storedValue);
  if (!ns.is_object()) return State::kActive;  // corrupt: let the write path judge
  if (api::isDeleting(ns)) return State::kTerminating;
  const api::Json& status = ns.value("status", api::Json::object());
  if (status.is_object() && status.value("phase", "") == "Terminating") return State::kTerminating;
  return State::kActive;
}

void NamespaceCache::start() {
  auto listed = store_.list(kPrefix);
  if (!listed) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& rec : listed->items)
      known_[nameOfKey(rec.key)] = Known{stateOf(rec.value) == State::kActive, rec.modRevision};
    live_ = true;
  }
  auto w = store_.watch(
      kPrefix, listed->revision,
      [this](const storage::Event& e) {
        apply(e);
        return true;
      },
      [this](const Error&) {
        std::lock_guard<std::mutex> lock(mu_);
        live_ = false;
        known_.clear();
      });
  if (!w) {
    std::lock_guard<std::mutex> lock(mu_);
    live_ = false;
    known_.clear();
    return;
  }
  watch_ = std::move(*w);
}

void NamespaceCache::stop() { watch_.reset(); }

void NamespaceCache::apply(const storage::Event& e) {
  std::string name = nameOfKey(e.record.key);
  bool active = e.type != storage::Event::Type::kDeleted && stateOf(e.record.value) == State::kActive;
  std::lock_guard<std::mutex> lock(mu_);
  if (!live_) return;
  Known& k = known_[name];
  if (e.record.modRevision <= k.revision) return;  // not newer than what is known
  k = Known{active, e.record.modRevision};
}

void NamespaceCache::forget(const std::string& ns, storage::Revision revision) {
  std::lock_guard<std::mutex> lock(mu_);
  // Known up to just before the write: its own event (at `revision`) still
  // applies when it comes, older ones do not.
  Known& k = known_[ns];
  if (revision - 1 > k.revision) k = Known{false, revision - 1};
}

Result<NamespaceCache::State> NamespaceCache::state(const std::string& ns) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (live_) {
      auto it = known_.find(ns);
      if (it != known_.end() && it->second.active) return State::kActive;
    }
  }
  auto rec = store_.get(kPrefix + ns);
  if (!rec) {
    if (rec.error().code == Code::kNotFound) return State::kMissing;
    return rec.error();
  }
  return stateOf(rec->value);
}

}  // namespace skiff::apiserver
