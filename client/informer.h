// Informer: one resource kept in a local cache by list, then watch.
//
// An Informer lists a collection (GET path?query), then watches it from the
// list's resourceVersion, and keeps every object in memory keyed by
// "namespace/name" (or "name" for cluster-scoped objects). On 410 Gone, a
// dropped stream or any error it relists (after a short backoff, at most 2 s),
// and the differences between the old cache and the new list are delivered as
// adds, updates and deletes: handlers see every object converge, never a gap.
// This is client-go's reflector + indexer, without the indexes.
//
// Handlers run on the informer's own thread, one at a time, in the order the
// server sent the events; they must not block for long (enqueue a key and
// return, as controllers do). The cache is updated before a handler runs, so a
// handler that reads the cache sees the object it was called for.
//
// Thread-safety: get()/list()/hasSynced() may be called from any thread.
// addHandlers() only before start(). stop() joins the thread; the destructor
// stops.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "api/json.h"
#include "client/rest_client.h"

namespace skiff::client {

struct InformerHandlers {
  std::function<void(const Json& obj)> onAdd;
  std::function<void(const Json& oldObj, const Json& newObj)> onUpdate;
  std::function<void(const Json& obj)> onDelete;  // the last state known
};

class Informer {
 public:
  // `path` is a collection, e.g. "/api/v1/pods" or
  // "/apis/apps/v1/namespaces/default/deployments"; `query` (without '?') is
  // added to the list and the watch, e.g. "fieldSelector=spec.nodeName%3Dn1".
  // The client must outlive the informer.
  Informer(RestClient& client, std::string path, std::string query = "");
  ~Informer();
  Informer(const Informer&) = delete;
  Informer& operator=(const Informer&) = delete;

  void addHandlers(InformerHandlers handlers);

  // Starts the list/watch thread. Idempotent.
  void start();
  // Stops the thread (within about a second) and waits for it.
  void stop();

  // True once the first list has been delivered to the handlers.
  bool hasSynced() const { return synced_.load(); }
  // Waits for hasSynced(); false on timeout.
  bool waitForSync(std::chrono::milliseconds timeout) const;

  std::optional<Json> get(const std::string& key) const;
  std::vector<Json> list() const;
  std::vector<Json> list(const std::function<bool(const Json&)>& pred) const;
  // resourceVersion of the newest event or list seen ("" before the first).
  std::string lastResourceVersion() const;

  // "ns/name" or "name".
  static std::string keyOf(const Json& obj);

 private:
  void run();
  // Lists and replaces the cache; returns the list's resourceVersion or "" on error.
  std::string relist();
  // Watches from rv until the stream ends; returns false when the caller should relist.
  bool watchFrom(std::string& rv);
  void apply(const std::string& type, const Json& obj);

  RestClient& client_;
  const std::string path_;
  const std::string query_;
  std::vector<InformerHandlers> handlers_;

  mutable std::mutex mu_;
  mutable std::condition_variable syncedCv_;
  std::map<std::string, Json> cache_;  // guarded by mu_
  std::string lastRv_;                 // guarded by mu_
  std::atomic<bool> synced_{false};
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace skiff::client
