#include "storage/wal_vfs.h"

#include <sqlite3.h>

#include <cstring>
#include <mutex>
#include <new>
#include <vector>

namespace skiff::storage::sql {

namespace {

constexpr char kName[] = "skiff-wal-batching";
// The unix VFS writes at most 0x1ffff bytes per call (seekAndWriteFd masks
// the length), so the buffer goes out before it would grow past that; it also
// keeps a big batch's memory bounded. 31 frames of a 4 KB page fit.
constexpr size_t kMaxBuffered = 0x1ffff;

sqlite3_vfs* base() {
  static sqlite3_vfs* const vfs = sqlite3_vfs_find(nullptr);
  return vfs;
}

// SQLite allocates szOsFile bytes per open file: this header, then the wrapped
// VFS's own file object.
struct File {
  sqlite3_file file;           // pMethods: kMethods once open
  sqlite3_file* real;          // the wrapped VFS's file, right after this header
  std::vector<char>* pending;  // WAL files only: contiguous bytes not yet written
  sqlite3_int64 pendingAt;     // file offset of pending->front()
};

constexpr size_t kHeader = (sizeof(File) + 15) & ~size_t{15};

File* self(sqlite3_file* f) {
  return reinterpret_cast<File*>(f);
}
const sqlite3_io_methods* real(File* f) {
  return f->real->pMethods;
}

int flush(File* f) {
  if (f->pending == nullptr || f->pending->empty()) return SQLITE_OK;
  int rc = real(f)->xWrite(f->real, f->pending->data(), static_cast<int>(f->pending->size()),
                           f->pendingAt);
  f->pending->clear();
  return rc;
}

int xClose(sqlite3_file* file) {
  File* f = self(file);
  int rc = flush(f);
  int closed = real(f)->xClose(f->real);
  delete f->pending;
  f->pending = nullptr;
  return rc != SQLITE_OK ? rc : closed;
}

int xRead(sqlite3_file* file, void* out, int amount, sqlite3_int64 offset) {
  File* f = self(file);
  if (int rc = flush(f); rc != SQLITE_OK) return rc;
  return real(f)->xRead(f->real, out, amount, offset);
}

int xWrite(sqlite3_file* file, const void* data, int amount, sqlite3_int64 offset) {
  File* f = self(file);
  if (f->pending == nullptr) return real(f)->xWrite(f->real, data, amount, offset);
  std::vector<char>& p = *f->pending;
  const size_t n = static_cast<size_t>(amount);
  if (!p.empty() && offset == f->pendingAt + static_cast<sqlite3_int64>(p.size()) &&
      p.size() + n <= kMaxBuffered) {
    const char* bytes = static_cast<const char*>(data);
    p.insert(p.end(), bytes, bytes + n);
    return SQLITE_OK;
  }
  if (int rc = flush(f); rc != SQLITE_OK) return rc;
  if (n > kMaxBuffered) return real(f)->xWrite(f->real, data, amount, offset);
  const char* bytes = static_cast<const char*>(data);
  p.assign(bytes, bytes + n);
  f->pendingAt = offset;
  return SQLITE_OK;
}

int xTruncate(sqlite3_file* file, sqlite3_int64 size) {
  File* f = self(file);
  if (int rc = flush(f); rc != SQLITE_OK) return rc;
  return real(f)->xTruncate(f->real, size);
}

int xSync(sqlite3_file* file, int flags) {
  File* f = self(file);
  if (int rc = flush(f); rc != SQLITE_OK) return rc;
  return real(f)->xSync(f->real, flags);
}

int xFileSize(sqlite3_file* file, sqlite3_int64* size) {
  File* f = self(file);
  if (int rc = flush(f); rc != SQLITE_OK) return rc;
  return real(f)->xFileSize(f->real, size);
}

int xLock(sqlite3_file* file, int level) {
  File* f = self(file);
  return real(f)->xLock(f->real, level);
}

int xUnlock(sqlite3_file* file, int level) {
  File* f = self(file);
  return real(f)->xUnlock(f->real, level);
}

int xCheckReservedLock(sqlite3_file* file, int* out) {
  File* f = self(file);
  return real(f)->xCheckReservedLock(f->real, out);
}

int xFileControl(sqlite3_file* file, int op, void* arg) {
  File* f = self(file);
  if (int rc = flush(f); rc != SQLITE_OK) return rc;
  return real(f)->xFileControl(f->real, op, arg);
}

int xSectorSize(sqlite3_file* file) {
  File* f = self(file);
  return real(f)->xSectorSize(f->real);
}

int xDeviceCharacteristics(sqlite3_file* file) {
  File* f = self(file);
  return real(f)->xDeviceCharacteristics(f->real);
}

int xShmMap(sqlite3_file* file, int region, int size, int extend, void volatile** out) {
  File* f = self(file);
  if (real(f)->iVersion < 2 || real(f)->xShmMap == nullptr) return SQLITE_IOERR_SHMMAP;
  return real(f)->xShmMap(f->real, region, size, extend, out);
}

int xShmLock(sqlite3_file* file, int offset, int n, int flags) {
  File* f = self(file);
  if (real(f)->iVersion < 2 || real(f)->xShmLock == nullptr) return SQLITE_IOERR_SHMLOCK;
  return real(f)->xShmLock(f->real, offset, n, flags);
}

void xShmBarrier(sqlite3_file* file) {
  File* f = self(file);
  if (real(f)->iVersion >= 2 && real(f)->xShmBarrier != nullptr) real(f)->xShmBarrier(f->real);
}

int xShmUnmap(sqlite3_file* file, int deleteFlag) {
  File* f = self(file);
  if (real(f)->iVersion < 2 || real(f)->xShmUnmap == nullptr) return SQLITE_OK;
  return real(f)->xShmUnmap(f->real, deleteFlag);
}

int xFetch(sqlite3_file* file, sqlite3_int64 offset, int amount, void** out) {
  File* f = self(file);
  *out = nullptr;
  if (int rc = flush(f); rc != SQLITE_OK) return rc;
  if (real(f)->iVersion < 3 || real(f)->xFetch == nullptr) return SQLITE_OK;
  return real(f)->xFetch(f->real, offset, amount, out);
}

int xUnfetch(sqlite3_file* file, sqlite3_int64 offset, void* page) {
  File* f = self(file);
  if (real(f)->iVersion < 3 || real(f)->xUnfetch == nullptr) return SQLITE_OK;
  return real(f)->xUnfetch(f->real, offset, page);
}

const sqlite3_io_methods kMethods = {
    3,
    xClose,
    xRead,
    xWrite,
    xTruncate,
    xSync,
    xFileSize,
    xLock,
    xUnlock,
    xCheckReservedLock,
    xFileControl,
    xSectorSize,
    xDeviceCharacteristics,
    xShmMap,
    xShmLock,
    xShmBarrier,
    xShmUnmap,
    xFetch,
    xUnfetch,
};

int xOpen(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* file, int flags, int* outFlags) {
  File* f = self(file);
  f->file.pMethods = nullptr;
  f->real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(file) + kHeader);
  f->pending = nullptr;
  f->pendingAt = 0;
  int rc = base()->xOpen(base(), name, f->real, flags, outFlags);
  if (f->real->pMethods == nullptr) return rc;  // nothing to close
  // Readers open the WAL too but never write it: the buffer grows on the
  // first write only.
  if (rc == SQLITE_OK && (flags & SQLITE_OPEN_WAL) != 0)
    f->pending = new (std::nothrow) std::vector<char>();
  f->file.pMethods = &kMethods;
  return rc;
}

// Everything but xOpen goes to the wrapped VFS as it is.
int xDelete(sqlite3_vfs*, const char* name, int syncDir) {
  return base()->xDelete(base(), name, syncDir);
}
int xAccess(sqlite3_vfs*, const char* name, int flags, int* out) {
  return base()->xAccess(base(), name, flags, out);
}
int xFullPathname(sqlite3_vfs*, const char* name, int n, char* out) {
  return base()->xFullPathname(base(), name, n, out);
}
void* xDlOpen(sqlite3_vfs*, const char* name) {
  return base()->xDlOpen(base(), name);
}
void xDlError(sqlite3_vfs*, int n, char* out) {
  base()->xDlError(base(), n, out);
}
void (*xDlSym(sqlite3_vfs*, void* lib, const char* sym))(void) {
  return base()->xDlSym(base(), lib, sym);
}
void xDlClose(sqlite3_vfs*, void* lib) {
  base()->xDlClose(base(), lib);
}
int xRandomness(sqlite3_vfs*, int n, char* out) {
  return base()->xRandomness(base(), n, out);
}
int xSleep(sqlite3_vfs*, int micros) {
  return base()->xSleep(base(), micros);
}
int xCurrentTime(sqlite3_vfs*, double* out) {
  return base()->xCurrentTime(base(), out);
}
int xGetLastError(sqlite3_vfs*, int n, char* out) {
  return base()->xGetLastError ? base()->xGetLastError(base(), n, out) : 0;
}
int xCurrentTimeInt64(sqlite3_vfs*, sqlite3_int64* out) {
  if (base()->iVersion >= 2 && base()->xCurrentTimeInt64 != nullptr)
    return base()->xCurrentTimeInt64(base(), out);
  double days = 0;
  int rc = base()->xCurrentTime(base(), &days);
  *out = static_cast<sqlite3_int64>(days * 86400000.0);
  return rc;
}

}  // namespace

const char* walBatchingVfs() {
  static std::once_flag once;
  std::call_once(once, [] {
    static sqlite3_vfs vfs;
    std::memset(&vfs, 0, sizeof vfs);
    vfs.iVersion = 2;
    vfs.szOsFile = static_cast<int>(kHeader) + base()->szOsFile;
    vfs.mxPathname = base()->mxPathname;
    vfs.zName = kName;
    vfs.xOpen = xOpen;
    vfs.xDelete = xDelete;
    vfs.xAccess = xAccess;
    vfs.xFullPathname = xFullPathname;
    vfs.xDlOpen = xDlOpen;
    vfs.xDlError = xDlError;
    vfs.xDlSym = xDlSym;
    vfs.xDlClose = xDlClose;
    vfs.xRandomness = xRandomness;
    vfs.xSleep = xSleep;
    vfs.xCurrentTime = xCurrentTime;
    vfs.xGetLastError = xGetLastError;
    vfs.xCurrentTimeInt64 = xCurrentTimeInt64;
    sqlite3_vfs_register(&vfs, /*makeDflt=*/0);
  });
  return kName;
}

}  // namespace skiff::storage::sql
