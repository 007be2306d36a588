// Store::watch: live events, replay from the ring and from the log, the
// hand-off between them under concurrent writers, 410 after compaction, slow and
// cancelled watchers, many watchers.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <thread>

#include "storage/store.h"
#include "tests/storage/store_test_util.h"

using namespace skiff;
using namespace skiff::storage;
using namespace skiff::storage::testing;
using namespace std::chrono_literals;

namespace {

std::vector<Revision> revisions(const std::vector<Event>& events) {
  std::vector<Revision> out;
  for (const Event& e : events) out.push_back(e.record.modRevision);
  return out;
}

std::vector<Revision> range(Revision from, Revision to) {
  std::vector<Revision> out;
  for (Revision r = from; r <= to; ++r) out.push_back(r);
  return out;
}

}  // namespace

TEST_CASE("watch delivers live events for its prefix, in order", "[storage][watch]") {
  TempDir dir;
  auto store = openStore(dir.db());
  Collector c;
  auto w = store->watch("/pods/", store->currentRevision(), c.onEvent(), c.onEnd());
  REQUIRE(w.ok());
  REQUIRE(commit1(*store, createOp("/pods/a", "1")).ok());
  REQUIRE(commit1(*store, createOp("/svc/a", "x")).ok());  // other prefix
  REQUIRE(commit1(*store, updateOp("/pods/a", "2")).ok());
  REQUIRE(commit1(*store, deleteOp("/pods/a")).ok());
  REQUIRE(c.waitFor(3) == 3);
  std::this_thread::sleep_for(20ms);
  auto ev = c.events();
  REQUIRE(ev.size() == 3);
  CHECK(ev[0].type == Event::Type::kCreated);
  CHECK(ev[0].record.key == "/pods/a");
  CHECK(ev[0].record.value == "1");
  CHECK(ev[0].record.modRevision == 1);
  CHECK(ev[1].type == Event::Type::kUpdated);
  CHECK(ev[1].record.value == "2");
  CHECK(ev[1].record.createRevision == 1);
  CHECK(ev[1].record.modRevision == 3);
  CHECK(ev[2].type == Event::Type::kDeleted);
  CHECK(ev[2].record.value == "2");  // last value before the delete
  CHECK(ev[2].record.modRevision == 4);
}

TEST_CASE("a multi-op transaction is delivered as one revision, keys in order",
          "[storage][watch]") {
  TempDir dir;
  auto store = openStore(dir.db());
  Collector c;
  auto w = store->watch("", 0, c.onEvent(), c.onEnd());
  REQUIRE(w.ok());
  std::vector<Op> ops;
  ops.push_back(createOp("b", "1"));
  ops.push_back(createOp("a", "1"));
  REQUIRE(store->commitSync(std::move(ops)).ok());
  REQUIRE(c.waitFor(2) == 2);
  auto ev = c.events();
  CHECK(ev[0].record.key == "a");
  CHECK(ev[1].record.key == "b");
  CHECK(ev[0].record.modRevision == 1);
  CHECK(ev[1].record.modRevision == 1);
}

TEST_CASE("watch from an old revision replays from the ring, then goes live", "[storage][watch]") {
  TempDir dir;
  auto store = openStore(dir.db());
  for (int i = 1; i <= 10; ++i)
    REQUIRE(commit1(*store, createOp("k" + std::to_string(i), "v")).ok());
  Collector c;
  auto w = store->watch("", 3, c.onEvent(), c.onEnd());
  REQUIRE(w.ok());
  REQUIRE(c.waitFor(7) == 7);
  REQUIRE(commit1(*store, createOp("k11", "v")).ok());
  REQUIRE(c.waitFor(8) == 8);
  CHECK(revisions(c.events()) == range(4, 11));
}

