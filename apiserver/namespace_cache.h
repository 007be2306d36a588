// NamespaceCache: which namespaces exist and which are terminating, kept from a
// store watch, so a create need not read its namespace from SQLite each time
// (Kubernetes' NamespaceLifecycle admission uses an informer the same way).
//
// Only an Active namespace is answered from memory. A namespace the cache does
// not know yet (created a moment ago, its event still on the way), one that is
// terminating, and every namespace once the watch has ended are read from the
// store, which has the last word; a namespace this server just updated or
// deleted is read from the store until its event arrives (an older event of it,
// still on the way, does not make it Active again). Like Kubernetes, a create that races the
// deletion of its namespace within the event's delivery delay may slip in; the
// namespace finalizer removes it with the rest of the namespace's content.
//
// Thread-safe.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "base/result.h"
#include "storage/store.h"

namespace skiff::apiserver {

class NamespaceCache {
 public:
  explicit NamespaceCache(storage::Store& store) : store_(store) {}
  // Lists the namespaces and starts following their changes; on failure the
  // cache stays empty and every check reads the store.
  void start();
  // Stops the watch (no callback runs after it returns).
  void stop();

  enum class State { kActive, kTerminating, kMissing };
  // The namespace's state: from memory when known Active, else from the store.
  Result<State> state(const std::string& ns);

  // Called once a write that updated or deleted namespace `ns` at `revision`
  // is durable, before its response: until the watch brings that revision, the
  // store answers for it, so the writer's next request sees its own write.
  void forget(const std::string& ns, storage::Revision revision);

  // Whether a store key is a namespace's, and the namespace it names.
  static bool isNamespaceKey(const std::string& key);
  static std::string nameOf(const std::string& key);

  // The state of a stored namespace object (its JSON text).
  static State stateOf(const std::string& storedValue);

 private:
  void apply(const storage::Event& event);

  storage::Store& store_;
  std::mutex mu_;  // guards known_, live_
  struct Known {
    bool active = false;  // Active (not terminating) as of `revision`
    storage::Revision revision = 0;
  };
  // Events older than what is known are ignored: after forget(), an event
  // still on the way from before the write must not make the namespace Active.
  std::map<std::string, Known, std::less<>> known_;
  bool live_ = false;  // the watch is running
  std::unique_ptr<storage::Watch> watch_;
};

}  // namespace skiff::apiserver
