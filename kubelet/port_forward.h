// The kubelet's side of `kubectl port-forward` (Kubernetes' portforward.k8s.io
// protocol over SPDY/3.1, kubelet/spdy.h): one upgraded connection from the
// apiserver carries any number of forwarded TCP connections.
//
// Per forwarded connection the client opens two SPDY streams, each with the
// headers `streamtype` ("error" or "data"), `port` and `requestid` (the pair's
// key; clients that omit it are paired by stream id, as Kubernetes does). The
// server answers each SYN_STREAM with an empty SYN_REPLY, and once both are
// open dials the pod's localhost:port (PortDialer). Then bytes flow both ways
// between the data stream and the TCP connection; a FIN from the client
// half-closes the TCP connection, the pod's EOF ends the data stream (FIN),
// and a RST_STREAM from the client closes the TCP connection. The error
// stream carries one message if the forward failed, like Kubernetes'
// kubelet: "error forwarding port 8080 to pod <sandbox>, uid : <why>"; either
// way the server then ends it (FIN). PINGs from the client are echoed; SPDY
// flow control is not used (moby/spdystream neither sends nor honours
// WINDOW_UPDATE), so WINDOW_UPDATE and SETTINGS are ignored.
//
// Threads: servePortForward runs on the caller's thread, which reads frames
// and writes to the pods' sockets; each forward adds one thread copying the
// pod's bytes to the client. Writes to the transport are serialised inside.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace skiff::kubelet {

// The byte stream a session runs over (an upgraded socket, or a WebSocket's
// binary messages).
class SpdyTransport {
 public:
  virtual ~SpdyTransport() = default;
  // Appends the next bytes that arrived to `out`; false once the peer is gone.
  virtual bool read(std::string& out) = 0;
  // Sends bytes in order; false once the peer is gone. Called under the
  // session's write lock (one writer at a time).
  virtual bool write(std::string_view bytes) = 0;
};

// Opens a TCP connection to the pod's localhost:port: a connected socket the
// session then owns, or the error whose message goes to the client.
using PortDialer = std::function<Result<int>(uint16_t port)>;

// Serves one connection until the client leaves (EOF, GOAWAY or a protocol
// error) and every forward has ended; closes every socket it was given.
// `sandboxId` names the pod in error messages. SPDY has no flow control here,
// so a pod that does not read holds up the whole connection (as with
// Kubernetes' kubelet); `stopping` (when given) set true ends such a wait
// within half a second, so the owner can shut down.
void servePortForward(SpdyTransport& transport, const PortDialer& dial,
                      const std::string& sandboxId, const std::atomic<bool>* stopping = nullptr);

// Connects to localhost:port inside the network namespace at `netnsPath`
// ("" = the caller's, for hostNetwork pods): 127.0.0.1 first, then ::1, from
// a thread that entered the namespace (the socket keeps it). The error reads
// as containerd's: failed to execute portforward in network namespace "P":
// failed to connect to localhost:8080 inside namespace "ID", IPv4: dial tcp4
// 127.0.0.1:8080: connect: connection refused IPv6 dial tcp6 [::1]:8080: ...
Result<int> dialPodPort(const std::string& netnsPath, const std::string& sandboxId, uint16_t port);

class Runtime;
struct HttpRequest;
// The kubelet server's GET /portForward/{ns}/{pod}/{uid} on connection `fd`
// (see kubelet/server.h): checks the upgrade, finds the pod's sandbox in
// `runtime`, answers 101 and serves the session (SPDY, or the channel
// protocol for a WebSocket offering only v4.channel.k8s.io) until it ends;
// `stopping` set ends it within half a second.
void servePortForwardRequest(Runtime& runtime, const std::atomic<bool>& stopping, int fd,
                             const HttpRequest& req, const std::string& ns, const std::string& pod,
                             const std::string& uid);

}  // namespace skiff::kubelet
