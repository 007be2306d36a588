// A tiny HTTPS/1.1 client for the transport tests (Boost.Beast, blocking calls
// with a deadline): one connection, keep-alive, streamed reads, raw writes.
// Not thread-safe; one per test thread.
#pragma once

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <map>
#include <optional>
#include <string>

namespace skiff::apiserver::testing {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

struct TestResponse {
  int status = 0;  // 0: transport error (see error)
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string error;
  bool keepAlive = false;
};

class HttpsTestClient {
 public:
  // Connects to host:port and handshakes; `caFile` empty skips verification.
  explicit HttpsTestClient(uint16_t port, const std::string& caFile = "",
                           std::chrono::milliseconds timeout = std::chrono::seconds(10),
                           const std::string& host = "127.0.0.1")
      : timeout_(timeout) {
    if (!caFile.empty()) {
      ctx_.load_verify_file(caFile);
      ctx_.set_verify_mode(ssl::verify_peer);
    } else {
      ctx_.set_verify_mode(ssl::verify_none);
    }
    stream_.emplace(ioc_, ctx_);
    SSL_set_tlsext_host_name(stream_->native_handle(), "localhost");
    bool done = false;
    beast::get_lowest_layer(*stream_).expires_after(timeout_);
    beast::get_lowest_layer(*stream_).async_connect(
        tcp::endpoint(net::ip::make_address(host), port), [&](beast::error_code ec) {
          if (ec) {
            error_ = "connect: " + ec.message();
            done = true;
            return;
          }
          stream_->async_handshake(ssl::stream_base::client, [&](beast::error_code ec2) {
            if (ec2) error_ = "handshake: " + ec2.message();
            done = true;
          });
        });
    run(done);
  }

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }

  TestResponse request(const std::string& method, const std::string& target,
                       const std::string& body = "",
                       std::map<std::string, std::string> headers = {}) {
    TestResponse r;
    if (!send(method, target, body, headers)) {
      r.error = error_;
      return r;
    }
    http::response_parser<http::string_body> parser;
    parser.body_limit(boost::none);
    bool done = false;
    beast::get_lowest_layer(*stream_).expires_after(timeout_);
    http::async_read(*stream_, buffer_, parser, [&](beast::error_code ec, size_t) {
      if (ec) error_ = "read: " + ec.message();
      done = true;
    });
    run(done);
    if (!error_.empty()) {
      r.error = error_;
      return r;
    }
    fill(r, parser.get());
    r.body = parser.get().body();
    return r;
  }

  // Sends a request and reads the response head of a streamed response.
  TestResponse startStream(const std::string& target,
                           std::map<std::string, std::string> headers = {}) {
    TestResponse r;
    if (!send("GET", target, "", headers)) {
      r.error = error_;
      return r;
    }
    streamParser_.emplace();
    streamParser_->body_limit(boost::none);
    bool done = false;
    beast::get_lowest_layer(*stream_).expires_after(timeout_);
    http::async_read_header(*stream_, buffer_, *streamParser_, [&](beast::error_code ec, size_t) {
      if (ec) error_ = "read header: " + ec.message();
      done = true;
    });
    run(done);
    if (!error_.empty()) {
      r.error = error_;
      return r;
    }
    fill(r, streamParser_->get());
    return r;
  }

  // Body bytes of the stream received so far, waiting until at least `atLeast`
  // bytes arrived, the stream ended (`ended`), or `wait` passed.
  std::string readStream(size_t atLeast, std::chrono::milliseconds wait, bool* ended = nullptr) {
    auto deadline = std::chrono::steady_clock::now() + wait;
    std::string out;
    while (out.size() < atLeast && !streamParser_->is_done()) {
      auto left = deadline - std::chrono::steady_clock::now();
      if (left <= std::chrono::steady_clock::duration::zero()) break;
      bool done = false;
      beast::error_code err;
      beast::get_lowest_layer(*stream_).expires_after(
          std::chrono::duration_cast<std::chrono::milliseconds>(left));
      http::async_read_some(*stream_, buffer_, *streamParser_, [&](beast::error_code ec, size_t) {
        err = ec;
        done = true;
      });
      run(done);
      out += streamParser_->get().body();
      streamParser_->get().body().clear();
      if (err) break;
    }
    if (ended) *ended = streamParser_->is_done();
    return out;
  }

