// Events (core/v1) about objects, as Kubernetes' components record them for
// `kubectl describe` and `kubectl get events`: the scheduler's Scheduled and
// FailedScheduling, the kubelet's Pulled, Created, Started, Killing, BackOff
// and its failures.
//
// record() only queues: a thread of the recorder's own, with a RestClient of
// its own, writes the events, so a caller never waits for the API server.
// A repeat (same object, type, reason and message) within ten minutes raises
// the first event's count and lastTimestamp instead of writing another, as
// client-go's event correlator does, so a pod retrying every few seconds
// shows one line "(x12 over 1m)". At most kMaxQueued events wait; more are
// dropped, and the drop logged. An API server without events (404 for the
// resource) stops the recording.
//
// Thread-safe: record() from any thread.
#pragma once

#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "api/json.h"
#include "client/kubeconfig.h"

namespace skiff::client {

class RestClient;

class EventRecorder {
 public:
  static constexpr size_t kMaxQueued = 1000;

  // `component` names the recorder in source.component and
  // reportingComponent ("kubelet", "default-scheduler"); `host` in
  // source.host and reportingInstance (the node), when not empty.
  EventRecorder(ClientConfig config, std::string component, std::string host = "");
  // Finishes the event being written; drops those still queued.
  ~EventRecorder();
  EventRecorder(const EventRecorder&) = delete;
  EventRecorder& operator=(const EventRecorder&) = delete;

  // An event about `object` (a stored object: its apiVersion, kind and
  // metadata name the involvedObject). `type` is "Normal" or "Warning".
  void record(const api::Json& object, const std::string& type, const std::string& reason,
              const std::string& message);
  // Waits until every event recorded so far was written (or failed). For tests.
  void flush();

 private:
  struct Pending {
    api::Json involved;  // involvedObject
    std::string type, reason, message, time;
  };
  struct Written {
    std::string ns, name;  // the event object
    int64_t count = 0;
    std::chrono::steady_clock::time_point at;
  };

  void run();
  void write(const Pending& p);

  const std::string component_, host_;
  std::unique_ptr<RestClient> client_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> queue_;  // guarded by mu_
  bool writing_ = false;       // guarded by mu_: the thread holds an event
  bool stopping_ = false;      // guarded by mu_
  bool dropLogged_ = false;    // guarded by mu_

  // The writer thread's own: the last event written per repeat key, and
  // whether the API server has events at all.
  std::map<std::string, Written> written_;
  bool supported_ = true;
  std::thread thread_;
};

}  // namespace skiff::client
