// A port-forward session (see port_forward.h). The reader thread owns the
// stream tables and the inflate side; the forwards' pump threads only write
// frames (under writeMu_, which also guards the deflate side, since header
// blocks must be compressed in the order they go out) and read their own
// socket. A forward's socket is closed only by the reader thread, after its
// pump was joined; until then the reader only shutdown()s it.
#include "kubelet/port_forward.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "base/log.h"
#include "base/thread.h"
#include "base/url.h"
#include "kubelet/http_conn.h"
#include "kubelet/runtime.h"
#include "kubelet/sandbox.h"
#include "kubelet/spdy.h"

namespace skiff::kubelet {
namespace {

// Pairs waiting for their second stream, or forwarding, at once: a bound on
// what one client can make the kubelet hold.
constexpr size_t kMaxForwards = 1024;

struct Forward {
  std::string requestId;
  uint16_t port = 0;
  uint32_t errorStream = 0;
  uint32_t dataStream = 0;
  bool dataFinAtOpen = false;  // the data stream's SYN_STREAM carried FIN
  bool started = false;        // dialled (or failed to)
  bool clientDone = false;     // the client finished or reset the data stream
  int fd = -1;                 // the pod connection, while open
  std::thread pump;
  std::atomic<bool> reset{false};     // the client reset the data stream
  std::atomic<bool> pumpDone{false};  // set as the pump's last act
};

class Session {
 public:
  Session(SpdyTransport& transport, const PortDialer& dial, std::string sandboxId,
          const std::atomic<bool>* stopping)
      : transport_(transport), dial_(dial), sandboxId_(std::move(sandboxId)), stopping_(stopping) {}

  void run() {
    spdy::FrameReader reader;
    std::string chunk;
    bool open = true;
    while (open) {
      chunk.clear();
      if (!transport_.read(chunk)) break;
      reader.feed(chunk);
      for (;;) {
        auto frame = reader.next();
        if (!frame) {
          logWarn("port-forward: bad frame from the client",
                  {{"pod", sandboxId_}, {"error", frame.error().message}});
          send(spdy::goAwayFrame(lastClientStream_, spdy::kProtocolError));
          open = false;
          break;
        }
        if (!frame->has_value()) break;
        if (!handle(**frame)) {
          open = false;
          break;
        }
      }
      reap(false);
    }
    reap(true);
  }

 private:
  // False when the session must end.
  bool handle(const spdy::Frame& f) {
    if (!f.control) {
      onData(f);
      return true;
    }
    switch (f.type) {
      case spdy::kSynStream:
        return onSynStream(f);
      case spdy::kHeaders: {
        // Nothing to do with them, but their block is part of the zlib stream.
        auto headers = inflater_.decompress(f.payload);
        if (!headers) return protocolError(headers.error().message);
        return true;
      }
      case spdy::kRstStream:
        onReset(f.streamId);
        return true;
      case spdy::kPing:
        // Odd ids are the client's own pings: echo them. Even ones would be
        // answers to ours, and we send none.
        if (f.value % 2 == 1) send(spdy::pingFrame(f.value));
        return true;
      case spdy::kGoAway:
        return false;
      default:
        return true;  // SETTINGS, WINDOW_UPDATE, SYN_REPLY, unknown: nothing to do
    }
  }

  bool protocolError(const std::string& message) {
    logWarn("port-forward: protocol error", {{"pod", sandboxId_}, {"error", message}});
    send(spdy::goAwayFrame(lastClientStream_, spdy::kProtocolError));
    return false;
  }

  void refuse(uint32_t streamId, const std::string& why) {
    logWarn("port-forward: stream rejected",
            {{"pod", sandboxId_}, {"stream", std::to_string(streamId)}, {"error", why}});
    send(spdy::rstStreamFrame(streamId, spdy::kCancel));
  }

