// Store: CRUD, compare-and-swap, transactions, revisions, list, reopen.
#include <catch2/catch.hpp>

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "storage/store.h"
#include "tests/storage/store_test_util.h"

using namespace skiff;
using namespace skiff::storage;
using namespace skiff::storage::testing;

namespace {

// The revision a create of `key` commits at (0 when it fails).
Revision createdAt(Store& store, const std::string& key, const std::string& value = "v") {
  auto r = commit1(store, createOp(key, value));
  return r.ok() ? r->revision : 0;
}

}  // namespace

TEST_CASE("create, get, update and delete round trip with revisions", "[storage]") {
  TempDir dir;
  auto store = openStore(dir.db());
  REQUIRE(store->currentRevision() == 0);

  auto c = commit1(*store, createOp("/pods/a", "v1"));
  REQUIRE(c.ok());
  CHECK(c->revision == 1);
  REQUIRE(c->records.size() == 1);
  CHECK(c->records[0].key == "/pods/a");
  CHECK(c->records[0].value == "v1");
  CHECK(c->records[0].createRevision == 1);
  CHECK(c->records[0].modRevision == 1);

  auto g = store->get("/pods/a");
  REQUIRE(g.ok());
  CHECK(g->value == "v1");
  CHECK(g->createRevision == 1);
  CHECK(g->modRevision == 1);

  auto u = commit1(*store, updateOp("/pods/a", "v2", 1));
  REQUIRE(u.ok());
  CHECK(u->revision == 2);
  CHECK(u->records[0].value == "v2");
  CHECK(u->records[0].createRevision == 1);
  CHECK(u->records[0].modRevision == 2);
  CHECK(store->get("/pods/a")->value == "v2");

  auto d = commit1(*store, deleteOp("/pods/a", 2));
  REQUIRE(d.ok());
  CHECK(d->revision == 3);
  CHECK(d->records[0].value == "v2");  // the last value
  CHECK(d->records[0].createRevision == 1);
  CHECK(d->records[0].modRevision == 3);  // the deletion's revision

  auto gone = store->get("/pods/a");
  REQUIRE_FALSE(gone.ok());
  CHECK(gone.error().code == Code::kNotFound);
  CHECK(gone.error().name == "/pods/a");
  CHECK(store->currentRevision() == 3);

  // The key can be created again, with a new create revision.
  auto again = commit1(*store, createOp("/pods/a", "v3"));
  REQUIRE(again.ok());
  CHECK(again->records[0].createRevision == 4);
}

TEST_CASE("compare-and-swap failures carry the documented codes", "[storage]") {
  TempDir dir;
  auto store = openStore(dir.db());
  REQUIRE(commit1(*store, createOp("k", "1")).ok());  // rev 1

  auto dup = commit1(*store, createOp("k", "x"));
  REQUIRE_FALSE(dup.ok());
  CHECK(dup.error().code == Code::kAlreadyExists);
  CHECK(dup.error().name == "k");

  auto missing = commit1(*store, updateOp("nope", "x"));
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code == Code::kNotFound);
  CHECK(missing.error().name == "nope");

  auto missingDel = commit1(*store, deleteOp("nope"));
  REQUIRE_FALSE(missingDel.ok());
  CHECK(missingDel.error().code == Code::kNotFound);

  auto stale = commit1(*store, updateOp("k", "x", 7));
  REQUIRE_FALSE(stale.ok());
  CHECK(stale.error().code == Code::kConflict);
  CHECK(stale.error().name == "k");

  auto staleDel = commit1(*store, deleteOp("k", 7));
  REQUIRE_FALSE(staleDel.ok());
  CHECK(staleDel.error().code == Code::kConflict);

  // Nothing above took a revision or changed the value.
  CHECK(store->currentRevision() == 1);
  CHECK(store->get("k")->value == "1");

  // expectedRevision 0 means "whatever it is now".
  auto any = commit1(*store, updateOp("k", "2", 0));
  REQUIRE(any.ok());
  CHECK(any->revision == 2);
  CHECK(commit1(*store, deleteOp("k", 0)).ok());
}

