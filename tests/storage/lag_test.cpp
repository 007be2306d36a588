// The state table lags the log (Options::stateLagKeys): every read and every
// write check must see the same store whether a change sits in kv or only in
// the log after 'applied'. Random writes against an in-memory model, with get,
// list, paging and lists at past revisions checked after each step, through
// compactions and reopens (a clean close brings kv up to date; a store copied
// while open keeps its changes in the log alone).
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <random>
#include <thread>

#include "storage/store.h"
#include "tests/storage/store_test_util.h"

using namespace skiff;
using namespace skiff::storage;
using namespace skiff::storage::testing;

namespace {

struct Value {
  std::string value;
  Revision created = 0;
  Revision modified = 0;
  bool operator==(const Value&) const = default;
};
using State = std::map<std::string, Value>;

// fastOptions(), with the state table at most `lag` keys behind the log.
Store::Options lagging(size_t lag) {
  Store::Options o = fastOptions();
  o.stateLagKeys = lag;
  return o;
}

State asState(const std::vector<Record>& items) {
  State s;
  for (const Record& r : items) s[r.key] = Value{r.value, r.createRevision, r.modRevision};
  return s;
}

// `state` restricted to keys with `prefix`.
State under(const State& state, const std::string& prefix) {
  State s;
  for (const auto& [k, v] : state) {
    if (k.compare(0, prefix.size(), prefix) == 0) s[k] = v;
  }
  return s;
}

// Every page of a list of `prefix`, `limit` at a time, at the first page's
// revision.
State listPaged(Store& store, const std::string& prefix, int64_t limit, Revision at = 0) {
  State all;
  std::string after;
  for (;;) {
    auto page = store.list(prefix, limit, after, at);
    REQUIRE(page.ok());
    if (at == 0) at = page->revision;
    REQUIRE(page->revision == at);
    for (const Record& r : page->items) {
      REQUIRE(all.count(r.key) == 0);
      all[r.key] = Value{r.value, r.createRevision, r.modRevision};
    }
    if (!page->more) return all;
    REQUIRE(static_cast<int64_t>(page->items.size()) == limit);
    after = page->items.back().key;
  }
}

}  // namespace

