// lazylib: the kernel-side libraries (libarchive, libnftables + libnftnl +
// libmnl, libnl-3 + libnl-route-3, libldns), libcurl and zlib (the kubelet's
// SPDY header compression, for port-forward) are loaded on the first call
// into them, not when skiff starts.
//
// Why. build/skiff is one executable for every verb. Linked normally, every
// `skiff get` and every `skiff apiserver` maps and relocates those libraries
// and what they pull in (libxml2, ICU, lzma, libjansson, libxtables, ...),
// although only the kubelet (images, links) and netproxy (nft, DNS) call them.
// Lazily: 39 objects mapped instead of 55, the dynamic loader's start-up
// 2.3 -> 1.6 M cycles, and an idle `skiff apiserver` 21.3 -> 18.8 MB RSS.
// libcurl serves the clients of the API (the CLI, kubelet, controllers) and
// never `skiff apiserver`; loaded lazily, it and what it pulls in (GnuTLS,
// Kerberos, OpenLDAP, nghttp2, ...) keep another ~3.5 MB out of the server.
//
// How. The final link never names those libraries, so the executable has no
// DT_NEEDED entry for them. Instead it links one generated assembly file
// (lazylib/gen_trampolines.sh, run by CMake on every build) with a trampoline
// for each function the code calls — the undefined symbols of the
// skiff_kubelet and skiff_netproxy archives that a library defines, plus
// lazylib/test_only_symbols.txt for the few that only tests call. A trampoline
// has the function's own name, so the calling code is unchanged (the list is
// in the build directory, lazylib/skiff_lazy_trampolines.txt):
//
//   archive_read_new:   jmp *slot(%rip)          // slot: 8 bytes in .data
//   lazy:               lea record(%rip), %r11   // slot's initial target
//                       jmp skiff_lazylib_resolve_entry
//
// The first call lands in skiff_lazylib_resolve_entry (resolve_x86_64.S), which
// saves every register that may carry an argument (rdi rsi rdx rcx r8 r9, rax
// = vector-register count of a variadic call, r10, xmm0-7), aligns the stack,
// calls skiff_lazylib_resolve(record) below, restores the registers and jumps
// to the real function with the caller's stack untouched — stack arguments,
// return address and all — as if the caller had called it directly. The
// resolver dlopen()s the library once (RTLD_NOW | RTLD_GLOBAL, under a mutex),
// dlsym()s the name and stores the address into the slot, so every later call
// costs one indirect jump, like a PLT entry. Racing first calls from two
// threads both store the same address; that is harmless.
//
// What cannot be trampolined: exported variables (a reference to a variable is
// an address, not a call). The generator fails the build if the code uses one;
// link that library normally then, or read the variable through dlsym. None is
// used today. The trampolines are hidden symbols: they are never exported, so
// a loaded library's own calls never come back through them. A trampoline's
// address stands in for the function's (&archive_read_free as a deleter works);
// only comparing it with a pointer the library hands out would not.
//
// Failure. A library or symbol that cannot be loaded is fatal at the first
// call: there is no error path to return through a function that the caller
// believes is linked. The resolver prints
//   skiff: cannot load libarchive.so.13: <dlerror> (Debian package libarchive13)
// and aborts. The resolver keeps errno as the caller left it.
//
// Portability. x86-64 Linux only. With -DSKIFF_LAZY_LIBS=OFF (the default
// elsewhere) the libraries are linked normally and none of this is built; the
// CMake targets skiff_lazy_libarchive, skiff_lazy_libnl, skiff_lazy_nftables
// and skiff_lazy_ldns hide the difference from kubelet/ and netproxy/.
//
// Thread-safe: yes. Fork-safe: a child forked while another thread is inside
// the resolver must not make a first call into these libraries (skiff's
// children exec at once).
#pragma once

#include <cstdint>

namespace skiff::lazylib {

// The records below are emitted by the SKIFF_LAZY_LIBRARY and
// SKIFF_LAZY_FUNCTION macros (trampoline_x86_64.inc). Offsets are relative to
// the record's own address, so the records need no relocation at start-up.

// One per library: what to dlopen and which Debian package ships it.
struct LibraryRecord {
  std::int32_t handleOffset;  // to the void* handle, null until first opened
  // Followed by two NUL-terminated strings: the dlopen name, the package.
};

// One per trampoline.
struct SymbolRecord {
  std::int32_t slotOffset;     // to the trampoline's slot (void*)
  std::int32_t libraryOffset;  // to its LibraryRecord
  // Followed by the NUL-terminated symbol name.
};

}  // namespace skiff::lazylib

// Called by skiff_lazylib_resolve_entry with the caller's argument registers
// saved: loads the symbol's library if needed, stores the function's address
// into the slot and returns it. Never returns on failure (prints and aborts).
extern "C" __attribute__((visibility("hidden"))) void* skiff_lazylib_resolve(
    const skiff::lazylib::SymbolRecord* symbol) noexcept;