TEST_CASE("a create of an existing key fails alone, amid a batch of others", "[storage]") {
  // Declared before the store, so a failed check cannot free them under a
  // callback still running on the store's thread.
  std::mutex mu;
  std::condition_variable cv;
  int done = 0, exists = 0;
  std::set<Revision> revisions;
  TempDir dir;
  auto store = openStore(dir.db());
  REQUIRE(commit1(*store, createOp("k", "1")).ok());  // rev 1
  for (int i = 0; i < 40; ++i) {  // queued at once: the writer takes them in few batches
    std::vector<Op> ops;
    ops.push_back(i % 2 == 0 ? createOp("k", "x") : createOp("n/" + std::to_string(i), "v"));
    store->commit(std::move(ops), [&](Result<TxnResult> r) {
      std::lock_guard<std::mutex> lock(mu);
      if (r.ok()) {
        revisions.insert(r->revision);
      } else if (r.error().code == Code::kAlreadyExists && r.error().name == "k") {
        ++exists;
      }
      ++done;
      cv.notify_all();
    });
  }
  std::unique_lock<std::mutex> lock(mu);
  REQUIRE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return done == 40; }));
  CHECK(exists == 20);
  // The 20 new keys took revisions 2..21, none skipped for the refused ones.
  CHECK(revisions.size() == 20);
  CHECK(*revisions.begin() == 2);
  CHECK(*revisions.rbegin() == 21);
  CHECK(store->currentRevision() == 21);
  CHECK(store->get("k")->value == "1");
  CHECK(store->list("n/")->items.size() == 20);
}

TEST_CASE("the encoder receives the revision the write commits at", "[storage]") {
  TempDir dir;
  auto store = openStore(dir.db());
  REQUIRE(commit1(*store, createOp("a", "x")).ok());
  Op op;
  op.kind = Op::Kind::kCreate;
  op.key = "b";
  op.encode = [](Revision r) { return "rv=" + std::to_string(r); };
  auto r = commit1(*store, std::move(op));
  REQUIRE(r.ok());
  CHECK(r->revision == 2);
  CHECK(store->get("b")->value == "rv=2");
}

TEST_CASE("a transaction is all or nothing and shares one revision", "[storage]") {
  TempDir dir;
  auto store = openStore(dir.db());
  std::vector<Op> setup;
  setup.push_back(createOp("exists", "1"));
  setup.push_back(createOp("other", "1"));
  REQUIRE(store->commitSync(std::move(setup)).ok());

  std::vector<Op> bad;
  bad.push_back(createOp("new1", "a"));
  bad.push_back(updateOp("exists", "2", 1));
  bad.push_back(createOp("other", "b"));  // fails
  auto r = store->commitSync(std::move(bad));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Code::kAlreadyExists);
  CHECK(r.error().name == "other");
  CHECK(store->get("new1").error().code == Code::kNotFound);
  CHECK(store->get("exists")->value == "1");
  CHECK(store->currentRevision() == 1);

  std::vector<Op> good;
  good.push_back(createOp("new1", "a"));
  good.push_back(updateOp("exists", "2", 1));
  good.push_back(createOp("new2", "b"));
  auto ok = store->commitSync(std::move(good));
  REQUIRE(ok.ok());
  CHECK(ok->revision == 2);
  REQUIRE(ok->records.size() == 3);
  CHECK(ok->records[0].key == "new1");  // in op order
  CHECK(ok->records[1].key == "exists");
  CHECK(ok->records[2].key == "new2");
  for (const Record& rec : ok->records) CHECK(rec.modRevision == 2);
  CHECK(store->get("new2")->modRevision == 2);
}

TEST_CASE("duplicate keys in one transaction are refused; empty one is a no-op", "[storage]") {
  TempDir dir;
  auto store = openStore(dir.db());
  std::vector<Op> ops;
  ops.push_back(createOp("a", "1"));
  ops.push_back(updateOp("a", "2"));
  auto r = store->commitSync(std::move(ops));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Code::kBadRequest);
  CHECK(store->currentRevision() == 0);

  auto empty = store->commitSync({});
  REQUIRE(empty.ok());
  CHECK(empty->revision == 0);
  CHECK(empty->records.empty());
  CHECK(store->currentRevision() == 0);
}

