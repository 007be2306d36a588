#include "storage/watch_hub.h"

#include <algorithm>
#include <map>

#include "base/log.h"
#include "base/thread.h"

namespace skiff::storage {

struct WatchHub::Watcher {
  std::string prefix;
  std::function<bool(const Event&)> onEvent;
  std::function<void(const Error&)> onEnd;
  std::mutex mu;                  // held while a callback of this watcher runs
  std::atomic<bool> done{false};  // no callback starts once set
  Revision through = 0;           // notifier thread only: served completely up to here
  std::vector<Event> replay;      // events <= through, consumed when added
  bool counted = false;           // guarded by the inbox's mu: in Inbox::prefixes
};

struct WatchHub::Message {
  std::vector<Event> events;         // a committed batch, or
  std::shared_ptr<Watcher> watcher;  // a watcher to add
};

struct WatchHub::Inbox {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<Message> messages;  // guarded by mu
  bool stopping = false;         // guarded by mu
  bool needSweep = false;        // guarded by mu: a handle was destroyed
  std::thread::id notifier;      // set once, before any handle exists
  // Guarded by mu: the prefixes of the watchers added and not yet removed, with
  // their counts. A batch with no key under any of them need not wake the
  // notifier at once (see publish).
  std::map<std::string, int, std::less<>> prefixes;
};

namespace {

Revision revisionOf(const Event& e) {
  return e.record.modRevision;
}

bool hasPrefix(const std::string& key, const std::string& prefix) {
  return key.size() >= prefix.size() && key.compare(0, prefix.size(), prefix) == 0;
}

// Whether any event's key is under any of `prefixes`.
bool wanted(const std::map<std::string, int, std::less<>>& prefixes,
            const std::vector<Event>& events) {
  for (const auto& [prefix, count] : prefixes)
    for (const Event& e : events)
      if (hasPrefix(e.record.key, prefix)) return true;
  return false;
}

// Batches the notifier may leave queued before it is woken to take them into
// the ring anyway, so memory stays bounded when nobody watches what is written.
constexpr size_t kMaxQuietBatches = 64;

}  // namespace

Error tooOldError(Revision requested, Revision compacted) {
  return makeError(Code::kGone, "too old resource version: " + std::to_string(requested) + " (" +
                                    std::to_string(compacted) + ")");
}

// The user's handle. It shares the watcher and the inbox, never the hub, so it
// may outlive the store.
class WatchHandle : public Watch {
 public:
  WatchHandle(std::shared_ptr<WatchHub::Watcher> w, std::shared_ptr<void> inbox,
              std::function<void()> requestSweep, std::thread::id notifier)
      : w_(std::move(w)),
        inbox_(std::move(inbox)),
        requestSweep_(std::move(requestSweep)),
        notifier_(notifier) {}
  ~WatchHandle() override;

 private:
  std::shared_ptr<WatchHub::Watcher> w_;
  std::shared_ptr<void> inbox_;  // keeps requestSweep_'s target alive
  std::function<void()> requestSweep_;
  std::thread::id notifier_;
};

WatchHandle::~WatchHandle() {
  // The notifier checks `done` (under w_->mu) before every callback, so none
  // starts after this. Setting it before taking the lock also keeps the
  // notifier from re-taking the lock batch after batch and starving us.
  w_->done = true;
  if (std::this_thread::get_id() != notifier_) {
    // Wait for a callback that is running now. On the notifier thread we are
    // inside a callback ourselves, and taking the lock could self-deadlock.
    std::lock_guard<std::mutex> lock(w_->mu);
  }
  requestSweep_();
}

WatchHub::WatchHub(size_t ringSize, Revision published, LogReader reader)
    : ringSize_(ringSize),
      reader_(std::move(reader)),
      inbox_(std::make_shared<Inbox>()),
      published_(published),
      ringFloor_(published) {
  thread_ = std::thread([this] { run(); });
  inbox_->notifier = thread_.get_id();
}

WatchHub::~WatchHub() {
  stop();
}

void WatchHub::publish(std::vector<Event> events) {
  if (events.empty()) return;
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(inbox_->mu);
    // Wake the notifier only for a batch some watcher may want (or once enough
    // batches wait): the rest it takes, in order, when it next wakes, which is
    // before it adds a watcher or delivers a later batch. Sparing a wake-up per
    // batch matters when most writes have no watcher (a bulk create).
    wake = wanted(inbox_->prefixes, events);
    inbox_->messages.push_back(Message{std::move(events), nullptr});
    if (inbox_->messages.size() >= kMaxQuietBatches) wake = true;
  }
  if (wake) inbox_->cv.notify_one();
}

void WatchHub::uncount(Watcher& w) {
  std::lock_guard<std::mutex> lock(inbox_->mu);
  if (!w.counted) return;
  w.counted = false;
  auto it = inbox_->prefixes.find(w.prefix);
  if (it != inbox_->prefixes.end() && --it->second == 0) inbox_->prefixes.erase(it);
}

std::unique_ptr<Watch> WatchHub::add(std::string prefix, Revision through,
                                     std::vector<Event> replay,
                                     std::function<bool(const Event&)> onEvent,
                                     std::function<void(const Error&)> onEnd) {
  auto w = std::make_shared<Watcher>();
  w->prefix = std::move(prefix);
  w->through = through;
  w->replay = std::move(replay);
  w->onEvent = std::move(onEvent);
  w->onEnd = std::move(onEnd);
  {
    std::lock_guard<std::mutex> lock(inbox_->mu);
    if (inbox_->stopping) {
      w->done = true;
    } else {
      inbox_->messages.push_back(Message{{}, w});
      ++inbox_->prefixes[w->prefix];
      w->counted = true;
    }
  }
  inbox_->cv.notify_one();
  std::weak_ptr<Inbox> weak = inbox_;
  auto requestSweep = [weak] {
    if (auto inbox = weak.lock()) {
      {
        std::lock_guard<std::mutex> lock(inbox->mu);
        inbox->needSweep = true;
      }
      inbox->cv.notify_one();
    }
  };
  return std::make_unique<WatchHandle>(w, inbox_, std::move(requestSweep), inbox_->notifier);
}

