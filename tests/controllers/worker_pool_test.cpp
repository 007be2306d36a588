#include "controllers/worker_pool.h"

#include <pthread.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace skiff::controllers;
using namespace std::chrono_literals;

namespace {

// Polls `pred` for up to two seconds (the pool's threads run on their own).
template <class Pred>
bool eventually(Pred pred) {
  for (auto end = std::chrono::steady_clock::now() + 2s; std::chrono::steady_clock::now() < end;
       std::this_thread::sleep_for(1ms))
    if (pred()) return true;
  return pred();
}

}  // namespace

TEST_CASE("worker pool: workers drain the queue, resync runs each period", "[workers]") {
  WorkQueue queue;
  WorkerPool pool(queue);
  std::atomic<int> handled{0}, resyncs{0}, running{0};
  auto work = [&] {
    ++running;
    while (auto key = queue.get()) {
      ++handled;
      queue.done(*key);
    }
    --running;
  };
  pool.start(3, 10ms, work, [&] {
    ++resyncs;
    queue.add("ns/resynced");
  });
  queue.add("ns/a");
  queue.add("ns/b");
  CHECK(eventually([&] { return running == 3; }));
  CHECK(eventually([&] { return resyncs >= 2 && handled >= 4; }));

  // stop() shuts the queue down and joins: every worker has returned.
  CHECK(pool.stop());
  CHECK(running == 0);
  int after = resyncs;
  std::this_thread::sleep_for(30ms);
  CHECK(resyncs == after);
  CHECK_FALSE(queue.get());
  CHECK_FALSE(pool.stop());  // idempotent
}

TEST_CASE("worker pool: at least one worker; stop before start is a no-op", "[workers]") {
  WorkQueue queue;
  WorkerPool pool(queue);
  CHECK_FALSE(pool.stop());  // never started: nothing to stop, queue still open
  queue.add("k");
  std::atomic<int> handled{0};
  pool.start(
      0, 1h,
      [&] {
        while (auto key = queue.get()) {
          ++handled;
          queue.done(*key);
        }
      },
      [] {});
  CHECK(eventually([&] { return handled == 1; }));
  // A long resync period must not hold stop() up.
  auto t0 = std::chrono::steady_clock::now();
  CHECK(pool.stop());
  CHECK(std::chrono::steady_clock::now() - t0 < 1s);
}

TEST_CASE("worker pool: the destructor stops a running pool", "[workers]") {
  WorkQueue queue;
  std::atomic<bool> returned{false};
  {
    WorkerPool pool(queue);
    pool.start(
        1, 1h,
        [&] {
          while (queue.get()) {
          }
          returned = true;
        },
        [] {});
  }
  CHECK(returned);
}

TEST_CASE("drainQueue: a failed sync comes back with backoff, a good one is done", "[workers]") {
  WorkQueue queue;
  std::mutex mu;
  std::vector<std::chrono::steady_clock::time_point> flakyAt;  // guarded by mu
  std::atomic<int> good{0};
  std::thread worker([&] {
    drainQueue(queue, {}, "test", [&](const std::string& key) -> skiff::Status {
      if (key == "ns/flaky") {
        std::lock_guard<std::mutex> lock(mu);
        flakyAt.push_back(std::chrono::steady_clock::now());
        if (flakyAt.size() < 3) return skiff::makeError(skiff::Code::kConflict, "stale");
      }
      ++good;
      return {};
    });
  });
  queue.add("ns/flaky");
  queue.add("ns/fine");
  // Two conflicts, then success: three attempts, and the key is synced once.
  CHECK(eventually([&] { return good.load() == 2; }));
  queue.shutDown();  // the loop returns
  worker.join();
  REQUIRE(flakyAt.size() == 3);
  // Rate-limited retries: 5 ms, then 10 ms (WorkQueue's backoff), not at once.
  CHECK(flakyAt[1] - flakyAt[0] >= 5ms);
  CHECK(flakyAt[2] - flakyAt[1] >= 10ms);
}

TEST_CASE("worker pool: its threads carry the pool's name", "[workers]") {
  WorkQueue queue;
  WorkerPool pool(queue, "rs");
  auto threadName = [] {
    char name[16] = {};
    pthread_getname_np(pthread_self(), name, sizeof name);
    return std::string(name);
  };
  std::mutex mu;
  std::vector<std::string> workers, resyncs;
  pool.start(
      2, 10ms,
      [&] {
        {
          std::lock_guard<std::mutex> lock(mu);
          workers.push_back(threadName());
        }
        while (auto key = queue.get()) queue.done(*key);
      },
      [&] {
        std::lock_guard<std::mutex> lock(mu);
        resyncs.push_back(threadName());
      });
  CHECK(eventually([&] {
    std::lock_guard<std::mutex> lock(mu);
    return workers.size() == 2 && !resyncs.empty();
  }));
  pool.stop();
  CHECK(workers == std::vector<std::string>{"rs", "rs"});
  CHECK(resyncs.at(0) == "rs-resync");
}
