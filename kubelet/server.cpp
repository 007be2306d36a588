// KubeletServer over plain POSIX sockets: one thread per connection reads one
// request (GET only, no body), answers it and closes the connection. Only the
// apiserver connects, a few times at once, so threads are simpler than an
// event loop and cost nothing that matters.
//
// The WebSocket side of exec is written by hand (RFC 6455, server role): the
// handshake (Sec-WebSocket-Accept = base64(SHA-1(key + GUID))), unmasked
// server frames, masked client frames with fragmentation, ping/pong, close.
// Doing it here rather than with Beast's websocket stream keeps every write —
// output pumps and pongs alike — under one mutex, since output comes from two
// threads while a third reads.
#include "kubelet/server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <vector>

#include "api/json.h"
#include "api/time.h"
#include "base/log.h"
#include "base/thread.h"
#include "base/url.h"
#include "kubelet/log_reader.h"
#include "kubelet/port_forward.h"

extern char** environ;

namespace skiff::kubelet {
namespace {

using api::Json;

// ---- small HTTP pieces ----

struct HttpRequest {
  std::string method, path;
  std::multimap<std::string, std::string> query;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string param(const std::string& k) const {
    auto it = query.find(k);
    return it == query.end() ? "" : it->second;
  }
  bool flag(const std::string& k) const {
    std::string v = param(k);
    return v == "1" || v == "t" || v == "T" || v == "true" || v == "TRUE" || v == "True";
  }
  std::string header(const std::string& k) const {
    auto it = headers.find(k);
    return it == headers.end() ? "" : it->second;
  }
};

bool sendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(size_t(n));
  }
  return true;
}

bool recvAll(int fd, char* buf, size_t n) {
  while (n > 0) {
    ssize_t r = ::recv(fd, buf, n, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    buf += r;
    n -= size_t(r);
  }
  return true;
}

// Reads the request head; false on EOF, garbage or more than 64 KiB.
bool readRequest(int fd, HttpRequest& req) {
  std::string head;
  char buf[4096];
  while (head.find("\r\n\r\n") == std::string::npos) {
    if (head.size() > 64 * 1024) return false;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    head.append(buf, size_t(n));
  }
  // Requests are GETs without a body: nothing after the head matters, except
  // that a WebSocket client waits for the 101 before sending frames.
  size_t eol = head.find("\r\n");
  std::string line = head.substr(0, eol);
  size_t s1 = line.find(' '), s2 = line.rfind(' ');
  if (s1 == std::string::npos || s2 == s1) return false;
  req.method = line.substr(0, s1);
  std::string target = line.substr(s1 + 1, s2 - s1 - 1);
  size_t q = target.find('?');
  if (!percentDecode(target.substr(0, q), false, req.path)) return false;
  if (q != std::string::npos && !parseQuery(std::string_view(target).substr(q + 1), req.query))
    return false;
  size_t pos = eol + 2;
  while (pos < head.size()) {
    size_t e = head.find("\r\n", pos);
    if (e == std::string::npos || e == pos) break;
    std::string h = head.substr(pos, e - pos);
    pos = e + 2;
    size_t colon = h.find(':');
    if (colon == std::string::npos) continue;
    std::string name = h.substr(0, colon);
    for (char& c : name) c = char(std::tolower(static_cast<unsigned char>(c)));
    std::string value = h.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.erase(0, 1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.pop_back();
    auto [it, inserted] = req.headers.emplace(name, value);
    if (!inserted) it->second += ", " + value;
  }
  return true;
}

const char* reasonFor(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    default:
      return "Internal Server Error";
  }
}

const char* statusReason(int status) {
  switch (status) {
    case 400:
      return "BadRequest";
    case 401:
      return "Unauthorized";
    case 404:
      return "NotFound";
    case 405:
      return "MethodNotAllowed";
    default:
      return "InternalError";
  }
}

void respondStatus(int fd, int status, const std::string& message) {
  Json body = {{"kind", "Status"},    {"apiVersion", "v1"}, {"metadata", Json::object()},
               {"status", "Failure"}, {"message", message}, {"reason", statusReason(status)},
               {"code", status}};
  std::string text = body.dump();
  std::string out =
      "HTTP/1.1 " + std::to_string(status) + " " + reasonFor(status) +
      "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(text.size()) +
      "\r\nConnection: close\r\n\r\n" + text;
  sendAll(fd, out);
}

bool constantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char d = 0;
  for (size_t i = 0; i < a.size(); ++i) d |= static_cast<unsigned char>(a[i] ^ b[i]);
  return d == 0;
}

