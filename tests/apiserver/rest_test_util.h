// Test harness for the REST API: a real Store in a temp directory (fsync off),
// a RestApi over it, and a fake ResponseWriter that records what the handler
// sends, so tests drive RestApi::handle() exactly as the transport does.
#pragma once

#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "api/json.h"
#include "apiserver/http.h"
#include "apiserver/rest.h"
#include "storage/store.h"

namespace skiff::apiserver::testing {

using api::Json;

class FakeWriter : public ResponseWriter {
 public:
  void respond(int status, std::string_view contentType, std::string body,
               std::vector<std::pair<std::string, std::string>> headers) override {
    std::vector<std::function<void()>> callbacks;
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++responds_;
      status_ = status;
      contentType_ = contentType;
      body_ = std::move(body);
      headers_ = std::move(headers);
      done_ = true;
      closed_ = true;
      callbacks.swap(onClose_);
    }
    cv_.notify_all();
    for (auto& cb : callbacks) cb();
  }
  void startStream(int status, std::string_view contentType) override {
    std::lock_guard<std::mutex> lock(mu_);
    status_ = status;
    contentType_ = contentType;
    streaming_ = true;
    cv_.notify_all();
  }
  bool write(std::string chunk) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_ || refuse_) return false;
    body_ += chunk;
    cv_.notify_all();
    return true;
  }
  void end() override {
    std::vector<std::function<void()>> callbacks;
    {
      std::lock_guard<std::mutex> lock(mu_);
      ended_ = true;
      closed_ = true;
      callbacks.swap(onClose_);
    }
    cv_.notify_all();
    for (auto& cb : callbacks) cb();
  }
  bool closed() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return closed_;
  }
  void onClose(std::function<void()> callback) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!closed_) {
        onClose_.push_back(std::move(callback));
        return;
      }
    }
    callback();
  }

  // Test side.
  bool waitDone(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return done_; });
  }
  // Waits until the stream holds at least n lines; returns them.
  std::vector<std::string> waitLines(size_t n,
                                     std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, timeout, [&] { return splitLines(body_).size() >= n || ended_; });
    return splitLines(body_);
  }
  bool waitEnded(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return ended_; });
  }
  void disconnect() {
    std::vector<std::function<void()>> callbacks;
    {
      std::lock_guard<std::mutex> lock(mu_);
      closed_ = true;
      callbacks.swap(onClose_);
    }
    for (auto& cb : callbacks) cb();
  }
  void refuseWrites() {
    std::lock_guard<std::mutex> lock(mu_);
    refuse_ = true;
  }
  int status() {
    std::lock_guard<std::mutex> lock(mu_);
    return status_;
  }
  std::string body() {
    std::lock_guard<std::mutex> lock(mu_);
    return body_;
  }
  std::string contentType() {
    std::lock_guard<std::mutex> lock(mu_);
    return contentType_;
  }
  std::vector<std::pair<std::string, std::string>> headers() {
    std::lock_guard<std::mutex> lock(mu_);
    return headers_;
  }
  int responds() {
    std::lock_guard<std::mutex> lock(mu_);
    return responds_;
  }

  static std::vector<std::string> splitLines(const std::string& s) {
    std::vector<std::string> out;
    size_t i = 0;
    while (true) {
      size_t j = s.find('\n', i);
      if (j == std::string::npos) break;
      out.push_back(s.substr(i, j - i));
      i = j + 1;
    }
    return out;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  int status_ = 0;
  int responds_ = 0;
  std::string contentType_;
  std::string body_;
  std::vector<std::pair<std::string, std::string>> headers_;
  bool done_ = false, streaming_ = false, ended_ = false, closed_ = false, refuse_ = false;
  std::vector<std::function<void()>> onClose_;
};

struct Response {
  int status = 0;
  std::string contentType;
  std::string body;
  Json json;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string header(const std::string& name) const {
    for (const auto& [k, v] : headers)
      if (k == name) return v;
    return "";
  }
};

inline std::string percentDecode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else if (s[i] == '+') {
      out += ' ';
    } else {
      out += s[i];
    }
  }
  return out;
}

