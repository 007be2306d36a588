#include "apiserver/watch.h"

#include <map>
#include <set>

#include "apiserver/api_errors.h"
#include "apiserver/registry.h"
#include "base/log.h"
#include "base/thread.h"

namespace skiff::apiserver {

using api::Json;
using Clock = std::chrono::steady_clock;

class WatchStream {
 public:
  WatchStream(WatchRequest request, std::shared_ptr<ResponseWriter> writer)
      : req_(std::move(request)), writer_(std::move(writer)) {}

  const WatchRequest req_;
  const std::shared_ptr<ResponseWriter> writer_;
  std::atomic<bool> clientGone_{false};

  std::mutex mu_;  // guards everything below
  std::unique_ptr<storage::Watch> storeWatch_;
  bool done_ = false;
  storage::Revision lastRv_ = 0;
  bool tableHeaderSent_ = false;
  std::set<std::string> matching_;  // keys currently selected (selective watches)
  std::optional<Clock::time_point> deadline_;
  Clock::time_point nextBookmark_;

  // Derived objects the client holds, by the key of the stored object they
  // come from (derived watches only): what a change of that object adds,
  // modifies or deletes.
  std::map<std::string, std::vector<Json>> shown_;

  bool selective() const { return req_.labels.has_value() || req_.fields.has_value(); }
  bool derived() const { return req_.resource->derive != nullptr; }
  bool parsed() const { return selective() || req_.table || derived(); }

  // The objects of a derived resource that the stored object `source` shows
  // and the selectors take.
  std::vector<Json> derivedMatches(const Json& source) const {
    std::vector<Json> out;
    if (!source.is_object()) return out;
    for (Json& obj : req_.resource->derive(source))
      if (matches(obj)) out.push_back(std::move(obj));
    return out;
  }

  bool matches(const Json& obj) const { return api::selects(req_.labels, req_.fields, obj); }

  // The event's "object" text.
  std::string objectText(const Json& obj) {
    if (!req_.table) return api::dumpJson(obj);
    api::TableOptions opts;
    opts.includeObject = req_.includeObject;
    Json t = api::toTable(req_.resource->plural, {obj}, Json::object(), opts);
    if (tableHeaderSent_) t.erase("columnDefinitions");
    tableHeaderSent_ = true;
    return api::dumpJson(t);
  }

  static std::string line(const char* type, const std::string& objectText) {
    std::string s;
    s.reserve(objectText.size() + 32);
    s += "{\"type\":\"";
    s += type;
    s += "\",\"object\":";
    s += objectText;
    s += "}\n";
    return s;
  }

  bool sendLocked(std::string chunk) {
    if (done_) return false;
    if (clientGone_ || !writer_->write(std::move(chunk))) {
      done_ = true;
      return false;
    }
    return true;
  }

  std::string bookmarkText(storage::Revision rv, bool initialEnd) const {
    Json md = {{"resourceVersion", std::to_string(rv)}};
    if (initialEnd) md["annotations"] = {{"k8s.io/initial-events-end", "true"}};
    Json o = {{"kind", req_.resource->kind},
              {"apiVersion", req_.resource->apiVersion()},
              {"metadata", md}};
    return line("BOOKMARK", o.dump());
  }

  // A derived watch's events for a change of the stored object at `ev`'s key:
  // ADDED or MODIFIED for what it shows now, DELETED (at the change's
  // revision) for what it showed and no longer does. mu_ held.
  bool onDerivedEvent(const storage::Event& ev) {
    const storage::Revision rv = ev.record.modRevision;
    std::vector<Json> now;
    if (ev.type != storage::Event::Type::kDeleted)
      now = derivedMatches(api::parseStoredJson(ev.record.value));
    std::vector<Json> before;
    if (auto it = shown_.find(ev.record.key); it != shown_.end()) {
      before = std::move(it->second);
      shown_.erase(it);
    }
    auto named = [](const std::vector<Json>& list, const Json& obj) {
      for (const Json& o : list)
        if (o["metadata"]["name"] == obj["metadata"]["name"]) return true;
      return false;
    };
    std::string chunk;
    for (const Json& obj : now)
      chunk += line(named(before, obj) ? "MODIFIED" : "ADDED", objectText(obj));
    for (Json& old : before) {
      if (named(now, old)) continue;
      old["metadata"]["resourceVersion"] = std::to_string(rv);
      chunk += line("DELETED", objectText(old));
    }
    if (!now.empty()) shown_[ev.record.key] = std::move(now);
    lastRv_ = rv;
    return chunk.empty() || sendLocked(std::move(chunk));
  }

