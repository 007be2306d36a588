// A SQLite VFS that hands a WAL file's frames to the kernel in one write.
//
// SQLite appends each WAL frame as two writes, its 24-byte header and then its
// page, so a commit of 14 pages is 28 pwrite calls, each straddling page-cache
// pages, before the fdatasync. This VFS wraps the default one and, for WAL files
// only, gathers contiguous writes in a buffer that goes out in one write before
// anything that must see the file: a sync, a read, a size query or truncation,
// a file control, a close, or a write elsewhere. SQLite syncs the WAL before a
// commit becomes visible to readers (walIndexAppend follows the sync in
// sqlite3WalFrames), so no reader, and no acknowledged commit, depends on bytes
// still in the buffer. That holds only for connections that sync at every
// commit (synchronous=FULL or EXTRA): with OFF or NORMAL a commit is visible
// unsynced, so such connections must not use this VFS. A deferred write that
// fails surfaces as the sync's (or read's) I/O error, before the commit returns.
// Every other file, and every other VFS call, goes straight to the wrapped VFS.
//
// One writer per database file: frames a rolled-back transaction spilled stay
// in the buffer until the next write or close, which is harmless only while no
// other connection writes the WAL meanwhile (the store's writer connection is
// the only one that does).
#pragma once

namespace skiff::storage::sql {

// The VFS's name, registered (not as the default) on first call.
const char* walBatchingVfs();

}  // namespace skiff::storage::sql