TEST_CASE("watch older than the ring replays from the log", "[storage][watch]") {
  TempDir dir;
  Store::Options o = fastOptions();
  o.eventRingSize = 5;
  {
    // Events from a previous process are only in the log.
    auto store = openStore(dir.db(), o);
    for (int i = 1; i <= 10; ++i)
      REQUIRE(commit1(*store, createOp("/x/" + std::to_string(i), "v")).ok());
  }
  auto store = openStore(dir.db(), o);
  for (int i = 11; i <= 20; ++i)
    REQUIRE(commit1(*store, createOp("/x/" + std::to_string(i), "v")).ok());
  REQUIRE(commit1(*store, createOp("/y/1", "v")).ok());  // revision 21, other prefix
  Collector c;
  auto w = store->watch("/x/", 2, c.onEvent(), c.onEnd());
  REQUIRE(w.ok());
  REQUIRE(c.waitFor(18) == 18);
  REQUIRE(commit1(*store, createOp("/x/22", "v")).ok());
  REQUIRE(c.waitFor(19) == 19);
  std::vector<Revision> want = range(3, 20);
  want.push_back(22);
  CHECK(revisions(c.events()) == want);
  CHECK(c.events()[0].type == Event::Type::kCreated);
  CHECK(c.events()[0].record.key == "/x/3");
}

TEST_CASE("watch from a compacted revision is 410 Gone with Kubernetes' text", "[storage][watch]") {
  TempDir dir;
  auto store = openStore(dir.db());
  for (int i = 1; i <= 12; ++i)
    REQUIRE(commit1(*store, createOp("k" + std::to_string(i), "v")).ok());
  REQUIRE(store->compact(10).ok());
  CHECK(store->compactedRevision() == 10);
  Collector c;
  auto gone = store->watch("", 5, c.onEvent(), c.onEnd());
  REQUIRE_FALSE(gone.ok());
  CHECK(gone.error().code == Code::kGone);
  CHECK(gone.error().message == "too old resource version: 5 (10)");

  auto ok = store->watch("", 10, c.onEvent(), c.onEnd());
  REQUIRE(ok.ok());
  REQUIRE(c.waitFor(2) == 2);
  CHECK(revisions(c.events()) == range(11, 12));

  // Compaction never touches current state; the future is refused; the past is a no-op.
  CHECK(store->get("k1").ok());
  CHECK(store->compact(100).error().code == Code::kBadRequest);
  CHECK(store->compact(3).ok());
  CHECK(store->compactedRevision() == 10);
}

TEST_CASE("compaction of a long log runs in chunks and survives reopen", "[storage][watch]") {
  TempDir dir;
  Store::Options o = fastOptions();
  o.eventRingSize = 10;
  {
    auto store = openStore(dir.db(), o);
    constexpr int kTxns = 21000;
    std::atomic<int> done{0};
    for (int i = 0; i < kTxns; ++i) {
      std::vector<Op> ops;
      ops.push_back(createOp("c/" + std::to_string(i), "v"));
      store->commit(std::move(ops), [&](Result<TxnResult> r) {
        if (r.ok()) ++done;
      });
    }
    while (done < kTxns) std::this_thread::sleep_for(5ms);
    REQUIRE(store->compact(20500).ok());
    CHECK(store->compactedRevision() == 20500);
  }
  auto store = openStore(dir.db(), o);
  CHECK(store->compactedRevision() == 20500);
  CHECK(store
            ->watch(
                "", 20499, [](const Event&) { return true; }, nullptr)
            .error()
            .code == Code::kGone);
  Collector c;
  auto w = store->watch("", 20500, c.onEvent(), c.onEnd());  // log path: ring is empty
  REQUIRE(w.ok());
  REQUIRE(c.waitFor(500) == 500);
  CHECK(revisions(c.events()) == range(20501, 21000));
}

TEST_CASE("automatic compaction keeps keepRevisions", "[storage][watch]") {
  TempDir dir;
  Store::Options o = fastOptions();
  o.compactIntervalSeconds = 1;
  o.keepRevisions = 5;
  auto store = openStore(dir.db(), o);
  for (int i = 1; i <= 25; ++i)
    REQUIRE(commit1(*store, createOp("k" + std::to_string(i), "v")).ok());
  for (int i = 0; i < 40 && store->compactedRevision() != 20; ++i)
    std::this_thread::sleep_for(100ms);
  CHECK(store->compactedRevision() == 20);
}

