// SqliteStore: the Store behind Store::open(). Private to storage/; others code
// against store.h.
//
// On disk (one SQLite file, WAL):
//   kv(key, value, create_rev, mod_rev)   the state at revision 'applied' (see
//                                          below); get/list read it and the
//                                          log rows after it
//   log(rev, key, type, value, create_rev) one row per change, primary key
//                                          (rev, key); watch replay reads it,
//                                          compaction deletes its old rows
//                                          (keeping some: see Compaction)
//   meta(name, value)                      'compacted' (log rows <= it are gone
//                                          but for the values kept: see Compaction),
//                                          'applied' (kv holds every change up
//                                          to it)
//                                          and 'revision' (no longer written: the
//                                          revision is the newest log row, or
//                                          the compaction floor once no row
//                                          is left; see readRevisions)
//
// Writes: commit() queues the transaction; the writer thread takes everything
// queued (up to kMaxBatch), runs it inside one BEGIN IMMEDIATE ... COMMIT (one
// fsync for the batch: group commit), then publishes the batch's events to the
// WatchHub and runs each `done`. A lone commit on an idle store (nothing
// queued, no batch running, and the last batch a lone commit too) runs the same
// way on the caller's thread instead: waking the writer thread and then the
// caller's cost a lone client ~15-30% of its latency here. Under load batches
// carry several commits, so commits keep grouping on the writer thread.
// With fsync on, the connections open through the WAL-batching VFS
// (wal_vfs.h): a batch's frames reach the kernel in one write, not two per
// page, before the commit's fdatasync.
//
// The state lags: a commit writes its changes to the log alone, and the
// writer keeps the keys changed since kv was last brought up to date in memory
// (tail_), which the checks of later commits read before kv. Once
// Options::stateLagKeys keys changed, a batch also writes them into kv, in key
// order, and moves 'applied' in the same transaction; so does the writer after
// kIdleApply without writes. kv's key index is a b-tree that concurrent
// clients insert into at as many places, so a commit of six creates wrote six
// of its pages; written in bulk, a page serves many changes (16 WAL pages per
// commit of six creates before).
// Readers read kv and the log rows after 'applied' from one snapshot, the
// later winning: get finds the key's rows through tailIndex_ (by primary key),
// list reads the log's rows after 'applied' in its key range (the log is keyed
// by revision: one range). Compaction brings kv up to date first (it needs kv
// current: see below), so the log rows after 'applied' are never compacted;
// so does a clean close. An open after a crash reads them back into tail_.
//
// Inside the batch each transaction is checked against the state as the
// previous transactions left it before any of its ops is written; a
// transaction that fails a check writes nothing and takes no revision. Any
// SQLite error rolls the whole batch back, fails every transaction in it with
// kInternal and marks the store broken: later commits get kUnavailable, since
// what is on disk is then unknown.
//
// Compaction runs on the writer thread too, in chunks of revisions, each its
// own short transaction, so commits interleave with a long compaction. Like
// etcd's, it keeps what a list at any revision from the floor on needs: of a
// key's rows at or below the floor, the newest when the key changed or went
// after it (kv holds the value otherwise, and a deletion needs nothing). A key
// whose value compaction took because kv held it gets it back into the log,
// at its own revision, when it next changes (applyTxn). So the log keeps
// no second copy of a key that stays unchanged.
//
// Reads: get/list borrow a read connection from a pool (one per concurrently
// reading thread) and read from one WAL snapshot.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "storage/sqlite_db.h"
#include "storage/store.h"
#include "storage/watch_hub.h"

namespace skiff::storage {

class SqliteStore : public Store {
 public:
  static Result<std::unique_ptr<SqliteStore>> create(const std::string& path, Options options);
  ~SqliteStore() override;

