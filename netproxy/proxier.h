// Proxier: keeps the kernel's `ip <table>` equal to a desired Model, as
// kube-proxy's nftables proxier does. It remembers the Model it last applied;
// sync() then sends only the changed Services' elements (partial sync). The
// first sync, a sync after any failure, and forceFullSync() are full syncs, which
// also repair drift. A full sync first tries to keep the table: it rewrites every
// chain's rules in one text transaction, then empties and refills every set in one
// libnftnl batch (fast at 10,000 Services; affinity entries survive, e.g. across a
// netproxy restart). If the table is missing or either step fails, it recreates
// the whole table in one text transaction instead.
//
// After a partial sync that touched Services with ClientIP affinity, it lists the
// kernel's affinity map and deletes entries for removed endpoints (or for ports
// whose affinity went off) in a second, best-effort transaction; if an entry
// expired in between (the delete fails), it lists again and retries once.
//
// Each sync records its latency (text generation + apply) in lastSync() for
// benchmarks and logs.
//
// Thread-safety: not thread-safe; one owner thread calls sync().
#pragma once

#include <set>
#include <string>

#include "netproxy/nft.h"
#include "netproxy/ruleset.h"
#include "netproxy/service_state.h"

namespace skiff::netproxy {

struct SyncRecord {
  bool full = false;
  std::string mode;  // "partial"; full syncs: "refill" (table kept) or "recreate"
  bool ok = false;
  size_t changedServices = 0;
  size_t textBytes = 0;
  double buildMillis = 0;  // computing the text
  double applyMillis = 0;  // apply() call to return: the rules are live
};

class Proxier {
 public:
  // `nft` must outlive the Proxier.
  Proxier(NftExecutor& nft, RulesetConfig config);

  // Converges the kernel to `desired`. On failure the kernel keeps its previous
  // table (the transaction is atomic) and the next sync is a full one.
  Status sync(const Model& desired);
  // Same, trusting `changed` as the set of Service keys that differ from the
  // last applied Model (saves comparing every Service at 10,000).
  Status sync(const Model& desired, const std::set<std::string>& changed);

  void forceFullSync() { needFull_ = true; }
  bool needsFullSync() const { return needFull_; }
  const Model& applied() const { return current_; }
  const SyncRecord& lastSync() const { return last_; }
  const RulesetConfig& config() const { return config_; }

  Status refillSync(const Model& desired);
  // kInternal when a class chain (svc_N, aff_N, np_N, npaff_N) of the kernel
  // table lacks its rule: refill would keep it broken, recreate repairs it.
  Status checkClassChains(const std::set<std::string>& setNames);
  // Makes `desired` the applied model; returns the previous versions of the
  // changed Services (all of them after a full sync).
  Model adopt(const Model& desired, const std::set<std::string>& changed, bool full);
  Status cleanAffinity(const Model& before, const Model& after,
                       const std::set<std::string>& changed);

  // Removes the table (e.g. `skiff up --ephemeral` on exit).
  Status deleteTable();

 private:
  NftExecutor& nft_;
  RulesetConfig config_;
  Model current_;
  KnownClasses classes_;  // class chains/maps in the kernel table (valid unless needFull_)
  bool needFull_ = true;
  SyncRecord last_;
};

}  // namespace skiff::netproxy
