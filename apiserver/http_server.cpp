// HttpServer over Boost.Beast.
//
// How a connection works. Everything a connection does runs on its I/O thread
// (the one thread that runs its io_context), so its state needs no lock; the
// only cross-thread pieces are the ResponseWriter (Exchange) calls, which post
// onto that thread, and two atomics (`closed_`, `queued_`) that let write()
// answer at once.
//
//   [TLS handshake] -> read header -> (413/431/400 and close) -> read body ->
//   handler(Request, Exchange) ... respond() | startStream() write()* end() ->
//   flush -> keep-alive: read the next header | close
//
// Responses are serialised here by hand (status line, headers, body or chunks)
// into an output queue of strings, written with one gathered async_write at a
// time. Beast parses requests; that is where its limits (header and body size)
// apply.
//
// A stream (watch) has to notice a client that goes away while nothing is
// written, or abandoned watches would pile up: while streaming, one read is
// kept outstanding ("detect read"); EOF or an error there closes the
// connection, which fires the writer's onClose callbacks and so cancels the
// watch. Bytes it reads (a pipelined request) are kept for the next parse.
//
// Who owns whom: pending async operations and the Exchange hold the connection
// (shared_ptr); the connection holds the Exchange only weakly, so a handler that
// drops its writer without answering is noticed (the Exchange destructor posts
// a 500) and nothing forms a cycle.

#include "apiserver/http_server.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cerrno>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "base/log.h"
#include "base/thread.h"

namespace skiff::apiserver {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;
using Headers = std::vector<std::pair<std::string, std::string>>;
// A connection's socket and stream name their I/O thread's executor type
// rather than asio's type-erased any_io_executor.
using Executor = net::io_context::executor_type;
using Socket = tcp::socket::rebind_executor<Executor>::other;
using TcpStream = beast::basic_stream<tcp, Executor>;

// What the Exchange needs from a connection; every method is thread-safe and
// asynchronous (it posts onto the connection's I/O thread).
class ConnectionIface {
 public:
  virtual ~ConnectionIface() = default;
  virtual void respondAsync(uint64_t id, int status, std::string contentType, std::string body,
                            Headers headers) = 0;
  virtual void startStreamAsync(uint64_t id, int status, std::string contentType) = 0;
  virtual void writeAsync(uint64_t id, std::string chunk) = 0;
  virtual void endAsync(uint64_t id) = 0;
  // The writer for request `id` was destroyed (or its handler threw) before the
  // response finished: answer 500, or end/close a stream.
  virtual void abandonAsync(uint64_t id, std::string why) = 0;
  virtual void closeAsync() = 0;
  // Hand the connection to host:port (ResponseWriter::tunnel).
  virtual void tunnelAsync(uint64_t id, std::string host, uint16_t port, std::string head,
                           DialFailure dialFailure) = 0;

  std::atomic<bool> closed_{false};
  std::atomic<size_t> queued_{0};  // streamed payload bytes accepted by write(), not yet sent
  size_t maxQueued_ = 0;
};

// The ResponseWriter of one request.
class Exchange final : public ResponseWriter {
 public:
  Exchange(std::shared_ptr<ConnectionIface> conn, uint64_t id) : conn_(std::move(conn)), id_(id) {}

  ~Exchange() override {
    int s = state_.load();
    if (s == kIdle || s == kStreaming) conn_->abandonAsync(id_, "handler dropped the response");
  }

  void respond(int status, std::string_view contentType, std::string body,
               Headers headers) override {
    int expected = kIdle;
    if (!state_.compare_exchange_strong(expected, kDone)) {
      logWarn("http respond() after the response started", {{"status", std::to_string(status)}});
      return;
    }
    conn_->respondAsync(id_, status, std::string(contentType), std::move(body), std::move(headers));
  }

  void startStream(int status, std::string_view contentType) override {
    int expected = kIdle;
    if (!state_.compare_exchange_strong(expected, kStreaming)) {
      logWarn("http startStream() after the response started");
      return;
    }
    conn_->startStreamAsync(id_, status, std::string(contentType));
  }

  bool write(std::string chunk) override {
    if (state_.load() != kStreaming || closed()) return false;
    if (chunk.empty()) return true;
    size_t queued = conn_->queued_.fetch_add(chunk.size()) + chunk.size();
    if (queued > conn_->maxQueued_) {
      conn_->queued_.fetch_sub(chunk.size());
      logWarn("http slow client: output limit reached, closing",
              {{"queued_bytes", std::to_string(queued)}});
      conn_->closeAsync();
      return false;
    }
    conn_->writeAsync(id_, std::move(chunk));
    return true;
  }

  void tunnel(std::string host, uint16_t port, std::string head,
              DialFailure dialFailure = {}) override {
    int expected = kIdle;
    if (!state_.compare_exchange_strong(expected, kDone)) {
      logWarn("http tunnel() after the response started");
      return;
    }
    conn_->tunnelAsync(id_, std::move(host), port, std::move(head), std::move(dialFailure));
  }

