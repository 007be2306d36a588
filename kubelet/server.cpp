// KubeletServer over plain POSIX sockets: one thread per connection reads one
// request (GET only, no body), answers it and closes the connection. Only the
// apiserver connects, a few times at once, so threads are simpler than an
// event loop and cost nothing that matters. The HTTP and WebSocket pieces are
// in kubelet/http_conn.h; port-forward's handler in kubelet/port_forward.cpp.
#include "kubelet/server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
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
#include "kubelet/http_conn.h"
#include "kubelet/log_reader.h"
#include "kubelet/port_forward.h"

extern char** environ;

namespace skiff::kubelet {
namespace {

using api::Json;

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
    servePortForwardRequest(runtime_, stopping_, fd, req, segs[1], segs[2], segs[3]);
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
    if (listsToken(offered, p)) {
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
