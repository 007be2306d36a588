// An HTTP/1.1 server (Boost.Beast over Boost.Asio, optionally TLS) that feeds
// every parsed request to one Handler (http.h). It knows nothing of Kubernetes
// except how to word its own errors as a Kubernetes Status body (400, 413, 431,
// 500), so the apiserver, and later the kubelet, can reuse it as is.
//
// Model: each of `ioThreads` threads runs an io_context of its own, and
// accepted connections are dealt to them in turn; a connection lives on its
// thread, so it never needs a lock (nor a strand: a completion then runs at
// once, not through a strand's queue and a second trip through the
// io_context; 16 clients creating pods: ~5% more creates/s), and
// thousands of idle watch streams cost a socket and a few KiB each, never a
// thread. (One io_context run by all the threads handed every completion
// through its lock and a condition variable: 16 clients creating pods got
// about 6% fewer creates per second.)
// A handler that blocks holds up the other connections of its thread only.
// Keep-alive; no h2
// (ALPN is not offered, so Go clients such as kubectl speak HTTP/1.1).
//
// Limits: a request body above `maxBodyBytes` is answered 413 and the
// connection closed after draining what the client is still sending; headers
// above `maxHeaderBytes` get 431; a connection idle between requests for
// `idleTimeout`, or slower than `readTimeout` to send a request, is closed.
// A streamed response whose unsent output exceeds `maxQueuedOutput` is a slow
// client: ResponseWriter::write() returns false and the connection is closed.
//
// The handler runs on the connection's I/O thread; it must not
// block for long — answer later from another thread instead. An exception
// escaping it becomes a 500 Status; a handler that drops its writer without
// answering gets a 500 too.
//
// Thread-safety: start() and stop() from any thread; stop() is idempotent and
// runs from the destructor. After stop(), writers still held by handlers are
// inert (closed() is true, write() returns false).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "apiserver/http.h"
#include "base/result.h"

namespace skiff::apiserver {

struct HttpLimits {
  size_t maxBodyBytes = 3 * 1024 * 1024;  // Kubernetes' request body limit
  uint32_t maxHeaderBytes = 64 * 1024;
  size_t maxQueuedOutput = 4 * 1024 * 1024;
  std::chrono::milliseconds idleTimeout{std::chrono::seconds(90)};
  std::chrono::milliseconds readTimeout{std::chrono::seconds(60)};
  std::chrono::milliseconds writeTimeout{std::chrono::seconds(60)};
  std::chrono::milliseconds handshakeTimeout{std::chrono::seconds(10)};
};

// PEM files for the server side of TLS: the certificate chain (leaf first) and
// its private key.
struct TlsFiles {
  std::string certChainFile;
  std::string privateKeyFile;
};

struct HttpServerOptions {
  std::string listen = "127.0.0.1:0";  // "IP:PORT", "[IPv6]:PORT", "localhost:PORT"
  // More IPs to serve on, at the port `listen` bound; they need not be
  // assigned yet (IP_FREEBIND): a bridge made later (the pods' gateway).
  std::vector<std::string> alsoListenOn;
  std::optional<TlsFiles> tls;         // none: plain HTTP
  int ioThreads = 2;
  HttpLimits limits;
};

class HttpServer {
 public:
  // Binds, listens, and starts the I/O threads; returns once connections are
  // accepted. Errors name the step: "listen 127.0.0.1:6443: Address already in
  // use", "tls: load server.crt: ...", "listen bogus: invalid address".
  static Result<std::unique_ptr<HttpServer>> start(HttpServerOptions options, Handler handler);
  virtual ~HttpServer() = default;

  // The bound port (the real one when the listen port was 0).
  virtual uint16_t port() const = 0;
  // The bound address as "IP:PORT".
  virtual std::string address() const = 0;
  // Connections currently open (tests, metrics).
  virtual size_t connectionCount() const = 0;

  // Stops accepting, closes every connection (firing onClose callbacks), and
  // joins the I/O threads. Idempotent.
  virtual void stop() = 0;
};

// A Kubernetes Status body: {"kind":"Status","apiVersion":"v1","metadata":{},
// "status":"Failure","message":...,"reason":...,"code":...}.
std::string statusJson(int code, std::string_view reason, std::string_view message);

// Splits "IP:PORT" / "[IPv6]:PORT" / "host:PORT". False when malformed.
bool splitHostPort(std::string_view listen, std::string& host, uint16_t& port);

// Parses a request target into a percent-decoded path and decoded query
// parameters ('+' is a space in the query, as Go's url.ParseQuery). False when
// the target is not origin-form or has a bad escape.
bool parseTarget(std::string_view target, std::string& path,
                 std::multimap<std::string, std::string>& query);

}  // namespace skiff::apiserver
