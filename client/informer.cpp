#include "client/informer.h"

#include "base/log.h"
#include "base/thread.h"

namespace skiff::client {

Informer::Informer(RestClient& client, std::string path, std::string query)
    : client_(client), path_(std::move(path)), query_(std::move(query)) {}

Informer::~Informer() {
  stop();
}

void Informer::addHandlers(InformerHandlers handlers) {
  handlers_.push_back(std::move(handlers));
}

void Informer::start() {
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
}

void Informer::stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
}

bool Informer::waitForSync(std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  return syncedCv_.wait_for(lock, timeout, [this] { return synced_.load(); });
}

std::optional<Json> Informer::get(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = cache_.find(key);
  if (it == cache_.end()) return std::nullopt;
  return it->second;
}

std::vector<Json> Informer::list() const {
  return list([](const Json&) { return true; });
}

std::vector<Json> Informer::list(const std::function<bool(const Json&)>& pred) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Json> out;
  for (const auto& [k, v] : cache_)
    if (pred(v)) out.push_back(v);
  return out;
}

std::string Informer::lastResourceVersion() const {
  std::lock_guard<std::mutex> lock(mu_);
  return lastRv_;
}

std::string Informer::keyOf(const Json& obj) {
  const Json& md = obj.contains("metadata") ? obj["metadata"] : Json::object();
  std::string ns = md.value("namespace", "");
  std::string name = md.value("name", "");
  return ns.empty() ? name : ns + "/" + name;
}

void Informer::run() {
  nameThisThread("inf-" + path_.substr(path_.rfind('/') + 1));
  auto backoff = std::chrono::milliseconds(100);
  while (!stopping_) {
    std::string rv = relist();
    if (rv.empty()) {
      // Sleep in small steps so stop() stays prompt.
      for (auto slept = std::chrono::milliseconds(0); slept < backoff && !stopping_;
           slept += std::chrono::milliseconds(50))
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
      continue;
    }
    backoff = std::chrono::milliseconds(100);
    while (!stopping_ && watchFrom(rv)) {
    }
  }
}

std::string Informer::relist() {
  std::string p = path_ + (query_.empty() ? "" : "?" + query_);
  auto r = client_.get(p);
  if (!r) {
    if (!stopping_)
      logWarn("informer list failed", {{"path", path_}, {"error", r.error().message}});
    return "";
  }
  std::string rv = (*r)["metadata"].value("resourceVersion", "");
  // The list's items lack kind/apiVersion; give them the list's.
  std::string kind = r->value("kind", "");
  if (kind.size() > 4 && kind.compare(kind.size() - 4, 4, "List") == 0)
    kind.resize(kind.size() - 4);
  std::string apiVersion = r->value("apiVersion", "");
  std::map<std::string, Json> fresh;
  if (auto it = r->find("items"); it != r->end() && it->is_array())
    for (auto& item : *it) {
      if (!item.contains("kind")) item["kind"] = kind;
      if (!item.contains("apiVersion")) item["apiVersion"] = apiVersion;
      fresh.emplace(keyOf(item), std::move(item));
    }

  std::map<std::string, Json> old;
  {
    std::lock_guard<std::mutex> lock(mu_);
    old.swap(cache_);
    cache_ = fresh;
    lastRv_ = rv;
  }
  for (const auto& [k, obj] : fresh) {
    auto o = old.find(k);
    if (o == old.end()) {
      for (auto& h : handlers_)
        if (h.onAdd) h.onAdd(obj);
    } else if (o->second != obj) {
      for (auto& h : handlers_)
        if (h.onUpdate) h.onUpdate(o->second, obj);
    }
  }
  for (const auto& [k, obj] : old)
    if (!fresh.count(k))
      for (auto& h : handlers_)
        if (h.onDelete) h.onDelete(obj);
  if (!synced_.exchange(true)) {
    std::lock_guard<std::mutex> lock(mu_);
    syncedCv_.notify_all();
  }
  return rv.empty() ? "0" : rv;
}

bool Informer::watchFrom(std::string& rv) {
  std::string p = path_ +
                  "?watch=1&allowWatchBookmarks=true&timeoutSeconds=300&resourceVersion=" + rv +
                  (query_.empty() ? "" : "&" + query_);
  bool gone = false;
  auto st = client_.watch(
      p,
      [&](const Json& ev) {
        std::string type = ev.value("type", "");
        const Json& obj = ev.contains("object") ? ev["object"] : Json::object();
        if (type == "ERROR") {
          if (obj.value("code", 0) == 410)
            gone = true;
          else
            logWarn("informer watch error",
                    {{"path", path_}, {"message", obj.value("message", "")}});
          gone = true;  // any error: relist
          return false;
        }
        std::string newRv =
            obj.contains("metadata") ? obj["metadata"].value("resourceVersion", "") : std::string();
        if (!newRv.empty()) rv = newRv;
        if (type == "BOOKMARK") {
          std::lock_guard<std::mutex> lock(mu_);
          lastRv_ = rv;
          return true;
        }
        apply(type, obj);
        return true;
      },
      0, "application/json", &stopping_);
  if (stopping_) return false;
  if (!st || gone) return false;
  return true;  // the server ended the stream (timeoutSeconds): watch again from rv
}

void Informer::apply(const std::string& type, const Json& obj) {
  std::string key = keyOf(obj);
  std::optional<Json> old;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cache_.find(key);
    if (it != cache_.end()) old = it->second;
    if (type == "DELETED") {
      cache_.erase(key);
    } else {
      cache_[key] = obj;
    }
    lastRv_ = obj["metadata"].value("resourceVersion", lastRv_);
  }
  for (auto& h : handlers_) {
    if (type == "DELETED") {
      if (h.onDelete) h.onDelete(obj);
    } else if (old) {
      if (h.onUpdate) h.onUpdate(*old, obj);
    } else {
      if (h.onAdd) h.onAdd(obj);
    }
  }
}

}  // namespace skiff::client
