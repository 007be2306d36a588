#include "storage/store.h"

#include <future>

namespace skiff::storage {

Result<TxnResult> Store::commitSync(std::vector<Op> ops) {
  auto promise = std::make_shared<std::promise<Result<TxnResult>>>();
  std::future<Result<TxnResult>> future = promise->get_future();
  commit(std::move(ops), [promise](Result<TxnResult> r) { promise->set_value(std::move(r)); });
  return future.get();
}

}  // namespace skiff::storage
