// A revisioned key/value store in one SQLite file — the only code in skiff that
// knows SQL.
//
// Model (after kine and etcd): every committed write transaction gets the next
// global revision (1, 2, 3, ...). Each key remembers the revision that created it
// and the revision that last modified it; the apiserver uses the latter as the
// object's metadata.resourceVersion. Writes are compare-and-swap on that
// revision. A log of changes lets watchers follow from any revision that has not
// been compacted away, in order and without gaps.
//
// Durability: WAL with synchronous=FULL. Concurrent writers are batched by a
// single writer thread into one SQLite transaction per fsync (group commit); a
// write's callback runs only after its batch is durable. A lone write on an
// idle store runs the same way on the caller's thread (see commit()).
//
// Ownership and threads: a Store is created by open() and owned by its caller
// (the apiserver). All methods are thread-safe. Reads run on the calling thread
// (each concurrent reader borrows its own read connection from a pool); writes
// run on the writer thread, or a lone one on an idle store on the caller's
// thread, one batch at a time either way; watch callbacks run on the store's
// notifier thread and must not block (one slow callback delays every watcher,
// never a writer).
//
// The implementation is SqliteStore (sqlite_store.h, sqlite_writer.cpp) with
// the watch machinery in watch_hub.h; those headers explain the design.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"

namespace skiff::storage {

using Revision = int64_t;

struct Record {
  std::string key;
  std::string value;
  Revision createRevision = 0;
  Revision modRevision = 0;
};

struct ListResult {
  std::vector<Record> items;  // in key order
  Revision revision = 0;      // the store's revision the list was read at
  bool more = false;          // true when limit cut the list; continue after items.back().key
};

// Computes the value to store, given the revision the write will commit at, so
// the value can embed its own resourceVersion. Called where the write runs (the
// writer thread, or the caller's for a lone commit), once per attempt; must be
// fast and must not call back into the store.
using Encoder = std::function<std::string(Revision)>;

struct Op {
  enum class Kind { kCreate, kUpdate, kDelete };
  Kind kind = Kind::kCreate;
  std::string key;
  Encoder encode;  // kCreate, kUpdate
  // kUpdate, kDelete: the write happens only when the key's current modRevision
  // equals this; 0 means "whatever it is now" (the key must still exist).
  Revision expectedRevision = 0;
};

// A transaction's outcome: one Record per Op, in order. For kCreate/kUpdate the
// record written; for kDelete the last value, with modRevision = the deletion's
// revision.
struct TxnResult {
  Revision revision = 0;
  std::vector<Record> records;
};

// Failures of commit(), all-or-nothing (nothing is written when one op fails):
//   kAlreadyExists  kCreate of a key that exists        (Error.name = key)
//   kNotFound       kUpdate/kDelete of a missing key    (Error.name = key)
//   kConflict       expectedRevision does not match     (Error.name = key)
//   kInternal       SQLite I/O error; the store then refuses further writes
//                   (kUnavailable) rather than guess what is on disk.
//   kBadRequest     two ops on the same key in one transaction (as etcd)
//   kUnavailable    the store is closing or refused writes after an I/O error
// A failed transaction takes no revision. An empty transaction succeeds with the
// current revision and writes nothing. Within a batch, a transaction sees the
// writes of the transactions committed before it.

struct Event {
  enum class Type { kCreated, kUpdated, kDeleted };
  Type type = Type::kCreated;
  // The key's state after the event; for kDeleted the last value before the
  // delete, with modRevision = the deletion's revision.
  Record record;
};

// A live subscription; destroying it (or returning false from the callback)
// stops delivery. No callback runs after the destructor returns.
class Watch {
 public:
  virtual ~Watch() = default;
};

class Store {
 public:
  struct Options {
    bool fsync = true;  // synchronous=FULL; false only for unit tests that need speed
    // Events kept in memory for watchers starting from a recent revision.
    size_t eventRingSize = 100000;
    // Keep at least this many revisions in the log when compacting automatically
    // (every compactInterval seconds; 0 disables the automatic compactor).
    Revision keepRevisions = 100000;
    int compactIntervalSeconds = 300;
    // Writes reach the key-ordered state table in bulk, once this many keys
    // changed since it was last brought up to date, or after a second
    // without writes (until then reads find them in the log); 1 brings it up
    // to date in every commit. See sqlite_store.h.
    size_t stateLagKeys = 4096;
  };

  // Opens (creating if needed) the database at `path`.
  static Result<std::unique_ptr<Store>> open(const std::string& path, Options options);
  static Result<std::unique_ptr<Store>> open(const std::string& path) {
    return open(path, Options{});
  }
  virtual ~Store() = default;

