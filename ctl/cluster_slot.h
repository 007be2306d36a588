// Cluster slots: a small number N (1..253) that no other running cluster on
// this machine holds, and the address ranges an --ephemeral cluster derives
// from it, so clusters side by side never share a pod /24, a ClusterIP, the
// DNS Service's address or a LoadBalancer ingress IP.
//
// A slot is claimed by taking flock(LOCK_EX|LOCK_NB) on DIR/N.lock and holding
// it for the life of the claim (in `skiff up`: the process). The kernel drops
// the lock when the holder dies however it dies (kill -9 included), so a slot
// is never leaked by a crash and never needs a stale-lock check. Claims by one
// process conflict too (flock locks belong to the open file description).
//
// Release unlinks the file while still holding the lock. A claimer can lose a
// race with that: it opened the file, the holder unlinked it, and its lock is
// on an inode no longer named N.lock; claim() therefore checks, once locked,
// that DIR/N.lock is still the inode it holds, and retries otherwise. The
// descriptor is O_CLOEXEC: processes the cluster starts (runc, conmon) must
// not inherit the lock, or a monitor outliving `skiff up` would keep the slot.
//
// SlotClaim is move-only; not thread-safe (one owner).
#pragma once

#include <functional>
#include <string>

#include "base/result.h"

namespace skiff::ctl {

// Where `skiff up` claims slots: /run/skiff/slots as root; otherwise a
// directory of the user's own under $TMPDIR (such a cluster runs neither the
// kubelet nor netproxy, so only its API's allocations use the ranges).
std::string defaultSlotDir();

// The ranges of slot N (1..253):
//   pod CIDR       10.244.N.0/24, the bridge 10.244.N.1/24
//   service CIDR   the N-th /20 of 10.96.0.0/12 (10.96.0.0 + N*4096): slot 1 is
//                  10.96.16.0/20, slot 253 10.111.208.0/20; the `kubernetes`
//                  Service takes its .1 and kube-dns its .10
//   LB pool        10.255.N.0/24
// Slot 0 would be the default (lasting) cluster's pod /24, LB pool and the /20
// holding 10.96.0.1 and 10.96.0.10; it is never handed out.
struct SlotNetwork {
  std::string podCidr;
  std::string bridgeAddress;
  std::string serviceCidr;
  std::string clusterDns;
  std::string loadBalancerCidr;
};
SlotNetwork slotNetwork(int slot);

inline constexpr int kFirstSlot = 1;
inline constexpr int kLastSlot = 253;

class SlotClaim {
 public:
  // Claims the lowest free slot in [first, last] under `dir` (created if
  // missing) for which `usable(N)` is true (e.g. no local address is in its pod
  // /24 yet); `usable` may be empty. kUnavailable when every slot is taken.
  static Result<SlotClaim> claim(const std::string& dir,
                                 const std::function<bool(int)>& usable = {},
                                 int first = kFirstSlot, int last = kLastSlot);

  SlotClaim() = default;
  SlotClaim(SlotClaim&& other) noexcept;
  SlotClaim& operator=(SlotClaim&& other) noexcept;
  SlotClaim(const SlotClaim&) = delete;
  SlotClaim& operator=(const SlotClaim&) = delete;
  ~SlotClaim();

  int slot() const { return slot_; }  // 0 = no claim
  const std::string& path() const { return path_; }
  // Unlinks the lock file and drops the lock. Idempotent.
  void release();

 private:
  int fd_ = -1;
  int slot_ = 0;
  std::string path_;
};

// True if a local IPv4 address lies in slot N's pod /24 (a cluster that did
// not claim slots, e.g. a lasting one with an explicit --pod-cidr, uses it).
bool podSubnetInUse(int slot);

}  // namespace skiff::ctl