  void end() override {
    int expected = kStreaming;
    if (state_.compare_exchange_strong(expected, kDone)) conn_->endAsync(id_);
  }

  bool closed() const override { return closed_.load() || conn_->closed_.load(); }

  void onClose(std::function<void()> callback) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!fired_) {
        callbacks_.push_back(std::move(callback));
        return;
      }
    }
    callback();
  }

  // I/O thread only: the response is over or the connection closed.
  void fireClose() {
    closed_ = true;
    std::vector<std::function<void()>> callbacks;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (fired_) return;
      fired_ = true;
      callbacks.swap(callbacks_);
    }
    for (auto& cb : callbacks) {
      try {
        cb();
      } catch (const std::exception& e) {
        logWarn("http onClose callback threw", {{"error", e.what()}});
      } catch (...) {
        logWarn("http onClose callback threw");
      }
    }
  }

  // The handler threw: answer 500 if nothing was sent, else cut the stream.
  void fail(const std::string& why) {
    int expected = kIdle;
    if (state_.compare_exchange_strong(expected, kDone)) {
      conn_->abandonAsync(id_, why);
    } else if (expected == kStreaming) {
      state_ = kDone;
      conn_->closeAsync();
    }
  }

 private:
  enum { kIdle, kStreaming, kDone };
  std::shared_ptr<ConnectionIface> conn_;
  const uint64_t id_;
  std::atomic<int> state_{kIdle};
  std::atomic<bool> closed_{false};
  std::mutex mu_;
  bool fired_ = false;                            // guarded by mu_
  std::vector<std::function<void()>> callbacks_;  // guarded by mu_
};

// Shared by the server and its connections; outlives the server while any
// connection (held by a handler's writer) is alive.
struct Core {
  // One io_context per I/O thread, each run by its thread alone; connections
  // are dealt to them in turn (see http_server.h).
  std::vector<std::unique_ptr<net::io_context>> iocs;
  std::atomic<size_t> nextIoc{0};
  HttpLimits limits;
  Handler handler;
  std::unique_ptr<ssl::context> tls;

  std::mutex mu;
  // Live connections, to close them on stop(). Guarded by mu.
  std::unordered_map<ConnectionIface*, std::weak_ptr<ConnectionIface>> conns;
  bool stopping = false;  // guarded by mu

  // Not constructed with the concurrency hint 1, though each has one thread:
  // with it, asio keeps what the I/O thread posts in a queue of the thread's
  // own until the running handler returns, so a post from another thread
  // meanwhile would run first: a watch's first events, written by the hub's
  // thread while the handler that started the stream still ran, came before
  // the stream's start and were dropped. Without it every post joins one
  // queue in the order made, which is what a strand per connection gave.
  explicit Core(int threads) {
    for (int i = 0; i < threads; ++i) iocs.push_back(std::make_unique<net::io_context>());
  }
  net::io_context& nextContext() { return *iocs[nextIoc++ % iocs.size()]; }

  bool add(ConnectionIface* raw, std::weak_ptr<ConnectionIface> weak) {
    std::lock_guard<std::mutex> lock(mu);
    if (stopping) return false;
    conns.emplace(raw, std::move(weak));
    return true;
  }
  void remove(ConnectionIface* raw) {
    std::lock_guard<std::mutex> lock(mu);
    conns.erase(raw);
  }
};

bool quietError(const beast::error_code& ec) {
  return ec == http::error::end_of_stream || ec == net::error::eof ||
         ec == net::error::operation_aborted || ec == net::error::connection_reset ||
         ec == net::error::broken_pipe || ec == beast::error::timeout ||
         ec == ssl::error::stream_truncated;
}

std::string reasonPhrase(int status) {
  auto r = http::obsolete_reason(http::int_to_status(unsigned(status)));
  if (r.empty() || r == "<unknown-status>") return "Status";
  return std::string(r);
}

bool bodyAllowed(int status) {
  return !(status == 204 || status == 304 || status / 100 == 1);
}