  bool onSynStream(const spdy::Frame& f) {
    auto headers = inflater_.decompress(f.payload);
    if (!headers) return protocolError(headers.error().message);
    if (f.streamId % 2 == 0 || f.streamId <= lastClientStream_) {
      send(spdy::rstStreamFrame(f.streamId, spdy::kProtocolError));
      return true;
    }
    lastClientStream_ = f.streamId;

    // Checked as Kubernetes' kubelet checks them.
    std::string portText = spdy::headerValue(*headers, "port");
    if (portText.empty()) {
      refuse(f.streamId, "\"port\" header is required");
      return true;
    }
    auto port = parsePort(portText);
    if (!port) {
      refuse(f.streamId, "unable to parse \"" + portText + "\" as a port");
      return true;
    }
    std::string type = spdy::headerValue(*headers, "streamtype");
    if (type != "error" && type != "data") {
      refuse(f.streamId, type.empty() ? std::string("\"streamtype\" header is required")
                                      : "invalid stream type \"" + type + "\"");
      return true;
    }
    std::string requestId = spdy::headerValue(*headers, "requestid");
    if (requestId.empty()) {
      // An old client: its pairs are consecutive streams, error first.
      requestId = std::to_string(type == "error" ? f.streamId : f.streamId - 2);
    }

    auto it = byRequest_.find(requestId);
    if (it == byRequest_.end()) {
      if (byRequest_.size() >= kMaxForwards) {
        refuse(f.streamId, "too many forwarded connections at once");
        return true;
      }
      auto fw = std::make_shared<Forward>();
      fw->requestId = requestId;
      it = byRequest_.emplace(requestId, fw).first;
    }
    std::shared_ptr<Forward> fw = it->second;
    uint32_t& slot = type == "error" ? fw->errorStream : fw->dataStream;
    if (slot != 0) {
      refuse(f.streamId, "error processing stream for request " + requestId + ": " + type +
                             " stream already assigned");
      return true;
    }
    slot = f.streamId;
    if (type == "data") {
      fw->port = *port;
      fw->dataFinAtOpen = (f.flags & spdy::kFlagFin) != 0;
    }
    byStream_[f.streamId] = fw;
    if (!sendReply(f.streamId)) return false;
    if (fw->errorStream != 0 && fw->dataStream != 0 && !fw->started) start(fw);
    return true;
  }

