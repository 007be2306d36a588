// Crash durability (SIGKILL mid-write) and I/O failure handling.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <set>
#include <string>
#include <thread>

#include "storage/store.h"
#include "tests/storage/store_test_util.h"

using namespace skiff;
using namespace skiff::storage;
using namespace skiff::storage::testing;
using namespace std::chrono_literals;

namespace {

std::string integrityCheck(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return "cannot open";
  }
  std::string result;
  sqlite3_exec(
      db, "PRAGMA integrity_check",
      [](void* out, int, char** values, char**) {
        *static_cast<std::string*>(out) += values[0] ? values[0] : "";
        return 0;
      },
      &result, nullptr);
  sqlite3_close(db);
  return result;
}

// The child: commits with fsync from 4 threads and reports each acknowledged key
// on the pipe, until it is killed. The state table lags by up to `lag` keys.
[[noreturn]] void crashChild(const std::string& path, int fd, size_t lag) {
  Store::Options o;
  o.fsync = true;
  o.compactIntervalSeconds = 0;
  o.stateLagKeys = lag;
  auto s = Store::open(path, o);
  if (!s) _exit(2);
  Store& store = **s;
  std::mutex writeMu;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0;; ++i) {
        std::string key = "/crash/" + std::to_string(t) + "/" + std::to_string(i);
        std::vector<Op> ops;
        ops.push_back(createOp(key, std::string(300, 'v')));
        if (!store.commitSync(std::move(ops)).ok()) _exit(3);
        std::string line = key + "\n";
        std::lock_guard<std::mutex> lock(writeMu);
        if (write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) _exit(4);
      }
    });
  }
  for (auto& th : threads) th.join();
  _exit(0);
}

}  // namespace

TEST_CASE("every acknowledged commit survives SIGKILL", "[storage][durability]") {
  // The default lag keeps every change in the log alone until the kill; a
  // small one has brought the state table up to date several times before it.
  const size_t lag = GENERATE(Store::Options{}.stateLagKeys, size_t{64});
  CAPTURE(lag);
  TempDir dir;
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    close(fds[0]);
    crashChild(dir.db(), fds[1], lag);
  }
  close(fds[1]);

  std::set<std::string> acked;
  std::string buf;
  char chunk[4096];
  auto deadline = std::chrono::steady_clock::now() + 20s;
  bool killed = false;
  for (;;) {
    if (!killed && (acked.size() >= 400 || std::chrono::steady_clock::now() > deadline)) {
      kill(pid, SIGKILL);  // mid-stream: commits are in flight
      killed = true;
    }
    ssize_t n = read(fds[0], chunk, sizeof chunk);
    if (n <= 0) break;  // EOF once the child is dead
    buf.append(chunk, n);
    size_t pos;
    while ((pos = buf.find('\n')) != std::string::npos) {
      acked.insert(buf.substr(0, pos));
      buf.erase(0, pos + 1);
    }
  }
  close(fds[0]);
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFSIGNALED(status));
  REQUIRE(acked.size() >= 100);

  CHECK(integrityCheck(dir.db()) == "ok");
  auto store = openStore(dir.db());
  size_t missing = 0;
  for (const std::string& key : acked)
    if (!store->get(key).ok()) ++missing;
  CHECK(missing == 0);
  auto all = store->list("/crash/");
  REQUIRE(all.ok());
  CHECK(all->items.size() >= acked.size());
  // One key per revision: the revision counter survived as well.
  CHECK(store->currentRevision() == static_cast<Revision>(all->items.size()));
  auto next = commit1(*store, createOp("/after-crash", "v"));
  REQUIRE(next.ok());
  CHECK(next->revision == store->currentRevision());
  WARN(acked.size() << " acknowledged commits before SIGKILL, " << all->items.size()
                    << " present after reopen");
}

TEST_CASE("an I/O error fails the batch and the store then refuses writes",
          "[storage][durability]") {
  TempDir dir;
  auto store = openStore(dir.db());
  REQUIRE(commit1(*store, createOp("before", "v")).ok());

  // Cap the file size so that the next large write fails with EFBIG.
  struct rlimit old;
  REQUIRE(getrlimit(RLIMIT_FSIZE, &old) == 0);
  auto oldHandler = signal(SIGXFSZ, SIG_IGN);
  struct rlimit cap = old;
  cap.rlim_cur = 1 << 20;
  REQUIRE(setrlimit(RLIMIT_FSIZE, &cap) == 0);
  auto big = commit1(*store, createOp("big", std::string(4 << 20, 'x')));
  setrlimit(RLIMIT_FSIZE, &old);
  signal(SIGXFSZ, oldHandler);

  REQUIRE_FALSE(big.ok());
  CHECK(big.error().code == Code::kInternal);
  auto after = commit1(*store, createOp("after", "v"));
  REQUIRE_FALSE(after.ok());
  CHECK(after.error().code == Code::kUnavailable);
  CHECK(store->compact(1).error().code == Code::kUnavailable);
  // Reads still work; nothing of the failed batch is visible.
  CHECK(store->get("before").ok());
  CHECK(store->get("big").error().code == Code::kNotFound);
  CHECK(store->currentRevision() == 1);
  store.reset();

  auto reopened = openStore(dir.db());
  CHECK(reopened->currentRevision() == 1);
  CHECK(reopened->get("big").error().code == Code::kNotFound);
  CHECK(commit1(*reopened, createOp("after", "v")).ok());
}