TEST_CASE("revisions are unique and gapless across concurrent committers", "[storage]") {
  TempDir dir;
  auto store = openStore(dir.db());
  constexpr int kThreads = 4, kPer = 100;
  std::vector<std::vector<Revision>> got(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPer; ++i) {
        auto r = commit1(*store, createOp("k/" + std::to_string(t) + "/" + std::to_string(i), "v"));
        if (r.ok()) got[t].push_back(r->revision);
      }
    });
  }
  for (auto& th : threads) th.join();
  std::set<Revision> all;
  for (int t = 0; t < kThreads; ++t) {
    REQUIRE(got[t].size() == kPer);
    CHECK(std::is_sorted(got[t].begin(), got[t].end()));  // monotonic per caller
    all.insert(got[t].begin(), got[t].end());
  }
  REQUIRE(all.size() == kThreads * kPer);
  CHECK(*all.begin() == 1);
  CHECK(*all.rbegin() == kThreads * kPer);
  CHECK(store->currentRevision() == kThreads * kPer);
}

TEST_CASE("commit callbacks run once each, in revision order, lone commits and batches alike",
          "[storage]") {
  // Each round sends a burst whose callbacks are slow, waits until the writer
  // has committed it all (its callbacks may still be running), then sends one
  // commit alone: its callback must not overtake theirs.
  // Declared before the store, so a failed check cannot free them under a
  // callback still running on the store's thread.
  std::mutex mu;
  std::vector<Revision> order;
  std::atomic<int> calls{0}, failures{0};
  int sent = 0;
  TempDir dir;
  auto store = openStore(dir.db());
  auto send = [&](std::chrono::microseconds work) {
    std::vector<Op> ops;
    ops.push_back(createOp("o/" + std::to_string(sent++), "v"));
    store->commit(std::move(ops), [&, work](Result<TxnResult> r) {
      std::this_thread::sleep_for(work);
      if (!r.ok()) ++failures;
      {
        std::lock_guard<std::mutex> lock(mu);
        order.push_back(r.ok() ? r->revision : 0);
      }
      ++calls;
    });
  };
  for (int round = 0; round < 10; ++round) {
    for (int i = 0; i < 20; ++i) send(std::chrono::microseconds(500));
    for (int spins = 0; store->currentRevision() < sent && spins < 10000; ++spins)
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    send(std::chrono::microseconds(0));
  }
  for (int spins = 0; calls < sent && spins < 10000; ++spins)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  REQUIRE(calls == sent);
  CHECK(failures == 0);
  std::lock_guard<std::mutex> lock(mu);
  CHECK(std::is_sorted(order.begin(), order.end()));
  CHECK(order.front() == 1);
  CHECK(order.back() == sent);
}