  // Writes raw bytes (malformed requests), then reads until the server closes
  // or `wait` passes; returns what came back.
  std::string raw(const std::string& bytes, std::chrono::milliseconds wait) {
    bool done = false;
    beast::get_lowest_layer(*stream_).expires_after(timeout_);
    net::async_write(*stream_, net::buffer(bytes), [&](beast::error_code ec, size_t) {
      if (ec) error_ = "write: " + ec.message();
      done = true;
    });
    run(done);
    std::string out;
    auto deadline = std::chrono::steady_clock::now() + wait;
    for (;;) {
      auto left = deadline - std::chrono::steady_clock::now();
      if (left <= std::chrono::steady_clock::duration::zero()) break;
      char buf[4096];
      size_t got = 0;
      beast::error_code err;
      done = false;
      beast::get_lowest_layer(*stream_).expires_after(
          std::chrono::duration_cast<std::chrono::milliseconds>(left));
      stream_->async_read_some(net::buffer(buf), [&](beast::error_code ec, size_t n) {
        err = ec;
        got = n;
        done = true;
      });
      run(done);
      out.append(buf, got);
      if (err) {
        closedByPeer_ = err != beast::error::timeout;
        break;
      }
    }
    return out;
  }
  bool closedByPeer() const { return closedByPeer_; }

  // Drops the connection without a TLS close_notify, as a killed client would.
  void abort() {
    beast::error_code ignored;
    beast::get_lowest_layer(*stream_).socket().shutdown(tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(*stream_).close();
  }

  uint16_t localPort() {
    beast::error_code ec;
    return beast::get_lowest_layer(*stream_).socket().local_endpoint(ec).port();
  }

 private:
  bool send(const std::string& method, const std::string& target, const std::string& body,
            const std::map<std::string, std::string>& headers) {
    if (!error_.empty()) return false;
    http::request<http::string_body> req;
    req.method_string(method);
    req.target(target);
    req.version(11);
    req.set(http::field::host, "localhost");
    for (const auto& [k, v] : headers) req.set(k, v);
    req.body() = body;
    if (!body.empty() || method == "POST" || method == "PUT") req.prepare_payload();
    if (headers.count("Transfer-Encoding")) req.chunked(true);
    bool done = false;
    beast::get_lowest_layer(*stream_).expires_after(timeout_);
    http::async_write(*stream_, req, [&](beast::error_code ec, size_t) {
      if (ec) error_ = "write: " + ec.message();
      done = true;
    });
    run(done);
    return error_.empty();
  }

  template <class Message>
  void fill(TestResponse& r, const Message& m) {
    r.status = int(m.result_int());
    r.keepAlive = m.keep_alive();
    for (const auto& f : m) {
      std::string name(f.name_string());
      for (char& c : name) c = char(std::tolower(static_cast<unsigned char>(c)));
      r.headers[name] = std::string(f.value());
    }
  }

  void run(bool& done) {
    ioc_.restart();
    while (!done && ioc_.run_one()) {
    }
  }

  std::chrono::milliseconds timeout_;
  net::io_context ioc_;
  ssl::context ctx_{ssl::context::tls_client};
  std::optional<beast::ssl_stream<beast::tcp_stream>> stream_;
  beast::flat_buffer buffer_;
  std::optional<http::response_parser<http::string_body>> streamParser_;
  std::string error_;
  bool closedByPeer_ = false;
};

}  // namespace skiff::apiserver::testing
