// The watch side of the store: one notifier thread, an in-memory ring of recent
// events, and the live watchers. Private to storage/.
//
// How a watcher gets every event exactly once, in order
// -----------------------------------------------------
// Everything a watcher sees is delivered on the notifier thread, which handles
// its inbox strictly in order: "batch committed" messages from the writer (whole
// revisions, ascending) and "add watcher" messages from watch(). Each watcher
// keeps `through`: the revision up to which it has been served completely.
// `through` only moves at revision boundaries, and an event is delivered only if
// its revision is > through, so nothing is delivered twice.
//
// A new watcher for events > `after` arrives with `through` = after, or, when
// after is older than the ring, with the log rows (after, S] already read on the
// caller's thread from one SQLite snapshot at revision S, and through = S. When
// the notifier adds it, the ring holds every event in (ringFloor, lastPublished];
// if through < ringFloor (the ring moved on while the caller read), the notifier
// reads the missing rows from the log itself. Then it replays ring events
// > through and marks the watcher live: the next batch it handles is the next
// revision after lastPublished. S may be ahead of lastPublished (the writer
// publishes after COMMIT); those revisions are skipped as <= through when their
// batch arrives. Hence no gap, no duplicate.
//
// Wake-ups: the writer wakes the notifier only for a batch with a key under
// some added watcher's prefix, or once kMaxQuietBatches batches wait; other
// batches wait in the inbox and are taken, in order, at the next wake-up, which
// comes before any later add or wanted batch is handled. So a bulk write that
// nobody watches costs no thread switch per batch.
//
// Cancellation: a watcher's mutex is held while its callback runs. Destroying
// the Watch handle on any other thread takes that mutex, so it waits for a
// running callback and no callback starts afterwards; on the notifier thread
// itself (from inside a callback) it only sets the done flag, which the notifier
// checks before every callback, so it cannot deadlock.
//
// Thread-safety: publish(), add() and stop() may be called from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "storage/store.h"

namespace skiff::storage {

// Reads the log's events for keys with `prefix` in (after, S] from one snapshot,
// where S is the snapshot's revision (returned in *through). kGone when the log
// was compacted past `after`.
using LogReader = std::function<Status(const std::string& prefix, Revision after, Revision* through,
                                       std::vector<Event>* events)>;

// Kubernetes' 410 text for a watch from a compacted revision.
Error tooOldError(Revision requested, Revision compacted);

class WatchHub {
 public:
  // `published`: the store's revision at open; every later event arrives by publish().
  WatchHub(size_t ringSize, Revision published, LogReader reader);
  ~WatchHub();  // stop()

  // Hands over one committed batch: whole revisions, ascending, each revision's
  // events in key order. Returns at once.
  void publish(std::vector<Event> events);

  // Registers a watcher already served through `through` (see above); `replay` are
  // its events <= through, in order.
  std::unique_ptr<Watch> add(std::string prefix, Revision through, std::vector<Event> replay,
                             std::function<bool(const Event&)> onEvent,
                             std::function<void(const Error&)> onEnd);

  // Every event > ringFloor() is in the ring (or still on its way to it).
  Revision ringFloor() const { return ringFloor_.load(); }

  // Delivers what is queued, ends live watches with kUnavailable, joins the thread.
  void stop();

  size_t watcherCount() const { return liveCount_.load(); }

  struct Watcher;

 private:
  struct Message;
  struct Inbox;
  void run();
  void handleBatch(std::vector<Event>& events);
  void handleAdd(const std::shared_ptr<Watcher>& w);
  void sweep();
  // Takes w's prefix out of the inbox's interest (once).
  void uncount(Watcher& w);

  const size_t ringSize_;
  const LogReader reader_;

  // Shared with Watch handles, which may outlive the hub.
  std::shared_ptr<Inbox> inbox_;

  // Notifier thread only.
  std::deque<Event> ring_;
  Revision published_;
  std::vector<std::shared_ptr<Watcher>> live_;

  std::atomic<Revision> ringFloor_;
  std::atomic<size_t> liveCount_{0};
  std::thread thread_;
  std::thread::id threadId_;
  bool stopped_ = false;  // guarded by stopOnce_
  std::mutex stopOnce_;
};

}  // namespace skiff::storage