TEST_CASE("a commit callback may commit again, also when its commit ran on the caller's thread",
          "[storage]") {
  // On an idle store a lone commit runs on the calling thread; its callback
  // then commits the retry the API server's write path makes, which must
  // queue behind it rather than deadlock or run out of order.
  std::promise<Revision> second;
  auto f = second.get_future();
  std::atomic<Revision> first{0};
  std::atomic<bool> onCallerThread{false}, nestedWaited{false};
  const auto caller = std::this_thread::get_id();
  TempDir dir;
  auto store = openStore(dir.db());
  std::vector<Op> ops;
  ops.push_back(createOp("n/1", "v"));
  store->commit(std::move(ops), [&](Result<TxnResult> r) {
    first = r.ok() ? r->revision : -1;
    onCallerThread = std::this_thread::get_id() == caller;
    std::vector<Op> again;
    again.push_back(createOp("n/2", "v"));
    store->commit(std::move(again),
                  [&](Result<TxnResult> r2) { second.set_value(r2.ok() ? r2->revision : -1); });
    // Queued behind this batch, whose callback is still running: not done yet.
    nestedWaited = f.wait_for(std::chrono::seconds(0)) == std::future_status::timeout;
  });
  CHECK(onCallerThread);  // an idle store's lone commit ran inline
  REQUIRE(f.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
  CHECK(nestedWaited);
  CHECK(first == 1);
  CHECK(f.get() == 2);
  CHECK(store->get("n/2").ok());
}

TEST_CASE("list honours prefix, limit and startAfter", "[storage]") {
  TempDir dir;
  auto store = openStore(dir.db());
  std::vector<Op> ops;
  for (const char* k : {"/a/3", "/a/1", "/a/5", "/a/2", "/a/4", "/a", "/a0", "/b/1", "/"})
    ops.push_back(createOp(k, std::string("v") + k));
  ops.push_back(createOp(std::string("\xff\xff", 2), "high"));
  ops.push_back(createOp(std::string("\xff\xff\x01", 3), "higher"));
  REQUIRE(store->commitSync(std::move(ops)).ok());
  REQUIRE(commit1(*store, updateOp("/b/1", "changed")).ok());  // revision 2

  auto keys = [](const ListResult& l) {
    std::vector<std::string> out;
    for (const auto& r : l.items) out.push_back(r.key);
    return out;
  };

  auto all = store->list("/a/");
  REQUIRE(all.ok());
  CHECK(keys(*all) == std::vector<std::string>{"/a/1", "/a/2", "/a/3", "/a/4", "/a/5"});
  CHECK_FALSE(all->more);
  CHECK(all->revision == 2);
  CHECK(all->items[0].value == "v/a/1");
  CHECK(all->items[0].createRevision == 1);

  auto p1 = store->list("/a/", 2);
  REQUIRE(p1.ok());
  CHECK(keys(*p1) == std::vector<std::string>{"/a/1", "/a/2"});
  CHECK(p1->more);
  auto p2 = store->list("/a/", 2, p1->items.back().key);
  REQUIRE(p2.ok());
  CHECK(keys(*p2) == std::vector<std::string>{"/a/3", "/a/4"});
  CHECK(p2->more);
  auto p3 = store->list("/a/", 2, p2->items.back().key);
  REQUIRE(p3.ok());
  CHECK(keys(*p3) == std::vector<std::string>{"/a/5"});
  CHECK_FALSE(p3->more);

  // An exact page is not "more".
  auto exact = store->list("/a/", 5);
  CHECK_FALSE(exact->more);

  // A startAfter before the prefix range does not leak other keys in.
  auto before = store->list("/a/", 0, "/");
  CHECK(keys(*before).size() == 5);

  auto b = store->list("/b/");
  REQUIRE(b.ok());
  REQUIRE(b->items.size() == 1);
  CHECK(b->items[0].value == "changed");
  CHECK(b->items[0].modRevision == 2);

  auto high = store->list(std::string("\xff", 1));
  CHECK(keys(*high) ==
        std::vector<std::string>{std::string("\xff\xff", 2), std::string("\xff\xff\x01", 3)});

  auto everything = store->list("");
  CHECK(everything->items.size() == 11);
  CHECK(std::is_sorted(everything->items.begin(), everything->items.end(),
                       [](const Record& x, const Record& y) { return x.key < y.key; }));
  CHECK(store->list("/zzz")->items.empty());
}

TEST_CASE("a list at a past revision shows the keys as they were then", "[storage]") {
  TempDir dir;
  auto store = openStore(dir.db());
  std::vector<Op> ops;
  for (const char* k : {"/p/a", "/p/b", "/p/c", "/p/d", "/p/e"})
    ops.push_back(createOp(k, std::string("old") + k));
  REQUIRE(store->commitSync(std::move(ops)).ok());        // revision 1
  REQUIRE(commit1(*store, updateOp("/p/e", "e2")).ok());  // 2
  auto first = store->list("/p/", 2);
  REQUIRE(first.ok());
  const Revision at = first->revision;
  REQUIRE(at == 2);

  // After the first page: one key changed twice, one deleted, one deleted and
  // made again, two new ones, a change outside the prefix, and /p/e changed
  // last (its value then comes from the log).
  REQUIRE(commit1(*store, updateOp("/p/c", "c2")).ok());
  REQUIRE(commit1(*store, updateOp("/p/c", "c3")).ok());
  REQUIRE(commit1(*store, deleteOp("/p/d")).ok());
  REQUIRE(commit1(*store, deleteOp("/p/b")).ok());
  REQUIRE(commit1(*store, createOp("/p/b", "new b")).ok());
  REQUIRE(commit1(*store, createOp("/p/bb", "new")).ok());
  REQUIRE(commit1(*store, createOp("/p/z", "new")).ok());
  REQUIRE(commit1(*store, createOp("/q/a", "other")).ok());
  REQUIRE(commit1(*store, updateOp("/p/e", "e3")).ok());

  auto values = [](const ListResult& l) {
    std::vector<std::string> out;
    for (const auto& r : l.items) out.push_back(r.key + "=" + r.value);
    return out;
  };
  auto rest = store->list("/p/", 2, first->items.back().key, at);
  REQUIRE(rest.ok());
  CHECK(rest->revision == at);
  CHECK(values(*rest) == std::vector<std::string>{"/p/c=old/p/c", "/p/d=old/p/d"});
  CHECK(rest->items[0].modRevision == 1);
  CHECK(rest->more);
  auto last = store->list("/p/", 2, rest->items.back().key, at);
  REQUIRE(last.ok());
  CHECK(values(*last) == std::vector<std::string>{"/p/e=e2"});
  CHECK(last->items[0].modRevision == 2);
  CHECK_FALSE(last->more);
  // From the start, unlimited: the whole list as it was.
  auto whole = store->list("/p/", 0, "", at);
  REQUIRE(whole.ok());
  CHECK(values(*whole) == std::vector<std::string>{"/p/a=old/p/a", "/p/b=old/p/b", "/p/c=old/p/c",
                                                   "/p/d=old/p/d", "/p/e=e2"});
  // Now (revision 0, or the current one) is the current state.
  auto now = store->list("/p/", 0, "", store->currentRevision());
  REQUIRE(now.ok());
  CHECK(values(*now) == std::vector<std::string>{"/p/a=old/p/a", "/p/b=new b", "/p/bb=new",
                                                 "/p/c=c3", "/p/e=e3", "/p/z=new"});

  // Compacted up to it, and to it: the values then of the keys that changed
  // since (revisions 1 and 2) stay, as etcd keeps them; the list is whole.
  REQUIRE(store->compact(at - 1).ok());
  CHECK(values(*store->list("/p/", 0, "", at)) == values(*whole));
  REQUIRE(store->compact(at).ok());
  CHECK(values(*store->list("/p/", 0, "", at)) == values(*whole));
  CHECK(values(*store->list("/p/", 2, first->items.back().key, at)) ==
        std::vector<std::string>{"/p/c=old/p/c", "/p/d=old/p/d"});
  // Compacted past it: 410.
  REQUIRE(store->compact(at + 1).ok());
  auto gone = store->list("/p/", 2, first->items.back().key, at);
  REQUIRE_FALSE(gone.ok());
  CHECK(gone.error().code == Code::kGone);
}

TEST_CASE("listing 10,000 keys is fast", "[storage]") {
  TempDir dir;
  auto store = openStore(dir.db());
  const std::string value(400, 'x');
  for (int batch = 0; batch < 20; ++batch) {
    std::vector<Op> ops;
    for (int i = 0; i < 500; ++i) {
      char key[64];
      snprintf(key, sizeof key, "/registry/pods/default/pod-%05d", batch * 500 + i);
      ops.push_back(createOp(key, value));
    }
    REQUIRE(store->commitSync(std::move(ops)).ok());
  }
  REQUIRE(commit1(*store, createOp("/registry/services/x", "s")).ok());
  (void)store->list("/registry/pods/");  // warm the page cache once
  auto start = std::chrono::steady_clock::now();
  auto l = store->list("/registry/pods/");
  auto ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  REQUIRE(l.ok());
  CHECK(l->items.size() == 10000);
  CHECK(l->revision == 21);
  WARN("list of 10,000 keys: " << ms << " ms");
  CHECK(ms < 100);
}

TEST_CASE("reopening keeps data and the revision counter", "[storage]") {
  TempDir dir;
  {
    auto store = openStore(dir.db());
    REQUIRE(commit1(*store, createOp("a", "1")).ok());
    REQUIRE(commit1(*store, createOp("b", "2")).ok());
    REQUIRE(commit1(*store, deleteOp("a")).ok());
  }
  auto store = openStore(dir.db());
  CHECK(store->currentRevision() == 3);
  CHECK(store->get("b")->value == "2");
  CHECK(store->get("a").error().code == Code::kNotFound);
  CHECK(createdAt(*store, "c", "3") == 4);
}

TEST_CASE("the revision survives a compaction that took every log row", "[storage]") {
  // No commit writes its revision to meta: it is the newest log row, or the
  // compaction floor once there is none.
  TempDir dir;
  {
    auto store = openStore(dir.db());
    for (const char* k : {"a", "b", "c"}) REQUIRE(commit1(*store, createOp(k, "v")).ok());
    REQUIRE(store->compact(3).ok());
    CHECK(store->list("", 0, "", 0)->revision == 3);
  }
  auto store = openStore(dir.db());
  CHECK(store->currentRevision() == 3);
  CHECK(store->compactedRevision() == 3);
  CHECK(store->list("", 0, "", 0)->revision == 3);
  CHECK(createdAt(*store, "d") == 4);
}

namespace {
// A database at `path` with one key ("a", revision 1), its store closed.
void writeOneKey(const std::string& path) {
  auto store = openStore(path);
  REQUIRE(commit1(*store, createOp("a", "v")).ok());
}
}  // namespace

TEST_CASE("a database whose meta holds a newer revision than its log keeps it", "[storage]") {
  // As databases written before revisions moved to the log can be: meta's
  // 'revision' ahead of the newest log row.
  TempDir dir;
  writeOneKey(dir.db());
  execOnClosed(dir.db(), "UPDATE meta SET value = 50 WHERE name = 'revision'");
  auto store = openStore(dir.db());
  CHECK(store->currentRevision() == 50);
  CHECK(createdAt(*store, "b") == 51);
  CHECK(store->list("", 0, "", 0)->revision == 51);
}

TEST_CASE("group commit puts concurrent commits in fewer SQLite transactions", "[storage]") {
  TempDir dir;
  Store::Options o;
  o.fsync = true;
  o.compactIntervalSeconds = 0;
  auto store = openStore(dir.db(), o);
  constexpr int kThreads = 16, kPer = 20;
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPer; ++i) {
        if (commit1(*store, createOp("g/" + std::to_string(t) + "/" + std::to_string(i), "v")).ok())
          ++ok;
      }
    });
  }
  for (auto& th : threads) th.join();
  REQUIRE(ok == kThreads * kPer);
  Store::Stats s = store->stats();
  CHECK(s.txnsCommitted == kThreads * kPer);
  WARN("320 concurrent commits in " << s.batches << " batches");
  CHECK(s.batches < s.txnsCommitted / 2);
}

