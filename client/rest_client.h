// RestClient: the Kubernetes REST API over libcurl, raw JSON in and out.
//
// One client talks to one server as one user (a ClientConfig from the
// kubeconfig): HTTPS verified against the kubeconfig's CA, bearer token or
// client certificate. Requests reuse one curl easy handle so the TLS connection
// stays alive between calls; a mutex serialises them, so a RestClient may be
// shared by threads (each request holds the lock for its whole exchange).
// watch() uses a handle of its own and blocks the calling thread until the
// stream ends or the callback says stop.
//
// Errors:
//   - a response with status >= 400 becomes an Error decoded from the
//     Kubernetes Status body (code from Status.reason, message, details.name/
//     kind/group/causes); isServerError() is true for those.
//   - the server unreachable: kUnavailable with kubectl's text
//     "The connection to the server HOST:PORT was refused - did you specify the
//     right host or port?" (or "Unable to connect to the server: ..."),
//     isServerError() false.
// renderError() prints any Error as kubectl does.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "api/json.h"
#include "base/result.h"
#include "client/kubeconfig.h"

namespace skiff::client {

using api::Json;

struct Response {
  int status = 0;
  std::string body;
  std::string contentType;
  std::vector<std::string> warnings;  // Warning headers, text only ("unknown field ...")
};

// Content types for PATCH.
inline constexpr const char* kMergePatch = "application/merge-patch+json";
inline constexpr const char* kStrategicMergePatch = "application/strategic-merge-patch+json";
inline constexpr const char* kJsonPatch = "application/json-patch+json";
// Accept header asking for a server-side Table (kubectl's).
inline constexpr const char* kAcceptTable =
    "application/json;as=Table;v=v1;g=meta.k8s.io,application/"
    "json;as=Table;v=v1beta1;g=meta.k8s.io,"
    "application/json";

class RestClient {
 public:
  explicit RestClient(ClientConfig config);
  ~RestClient();
  RestClient(const RestClient&) = delete;
  RestClient& operator=(const RestClient&) = delete;

  const ClientConfig& config() const { return config_; }
  // "127.0.0.1:6443"
  std::string hostPort() const;

  // One request. `path` starts with '/' and may carry a query. Transport
  // failures are Errors; any HTTP status (even 404) is a Response.
  Result<Response> request(const std::string& method, const std::string& path,
                           const std::string& body = "", const std::string& contentType = "",
                           const std::string& accept = "application/json");

  // JSON helpers: a status >= 400 becomes the decoded Status Error. Warning
  // headers of the last call are kept in lastWarnings() (per thread is not
  // needed: the CLI is single-threaded; reads race with concurrent requests).
  Result<Json> get(const std::string& path, const std::string& accept = "application/json");
  Result<Json> post(const std::string& path, const Json& body);
  Result<Json> put(const std::string& path, const Json& body);
  Result<Json> patch(const std::string& path, const Json& body, const std::string& patchType);
  Result<Json> del(const std::string& path, const Json& options = Json());
  std::vector<std::string> lastWarnings() const;

  // Streams a watch: GET path (which should carry watch=1) and calls `onLine`
  // with each newline-terminated JSON event ({"type":..,"object":..}); return
  // false from it to stop. Returns when the server ends the stream, on
  // transport error, or after a false. `timeoutSeconds` > 0 bounds the whole
  // stream (the Status ok in that case).
  // `cancel`, when given, is polled about once a second (and on every chunk):
  // once true the stream is closed and watch() returns ok.
  Status watch(const std::string& path, const std::function<bool(const Json&)>& onEvent,
               int timeoutSeconds = 0, const std::string& accept = "application/json",
               const std::atomic<bool>* cancel = nullptr);

 private:
  Result<Response> perform(void* curl, const std::string& method, const std::string& path,
                           const std::string& body, const std::string& contentType,
                           const std::string& accept,
                           const std::function<bool(const std::string&)>* onChunk,
                           int timeoutSeconds);
  void configure(void* curl);

  ClientConfig config_;
  mutable std::mutex mu_;
  void* curl_ = nullptr;                   // guarded by mu_
  std::vector<std::string> lastWarnings_;  // guarded by mu_
};

// Decodes a non-2xx response into an Error (Status body when there is one).
Error errorFromResponse(const Response& response);
// True for Errors decoded from a server's Status (kubectl's "Error from server").
bool isServerError(const Error& e);
// kubectl's rendering, one or more lines, no trailing newline:
//   server Status:  `Error from server (NotFound): pods "x" not found`
//   401:            `error: You must be logged in to the server (Unauthorized)`
//   anything else:  `error: <message>` (or the connection text as is)
// `context` is inserted after the reason, as kubectl's `error when creating "f": `.
std::string renderError(const Error& e, const std::string& context = "");

}  // namespace skiff::client
