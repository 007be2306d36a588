// servePortForward driven as kubectl drives it: a client speaking SPDY frames
// over one end of a socket pair, pods played by socket pairs the fake dialer
// hands out (and, for dialPodPort, a listener on the host's loopback).
#include "kubelet/port_forward.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <catch2/catch.hpp>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "kubelet/netlink.h"
#include "kubelet/sandbox.h"
#include "kubelet/spdy.h"

using namespace skiff;
using namespace skiff::kubelet;
namespace spdy = skiff::kubelet::spdy;

namespace {

class SocketTransport : public SpdyTransport {
 public:
  explicit SocketTransport(int fd) : fd_(fd) {}
  bool read(std::string& out) override {
    char buf[4096];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return false;
    out.append(buf, size_t(n));
    return true;
  }
  bool write(std::string_view b) override {
    while (!b.empty()) {
      ssize_t n = ::send(fd_, b.data(), b.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      b.remove_prefix(size_t(n));
    }
    return true;
  }

 private:
  int fd_;
};

bool readable(int fd, int ms = 5000) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, ms) == 1;
}

// Reads from a pod's end until `n` bytes or EOF.
std::string readPod(int fd, size_t n) {
  std::string out;
  char buf[4096];
  while (out.size() < n && readable(fd)) {
    ssize_t r = ::recv(fd, buf, std::min(sizeof buf, n - out.size()), 0);
    if (r <= 0) break;
    out.append(buf, size_t(r));
  }
  return out;
}

bool podSeesEof(int fd) {
  char c;
  return readable(fd) && ::recv(fd, &c, 1, 0) == 0;
}

// kubectl's side of the connection.
class Client {
 public:
  explicit Client(int fd) : fd_(fd) {}

  void open(uint32_t id, const std::string& type, const std::string& port,
            const std::string& requestId) {
    spdy::Headers h = {{"port", port}, {"streamtype", type}};
    if (!requestId.empty()) h.push_back({"requestid", requestId});
    auto block = deflater_.compress(h);
    REQUIRE(block);
    send(spdy::synStreamFrame(id, 0, 0, 0, *block));
  }
  void send(const std::string& bytes) {
    REQUIRE(::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) == ssize_t(bytes.size()));
  }
  // The next frame from the server (SYN_REPLY blocks inflated and checked).
  spdy::Frame next() {
    for (;;) {
      auto f = reader_.next();
      REQUIRE(f);
      if (f->has_value()) {
        spdy::Frame frame = std::move(**f);
        if (frame.control && frame.type == spdy::kSynReply) {
          auto h = inflater_.decompress(frame.payload);
          REQUIRE(h);
          CHECK(h->empty());
        }
        return frame;
      }
      REQUIRE(readable(fd_));
      char buf[4096];
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      REQUIRE(n > 0);
      reader_.feed(std::string_view(buf, size_t(n)));
    }
  }
  // Frames until `count` of them matched `want`; collects data per stream.
  void until(const std::function<bool(const spdy::Frame&)>& done) {
    for (;;) {
      spdy::Frame f = next();
      if (!f.control) {
        data[f.streamId] += f.payload;
        if (f.flags & spdy::kFlagFin) fin[f.streamId] = true;
      }
      if (f.control && f.type == spdy::kSynReply) replied[f.streamId] = true;
      if (f.control && f.type == spdy::kRstStream) reset[f.streamId] = true;
      if (done(f)) return;
    }
  }

  std::map<uint32_t, std::string> data;
  std::map<uint32_t, bool> fin, replied, reset;

 private:
  int fd_;
  spdy::FrameReader reader_;
  spdy::HeaderCompressor deflater_;
  spdy::HeaderDecompressor inflater_;
};

// A session on its own thread, with a dialer whose pods are socket pairs.
struct Harness {
  Harness() {
    int sv[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    clientFd = sv[0];
    serverFd = sv[1];
    dial = [this](uint16_t port) -> Result<int> {
      std::lock_guard<std::mutex> lock(mu);
      dialled.push_back(port);
      if (port == 9) return makeError(Code::kInternal, "nothing listens on 9");
      int p[2];
      if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p) != 0)
        return makeError(Code::kInternal, "socketpair");
      pods.push_back(p[1]);
      return p[0];
    };
    transport = std::make_unique<SocketTransport>(serverFd);
    thread = std::thread([this] {
      servePortForward(*transport, dial, "sandbox-1", &stopping);
      finished = true;
    });
  }
  ~Harness() {
    ::shutdown(clientFd, SHUT_RDWR);
    thread.join();
    ::close(clientFd);
    ::close(serverFd);
    for (int fd : pods) ::close(fd);
  }
  int pod(size_t i) {
    for (int tries = 0; tries < 500; ++tries) {
      {
        std::lock_guard<std::mutex> lock(mu);
        if (pods.size() > i) return pods[i];
      }
      ::usleep(10 * 1000);
    }
    FAIL("no pod connection " << i);
    return -1;
  }

  int clientFd = -1, serverFd = -1;
  PortDialer dial;
  std::unique_ptr<SocketTransport> transport;
  std::mutex mu;
  std::vector<uint16_t> dialled;  // guarded by mu
  std::vector<int> pods;          // guarded by mu: the pods' ends
  std::atomic<bool> stopping{false};
  std::atomic<bool> finished{false};
  std::thread thread;
};

}  // namespace