void WatchHub::stop() {
  {
    std::lock_guard<std::mutex> lock(stopOnce_);
    if (stopped_) return;
    stopped_ = true;
  }
  {
    std::lock_guard<std::mutex> lock(inbox_->mu);
    inbox_->stopping = true;
  }
  inbox_->cv.notify_one();
  thread_.join();
}

namespace {

// Runs w's callback for `e` if its key matches; w.mu is held by the caller.
// Returns false once the watcher is finished (callback said so, or its handle was
// destroyed meanwhile).
bool deliver(WatchHub::Watcher& w, const Event& e);

}  // namespace

void WatchHub::run() {
  nameThisThread("store-watch");
  for (;;) {
    std::deque<Message> messages;
    bool stopping = false;
    bool sweepNow = false;
    {
      std::unique_lock<std::mutex> lock(inbox_->mu);
      inbox_->cv.wait(
          lock, [&] { return !inbox_->messages.empty() || inbox_->stopping || inbox_->needSweep; });
      messages.swap(inbox_->messages);
      stopping = inbox_->stopping;
      sweepNow = inbox_->needSweep;
      inbox_->needSweep = false;
    }
    for (Message& m : messages) {
      if (m.watcher) {
        handleAdd(m.watcher);
      } else {
        handleBatch(m.events);
      }
    }
    if (sweepNow || !messages.empty()) sweep();
    if (stopping) {
      // Everything committed before stop() has been delivered above.
      Error closing = makeError(Code::kUnavailable, "storage is shutting down");
      for (auto& w : live_) {
        std::lock_guard<std::mutex> lock(w->mu);
        if (w->done) continue;
        w->done = true;
        try {
          if (w->onEnd) w->onEnd(closing);
        } catch (...) {
        }
      }
      live_.clear();
      liveCount_ = 0;
      return;
    }
  }
}

namespace {

bool deliver(WatchHub::Watcher& w, const Event& e) {
  if (w.done) return false;
  if (!hasPrefix(e.record.key, w.prefix)) return true;
  bool keep = false;
  try {
    keep = w.onEvent(e);
  } catch (const std::exception& ex) {
    logWarn("watch callback threw; ending the watch", {{"error", ex.what()}});
  } catch (...) {
    logWarn("watch callback threw; ending the watch");
  }
  if (!keep) w.done = true;
  return !w.done;
}

}  // namespace

void WatchHub::handleBatch(std::vector<Event>& events) {
  if (events.empty()) return;
  const Revision last = revisionOf(events.back());
  for (auto& w : live_) {
    if (w->done) continue;
    std::lock_guard<std::mutex> lock(w->mu);
    for (const Event& e : events) {
      if (revisionOf(e) <= w->through) continue;  // already replayed from the log
      if (!deliver(*w, e)) break;
    }
    w->through = std::max(w->through, last);
  }
  for (Event& e : events) ring_.push_back(std::move(e));
  published_ = last;
  while (ring_.size() > ringSize_) {
    ringFloor_ = revisionOf(ring_.front());
    ring_.pop_front();
  }
  if (ring_.empty()) ringFloor_ = published_;
}

void WatchHub::handleAdd(const std::shared_ptr<Watcher>& w) {
  struct Uncount {  // unless the watcher goes live (then sweep() does it)
    WatchHub* hub;
    Watcher* w;
    ~Uncount() {
      if (w) hub->uncount(*w);
    }
  } uncount{this, w.get()};
  std::unique_lock<std::mutex> lock(w->mu);
  if (w->done) return;
  for (const Event& e : w->replay) {
    if (!deliver(*w, e)) return;
  }
  w->replay.clear();
  w->replay.shrink_to_fit();

  if (w->through < ringFloor_.load()) {
    // The ring moved past this watcher between watch() and now: fetch the gap.
    Revision snapshot = 0;
    std::vector<Event> missing;
    Status s = reader_(w->prefix, w->through, &snapshot, &missing);
    if (!s) {
      w->done = true;
      try {
        if (w->onEnd) w->onEnd(s.error());
      } catch (...) {
      }
      return;
    }
    for (const Event& e : missing) {
      if (revisionOf(e) > w->through && !deliver(*w, e)) return;
    }
    w->through = std::max(w->through, snapshot);
  }

  auto it = std::upper_bound(ring_.begin(), ring_.end(), w->through,
                             [](Revision r, const Event& e) { return r < revisionOf(e); });
  for (; it != ring_.end(); ++it) {
    if (!deliver(*w, *it)) return;
  }
  w->through = std::max(w->through, published_);
  lock.unlock();
  uncount.w = nullptr;
  live_.push_back(w);
  liveCount_ = live_.size();
}

void WatchHub::sweep() {
  auto end = std::remove_if(live_.begin(), live_.end(), [this](const std::shared_ptr<Watcher>& w) {
    if (!w->done) return false;
    // Release what the callbacks captured (connections, buffers) now, not when
    // the last handle goes.
    {
      std::lock_guard<std::mutex> lock(w->mu);
      w->onEvent = nullptr;
      w->onEnd = nullptr;
    }
    uncount(*w);
    return true;
  });
  live_.erase(end, live_.end());
  liveCount_ = live_.size();
}

}  // namespace skiff::storage