  Result<Record> get(const std::string& key) override;
  Result<ListResult> list(const std::string& prefix, int64_t limit, const std::string& startAfter,
                          Revision atRevision) override;
  void commit(std::vector<Op> ops, std::function<void(Result<TxnResult>)> done) override;
  Result<std::unique_ptr<Watch>> watch(const std::string& prefix, Revision after,
                                       std::function<bool(const Event&)> onEvent,
                                       std::function<void(const Error&)> onEnd) override;
  Status compact(Revision revision) override;
  Revision currentRevision() override { return revision_.load(); }
  Revision compactedRevision() override { return compacted_.load(); }
  Stats stats() override;

 private:
  static constexpr size_t kMaxBatch = 1000;
  // kv is also brought up to date once the tail's values hold this much, and
  // after this long without a write.
  static constexpr size_t kMaxTailBytes = 8 << 20;
  static constexpr std::chrono::seconds kIdleApply{1};
  static constexpr Revision kCompactChunk = 5000;
  static constexpr int kCheckpointPages = 1000;  // SQLite's own default threshold
  // A background checkpoint cannot finish while commits keep appending to the
  // WAL, so the WAL would grow without bound under steady load. Past this size
  // the writer thread checkpoints itself, between batches, after their
  // callbacks ran (a lone commit on the caller's thread leaves it to the writer
  // thread: see commit()).
  static constexpr int kWriterCheckpointPages = 2500;

  struct Txn {
    std::vector<Op> ops;
    std::function<void(Result<TxnResult>)> done;
  };
  struct Compaction {
    Revision target = 0;
    std::shared_ptr<std::promise<Status>> result;
  };
  struct Pending {
    std::optional<Txn> txn;
    std::optional<Compaction> compaction;
  };

  // A read connection borrowed from the pool, returned on destruction.
  class Reader {
   public:
    Reader(SqliteStore* store, std::unique_ptr<sql::Db> db) : store_(store), db_(std::move(db)) {}
    Reader(Reader&&) = default;
    ~Reader();
    sql::Db& db() { return *db_; }

   private:
    SqliteStore* store_;
    std::unique_ptr<sql::Db> db_;
  };

  SqliteStore(std::string path, Options options) : path_(std::move(path)), options_(options) {}
  Status init();
  Result<Reader> reader();
  Status readLog(const std::string& prefix, Revision after, Revision* through,
                 std::vector<Event>* events);

  // Runs a commit callback (logging what it throws) inside a CallbackScope.
  void runDone(const std::function<void(Result<TxnResult>)>& done, Result<TxnResult> result);
  void writerLoop();
  // Clears writing_ (set by the writer thread or an inline commit) and wakes
  // the writer thread if commits queued meanwhile.
  void endWrite();
  // mayCheckpoint: the writer thread's own checkpoint may follow (see
  // kWriterCheckpointPages); false for a lone commit on the caller's thread.
  void runBatch(std::vector<Txn>& batch, bool mayCheckpoint);
  // Applies one transaction at revision `rev` inside the open SQLite transaction.
  // *outcome gets its result (possibly a check failure, which wrote nothing); the
  // returned Status is an SQLite error that dooms the whole batch.
  Status applyTxn(Txn& txn, Revision rev, std::optional<Result<TxnResult>>* outcome,
                  std::vector<Event>* events);
  // The current record of `key` for the checks of a write: tail_'s, else kv's.
  Status currentRecord(const std::string& key, std::optional<Record>* out);
  // Writes tail_ into kv and records `through` as applied, inside the open
  // write transaction; the caller clears tail_ once that commits.
  Status applyTail(Revision through);
  // After the transaction that ran applyTail(through) committed.
  void tailApplied(Revision through);
  // Records a change kv does not hold yet, at now->modRevision (nullopt: `key`
  // deleted at `rev`), in tail_ and in tailIndex_: before its commit, so that
  // a reader that sees the commit finds its row.
  void addToTail(const std::string& key, Revision rev, std::optional<Record> now);
  // Brings kv up to date in a transaction of its own (compaction, close).
  Status applyTailNow();
  void runCompactionChunk(Compaction& c);
  // Compaction of the log rows in (from, to]; see "Compaction" above.
  Status compactLog(Revision from, Revision to);
  // Writes `r` to the log at its modRevision. ifAbsent: unless a row is there
  // (a value compaction took, written back before its key changes).
  Status writeLog(const Record& r, int type, bool ifAbsent);
  void compactorLoop();
  void checkpointLoop();
  static int onWalCommit(void* self, sqlite3* db, const char* name, int pages);

