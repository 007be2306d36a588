// KubeletServer: the kubelet's own small HTTP endpoint, which the apiserver
// proxies `pods/log`, `pods/exec` and `pods/portforward` to
// (apiserver/pod_proxy.h). Clients never talk to it directly.
//
// Where it listens: plain HTTP on a loopback address only ("127.0.0.1:10250"
// by default; port 0 picks a free one). The kubelet agent advertises the bound
// port in its Node as status.daemonEndpoints.kubeletEndpoint.Port, with an
// InternalIP address of 127.0.0.1; the apiserver dials that address and port.
//
// Who may call it: every request must carry "Authorization: Bearer <token>"
// with `authToken`, the token the apiserver presents to kubelets. In skiff that
// is the admin token (DATA/pki/admin.token), which the kubelet also finds in
// its own kubeconfig (ClientConfig::token), so no extra secret is needed.
// Anything else gets 401; a non-loopback listen address is refused by start().
//
// Endpoints (the pod UID in the path picks the sandbox; the runtime knows pods
// only by UID):
//
//   GET /healthz                                           -> "ok"
//   GET /containerLogs/{ns}/{pod}/{uid}/{container}?follow=&tailLines=&
//       previous=&timestamps=&sinceSeconds=&sinceTime=&limitBytes=
//       -> 200 text/plain, the body delimited by the connection's close
//          (it streams while following); errors are 400/404 Status JSON.
//   GET /exec/{ns}/{pod}/{uid}/{container}?command=A&command=B&stdin=&
//       stdout=&stderr=&tty=   with a WebSocket upgrade offering
//       v5.channel.k8s.io or v4.channel.k8s.io (Kubernetes' remotecommand
//       protocol: binary messages whose first byte is the channel, 0 stdin,
//       1 stdout, 2 stderr, 3 error — a Status JSON sent once the command
//       ended, then the connection closes — 4 resize, and in v5 255 close:
//       [255, 0] ends stdin). With tty=true the command gets a pseudo-terminal
//       of the kubelet's (its controlling terminal, stdin/stdout/stderr all
//       on it, output on channel 1); resize messages ({"Width":W,"Height":H})
//       set its size, and a v5 close of stdin types ^D. Without tty, pipes.
//       Runtime::execCommand is always asked for tty=false: the terminal is
//       made here and handed to the runtime's command as its stdio.
//   GET /portForward/{ns}/{pod}/{uid}   with either upgrade kubectl tries:
//       Upgrade: websocket offering SPDY/3.1+portforward.k8s.io (kubectl >= 1.31:
//       the SPDY byte stream in binary WebSocket messages), or Upgrade:
//       SPDY/3.1 with X-Stream-Protocol-Version: portforward.k8s.io (its
//       fallback). Then Kubernetes' port-forward protocol (kubelet/port_forward.h):
//       each forwarded connection is a TCP connection to localhost:PORT made
//       inside the pod's network namespace (Runtime::listSandboxes' netnsPath).
//       404 "pod does not exist" (plain text, as Kubernetes' kubelet writes
//       it) when the runtime has no sandbox for the UID.
//       A WebSocket offering only v4.channel.k8s.io (the Python client's) gets
//       Kubernetes' older channel protocol instead, for the ports of the
//       `port` query parameters ("8080,9000", repeated; 400 without): port i
//       has channels 2i (data) and 2i+1 (error), each first carrying the port
//       (2 bytes, little-endian); each port is dialled once, at once.
//
// The command runs through Runtime::execCommand (e.g. `runc exec`), as a child
// of the kubelet process; a client that goes away kills it.
//
// Threads: one accept thread, one thread per connection (a handful at a time:
// only the apiserver connects), plus two output pumps per exec and one per
// forwarded connection. stop() closes the listener and every connection, kills
// running exec children and joins.
#pragma once

#include <sys/types.h>
#include <atomic>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "base/result.h"
#include "kubelet/runtime.h"

namespace skiff::kubelet {

struct KubeletServerOptions {
  std::string listen = "127.0.0.1:10250";  // loopback IP:PORT; port 0 = any free port
  std::string authToken;                   // required: the bearer token callers present
};

class KubeletServer {
 public:
  // `runtime` must outlive the server.
  KubeletServer(Runtime& runtime, KubeletServerOptions options);
  ~KubeletServer();
  KubeletServer(const KubeletServer&) = delete;
  KubeletServer& operator=(const KubeletServer&) = delete;

  // Binds and starts accepting; returns once connections are accepted.
  // kBadRequest for a non-loopback or malformed address or an empty token;
  // kUnavailable when the port is taken ("listen 127.0.0.1:10250: Address
  // already in use").
  Status start();
  // Closes everything and joins; idempotent.
  void stop();
  // The bound port (after start()).
  uint16_t port() const { return port_; }

 private:
  void acceptLoop();
  void serve(int fd);

  Runtime& runtime_;
  const KubeletServerOptions options_;
  int listenFd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread acceptThread_;
  std::mutex mu_;
  std::set<int> conns_;       // guarded by mu_: open connection sockets
  std::set<pid_t> children_;  // guarded by mu_: running exec commands
  struct Worker {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;  // set as the thread's last act
  };
  std::list<Worker> workers_;  // guarded by mu_
};

}  // namespace skiff::kubelet