  // kNotFound when the key does not exist.
  virtual Result<Record> get(const std::string& key) = 0;

  // Keys with `prefix`, in key order, starting after `startAfter` (exclusive) when
  // it is not empty; at most `limit` items when limit > 0.
  // `atRevision` > 0 (the revision an earlier page was read at) lists the keys
  // as they were then — what later pages of a paginated list must show: keys
  // created since are left out, keys changed or deleted since show their value
  // at that revision (rebuilt from the log). kGone when the log was compacted
  // past it (the watch's "too old resource version" message); a revision at or
  // after the compacted one lists in full, as etcd's does (compaction keeps
  // each key's value at the floor while the key changed after it). A database
  // compacted by a skiff before that kept nothing: there a key that changed
  // after that floor, listed at a revision before its change, is kGone too.
  virtual Result<ListResult> list(const std::string& prefix, int64_t limit = 0,
                                  const std::string& startAfter = "", Revision atRevision = 0) = 0;

  // Commits `ops` atomically at one new revision. `done` runs after the batch
  // holding this transaction is durable (or failed): on the writer thread, or,
  // for a lone commit on an idle store, on the calling thread before commit()
  // returns (after that batch's fsync). It must not block and must not call
  // commit() synchronously and wait; it may call commit() with a callback.
  virtual void commit(std::vector<Op> ops, std::function<void(Result<TxnResult>)> done) = 0;
  // The same, waiting for the result. From inside a commit callback, where
  // waiting would deadlock, it fails at once with kInternal.
  Result<TxnResult> commitSync(std::vector<Op> ops);

  // Delivers every event on keys with `prefix` whose revision is > `after`, in
  // revision order, with no gaps, then live events as they commit.
  //   kGone when `after` is older than the compacted revision, with Kubernetes'
  //   message "too old resource version: AFTER (COMPACTED)".
  // `onEvent` returning false ends the watch (e.g. a slow client whose buffer is
  // full: a slow watcher is dropped, never allowed to block writers). `onEnd`
  // runs once if the store ends the watch itself, with the reason: shutdown
  // (kUnavailable), or catching the watcher up found the log compacted (kGone).
  //
  // Note that after = 0 means "from the beginning", not "from now": to follow
  // only new changes pass the revision a list() returned (or currentRevision()).
  // Events of one revision arrive in key order. Callbacks run on the notifier
  // thread with a per-watch lock held: destroying the Watch from another thread
  // waits for a running callback; destroying it from inside a callback (its own
  // or another watch's) is allowed. Callbacks must not block (no commitSync()).
  virtual Result<std::unique_ptr<Watch>> watch(const std::string& prefix, Revision after,
                                               std::function<bool(const Event&)> onEvent,
                                               std::function<void(const Error&)> onEnd) = 0;

  // Drops log entries at or below `revision` (never the current state of a key),
  // but for what a list at a revision from `revision` on needs: each key's value
  // then, while the key changed or went later. Waits for the writer: from a
  // commit callback it fails at once with kInternal (waiting there would
  // deadlock). A revision at or below compactedRevision() is a no-op; one above
  // currentRevision() is kBadRequest.
  virtual Status compact(Revision revision) = 0;

  virtual Revision currentRevision() = 0;

 protected:
  // Stores run commit callbacks inside a CallbackScope, so that what would
  // wait for the store's writer from there fails instead of deadlocking.
  class CallbackScope {
   public:
    explicit CallbackScope(const Store* store);
    ~CallbackScope();
    CallbackScope(const CallbackScope&) = delete;
    CallbackScope& operator=(const CallbackScope&) = delete;
  };
  // An error when called inside one of this store's commit callbacks (another
  // store's writer is no concern); `what` names the call.
  Status refuseInCallback(const char* what) const;

 public:
  virtual Revision compactedRevision() = 0;

  // Counters for tests and benchmarks: how well group commit batches, and what a
  // batch costs. Fakes may leave the default.
  struct Stats {
    int64_t txnsCommitted = 0;  // transactions that took a revision
    int64_t txnsFailed = 0;     // transactions refused (checks, I/O error, shutdown)
    int64_t batches = 0;        // SQLite write transactions (one fsync each) for commits
    int64_t batchNanos = 0;     // total time in those, BEGIN to COMMIT returning
    int64_t maxBatchNanos = 0;
    int64_t watchers = 0;  // live watchers
  };
  virtual Stats stats() { return {}; }
};

}  // namespace skiff::storage
