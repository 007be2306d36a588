// Storage benchmark: the SQLite store on its own, without HTTP. Prints one JSON
// object per line:
//
//   {"bench":"store_commit", ...}  acknowledged single-key creates/s from 1 and 16
//                                  threads, fsync on (and off, for reference),
//                                  with p50/p99 latency and how many commits each
//                                  group-commit batch carried
//   {"bench":"store_get", ...}     point reads/s from one thread, p50/p99
//   {"bench":"store_list", ...}    listing 10,000 keys of ~1 KiB (best and median of 5)
//   {"bench":"store_watch", ...}   1,000 watchers: delay from the start of a commit to
//                                  each delivery, next to the commit's own latency
//
// Usage: bench_store [--seconds 3] [--dir DIR] (DIR on the disk to measure;
// default a fresh directory under /tmp, removed afterwards).
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/log.h"
#include "bench/bench_util.h"
#include "storage/store.h"

using namespace skiff;
using namespace skiff::storage;
using skiff::bench::Clock;
using skiff::bench::msSince;
using skiff::bench::percentile;

namespace {

const std::string kValue = [] {
  // About the size of a small pod's JSON.
  std::string v = "{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"x\"},\"spec\":";
  v += "\"" + std::string(1000, 's') + "\"}";
  return v;
}();

Op createOp(std::string key) {
  Op op;
  op.kind = Op::Kind::kCreate;
  op.key = std::move(key);
  op.encode = [](Revision) { return kValue; };
  return op;
}

size_t gLag = Store::Options{}.stateLagKeys;  // --lag

std::unique_ptr<Store> open(const std::string& path, bool fsync) {
  Store::Options o;
  o.fsync = fsync;
  o.stateLagKeys = gLag;
  o.compactIntervalSeconds = 0;
  auto s = Store::open(path, o);
  if (!s) {
    fprintf(stderr, "open %s: %s\n", path.c_str(), s.error().message.c_str());
    exit(1);
  }
  return std::move(*s);
}

void benchCommits(const std::string& dir, bool fsync, int threads, double seconds) {
  std::string path = dir + "/commit-" + std::to_string(threads) + (fsync ? "-fsync" : "") + ".db";
  auto store = open(path, fsync);
  std::vector<std::vector<double>> lat(threads);
  std::atomic<bool> stop{false};
  std::atomic<int64_t> failures{0};
  std::vector<std::thread> workers;
  const auto start = Clock::now();
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (int i = 0; !stop.load(); ++i) {
        std::vector<Op> ops;
        ops.push_back(createOp("/registry/pods/t" + std::to_string(t) + "/p" + std::to_string(i)));
        auto t0 = Clock::now();
        auto r = store->commitSync(std::move(ops));
        lat[t].push_back(msSince(t0));
        if (!r.ok()) ++failures;
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& w : workers) w.join();
  const double elapsed = msSince(start) / 1000;
  std::vector<double> all;
  for (auto& v : lat) all.insert(all.end(), v.begin(), v.end());
  Store::Stats st = store->stats();
  printf(
      "{\"bench\":\"store_commit\",\"fsync\":%s,\"threads\":%d,\"commits\":%zu,\"failures\":%ld,"
      "\"commits_per_sec\":%.0f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"batches\":%ld,"
      "\"commits_per_batch\":%.2f,\"mean_batch_ms\":%.3f}\n",
      fsync ? "true" : "false", threads, all.size(), static_cast<long>(failures.load()),
      all.size() / elapsed, percentile(all, 0.5), percentile(all, 0.99),
      static_cast<long>(st.batches),
      st.batches ? static_cast<double>(st.txnsCommitted) / st.batches : 0.0,
      st.batches ? st.batchNanos / 1e6 / st.batches : 0.0);
  fflush(stdout);
}

void benchReads(const std::string& dir) {
  auto store = open(dir + "/list.db", false);
  constexpr int kKeys = 10000;
  for (int b = 0; b < kKeys / 500; ++b) {
    std::vector<Op> ops;
    for (int i = 0; i < 500; ++i) {
      char key[80];
      snprintf(key, sizeof key, "/registry/pods/default/pod-%05d", b * 500 + i);
      ops.push_back(createOp(key));
    }
    if (!store->commitSync(std::move(ops)).ok()) exit(1);
  }
  std::vector<Op> other;
  other.push_back(createOp("/registry/services/default/kubernetes"));
  (void)store->commitSync(std::move(other));

  std::vector<double> listMs;
  size_t items = 0;
  for (int i = 0; i < 5; ++i) {
    auto t0 = Clock::now();
    auto l = store->list("/registry/pods/");
    listMs.push_back(msSince(t0));
    if (!l.ok()) exit(1);
    items = l->items.size();
  }
  printf("{\"bench\":\"store_list\",\"items\":%zu,\"best_ms\":%.2f,\"median_ms\":%.2f}\n", items,
         *std::min_element(listMs.begin(), listMs.end()), percentile(listMs, 0.5));

  auto gets = [&](const char* name) {
    std::vector<double> getMs;
    auto t0 = Clock::now();
    for (int i = 0; i < 20000; ++i) {
      char key[80];
      snprintf(key, sizeof key, "/registry/pods/default/pod-%05d", (i * 7919) % kKeys);
      auto g0 = Clock::now();
      if (!store->get(key).ok()) exit(1);
      getMs.push_back(msSince(g0));
    }
    double secs = msSince(t0) / 1000;
    printf(
        "{\"bench\":\"%s\",\"state_lag_keys\":%zu,\"gets\":%zu,\"gets_per_sec\":%.0f,"
        "\"p50_ms\":%.4f,\"p99_ms\":%.4f}\n",
        name, gLag, getMs.size(), getMs.size() / secs, percentile(getMs, 0.5),
        percentile(getMs, 0.99));
    fflush(stdout);
  };
  gets("store_get");
  // The most changes the state table may lag by (see Options::stateLagKeys),
  // one key each: every get then also reads the log rows after it.
  store.reset();  // a clean close brings the state up to date
  store = open(dir + "/list.db", false);
  for (size_t i = 0; i + 1 < gLag && i < kKeys; ++i) {
    char key[80];
    snprintf(key, sizeof key, "/registry/pods/default/pod-%05zu", i);
    std::vector<Op> ops;
    ops.push_back(createOp(key));
    ops.back().kind = Op::Kind::kUpdate;
    if (!store->commitSync(std::move(ops)).ok()) exit(1);
  }
  gets("store_get_state_lagging");
}

void benchWatch(const std::string& dir, bool fsync) {
  auto store = open(dir + std::string("/watch") + (fsync ? "-fsync" : "") + ".db", fsync);
  constexpr int kWatchers = 1000;
  constexpr int kRounds = 20;
  std::mutex mu;
  std::condition_variable cv;
  std::vector<double> delays;   // guarded by mu
  Clock::time_point committed;  // guarded by mu
  int got = 0;                  // guarded by mu
  std::vector<std::unique_ptr<Watch>> watches;
  for (int i = 0; i < kWatchers; ++i) {
    auto w = store->watch(
        "/w/", store->currentRevision(),
        [&](const Event&) {
          std::lock_guard<std::mutex> lock(mu);
          delays.push_back(msSince(committed));
          if (++got == kWatchers) cv.notify_all();
          return true;
        },
        nullptr);
    if (!w.ok()) exit(1);
    watches.push_back(std::move(*w));
  }
  std::vector<double> lastDelivery, acks;
  for (int round = 0; round < kRounds; ++round) {
    std::vector<Op> ops;
    ops.push_back(createOp("/w/" + std::to_string(round)));
    {
      std::lock_guard<std::mutex> lock(mu);
      got = 0;
      committed = Clock::now();  // delays run from the start of the commit
    }
    auto start = Clock::now();
    store->commit(std::move(ops), [&, start](Result<TxnResult>) {
      std::lock_guard<std::mutex> lock(mu);
      acks.push_back(msSince(start));
    });
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return got == kWatchers; });
    lastDelivery.push_back(msSince(start));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  std::lock_guard<std::mutex> lock(mu);
  printf(
      "{\"bench\":\"store_watch\",\"fsync\":%s,\"watchers\":%d,\"rounds\":%d,"
      "\"commit_ack_p50_ms\":%.3f,\"delivery_p50_ms\":%.3f,\"delivery_p99_ms\":%.3f,"
      "\"last_watcher_p50_ms\":%.3f}\n",
      fsync ? "true" : "false", kWatchers, kRounds, percentile(acks, 0.5), percentile(delays, 0.5),
      percentile(delays, 0.99), percentile(lastDelivery, 0.5));
  fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 3;
  std::string dir;
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "--seconds") && i + 1 < argc) {
      seconds = atof(argv[++i]);
    } else if (!strcmp(argv[i], "--dir") && i + 1 < argc) {
      dir = argv[++i];
    } else if (!strcmp(argv[i], "--lag") && i + 1 < argc) {
      gLag = static_cast<size_t>(std::max(1, atoi(argv[++i])));
    } else {
      fprintf(stderr, "usage: %s [--seconds N] [--dir DIR] [--lag STATE_LAG_KEYS]\n", argv[0]);
      return 2;
    }
  }
  setLogLevel(LogLevel::kWarn);
  bool temp = dir.empty();
  if (temp) {
    char tmpl[] = "/tmp/skiff-bench-store-XXXXXX";
    dir = mkdtemp(tmpl);
  }
  std::filesystem::create_directories(dir);
  benchCommits(dir, true, 1, seconds);
  benchCommits(dir, true, 16, seconds);
  benchCommits(dir, false, 1, seconds);
  benchCommits(dir, false, 16, seconds);
  benchReads(dir);
  benchWatch(dir, true);
  if (temp) std::filesystem::remove_all(dir);
  return 0;
}
