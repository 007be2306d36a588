// HttpServer over real TLS on 127.0.0.1, port 0, with a test handler.

#include "apiserver/http_server.h"

#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <mutex>
#include <thread>

#include "apiserver/tls.h"
#include "tests/apiserver/https_test_client.h"

namespace skiff::apiserver {
namespace {

using testing::HttpsTestClient;
using namespace std::chrono_literals;

std::string tempDir() {
  char tmpl[] = "/tmp/skiff-http-test-XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  return tmpl;
}

template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds within = 3s) {
  auto deadline = std::chrono::steady_clock::now() + within;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return pred();
}

// A server whose handler the tests can observe.
struct Fixture {
  std::string dir = tempDir();
  PkiFiles pki;
  std::unique_ptr<HttpServer> server;
  std::mutex mu;
  std::vector<std::shared_ptr<ResponseWriter>> streams;  // guarded by mu
  std::atomic<int> closes{0};
  std::atomic<int> requests{0};

  explicit Fixture(HttpLimits limits = {}, bool tls = true) {
    auto p = ensurePki(dir, {});
    REQUIRE(p.ok());
    pki = *p;
    HttpServerOptions o;
    o.listen = "127.0.0.1:0";
    if (tls) o.tls = TlsFiles{pki.serverCert, pki.serverKey};
    o.limits = limits;
    auto s = HttpServer::start(o, [this](Request r, std::shared_ptr<ResponseWriter> w) {
      handle(std::move(r), std::move(w));
    });
    REQUIRE(s.ok());
    server = std::move(*s);
  }
  ~Fixture() {
    server->stop();
    std::filesystem::remove_all(dir);
  }

  void handle(Request r, std::shared_ptr<ResponseWriter> w) {
    ++requests;
    if (r.path == "/echo") {
      std::string out = r.method + " " + r.path;
      for (const auto& [k, v] : r.query) out += " " + k + "=" + v;
      out += " body=" + std::to_string(r.body.size());
      out += " ua=" + r.header("user-agent");
      w->respond(200, "text/plain", out, {{"X-Test", "1"}});
    } else if (r.path == "/stream") {
      w->startStream(200, "application/json");
      w->onClose([this] { ++closes; });
      w->write("a\n");
      w->write("b\n");
      std::lock_guard<std::mutex> lock(mu);
      streams.push_back(w);
    } else if (r.path == "/stream-from-elsewhere") {
      // As a watch does: the stream starts on the I/O thread and another
      // thread (the hub's) writes before the handler has returned.
      w->startStream(200, "text/plain");
      std::thread([w] {
        w->write("first\n");
        w->write("second\n");
        w->end();
      }).join();
    } else if (r.path == "/short-stream") {
      w->startStream(200, "text/plain");
      w->write("x");
      w->end();
    } else if (r.path == "/throw") {
      throw std::runtime_error("boom");
    } else if (r.path == "/drop") {
      // No answer at all.
    } else if (r.path == "/later") {
      std::thread([w] {
        std::this_thread::sleep_for(30ms);
        w->respond(201, "text/plain", "later");
      }).detach();
    } else {
      w->respond(404, "application/json", statusJson(404, "NotFound", "no " + r.path));
    }
  }

  std::shared_ptr<ResponseWriter> lastStream() {
    std::lock_guard<std::mutex> lock(mu);
    return streams.empty() ? nullptr : streams.back();
  }
};

TEST_CASE("parseTarget decodes path and query", "[http]") {
  std::string path;
  std::multimap<std::string, std::string> q;
  REQUIRE(parseTarget("/api/v1/namespaces/a%20b/pods?watch=1&labelSelector=app%3Dweb&x=a+b&x=2",
                      path, q));
  CHECK(path == "/api/v1/namespaces/a b/pods");
  CHECK(q.size() == 4);
  CHECK(q.find("labelSelector")->second == "app=web");
  auto range = q.equal_range("x");
  REQUIRE(std::distance(range.first, range.second) == 2);
  CHECK(range.first->second == "a b");
  CHECK(std::next(range.first)->second == "2");
  CHECK(q.find("watch")->second == "1");
  CHECK(parseTarget("/readyz?verbose", path, q));
  CHECK(q.count("verbose") == 1);
  CHECK_FALSE(parseTarget("/bad%zz", path, q));
  CHECK_FALSE(parseTarget("http://x/", path, q));
}

TEST_CASE("splitHostPort", "[http]") {
  std::string h;
  uint16_t p = 0;
  CHECK(splitHostPort("127.0.0.1:6443", h, p));
  CHECK((h == "127.0.0.1" && p == 6443));
  CHECK(splitHostPort("[::1]:0", h, p));
  CHECK((h == "::1" && p == 0));
  CHECK(splitHostPort(":8080", h, p));
  CHECK(h.empty());
  CHECK_FALSE(splitHostPort("127.0.0.1", h, p));
  CHECK_FALSE(splitHostPort("1.2.3.4:99999", h, p));
  CHECK_FALSE(splitHostPort("::1:80", h, p));
}

TEST_CASE("statusJson is a Kubernetes Status", "[http]") {
  CHECK(statusJson(401, "Unauthorized", "Unauthorized") ==
        R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)"
        R"("message":"Unauthorized","reason":"Unauthorized","code":401})");
}

