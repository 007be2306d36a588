// Pod addresses: the node's IPv4 pod range, handed out one address per pod and
// kept on disk so a restarted kubelet gives every pod the address it had.
//
// On disk (DIR, e.g. DATA/ipam): one file per leased address, named by the
// address ("10.244.0.7") and holding the owner (the pod UID), like the CNI
// host-local plugin. A lease is taken by link(2)ing a fully written temp file
// to the address's name, which fails when the name exists: two allocators, in
// one process or several, never hand out one address twice, and a crash never
// leaves a half-written lease (nothing is fsynced: a power loss ends every pod
// anyway, and a lost lease is handed out again). DIR/last_reserved_ip remembers where the last
// search stopped, so a released address is reused only after the others
// (stale ARP and conntrack entries of a deleted pod then rarely matter).
//
// Addresses never leased: the network and broadcast addresses of the range and
// any `reserved` address (the bridge's gateway).
//
// Thread-safety: safe from several threads (a mutex serialises this process's
// allocations; the file system arbitrates between processes).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"

namespace skiff::kubelet {

// An IPv4 prefix, "10.244.0.0/24". Pure helpers, unit-tested.
struct Ipv4Prefix {
  uint32_t address = 0;  // host order, as written (host bits kept)
  int length = 0;

  uint32_t network() const { return length == 0 ? 0 : address & (~0u << (32 - length)); }
  uint32_t broadcast() const { return network() | (length == 32 ? 0 : ~0u >> length); }
  bool contains(uint32_t a) const {
    return length == 0 || (a & (~0u << (32 - length))) == network();
  }
};

// kBadRequest for anything but "a.b.c.d/n" with n in 0..32.
Result<Ipv4Prefix> parseIpv4Prefix(const std::string& text);
// kBadRequest for anything but "a.b.c.d".
Result<uint32_t> parseIpv4(const std::string& text);
std::string formatIpv4(uint32_t address);

class Ipam {
 public:
  // dir is created when missing. kBadRequest when the range is unusable (a
  // prefix longer than /30 has no room for pods).
  static Result<std::unique_ptr<Ipam>> open(const std::string& dir, const std::string& cidr,
                                            std::vector<std::string> reserved = {});

  // The owner's address: the one it holds, else a free one (lease written).
  // kUnavailable "no free address in 10.244.0.0/24" when the range is full.
  Result<std::string> allocate(const std::string& owner);
  // The owner's address, if it holds one in this range.
  Result<std::optional<std::string>> leaseOf(const std::string& owner) const;
  // Drops every lease of the owner; fine when it holds none.
  Status release(const std::string& owner);
  // Every lease in the range: address -> owner.
  Result<std::map<std::string, std::string>> leases() const;

  const std::string& dir() const { return dir_; }
  const Ipv4Prefix& range() const { return range_; }

 private:
  Ipam(std::string dir, Ipv4Prefix range, std::vector<uint32_t> reserved)
      : dir_(std::move(dir)), range_(range), reserved_(std::move(reserved)) {}
  bool usable(uint32_t a) const;

  const std::string dir_;
  const Ipv4Prefix range_;
  const std::vector<uint32_t> reserved_;
  std::mutex mu_;  // serialises allocate/release in this process
};

}  // namespace skiff::kubelet