// Whether the peer closed (or reset) the connection; never blocks.
bool peerGone(int fd) {
  pollfd p{fd, POLLIN | POLLRDHUP, 0};
  if (::poll(&p, 1, 0) <= 0) return false;
  if (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) return true;
  char c;
  ssize_t n = ::recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
  return n == 0;
}

// ---- containers ----

struct Target {
  std::string ns, pod, uid, container;
};

// The newest attempt of the container (or, with previous, the one before it).
Result<ContainerStatus> findContainer(Runtime& runtime, const Target& t, bool previous) {
  auto all = runtime.listContainers(t.uid);
  if (!all) return all.error();
  std::vector<ContainerStatus> mine;
  for (auto& c : *all)
    if (c.name == t.container) mine.push_back(c);
  std::sort(mine.begin(), mine.end(), [](const ContainerStatus& a, const ContainerStatus& b) {
    return a.attempt > b.attempt;
  });
  if (previous) {
    if (mine.size() < 2)
      return makeError(Code::kBadRequest, "previous terminated container \"" + t.container +
                                              "\" in pod \"" + t.pod + "\" not found");
    return mine[1];
  }
  if (mine.empty())
    return makeError(Code::kBadRequest,
                     "container \"" + t.container + "\" in pod \"" + t.pod + "\" is not available");
  return mine[0];
}

int httpFor(Code code) {
  switch (code) {
    case Code::kBadRequest:
      return 400;
    case Code::kNotFound:
      return 404;
    default:
      return 500;
  }
}

// ---- WebSocket ----

std::string websocketAccept(const std::string& key) {
  std::string in = key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(in.data()), in.size(), digest);
  unsigned char out[64];
  int n = EVP_EncodeBlock(out, digest, SHA_DIGEST_LENGTH);
  return std::string(reinterpret_cast<char*>(out), size_t(n));
}

class WebSocket {
 public:
  explicit WebSocket(int fd) : fd_(fd) {}

  // One binary message: channel byte + data. False once the peer is gone.
  bool sendChannel(uint8_t channel, std::string_view data) {
    std::string payload;
    payload.reserve(data.size() + 1);
    payload += char(channel);
    payload.append(data);
    return sendFrame(0x2, payload);
  }

  bool sendFrame(uint8_t opcode, std::string_view payload) {
    std::string frame;
    frame += char(0x80 | opcode);
    size_t n = payload.size();
    if (n < 126) {
      frame += char(n);
    } else if (n < 65536) {
      frame += char(126);
      frame += char((n >> 8) & 0xff);
      frame += char(n & 0xff);
    } else {
      frame += char(127);
      for (int i = 7; i >= 0; --i) frame += char((uint64_t(n) >> (8 * i)) & 0xff);
    }
    frame.append(payload);
    std::lock_guard<std::mutex> lock(writeMu_);
    return sendAll(fd_, frame);
  }

  // The next data message (text or binary, fragments joined); answers pings.
  // False on close, EOF or a protocol error.
  bool readMessage(std::string& out) {
    out.clear();
    for (;;) {
      unsigned char h[2];
      if (!recvAll(fd_, reinterpret_cast<char*>(h), 2)) return false;
      bool fin = h[0] & 0x80;
      uint8_t opcode = h[0] & 0x0f;
      bool masked = h[1] & 0x80;
      uint64_t len = h[1] & 0x7f;
      if (len == 126) {
        unsigned char e[2];
        if (!recvAll(fd_, reinterpret_cast<char*>(e), 2)) return false;
        len = (uint64_t(e[0]) << 8) | e[1];
      } else if (len == 127) {
        unsigned char e[8];
        if (!recvAll(fd_, reinterpret_cast<char*>(e), 8)) return false;
        len = 0;
        for (int i = 0; i < 8; ++i) len = (len << 8) | e[i];
      }
      if (len > (16u << 20)) return false;
      unsigned char mask[4] = {0, 0, 0, 0};
      if (masked && !recvAll(fd_, reinterpret_cast<char*>(mask), 4)) return false;
      std::string payload(size_t(len), '\0');
      if (len > 0 && !recvAll(fd_, payload.data(), size_t(len))) return false;
      if (masked)
        for (size_t i = 0; i < payload.size(); ++i) payload[i] = char(payload[i] ^ mask[i % 4]);
      if (opcode == 0x8) {  // close: echo it
        sendFrame(0x8, payload.substr(0, 2));
        return false;
      }
      if (opcode == 0x9) {
        sendFrame(0xA, payload);
        continue;
      }
      if (opcode == 0xA) continue;
      out += payload;
      if (fin) return true;
    }
  }