TEST_CASE("HttpServer answers over TLS and keeps connections alive", "[http]") {
  Fixture f;
  HttpsTestClient c(f.server->port(), f.pki.caCert);
  REQUIRE(c.ok());
  auto r1 = c.request("GET", "/echo?a=1&b=x%2Fy", "", {{"User-Agent", "t/1"}});
  CHECK(r1.status == 200);
  CHECK(r1.body == "GET /echo a=1 b=x/y body=0 ua=t/1");
  CHECK(r1.headers["x-test"] == "1");
  CHECK(r1.headers["content-length"] == std::to_string(r1.body.size()));
  CHECK(r1.keepAlive);
  uint16_t local = c.localPort();
  auto r2 = c.request("POST", "/echo", std::string(1000, 'x'));
  CHECK(r2.status == 200);
  CHECK(r2.body == "POST /echo body=1000 ua=");
  auto r3 = c.request("GET", "/later");
  CHECK(r3.status == 201);
  CHECK(r3.body == "later");
  CHECK(c.localPort() == local);
  CHECK(f.server->connectionCount() == 1);
  CHECK(f.requests == 3);
}

TEST_CASE("HttpServer rejects a 10 MB body with 413 and keeps serving", "[http]") {
  Fixture f;
  std::string big(10 * 1024 * 1024, 'x');
  // Content-Length known up front.
  HttpsTestClient c(f.server->port());
  std::atomic<bool> stop{false};
  std::atomic<int> served{0};
  std::thread other([&] {
    HttpsTestClient o(f.server->port());
    while (!stop) {
      if (o.request("GET", "/echo").status == 200) ++served;
    }
  });
  auto r = c.request("POST", "/echo", big, {{"Content-Type", "application/json"}});
  CHECK(r.status == 413);
  CHECK(r.body.find(R"("reason":"RequestEntityTooLarge")") != std::string::npos);
  CHECK(r.body.find(R"("code":413)") != std::string::npos);
  CHECK_FALSE(r.keepAlive);
  // Chunked upload, no length known: the limit trips while reading the body.
  HttpsTestClient c2(f.server->port());
  auto r2 = c2.request("PUT", "/echo", big, {{"Transfer-Encoding", "chunked"}});
  CHECK(r2.status == 413);
  // Just under the limit passes.
  HttpsTestClient c3(f.server->port());
  auto r3 = c3.request("POST", "/echo", std::string(3 * 1024 * 1024, 'y'));
  CHECK(r3.status == 200);
  CHECK(r3.body == "POST /echo body=3145728 ua=");
  stop = true;
  other.join();
  CHECK(served > 0);
  CHECK(f.requests == served + 1);  // the oversized requests never reached the handler
}

TEST_CASE("HttpServer streams chunks and notices a client that left", "[http]") {
  Fixture f;
  HttpsTestClient c(f.server->port());
  auto head = c.startStream("/stream");
  REQUIRE(head.status == 200);
  CHECK(head.headers["transfer-encoding"] == "chunked");
  CHECK(c.readStream(4, 2s) == "a\nb\n");
  auto w = f.lastStream();
  REQUIRE(w);
  CHECK(w->write("{\"type\":\"ADDED\"}\n"));
  CHECK(c.readStream(17, 2s) == "{\"type\":\"ADDED\"}\n");
  CHECK_FALSE(w->closed());
  CHECK(f.closes == 0);
  c.abort();
  CHECK(eventually([&] { return f.closes == 1; }));
  CHECK(w->closed());
  CHECK_FALSE(w->write("more"));
  CHECK(eventually([&] { return f.server->connectionCount() == 0; }));
}

TEST_CASE("HttpServer ends a stream and keeps the connection for the next request", "[http]") {
  Fixture f;
  HttpsTestClient c(f.server->port());
  auto head = c.startStream("/short-stream");
  REQUIRE(head.status == 200);
  bool ended = false;
  CHECK(c.readStream(100, 2s, &ended) == "x");
  CHECK(ended);
  auto r = c.request("GET", "/echo");
  CHECK(r.status == 200);
  CHECK(f.server->connectionCount() == 1);
}

TEST_CASE("HttpServer keeps the order of a stream's start and writes from other threads",
          "[http]") {
  Fixture f;
  HttpsTestClient c(f.server->port());
  for (int i = 0; i < 20; ++i) {
    auto head = c.startStream("/stream-from-elsewhere");
    REQUIRE(head.status == 200);
    bool ended = false;
    CHECK(c.readStream(100, 2s, &ended) == "first\nsecond\n");
    CHECK(ended);
  }
}