  void start(const std::shared_ptr<Forward>& fw) {
    fw->started = true;
    auto fd = dial_(fw->port);
    if (!fd) {
      std::string message = "error forwarding port " + std::to_string(fw->port) + " to pod " +
                            sandboxId_ + ", uid : " + fd.error().message;
      logWarn("port-forward failed", {{"pod", sandboxId_}, {"error", message}});
      send(spdy::dataFrame(fw->errorStream, 0, message));
      send(spdy::dataFrame(fw->errorStream, spdy::kFlagFin, ""));
      send(spdy::dataFrame(fw->dataStream, spdy::kFlagFin, ""));
      fw->pumpDone = true;
      return;
    }
    fw->fd = *fd;
    int one = 1;
    setsockopt(fw->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (fw->dataFinAtOpen) {
      ::shutdown(fw->fd, SHUT_WR);
      fw->clientDone = true;
    }
    logDebug("port-forward connected",
             {{"pod", sandboxId_}, {"port", std::to_string(fw->port)}, {"request", fw->requestId}});
    fw->pump = std::thread([this, fw] { pump(*fw); });
  }

  // The pod's bytes to the client, until the pod's EOF or a reset.
  void pump(Forward& fw) {
    nameThisThread("port-forward");
    char buf[32 * 1024];
    for (;;) {
      ssize_t n = ::recv(fw.fd, buf, sizeof buf, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0 || fw.reset) break;
      if (!send(spdy::dataFrame(fw.dataStream, 0, std::string_view(buf, size_t(n))))) break;
    }
    if (!fw.reset) send(spdy::dataFrame(fw.dataStream, spdy::kFlagFin, ""));
    send(spdy::dataFrame(fw.errorStream, spdy::kFlagFin, ""));
    fw.pumpDone = true;
  }

  void onData(const spdy::Frame& f) {
    auto it = byStream_.find(f.streamId);
    if (it == byStream_.end()) return;  // a stream already gone: late bytes
    Forward& fw = *it->second;
    if (f.streamId != fw.dataStream || fw.fd < 0 || fw.clientDone) return;
    std::string_view data = f.payload;
    while (!data.empty()) {
      ssize_t n = ::send(fw.fd, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        // The pod reads slowly: wait for it (every stream waits with it).
        if (stopping_ && *stopping_) break;
        pollfd p{fw.fd, POLLOUT, 0};
        ::poll(&p, 1, 500);
        continue;
      }
      if (n <= 0) break;  // the pod's side is gone; its pump will see it too
      data.remove_prefix(size_t(n));
    }
    if (f.flags & spdy::kFlagFin) {
      ::shutdown(fw.fd, SHUT_WR);
      fw.clientDone = true;
    }
  }

  void onReset(uint32_t streamId) {
    auto it = byStream_.find(streamId);
    if (it == byStream_.end()) return;
    Forward& fw = *it->second;
    if (streamId != fw.dataStream) return;
    fw.reset = true;
    fw.clientDone = true;
    if (fw.fd >= 0) ::shutdown(fw.fd, SHUT_RDWR);
  }

  // Forgets finished forwards (all of them, shutting their sockets, at the end).
  void reap(bool all) {
    for (auto it = byRequest_.begin(); it != byRequest_.end();) {
      Forward& fw = *it->second;
      if (all) {
        fw.reset = true;
        if (fw.fd >= 0) ::shutdown(fw.fd, SHUT_RDWR);
      } else if (!(fw.started && fw.pumpDone && (fw.clientDone || fw.fd < 0))) {
        ++it;
        continue;
      }
      if (fw.pump.joinable()) fw.pump.join();
      if (fw.fd >= 0) ::close(fw.fd);
      fw.fd = -1;
      byStream_.erase(fw.errorStream);
      byStream_.erase(fw.dataStream);
      it = byRequest_.erase(it);
    }
  }

  bool send(const std::string& frame) {
    std::lock_guard<std::mutex> lock(writeMu_);
    if (writeFailed_) return false;
    if (!transport_.write(frame)) writeFailed_ = true;
    return !writeFailed_;
  }

  bool sendReply(uint32_t streamId) {
    std::lock_guard<std::mutex> lock(writeMu_);
    if (writeFailed_) return false;
    auto block = deflater_.compress({});
    if (!block || !transport_.write(spdy::synReplyFrame(streamId, 0, *block))) writeFailed_ = true;
    return !writeFailed_;
  }

  SpdyTransport& transport_;
  const PortDialer& dial_;
  const std::string sandboxId_;
  const std::atomic<bool>* stopping_;  // may be null
  // Reader thread only:
  spdy::HeaderDecompressor inflater_;
  uint32_t lastClientStream_ = 0;
  std::map<std::string, std::shared_ptr<Forward>> byRequest_;
  std::map<uint32_t, std::shared_ptr<Forward>> byStream_;
  std::mutex writeMu_;
  spdy::HeaderCompressor deflater_;  // guarded by writeMu_
  bool writeFailed_ = false;         // guarded by writeMu_
};

// "connect: connection refused", as Go's net package words it.
std::string goConnectError(int err) {
  std::string text = std::strerror(err);
  if (!text.empty()) text[0] = char(std::tolower(static_cast<unsigned char>(text[0])));
  return "connect: " + text;
}

// A connected socket to the loopback address of `family`, or -1 and `error`.
int connectLoopback(int family, uint16_t port, std::string& error) {
  std::string shown = family == AF_INET ? "dial tcp4 127.0.0.1:" : "dial tcp6 [::1]:";
  shown += std::to_string(port) + ": ";
  int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = shown + "socket: " + std::strerror(errno);
    return -1;
  }
  int rc;
  if (family == AF_INET) {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    do {
      rc = ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
    } while (rc != 0 && errno == EINTR);
  } else {
    sockaddr_in6 sa{};
    sa.sin6_family = AF_INET6;
    sa.sin6_port = htons(port);
    sa.sin6_addr = in6addr_loopback;
    do {
      rc = ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
    } while (rc != 0 && errno == EINTR);
  }
  if (rc != 0) {
    error = shown + goConnectError(errno);
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

void servePortForward(SpdyTransport& transport, const PortDialer& dial,
                      const std::string& sandboxId, const std::atomic<bool>* stopping) {
  Session(transport, dial, sandboxId, stopping).run();
}

Result<int> dialPodPort(const std::string& netnsPath, const std::string& sandboxId, uint16_t port) {
  int fd = -1;
  std::string err4, err6;
  auto attempt = [&]() -> Status {
    fd = connectLoopback(AF_INET, port, err4);
    if (fd < 0) fd = connectLoopback(AF_INET6, port, err6);
    return {};
  };
  Status entered = netnsPath.empty() ? attempt() : inNetns(netnsPath, attempt);
  if (fd >= 0) return fd;
  std::string message = entered ? "failed to connect to localhost:" + std::to_string(port) +
                                      " inside namespace \"" + sandboxId + "\", IPv4: " + err4 +
                                      " IPv6 " + err6 + " "
                                : entered.error().message;
  if (!netnsPath.empty())
    message =
        "failed to execute portforward in network namespace \"" + netnsPath + "\": " + message;
  return makeError(Code::kInternal, message);
}

namespace {

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

}  // namespace

void servePortForwardRequest(Runtime& runtime, const std::atomic<bool>& stopping, int fd,
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
  bool supported =
      listsToken(offered, websocket ? kPortForwardTunnelProtocol : kPortForwardProtocol);
  bool channels = websocket && listsToken(offered, kChannelProtocol);  // rather than SPDY
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

}  // namespace skiff::kubelet