template <class Stream>
class Connection final : public ConnectionIface,
                         public std::enable_shared_from_this<Connection<Stream>> {
  static constexpr bool kTls = !std::is_same_v<Stream, TcpStream>;

 public:
  template <class... Args>
  Connection(std::shared_ptr<Core> core, std::string remote, Args&&... args)
      : core_(std::move(core)), stream_(std::forward<Args>(args)...), remote_(std::move(remote)) {
    maxQueued_ = core_->limits.maxQueuedOutput;
  }

  ~Connection() override { core_->remove(this); }

  void begin() {
    auto self = this->shared_from_this();
    if (!core_->add(this, self)) {
      closeNow();
      return;
    }
    if constexpr (kTls) {
      lowest().expires_after(core_->limits.handshakeTimeout);
      stream_.async_handshake(ssl::stream_base::server,
                              [self](beast::error_code ec) { self->onHandshake(ec); });
    } else {
      readRequest();
    }
  }

  // ---- ConnectionIface (any thread) ----

  void respondAsync(uint64_t id, int status, std::string contentType, std::string body,
                    Headers headers) override {
    net::post(stream_.get_executor(),
              [self = this->shared_from_this(), id, status, ct = std::move(contentType),
               body = std::move(body), headers = std::move(headers)]() mutable {
                self->doRespond(id, status, ct, std::move(body), headers, false);
              });
  }
  void startStreamAsync(uint64_t id, int status, std::string contentType) override {
    net::post(stream_.get_executor(),
              [self = this->shared_from_this(), id, status, ct = std::move(contentType)] {
                self->doStartStream(id, status, ct);
              });
  }
  void writeAsync(uint64_t id, std::string chunk) override {
    net::post(stream_.get_executor(),
              [self = this->shared_from_this(), id, chunk = std::move(chunk)]() mutable {
                self->doWrite(id, std::move(chunk));
              });
  }
  void endAsync(uint64_t id) override {
    net::post(stream_.get_executor(), [self = this->shared_from_this(), id] { self->doEnd(id); });
  }
  void abandonAsync(uint64_t id, std::string why) override {
    // Called from the Exchange destructor too, when shared_from_this() still works
    // because the Exchange holds a reference to us.
    net::post(stream_.get_executor(), [self = this->shared_from_this(), id, why = std::move(why)] {
      self->doAbandon(id, why);
    });
  }
  void closeAsync() override {
    net::post(stream_.get_executor(), [self = this->shared_from_this()] { self->closeNow(); });
  }
  void tunnelAsync(uint64_t id, std::string host, uint16_t port, std::string head,
                   DialFailure dialFailure) override {
    net::post(stream_.get_executor(),
              [self = this->shared_from_this(), id, host = std::move(host), port,
               head = std::move(head), dialFailure = std::move(dialFailure)]() mutable {
                self->doTunnel(id, host, port, std::move(head), std::move(dialFailure));
              });
  }

 private:
  TcpStream& lowest() { return beast::get_lowest_layer(stream_); }

  void onHandshake(beast::error_code ec) {
    if (ec) {
      if (!quietError(ec))
        logDebug("http tls handshake failed", {{"remote", remote_}, {"error", ec.message()}});
      closeNow();
      return;
    }
    readRequest();
  }

  // ---- reading requests ----

  void readRequest() {
    if (closed_) return;
    parser_.emplace();
    parser_->body_limit(core_->limits.maxBodyBytes);
    parser_->header_limit(core_->limits.maxHeaderBytes);
    if (buffer_.size() == 0 && buffer_.capacity() > 64 * 1024) buffer_.shrink_to_fit();
    lowest().expires_after(core_->limits.idleTimeout);
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = this->shared_from_this()](beast::error_code ec, size_t) { self->onHeader(ec); });
  }

  void onHeader(beast::error_code ec) {
    if (ec) return onReadError(ec);
    auto& msg = parser_->get();
    auto length = parser_->content_length();
    if (length && *length > core_->limits.maxBodyBytes) return tooLarge();
    if (beast::iequals(msg[http::field::expect], "100-continue") && !parser_->is_done()) {
      out_.push_back({"HTTP/1.1 100 Continue\r\n\r\n", 0});
      flush();
    }
    if (parser_->is_done()) return onRequest();
    lowest().expires_after(core_->limits.readTimeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = this->shared_from_this()](beast::error_code ec, size_t) {
                       if (ec) return self->onReadError(ec);
                       self->onRequest();
                     });
  }

  void onReadError(beast::error_code ec) {
    if (closed_) return;
    if (ec == http::error::body_limit) return tooLarge();
    if (ec == http::error::header_limit) {
      return failAndClose(431, "BadRequest", "request header fields too large");
    }
    if (quietError(ec) ||
        ec.category() != beast::http::make_error_code(http::error::end_of_stream).category()) {
      // EOF, timeouts and socket errors: nothing to answer.
      if (!quietError(ec))
        logDebug("http read failed", {{"remote", remote_}, {"error", ec.message()}});
      return closeNow();
    }
    failAndClose(400, "BadRequest", "malformed HTTP request: " + ec.message());
  }

  // An error answered outside any handler; the connection then closes.
  void failAndClose(int status, const char* reason, const std::string& message) {
    logWarn("http request rejected",
            {{"remote", remote_}, {"status", std::to_string(status)}, {"error", message}});
    keepAlive_ = false;
    curId_ = ++nextId_;
    logged_ = false;
    curStart_ = Clock::now();
    curMethod_ = parser_ ? std::string(parser_->get().method_string()) : "";
    curPath_ = parser_ ? std::string(parser_->get().target()) : "";
    doRespond(curId_, status, "application/json", statusJson(status, reason, message), {}, true);
  }

  void tooLarge() {
    drainAfterFlush_ = true;
    failAndClose(
        413, "RequestEntityTooLarge",
        "Request entity too large: limit is " + std::to_string(core_->limits.maxBodyBytes));
  }

  void onRequest() {
    auto& msg = parser_->get();
    keepAlive_ = msg.keep_alive();
    Request req;
    req.method = std::string(msg.method_string());
    req.target = std::string(msg.target());
    if (!parseTarget(req.target, req.path, req.query)) {
      return failAndClose(400, "BadRequest", "malformed request target");
    }
    for (const auto& field : msg) {
      std::string name(field.name_string());
      for (char& c : name) c = char(std::tolower(static_cast<unsigned char>(c)));
      auto [it, inserted] = req.headers.emplace(name, std::string(field.value()));
      if (!inserted) it->second += ", " + std::string(field.value());
    }
    req.body = std::move(msg.body());
    req.remoteAddr = remote_;

    curId_ = ++nextId_;
    logged_ = false;
    curStatus_ = 0;
    curStart_ = Clock::now();
    curMethod_ = req.method;
    curPath_ = req.path;
    curHead_ = req.method == "HEAD";
    responseStarted_ = false;
    parser_.reset();
    lowest().expires_never();  // the handler may take its time; writes set their own

    auto exchange = std::make_shared<Exchange>(this->shared_from_this(), curId_);
    current_ = exchange;
    try {
      core_->handler(std::move(req), exchange);
    } catch (const std::exception& e) {
      logWarn("http handler threw", {{"path", curPath_}, {"error", e.what()}});
      exchange->fail(std::string("internal error: ") + e.what());
    } catch (...) {
      logWarn("http handler threw", {{"path", curPath_}});
      exchange->fail("internal error");
    }
  }

  // ---- writing responses (I/O thread) ----

  std::string head(int status, const std::string& contentType) {
    std::string h = "HTTP/1.1 " + std::to_string(status) + " " + reasonPhrase(status) + "\r\n";
    if (!contentType.empty()) h += "Content-Type: " + contentType + "\r\n";
    return h;
  }

  void doRespond(uint64_t id, int status, const std::string& contentType, std::string body,
                 const Headers& headers, bool internal) {
    if (closed_ || id != curId_ || responseStarted_) return;
    responseStarted_ = true;
    curStatus_ = status;
    std::string h = head(status, contentType);
    for (const auto& [name, value] : headers) {
      if (beast::iequals(name, "content-length") || beast::iequals(name, "connection") ||
          beast::iequals(name, "transfer-encoding") || beast::iequals(name, "content-type"))
        continue;
      h += name + ": " + value + "\r\n";
    }
    if (bodyAllowed(status)) h += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    if (!keepAlive_) h += "Connection: close\r\n";
    h += "\r\n";
    if (bodyAllowed(status) && !curHead_) {
      if (body.size() < 16 * 1024) {
        h += body;
      } else {
        out_.push_back({std::move(h), 0});
        h = std::move(body);
      }
    }
    out_.push_back({std::move(h), 0});
    responseDone_ = true;
    flush();
  }

  void doStartStream(uint64_t id, int status, const std::string& contentType) {
    if (closed_ || id != curId_ || responseStarted_) return;
    responseStarted_ = true;
    streaming_ = true;
    curStatus_ = status;
    std::string h = head(status, contentType);
    h += "Transfer-Encoding: chunked\r\n";
    if (!keepAlive_) h += "Connection: close\r\n";
    h += "\r\n";
    out_.push_back({std::move(h), 0});
    flush();
    startDetectRead();
  }

  void doWrite(uint64_t id, std::string chunk) {
    size_t n = chunk.size();
    if (closed_ || id != curId_ || !streaming_ || responseDone_) {
      queued_.fetch_sub(n);
      return;
    }
    char size[24];
    int len = std::snprintf(size, sizeof size, "%zx\r\n", n);
    std::string framed;
    framed.reserve(n + size_t(len) + 2);
    framed.append(size, size_t(len));
    framed += chunk;
    framed += "\r\n";
    out_.push_back({std::move(framed), n});
    flush();
  }

  void doEnd(uint64_t id) {
    if (closed_ || id != curId_ || !streaming_ || responseDone_) return;
    out_.push_back({"0\r\n\r\n", 0});
    responseDone_ = true;
    flush();
  }

  void doAbandon(uint64_t id, const std::string& why) {
    if (closed_ || id != curId_ || responseDone_) return;
    if (!responseStarted_) {
      logWarn("http handler failed", {{"path", curPath_}, {"error", why}});
      keepAlive_ = false;
      doRespond(id, 500, "application/json", statusJson(500, "InternalError", why), {}, true);
    } else if (streaming_) {
      doEnd(id);
    }
  }

  void flush() {
    if (writing_ || out_.empty() || closed_) return;
    writing_ = true;
    inflight_.clear();
    bufs_.clear();
    while (!out_.empty() && inflight_.size() < 64) {
      inflight_.push_back(std::move(out_.front()));
      out_.pop_front();
    }
    for (const auto& piece : inflight_) bufs_.push_back(net::buffer(piece.first));
    if (!streaming_) lowest().expires_after(core_->limits.writeTimeout);
    net::async_write(
        stream_, bufs_,
        [self = this->shared_from_this()](beast::error_code ec, size_t) { self->onWritten(ec); });
  }

  void onWritten(beast::error_code ec) {
    writing_ = false;
    size_t accounted = 0;
    for (const auto& piece : inflight_) accounted += piece.second;
    queued_.fetch_sub(accounted);
    inflight_.clear();
    if (ec) {
      if (!quietError(ec))
        logDebug("http write failed", {{"remote", remote_}, {"error", ec.message()}});
      return closeNow();
    }
    if (closed_) return;
    if (!out_.empty()) return flush();
    if (responseDone_) finishExchange();
  }

  // One line per request, when its response is complete or its connection
  // closed under it (a watch that the client ended).
  void logRequest(const char* end) {
    if (logged_ || curId_ == 0) return;
    logged_ = true;
    if (logLevel() > LogLevel::kDebug) return;
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - curStart_);
    logDebug("http request", {{"method", curMethod_},
                              {"path", curPath_},
                              {"status", std::to_string(curStatus_)},
                              {"duration_us", std::to_string(us.count())},
                              {"remote", remote_},
                              {"end", end}});
  }

  void finishExchange() {
    logRequest("complete");
    if (auto ex = current_.lock()) ex->fireClose();
    current_.reset();
    bool wasStreaming = streaming_;
    streaming_ = false;
    responseDone_ = false;
    if (drainAfterFlush_) return drain();
    if (!keepAlive_) return gracefulClose();
    if (wasStreaming && detectReading_) {
      // The detect read doubles as the wait for the next request.
      resumeOnDetect_ = true;
      return;
    }
    readRequest();
  }

  // ---- tunnel (I/O thread) ----
  //
  // Two pumps, each one read then one write at a time: client -> peer and
  // peer -> client, so at most one read and one write are outstanding on the
  // client stream (what an SSL stream allows). The peer closing ends the
  // tunnel gracefully (after its last bytes reached the client); the client
  // closing, or any error, closes both at once.

  void doTunnel(uint64_t id, const std::string& host, uint16_t port, std::string head,
                DialFailure dialFailure) {
    if (closed_ || id != curId_ || responseStarted_) return;
    keepAlive_ = false;
    beast::error_code ec;
    auto ip = net::ip::make_address(host, ec);
    std::string target = host + ":" + std::to_string(port);
    if (ec) {
      doRespond(id, dialFailure.status, "application/json",
                statusJson(dialFailure.status, dialFailure.reason,
                           dialFailure.prefix + ": invalid address " + target),
                {}, true);
      return;
    }
    responseStarted_ = true;
    tunnelBufs_ = std::make_unique<TunnelBuffers>();
    upstream_.emplace(stream_.get_executor());
    upstream_->async_connect(tcp::endpoint(ip, port),
                             [self = this->shared_from_this(), id, target, head = std::move(head),
                              dialFailure = std::move(dialFailure)](beast::error_code ec) mutable {
                               self->onTunnelConnected(ec, id, target, std::move(head),
                                                       dialFailure);
                             });
  }

  void onTunnelConnected(beast::error_code ec, uint64_t id, const std::string& target,
                         std::string head, const DialFailure& dialFailure) {
    if (closed_) return;
    if (ec) {
      responseStarted_ = false;
      upstream_.reset();
      // Go's wording: "dial tcp 10.244.0.5:81: connect: connection refused".
      std::string why = ec.message();
      if (!why.empty()) why[0] = char(std::tolower(static_cast<unsigned char>(why[0])));
      doRespond(id, dialFailure.status, "application/json",
                statusJson(dialFailure.status, dialFailure.reason,
                           dialFailure.prefix + ": dial tcp " + target + ": connect: " + why),
                {}, true);
      return;
    }
    curStatus_ = 101;  // for the request log: the peer answers from here on
    beast::error_code ignored;
    upstream_->set_option(tcp::no_delay(true), ignored);
    // Bytes the client sent after the request head go along.
    auto pending = buffer_.data();
    head.append(static_cast<const char*>(pending.data()), pending.size());
    buffer_.consume(buffer_.size());
    toPeer_ = std::move(head);
    net::async_write(*upstream_, net::buffer(toPeer_),
                     [self = this->shared_from_this()](beast::error_code ec, size_t) {
                       if (ec) return self->tunnelClosed(ec);
                       self->readClientIntoTunnel();
                     });
    readPeerIntoTunnel();
  }

  void readClientIntoTunnel() {
    if (closed_) return;
    clientReading_ = true;
    stream_.async_read_some(net::buffer(tunnelBufs_->fromClient),
                            [self = this->shared_from_this()](beast::error_code ec, size_t n) {
                              self->clientReading_ = false;
                              if (self->peerDone_) return self->gracefulClose();
                              if (ec) return self->tunnelClosed(ec);
                              net::async_write(*self->upstream_,
                                               net::buffer(self->tunnelBufs_->fromClient.data(), n),
                                               [self](beast::error_code ec, size_t) {
                                                 if (ec) return self->tunnelClosed(ec);
                                                 self->readClientIntoTunnel();
                                               });
                            });
  }

  void readPeerIntoTunnel() {
    if (closed_) return;
    upstream_->async_read_some(
        net::buffer(tunnelBufs_->fromPeer), [self = this->shared_from_this()](beast::error_code ec, size_t n) {
          if (self->closed_) return;
          if (ec == net::error::eof) {
            // The peer finished: end the client's connection properly (TLS
            // close_notify), once its pending read is out of the way.
            self->peerDone_ = true;
            if (self->clientReading_) {
              self->lowest().cancel();
            } else {
              self->gracefulClose();
            }
            return;
          }
          if (ec) return self->tunnelClosed(ec);
          net::async_write(self->stream_, net::buffer(self->tunnelBufs_->fromPeer.data(), n),
                           [self](beast::error_code ec, size_t) {
                             if (ec) return self->tunnelClosed(ec);
                             self->readPeerIntoTunnel();
                           });
        });
  }

  void tunnelClosed(beast::error_code ec) {
    if (!closed_ && !quietError(ec))
      logDebug("http tunnel closed", {{"remote", remote_}, {"error", ec.message()}});
    closeNow();
  }

  // While streaming: notice the client going away.
  void startDetectRead() {
    if (detectReading_ || closed_) return;
    if (buffer_.size() >= 64 * 1024) return;  // enough pipelined bytes kept; stop reading
    detectReading_ = true;
    stream_.async_read_some(buffer_.prepare(4096),
                            [self = this->shared_from_this()](beast::error_code ec, size_t n) {
                              self->onDetectRead(ec, n);
                            });
  }

  void onDetectRead(beast::error_code ec, size_t n) {
    detectReading_ = false;
    if (ec) {
      if (!closed_ && !quietError(ec))
        logDebug("http stream read failed", {{"error", ec.message()}});
      return closeNow();
    }
    buffer_.commit(n);
    if (closed_) return;
    if (resumeOnDetect_) {
      resumeOnDetect_ = false;
      return readRequest();
    }
    if (streaming_) startDetectRead();
  }

  // After a 413: read and discard what the client still sends (bounded), so it
  // can read the answer instead of meeting a reset, then close.
  void drain() {
    closed_ = true;
    core_->remove(this);
    buffer_.consume(buffer_.size());
    drained_ = 0;
    lowest().expires_after(std::chrono::seconds(2));
    drainMore();
  }
  void drainMore() {
    buffer_.consume(buffer_.size());
    stream_.async_read_some(buffer_.prepare(64 * 1024),
                            [self = this->shared_from_this()](beast::error_code ec, size_t n) {
                              self->drained_ += n;
                              if (ec || self->drained_ > 64 * 1024 * 1024) {
                                self->lowest().close();
                                return;
                              }
                              self->drainMore();
                            });
  }

  void gracefulClose() {
    if (closed_) return;
    markClosed();
    closeUpstream();
    if constexpr (kTls) {
      lowest().expires_after(std::chrono::seconds(1));
      stream_.async_shutdown(
          [self = this->shared_from_this()](beast::error_code) { self->lowest().close(); });
    } else {
      beast::error_code ignored;
      lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
      lowest().close();
    }
  }

  void closeUpstream() {
    if (!upstream_) return;
    beast::error_code ignored;
    upstream_->close(ignored);
  }

  void closeNow() {
    if (!closed_) markClosed();
    closeUpstream();
    beast::error_code ignored;
    lowest().socket().close(ignored);
    lowest().cancel();
  }

  void markClosed() {
    closed_ = true;
    if (curId_ != 0 && !logged_) logRequest(streaming_ ? "stream closed" : "connection closed");
    core_->remove(this);
    if (auto ex = current_.lock()) ex->fireClose();
    current_.reset();
    out_.clear();
  }

  std::shared_ptr<Core> core_;
  Stream stream_;
  const std::string remote_;
  // Everything below: I/O thread only.
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::deque<std::pair<std::string, size_t>> out_;        // (bytes, payload counted in queued_)
  std::vector<std::pair<std::string, size_t>> inflight_;  // being written
  std::vector<net::const_buffer> bufs_;
  bool writing_ = false;
  std::weak_ptr<Exchange> current_;
  uint64_t nextId_ = 0, curId_ = 0;
  bool keepAlive_ = true, curHead_ = false;
  bool responseStarted_ = false, responseDone_ = false, streaming_ = false;
  bool detectReading_ = false, resumeOnDetect_ = false, drainAfterFlush_ = false;
  size_t drained_ = 0;
  // Tunnel (doTunnel): the peer's socket, the bytes in flight each way.
  std::optional<Socket> upstream_;
  std::string toPeer_;
  struct TunnelBuffers {
    std::array<char, 16 * 1024> fromClient, fromPeer;
  };
  std::unique_ptr<TunnelBuffers> tunnelBufs_;  // only while tunnelling
  bool clientReading_ = false, peerDone_ = false;
  bool logged_ = true;  // the current request's line was written
  int curStatus_ = 0;
  Clock::time_point curStart_;
  std::string curMethod_, curPath_;
};

