// Helpers shared by the storage tests: a temporary directory per test, op
// builders, and an event collector for watches.
#pragma once

#include <sqlite3.h>
#include <stdlib.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "storage/store.h"

namespace skiff::storage::testing {

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/skiff-store-test-XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string db() const { return path_ + "/state.db"; }

 private:
  std::string path_;
};

inline Store::Options fastOptions() {
  Store::Options o;
  o.fsync = false;
  o.compactIntervalSeconds = 0;
  // Small, so that the tests' few keys are read from kv and from the log
  // after it alike (see Options::stateLagKeys).
  o.stateLagKeys = 3;
  return o;
}

inline std::unique_ptr<Store> openStore(const std::string& path, Store::Options o = fastOptions()) {
  auto s = Store::open(path, o);
  if (!s) throw std::runtime_error("open store: " + s.error().message);
  return std::move(*s);
}

// Runs `sql` on the closed database at `path`, as another program would.
inline void execOnClosed(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  CHECK(sqlite3_exec(db, sql, nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(db);
}
// One integer from a query on the database at `path` (closed, or read beside
// an open store, as another program would).
inline int64_t queryInt(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, sql, -1, &st, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(st) == SQLITE_ROW);
  const int64_t v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return v;
}

inline Op createOp(std::string key, std::string value) {
  Op op;
  op.kind = Op::Kind::kCreate;
  op.key = std::move(key);
  op.encode = [value](Revision) { return value; };
  return op;
}

inline Op updateOp(std::string key, std::string value, Revision expected = 0) {
  Op op;
  op.kind = Op::Kind::kUpdate;
  op.key = std::move(key);
  op.encode = [value](Revision) { return value; };
  op.expectedRevision = expected;
  return op;
}

inline Op deleteOp(std::string key, Revision expected = 0) {
  Op op;
  op.kind = Op::Kind::kDelete;
  op.key = std::move(key);
  op.expectedRevision = expected;
  return op;
}

inline Result<TxnResult> commit1(Store& s, Op op) {
  std::vector<Op> ops;
  ops.push_back(std::move(op));
  return s.commitSync(std::move(ops));
}

// Collects a watch's events; thread-safe.
class Collector {
 public:
  bool add(const Event& e) {
    std::lock_guard<std::mutex> lock(mu_);
    events_.push_back(e);
    cv_.notify_all();
    return true;
  }
  void end(const Error& e) {
    std::lock_guard<std::mutex> lock(mu_);
    ended_ = true;
    endError_ = e;
    cv_.notify_all();
  }
  // Waits until at least n events arrived; returns how many did.
  size_t waitFor(size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, timeout, [&] { return events_.size() >= n; });
    return events_.size();
  }
  bool waitEnded(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return ended_; });
  }
  std::vector<Event> events() {
    std::lock_guard<std::mutex> lock(mu_);
    return events_;
  }
  Error endError() {
    std::lock_guard<std::mutex> lock(mu_);
    return endError_;
  }
  std::function<bool(const Event&)> onEvent() {
    return [this](const Event& e) { return add(e); };
  }
  std::function<void(const Error&)> onEnd() {
    return [this](const Error& e) { end(e); };
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Event> events_;
  bool ended_ = false;
  Error endError_;
};

}  // namespace skiff::storage::testing
