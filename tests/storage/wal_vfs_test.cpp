// The WAL-batching VFS (storage/wal_vfs.h): what a commit wrote is on disk,
// readable by other connections and after a restart, however large the commit.
#include <catch2/catch.hpp>

#include <sqlite3.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "storage/store.h"
#include "storage/wal_vfs.h"
#include "tests/storage/store_test_util.h"

using namespace skiff;
using namespace skiff::storage;
using namespace skiff::storage::testing;

namespace {

sqlite3* openRaw(const std::string& path, const char* vfs) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, vfs) ==
          SQLITE_OK);
  REQUIRE(sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", nullptr, nullptr,
                       nullptr) == SQLITE_OK);
  return db;
}

std::string one(sqlite3* db, const std::string& sql) {
  std::string out;
  char* err = nullptr;
  int rc = sqlite3_exec(
      db, sql.c_str(),
      [](void* o, int, char** values, char**) {
        *static_cast<std::string*>(o) += values[0] ? values[0] : "NULL";
        return 0;
      },
      &out, &err);
  if (rc != SQLITE_OK) out = std::string("error: ") + (err ? err : sqlite3_errstr(rc));
  sqlite3_free(err);
  return out;
}

}  // namespace

TEST_CASE("a commit through the batching VFS is visible to a plain connection at once",
          "[storage]") {
  TempDir dir;
  sqlite3* writer = openRaw(dir.db(), sql::walBatchingVfs());
  sqlite3* reader = openRaw(dir.db(), nullptr);
  REQUIRE(one(writer, "CREATE TABLE t(k INTEGER PRIMARY KEY, v BLOB)").empty());
  // 300 KB in one commit: more than one buffer's worth (0x1ffff bytes) of frames.
  REQUIRE(one(writer, "INSERT INTO t VALUES(1, randomblob(300000))").empty());
  CHECK(one(reader, "SELECT length(v) FROM t WHERE k = 1") == "300000");
  // Small commits, each read back by the other connection before the next.
  for (int i = 2; i < 200; ++i) {
    REQUIRE(one(writer, "INSERT INTO t VALUES(" + std::to_string(i) + ", zeroblob(5000))").empty());
    REQUIRE(one(reader, "SELECT count(*) FROM t") == std::to_string(i));
  }
  // The writer's own checkpoint reads frames back through the VFS.
  CHECK(one(writer, "PRAGMA wal_checkpoint(TRUNCATE)") == "0");  // 0: not busy
  CHECK(one(writer, "INSERT INTO t VALUES(1000, 'after')").empty());
  CHECK(one(reader, "SELECT v FROM t WHERE k = 1000") == "after");
  sqlite3_close(reader);
  sqlite3_close(writer);
  sqlite3* again = openRaw(dir.db(), nullptr);
  CHECK(one(again, "PRAGMA integrity_check") == "ok");
  CHECK(one(again, "SELECT count(*) FROM t") == "200");
  sqlite3_close(again);
}

TEST_CASE("a synced store keeps every value through WAL restarts and a reopen", "[storage]") {
  TempDir dir;
  Store::Options o;
  o.fsync = true;  // the connections that use the batching VFS
  o.compactIntervalSeconds = 0;
  constexpr int kWriters = 8, kPer = 150;
  // ~5 pages a value, in kv and in the log: 1,200 of them are ~48 MB of
  // frames, past the writer's checkpoint threshold several times, so the WAL
  // starts over (a header write and sync) more than once.
  const std::string big(20000, 'x');
  {
    auto store = openStore(dir.db(), o);
    std::atomic<bool> done{false};
    std::atomic<int> readErrors{0}, writeErrors{0};
    std::thread reader([&] {  // reads the WAL's frames through its own connection
      while (!done) {
        auto l = store->list("/w/", 5);
        if (!l.ok()) ++readErrors;
        for (const Record& r : l ? l->items : std::vector<Record>{})
          if (r.value.size() != big.size() + r.key.size()) ++readErrors;
      }
    });
    std::vector<std::thread> writers;
    for (int t = 0; t < kWriters; ++t) {
      writers.emplace_back([&, t] {
        for (int i = 0; i < kPer; ++i) {
          std::string key = "/w/" + std::to_string(t) + "/" + std::to_string(i);
          if (!commit1(*store, createOp(key, big + key)).ok()) ++writeErrors;
        }
      });
    }
    for (auto& w : writers) w.join();
    done = true;
    reader.join();
    CHECK(readErrors == 0);
    CHECK(writeErrors == 0);
  }
  auto store = openStore(dir.db(), o);
  auto all = store->list("/w/");
  REQUIRE(all.ok());
  REQUIRE(all->items.size() == size_t{kWriters * kPer});
  for (const Record& r : all->items) CHECK(r.value == big + r.key);
  CHECK(store->currentRevision() == Revision{kWriters * kPer});
  sqlite3* db = openRaw(dir.db(), nullptr);
  CHECK(one(db, "PRAGMA integrity_check") == "ok");
  sqlite3_close(db);
}