  // Store notifier thread.
  bool onEvent(const storage::Event& ev) {
    std::lock_guard<std::mutex> lock(mu_);
    if (done_) return false;
    if (derived()) return onDerivedEvent(ev);
    storage::Revision rv = ev.record.modRevision;
    const char* type = ev.type == storage::Event::Type::kCreated   ? "ADDED"
                       : ev.type == storage::Event::Type::kUpdated ? "MODIFIED"
                                                                   : "DELETED";
    std::string chunk;
    if (!parsed() && ev.type != storage::Event::Type::kDeleted) {
      chunk = line(type, ev.record.value);
    } else {
      Json obj = api::parseStoredJson(ev.record.value);
      if (obj.is_discarded() || !obj.is_object()) {
        lastRv_ = rv;
        return true;
      }
      if (ev.type == storage::Event::Type::kDeleted)
        obj["metadata"]["resourceVersion"] = std::to_string(rv);
      if (selective()) {
        bool now = matches(obj);
        bool was = matching_.count(ev.record.key) > 0;
        switch (ev.type) {
          case storage::Event::Type::kCreated:
            type = now ? "ADDED" : nullptr;
            break;
          case storage::Event::Type::kUpdated:
            type = now ? (was ? "MODIFIED" : "ADDED") : (was ? "DELETED" : nullptr);
            break;
          case storage::Event::Type::kDeleted:
            type = (was || now) ? "DELETED" : nullptr;
            break;
        }
        if (now && ev.type != storage::Event::Type::kDeleted) {
          matching_.insert(ev.record.key);
        } else {
          matching_.erase(ev.record.key);
        }
      }
      lastRv_ = rv;
      if (!type) return true;
      chunk = line(type, objectText(obj));
    }
    lastRv_ = rv;
    return sendLocked(std::move(chunk));
  }

  void onEnd(const Error& error) {
    std::lock_guard<std::mutex> lock(mu_);
    if (done_) return;
    sendLocked(line("ERROR", statusJson(error).dump()));
    writer_->end();
    done_ = true;
  }
};

WatchHub::WatchHub(storage::Store& store, std::chrono::milliseconds bookmarkInterval)
    : store_(store), bookmarkInterval_(bookmarkInterval) {
  ticker_ = std::thread([this] { tick(); });
}

WatchHub::~WatchHub() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  ticker_.join();
  for (auto& s : streams_) {
    std::unique_ptr<storage::Watch> w;
    {
      std::lock_guard<std::mutex> lock(s->mu_);
      if (!s->done_) {
        s->writer_->end();
        s->done_ = true;
      }
      w = std::move(s->storeWatch_);
    }
    w.reset();
  }
}

void WatchHub::setBookmarkInterval(std::chrono::milliseconds interval) {
  std::lock_guard<std::mutex> lock(mu_);
  bookmarkInterval_ = interval;
}

size_t WatchHub::active() {
  std::lock_guard<std::mutex> lock(mu_);
  size_t n = 0;
  for (auto& s : streams_)
    if (!s->clientGone_) ++n;
  return n;
}