TEST_CASE("concurrent writers: every watcher sees every revision once, in order",
          "[storage][watch]") {
  TempDir dir;
  Store::Options o = fastOptions();
  o.eventRingSize = 100;  // small, so late watchers go through the log hand-off
  auto store = openStore(dir.db(), o);
  constexpr int kThreads = 8, kPer = 500, kTotal = kThreads * kPer;

  Collector early;
  auto w0 = store->watch("/c/", 0, early.onEvent(), early.onEnd());
  REQUIRE(w0.ok());

  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < kPer; ++i)
        (void)commit1(*store, createOp("/c/" + std::to_string(t) + "/" + std::to_string(i), "v"));
    });
  }
  // Watchers joining mid-stream from older revisions, while writes go on.
  std::vector<std::unique_ptr<Collector>> late;
  std::vector<std::unique_ptr<Watch>> lateWatches;
  std::vector<Revision> lateFrom;
  for (int i = 0; i < 6; ++i) {
    std::this_thread::sleep_for(15ms);
    Revision cur = store->currentRevision();
    Revision from = std::max<Revision>(0, cur - 150 * (i % 3));
    auto c = std::make_unique<Collector>();
    auto w = store->watch("/c/", from, c->onEvent(), c->onEnd());
    REQUIRE(w.ok());
    lateWatches.push_back(std::move(*w));
    late.push_back(std::move(c));
    lateFrom.push_back(from);
  }
  for (auto& th : writers) th.join();
  REQUIRE(store->currentRevision() == kTotal);

  REQUIRE(early.waitFor(kTotal) == kTotal);
  CHECK(revisions(early.events()) == range(1, kTotal));
  for (size_t i = 0; i < late.size(); ++i) {
    size_t want = kTotal - lateFrom[i];
    REQUIRE(late[i]->waitFor(want) == want);
    CHECK(revisions(late[i]->events()) == range(lateFrom[i] + 1, kTotal));
  }
  std::this_thread::sleep_for(20ms);
  CHECK(early.events().size() == kTotal);  // nothing extra arrived
}

TEST_CASE("a slow watcher never blocks writers", "[storage][watch]") {
  TempDir dir;
  auto store = openStore(dir.db());
  std::atomic<int> slowSeen{0};
  auto slow = store->watch(
      "", 0,
      [&](const Event&) {
        ++slowSeen;
        std::this_thread::sleep_for(20ms);
        return true;
      },
      nullptr);
  REQUIRE(slow.ok());
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 200; ++i)
    REQUIRE(commit1(*store, createOp("s" + std::to_string(i), "v")).ok());
  auto elapsed = std::chrono::steady_clock::now() - start;
  CHECK(elapsed < 2s);    // 200 × 20 ms = 4 s if writers waited for it
  CHECK(slowSeen < 200);  // it is still behind
  auto resetStart = std::chrono::steady_clock::now();
  slow->reset();  // waits for its running callback, then it is gone
  CHECK(std::chrono::steady_clock::now() - resetStart < 500ms);  // not for the backlog
  int seen = slowSeen;
  std::this_thread::sleep_for(100ms);
  CHECK(slowSeen == seen);  // no callback after the destructor returned
}

TEST_CASE("a watcher returning false is dropped; others keep going", "[storage][watch]") {
  TempDir dir;
  auto store = openStore(dir.db());
  std::atomic<int> limited{0};
  auto bounded = store->watch(
      "", 0, [&](const Event&) { return ++limited < 3; }, nullptr);
  Collector all;
  auto w = store->watch("", 0, all.onEvent(), all.onEnd());
  REQUIRE(bounded.ok());
  REQUIRE(w.ok());
  for (int i = 0; i < 10; ++i)
    REQUIRE(commit1(*store, createOp("k" + std::to_string(i), "v")).ok());
  REQUIRE(all.waitFor(10) == 10);
  CHECK(limited == 3);
  for (int i = 0; i < 100 && store->stats().watchers != 1; ++i) std::this_thread::sleep_for(5ms);
  CHECK(store->stats().watchers == 1);  // the dropped one was released
}

