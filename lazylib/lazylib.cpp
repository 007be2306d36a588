#include "lazylib/lazylib.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>

namespace skiff::lazylib {
namespace {

// Serializes first opens, so each library is dlopen()ed once per record.
std::mutex openMutex;

template <typename T>
T* at(const void* record, std::int32_t offset) {
  return reinterpret_cast<T*>(const_cast<char*>(static_cast<const char*>(record)) + offset);
}

const char* stringsAfter(const void* record, std::size_t headerBytes) {
  return static_cast<const char*>(record) + headerBytes;
}

[[noreturn]] void fail(const std::string& what, const char* package) {
  const char* err = ::dlerror();
  std::string line = "skiff: cannot load " + what + ": " + (err ? err : "unknown error") +
                     " (Debian package " + package + ")\n";
  // One write(2): no stdio locks, which another thread may hold.
  [[maybe_unused]] ssize_t n = ::write(STDERR_FILENO, line.data(), line.size());
  std::abort();
}

void* openLibrary(const LibraryRecord* lib) {
  void** handle = at<void*>(lib, lib->handleOffset);
  if (void* h = __atomic_load_n(handle, __ATOMIC_ACQUIRE)) return h;
  const char* name = stringsAfter(lib, sizeof(LibraryRecord));
  const char* package = name + std::strlen(name) + 1;
  std::lock_guard lock(openMutex);
  if (void* h = __atomic_load_n(handle, __ATOMIC_ACQUIRE)) return h;
  void* h = ::dlopen(name, RTLD_NOW | RTLD_GLOBAL);
  if (!h) fail(name, package);
  __atomic_store_n(handle, h, __ATOMIC_RELEASE);
  return h;
}

}  // namespace
}  // namespace skiff::lazylib

extern "C" void* skiff_lazylib_resolve(const skiff::lazylib::SymbolRecord* symbol) noexcept {
  using namespace skiff::lazylib;
  // dlopen searches paths and leaves ENOENT behind; the caller may have set
  // errno on purpose (errno = 0; f(); if (errno) ...), so it sees its own.
  int savedErrno = errno;
  const auto* lib = at<const LibraryRecord>(symbol, symbol->libraryOffset);
  const char* name = stringsAfter(symbol, sizeof(SymbolRecord));
  void* handle = openLibrary(lib);
  ::dlerror();  // clear a stale error, so a failure prints this lookup's
  void* fn = ::dlsym(handle, name);
  if (!fn) {
    const char* libName = stringsAfter(lib, sizeof(LibraryRecord));
    fail(std::string(name) + " from " + libName, libName + std::strlen(libName) + 1);
  }
  __atomic_store_n(at<void*>(symbol, symbol->slotOffset), fn, __ATOMIC_RELEASE);
  errno = savedErrno;
  return fn;
}