void WatchHub::start(WatchRequest request, std::shared_ptr<ResponseWriter> writer) {
  auto stream = std::make_shared<WatchStream>(std::move(request), writer);
  const WatchRequest& req = stream->req_;
  std::chrono::milliseconds interval;
  {
    std::lock_guard<std::mutex> lock(mu_);
    interval = bookmarkInterval_;
  }
  storage::Revision from = req.after;
  {
    std::lock_guard<std::mutex> lock(stream->mu_);
    if (req.timeoutSeconds > 0)
      stream->deadline_ = Clock::now() + std::chrono::seconds(req.timeoutSeconds);
    stream->nextBookmark_ = Clock::now() + interval;
    if (!req.initialState && req.after < store_.compactedRevision()) {
      writer->startStream(200, "application/json");
      Error e = makeError(Code::kGone, "too old resource version: " + std::to_string(req.after) +
                                           " (" + std::to_string(store_.compactedRevision()) + ")");
      stream->sendLocked(WatchStream::line("ERROR", statusJson(e).dump()));
      writer->end();
      return;
    }
    // The current state: synthetic ADDED events (initial), or just which keys
    // the selectors hold (so later transitions come out right).
    if (req.initialState || stream->selective() || stream->derived()) {
      auto listed = store_.list(req.prefix);
      if (!listed) {
        respondError(*writer, listed.error());
        return;
      }
      writer->startStream(200, "application/json");
      std::string batch;
      for (const auto& rec : listed->items) {
        if (stream->derived()) {
          std::vector<Json> shown = stream->derivedMatches(api::parseStoredJson(rec.value));
          if (shown.empty()) continue;
          if (req.initialState)
            for (const Json& obj : shown)
              batch += WatchStream::line("ADDED", stream->objectText(obj));
          stream->shown_[rec.key] = std::move(shown);
        } else if (!stream->parsed()) {
          if (req.initialState) batch += WatchStream::line("ADDED", rec.value);
        } else {
          Json obj = api::parseStoredJson(rec.value);
          if (obj.is_discarded()) continue;
          if (stream->selective() && !stream->matches(obj)) continue;
          stream->matching_.insert(rec.key);
          if (req.initialState) batch += WatchStream::line("ADDED", stream->objectText(obj));
        }
        if (batch.size() > (1 << 20)) {
          stream->sendLocked(std::move(batch));
          batch.clear();
        }
      }
      if (req.initialState) {
        from = listed->revision;
        stream->lastRv_ = from;
        if (req.initialEventsEndBookmark && req.bookmarks)
          batch += stream->bookmarkText(from, true);
      }
      if (!batch.empty()) stream->sendLocked(std::move(batch));
    } else {
      writer->startStream(200, "application/json");
      stream->lastRv_ = req.after;
    }
    if (stream->done_) return;
  }
  std::weak_ptr<WatchStream> weak = stream;
  WatchStream* raw = stream.get();
  auto watch = store_.watch(
      req.prefix, from, [raw](const storage::Event& ev) { return raw->onEvent(ev); },
      [raw](const Error& e) { raw->onEnd(e); });
  if (!watch) {
    std::lock_guard<std::mutex> lock(stream->mu_);
    Error e = watch.error();
    if (e.code == Code::kGone)
      e.message = "too old resource version: " + std::to_string(from) + " (" +
                  std::to_string(store_.compactedRevision()) + ")";
    stream->sendLocked(WatchStream::line("ERROR", statusJson(e).dump()));
    writer->end();
    stream->done_ = true;
    return;
  }
  {
    std::lock_guard<std::mutex> lock(stream->mu_);
    stream->storeWatch_ = std::move(*watch);
  }
  writer->onClose([weak] {
    if (auto s = weak.lock()) s->clientGone_ = true;
  });
  std::lock_guard<std::mutex> lock(mu_);
  streams_.push_back(stream);
}

void WatchHub::tick() {
  nameThisThread("api-watch-tick");
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, std::chrono::milliseconds(100));
    if (stopping_) break;
    auto now = Clock::now();
    std::vector<std::shared_ptr<WatchStream>> finished;
    std::vector<std::shared_ptr<WatchStream>> keep;
    for (auto& s : streams_) {
      bool done;
      {
        std::lock_guard<std::mutex> sl(s->mu_);
        if (s->clientGone_ || s->writer_->closed()) s->done_ = true;
        if (!s->done_ && s->deadline_ && now >= *s->deadline_) {
          s->writer_->end();
          s->done_ = true;
        }
        if (!s->done_ && s->req_.bookmarks && now >= s->nextBookmark_) {
          s->sendLocked(s->bookmarkText(s->lastRv_, false));
          s->nextBookmark_ = now + bookmarkInterval_;
        }
        done = s->done_;
      }
      (done ? finished : keep).push_back(s);
    }
    streams_ = std::move(keep);
    if (finished.empty()) continue;
    lock.unlock();
    for (auto& s : finished) {
      std::unique_ptr<storage::Watch> w;
      {
        std::lock_guard<std::mutex> sl(s->mu_);
        w = std::move(s->storeWatch_);
      }
      w.reset();  // outside the stream's lock: a callback may be waiting for it
    }
    finished.clear();
    lock.lock();
  }
}

}  // namespace skiff::apiserver