 private:
  int fd_;
  std::mutex writeMu_;
};

std::string exitStatusJson(int code, const std::vector<std::string>& argv) {
  if (code == 0) return Json{{"metadata", Json::object()}, {"status", "Success"}}.dump();
  std::string cmd;
  for (const auto& a : argv) cmd += (cmd.empty() ? "" : " ") + a;
  Json s = {
      {"metadata", Json::object()},
      {"status", "Failure"},
      {"message", "command terminated with non-zero exit code: error executing command [" + cmd +
                      "], exit code " + std::to_string(code)},
      {"reason", "NonZeroExitCode"},
      {"details",
       {{"causes", Json::array({{{"reason", "ExitCode"}, {"message", std::to_string(code)}}})}}}};
  return s.dump();
}

std::string failureStatusJson(const std::string& message) {
  return Json{{"metadata", Json::object()},
              {"status", "Failure"},
              {"message", message},
              {"reason", "InternalError"},
              {"code", 500}}
      .dump();
}

// ---- port-forward ----

// port-forward's SPDY bytes carried in binary WebSocket messages (Kubernetes'
// "SPDY over WebSocket" tunnel, subprotocol SPDY/3.1+portforward.k8s.io).
class WebSocketSpdyTransport : public SpdyTransport {
 public:
  explicit WebSocketSpdyTransport(WebSocket& ws) : ws_(ws) {}
  bool read(std::string& out) override { return ws_.readMessage(out); }
  bool write(std::string_view bytes) override { return ws_.sendFrame(0x2, bytes); }

 private:
  WebSocket& ws_;
};

// port-forward's SPDY bytes straight on the upgraded socket (Upgrade: SPDY/3.1).
class SocketSpdyTransport : public SpdyTransport {
 public:
  explicit SocketSpdyTransport(int fd) : fd_(fd) {}
  bool read(std::string& out) override {
    char buf[32 * 1024];
    for (;;) {
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      out.append(buf, size_t(n));
      return true;
    }
  }
  bool write(std::string_view bytes) override { return sendAll(fd_, bytes); }

 private:
  int fd_;
};

constexpr const char* kPortForwardProtocol = "portforward.k8s.io";
constexpr const char* kPortForwardTunnelProtocol = "SPDY/3.1+portforward.k8s.io";
constexpr const char* kChannelProtocol = "v4.channel.k8s.io";

// The `port` query parameters ("8080", "8080,9090", repeated), as Kubernetes'
// kubelet reads them for a WebSocket port-forward; the error is its text.
Result<std::vector<uint16_t>> channelPorts(const HttpRequest& req) {
  std::vector<uint16_t> ports;
  auto [it, end] = req.query.equal_range("port");
  if (it == end) return makeError(Code::kBadRequest, "query parameter \"port\" is required");
  for (; it != end; ++it) {
    if (it->second.empty())
      return makeError(Code::kBadRequest, "query parameter \"port\" cannot be empty");
    auto list = parsePortList(it->second);
    if (!list)
      return makeError(Code::kBadRequest, "unable to parse \"" + it->second + "\" as a port");
    ports.insert(ports.end(), list->begin(), list->end());
  }
  return ports;
}

// Kubernetes' WebSocket port-forward (v4.channel.k8s.io, the Python client's):
// port i has channels 2i (data) and 2i+1 (error); each channel first carries
// its port (2 bytes, little-endian); each port is dialled once, at once; its
// bytes flow as messages [channel][data]; a failed dial is written on the
// error channel. It ends when the client closes or every pod connection did.
void channelPortForward(WebSocket& ws, const std::vector<uint16_t>& ports, const PortDialer& dial,
                        const std::string& uid) {
  std::vector<int> fds(ports.size(), -1);
  for (size_t i = 0; i < ports.size(); ++i) {
    std::string portBytes = {char(ports[i] & 0xff), char(ports[i] >> 8)};
    if (!ws.sendChannel(uint8_t(2 * i), portBytes) ||
        !ws.sendChannel(uint8_t(2 * i + 1), portBytes))
      return;
  }
  std::vector<std::thread> pumps;
  std::atomic<size_t> open{0};
  for (size_t i = 0; i < ports.size(); ++i) {
    auto fd = dial(ports[i]);
    if (!fd) {
      ws.sendChannel(uint8_t(2 * i + 1), "error forwarding port " + std::to_string(ports[i]) +
                                             " to pod " + uid + ", uid : " + fd.error().message);
      continue;
    }
    fds[i] = *fd;
    ++open;
    pumps.emplace_back([&ws, &open, fd = *fd, channel = uint8_t(2 * i)] {
      nameThisThread("port-forward");
      char buf[32 * 1024];
      for (;;) {
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0 || !ws.sendChannel(channel, std::string_view(buf, size_t(n)))) break;
      }
      // The last pod connection gone ends the session, as Kubernetes' does.
      if (--open == 0) ws.sendFrame(0x8, std::string("\x03\xe8", 2));
    });
  }
  std::string msg;
  while (open > 0 && ws.readMessage(msg)) {
    if (msg.empty() || uint8_t(msg[0]) % 2 != 0 || size_t(uint8_t(msg[0])) / 2 >= fds.size())
      continue;  // error channels are the server's; unknown channels: nothing to do
    int fd = fds[uint8_t(msg[0]) / 2];
    if (fd >= 0) sendAll(fd, std::string_view(msg).substr(1));
  }
  for (int fd : fds)
    if (fd >= 0) ::shutdown(fd, SHUT_RDWR);
  for (auto& t : pumps) t.join();
  for (int fd : fds)
    if (fd >= 0) ::close(fd);
}

