// The writer thread of SqliteStore: group commit and compaction chunks. See
// sqlite_store.h for the design.
#include <algorithm>
#include <chrono>
#include <map>
#include <numeric>

#include "base/log.h"
#include "base/thread.h"
#include "storage/sqlite_store.h"
#include "storage/sqlite_store_internal.h"

namespace skiff::storage {

using internal::kCreated;
using internal::kDeleted;
using internal::keyError;
using internal::kUpdated;
using internal::readState;

void SqliteStore::runDone(const std::function<void(Result<TxnResult>)>& done,
                          Result<TxnResult> result) {
  if (!done) return;
  CallbackScope scope(this);
  try {
    done(std::move(result));
  } catch (const std::exception& e) {
    logError("commit callback threw", {{"error", e.what()}});
  } catch (...) {
    logError("commit callback threw");
  }
}

void SqliteStore::commit(std::vector<Op> ops, std::function<void(Result<TxnResult>)> done) {
  {
    std::unique_lock<std::mutex> lock(queueMu_);
    if (!writerGone_ && !stopping_) {
      // walPages_ is stable here: only a thread that set writing_ writes it.
      if (queue_.empty() && !writing_ && lastBatchSize_ <= 1 &&
          walPages_ < kWriterCheckpointPages) {
        // Nothing to group with, nothing running, no load (the last batch was
        // a lone commit too), and no checkpoint due (that stays with the
        // writer thread): commit here, on the caller's thread, rather than
        // wake the writer thread and have it wake the caller's.
        writing_ = true;
        lastBatchSize_ = 1;
        lock.unlock();
        struct Release {  // even if the batch throws: the writer waits on it
          SqliteStore* self;
          ~Release() { self->endWrite(); }
        } release{this};
        std::vector<Txn> batch;
        batch.push_back(Txn{std::move(ops), std::move(done)});
        runBatch(batch, /*mayCheckpoint=*/false);
        return;
      }
      queue_.push_back(Pending{Txn{std::move(ops), std::move(done)}, std::nullopt});
      if (!writing_) queueCv_.notify_one();
      return;
    }
  }
  // No writer thread any more: fail here, on the caller's thread.
  runDone(done, makeError(Code::kUnavailable, "storage is closed"));
}

void SqliteStore::writerLoop() {
  nameThisThread("store-writer");
  for (;;) {
    std::vector<Txn> batch;
    std::optional<Compaction> compaction;
    {
      std::unique_lock<std::mutex> lock(queueMu_);
      auto ready = [this] { return !writing_ && (stopping_ || !queue_.empty()); };
      // With the tail empty there is nothing to catch up on: no timed wake
      // until a write leaves changes in it (endWrite wakes us then).
      if (!tailPending_) {
        queueCv_.wait(lock, [&] { return ready() || tailPending_; });
        if (!ready()) continue;
      } else if (!queueCv_.wait_for(lock, kIdleApply, ready)) {
        // Idle: kv catches up, and the tail's values leave memory.
        if (writing_) continue;
        writing_ = true;
        lock.unlock();
        if (!broken_.load()) {
          if (Status s = applyTailNow(); !s)
            logWarn("store could not bring its state up to date", {{"error", s.error().message}});
        }
        endWrite();
        continue;
      }
      if (stopping_) {
        std::deque<Pending> rest;
        rest.swap(queue_);
        writerGone_ = true;
        lock.unlock();
        Error closing = makeError(Code::kUnavailable, "storage is shutting down");
        for (Pending& p : rest) {
          if (p.txn) {
            ++txnsFailed_;
            runDone(p.txn->done, closing);
          }
          if (p.compaction) p.compaction->result->set_value(closing);
        }
        return;
      }
      if (queue_.front().compaction) {
        compaction = std::move(queue_.front().compaction);
        queue_.pop_front();
      } else {
        while (!queue_.empty() && queue_.front().txn && batch.size() < kMaxBatch) {
          batch.push_back(std::move(*queue_.front().txn));
          queue_.pop_front();
        }
      }
      writing_ = true;
      if (!compaction) lastBatchSize_ = batch.size();
    }
    if (compaction) {
      runCompactionChunk(*compaction);
    } else {
      runBatch(batch, /*mayCheckpoint=*/true);
    }
    endWrite();
  }
}

void SqliteStore::endWrite() {
  const bool pending = !tail_.empty();  // ours to read until writing_ is cleared
  std::lock_guard<std::mutex> lock(queueMu_);
  writing_ = false;
  const bool newlyPending = pending && !tailPending_;
  tailPending_ = pending;
  // A commit queued meanwhile found writing_ set and did not wake the writer;
  // a writer waiting with an empty tail needs its timed wake now.
  if (!queue_.empty() || stopping_ || newlyPending) queueCv_.notify_one();
}

void SqliteStore::runBatch(std::vector<Txn>& batch, bool mayCheckpoint) {
  if (broken_.load()) {
    Error refused =
        makeError(Code::kUnavailable, "storage refuses writes after an earlier I/O error");
    for (Txn& t : batch) {
      ++txnsFailed_;
      runDone(t.done, refused);
    }
    return;
  }
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::optional<Result<TxnResult>>> outcomes(batch.size());
  std::vector<Event> events;
  Revision rev = revision_.load();

  Status s = writeDb_->run("BEGIN IMMEDIATE");
  for (size_t i = 0; s && i < batch.size(); ++i) {
    s = applyTxn(batch[i], rev + 1, &outcomes[i], &events);
    if (s && outcomes[i]->ok() && !batch[i].ops.empty()) ++rev;
  }
  const bool applying =
      tail_.size() >= std::max<size_t>(options_.stateLagKeys, 1) || tailBytes_ >= kMaxTailBytes;
  if (s && applying) s = applyTail(rev);
  if (s) s = writeDb_->run("COMMIT");
  if (!s) {
    (void)writeDb_->exec("ROLLBACK");
    broken_ = true;  // tail_ no longer matches the log; no write reads it again
    logError("store commit failed; refusing further writes", {{"error", s.error().message}});
    Error failed = s.error().wrap("commit");
    failed.code = Code::kInternal;
    for (Txn& t : batch) {
      ++txnsFailed_;
      runDone(t.done, failed);
    }
    return;
  }
  const int64_t nanos =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start)
          .count();
  revision_ = rev;
  if (applying) tailApplied(rev);
  ++batches_;
  batchNanos_ += nanos;
  if (nanos > maxBatchNanos_.load()) maxBatchNanos_ = nanos;

