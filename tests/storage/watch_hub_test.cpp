// WatchHub in isolation: the replay/live hand-off made deterministic with a fake
// log reader (the races it guards against are too rare to hit through Store).
#include <catch2/catch.hpp>

#include <atomic>

#include "storage/watch_hub.h"
#include "tests/storage/store_test_util.h"

using namespace skiff;
using namespace skiff::storage;
using namespace skiff::storage::testing;
using namespace std::chrono_literals;

namespace {

Event ev(Revision rev, std::string key = "") {
  Event e;
  e.type = Event::Type::kUpdated;
  e.record.key = key.empty() ? "/k/" + std::to_string(rev) : key;
  e.record.value = "v" + std::to_string(rev);
  e.record.createRevision = 1;
  e.record.modRevision = rev;
  return e;
}

std::vector<Event> evs(Revision from, Revision to) {
  std::vector<Event> out;
  for (Revision r = from; r <= to; ++r) out.push_back(ev(r));
  return out;
}

std::vector<Revision> revs(const std::vector<Event>& events) {
  std::vector<Revision> out;
  for (const Event& e : events) out.push_back(e.record.modRevision);
  return out;
}

LogReader noReader(std::atomic<int>* calls) {
  return [calls](const std::string&, Revision, Revision*, std::vector<Event>*) {
    ++*calls;
    return Status(makeError(Code::kInternal, "unexpected log read"));
  };
}

}  // namespace

TEST_CASE("hub: revisions the log replay covered are not delivered again", "[storage][hub]") {
  std::atomic<int> reads{0};
  WatchHub hub(10, 0, noReader(&reads));
  hub.publish(evs(1, 1));
  hub.publish(evs(2, 2));
  Collector c;
  // The caller's log snapshot reached revision 4, ahead of what was published.
  auto w = hub.add("/k/", 4, evs(1, 4), c.onEvent(), c.onEnd());
  hub.publish(evs(3, 4));
  hub.publish(evs(5, 5));
  REQUIRE(c.waitFor(5) == 5);
  std::this_thread::sleep_for(20ms);
  CHECK(revs(c.events()) == std::vector<Revision>{1, 2, 3, 4, 5});
  CHECK(reads == 0);
}

TEST_CASE("hub: a watcher the ring moved past is caught up from the log", "[storage][hub]") {
  std::atomic<int> reads{0};
  Revision askedAfter = -1;
  LogReader reader = [&](const std::string& prefix, Revision after, Revision* through,
                         std::vector<Event>* out) {
    ++reads;
    askedAfter = after;
    *out = evs(after + 1, 6);  // the snapshot is already at 6
    *through = 6;
    return Status{};
  };
  WatchHub hub(2, 0, reader);
  for (Revision r = 1; r <= 5; ++r) hub.publish(evs(r, r));  // ring keeps 4, 5
  Collector c;
  auto w = hub.add("/k/", 1, {}, c.onEvent(), c.onEnd());
  hub.publish(evs(6, 6));
  hub.publish(evs(7, 7));
  REQUIRE(c.waitFor(6) == 6);
  std::this_thread::sleep_for(20ms);
  CHECK(revs(c.events()) == std::vector<Revision>{2, 3, 4, 5, 6, 7});
  CHECK(reads == 1);
  CHECK(askedAfter == 1);
  CHECK(hub.ringFloor() == 5);
}

TEST_CASE("hub: a catch-up that finds the log compacted ends the watch with 410",
          "[storage][hub]") {
  LogReader reader = [](const std::string&, Revision after, Revision*, std::vector<Event>*) {
    return Status(tooOldError(after, 3));
  };
  WatchHub hub(1, 0, reader);
  for (Revision r = 1; r <= 4; ++r) hub.publish(evs(r, r));
  Collector c;
  auto w = hub.add("", 1, {}, c.onEvent(), c.onEnd());
  REQUIRE(c.waitEnded(1s));
  CHECK(c.endError().code == Code::kGone);
  CHECK(c.endError().message == "too old resource version: 1 (3)");
  CHECK(c.events().empty());
}