TEST_CASE("closing the store fails queued commits with kUnavailable", "[storage]") {
  TempDir dir;
  std::atomic<int> done{0}, unavailable{0}, committed{0};
  {
    auto store = openStore(dir.db());
    for (int i = 0; i < 5000; ++i) {
      std::vector<Op> ops;
      ops.push_back(createOp("q/" + std::to_string(i), "v"));
      store->commit(std::move(ops), [&](Result<TxnResult> r) {
        ++done;
        if (r.ok()) {
          ++committed;
        } else if (r.error().code == Code::kUnavailable) {
          ++unavailable;
        }
      });
    }
  }  // destructor: every callback has run when it returns
  CHECK(done == 5000);
  CHECK(committed + unavailable == 5000);
  auto store = openStore(dir.db());
  CHECK(store->currentRevision() == committed.load());
}

TEST_CASE("background checkpoints keep the WAL bounded", "[storage]") {
  TempDir dir;
  auto store = openStore(dir.db());
  const std::string value(10000, 'w');
  for (int i = 0; i < 3000; ++i) {  // ~30 MB through the WAL
    REQUIRE(commit1(*store, createOp("wal/" + std::to_string(i), value)).ok());
  }
  auto walBytes = std::filesystem::file_size(dir.db() + "-wal");
  WARN("WAL after ~30 MB of commits: " << walBytes / 1024 << " KiB");
  CHECK(walBytes < 16u * 1024 * 1024);
  CHECK(store->list("wal/")->items.size() == 3000);
}

