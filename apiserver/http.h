// The seam between the HTTP transport (http_server.*, Boost.Beast over TLS) and
// the REST logic (handlers): a parsed Request in, a ResponseWriter out.
//
// A handler may answer at once or later from another thread (e.g. once a write
// is durable), and may stream (watch, logs): ResponseWriter is thread-safe; every
// call is marshalled onto the connection's strand.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace skiff::apiserver {

struct Request {
  std::string method;  // "GET", "POST", "PUT", "PATCH", "DELETE"
  std::string target;  // raw request target, "/api/v1/pods?watch=1"
  std::string path;    // decoded path without the query, "/api/v1/pods"
  // Decoded query parameters; a repeated key keeps every value in order.
  std::multimap<std::string, std::string> query;
  // Header names lower-cased.
  std::map<std::string, std::string> headers;
  std::string body;
  std::string user;        // authenticated user name ("admin"); empty for anonymous
  std::string remoteAddr;  // "127.0.0.1:53412"

  // First value of a query parameter, or `fallback`.
  std::string param(std::string_view key, std::string_view fallback = "") const;
  bool hasParam(std::string_view key) const;
  // A boolean query parameter as Go's strconv.ParseBool reads it, which is what
  // Kubernetes uses: "1", "t", "T", "true", "TRUE", "True" are true (the Python
  // client sends watch=True).
  bool flag(std::string_view key) const;
  // Header value (name lower-case), or "".
  std::string header(std::string_view lowerName) const;
};

// The Status a tunnel answers when its peer cannot be reached: `prefix`: dial
// tcp HOST:PORT: REASON. Kubernetes' apiserver says "error dialing backend"
// (500) of a kubelet and "error trying to reach service" (503) of a pod it
// proxies to.
struct DialFailure {
  int status = 500;
  std::string reason = "InternalError";
  std::string prefix = "error dialing backend";
};

class ResponseWriter {
 public:
  virtual ~ResponseWriter() = default;

  // A whole response. Call once, and not after startStream().
  virtual void respond(int status, std::string_view contentType, std::string body,
                       std::vector<std::pair<std::string, std::string>> headers = {}) = 0;

  // A streamed response (chunked transfer encoding); then write() any number of
  // times and end() once.
  virtual void startStream(int status, std::string_view contentType) = 0;
  // Queues a chunk. Returns false when the client has gone, or when more than the
  // connection's output limit is queued and unsent (a slow client): the caller
  // should stop producing; the connection is then closed.
  virtual bool write(std::string chunk) = 0;
  virtual void end() = 0;

  // Hands the connection to a TCP peer, as an upgrade-aware reverse proxy
  // (how pods/log and pods/exec reach the kubelet): the transport connects to
  // host:port (an IP address), sends `head` — a complete request the handler
  // built — then copies bytes both ways, unchanged, until either side closes.
  // Whatever the peer answers (200 with a body delimited by its close, a 101
  // upgrade and WebSocket frames, an error Status) goes to the client as is;
  // the connection is not reused afterwards. Call instead of respond() or
  // startStream(). When the peer cannot be reached the client gets the Status
  // `dialFailure` describes ("error dialing backend: dial tcp ...: connection
  // refused", 500, by default). Transports without it answer 501.
  virtual void tunnel(std::string host, uint16_t port, std::string head,
                      DialFailure dialFailure = {}) {
    (void)host;
    (void)port;
    (void)head;
    (void)dialFailure;
    respond(501, "application/json",
            R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)"
            R"("message":"this transport cannot proxy connections","reason":"InternalError",)"
            R"("code":501})");
  }

  // True once the client disconnected or the response ended.
  virtual bool closed() const = 0;
  // Runs once when the connection closes (client gone, server stopping, or after
  // end()). Runs at once if already closed. Used to cancel watches.
  virtual void onClose(std::function<void()> callback) = 0;
};

using Handler = std::function<void(Request request, std::shared_ptr<ResponseWriter> writer)>;

}  // namespace skiff::apiserver