  const std::string path_;
  const Options options_;

  std::unique_ptr<sql::Db> writeDb_;  // whoever set writing_ (and init())
  // Whoever set writing_: the keys changed since kv was brought up to date,
  // with their record now (nullopt: deleted), and the size of their values.
  std::unordered_map<std::string, std::optional<Record>> tail_;
  size_t tailBytes_ = 0;
  // The readers' index of the log rows kv does not hold: key -> their
  // revisions, ascending. It has every row after tailFloor_: the writer adds
  // each before its batch commits (addToTail), and empties it once kv holds
  // them (a reader whose snapshot is older than that reads the log instead).
  std::mutex tailIndexMu_;
  std::unordered_map<std::string, std::vector<Revision>> tailIndex_;  // guarded by tailIndexMu_
  Revision tailFloor_ = 0;                                            // guarded by tailIndexMu_

  std::mutex poolMu_;
  std::vector<std::unique_ptr<sql::Db>> pool_;  // guarded by poolMu_: idle read connections

  std::atomic<Revision> revision_{0};   // last committed (durable) revision
  std::atomic<Revision> compacted_{0};  // the compaction floor (see Compaction)
  std::atomic<bool> broken_{false};     // an SQLite write failed; refuse writes

  std::mutex queueMu_;
  std::condition_variable queueCv_;
  std::deque<Pending> queue_;  // guarded by queueMu_
  bool stopping_ = false;      // guarded by queueMu_
  bool writerGone_ = false;    // guarded by queueMu_: commit() fails inline once set
  bool writing_ = false;       // guarded by queueMu_: a batch runs (writer thread or a caller)
  // guarded by queueMu_: the tail held changes when the last write ended, so
  // the writer wakes after kIdleApply to bring kv up to date
  bool tailPending_ = false;
  size_t lastBatchSize_ = 0;   // guarded by queueMu_: commits in the last batch
  std::thread writer_;

  std::mutex compactorMu_;
  std::condition_variable compactorCv_;
  bool compactorStop_ = false;  // guarded by compactorMu_
  std::thread compactor_;

  // WAL checkpoints run on their own thread and connection, so a commit rarely
  // waits for one (SQLite's automatic checkpoint runs inside the COMMIT that
  // crosses the threshold). The write connection's WAL hook asks for one; see
  // also kWriterCheckpointPages.
  std::unique_ptr<sql::Db> checkpointDb_;  // checkpointer thread only
  std::mutex checkpointMu_;
  std::condition_variable checkpointCv_;
  bool checkpointWanted_ = false;  // guarded by checkpointMu_
  bool checkpointStop_ = false;    // guarded by checkpointMu_
  std::thread checkpointer_;
  int walPages_ = 0;           // whoever set writing_: WAL size after the last commit
  int checkpointAskedAt_ = 0;  // whoever set writing_: WAL size when it last asked for one
  // Held while either connection runs a checkpoint, so the writer's own one
  // waits for a background pass instead of failing with SQLITE_BUSY.
  std::mutex checkpointRunMu_;

  std::unique_ptr<WatchHub> hub_;

  // Counters for stats(); written by whoever set writing_.
  std::atomic<int64_t> txnsCommitted_{0};
  std::atomic<int64_t> txnsFailed_{0};
  std::atomic<int64_t> batches_{0};
  std::atomic<int64_t> batchNanos_{0};
  std::atomic<int64_t> maxBatchNanos_{0};
};

}  // namespace skiff::storage