  // Watchers first, so a client that sees its write acknowledged and then
  // watches from the returned revision cannot miss what follows.
  hub_->publish(std::move(events));
  for (size_t i = 0; i < batch.size(); ++i) {
    if (outcomes[i]->ok()) {
      ++txnsCommitted_;
    } else {
      ++txnsFailed_;
    }
    runDone(batch[i].done, std::move(*outcomes[i]));
  }
  if (mayCheckpoint && walPages_ >= kWriterCheckpointPages) {
    // No write transaction is open, so this checkpoint can copy every frame and
    // the next commit starts the WAL over (unless a reader still holds an old
    // snapshot; then the next batch tries again).
    std::lock_guard<std::mutex> run(checkpointRunMu_);
    int rc = sqlite3_wal_checkpoint_v2(writeDb_->raw(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr,
                                       nullptr);
    if (rc == SQLITE_OK) walPages_ = 0;
  }
}

Status SqliteStore::applyTxn(Txn& txn, Revision rev, std::optional<Result<TxnResult>>* outcome,
                             std::vector<Event>* events) {
  const std::vector<Op>& ops = txn.ops;
  const size_t n = ops.size();
  if (n == 0) {
    *outcome = TxnResult{rev - 1, {}};
    return {};
  }
  // etcd refuses a transaction that touches one key twice; so do we (the log's
  // primary key is (rev, key)).
  std::vector<size_t> byKey(n);
  std::iota(byKey.begin(), byKey.end(), 0);
  std::sort(byKey.begin(), byKey.end(),
            [&](size_t a, size_t b) { return ops[a].key < ops[b].key; });
  for (size_t i = 1; i < n; ++i) {
    if (ops[byKey[i]].key == ops[byKey[i - 1]].key) {
      *outcome = keyError(Code::kBadRequest, ops[byKey[i]].key,
                          "duplicate key in transaction: " + ops[byKey[i]].key);
      return {};
    }
  }

  // 1. Check every op against the current state; nothing is written yet.
  std::vector<std::optional<Record>> current(n);
  for (size_t i = 0; i < n; ++i) {
    const Op& op = ops[i];
    if (Status s = currentRecord(op.key, &current[i]); !s) return s;
    if (op.kind == Op::Kind::kCreate) {
      if (current[i]) {
        *outcome = keyError(Code::kAlreadyExists, op.key, "key already exists: " + op.key);
        return {};
      }
      continue;
    }
    if (!current[i]) {
      *outcome = keyError(Code::kNotFound, op.key, "key not found: " + op.key);
      return {};
    }
    if (op.expectedRevision != 0 && op.expectedRevision != current[i]->modRevision) {
      *outcome = keyError(Code::kConflict, op.key,
                          "revision mismatch for " + op.key + ": expected " +
                              std::to_string(op.expectedRevision) + ", current " +
                              std::to_string(current[i]->modRevision));
      return {};
    }
  }

  // 2. Encode the new values, now that their revision is known.
  std::vector<std::string> values(n);
  for (size_t i = 0; i < n; ++i) {
    const Op& op = ops[i];
    if (op.kind == Op::Kind::kDelete) continue;
    if (!op.encode) {
      *outcome = keyError(Code::kInternal, op.key, "no encoder for write of " + op.key);
      return {};
    }
    try {
      values[i] = op.encode(rev);
    } catch (const std::exception& e) {
      *outcome = keyError(Code::kInternal, op.key, "encode " + op.key + ": " + e.what());
      return {};
    }
  }

  // 3. Write the state and the log.
  TxnResult result;
  result.revision = rev;
  result.records.reserve(n);
  std::vector<int> types(n);
  const Revision compacted = compacted_.load();
  for (size_t i = 0; i < n; ++i) {
    const Op& op = ops[i];
    Record rec;
    Status s;
    // A value older than the compaction floor left the log (the state had
    // it); back it goes, at its own revision, before the state moves on: a
    // list at a revision from the floor on may still ask for it.
    if (op.kind != Op::Kind::kCreate && current[i]->modRevision <= compacted) {
      const Record& was = *current[i];
      const int type = was.createRevision == was.modRevision ? kCreated : kUpdated;
      if (Status r = writeLog(was, type, /*ifAbsent=*/true); !r) return r;
    }
    // The state itself is written later, with the tail (see sqlite_store.h).
    switch (op.kind) {
      case Op::Kind::kCreate:
        rec = Record{op.key, std::move(values[i]), rev, rev};
        types[i] = kCreated;
        break;
      case Op::Kind::kUpdate:
        rec = Record{op.key, std::move(values[i]), current[i]->createRevision, rev};
        types[i] = kUpdated;
        break;
      case Op::Kind::kDelete:
        rec = Record{op.key, std::move(current[i]->value), current[i]->createRevision, rev};
        types[i] = kDeleted;
        break;
    }
    s = writeLog(rec, types[i], /*ifAbsent=*/false);  // rec.modRevision is rev
    if (!s) return s;
    addToTail(op.key, rev, types[i] == kDeleted ? std::nullopt : std::optional<Record>(rec));
    result.records.push_back(std::move(rec));
  }
  for (size_t i : byKey) {
    Event e;
    e.type = types[i] == kCreated   ? Event::Type::kCreated
             : types[i] == kUpdated ? Event::Type::kUpdated
                                    : Event::Type::kDeleted;
    e.record = result.records[i];
    events->push_back(std::move(e));
  }
  *outcome = std::move(result);
  return {};
}

Status SqliteStore::currentRecord(const std::string& key, std::optional<Record>* out) {
  if (auto t = tail_.find(key); t != tail_.end()) {
    *out = t->second;
    return {};
  }
  auto state = readState(*writeDb_, key);
  if (!state) return state.error();
  *out = std::move(*state);
  return {};
}

Status SqliteStore::applyTail(Revision through) {
  // In key order: neighbouring keys share kv's pages.
  std::vector<const std::pair<const std::string, std::optional<Record>>*> changed;
  changed.reserve(tail_.size());
  for (const auto& entry : tail_) changed.push_back(&entry);
  std::sort(changed.begin(), changed.end(), [](auto* a, auto* b) { return a->first < b->first; });
  for (const auto* entry : changed) {
    const std::optional<Record>& r = entry->second;
    auto q =
        writeDb_->query(r ? "INSERT INTO kv(key, value, create_rev, mod_rev) VALUES(?1, ?2, ?3, ?4)"
                            " ON CONFLICT(key) DO UPDATE SET value = excluded.value,"
                            " create_rev = excluded.create_rev, mod_rev = excluded.mod_rev"
                          : "DELETE FROM kv WHERE key = ?1");
    if (!q) return q.error();
    q->bindText(1, entry->first);
    if (r) q->bindBlob(2, r->value).bind(3, r->createRevision).bind(4, r->modRevision);
    if (Status s = q->run(); !s) return s;
  }
  auto q = writeDb_->query("INSERT OR REPLACE INTO meta(name, value) VALUES('applied', ?1)");
  if (!q) return q.error();
  return q->bind(1, through).run();
}

Status SqliteStore::applyTailNow() {
  if (tail_.empty()) return {};
  Status s = writeDb_->run("BEGIN IMMEDIATE");
  if (s) s = applyTail(revision_.load());
  if (s) s = writeDb_->run("COMMIT");
  if (!s) {
    (void)writeDb_->exec("ROLLBACK");
    return s;
  }
  tailApplied(revision_.load());
  return {};
}

void SqliteStore::addToTail(const std::string& key, Revision rev, std::optional<Record> now) {
  std::optional<Record>& r = tail_[key];
  if (r) tailBytes_ -= r->value.size();
  if (now) tailBytes_ += now->value.size();
  r = std::move(now);
  std::lock_guard<std::mutex> lock(tailIndexMu_);
  tailIndex_[key].push_back(rev);
}

void SqliteStore::tailApplied(Revision through) {
  tail_.clear();
  tailBytes_ = 0;
  std::lock_guard<std::mutex> lock(tailIndexMu_);
  tailIndex_.clear();
  tailFloor_ = through;
}

Status SqliteStore::writeLog(const Record& r, int type, bool ifAbsent) {
  auto q = writeDb_->query(
      ifAbsent ? "INSERT OR IGNORE INTO log(rev, key, type, value, create_rev) VALUES(?1, ?2, ?3, "
                 "?4, ?5)"
               : "INSERT INTO log(rev, key, type, value, create_rev) VALUES(?1, ?2, ?3, ?4, ?5)");
  if (!q) return q.error();
  return q->bind(1, r.modRevision)
      .bindText(2, r.key)
      .bind(3, type)
      .bindBlob(4, r.value)
      .bind(5, r.createRevision)
      .run();
}

Status SqliteStore::compactLog(Revision from, Revision to) {
  // Rows below the old floor are values kept for keys that changed later (see
  // below, and applyTxn); a newer row of the key in (from, to] replaces them.
  {
    auto q = writeDb_->query(
        "DELETE FROM log WHERE rev <= ?1 AND key IN"
        " (SELECT key FROM log WHERE rev > ?1 AND rev <= ?2)");
    if (!q) return q.error();
    if (Status s = q->bind(1, from).bind(2, to).run(); !s) return s;
  }
  // Each key's newest row in (from, to]: its value at the new floor, and at
  // every revision after it until the key's next change.
  std::map<std::string, std::pair<Revision, int>> newest;  // key -> (rev, type)
  {
    auto q =
        writeDb_->query("SELECT rev, key, type FROM log WHERE rev > ?1 AND rev <= ?2 ORDER BY rev");
    if (!q) return q.error();
    q->bind(1, from).bind(2, to);
    for (;;) {
      auto row = q->step();
      if (!row) return row.error();
      if (!*row) break;
      newest[q->text(1)] = {q->int64(0), static_cast<int>(q->int64(2))};
    }
  }
  // Kept: the rows a list at a revision >= `to` may need, as etcd keeps them.
  // Not a deletion (the key did not exist then), nor the value the state still
  // holds (mod_rev equal): only the value of a key that changed or went after
  // `to`. They stay where they are; every other row of the range goes.
  if (Status s = writeDb_->exec(
          "CREATE TEMP TABLE IF NOT EXISTS compact_keep(rev INTEGER NOT NULL, key TEXT NOT NULL,"
          " PRIMARY KEY(rev, key)) WITHOUT ROWID; DELETE FROM temp.compact_keep;");
      !s) {
    return s;
  }
  bool anyKept = false;
  for (const auto& [key, newestRow] : newest) {
    if (newestRow.second == kDeleted) continue;
    auto state = writeDb_->query("SELECT mod_rev FROM kv WHERE key = ?1");
    if (!state) return state.error();
    state->bindText(1, key);
    auto row = state->step();
    if (!row) return row.error();
    if (*row && state->int64(0) == newestRow.first) continue;
    auto keep = writeDb_->query("INSERT INTO temp.compact_keep(rev, key) VALUES(?1, ?2)");
    if (!keep) return keep.error();
    if (Status s = keep->bind(1, newestRow.first).bindText(2, key).run(); !s) return s;
    anyKept = true;
  }
  auto q = writeDb_->query(anyKept ? "DELETE FROM log WHERE rev > ?1 AND rev <= ?2 AND NOT EXISTS"
                                     " (SELECT 1 FROM temp.compact_keep k"
                                     " WHERE k.rev = log.rev AND k.key = log.key)"
                                   : "DELETE FROM log WHERE rev > ?1 AND rev <= ?2");
  if (!q) return q.error();
  return q->bind(1, from).bind(2, to).run();
}

void SqliteStore::runCompactionChunk(Compaction& c) {
  if (broken_.load()) {
    c.result->set_value(
        makeError(Code::kUnavailable, "storage refuses writes after an earlier I/O error"));
    return;
  }
  const Revision from = compacted_.load();
  if (from >= c.target) {
    c.result->set_value(Status{});
    return;
  }
  const Revision to = std::min(c.target, from + kCompactChunk);
  // compactLog reads kv as the current state, and must not take a log row
  // that kv does not hold yet.
  Status s = applyTailNow();
  if (s) s = writeDb_->run("BEGIN IMMEDIATE");
  if (s) s = compactLog(from, to);
  if (s) {
    auto q = writeDb_->query("UPDATE meta SET value = ?1 WHERE name = 'compacted'");
    s = q ? q->bind(1, to).run() : Status(q.error());
  }
  if (s) s = writeDb_->run("COMMIT");
  if (!s) {
    (void)writeDb_->exec("ROLLBACK");
    broken_ = true;
    logError("store compaction failed; refusing further writes", {{"error", s.error().message}});
    c.result->set_value(s.error().wrap("compact"));
    return;
  }
  compacted_ = to;
  if (to >= c.target) {
    c.result->set_value(Status{});
    return;
  }
  // More to do: go to the back of the queue so waiting commits run first.
  std::lock_guard<std::mutex> lock(queueMu_);
  queue_.push_back(Pending{std::nullopt, std::move(c)});
}

}  // namespace skiff::storage
