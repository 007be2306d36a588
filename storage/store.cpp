#include "storage/store.h"

#include <algorithm>
#include <future>
#include <string>
#include <vector>

namespace skiff::storage {

namespace {
// The stores whose commit callbacks run on this thread, innermost last.
thread_local std::vector<const Store*> tCallbacks;
}  // namespace

Store::CallbackScope::CallbackScope(const Store* store) {
  tCallbacks.push_back(store);
}

Store::CallbackScope::~CallbackScope() {
  tCallbacks.pop_back();
}

Status Store::refuseInCallback(const char* what) const {
  if (std::find(tCallbacks.begin(), tCallbacks.end(), this) == tCallbacks.end()) return {};
  return makeError(Code::kInternal, std::string(what) +
                                        " called from a commit callback: it would wait for "
                                        "the writer that runs the callback");
}

Result<TxnResult> Store::commitSync(std::vector<Op> ops) {
  if (Status s = refuseInCallback("commitSync"); !s) return s.error();
  auto promise = std::make_shared<std::promise<Result<TxnResult>>>();
  std::future<Result<TxnResult>> future = promise->get_future();
  commit(std::move(ops), [promise](Result<TxnResult> r) { promise->set_value(std::move(r)); });
  return future.get();
}

}  // namespace skiff::storage
