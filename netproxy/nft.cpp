#include "netproxy/nft.h"

#include <nftables/libnftables.h>

#include "netproxy/nftnl_batch.h"

namespace skiff::netproxy {
namespace {

std::string trimmed(const char* s) {
  std::string out = s ? s : "";
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

}  // namespace

Result<std::unique_ptr<LibNftExecutor>> LibNftExecutor::create() {
  nft_ctx* apply = nft_ctx_new(NFT_CTX_DEFAULT);
  nft_ctx* list = nft_ctx_new(NFT_CTX_DEFAULT);
  if (!apply || !list) {
    if (apply) nft_ctx_free(apply);
    if (list) nft_ctx_free(list);
    return makeError(Code::kInternal, "nftables: cannot create a libnftables context");
  }
  if (nft_ctx_buffer_output(apply) != 0 || nft_ctx_buffer_error(apply) != 0 ||
      nft_ctx_buffer_output(list) != 0 || nft_ctx_buffer_error(list) != 0) {
    nft_ctx_free(apply);
    nft_ctx_free(list);
    return makeError(Code::kInternal, "nftables: cannot buffer libnftables output");
  }
  nft_ctx_output_set_flags(list, NFT_CTX_OUTPUT_JSON);
  return std::unique_ptr<LibNftExecutor>(new LibNftExecutor(apply, list));
}

LibNftExecutor::~LibNftExecutor() {
  nft_ctx_free(apply_);
  nft_ctx_free(list_);
}

Status LibNftExecutor::apply(const std::string& text) {
  int rc = nft_run_cmd_from_buffer(apply_, text.c_str());
  std::string err = trimmed(nft_ctx_get_error_buffer(apply_));
  (void)nft_ctx_get_output_buffer(apply_);  // discard and rewind
  if (rc != 0) {
    return makeError(Code::kInternal,
                     "nftables transaction: " + (err.empty() ? std::string("failed") : err));
  }
  return {};
}

Result<std::string> LibNftExecutor::listJson(const std::string& command) {
  int rc = nft_run_cmd_from_buffer(list_, command.c_str());
  std::string err = trimmed(nft_ctx_get_error_buffer(list_));
  std::string out = nft_ctx_get_output_buffer(list_);
  if (rc != 0) {
    return makeError(Code::kInternal,
                     "nftables " + command + ": " + (err.empty() ? std::string("failed") : err));
  }
  return out;
}

Result<std::set<std::string>> LibNftExecutor::setNames(const std::string& table) {
  return listSetNames(table);
}

Result<std::map<std::string, int>> LibNftExecutor::ruleCounts(const std::string& table) {
  return listRuleCounts(table);
}

Status LibNftExecutor::refill(const std::string& table, const std::set<std::string>& flush,
                              const ElementsBySet& elements) {
  return refillSets(table, flush, elements);
}

Result<std::set<std::string>> FakeNftExecutor::setNames(const std::string& table) {
  if (!haveTable_) return makeError(Code::kNotFound, "table ip " + table + " not found");
  return tableSets_;
}

Status FakeNftExecutor::refill(const std::string& table, const std::set<std::string>& flush,
                               const ElementsBySet& elements) {
  refills.push_back({flush, elements});
  if (refillFailures_ > 0) {
    --refillFailures_;
    return makeError(Code::kInternal, "refill table ip " + table + ": injected failure");
  }
  return {};
}

Status FakeNftExecutor::apply(const std::string& text) {
  applied.push_back(text);
  if (failures_ > 0) {
    --failures_;
    return makeError(Code::kInternal, "nftables transaction: Error: injected failure");
  }
  return {};
}

Result<std::map<std::string, int>> FakeNftExecutor::ruleCounts(const std::string& table) {
  if (!haveTable_) return makeError(Code::kNotFound, "table ip " + table + " not found");
  std::map<std::string, int> counts;
  for (const auto& set : tableSets_) {
    if (set.rfind("ep_", 0) != 0) continue;
    for (const char* prefix : {"svc_", "aff_", "np_", "npaff_"}) {
      std::string chain = prefix + set.substr(3);
      if (!emptyChains.count(chain)) counts[chain] = 1;
    }
  }
  return counts;
}

Result<std::string> FakeNftExecutor::listJson(const std::string& command) {
  listed.push_back(command);
  return listing_;
}

}  // namespace skiff::netproxy