class HttpServerImpl final : public HttpServer {
 public:
  HttpServerImpl(std::shared_ptr<Core> core, int threads)
      : core_(std::move(core)), threads_(threads) {
    for (auto& ioc : core_->iocs) work_.push_back(net::make_work_guard(*ioc));
  }

  ~HttpServerImpl() override { stop(); }

  // Binds `listen` ("IP:PORT"); the first listener's port, when `samePort`,
  // replaces PORT. `freebind`: the address need not exist yet (IP_FREEBIND).
  Status addListener(const std::string& listen, bool samePort, bool freebind) {
    std::string host;
    uint16_t port = 0;
    if (!splitHostPort(listen, host, port))
      return makeError(Code::kBadRequest, "listen " + listen + ": invalid address (want IP:PORT)");
    if (host == "localhost") host = "127.0.0.1";
    if (host.empty()) host = "0.0.0.0";
    beast::error_code ec;
    auto ip = net::ip::make_address(host, ec);
    if (ec) return makeError(Code::kBadRequest, "listen " + listen + ": invalid IP address");
    if (samePort) port = bound_.port();
    tcp::endpoint ep(ip, port);
    auto fail = [&](const beast::error_code& e) {
      return makeError(Code::kUnavailable, "listen " + ep.address().to_string() + ":" +
                                               std::to_string(ep.port()) + ": " + e.message());
    };
    // On I/O thread 0, like its connections.
    auto l = std::make_unique<Listener>(core_->iocs[0]->get_executor());
    tcp::acceptor& a = l->acceptor;
    a.open(ep.protocol(), ec);
    if (ec) return fail(ec);
    a.set_option(net::socket_base::reuse_address(true), ec);
    if (ip.is_v6()) a.set_option(net::ip::v6_only(false), ec);
    int one = 1;
    if (freebind && ::setsockopt(a.native_handle(), IPPROTO_IP, IP_FREEBIND, &one, sizeof one) != 0)
      return fail(beast::error_code(errno, beast::system_category()));
    a.bind(ep, ec);
    if (ec) return fail(ec);
    a.listen(net::socket_base::max_listen_connections, ec);
    if (ec) return fail(ec);
    if (listeners_.empty()) bound_ = a.local_endpoint(ec);
    listeners_.push_back(std::move(l));
    return {};
  }