TEST_CASE("reads and write checks agree whether a change is in the state table or in the log",
          "[storage][lag]") {
  const size_t lag = GENERATE(1, 3, 1000);
  CAPTURE(lag);
  TempDir dir;
  const Store::Options options = lagging(lag);
  auto store = openStore(dir.db(), options);

  std::mt19937 rng(20261129 + lag);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  const std::vector<std::string> keys = {"/m/a", "/m/b", "/m/c", "/m/d", "/m/e",
                                         "/m/f", "/m/g", "/n/a", "/n/b"};
  State state;                      // the model
  std::map<Revision, State> history;  // the model after each revision
  history[0] = state;
  Revision compacted = 0;

  for (int step = 0; step < 400; ++step) {
    CAPTURE(step);
    const std::string& key = keys[pick(static_cast<int>(keys.size()))];
    const bool exists = state.count(key) > 0;
    const int what = pick(20);
    if (what == 0 && store->currentRevision() > compacted) {
      // Compact to a revision between the floor and now.
      const Revision now = store->currentRevision();
      const Revision to = compacted + 1 + pick(static_cast<int>(now - compacted));
      REQUIRE(store->compact(to).ok());
      compacted = to;
    } else if (what == 1) {
      // A clean reopen (kv brought up to date) or a copy of the open files
      // (changes in the log alone, read back into the writer's tail).
      if (pick(2) == 0) {
        store.reset();
      } else {
        TempDir copy;
        for (const char* suffix : {"", "-wal", "-shm"}) {
          std::error_code ec;
          std::filesystem::copy_file(dir.db() + suffix, copy.db() + suffix, ec);
        }
        store.reset();
        for (const char* suffix : {"-wal", "-shm"}) std::filesystem::remove(dir.db() + suffix);
        std::filesystem::copy_file(copy.db(), dir.db(),
                                   std::filesystem::copy_options::overwrite_existing);
        if (std::filesystem::exists(copy.db() + "-wal")) {
          std::filesystem::copy_file(copy.db() + "-wal", dir.db() + "-wal");
        }
      }
      store = openStore(dir.db(), options);
      REQUIRE(store->compactedRevision() == compacted);
    } else if (what < 8) {
      // A create: refused when the key exists.
      auto r = commit1(*store, createOp(key, "c" + std::to_string(step)));
      if (exists) {
        REQUIRE(r.error().code == Code::kAlreadyExists);
      } else {
        REQUIRE(r.ok());
        state[key] = Value{"c" + std::to_string(step), r->revision, r->revision};
      }
    } else if (what < 14) {
      // An update, sometimes with a stale revision.
      const bool stale = exists && pick(4) == 0;
      const Revision expected = exists ? state[key].modified - (stale ? 1 : 0) : 0;
      auto r = commit1(*store, updateOp(key, "u" + std::to_string(step), expected));
      if (!exists) {
        REQUIRE(r.error().code == Code::kNotFound);
      } else if (stale) {
        REQUIRE(r.error().code == Code::kConflict);
      } else {
        REQUIRE(r.ok());
        state[key].value = "u" + std::to_string(step);
        state[key].modified = r->revision;
      }
    } else if (what < 17) {
      auto r = commit1(*store, deleteOp(key, exists ? state[key].modified : 0));
      if (!exists) {
        REQUIRE(r.error().code == Code::kNotFound);
      } else {
        REQUIRE(r.ok());
        REQUIRE(r->records.at(0).value == state[key].value);  // the deleted value
        state.erase(key);
      }
    } else {
      // Two keys in one transaction: a delete or create and an update.
      const std::string& other = keys[(pick(static_cast<int>(keys.size() - 1)) + 1 +
                                       static_cast<size_t>(&key - keys.data())) %
                                      keys.size()];
      if (!state.count(other)) continue;
      std::vector<Op> ops;
      ops.push_back(exists ? deleteOp(key) : createOp(key, "t" + std::to_string(step)));
      ops.push_back(updateOp(other, "t" + std::to_string(step), state[other].modified));
      auto r = store->commitSync(std::move(ops));
      REQUIRE(r.ok());
      if (exists) {
        state.erase(key);
      } else {
        state[key] = Value{"t" + std::to_string(step), r->revision, r->revision};
      }
      state[other].value = "t" + std::to_string(step);
      state[other].modified = r->revision;
    }
    history[store->currentRevision()] = state;

    // Reads: every key, both prefixes whole and paged, and a past revision.
    for (const std::string& k : keys) {
      auto got = store->get(k);
      if (state.count(k)) {
        REQUIRE(got.ok());
        CHECK(Value{got->value, got->createRevision, got->modRevision} == state[k]);
      } else {
        CHECK(got.error().code == Code::kNotFound);
      }
    }
    auto all = store->list("/", 0, "", 0);
    REQUIRE(all.ok());
    CHECK(all->revision == store->currentRevision());
    CHECK(asState(all->items) == state);
    CHECK(listPaged(*store, "/m/", 2) == under(state, "/m/"));
    if (store->currentRevision() > compacted) {
      const Revision at =
          compacted + 1 + pick(static_cast<int>(store->currentRevision() - compacted));
      CAPTURE(at);
      State then = std::prev(history.upper_bound(at))->second;
      CHECK(listPaged(*store, "/", 3, at) == then);
      CHECK(listPaged(*store, "/m/", 1, at) == under(then, "/m/"));
    }
  }
}