// GET /portForward/{ns}/{pod}/{uid}: the upgrade, then the session.
void portForward(Runtime& runtime, const std::atomic<bool>& stopping, int fd,
                 const HttpRequest& req, const std::string& ns, const std::string& pod,
                 const std::string& uid) {
  std::string upgrade = req.header("upgrade");
  for (char& ch : upgrade) ch = char(std::tolower(static_cast<unsigned char>(ch)));
  bool websocket = upgrade == "websocket";
  bool spdy = upgrade == "spdy/3.1";
  std::string key = req.header("sec-websocket-key");
  if ((!websocket && !spdy) || (websocket && key.empty())) {
    respondStatus(
        fd, 400,
        "port-forward needs an upgrade: Upgrade: websocket with the subprotocol " +
            std::string(kPortForwardTunnelProtocol) +
            ", or Upgrade: SPDY/3.1 with X-Stream-Protocol-Version: " + kPortForwardProtocol);
    return;
  }
  std::string offered =
      req.header(websocket ? "sec-websocket-protocol" : "x-stream-protocol-version");
  bool supported = false;
  bool channels = false;  // v4.channel.k8s.io rather than SPDY
  for (size_t pos = 0; pos <= offered.size();) {
    size_t comma = offered.find(',', pos);
    if (comma == std::string::npos) comma = offered.size();
    std::string p = offered.substr(pos, comma - pos);
    while (!p.empty() && (p.front() == ' ' || p.front() == '\t')) p.erase(0, 1);
    while (!p.empty() && (p.back() == ' ' || p.back() == '\t')) p.pop_back();
    supported = supported || p == (websocket ? kPortForwardTunnelProtocol : kPortForwardProtocol);
    channels = channels || (websocket && p == kChannelProtocol);
    pos = comma + 1;
  }
  channels = channels && !supported;  // kubectl's SPDY tunnel when both are offered
  std::vector<uint16_t> ports;
  if (channels) {
    auto parsed = channelPorts(req);
    if (!parsed) {
      respondStatus(fd, 400, parsed.error().message);
      return;
    }
    ports = std::move(*parsed);
    supported = true;
  }
  if (!supported) {
    respondStatus(fd, 400,
                  "none of the offered protocols (" + offered + ") is supported: use " +
                      (websocket ? kPortForwardTunnelProtocol : kPortForwardProtocol));
    return;
  }
  // The runtime knows pods by UID only; its sandbox holds the network namespace.
  auto sandboxes = runtime.listSandboxes();
  if (!sandboxes) {
    respondStatus(fd, 500, sandboxes.error().message);
    return;
  }
  const SandboxInfo* sandbox = nullptr;
  for (const auto& s : *sandboxes)
    if (s.podUid == uid) sandbox = &s;
  if (!sandbox) {
    // Plain text, as Kubernetes' kubelet writes it: kubectl then prints
    // "error upgrading connection: unable to upgrade connection: pod does not exist".
    sendAll(fd,
            "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 18\r\n"
            "Connection: close\r\n\r\npod does not exist");
    return;
  }
  std::string netns = sandbox->netnsPath;
  PortDialer dial = [netns, uid](uint16_t port) { return dialPodPort(netns, uid, port); };
  logInfo("port-forward started",
          {{"pod", ns + "/" + pod}, {"transport", websocket ? "websocket" : "spdy"}});
  if (websocket) {
    if (!sendAll(fd,
                 "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                 "Connection: Upgrade\r\nSec-WebSocket-Accept: " +
                     websocketAccept(key) + "\r\nSec-WebSocket-Protocol: " +
                     (channels ? kChannelProtocol : kPortForwardTunnelProtocol) + "\r\n\r\n"))
      return;
    WebSocket ws(fd);
    if (channels) {
      channelPortForward(ws, ports, dial, uid);
      logInfo("port-forward finished", {{"pod", ns + "/" + pod}});
      return;
    }
    WebSocketSpdyTransport transport(ws);
    skiff::kubelet::servePortForward(transport, dial, uid, &stopping);
    ws.sendFrame(0x8, std::string("\x03\xe8", 2));  // 1000 normal closure
  } else {
    if (!sendAll(fd, std::string("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
                                 "Upgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ") +
                         kPortForwardProtocol + "\r\n\r\n"))
      return;
    SocketSpdyTransport transport(fd);
    skiff::kubelet::servePortForward(transport, dial, uid, &stopping);
  }
  logInfo("port-forward finished", {{"pod", ns + "/" + pod}});
}

}  // namespace