inline Request makeRequest(const std::string& method, const std::string& target,
                           const std::string& body = "",
                           std::map<std::string, std::string> headers = {}) {
  Request r;
  r.method = method;
  r.target = target;
  auto q = target.find('?');
  r.path = target.substr(0, q);
  if (q != std::string::npos) {
    std::string query = target.substr(q + 1);
    size_t i = 0;
    while (i <= query.size()) {
      size_t j = query.find('&', i);
      if (j == std::string::npos) j = query.size();
      std::string kv = query.substr(i, j - i);
      if (!kv.empty()) {
        auto eq = kv.find('=');
        r.query.emplace(percentDecode(kv.substr(0, eq)),
                        eq == std::string::npos ? "" : percentDecode(kv.substr(eq + 1)));
      }
      i = j + 1;
    }
  }
  r.headers = std::move(headers);
  if (!body.empty() && !r.headers.count("content-type"))
    r.headers["content-type"] = "application/json";
  r.body = body;
  r.user = "admin";
  r.remoteAddr = "127.0.0.1:1";
  return r;
}

class Cluster {
 public:
  explicit Cluster(RestOptions options = {}) {
    char tmpl[] = "/tmp/skiff-rest-test-XXXXXX";
    dir_ = mkdtemp(tmpl);
    storage::Store::Options so;
    so.fsync = false;
    so.compactIntervalSeconds = 0;
    auto s = storage::Store::open(dir_ + "/state.db", so);
    if (!s) fail("open store: " + s.error().message);
    store = std::move(*s);
    auto a = RestApi::create(*store, options);
    if (!a) fail("create rest api: " + a.error().message);
    api = std::move(*a);
  }
  // A failed constructor gets no destructor: clean up before throwing.
  [[noreturn]] void fail(const std::string& why) {
    store.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    throw std::runtime_error(why);
  }
  ~Cluster() {
    api.reset();
    store.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  Response call(const std::string& method, const std::string& target, const std::string& body = "",
                std::map<std::string, std::string> headers = {}) {
    auto w = std::make_shared<FakeWriter>();
    api->handle(makeRequest(method, target, body, std::move(headers)), w);
    if (!w->waitDone()) throw std::runtime_error("no response to " + method + " " + target);
    Response r;
    r.status = w->status();
    r.contentType = w->contentType();
    r.body = w->body();
    r.headers = w->headers();
    r.json = Json::parse(r.body, nullptr, false);
    return r;
  }
  Response get(const std::string& t, std::map<std::string, std::string> h = {}) {
    return call("GET", t, "", std::move(h));
  }
  Response post(const std::string& t, const Json& body) { return call("POST", t, body.dump()); }
  Response put(const std::string& t, const Json& body) { return call("PUT", t, body.dump()); }
  Response patch(const std::string& t, const std::string& type, const Json& body) {
    return call("PATCH", t, body.dump(), {{"content-type", type}});
  }
  Response del(const std::string& t, const std::string& body = "") {
    return call("DELETE", t, body);
  }

  // Starts a streaming request (watch); the writer keeps receiving.
  std::shared_ptr<FakeWriter> stream(const std::string& target,
                                     std::map<std::string, std::string> headers = {}) {
    auto w = std::make_shared<FakeWriter>();
    api->handle(makeRequest("GET", target, "", std::move(headers)), w);
    return w;
  }

  std::unique_ptr<storage::Store> store;
  std::unique_ptr<RestApi> api;

 private:
  std::string dir_;
};

inline Json pod(const std::string& name, const std::string& ns = "default",
                Json labels = Json::object()) {
  Json p = {{"apiVersion", "v1"},
            {"kind", "Pod"},
            {"metadata", {{"name", name}}},
            {"spec", {{"containers", {{{"name", "c"}, {"image", "busybox"}}}}}}};
  if (!ns.empty()) p["metadata"]["namespace"] = ns;
  if (!labels.empty()) p["metadata"]["labels"] = labels;
  return p;
}

inline Json service(const std::string& name, const std::string& type = "ClusterIP",
                    Json ports = Json()) {
  if (ports.is_null()) ports = Json::array({{{"port", 80}, {"targetPort", 8080}}});
  return {{"apiVersion", "v1"},
          {"kind", "Service"},
          {"metadata", {{"name", name}}},
          {"spec", {{"type", type}, {"selector", {{"app", name}}}, {"ports", ports}}}};
}

}  // namespace skiff::apiserver::testing