TEST_CASE("hub: all events of one revision are delivered, filtered by prefix", "[storage][hub]") {
  std::atomic<int> reads{0};
  WatchHub hub(10, 2, noReader(&reads));
  Collector c;
  auto w = hub.add("/a/", 2, {}, c.onEvent(), c.onEnd());
  hub.publish({ev(3, "/a/1"), ev(3, "/a/2"), ev(3, "/b/1")});
  hub.publish({ev(4, "/b/2"), ev(5, "/a/3")});
  REQUIRE(c.waitFor(3) == 3);
  std::this_thread::sleep_for(20ms);
  auto got = c.events();
  REQUIRE(got.size() == 3);
  CHECK(got[0].record.key == "/a/1");
  CHECK(got[1].record.key == "/a/2");
  CHECK(got[2].record.key == "/a/3");

  // A late watcher from revision 2 gets the same from the ring.
  Collector late;
  auto w2 = hub.add("/a/", 2, {}, late.onEvent(), late.onEnd());
  REQUIRE(late.waitFor(3) == 3);
  CHECK(revs(late.events()) == std::vector<Revision>{3, 3, 5});
  CHECK(reads == 0);
}

TEST_CASE("hub: stop delivers what was published, then ends watches", "[storage][hub]") {
  std::atomic<int> reads{0};
  Collector c;
  std::unique_ptr<Watch> w;
  {
    WatchHub hub(10, 0, noReader(&reads));
    w = hub.add("", 0, {}, c.onEvent(), c.onEnd());
    for (Revision r = 1; r <= 50; ++r) hub.publish(evs(r, r));
  }
  CHECK(c.events().size() == 50);
  REQUIRE(c.waitEnded(1s));
  CHECK(c.endError().code == Code::kUnavailable);
}

TEST_CASE("hub: batches published while nobody watches are in the ring for the next watcher",
          "[storage][hub]") {
  // A new watcher finds them all in the ring, in order, with no log read, and
  // live delivery then goes on batch by batch.
  std::atomic<int> reads{0};
  WatchHub hub(1000, 0, noReader(&reads));
  for (Revision r = 1; r <= 10; ++r) hub.publish(evs(r, r));
  Collector c;
  auto w = hub.add("/k/", 0, {}, c.onEvent(), c.onEnd());
  REQUIRE(c.waitFor(10) == 10);
  for (Revision r = 11; r <= 13; ++r) {
    hub.publish(evs(r, r));
    REQUIRE(c.waitFor(static_cast<size_t>(r)) == static_cast<size_t>(r));
  }
  std::this_thread::sleep_for(20ms);  // no late duplicate
  CHECK(revs(c.events()) == std::vector<Revision>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13});
  CHECK(reads == 0);
  CHECK(hub.watcherCount() == 1);
}

TEST_CASE("hub: batches no watcher wants wait, in order, behind the next wanted one",
          "[storage][hub]") {
  // The notifier is woken only for a batch some watcher's prefix matches (or
  // once enough batches wait); whatever it takes, it takes in order.
  std::atomic<int> reads{0};
  WatchHub hub(1000, 0, noReader(&reads));
  Collector a;
  auto wa = hub.add("/a/", 0, {}, a.onEvent(), a.onEnd());
  for (Revision r = 1; r <= 100; ++r) hub.publish({ev(r, "/b/" + std::to_string(r))});
  hub.publish({ev(101, "/a/1")});
  REQUIRE(a.waitFor(1) == 1);
  CHECK(a.events()[0].record.modRevision == 101);
  // A watcher of /b/ from the start finds all of them in the ring, in order.
  Collector b;
  auto wb = hub.add("/b/", 0, {}, b.onEvent(), b.onEnd());
  REQUIRE(b.waitFor(100) == 100);
  std::vector<Revision> want;
  for (Revision r = 1; r <= 100; ++r) want.push_back(r);
  CHECK(revs(b.events()) == want);
  CHECK(reads == 0);
}

TEST_CASE("hub: a watcher that ends leaves its prefix wanted while another watches it",
          "[storage][hub]") {
  std::atomic<int> reads{0};
  WatchHub hub(1000, 0, noReader(&reads));
  Collector first, second;
  auto w1 = hub.add("/a/", 0, {}, first.onEvent(), first.onEnd());
  auto w2 = hub.add("/a/", 0, {}, second.onEvent(), second.onEnd());
  hub.publish({ev(1, "/a/1")});
  REQUIRE(first.waitFor(1) == 1);
  REQUIRE(second.waitFor(1) == 1);
  w1.reset();
  hub.publish({ev(2, "/b/1")});  // a wanted-by-nobody batch lets the sweep run
  hub.publish({ev(3, "/a/2")});
  // Nothing else wakes the notifier: this comes only if /a/ is still wanted.
  REQUIRE(second.waitFor(2, 2s) == 2);
  CHECK(revs(second.events()) == std::vector<Revision>{1, 3});
  CHECK(first.events().size() == 1);
  CHECK(reads == 0);
}
