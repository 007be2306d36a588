// What sqlite_store.cpp (reads, open, close) and sqlite_writer.cpp (the
// writer thread) share inside SqliteStore; no other code includes it.
//
// Thread-safety: free functions; `db` is the caller's connection.
#pragma once

#include <optional>
#include <string>

#include "base/result.h"
#include "storage/sqlite_db.h"
#include "storage/store.h"

namespace skiff::storage::internal {

// The log's `type` column.
inline constexpr int kCreated = 0;
inline constexpr int kUpdated = 1;
inline constexpr int kDeleted = 2;

// An error about `key`, which callers find in Error::name.
Error keyError(Code code, const std::string& key, std::string message);

// kv's record of `key` (nullopt: none), as the snapshot `db` reads it.
Result<std::optional<Record>> readState(sql::Db& db, const std::string& key);

}  // namespace skiff::storage::internal