// ---- the server ----

KubeletServer::KubeletServer(Runtime& runtime, KubeletServerOptions options)
    : runtime_(runtime), options_(std::move(options)) {}

KubeletServer::~KubeletServer() {
  stop();
}

Status KubeletServer::start() {
  if (options_.authToken.empty())
    return makeError(Code::kBadRequest,
                     "kubelet server: authToken is empty (pass the token the apiserver presents, "
                     "e.g. the admin token of the kubeconfig)");
  const std::string& listen = options_.listen;
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos)
    return makeError(Code::kBadRequest, "kubelet server: listen " + listen +
                                            ": invalid address (want 127.0.0.1:PORT)");
  std::string host = listen.substr(0, colon);
  if (host == "localhost") host = "127.0.0.1";
  int port = 0;
  try {
    port = std::stoi(listen.substr(colon + 1));
  } catch (...) {
    port = -1;
  }
  in_addr addr{};
  if (port < 0 || port > 65535 || inet_pton(AF_INET, host.c_str(), &addr) != 1)
    return makeError(Code::kBadRequest, "kubelet server: listen " + listen +
                                            ": invalid address (want 127.0.0.1:PORT)");
  if ((ntohl(addr.s_addr) >> 24) != 127)
    return makeError(Code::kBadRequest, "kubelet server: listen " + listen +
                                            ": only loopback addresses (127.0.0.0/8) are allowed");
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return makeError(Code::kInternal, std::string("socket: ") + std::strerror(errno));
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr = addr;
  sa.sin_port = htons(uint16_t(port));
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || ::listen(fd, 64) != 0) {
    int err = errno;
    ::close(fd);
    return makeError(Code::kUnavailable, "listen " + listen + ": " + std::strerror(err));
  }
  socklen_t len = sizeof sa;
  getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  port_ = ntohs(sa.sin_port);
  listenFd_ = fd;
  acceptThread_ = std::thread([this] { acceptLoop(); });
  logInfo("kubelet server listening", {{"address", host + ":" + std::to_string(port_)}});
  return {};
}

void KubeletServer::stop() {
  if (stopping_.exchange(true)) return;
  if (listenFd_ >= 0) ::shutdown(listenFd_, SHUT_RDWR);
  if (acceptThread_.joinable()) acceptThread_.join();
  if (listenFd_ >= 0) ::close(listenFd_);
  listenFd_ = -1;
  std::list<Worker> workers;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (int fd : conns_) ::shutdown(fd, SHUT_RDWR);
    for (pid_t pid : children_) ::kill(pid, SIGKILL);
    workers.swap(workers_);
  }
  for (auto& w : workers) w.thread.join();
}

void KubeletServer::acceptLoop() {
  nameThisThread("kubelet-server");
  while (!stopping_) {
    int fd = ::accept4(listenFd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (stopping_) break;
      if (errno == EMFILE || errno == ENFILE) {
        ::poll(nullptr, 0, 100);  // back off instead of spinning
        continue;
      }
      break;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) {
      ::close(fd);
      break;
    }
    conns_.insert(fd);
    // Finished workers are joined here, at the next connection.
    for (auto it = workers_.begin(); it != workers_.end();) {
      if (it->done->load()) {
        it->thread.join();
        it = workers_.erase(it);
      } else {
        ++it;
      }
    }
    auto done = std::make_shared<std::atomic<bool>>(false);
    workers_.push_back({std::thread([this, fd, done] {
                          serve(fd);
                          std::lock_guard<std::mutex> l(mu_);
                          conns_.erase(fd);
                          ::close(fd);
                          *done = true;
                        }),
                        done});
  }
}

