#include "storage/sqlite_db.h"

#include "storage/wal_vfs.h"

namespace skiff::storage::sql {

Query::~Query() {
  if (stmt_ == nullptr) return;
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

Query& Query::bind(int i, int64_t v) {
  int rc = sqlite3_bind_int64(stmt_, i, v);
  if (rc != SQLITE_OK && bindRc_ == SQLITE_OK) bindRc_ = rc;
  return *this;
}

Query& Query::bindText(int i, std::string_view s) {
  int rc = sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_STATIC);
  if (rc != SQLITE_OK && bindRc_ == SQLITE_OK) bindRc_ = rc;
  return *this;
}

Query& Query::bindBlob(int i, std::string_view s) {
  // A non-null pointer keeps an empty value a zero-length blob rather than NULL.
  static const char kEmpty = 0;
  const char* data = s.empty() ? &kEmpty : s.data();
  int rc = sqlite3_bind_blob(stmt_, i, data, static_cast<int>(s.size()), SQLITE_STATIC);
  if (rc != SQLITE_OK && bindRc_ == SQLITE_OK) bindRc_ = rc;
  return *this;
}

Query& Query::bindNull(int i) {
  int rc = sqlite3_bind_null(stmt_, i);
  if (rc != SQLITE_OK && bindRc_ == SQLITE_OK) bindRc_ = rc;
  return *this;
}

Result<bool> Query::step() {
  if (bindRc_ != SQLITE_OK) {
    return makeError(Code::kInternal, std::string("sqlite bind: ") + sqlite3_errstr(bindRc_));
  }
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return db_->error(std::string("sqlite step \"") + sqlite3_sql(stmt_) + "\"");
}

Status Query::run() {
  Result<bool> r = step();
  if (!r) return r.error();
  return {};
}

std::string Query::text(int col) const {
  const unsigned char* p = sqlite3_column_text(stmt_, col);
  int n = sqlite3_column_bytes(stmt_, col);
  return p == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(p), n);
}

std::string Query::blob(int col) const {
  const void* p = sqlite3_column_blob(stmt_, col);
  int n = sqlite3_column_bytes(stmt_, col);
  return p == nullptr ? std::string() : std::string(static_cast<const char*>(p), n);
}

Result<std::unique_ptr<Db>> Db::open(const std::string& path, bool fsync) {
  // Before SQLite's first use in the process: no memory statistics, which
  // would take a global mutex around every allocation SQLite makes (nothing
  // here reads them). A process that used SQLite already keeps its settings.
  [[maybe_unused]] static const int configured = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  sqlite3* raw = nullptr;
  // A connection that syncs every commit may gather its WAL writes (wal_vfs.h).
  int rc = sqlite3_open_v2(path.c_str(), &raw,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                           fsync ? walBatchingVfs() : nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
    sqlite3_close_v2(raw);
    return makeError(Code::kInternal, "open " + path + ": " + msg);
  }
  std::unique_ptr<Db> db(new Db(raw));
  sqlite3_extended_result_codes(raw, 1);
  // Readers and the writer share the file; WAL lets them run concurrently. The
  // busy timeout only matters while a checkpoint or a second process holds a lock.
  sqlite3_busy_timeout(raw, 10000);
  std::string pragmas = std::string("PRAGMA journal_mode=WAL; PRAGMA synchronous=") +
                        (fsync ? "FULL" : "OFF") +
                        "; PRAGMA foreign_keys=OFF; PRAGMA mmap_size=1073741824;"
                        " PRAGMA cache_size=-16384;";
  if (Status s = db->exec(pragmas.c_str()); !s) return s.error().wrap("open " + path);
  return db;
}

Db::~Db() {
  for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
  sqlite3_close_v2(db_);
}

Status Db::exec(const char* sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
  if (rc == SQLITE_OK) return {};
  std::string msg = err ? err : sqlite3_errstr(rc);
  sqlite3_free(err);
  return makeError(Code::kInternal, std::string("sqlite \"") + sql + "\": " + msg + " (code " +
                                        std::to_string(rc) + ")");
}

Result<Query> Db::query(std::string_view sql) {
  auto it = statements_.find(sql);
  if (it == statements_.end()) {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) return error("sqlite prepare \"" + std::string(sql) + "\"");
    it = statements_.emplace(sql, stmt).first;
  }
  return Query(this, it->second);
}

Status Db::run(std::string_view sql) {
  auto q = query(sql);
  if (!q) return q.error();
  return q->run();
}

Error Db::error(const std::string& context) const {
  return makeError(Code::kInternal, context + ": " + sqlite3_errmsg(db_) + " (code " +
                                        std::to_string(sqlite3_extended_errcode(db_)) + ")");
}

}  // namespace skiff::storage::sql
