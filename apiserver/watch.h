// Watch streams: one chunked response per watch, each line an event
//   {"type":"ADDED|MODIFIED|DELETED|BOOKMARK|ERROR","object":{...}}
// fed from a Store watch on the resource's key prefix.
//
// Semantics (as Kubernetes):
//   - no resourceVersion, "" or "0": synthetic ADDED events for the current
//     state, then live events from the revision that state was read at;
//   - resourceVersion N: every event after N; when N was compacted away, one
//     ERROR event carrying a 410 Expired Status ("too old resource version").
//   - label/field selectors with transitions: an object that stops matching
//     is sent as DELETED, one that starts matching as ADDED.
//   - Table watches: each object is a one-row Table; only the first event's
//     Table carries columnDefinitions.
//   - BOOKMARK events (allowWatchBookmarks) every bookmarkInterval, carrying the
//     last revision sent; timeoutSeconds ends the stream.
// Without selectors or Tables, events are built from stored text unparsed.
//
// A watcher whose writer refuses a chunk (client gone or too slow) is dropped:
// its store watch ends by returning false. Store watches are destroyed on the
// hub's own thread, never inside a store callback.
//
// Thread-safe. The hub owns one ticker thread (timeouts, bookmarks, cleanup).
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "api/selector.h"
#include "api/table.h"
#include "apiserver/http.h"
#include "apiserver/resources.h"
#include "storage/store.h"

namespace skiff::apiserver {

struct WatchRequest {
  const ResourceInfo* resource = nullptr;
  std::string prefix;           // store key prefix
  bool initialState = true;     // resourceVersion absent, "" or "0"
  storage::Revision after = 0;  // resourceVersion N (when !initialState)
  std::optional<api::LabelSelector> labels;
  std::optional<api::FieldSelector> fields;
  bool table = false;
  std::string includeObject = "Metadata";
  bool bookmarks = false;
  bool initialEventsEndBookmark = false;  // sendInitialEvents=true
  int timeoutSeconds = 0;                 // 0: until the client goes
};

class WatchStream;

class WatchHub {
 public:
  explicit WatchHub(storage::Store& store,
                    std::chrono::milliseconds bookmarkInterval = std::chrono::seconds(60));
  ~WatchHub();

  // Starts streaming to `writer` (responds at once; errors as a Status).
  void start(WatchRequest request, std::shared_ptr<ResponseWriter> writer);
  // Watches currently streaming.
  size_t active();
  void setBookmarkInterval(std::chrono::milliseconds interval);

 private:
  void tick();

  storage::Store& store_;
  std::mutex mu_;  // guards streams_, stopping_, bookmarkInterval_
  std::condition_variable cv_;
  std::vector<std::shared_ptr<WatchStream>> streams_;
  bool stopping_ = false;
  std::chrono::milliseconds bookmarkInterval_;
  std::thread ticker_;
};

}  // namespace skiff::apiserver