void KubeletServer::serve(int fd) {
  HttpRequest req;
  if (!readRequest(fd, req)) return;
  std::string auth = req.header("authorization");
  if (auth.rfind("Bearer ", 0) != 0 || !constantTimeEquals(auth.substr(7), options_.authToken)) {
    respondStatus(fd, 401, "Unauthorized");
    return;
  }
  auto segs = splitPath(req.path);
  if (req.path == "/healthz") {
    sendAll(fd,
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n"
            "Connection: close\r\n\r\nok");
    return;
  }
  if (req.method != "GET" && req.method != "POST") {
    respondStatus(fd, 405, "the server does not allow this method on the requested resource");
    return;
  }
  if (segs.size() == 4 && segs[0] == "portForward") {
    portForward(runtime_, stopping_, fd, req, segs[1], segs[2], segs[3]);
    return;
  }
  if (segs.size() != 5 || (segs[0] != "containerLogs" && segs[0] != "exec")) {
    respondStatus(fd, 404, "the server could not find the requested resource");
    return;
  }
  Target t{segs[1], segs[2], segs[3], segs[4]};

  if (segs[0] == "containerLogs") {
    LogReadOptions opts;
    auto intParam = [&](const char* name, int64_t min, std::optional<int64_t>& out) -> bool {
      if (!req.query.count(name)) return true;
      try {
        size_t used = 0;
        std::string v = req.param(name);
        int64_t n = std::stoll(v, &used);
        if (used != v.size() || n < min) throw std::invalid_argument(v);
        out = n;
        return true;
      } catch (...) {
        respondStatus(fd, 400,
                      std::string(name) + ": Invalid value: \"" + req.param(name) +
                          "\": must be an integer >= " + std::to_string(min));
        return false;
      }
    };
    std::optional<int64_t> sinceSeconds;
    if (!intParam("tailLines", 0, opts.tailLines) || !intParam("limitBytes", 1, opts.limitBytes) ||
        !intParam("sinceSeconds", 1, sinceSeconds))
      return;
    if (sinceSeconds)
      opts.since = std::chrono::system_clock::now() - std::chrono::seconds(*sinceSeconds);
    if (req.query.count("sinceTime")) {
      auto st = api::parseTimePrecise(req.param("sinceTime"));
      if (!st) {
        respondStatus(fd, 400,
                      "sinceTime: Invalid value: \"" + req.param("sinceTime") +
                          "\": must be an RFC 3339 time");
        return;
      }
      opts.since = *st;
    }
    opts.timestamps = req.flag("timestamps");
    opts.follow = req.flag("follow");
    bool previous = req.flag("previous");
    auto c = findContainer(runtime_, t, previous);
    if (!c) {
      respondStatus(fd, httpFor(c.error().code), c.error().message);
      return;
    }
    if (c->logPath.empty()) {
      respondStatus(fd, 400,
                    "container \"" + t.container + "\" in pod \"" + t.pod + "\" has no log file");
      return;
    }
    std::string id = c->id;
    bool running = c->state == ContainerState::kRunning;
    bool headSent = false;
    auto sink = [&](std::string_view data) {
      if (!headSent) {
        headSent = true;
        if (!sendAll(fd,
                     "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                     "Connection: close\r\n\r\n"))
          return false;
      }
      return sendAll(fd, data);
    };
    // Asked about four times a second while the file is quiet; the runtime
    // (which may run `runc state`) at most once a second.
    auto lastAsked = std::chrono::steady_clock::now();
    auto keepFollowing = [&] {
      if (stopping_ || peerGone(fd)) return false;
      if (!running) return false;
      auto now = std::chrono::steady_clock::now();
      if (now - lastAsked < std::chrono::seconds(1)) return true;
      lastAsked = now;
      auto st = runtime_.containerStatus(id);
      running = st && st->state == ContainerState::kRunning;
      return running;
    };
    auto st = readCriLog(c->logPath, opts, sink, keepFollowing);
    if (!st && !headSent) {
      // A container that has not written anything yet has no file: no output.
      if (st.error().code != Code::kNotFound) {
        respondStatus(fd, 500, st.error().message);
        return;
      }
    }
    if (!headSent) sink("");
    ::shutdown(fd, SHUT_WR);
    return;
  }

  // ---- exec ----
  std::vector<std::string> command;
  for (auto [it, end] = req.query.equal_range("command"); it != end; ++it)
    command.push_back(it->second);
  if (command.empty()) {
    respondStatus(fd, 400, "you must specify at least 1 command");
    return;
  }
  std::string upgrade = req.header("upgrade");
  for (char& ch : upgrade) ch = char(std::tolower(static_cast<unsigned char>(ch)));
  std::string key = req.header("sec-websocket-key");
  if (upgrade != "websocket" || key.empty()) {
    respondStatus(fd, 400,
                  "exec needs a WebSocket upgrade (Upgrade: websocket) with the "
                  "v5.channel.k8s.io or v4.channel.k8s.io subprotocol");
    return;
  }
  std::string offered = req.header("sec-websocket-protocol");
  std::string protocol;
  for (const char* p : {"v5.channel.k8s.io", "v4.channel.k8s.io"}) {
    if (offered.find(p) != std::string::npos) {
      protocol = p;
      break;
    }
  }
  if (protocol.empty()) {
    respondStatus(fd, 400,
                  "none of the offered WebSocket subprotocols (" + offered +
                      ") is supported: use v5.channel.k8s.io or v4.channel.k8s.io");
    return;
  }
  auto c = findContainer(runtime_, t, false);
  if (!c) {
    respondStatus(fd, httpFor(c.error().code), c.error().message);
    return;
  }
  if (c->state != ContainerState::kRunning) {
    respondStatus(fd, 400,
                  "container \"" + t.container + "\" in pod \"" + t.pod + "\" is not running");
    return;
  }
  bool wantStdin = req.flag("stdin"), wantStdout = req.flag("stdout"),
       wantStderr = req.flag("stderr"), tty = req.flag("tty");
  if (tty) wantStderr = false;  // a terminal has one output
  auto argv = runtime_.execCommand(c->id, command, false);
  if (!argv) {
    respondStatus(fd, httpFor(argv.error().code), argv.error().message);
    return;
  }

  if (!sendAll(fd,
               "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
               "Connection: Upgrade\r\nSec-WebSocket-Accept: " +
                   websocketAccept(key) + "\r\nSec-WebSocket-Protocol: " + protocol + "\r\n\r\n"))
    return;
  WebSocket ws(fd);

  // Pipes: the child's ends are dup2'ed to 0/1/2; ours stay O_CLOEXEC.
  int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
  auto closeFd = [](int& f) {
    if (f >= 0) ::close(f);
    f = -1;
  };
  // With tty: a pseudo-terminal instead. Our side reads the master for
  // output (out[0]) and writes a duplicate of it for input and resizes
  // (in[1]); the child opens the slave as its controlling terminal.
  std::string slaveName;
  bool ioFailed = false;
  if (tty) {
    int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    char name[128];
    if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0 ||
        ptsname_r(master, name, sizeof name) != 0) {
      ioFailed = true;
      if (master >= 0) ::close(master);
    } else {
      slaveName = name;
      out[0] = master;
      in[1] = fcntl(master, F_DUPFD_CLOEXEC, 0);
      wantStdin = true;
    }
  } else {
    ioFailed = (wantStdin && pipe2(in, O_CLOEXEC) != 0) || pipe2(out, O_CLOEXEC) != 0 ||
               (wantStderr && pipe2(err, O_CLOEXEC) != 0);
  }
  if (ioFailed) {
    ws.sendChannel(3,
                   failureStatusJson(std::string(tty ? "pty: " : "pipe: ") + std::strerror(errno)));
    ws.sendFrame(0x8, "");
    for (int* f : {&in[0], &in[1], &out[0], &out[1], &err[0], &err[1]}) closeFd(*f);
    return;
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  if (tty) {
    // glibc runs setsid() before the file actions, so opening the slave
    // (without O_NOCTTY) makes it the child's controlling terminal.
    posix_spawn_file_actions_addopen(&fa, 0, slaveName.c_str(), O_RDWR, 0);
    posix_spawn_file_actions_adddup2(&fa, 0, 1);
    posix_spawn_file_actions_adddup2(&fa, 0, 2);
  } else {
    if (wantStdin) {
      posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    } else {
      posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    }
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    if (wantStderr) {
      posix_spawn_file_actions_adddup2(&fa, err[1], 2);
    } else {
      posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    }
  }
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  sigset_t all;
  sigfillset(&all);
  sigdelset(&all, SIGKILL);
  sigdelset(&all, SIGSTOP);
  posix_spawnattr_setsigdefault(&attr, &all);
  short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
  if (tty) flags |= POSIX_SPAWN_SETSID;
  posix_spawnattr_setflags(&attr, flags);
  std::vector<char*> cargv;
  for (auto& a : *argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  pid_t pid = -1;
  int rc;
  {
    // Registered before it can exit, so stop() can kill it.
    std::lock_guard<std::mutex> lock(mu_);
    rc = posix_spawnp(&pid, cargv[0], &fa, &attr, cargv.data(), environ);
    if (rc == 0) children_.insert(pid);
  }
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  closeFd(in[0]);
  closeFd(out[1]);
  closeFd(err[1]);
  if (rc != 0) {
    ws.sendChannel(3, failureStatusJson("exec " + (*argv)[0] + ": " + std::strerror(rc)));
    ws.sendFrame(0x8, "");
    closeFd(in[1]);
    closeFd(out[0]);
    closeFd(err[0]);
    return;
  }
  logInfo("exec started", {{"pod", t.ns + "/" + t.pod},
                           {"container", t.container},
                           {"command", command[0]},
                           {"protocol", protocol}});

  auto pump = [&ws](int from, uint8_t channel, bool forward) {
    char buf[32 * 1024];
    for (;;) {
      ssize_t n = ::read(from, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // EOF, or EIO from a pty master once the child is gone
      if (forward) ws.sendChannel(channel, std::string_view(buf, size_t(n)));
    }
  };
  std::thread outPump(pump, out[0], uint8_t(1), wantStdout);
  std::thread errPump;
  if (err[0] >= 0) errPump = std::thread(pump, err[0], uint8_t(2), true);

  // Client -> stdin, on its own thread: it ends with the connection.
  std::atomic<bool> clientGone{false};
  std::mutex stdinMu;  // guards in[1] between the reader and the cleanup below
  std::thread reader([&] {
    std::string msg;
    while (ws.readMessage(msg)) {
      if (msg.empty()) continue;
      uint8_t channel = uint8_t(msg[0]);
      if (channel == 0) {
        std::lock_guard<std::mutex> lock(stdinMu);
        if (in[1] >= 0) {
          std::string_view data(msg.data() + 1, msg.size() - 1);
          while (!data.empty()) {
            ssize_t n = ::write(in[1], data.data(), data.size());
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) break;
            data.remove_prefix(size_t(n));
          }
        }
      } else if (channel == 255 && msg.size() >= 2 && uint8_t(msg[1]) == 0) {
        // v5: the client closed stdin. A terminal reads that as ^D.
        std::lock_guard<std::mutex> lock(stdinMu);
        if (tty && in[1] >= 0) {
          (void)!::write(in[1], "\x04", 1);
        } else {
          closeFd(in[1]);
        }
      } else if (channel == 4 && tty) {
        // {"Width":80,"Height":24}
        auto size = api::parseJson(std::string_view(msg.data() + 1, msg.size() - 1));
        if (size && size->is_object()) {
          winsize wsz{};
          wsz.ws_col = static_cast<unsigned short>(size->value("Width", 0));
          wsz.ws_row = static_cast<unsigned short>(size->value("Height", 0));
          std::lock_guard<std::mutex> lock(stdinMu);
          if (in[1] >= 0 && wsz.ws_col > 0 && wsz.ws_row > 0) ::ioctl(in[1], TIOCSWINSZ, &wsz);
        }
      }
      // Anything else: ignored.
    }
    clientGone = true;
    {
      std::lock_guard<std::mutex> lock(stdinMu);
      closeFd(in[1]);
    }
    // The client left while the command runs: it will never read the result.
    std::lock_guard<std::mutex> lock(mu_);
    if (children_.count(pid)) ::kill(pid, SIGKILL);
  });

  outPump.join();
  if (errPump.joinable()) errPump.join();
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    children_.erase(pid);
  }
  closeFd(out[0]);
  closeFd(err[0]);
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (!clientGone) {
    ws.sendChannel(3, exitStatusJson(code, command));
    ws.sendFrame(0x8, std::string("\x03\xe8", 2));  // 1000 normal closure
  }
  // The reader ends on the client's close reply (or EOF). Closing with its
  // bytes unread would reset the connection and could cost the client the
  // end of the output, so wait for it, a bounded time.
  ::shutdown(fd, SHUT_WR);
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  reader.join();
  {
    std::lock_guard<std::mutex> lock(stdinMu);
    closeFd(in[1]);
  }
  logInfo("exec finished", {{"pod", t.ns + "/" + t.pod},
                            {"container", t.container},
                            {"exit_code", std::to_string(code)}});
}

}  // namespace skiff::kubelet