TEST_CASE("HttpServer drops a slow client once 4 MiB is queued", "[http]") {
  Fixture f;
  HttpsTestClient c(f.server->port());
  REQUIRE(c.startStream("/stream").status == 200);
  auto w = f.lastStream();
  REQUIRE(w);
  std::string chunk(64 * 1024, 'z');
  int accepted = 0;
  bool refused = false;
  // Kernel buffers absorb a few MiB; the queue limit must trip well before 64 MiB.
  for (int i = 0; i < 1024; ++i) {
    if (!w->write(chunk)) {
      refused = true;
      break;
    }
    ++accepted;
  }
  CHECK(refused);
  // About the 4 MiB the limit allows: the chunked encoding's few bytes per
  // chunk may trip it one chunk early when the kernel has taken none yet.
  CHECK(accepted >= 4 * 16 - 1);
  CHECK(eventually([&] { return f.closes == 1; }));
  CHECK(w->closed());
}

TEST_CASE("HttpServer turns handler failures into 500 Status", "[http]") {
  Fixture f;
  HttpsTestClient c(f.server->port());
  auto r = c.request("GET", "/throw");
  CHECK(r.status == 500);
  CHECK(r.body.find(R"("reason":"InternalError")") != std::string::npos);
  CHECK(r.body.find("boom") != std::string::npos);
  HttpsTestClient c2(f.server->port());
  auto r2 = c2.request("GET", "/drop");
  CHECK(r2.status == 500);
  // The server is fine afterwards.
  HttpsTestClient c3(f.server->port());
  CHECK(c3.request("GET", "/echo").status == 200);
}

TEST_CASE("HttpServer answers malformed HTTP with 400 and closes", "[http]") {
  Fixture f;
  HttpsTestClient c(f.server->port());
  std::string out = c.raw("GET /echo HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n", 2s);
  CHECK(out.rfind("HTTP/1.1 400 Bad Request\r\n", 0) == 0);
  CHECK(out.find(R"("reason":"BadRequest")") != std::string::npos);
  CHECK(c.closedByPeer());
  HttpsTestClient c2(f.server->port());
  std::string big(100 * 1024, 'h');
  out = c2.raw("GET /echo HTTP/1.1\r\nHost: x\r\nX-Big: " + big + "\r\n\r\n", 2s);
  CHECK(out.rfind("HTTP/1.1 431 ", 0) == 0);
}

TEST_CASE("HttpServer closes idle connections", "[http]") {
  HttpLimits limits;
  limits.idleTimeout = 200ms;
  Fixture f(limits);
  HttpsTestClient c(f.server->port());
  CHECK(c.request("GET", "/echo").status == 200);
  CHECK(f.server->connectionCount() == 1);
  CHECK(eventually([&] { return f.server->connectionCount() == 0; }, 2s));
}

TEST_CASE("HttpServer stop() closes streams and fires onClose", "[http]") {
  Fixture f;
  HttpsTestClient c(f.server->port());
  REQUIRE(c.startStream("/stream").status == 200);
  REQUIRE(eventually([&] { return f.lastStream() != nullptr; }));
  f.server->stop();
  CHECK(f.closes == 1);
  CHECK_FALSE(f.lastStream()->write("x"));
}

TEST_CASE("HttpServer names the listen error", "[http]") {
  Fixture f;
  HttpServerOptions o;
  o.listen = "127.0.0.1:" + std::to_string(f.server->port());
  auto s = HttpServer::start(o, [](Request, std::shared_ptr<ResponseWriter>) {});
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().message == "listen " + o.listen + ": Address already in use");
  o.listen = "nonsense";
  s = HttpServer::start(o, [](Request, std::shared_ptr<ResponseWriter>) {});
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().message.rfind("listen nonsense", 0) == 0);
}

// 1,000 concurrent watch streams over plain HTTP (raw sockets keep the client
// cheap): every stream gets every event; two I/O threads serve them all.
TEST_CASE("HttpServer carries 1000 concurrent streams", "[http]") {
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  if (rl.rlim_cur < 2200 && rl.rlim_max >= 2200) {
    rl.rlim_cur = 2200;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  getrlimit(RLIMIT_NOFILE, &rl);
  if (rl.rlim_cur < 2200) {
    WARN("RLIMIT_NOFILE too low for 1000 streams; skipped");
    return;
  }
  Fixture f({}, /*tls=*/false);
  constexpr int kStreams = 1000;
  std::vector<int> fds;
  for (int i = 0; i < kStreams; ++i) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(f.server->port());
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    std::string req = "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n";
    REQUIRE(send(fd, req.data(), req.size(), 0) == ssize_t(req.size()));
    fds.push_back(fd);
  }
  REQUIRE(eventually(
      [&] {
        std::lock_guard<std::mutex> lock(f.mu);
        return f.streams.size() == kStreams;
      },
      20s));
  {
    std::lock_guard<std::mutex> lock(f.mu);
    for (auto& w : f.streams) CHECK(w->write("event-1\n"));
  }
  int complete = 0;
  for (int fd : fds) {
    std::string got;
    timeval tv{5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buf[4096];
    while (got.find("event-1\n") == std::string::npos) {
      ssize_t n = recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      got.append(buf, size_t(n));
    }
    if (got.find("event-1\n") != std::string::npos) ++complete;
  }
  CHECK(complete == kStreams);
  for (int fd : fds) close(fd);
  CHECK(eventually([&] { return f.closes == kStreams; }, 10s));
}

}  // namespace
}  // namespace skiff::apiserver
