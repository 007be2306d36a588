#include "client/event_recorder.h"

#include <chrono>
#include <cstdio>

#include "api/time.h"
#include "base/log.h"
#include "base/thread.h"
#include "client/rest_client.h"

namespace skiff::client {

using api::Json;
using api::lenient::field;
using api::lenient::str;

namespace {

constexpr auto kRepeatWindow = std::chrono::minutes(10);
constexpr size_t kMaxRemembered = 4096;

}  // namespace

EventRecorder::EventRecorder(ClientConfig config, std::string component, std::string host)
    : component_(std::move(component)),
      host_(std::move(host)),
      client_(std::make_unique<RestClient>(std::move(config))) {
  thread_ = std::thread([this] { run(); });
}

EventRecorder::~EventRecorder() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void EventRecorder::record(const Json& object, const std::string& type, const std::string& reason,
                           const std::string& message) {
  Pending p;
  const Json& md = field(object, "metadata");
  p.involved = {{"apiVersion", str(object, "apiVersion")},
                {"kind", str(object, "kind")},
                {"name", str(md, "name")},
                {"uid", str(md, "uid")},
                {"resourceVersion", str(md, "resourceVersion")}};
  std::string ns = str(md, "namespace");
  if (!ns.empty()) p.involved["namespace"] = ns;
  p.type = type;
  p.reason = reason;
  p.message = message;
  p.time = api::nowRfc3339();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    if (queue_.size() >= kMaxQueued) {
      if (!dropLogged_) logWarn("event queue full; dropping events", {{"reason", reason}});
      dropLogged_ = true;
      return;
    }
    queue_.push_back(std::move(p));
  }
  cv_.notify_all();
}

void EventRecorder::flush() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return (queue_.empty() && !writing_) || stopping_; });
}

void EventRecorder::run() {
  nameThisThread("events");
  skipThreadCache();  // it mostly waits (base/thread.h)
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (stopping_) {
      queue_.clear();  // a stopping component waits for no server
      break;
    }
    Pending p = std::move(queue_.front());
    queue_.pop_front();
    writing_ = true;
    lock.unlock();
    if (supported_) write(p);
    lock.lock();
    writing_ = false;
    if (queue_.empty()) dropLogged_ = false;
    cv_.notify_all();
  }
}

void EventRecorder::write(const Pending& p) {
  const std::string ns = p.involved.contains("namespace")
                             ? p.involved["namespace"].get<std::string>()
                             : std::string("default");
  const std::string objectName = p.involved["name"].get<std::string>();
  const std::string key = p.involved["uid"].get<std::string>() + "\n" + objectName + "\n" + p.type +
                          "\n" + p.reason + "\n" + p.message;
  const auto now = std::chrono::steady_clock::now();

  // A repeat: raise the count of the event written before.
  if (auto it = written_.find(key); it != written_.end() && now - it->second.at < kRepeatWindow) {
    Written& w = it->second;
    Json patch = {{"count", w.count + 1}, {"lastTimestamp", p.time}};
    auto r = client_->patch("/api/v1/namespaces/" + w.ns + "/events/" + w.name, patch, kMergePatch);
    if (r) {
      ++w.count;
      w.at = now;
      return;
    }
    if (r.error().code != Code::kNotFound) {
      logWarn("event update failed", {{"event", w.name}, {"error", r.error().message}});
      return;
    }
    written_.erase(it);  // deleted meanwhile: write it anew
  }

  char suffix[24];
  std::snprintf(
      suffix, sizeof suffix, "%llx",
      static_cast<unsigned long long>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count()));
  const std::string name = objectName + "." + suffix;
  Json source = {{"component", component_}};
  if (!host_.empty()) source["host"] = host_;
  Json event = {{"apiVersion", "v1"},
                {"kind", "Event"},
                {"metadata", {{"name", name}, {"namespace", ns}}},
                {"involvedObject", p.involved},
                {"reason", p.reason},
                {"message", p.message},
                {"type", p.type},
                {"source", source},
                {"reportingComponent", component_},
                {"reportingInstance", host_},
                {"firstTimestamp", p.time},
                {"lastTimestamp", p.time},
                {"count", 1}};
  auto r = client_->post("/api/v1/namespaces/" + ns + "/events", event);
  if (!r) {
    if (r.error().code == Code::kNotFound && r.error().kind != "namespaces") {
      supported_ = false;
      logInfo("events not supported by the apiserver; not recording events");
    } else {
      logWarn(
          "event create failed",
          {{"object", ns + "/" + objectName}, {"reason", p.reason}, {"error", r.error().message}});
    }
    return;
  }
  if (written_.size() >= kMaxRemembered) {
    for (auto it = written_.begin(); it != written_.end();) {
      it = now - it->second.at >= kRepeatWindow ? written_.erase(it) : std::next(it);
    }
    if (written_.size() >= kMaxRemembered) written_.clear();
  }
  written_[key] = Written{ns, name, 1, now};
}

}  // namespace skiff::client