TEST_CASE("port-forward: bytes both ways, EOF each way, pings", "[port_forward]") {
  Harness h;
  Client c(h.clientFd);
  c.open(1, "error", "8080", "0");
  c.open(3, "data", "8080", "0");
  c.until([&](const spdy::Frame&) { return c.replied[1] && c.replied[3]; });
  int pod = h.pod(0);
  {
    std::lock_guard<std::mutex> lock(h.mu);
    CHECK(h.dialled == std::vector<uint16_t>{8080});
  }
  c.send(spdy::dataFrame(3, 0, "GET / HTTP/1.0\r\n\r\n"));
  CHECK(readPod(pod, 18) == "GET / HTTP/1.0\r\n\r\n");
  std::string big(200 * 1024, 'x');
  for (size_t i = 0; i < big.size(); ++i) big[i] = char('a' + i % 26);
  REQUIRE(::send(pod, big.data(), big.size(), 0) == ssize_t(big.size()));
  c.until([&](const spdy::Frame&) { return c.data[3].size() >= big.size(); });
  CHECK(c.data[3] == big);

  c.send(spdy::pingFrame(1));
  c.until([](const spdy::Frame& f) { return f.control && f.type == spdy::kPing && f.value == 1; });

  // The client's EOF half-closes the pod connection; the pod can still answer.
  c.send(spdy::dataFrame(3, spdy::kFlagFin, ""));
  CHECK(podSeesEof(pod));
  REQUIRE(::send(pod, "bye", 3, 0) == 3);
  ::shutdown(pod, SHUT_WR);
  c.until([&](const spdy::Frame&) { return c.fin[3] && c.fin[1]; });
  CHECK(c.data[3].substr(big.size()) == "bye");
  CHECK(c.data[1].empty());  // no error
}

TEST_CASE("port-forward: a failed dial is reported on the error stream", "[port_forward]") {
  Harness h;
  Client c(h.clientFd);
  c.open(1, "error", "9", "0");
  c.open(3, "data", "9", "0");
  c.until([&](const spdy::Frame&) { return c.fin[1] && c.fin[3]; });
  CHECK(c.data[1] == "error forwarding port 9 to pod sandbox-1, uid : nothing listens on 9");
  CHECK(c.data[3].empty());

  // The connection stays usable for the next forward.
  c.open(5, "error", "80", "1");
  c.open(7, "data", "80", "1");
  c.until([&](const spdy::Frame&) { return c.replied[7]; });
  int pod = h.pod(0);
  c.send(spdy::dataFrame(7, 0, "hi"));
  CHECK(readPod(pod, 2) == "hi");
}

TEST_CASE("port-forward: connections at once stay apart; a reset closes the pod's",
          "[port_forward]") {
  Harness h;
  Client c(h.clientFd);
  // Interleaved opens, as concurrent kubectl connections make them.
  c.open(1, "error", "80", "0");
  c.open(3, "error", "81", "1");
  c.open(5, "data", "81", "1");
  c.open(7, "data", "80", "0");
  c.until([&](const spdy::Frame&) { return c.replied[7]; });
  int podA = h.pod(0);  // dialled first: request 1 (port 81)
  int podB = h.pod(1);
  {
    std::lock_guard<std::mutex> lock(h.mu);
    CHECK(h.dialled == std::vector<uint16_t>{81, 80});
  }
  c.send(spdy::dataFrame(7, 0, "to-80"));
  c.send(spdy::dataFrame(5, 0, "to-81"));
  CHECK(readPod(podA, 5) == "to-81");
  CHECK(readPod(podB, 5) == "to-80");
  REQUIRE(::send(podA, "from-81", 7, 0) == 7);
  REQUIRE(::send(podB, "from-80", 7, 0) == 7);
  c.until([&](const spdy::Frame&) { return c.data[5].size() == 7 && c.data[7].size() == 7; });
  CHECK(c.data[5] == "from-81");
  CHECK(c.data[7] == "from-80");

  c.send(spdy::rstStreamFrame(5, spdy::kCancel));
  CHECK(podSeesEof(podA));
  // The other forward is untouched.
  c.send(spdy::dataFrame(7, 0, "more"));
  CHECK(readPod(podB, 4) == "more");
}

TEST_CASE("port-forward: bad streams are refused, garbage ends the session", "[port_forward]") {
  Harness h;
  Client c(h.clientFd);
  c.open(1, "error", "", "0");      // no port
  c.open(3, "error", "http", "1");  // not a number
  c.open(5, "stdin", "80", "2");    // not a port-forward stream type
  c.open(7, "error", "80", "3");
  c.open(9, "error", "80", "3");  // the pair's error stream again
  c.until([&](const spdy::Frame&) { return c.reset[9]; });
  CHECK(c.reset[1]);
  CHECK(c.reset[3]);
  CHECK(c.reset[5]);
  CHECK(c.replied[7]);
  CHECK_FALSE(c.reset[7]);
  {
    std::lock_guard<std::mutex> lock(h.mu);
    CHECK(h.dialled.empty());
  }
  c.send(std::string("\x80\x07\x00\x06\x00\x00\x00\x04\x00\x00\x00\x01", 12));  // SPDY/7
  c.until([](const spdy::Frame& f) { return f.control && f.type == spdy::kGoAway; });
  for (int i = 0; i < 500 && !h.finished; ++i) ::usleep(10 * 1000);
  CHECK(h.finished);
}