  Status listen(const std::string& listen, const std::vector<std::string>& alsoOn) {
    if (auto st = addListener(listen, false, false); !st) return st;
    for (const auto& host : alsoOn) {
      std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
      if (auto st = addListener(h + ":0", true, true); !st) return st;
    }
    for (auto& l : listeners_) accept(*l);
    for (int i = 0; i < threads_; ++i) {
      pool_.emplace_back([this, i] {
        nameThisThread("http-io-" + std::to_string(i));
        for (;;) {
          try {
            core_->iocs[i]->run();
            break;
          } catch (const std::exception& e) {
            logError("http io thread caught an exception", {{"error", e.what()}});
          }
        }
        std::lock_guard<std::mutex> lock(exitMu_);
        ++exited_;
        exitCv_.notify_all();
      });
    }
    return {};
  }

  uint16_t port() const override { return bound_.port(); }
  std::string address() const override {
    auto a = bound_.address();
    return a.is_v6() ? "[" + a.to_string() + "]:" + std::to_string(bound_.port())
                     : a.to_string() + ":" + std::to_string(bound_.port());
  }
  size_t connectionCount() const override {
    std::lock_guard<std::mutex> lock(core_->mu);
    return core_->conns.size();
  }

  void stop() override {
    std::lock_guard<std::mutex> stopLock(stopMu_);
    if (stopped_) return;
    stopped_ = true;
    auto closeAll = [this] {
      beast::error_code ignored;
      for (auto& l : listeners_) {
        l->acceptor.close(ignored);
        if (l->retry) l->retry->cancel();
      }
    };
    if (pool_.empty()) {
      closeAll();
    } else {
      auto closed = std::make_shared<std::promise<void>>();
      net::post(core_->iocs[0]->get_executor(), [closeAll, closed] {
        closeAll();
        closed->set_value();
      });
      closed->get_future().wait_for(std::chrono::seconds(2));
    }
    std::vector<std::shared_ptr<ConnectionIface>> conns;
    {
      std::lock_guard<std::mutex> lock(core_->mu);
      core_->stopping = true;
      for (auto& [raw, weak] : core_->conns)
        if (auto c = weak.lock()) conns.push_back(std::move(c));
    }
    for (auto& c : conns) c->closeAsync();
    conns.clear();
    for (auto& w : work_) w.reset();
    {
      std::unique_lock<std::mutex> lock(exitMu_);
      exitCv_.wait_for(lock, std::chrono::seconds(3),
                       [this] { return exited_ == int(pool_.size()); });
    }
    for (auto& ioc : core_->iocs) ioc->stop();
    for (auto& t : pool_) t.join();
    pool_.clear();
  }