TEST_CASE("the state table is brought up to date once stateLagKeys keys changed",
          "[storage][lag]") {
  TempDir dir;
  {
    auto store = openStore(dir.db(), lagging(4));
    for (const char* k : {"a", "b", "c"}) REQUIRE(commit1(*store, createOp(k, "v")).ok());
    // Three keys changed: the log holds them, kv does not yet.
    CHECK(queryInt(dir.db(), "SELECT count(*) FROM kv") == 0);
    CHECK(queryInt(dir.db(), "SELECT value FROM meta WHERE name = 'applied'") == 0);
    CHECK(store->get("b").ok());
    REQUIRE(commit1(*store, updateOp("a", "w")).ok());  // still three keys
    CHECK(queryInt(dir.db(), "SELECT count(*) FROM kv") == 0);
    REQUIRE(commit1(*store, createOp("d", "v")).ok());  // the fourth
    CHECK(queryInt(dir.db(), "SELECT count(*) FROM kv") == 4);
    CHECK(queryInt(dir.db(), "SELECT value FROM meta WHERE name = 'applied'") == 5);
    REQUIRE(commit1(*store, deleteOp("d")).ok());
    CHECK(queryInt(dir.db(), "SELECT count(*) FROM kv") == 4);
    // A second without writes brings it up to date.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (queryInt(dir.db(), "SELECT value FROM meta WHERE name = 'applied'") != 6 &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    CHECK(queryInt(dir.db(), "SELECT count(*) FROM kv") == 3);
    CHECK(queryInt(dir.db(), "SELECT value FROM meta WHERE name = 'applied'") == 6);
    REQUIRE(commit1(*store, updateOp("a", "x")).ok());
    CHECK(queryInt(dir.db(), "SELECT value FROM meta WHERE name = 'applied'") == 6);
  }
  // So does a clean close.
  CHECK(queryInt(dir.db(), "SELECT count(*) FROM kv") == 3);
  CHECK(queryInt(dir.db(), "SELECT value FROM meta WHERE name = 'applied'") == 7);
}

TEST_CASE("readers racing the state table's catch-up never see a key go back in time",
          "[storage][lag]") {
  // Updates keep moving kv's catch-up (every 5 keys) while readers get and
  // list: a reader's snapshot may begin before a catch-up and read the index
  // of the log rows after it. Each value names the revision it was written
  // at, so a stale or mixed read shows.
  TempDir dir;
  auto store = openStore(dir.db(), lagging(5));
  const int kKeys = 8;
  auto key = [](int i) { return "/r/k" + std::to_string(i); };
  auto revisionValue = [](Revision rev) { return "at " + std::to_string(rev); };
  for (int i = 0; i < kKeys; ++i) {
    Op op = createOp(key(i), "");
    op.encode = revisionValue;
    REQUIRE(commit1(*store, std::move(op)).ok());
  }
  std::atomic<bool> done{false};
  std::atomic<int> failures{0};
  std::thread writer([&] {
    std::mt19937 rng(7);
    for (int n = 0; n < 3000; ++n) {
      Op op = updateOp(key(static_cast<int>(rng() % kKeys)), "");
      op.encode = revisionValue;
      if (!commit1(*store, std::move(op)).ok()) ++failures;
    }
    done = true;
  });
  auto reader = [&](int seed) {
    std::mt19937 rng(seed);
    std::vector<Revision> seen(kKeys, 0);
    Revision listed = 0;
    while (!done) {
      const int i = static_cast<int>(rng() % kKeys);
      auto got = store->get(key(i));
      if (!got.ok() || got->value != revisionValue(got->modRevision) ||
          got->modRevision < seen[i]) {
        ++failures;
      } else {
        seen[i] = got->modRevision;
      }
      auto all = store->list("/r/", 0, "", 0);
      if (!all.ok() || all->items.size() != kKeys || all->revision < listed) {
        ++failures;
        continue;
      }
      listed = all->revision;
      for (const Record& r : all->items) {
        if (r.value != revisionValue(r.modRevision) || r.modRevision > all->revision) ++failures;
      }
    }
  };
  std::thread r1(reader, 1), r2(reader, 2);
  writer.join();
  r1.join();
  r2.join();
  CHECK(failures.load() == 0);
}
