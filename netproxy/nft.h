// The effect side of netproxy's rules: something that applies an nftables
// transaction. NftExecutor is the seam; LibNftExecutor talks to the kernel
// through libnftables, FakeNftExecutor records texts for unit tests.
//
// apply() runs the whole text as ONE atomic transaction (one netlink batch): it
// all takes effect or none of it does. On failure the Error carries
// libnftables' own error output (the offending line and the kernel's reason).
//
// Thread-safety: an executor is used by one thread at a time (the Proxier's).
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "base/result.h"
#include "netproxy/ruleset.h"

struct nft_ctx;

namespace skiff::netproxy {

class NftExecutor {
 public:
  virtual ~NftExecutor() = default;
  // Applies `transactionText` (nft syntax, many commands) atomically.
  virtual Status apply(const std::string& transactionText) = 0;
  // Runs one read command (e.g. "list map ip skiff aff") and returns its JSON output.
  virtual Result<std::string> listJson(const std::string& command) = 0;
  // Names of the sets and maps of `ip <table>`; kNotFound when there is no such table.
  virtual Result<std::set<std::string>> setNames(const std::string& table) = 0;
  // Rules per chain of `ip <table>` (chains without rules absent); kNotFound
  // when there is no such table.
  virtual Result<std::map<std::string, int>> ruleCounts(const std::string& table) = 0;
  // One atomic batch: empty the sets in `flush`, then add `elements` (binary
  // netlink, no text parsing; see nftnl_batch.h).
  virtual Status refill(const std::string& table, const std::set<std::string>& flush,
                        const ElementsBySet& elements) = 0;
};

class LibNftExecutor : public NftExecutor {
 public:
  // kInternal if libnftables cannot create a context.
  static Result<std::unique_ptr<LibNftExecutor>> create();
  ~LibNftExecutor() override;
  LibNftExecutor(const LibNftExecutor&) = delete;
  LibNftExecutor& operator=(const LibNftExecutor&) = delete;

  Status apply(const std::string& transactionText) override;
  Result<std::string> listJson(const std::string& command) override;
  Result<std::set<std::string>> setNames(const std::string& table) override;
  Result<std::map<std::string, int>> ruleCounts(const std::string& table) override;
  Status refill(const std::string& table, const std::set<std::string>& flush,
                const ElementsBySet& elements) override;

 private:
  LibNftExecutor(nft_ctx* apply, nft_ctx* list) : apply_(apply), list_(list) {}
  nft_ctx* apply_;  // owned; text input, errors buffered
  nft_ctx* list_;   // owned; JSON output buffered
};

// Records every applied text. failNext() makes the next N apply() calls fail
// (recorded all the same) as the kernel would refuse them.
class FakeNftExecutor : public NftExecutor {
 public:
  Status apply(const std::string& transactionText) override;
  Result<std::string> listJson(const std::string& command) override;
  // kNotFound unless setTableSets() was called (so full syncs recreate the table).
  Result<std::set<std::string>> setNames(const std::string& table) override;
  // Every class chain of the ep_N sets given to setTableSets() has one rule,
  // but those in emptyChains.
  Result<std::map<std::string, int>> ruleCounts(const std::string& table) override;
  Status refill(const std::string& table, const std::set<std::string>& flush,
                const ElementsBySet& elements) override;

  void failNext(int n = 1) { failures_ = n; }
  void failNextRefill() { refillFailures_ = 1; }
  void setTableSets(std::set<std::string> names) {
    tableSets_ = std::move(names);
    haveTable_ = true;
  }
  void setListing(std::string json) { listing_ = std::move(json); }

  std::vector<std::string> applied;   // every text passed to apply(), in order
  std::vector<std::string> listed;    // every command passed to listJson()
  std::set<std::string> emptyChains;  // class chains ruleCounts() shows without rules
  struct Refill {
    std::set<std::string> flush;
    ElementsBySet elements;
  };
  std::vector<Refill> refills;  // every refill() call

 private:
  int failures_ = 0;
  int refillFailures_ = 0;
  bool haveTable_ = false;
  std::set<std::string> tableSets_;
  std::string listing_ = R"({"nftables": []})";
};

}  // namespace skiff::netproxy