TEST_CASE("port-forward: the client leaving ends every forward", "[port_forward]") {
  auto h = std::make_unique<Harness>();
  Client c(h->clientFd);
  c.open(1, "error", "80", "0");
  c.open(3, "data", "80", "0");
  c.until([&](const spdy::Frame&) { return c.replied[3]; });
  int pod = h->pod(0);
  ::shutdown(h->clientFd, SHUT_RDWR);
  CHECK(podSeesEof(pod));
  for (int i = 0; i < 500 && !h->finished; ++i) ::usleep(10 * 1000);
  CHECK(h->finished);
}

TEST_CASE("port-forward: a pod that does not read holds the session until stopping",
          "[port_forward]") {
  Harness h;
  Client c(h.clientFd);
  c.open(1, "error", "80", "0");
  c.open(3, "data", "80", "0");
  c.until([&](const spdy::Frame&) { return c.replied[3]; });
  h.pod(0);  // connected, and never read
  std::thread sender([&] {
    std::string frame = spdy::dataFrame(3, 0, std::string(32 * 1024, 'x'));
    for (int i = 0; i < 2000; ++i)  // 64 MB: far more than the sockets buffer
      if (::send(h.clientFd, frame.data(), frame.size(), MSG_NOSIGNAL) <= 0) break;
  });
  ::usleep(300 * 1000);
  CHECK_FALSE(h.finished);
  h.stopping = true;
  ::shutdown(h.clientFd, SHUT_RDWR);
  for (int i = 0; i < 300 && !h.finished; ++i) ::usleep(10 * 1000);
  CHECK(h.finished);
  sender.join();
}

TEST_CASE("dialPodPort: localhost in the caller's namespace, Go's wording on failure",
          "[port_forward]") {
  int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(listener >= 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(listener, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
  REQUIRE(::listen(listener, 4) == 0);
  socklen_t len = sizeof sa;
  REQUIRE(::getsockname(listener, reinterpret_cast<sockaddr*>(&sa), &len) == 0);
  uint16_t port = ntohs(sa.sin_port);

  auto fd = dialPodPort("", "sb", port);
  REQUIRE(fd);
  CHECK(*fd >= 0);
  ::close(*fd);

  ::close(listener);  // now nothing listens there
  auto refused = dialPodPort("", "sb", port);
  REQUIRE_FALSE(refused);
  std::string p = std::to_string(port);
  CHECK(refused.error().message.rfind("failed to connect to localhost:" + p +
                                          " inside namespace \"sb\", IPv4: dial tcp4 127.0.0.1:" +
                                          p + ": connect: connection refused IPv6 ",
                                      0) == 0);

  auto noNetns = dialPodPort("/nonexistent/netns", "sb", port);
  REQUIRE_FALSE(noNetns);
  CHECK(noNetns.error().message.rfind(
            "failed to execute portforward in network namespace \"/nonexistent/netns\": ", 0) == 0);
}

TEST_CASE("dialPodPort: connects inside the pod's network namespace", "[root][port_forward]") {
  auto path = createNetns("/run/netns", "skiff-pftest-" + std::to_string(::getpid()));
  REQUIRE(path);
  struct Remove {
    std::string path;
    ~Remove() { (void)removeNetns(path); }
  } remove{*path};
  // A listener on the namespace's own 127.0.0.1 (the socket stays in it).
  int listener = -1;
  uint16_t port = 0;
  REQUIRE(inNetns(*path, [&]() -> Status {
    if (auto up = netlink::setLinkUp("lo"); !up) return up;
    listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    if (listener < 0 || ::bind(listener, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 ||
        ::listen(listener, 4) != 0 ||
        ::getsockname(listener, reinterpret_cast<sockaddr*>(&sa), &len) != 0)
      return makeError(Code::kInternal, "listen in the namespace failed");
    port = ntohs(sa.sin_port);
    return {};
  }));

  auto fd = dialPodPort(*path, "sb", port);
  REQUIRE(fd);
  int conn = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
  REQUIRE(conn >= 0);
  REQUIRE(::send(*fd, "in", 2, 0) == 2);
  CHECK(readPod(conn, 2) == "in");
  ::close(conn);
  ::close(*fd);

  ::close(listener);
  auto refused = dialPodPort(*path, "sb", port);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message.rfind(
            "failed to execute portforward in network namespace \"" + *path +
                "\": failed to connect to localhost:" + std::to_string(port),
            0) == 0);
  CHECK(refused.error().message.find("connect: connection refused") != std::string::npos);
}
