// The kubelet server's small HTTP/1.1 and WebSocket pieces over plain POSIX
// sockets (kubelet/server.cpp serves logs and exec with them,
// kubelet/port_forward.cpp port-forward): one request head read per
// connection (GET, no body), Status answers, and the server side of RFC 6455
// written by hand — the handshake (Sec-WebSocket-Accept = base64(SHA-1(key +
// GUID))), unmasked server frames, masked client frames with fragmentation,
// ping/pong, close — with every write under one mutex, since output comes from
// several threads while another reads.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace skiff::kubelet {

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

// Reads one request head (up to 64 KiB); false on EOF, a bad line or a bad escape.
bool readRequest(int fd, HttpRequest& req);
// Writes or reads all of `n` bytes; false once the peer is gone.
bool sendAll(int fd, std::string_view data);
bool recvAll(int fd, char* buf, size_t n);
// A Kubernetes Status answer with `status` (400, 401, 404, 405, else 500), then
// the connection is done.
void respondStatus(int fd, int status, const std::string& message);
bool constantTimeEquals(std::string_view a, std::string_view b);
// Whether the peer closed (or reset) the connection; never blocks.
bool peerGone(int fd);
// Whether a comma-separated header value ("v5.channel.k8s.io,
// v4.channel.k8s.io") lists `token` exactly (blanks around items ignored), as
// subprotocol negotiation compares them.
bool listsToken(std::string_view headerValue, std::string_view token);
// Sec-WebSocket-Accept for a client's Sec-WebSocket-Key.
std::string websocketAccept(const std::string& key);

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

}  // namespace skiff::kubelet
