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

#include <memory>
#include <string>
#include <vector>

#include "base/result.h"

struct nft_ctx;

namespace skiff::netproxy {

class NftExecutor {
 public:
  virtual ~NftExecutor() = default;
  // Applies `transactionText` (nft syntax, many commands) atomically.
  virtual Status apply(const std::string& transactionText) = 0;
  // Runs one read command (e.g. "list map ip skiff aff") and returns its JSON output.
  virtual Result<std::string> listJson(const std::string& command) = 0;
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

  void failNext(int n = 1) { failures_ = n; }
  void setListing(std::string json) { listing_ = std::move(json); }

  std::vector<std::string> applied;  // every text passed to apply(), in order
  std::vector<std::string> listed;   // every command passed to listJson()

 private:
  int failures_ = 0;
  std::string listing_ = R"({"nftables": []})";
};

}  // namespace skiff::netproxy