TEST_CASE("commitSync and compact called from a commit callback fail instead of deadlocking",
          "[storage]") {
  // Both wait for the writer, which is what runs the callback (or, for a lone
  // commit, holds the store's write turn while its caller runs it).
  TempDir dir, otherDir;
  auto store = openStore(dir.db());
  auto other = openStore(otherDir.db());  // another store's writer is no concern
  std::atomic<bool> otherCommitted{false};
  // The error codes; nullopt where the call succeeded.
  std::promise<std::pair<std::optional<Code>, std::optional<Code>>> inner;
  auto f = inner.get_future();
  std::vector<Op> ops;
  ops.push_back(createOp("c/1", "v"));
  store->commit(std::move(ops), [&](Result<TxnResult> r) {
    REQUIRE(r.ok());
    std::vector<Op> again;
    again.push_back(createOp("c/2", "v"));
    auto nested = store->commitSync(std::move(again));
    Status compacted = store->compact(r->revision);
    std::vector<Op> elsewhere;
    elsewhere.push_back(createOp("c/1", "v"));
    otherCommitted = other->commitSync(std::move(elsewhere)).ok();
    inner.set_value({nested.ok() ? std::nullopt : std::optional<Code>(nested.error().code),
                     compacted.ok() ? std::nullopt : std::optional<Code>(compacted.error().code)});
  });
  REQUIRE(f.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
  auto [nested, compacted] = f.get();
  CHECK(nested == Code::kInternal);
  CHECK(compacted == Code::kInternal);
  CHECK(otherCommitted);
  CHECK(store->get("c/2").error().code == Code::kNotFound);
  // Outside a callback both work as before.
  std::vector<Op> later;
  later.push_back(createOp("c/3", "v"));
  REQUIRE(store->commitSync(std::move(later)).ok());
  CHECK(store->compact(1).ok());
}

TEST_CASE("compaction keeps a key's value at the floor only while the key changed after it",
          "[storage]") {
  // etcd's promise, which paginated lists rely on: a list at any revision from
  // the compaction floor on is whole. Without a second copy of every key that
  // stays unchanged (the state holds those).
  TempDir dir;
  auto store = openStore(dir.db());
  auto logRows = [&] {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open_v2(dir.db().c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    REQUIRE(sqlite3_prepare_v2(db, "SELECT rev, key FROM log ORDER BY rev, key", -1, &st,
                               nullptr) == SQLITE_OK);
    std::vector<std::string> rows;
    while (sqlite3_step(st) == SQLITE_ROW)
      rows.push_back(std::to_string(sqlite3_column_int64(st, 0)) + ":" +
                     reinterpret_cast<const char*>(sqlite3_column_text(st, 1)));
    sqlite3_finalize(st);
    sqlite3_close(db);
    return rows;
  };
  auto values = [](const Result<ListResult>& l) {
    std::vector<std::string> out;
    REQUIRE(l.ok());
    for (const auto& r : l->items) out.push_back(r.key + "=" + r.value);
    return out;
  };
  REQUIRE(commit1(*store, createOp("/k/quiet", "q1")).ok());  // 1
  REQUIRE(commit1(*store, createOp("/k/busy", "b1")).ok());   // 2
  REQUIRE(commit1(*store, createOp("/k/gone", "g1")).ok());   // 3
  REQUIRE(commit1(*store, createOp("/k/late", "l1")).ok());   // 4
  REQUIRE(commit1(*store, updateOp("/k/busy", "b2")).ok());   // 5
  REQUIRE(commit1(*store, deleteOp("/k/gone")).ok());         // 6
  REQUIRE(commit1(*store, updateOp("/k/busy", "b3")).ok());   // 7
  const std::vector<std::string> at4 = {"/k/busy=b1", "/k/gone=g1", "/k/late=l1", "/k/quiet=q1"};
  const std::vector<std::string> at5 = {"/k/busy=b2", "/k/gone=g1", "/k/late=l1", "/k/quiet=q1"};
  CHECK(values(store->list("/k/", 0, "", 4)) == at4);

  REQUIRE(store->compact(5).ok());
  // Kept: /k/busy's row 5 (changed at 7) and /k/gone's row 3 (deleted at 6);
  // the rest of the log above the floor as it was. Not /k/quiet's or
  // /k/late's: the state holds them.
  CHECK(logRows() == std::vector<std::string>{"3:/k/gone", "5:/k/busy", "6:/k/gone", "7:/k/busy"});
  CHECK(values(store->list("/k/", 0, "", 5)) == at5);
  CHECK(store->list("/k/", 0, "", 4).error().code == Code::kGone);

  // /k/late changes after the floor took its value: the value comes back.
  REQUIRE(commit1(*store, updateOp("/k/late", "l2")).ok());  // 8
  CHECK(values(store->list("/k/", 0, "", 5)) == at5);
  CHECK(values(store->list("/k/", 2, "/k/busy", 6)) ==
        std::vector<std::string>{"/k/late=l1", "/k/quiet=q1"});
  REQUIRE(commit1(*store, deleteOp("/k/quiet")).ok());  // 9
  CHECK(values(store->list("/k/", 0, "", 5)) == at5);
  CHECK(values(store->list("/k/", 0, "", 9)) ==
        std::vector<std::string>{"/k/busy=b3", "/k/late=l2"});

  // A later compaction drops what newer rows replace, and the floor's
  // deletions; the kept values of keys that changed after the new floor stay.
  REQUIRE(store->compact(8).ok());
  CHECK(logRows() == std::vector<std::string>{"1:/k/quiet", "9:/k/quiet"});
  CHECK(values(store->list("/k/", 0, "", 8)) ==
        std::vector<std::string>{"/k/busy=b3", "/k/late=l2", "/k/quiet=q1"});
  // Compacted to the newest revision: only the state is left.
  REQUIRE(store->compact(9).ok());
  CHECK(logRows().empty());
  CHECK(values(store->list("/k/", 0, "", 9)) ==
        std::vector<std::string>{"/k/busy=b3", "/k/late=l2"});
  store.reset();
  auto reopened = openStore(dir.db());
  CHECK(reopened->currentRevision() == 9);
}

TEST_CASE("a clean close records the format, and the revision for older skiffs", "[storage]") {
  // Skiffs before the revision moved to the log read it from meta alone.
  TempDir dir;
  {
    auto store = openStore(dir.db());
    for (const char* k : {"a", "b", "c"}) REQUIRE(commit1(*store, createOp(k, "v")).ok());
  }
  CHECK(queryInt(dir.db(), "SELECT value FROM meta WHERE name = 'revision'") == 3);
  CHECK(queryInt(dir.db(), "PRAGMA user_version") == 3);
}

TEST_CASE("a database in a newer format is refused and left as it was", "[storage]") {
  TempDir dir;
  writeOneKey(dir.db());
  execOnClosed(dir.db(), "PRAGMA user_version = 99");

  auto refused = Store::open(dir.db(), fastOptions());
  REQUIRE_FALSE(refused.ok());
  CHECK_THAT(
      refused.error().message,
      Catch::Contains("format 99, written by a newer skiff; this one reads formats up to 3"));
  CHECK(queryInt(dir.db(), "PRAGMA user_version") == 99);
  CHECK(queryInt(dir.db(), "SELECT count(*) FROM kv") == 1);
}
