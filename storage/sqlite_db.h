// A thin RAII layer over one SQLite connection, private to storage/.
//
// Db owns a sqlite3 handle and a cache of prepared statements keyed by their SQL
// text, so every query is compiled once per connection. Query borrows one cached
// statement and resets it (and clears its bindings) when it goes out of scope, so
// a statement is never left holding a read snapshot open.
//
// Errors come out as skiff::Error with code kInternal and SQLite's message;
// Db::lastCode() gives SQLite's extended result code for callers that need it.
//
// Thread-safety: none. A Db (and any Query borrowed from it) is used by one
// thread at a time; the store gives each thread its own connection.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "base/result.h"

namespace skiff::storage::sql {

class Db;

// One execution of a cached prepared statement.
class Query {
 public:
  Query(Db* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Query(Query&& other) noexcept : db_(other.db_), stmt_(other.stmt_), bindRc_(other.bindRc_) {
    other.stmt_ = nullptr;
  }
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;
  Query& operator=(Query&&) = delete;
  ~Query();

  // Parameters are 1-based, as in SQLite. A failed bind is reported by step().
  Query& bind(int i, int64_t v);
  // Text and blobs are not copied: `s` must stay valid until the Query is done
  // stepping (destroyed or rebound).
  Query& bindText(int i, std::string_view s);
  Query& bindBlob(int i, std::string_view s);
  Query& bindNull(int i);

  // true: a row is available; false: the statement is done.
  Result<bool> step();
  // Steps a statement that returns no rows.
  Status run();

  int64_t int64(int col) const { return sqlite3_column_int64(stmt_, col); }
  bool isNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::string text(int col) const;
  std::string blob(int col) const;

 private:
  Db* db_;
  sqlite3_stmt* stmt_;
  int bindRc_ = SQLITE_OK;
};

class Db {
 public:
  // Opens (creating if needed) `path` in WAL mode with synchronous=FULL (or OFF
  // when fsync is false) and a busy timeout, so readers never see SQLITE_BUSY in
  // practice.
  static Result<std::unique_ptr<Db>> open(const std::string& path, bool fsync);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // Runs one or more statements that return no rows, compiled each call: the
  // schema, ROLLBACK (hot single statements go through run()).
  Status exec(const char* sql);
  // Borrows the cached statement for `sql`, compiling it on first use.
  Result<Query> query(std::string_view sql);
  // Runs one cached statement that returns no rows: "BEGIN", "COMMIT" on the
  // hot paths, compiled once instead of on every call as exec() does.
  Status run(std::string_view sql);

  // "context: SQLite message (code N)"
  Error error(const std::string& context) const;
  int lastCode() const { return sqlite3_extended_errcode(db_); }
  sqlite3* raw() { return db_; }

 private:
  explicit Db(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  // Looked up by string_view (no std::string built per query).
  struct SqlHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  std::unordered_map<std::string, sqlite3_stmt*, SqlHash, std::equal_to<>> statements_;
};

}  // namespace skiff::storage::sql