 private:
  struct Listener {
    explicit Listener(const net::io_context::executor_type& ex) : acceptor(ex) {}
    tcp::acceptor acceptor;
    std::unique_ptr<net::steady_timer> retry;  // I/O thread 0 only
  };

  void accept(Listener& l) {
    l.acceptor.async_accept(core_->nextContext(), [this, &l](beast::error_code ec, Socket socket) {
      onAccept(l, ec, std::move(socket));
    });
  }

  void onAccept(Listener& l, beast::error_code ec, Socket socket) {
    if (ec == net::error::operation_aborted || !l.acceptor.is_open()) return;
    if (ec) {
      // EMFILE and friends: back off instead of spinning.
      logWarn("http accept failed", {{"error", ec.message()}});
      l.retry = std::make_unique<net::steady_timer>(l.acceptor.get_executor(),
                                                    std::chrono::milliseconds(100));
      l.retry->async_wait([this, &l](beast::error_code e) {
        if (!e && l.acceptor.is_open()) accept(l);
      });
      return;
    }
    beast::error_code ignored;
    auto rep = socket.remote_endpoint(ignored);
    std::string remote = rep.address().is_v6()
                             ? "[" + rep.address().to_string() + "]:" + std::to_string(rep.port())
                             : rep.address().to_string() + ":" + std::to_string(rep.port());
    socket.set_option(tcp::no_delay(true), ignored);
    // begin() runs later, posted to the connection's I/O thread: once it has
    // registered the connection, stop() may post closeNow() there, which must
    // not run while begin() still starts the first read.
    auto executor = socket.get_executor();
    auto begin = [&executor](auto connection) {
      net::post(executor, [connection] { connection->begin(); });
    };
    if (core_->tls) {
      using S = beast::ssl_stream<TcpStream>;
      begin(std::make_shared<Connection<S>>(core_, std::move(remote), std::move(socket),
                                            *core_->tls));
    } else {
      begin(std::make_shared<Connection<TcpStream>>(core_, std::move(remote), std::move(socket)));
    }
    accept(l);
  }

