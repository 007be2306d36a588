#include "storage/store.h"

#include <future>
#include <string>

namespace skiff::storage {

namespace {
thread_local int tCallbacks = 0;  // CallbackScopes open on this thread
}  // namespace

Store::CallbackScope::CallbackScope() {
  ++tCallbacks;
}

Store::CallbackScope::~CallbackScope() {
  --tCallbacks;
}

Status Store::refuseInCallback(const char* what) {
  if (tCallbacks == 0) return {};
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