TEST_CASE("destroying a watch inside its own callback does not deadlock", "[storage][watch]") {
  TempDir dir;
  auto store = openStore(dir.db());
  std::unique_ptr<Watch> self;
  std::atomic<int> calls{0};
  std::mutex mu;
  auto w = store->watch(
      "", 0,
      [&](const Event&) {
        ++calls;
        std::lock_guard<std::mutex> lock(mu);
        self.reset();
        return true;
      },
      nullptr);
  REQUIRE(w.ok());
  {
    std::lock_guard<std::mutex> lock(mu);
    self = std::move(*w);
  }
  std::vector<Op> ops;
  ops.push_back(createOp("a", "1"));
  ops.push_back(createOp("b", "1"));  // a second event in the same batch
  REQUIRE(store->commitSync(std::move(ops)).ok());
  REQUIRE(commit1(*store, createOp("c", "1")).ok());
  Collector after;
  auto probe = store->watch("", store->currentRevision() - 1, after.onEvent(), after.onEnd());
  REQUIRE(after.waitFor(1) == 1);  // the notifier thread is alive
  CHECK(calls == 1);
}

TEST_CASE("1,000 watchers each get an event within milliseconds", "[storage][watch]") {
  TempDir dir;
  auto store = openStore(dir.db());
  constexpr int kWatchers = 1000;
  std::atomic<int> got{0};
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::unique_ptr<Watch>> watches;
  for (int i = 0; i < kWatchers; ++i) {
    auto w = store->watch(
        "/w/", store->currentRevision(),
        [&](const Event&) {
          if (++got == kWatchers) cv.notify_all();
          return true;
        },
        nullptr);
    REQUIRE(w.ok());
    watches.push_back(std::move(*w));
  }
  REQUIRE(commit1(*store, createOp("/other", "v")).ok());  // let the registrations settle
  std::this_thread::sleep_for(50ms);
  REQUIRE(store->stats().watchers == kWatchers);
  auto start = std::chrono::steady_clock::now();
  REQUIRE(commit1(*store, createOp("/w/1", "v")).ok());
  std::unique_lock<std::mutex> lock(mu);
  REQUIRE(cv.wait_for(lock, 5s, [&] { return got == kWatchers; }));
  double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  WARN("1,000 watchers notified " << ms << " ms after commitSync started");
  CHECK(ms < 50);
}

TEST_CASE("closing the store ends live watches with kUnavailable", "[storage][watch]") {
  TempDir dir;
  Collector c;
  std::unique_ptr<Watch> w;
  {
    auto store = openStore(dir.db());
    auto r = store->watch("", 0, c.onEvent(), c.onEnd());
    REQUIRE(r.ok());
    w = std::move(*r);
    REQUIRE(commit1(*store, createOp("a", "1")).ok());
  }
  REQUIRE(c.waitEnded(1s));
  CHECK(c.endError().code == Code::kUnavailable);
  CHECK(c.events().size() == 1);
  w.reset();  // the handle outlives the store safely
}

TEST_CASE("watch from a future revision waits for it", "[storage][watch]") {
  TempDir dir;
  auto store = openStore(dir.db());
  Collector c;
  auto w = store->watch("", 2, c.onEvent(), c.onEnd());
  REQUIRE(w.ok());
  for (int i = 1; i <= 4; ++i)
    REQUIRE(commit1(*store, createOp("k" + std::to_string(i), "v")).ok());
  REQUIRE(c.waitFor(2) == 2);
  std::this_thread::sleep_for(20ms);
  CHECK(revisions(c.events()) == range(3, 4));
}