  std::shared_ptr<Core> core_;
  std::vector<std::unique_ptr<Listener>> listeners_;  // the first is `listen`'s
  tcp::endpoint bound_;
  int threads_;
  std::vector<net::executor_work_guard<net::io_context::executor_type>> work_;
  std::vector<std::thread> pool_;
  std::mutex exitMu_;
  std::condition_variable exitCv_;
  int exited_ = 0;  // guarded by exitMu_
  std::mutex stopMu_;
  bool stopped_ = false;  // guarded by stopMu_
};

}  // namespace

Result<std::unique_ptr<HttpServer>> HttpServer::start(HttpServerOptions options, Handler handler) {
  int threads = std::max(1, options.ioThreads);
  auto core = std::make_shared<Core>(threads);
  core->limits = options.limits;
  core->handler = std::move(handler);
  if (options.tls) {
    try {
      auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
      ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                       ssl::context::single_dh_use);
      ctx->use_certificate_chain_file(options.tls->certChainFile);
      ctx->use_private_key_file(options.tls->privateKeyFile, ssl::context::pem);
      // Idle connections (watches) give their TLS record buffers back.
      SSL_CTX_set_mode(ctx->native_handle(), SSL_MODE_RELEASE_BUFFERS);
      core->tls = std::move(ctx);
    } catch (const std::exception& e) {
      return makeError(Code::kInternal, "tls: load " + options.tls->certChainFile + " / " +
                                            options.tls->privateKeyFile + ": " + e.what());
    }
  }
  auto server = std::make_unique<HttpServerImpl>(core, threads);
  if (auto st = server->listen(options.listen, options.alsoListenOn); !st) {
    return st.error();
  }
  return std::unique_ptr<HttpServer>(std::move(server));
}

}  // namespace skiff::apiserver
