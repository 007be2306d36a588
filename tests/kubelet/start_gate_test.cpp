#include "kubelet/start_gate.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

using namespace skiff::kubelet;
using namespace std::chrono_literals;

namespace {

// Waits (briefly) until `n` callers wait at the gate.
bool waitForWaiters(const StartGate& g, size_t n) {
  for (int i = 0; i < 2000 && g.waiting() < n; ++i) std::this_thread::sleep_for(1ms);
  return g.waiting() == n;
}

}  // namespace

TEST_CASE("StartGate: waiters are served in arrival order", "[start_gate]") {
  // One slot, so each holder records itself before the next is let in: the
  // recorded order is the order the gate granted.
  StartGate g(1);
  REQUIRE(g.acquire(nullptr));
  std::mutex mu;
  std::vector<int> order;
  std::vector<std::thread> ts;
  for (int i = 0; i < 4; ++i) {
    ts.emplace_back([&, i] {
      REQUIRE(g.acquire(nullptr));
      {
        std::lock_guard<std::mutex> lock(mu);
        order.push_back(i);
      }
      g.release();
    });
    REQUIRE(waitForWaiters(g, static_cast<size_t>(i + 1)));  // arrive one after another
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    CHECK(order.empty());  // the slot is held
  }
  g.release();
  for (auto& t : ts) t.join();
  CHECK(order == std::vector<int>{0, 1, 2, 3});
  CHECK(g.waiting() == 0);
}

TEST_CASE("StartGate: never more than `slots` holders at once", "[start_gate]") {
  StartGate g(2);
  std::atomic<int> holders{0}, most{0};
  std::vector<std::thread> ts;
  for (int i = 0; i < 8; ++i)
    ts.emplace_back([&] {
      for (int n = 0; n < 50; ++n) {
        REQUIRE(g.acquire(nullptr));
        int now = ++holders;
        for (int m = most.load(); now > m && !most.compare_exchange_weak(m, now);) {
        }
        std::this_thread::sleep_for(100us);
        --holders;
        g.release();
      }
    });
  for (auto& t : ts) t.join();
  CHECK(most.load() == 2);
  CHECK(g.waiting() == 0);
}

TEST_CASE("StartGate: a cancelled waiter leaves the line and the next one gets the slot",
          "[start_gate]") {
  StartGate g(1);
  REQUIRE(g.acquire(nullptr));
  std::atomic<bool> cancel{false};
  std::atomic<int> result{-1}, second{-1};
  std::thread first([&] { result = g.acquire([&] { return cancel.load(); }) ? 1 : 0; });
  REQUIRE(waitForWaiters(g, 1));
  std::thread next([&] { second = g.acquire(nullptr) ? 1 : 0; });
  REQUIRE(waitForWaiters(g, 2));
  cancel = true;
  g.wakeAll();
  first.join();
  CHECK(result == 0);  // gave up without a slot
  g.release();
  next.join();
  CHECK(second == 1);  // not stuck behind the cancelled one
  g.release();
  CHECK(g.acquire([] { return true; }) == false);  // cancelled before waiting
}
