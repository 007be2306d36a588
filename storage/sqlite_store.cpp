#include "storage/sqlite_store.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <set>

#include "base/log.h"
#include "base/thread.h"
#include "storage/sqlite_store_internal.h"

namespace skiff::storage {

namespace internal {

Error keyError(Code code, const std::string& key, std::string message) {
  Error e = makeError(code, std::move(message));
  e.name = key;
  return e;
}

Result<std::optional<Record>> readState(sql::Db& db, const std::string& key) {
  auto q = db.query("SELECT value, create_rev, mod_rev FROM kv WHERE key = ?1");
  if (!q) return q.error();
  q->bindText(1, key);
  auto row = q->step();
  if (!row) return row.error();
  if (!*row) return std::optional<Record>();
  return std::optional<Record>(Record{key, q->blob(0), q->int64(1), q->int64(2)});
}

}  // namespace internal

namespace {

using internal::kCreated;
using internal::kDeleted;
using internal::keyError;
using internal::kUpdated;
using internal::readState;

// Rowid tables rather than WITHOUT ROWID: values are whole objects (kilobytes),
// which SQLite advises against storing inside a WITHOUT ROWID b-tree.
constexpr const char* kSchema = R"sql(
BEGIN IMMEDIATE;
CREATE TABLE IF NOT EXISTS kv(
  key TEXT PRIMARY KEY,
  value BLOB NOT NULL,
  create_rev INTEGER NOT NULL,
  mod_rev INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS log(
  rev INTEGER NOT NULL,
  key TEXT NOT NULL,
  type INTEGER NOT NULL,
  value BLOB NOT NULL,
  create_rev INTEGER NOT NULL,
  PRIMARY KEY(rev, key));
CREATE TABLE IF NOT EXISTS meta(name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO meta(name, value) VALUES('revision', 0), ('compacted', 0);
INSERT OR IGNORE INTO meta(name, value) SELECT 'applied', max(
  (SELECT value FROM meta WHERE name = 'revision'),
  (SELECT value FROM meta WHERE name = 'compacted'),
  coalesce((SELECT max(rev) FROM log), 0));
COMMIT;
)sql";

// The database's format, in PRAGMA user_version: what this code writes, and the
// newest it reads (older ones it reads too).
//   0  not recorded: before format 2, or meta 'revision' written by every
//      commit (before the revision moved to the log), or both;
//   2  compaction keeps log rows at or below its floor (see sqlite_store.h),
//      the revision is the log's newest row (meta 'revision' written at close);
//   3  kv may lag the log: it holds the changes up to meta 'applied' alone
//      (see sqlite_store.h); a clean close brings it up to date.
// A skiff that finds a newer format refuses the database rather than misread
// it. Skiffs before format 2 do not look; the oldest trust meta 'revision',
// which the store writes at a clean close for them.
constexpr int kFormat = 3;

// The smallest string greater than every string starting with `prefix`, or
// nullopt when there is none (empty prefix, or all bytes 0xFF). SQLite's BINARY
// collation and std::string both compare bytes as unsigned, so ranges agree.
std::optional<std::string> prefixEnd(std::string p) {
  while (!p.empty() && static_cast<unsigned char>(p.back()) == 0xFF) p.pop_back();
  if (p.empty()) return std::nullopt;
  p.back() = static_cast<char>(static_cast<unsigned char>(p.back()) + 1);
  return p;
}

// The store's revision and compaction floor, as the snapshot `db` reads them.
// A commit does not write its revision to meta (one page less in every commit's
// WAL frames, a fifth of a lone create's): the revision is the log's newest
// row, or the compaction floor once compaction took every row. meta's
// 'revision' is kept for databases written before, whose log may be empty.
Status readRevisions(sql::Db& db, Revision* revision, Revision* compacted) {
  auto q = db.query(
      "SELECT max(coalesce((SELECT value FROM meta WHERE name = 'revision'), 0),"
      " coalesce((SELECT value FROM meta WHERE name = 'compacted'), 0),"
      " coalesce((SELECT max(rev) FROM log), 0)),"
      " coalesce((SELECT value FROM meta WHERE name = 'compacted'), 0)");
  if (!q) return q.error();
  auto row = q->step();
  if (!row) return row.error();
  *revision = q->int64(0);
  *compacted = q->int64(1);
  return {};
}

// The revision kv holds every change up to, as the snapshot `db` reads it:
// meta 'applied' (the schema adds it, at the revision, to a database from
// before kv lagged).
Result<Revision> readApplied(sql::Db& db) {
  auto q = db.query("SELECT value FROM meta WHERE name = 'applied'");
  if (!q) return q.error();
  auto row = q->step();
  if (!row) return row.error();
  if (!*row) return makeError(Code::kInternal, "the database's meta table has no 'applied' row");
  return q->int64(0);
}

// The log's columns that rebuild a change, in the order kTailColumns names
// them; logChange reads a row of them: the record after it (nullopt: deleted).
constexpr const char* kTailColumns = "SELECT key, type, value, create_rev, rev FROM log";
std::optional<Record> logChange(const sql::Query& q) {
  if (q.int64(1) == kDeleted) return std::nullopt;
  return Record{q.text(0), q.blob(2), q.int64(3), q.int64(4)};
}

// The log rows after `applied` (kv does not hold them) with keys in the range
// `inRange` binds (see list), up to `through`: each key's newest, in key
// order; nullopt for a key deleted since.
Status readTail(sql::Db& db, Revision applied, Revision through, const std::string& inRange,
                const std::function<void(sql::Query&)>& bindRange,
                std::vector<std::pair<std::string, std::optional<Record>>>* out) {
  std::map<std::string, std::optional<Record>> newest;
  auto q = db.query(std::string(kTailColumns) + " WHERE rev > ?3 AND rev <= ?4 AND " + inRange +
                    " ORDER BY rev");
  if (!q) return q.error();
  bindRange(*q);
  q->bind(3, applied).bind(4, through);
  for (;;) {
    auto row = q->step();
    if (!row) return row.error();
    if (!*row) break;
    newest[q->text(0)] = logChange(*q);
  }
  out->assign(std::make_move_iterator(newest.begin()), std::make_move_iterator(newest.end()));
  return {};
}

// Ends a read transaction on scope exit.
class ReadTxn {
 public:
  explicit ReadTxn(sql::Db& db) : db_(db) {}
  ~ReadTxn() {
    if (open_) (void)db_.run("COMMIT");
  }
  Status begin() {
    Status s = db_.run("BEGIN");
    open_ = s.ok();
    return s;
  }

 private:
  sql::Db& db_;
  bool open_ = false;
};

}  // namespace

Result<std::unique_ptr<Store>> Store::open(const std::string& path, Options options) {
  auto store = SqliteStore::create(path, options);
  if (!store) return store.error();
  return std::unique_ptr<Store>(std::move(*store));
}

Result<std::unique_ptr<SqliteStore>> SqliteStore::create(const std::string& path, Options options) {
  std::unique_ptr<SqliteStore> store(new SqliteStore(path, options));
  if (Status s = store->init(); !s) return s.error();
  return store;
}

Status SqliteStore::init() {
  auto db = sql::Db::open(path_, options_.fsync);
  if (!db) return db.error();
  writeDb_ = std::move(*db);
  int64_t format = 0;
  {
    auto q = writeDb_->query("PRAGMA user_version");
    if (!q) return q.error();
    auto row = q->step();
    if (!row) return row.error().wrap("open " + path_);
    if (*row) format = q->int64(0);
    if (format > kFormat) {
      return makeError(Code::kInternal,
                       "the database is in format " + std::to_string(format) +
                           ", written by a newer skiff; this one reads formats up to " +
                           std::to_string(kFormat) +
                           ": run the newer skiff, or another --data-dir");
    }
  }
  if (Status s = writeDb_->exec(kSchema); !s) {
    (void)writeDb_->exec("ROLLBACK");
    return s.error().wrap("create schema in " + path_);
  }
  // Only when it changes: writing the header costs a start a commit and its fsync.
  if (format != kFormat) {
    if (Status s = writeDb_->exec(("PRAGMA user_version = " + std::to_string(kFormat)).c_str()); !s)
      return s.error().wrap("open " + path_);
  }
  {
    Revision revision = 0, compacted = 0;
    if (Status s = readRevisions(*writeDb_, &revision, &compacted); !s) return s.error();
    revision_ = revision;
    compacted_ = compacted;
    // The changes kv does not hold yet (a crash before it was brought up to
    // date) go back into the writer's tail.
    auto applied = readApplied(*writeDb_);
    if (!applied) return applied.error().wrap("open " + path_);
    tailFloor_ = *applied;
    auto q = writeDb_->query(std::string(kTailColumns) + " WHERE rev > ?1 ORDER BY rev");
    if (!q) return q.error();
    q->bind(1, *applied);
    for (;;) {
      auto row = q->step();
      if (!row) return row.error().wrap("open " + path_);
      if (!*row) break;
      addToTail(q->text(0), q->int64(4), logChange(*q));
    }
  }
  auto ckpt = sql::Db::open(path_, options_.fsync);
  if (!ckpt) return ckpt.error();
  checkpointDb_ = std::move(*ckpt);
  // Replaces SQLite's automatic checkpoint on the write connection.
  sqlite3_wal_hook(writeDb_->raw(), &SqliteStore::onWalCommit, this);
  checkpointer_ = std::thread([this] { checkpointLoop(); });

  hub_ = std::make_unique<WatchHub>(
      options_.eventRingSize, revision_.load(),
      [this](const std::string& prefix, Revision after, Revision* through,
             std::vector<Event>* events) { return readLog(prefix, after, through, events); });
  writer_ = std::thread([this] { writerLoop(); });
  if (options_.compactIntervalSeconds > 0) compactor_ = std::thread([this] { compactorLoop(); });
  logInfo("store opened", {{"path", path_},
                           {"revision", std::to_string(revision_.load())},
                           {"compacted", std::to_string(compacted_.load())},
                           {"fsync", options_.fsync ? "true" : "false"}});
  return {};
}

SqliteStore::~SqliteStore() {
  if (compactor_.joinable()) {
    {
      std::lock_guard<std::mutex> lock(compactorMu_);
      compactorStop_ = true;
    }
    compactorCv_.notify_all();
    compactor_.join();
  }
  if (writer_.joinable()) {
    {
      std::lock_guard<std::mutex> lock(queueMu_);
      stopping_ = true;
    }
    queueCv_.notify_all();
    writer_.join();
  }
  if (checkpointer_.joinable()) {
    {
      std::lock_guard<std::mutex> lock(checkpointMu_);
      checkpointStop_ = true;
    }
    checkpointCv_.notify_all();
    checkpointer_.join();
  }
  // After the writer: every committed batch is in the hub's inbox and gets
  // delivered before the watches are ended.
  if (hub_) hub_->stop();
  hub_.reset();
  if (writeDb_ && !broken_.load()) {
    if (Status s = applyTailNow(); !s)
      logWarn("store could not bring its state up to date at close",
              {{"error", s.error().message}});
    // For the oldest skiffs, which read the revision from meta alone (kFormat).
    auto q = writeDb_->query("UPDATE meta SET value = ?1 WHERE name = 'revision'");
    Status s = q ? q->bind(1, revision_.load()).run() : Status(q.error());
    if (!s) logWarn("store could not record its revision at close", {{"error", s.error().message}});
  }
  checkpointDb_.reset();
  writeDb_.reset();  // the last connection to close checkpoints and removes the WAL
  std::lock_guard<std::mutex> lock(poolMu_);
  pool_.clear();
}

// ---- reads ---------------------------------------------------------------

SqliteStore::Reader::~Reader() {
  if (!db_) return;
  std::lock_guard<std::mutex> lock(store_->poolMu_);
  if (store_->pool_.size() < 32) store_->pool_.push_back(std::move(db_));
}

Result<SqliteStore::Reader> SqliteStore::reader() {
  {
    std::lock_guard<std::mutex> lock(poolMu_);
    if (!pool_.empty()) {
      std::unique_ptr<sql::Db> db = std::move(pool_.back());
      pool_.pop_back();
      return Reader(this, std::move(db));
    }
  }
  auto db = sql::Db::open(path_, options_.fsync);
  if (!db) return db.error();
  return Reader(this, std::move(*db));
}

Result<Record> SqliteStore::get(const std::string& key) {
  auto r = reader();
  if (!r) return r.error();
  sql::Db& db = r->db();
  ReadTxn txn(db);
  if (Status s = txn.begin(); !s) return s.error();
  // The key's newest log row after 'applied', if it changed since (kv lags:
  // see sqlite_store.h).
  auto applied = readApplied(db);
  if (!applied) return applied.error().wrap("get " + key);
  std::vector<Revision> revs;  // the key's rows after 'applied', if indexed
  bool indexed = false;
  {
    std::lock_guard<std::mutex> lock(tailIndexMu_);
    indexed = tailFloor_ <= *applied;
    if (auto it = tailIndex_.find(key); indexed && it != tailIndex_.end()) revs = it->second;
  }
  // The key's row at `q`, if it has one: its record, or kNotFound for a deletion.
  auto fromLog = [&](sql::Query& q) -> std::optional<Result<Record>> {
    auto row = q.step();
    if (!row) return Result<Record>(row.error().wrap("get " + key));
    if (!*row) return std::nullopt;
    if (std::optional<Record> r = logChange(q)) return Result<Record>(std::move(*r));
    return Result<Record>(keyError(Code::kNotFound, key, "key not found: " + key));
  };
  static const std::string byRevision = std::string(kTailColumns) + " WHERE rev = ?1 AND key = ?2";
  static const std::string newestAfter =
      std::string(kTailColumns) + " WHERE key = ?1 AND rev > ?2 ORDER BY rev DESC LIMIT 1";
  if (indexed) {
    // Newest first; a revision this snapshot does not have yet is not found.
    for (auto rev = revs.rbegin(); rev != revs.rend() && *rev > *applied; ++rev) {
      auto q = db.query(byRevision);
      if (!q) return q.error();
      q->bind(1, *rev).bindText(2, key);
      if (auto found = fromLog(*q)) return std::move(*found);
    }
  } else {
    // The index was emptied after this snapshot began: the log's rows then.
    auto q = db.query(newestAfter);
    if (!q) return q.error();
    q->bindText(1, key).bind(2, *applied);
    if (auto found = fromLog(*q)) return std::move(*found);
  }
  auto state = readState(db, key);
  if (!state) return state.error().wrap("get " + key);
  if (!*state) return keyError(Code::kNotFound, key, "key not found: " + key);
  return std::move(**state);
}

Result<ListResult> SqliteStore::list(const std::string& prefix, int64_t limit,
                                     const std::string& startAfter, Revision atRevision) {
  auto r = reader();
  if (!r) return r.error();
  sql::Db& db = r->db();
  ReadTxn txn(db);
  if (Status s = txn.begin(); !s) return s.error();

  ListResult out;
  Revision compacted = 0;
  if (Status s = readRevisions(db, &out.revision, &compacted); !s)
    return s.error().wrap("list " + prefix);
  // A past revision: the keys as they were then (see store.h).
  const bool past = atRevision > 0 && atRevision < out.revision;
  if (past) {
    if (atRevision < compacted) return tooOldError(atRevision, compacted);
    out.revision = atRevision;
  }

  const bool afterCursor = !startAfter.empty() && startAfter >= prefix;
  const std::optional<std::string> end = prefixEnd(prefix);
  // "key > ?1 AND key < ?2" (or >= the prefix; no upper bound past 0xFF...).
  std::string inRange = afterCursor ? "key > ?1" : "key >= ?1";
  if (end) inRange += " AND key < ?2";
  auto bindRange = [&](sql::Query& q) {
    q.bindText(1, afterCursor ? startAfter : prefix);
    if (end) q.bindText(2, *end);
  };
  const bool limited = limit > 0 && limit < INT64_MAX;
  auto applied = readApplied(db);
  if (!applied) return applied.error().wrap("list " + prefix);

  // Records that replace kv's of the same key, in key order (nullopt: the key
  // is left out). Either the changes kv does not hold yet (a list at a
  // revision kv lags behind), or the values at a past revision kv is ahead of.
  std::vector<std::pair<std::string, std::optional<Record>>> patch;
  if (!past || atRevision >= *applied) {
    if (Status s = readTail(db, *applied, out.revision, inRange, bindRange, &patch); !s)
      return s.error().wrap("list " + prefix);
  } else {
    // Keys changed since the past revision that existed then (their first
    // change since is no creation), with their value then: their newest log
    // row at or before it. Two passes over the log rows in range, not one per
    // key (the log is keyed by revision). Only the first limit + 1 can make
    // the page.
    std::set<std::string> existed;
    auto q = db.query("SELECT key, type, MIN(rev) FROM log WHERE rev > ?3 AND " + inRange +
                      " GROUP BY key ORDER BY key");
    if (!q) return q.error();
    bindRange(*q);
    q->bind(3, atRevision);
    for (;;) {
      auto row = q->step();
      if (!row) return row.error().wrap("list " + prefix);
      if (!*row || (limited && static_cast<int64_t>(existed.size()) > limit)) break;
      if (q->int64(1) != kCreated) existed.insert(q->text(0));
    }
    if (!existed.empty()) {
      // Their revisions then from the (rev, key) index alone; the values by
      // primary key.
      // Rows at or below the compaction floor are the values compaction kept
      // for keys that changed after it (see compactLog); at most one per key,
      // so they add to this scan at most as many rows as the log has above it.
      auto revs = db.query("SELECT key, MAX(rev) FROM log WHERE rev <= ?3 AND " + inRange +
                           " GROUP BY key ORDER BY key");
      if (!revs) return revs.error();
      bindRange(*revs);
      revs->bind(3, atRevision);
      for (;;) {
        auto row = revs->step();
        if (!row) return row.error().wrap("list " + prefix);
        if (!*row) break;
        std::string key = revs->text(0);
        if (!existed.count(key)) continue;
        const Revision rev = revs->int64(1);
        auto value = db.query("SELECT value, create_rev FROM log WHERE rev = ?1 AND key = ?2");
        if (!value) return value.error();
        value->bind(1, rev).bindText(2, key);
        auto found = value->step();
        if (!found) return found.error().wrap("list " + prefix);
        if (*found) patch.emplace_back(key, Record{key, value->blob(0), value->int64(1), rev});
      }
      // A key whose value then the log lacks: compaction keeps them all for
      // revisions from its floor on, but a skiff before it kept none (a
      // database it compacted). The first of `existed` (sorted, as `patch`)
      // that `patch` lacks.
      if (patch.size() < existed.size()) {
        auto missing = existed.begin();
        for (const auto& r : patch) {
          if (r.first != *missing) break;
          ++missing;
        }
        return keyError(
            Code::kGone, *missing,
            "the log no longer holds " + *missing + " at revision " + std::to_string(atRevision));
      }
    }
  }

  std::string sql = "SELECT key, value, create_rev, mod_rev FROM kv WHERE " + inRange;
  if (past) sql += " AND mod_rev <= ?4";
  sql += " ORDER BY key LIMIT ?3";
  auto q = db.query(sql);
  if (!q) return q.error();
  bindRange(*q);
  if (past) q->bind(4, atRevision);
  // One extra item tells whether there is more; each of patch's may take the
  // place of a row. -1 is SQLite's "no limit".
  q->bind(3, limited ? limit + 1 + static_cast<int64_t>(patch.size()) : -1);
  auto next = patch.begin();
  auto take = [&](std::optional<Record>& r) {
    if (r) out.items.push_back(std::move(*r));
  };
  auto full = [&] { return limited && static_cast<int64_t>(out.items.size()) > limit; };
  while (!full()) {
    auto row = q->step();
    if (!row) return row.error().wrap("list " + prefix);
    if (!*row) break;
    Record rec{q->text(0), q->blob(1), q->int64(2), q->int64(3)};
    for (; next != patch.end() && next->first < rec.key; ++next) take(next->second);
    if (next != patch.end() && next->first == rec.key) {
      take(next->second);
      ++next;
      continue;
    }
    out.items.push_back(std::move(rec));
  }
  for (; next != patch.end(); ++next) take(next->second);
  if (limited && static_cast<int64_t>(out.items.size()) > limit) {
    out.items.resize(static_cast<size_t>(limit));
    out.more = true;
  }
  return out;
}

Status SqliteStore::readLog(const std::string& prefix, Revision after, Revision* through,
                            std::vector<Event>* events) {
  auto r = reader();
  if (!r) return r.error();
  sql::Db& db = r->db();
  ReadTxn txn(db);
  if (Status s = txn.begin(); !s) return s.error();
  Revision current = 0;
  {
    Revision compacted = 0;
    if (Status s = readRevisions(db, &current, &compacted); !s) return s.error().wrap("read log");
    if (after < compacted) return tooOldError(after, compacted);
  }
  const std::optional<std::string> end = prefixEnd(prefix);
  std::string sql =
      "SELECT rev, key, type, value, create_rev FROM log"
      " WHERE rev > ?1 AND rev <= ?2 AND key >= ?3";
  if (end) sql += " AND key < ?4";
  sql += " ORDER BY rev, key";
  auto q = db.query(sql);
  if (!q) return q.error();
  q->bind(1, after).bind(2, current).bindText(3, prefix);
  if (end) q->bindText(4, *end);
  for (;;) {
    auto row = q->step();
    if (!row) return row.error().wrap("read log");
    if (!*row) break;
    Event e;
    int type = static_cast<int>(q->int64(2));
    e.type = type == kCreated   ? Event::Type::kCreated
             : type == kUpdated ? Event::Type::kUpdated
                                : Event::Type::kDeleted;
    e.record = Record{q->text(1), q->blob(3), q->int64(4), q->int64(0)};
    events->push_back(std::move(e));
  }
  *through = std::max(after, current);
  return {};
}

// ---- watch, compact, stats -----------------------------------------------

Result<std::unique_ptr<Watch>> SqliteStore::watch(const std::string& prefix, Revision after,
                                                  std::function<bool(const Event&)> onEvent,
                                                  std::function<void(const Error&)> onEnd) {
  if (after < 0) return makeError(Code::kBadRequest, "watch: negative revision");
  if (!onEvent) return makeError(Code::kBadRequest, "watch: no event callback");
  const Revision compacted = compacted_.load();
  if (after < compacted) return tooOldError(after, compacted);
  Revision through = after;
  std::vector<Event> replay;
  // Older than the ring: read the log here, on the caller's thread, so a long
  // replay does not hold up other watchers. See watch_hub.h for the hand-off.
  if (after < hub_->ringFloor()) {
    if (Status s = readLog(prefix, after, &through, &replay); !s) return s.error();
  }
  return hub_->add(prefix, through, std::move(replay), std::move(onEvent), std::move(onEnd));
}

Status SqliteStore::compact(Revision revision) {
  if (Status s = refuseInCallback("compact"); !s) return s;
  if (revision <= compacted_.load()) return {};
  const Revision current = revision_.load();
  if (revision > current) {
    return makeError(Code::kBadRequest, "compact: revision " + std::to_string(revision) +
                                            " is newer than the current revision " +
                                            std::to_string(current));
  }
  auto promise = std::make_shared<std::promise<Status>>();
  std::future<Status> result = promise->get_future();
  {
    std::lock_guard<std::mutex> lock(queueMu_);
    if (writerGone_ || stopping_) return makeError(Code::kUnavailable, "storage is closed");
    queue_.push_back(Pending{std::nullopt, Compaction{revision, promise}});
  }
  queueCv_.notify_one();
  return result.get();
}

Store::Stats SqliteStore::stats() {
  Stats s;
  s.txnsCommitted = txnsCommitted_.load();
  s.txnsFailed = txnsFailed_.load();
  s.batches = batches_.load();
  s.batchNanos = batchNanos_.load();
  s.maxBatchNanos = maxBatchNanos_.load();
  s.watchers = hub_ ? static_cast<int64_t>(hub_->watcherCount()) : 0;
  return s;
}

int SqliteStore::onWalCommit(void* self, sqlite3*, const char*, int pages) {
  auto* store = static_cast<SqliteStore*>(self);
  store->walPages_ = pages;  // runs inside COMMIT, on the thread that set writing_
  // Once per kCheckpointPages new pages, not after every commit past the
  // threshold: each checkpoint syncs the WAL and the database file, and under
  // steady load one chasing the writer ran after nearly every commit, as many
  // syncs as the commits themselves.
  if (pages < store->checkpointAskedAt_) store->checkpointAskedAt_ = 0;  // the WAL restarted
  if (pages < store->checkpointAskedAt_ + kCheckpointPages) return SQLITE_OK;
  store->checkpointAskedAt_ = pages;
  {
    std::lock_guard<std::mutex> lock(store->checkpointMu_);
    store->checkpointWanted_ = true;
  }
  store->checkpointCv_.notify_one();
  return SQLITE_OK;
}

void SqliteStore::checkpointLoop() {
  nameThisThread("store-ckpt");
  std::unique_lock<std::mutex> lock(checkpointMu_);
  for (;;) {
    checkpointCv_.wait(lock, [this] { return checkpointStop_ || checkpointWanted_; });
    if (checkpointStop_) return;
    checkpointWanted_ = false;
    lock.unlock();
    // PASSIVE: copies what it can without blocking the writer or readers; the
    // writer restarts the WAL from its beginning once everything is copied.
    {
      std::lock_guard<std::mutex> run(checkpointRunMu_);
      int rc = sqlite3_wal_checkpoint_v2(checkpointDb_->raw(), nullptr, SQLITE_CHECKPOINT_PASSIVE,
                                         nullptr, nullptr);
      if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
        logWarn("store checkpoint failed", {{"error", checkpointDb_->error("checkpoint").message}});
      }
    }
    lock.lock();
  }
}

void SqliteStore::compactorLoop() {
  nameThisThread("store-compact");
  std::unique_lock<std::mutex> lock(compactorMu_);
  for (;;) {
    compactorCv_.wait_for(lock, std::chrono::seconds(options_.compactIntervalSeconds),
                          [this] { return compactorStop_; });
    if (compactorStop_) return;
    lock.unlock();
    const Revision target = revision_.load() - options_.keepRevisions;
    if (target > compacted_.load()) {
      Status s = compact(target);
      if (s) {
        logInfo("store compacted", {{"revision", std::to_string(target)}});
      } else {
        logWarn("store compaction failed", {{"error", s.error().message}});
      }
    }
    lock.lock();
  }
}

}  // namespace skiff::storage
