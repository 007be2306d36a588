// Control-plane benchmark (issue 2). Starts a real `skiff apiserver` (and, as
// the peer, Debian's etcd 3.4 through its JSON gateway) on loopback, in fresh
// temporary directories, and prints one JSON object per line:
//
//   {"bench":"startup", ...}     ready (healthz 200) after start, first and existing DB; idle RSS
//   {"bench":"create", ...}      acknowledged creates/s with 1 and 16 keep-alive clients, p50/p99
//   {"bench":"etcd_put", ...}    the same load against etcd (fsync'd, as skiff), and the ratio;
//                                then again with etcd serving TLS, as skiff does. The three
//                                take turns, round by round; each line gives the median round,
//                                every round's ops/s, and the median of the per-round ratios
//   {"bench":"list", ...}        listing 10,000 pods
//   {"bench":"watch", ...}       1,000 concurrent watchers: event latency after the write, p50/p99
//
// Usage: bench_control_plane [--skiff build/skiff] [--seconds 3] [--rounds 5] [--watchers 1000]
//                            [--only watch]
//        bench_control_plane --only create [--clients 16]   (the create load alone, for profiling)
// Only 127.0.0.1 is ever contacted.
#include <arpa/inet.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_util.h"

namespace fs = std::filesystem;
using skiff::bench::Clock;
using skiff::bench::msSince;
using skiff::bench::percentile;
using skiff::bench::rssKb;

namespace {

int freePort() {
  // Bind port 0 through a throwaway socket via /bin/python3-free approach: ask the kernel.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  int port = ntohs(a.sin_port);
  ::close(fd);
  return port;
}

pid_t spawn(const std::vector<std::string>& argv, const std::string& logPath) {
  pid_t pid = ::fork();
  if (pid == 0) {
    FILE* log = std::fopen(logPath.c_str(), "a");
    if (log) {
      ::dup2(fileno(log), 1);
      ::dup2(fileno(log), 2);
    }
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    _exit(127);
  }
  return pid;
}

void stop(pid_t pid) {
  if (pid <= 0) return;
  ::kill(pid, SIGTERM);
  int st;
  for (int i = 0; i < 100; ++i) {
    if (::waitpid(pid, &st, WNOHANG) == pid) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &st, 0);
}

size_t sink(char* p, size_t s, size_t n, void* ud) {
  if (ud) static_cast<std::string*>(ud)->append(p, s * n);
  return s * n;
}

// One keep-alive HTTP(S) client.
struct Http {
  CURL* c = curl_easy_init();
  curl_slist* headers = nullptr;
  std::string body;
  Http(const std::string& token, const std::string& ca) {
    if (!token.empty())
      headers = curl_slist_append(headers, ("Authorization: Bearer " + token).c_str());
    headers = curl_slist_append(headers, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
    // HTTP/1.1 everywhere: etcd's TLS port would otherwise negotiate HTTP/2,
    // and the peers would not carry the same load.
    curl_easy_setopt(c, CURLOPT_HTTP_VERSION, long(CURL_HTTP_VERSION_1_1));
    if (!ca.empty()) {
      curl_easy_setopt(c, CURLOPT_CAINFO, ca.c_str());
      curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    }
  }
  ~Http() {
    curl_slist_free_all(headers);
    curl_easy_cleanup(c);
  }
  long request(const char* method, const std::string& url, const std::string& data = "") {
    body.clear();
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (std::string(method) == "GET") {
      curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    } else {
      curl_easy_setopt(c, CURLOPT_POSTFIELDS, data.c_str());
      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, long(data.size()));
    }
    if (curl_easy_perform(c) != CURLE_OK) return -1;
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    return code;
  }
};

// One request of the create load.
struct LoadRequest {
  const char* method;
  std::string path, body;
};

// Parses the response at the front of `in`. Returns 0 while it is incomplete,
// -1 when it is malformed or not keep-alive, else its status code, with
// `used` set to its length and `close` to whether the server closes after it.
// The body is skipped: the load only needs the status.
long parseResponse(const std::string& in, size_t& used, bool& close) {
  size_t pos = 0;
  auto line = [&](std::string& out) {  // false: no whole line yet
    size_t eol = in.find("\r\n", pos);
    if (eol == std::string::npos) return false;
    out.assign(in, pos, eol - pos);
    pos = eol + 2;
    return true;
  };
  std::string l;
  if (!line(l)) return in.size() > 65536 ? -1 : 0;
  if (l.compare(0, 5, "HTTP/") != 0 || l.size() < 12) return -1;
  const long status = std::atol(l.c_str() + 9);
  long length = -1;
  bool chunked = false;
  close = false;
  for (;;) {
    if (!line(l)) return in.size() > 65536 ? -1 : 0;
    if (l.empty()) break;
    if (strncasecmp(l.c_str(), "content-length:", 15) == 0) {
      length = std::atol(l.c_str() + 15);
    } else if (strncasecmp(l.c_str(), "transfer-encoding:", 18) == 0) {
      chunked = l.find("chunked") != std::string::npos;
    } else if (strncasecmp(l.c_str(), "connection:", 11) == 0) {
      close = l.find("close") != std::string::npos;
    }
  }
  if (chunked) {
    for (;;) {  // size line, data, CRLF; after the last, trailers up to an empty line
      if (!line(l)) return 0;
      char* end = nullptr;
      const size_t size = std::strtoul(l.c_str(), &end, 16);
      if (end == l.c_str()) return -1;
      if (size == 0) break;
      if (in.size() < pos + size + 2) return 0;
      if (in.compare(pos + size, 2, "\r\n") != 0) return -1;
      pos += size + 2;
    }
    do {
      if (!line(l)) return 0;
    } while (!l.empty());
  } else if (length >= 0) {
    if (in.size() < pos + static_cast<size_t>(length)) return 0;
    pos += static_cast<size_t>(length);
  } else if (status != 204 && status != 304) {
    return -1;  // a body delimited by the connection's end: not keep-alive
  }
  used = pos;
  return status;
}

// The load generator's client: one keep-alive HTTP/1.1 connection, over TCP or
// TLS (the server's certificate checked against `ca`), non-blocking once
// connected, so that one thread drives every connection of the load through
// epoll (see runLoad). It writes each request in one piece and reads the
// response by its Content-Length or chunks. Both systems get the same client.
class LoadClient {
 public:
  // `tls`: nullptr for plain HTTP. `token`: a bearer token, or empty.
  LoadClient(int port, SSL_CTX* tls, const std::string& token) : port_(port), tls_(tls) {
    head_ = "Host: 127.0.0.1:" + std::to_string(port) + "\r\n";
    if (!token.empty()) head_ += "Authorization: Bearer " + token + "\r\n";
    head_ += "Content-Type: application/json\r\nAccept: application/json\r\n";
  }
  ~LoadClient() { disconnect(); }
  LoadClient(const LoadClient&) = delete;
  LoadClient& operator=(const LoadClient&) = delete;

  int fd() const { return fd_; }
  bool connected() const { return fd_ >= 0; }
  bool writing() const { return sent_ < out_.size(); }

  // Connects (blocking, the TLS handshake included), then turns the socket
  // non-blocking.
  bool connect() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port_));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    timeval limit{10, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      disconnect();
      return false;
    }
    if (tls_) {
      ssl_ = SSL_new(tls_);
      SSL_set_fd(ssl_, fd_);
      ERR_clear_error();
      if (SSL_connect(ssl_) != 1) {
        disconnect();
        return false;
      }
    }
    ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) | O_NONBLOCK);
    in_.clear();
    return true;
  }
  void disconnect() {
    if (ssl_) SSL_free(ssl_);
    ssl_ = nullptr;
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    out_.clear();
    sent_ = 0;
  }

  // Sends a request, as much as the socket takes now (the rest on flush()).
  bool send(const LoadRequest& r) {
    out_.clear();
    out_.append(r.method).append(" ").append(r.path).append(" HTTP/1.1\r\n").append(head_);
    out_.append("Content-Length: ").append(std::to_string(r.body.size())).append("\r\n\r\n");
    out_.append(r.body);
    sent_ = 0;
    return flush();
  }
  bool flush() {
    while (sent_ < out_.size()) {
      const int want = static_cast<int>(out_.size() - sent_);
      if (ssl_) {
        ERR_clear_error();
        int n = SSL_write(ssl_, out_.data() + sent_, want);
        if (n <= 0) return SSL_get_error(ssl_, n) == SSL_ERROR_WANT_WRITE;
        sent_ += static_cast<size_t>(n);
      } else {
        long n = ::send(fd_, out_.data() + sent_, static_cast<size_t>(want), MSG_NOSIGNAL);
        if (n < 0) return errno == EAGAIN;
        sent_ += static_cast<size_t>(n);
      }
    }
    return true;
  }
  // Reads what has arrived. Returns 0 while the response is incomplete, -1 on
  // an error or the connection's end, else the response's status.
  // The last response that was not a success, as received (cut at 300 bytes).
  const std::string& failedResponse() const { return failedResponse_; }

  long receive() {
    char buf[16384];
    bool ended = false;  // the server closed: what arrived before may still be a response
    for (;;) {
      if (ssl_) {
        ERR_clear_error();  // one thread drives every connection: no stale errors
        int n = SSL_read(ssl_, buf, sizeof buf);
        if (n <= 0) {
          int e = SSL_get_error(ssl_, n);
          if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) break;
          ended = true;
          break;
        }
        in_.append(buf, static_cast<size_t>(n));
      } else {
        long n = ::recv(fd_, buf, sizeof buf, 0);
        if (n < 0 && errno == EAGAIN) break;
        if (n <= 0) {
          ended = true;
          break;
        }
        in_.append(buf, static_cast<size_t>(n));
      }
    }
    size_t used = 0;
    bool close = false;
    long status = parseResponse(in_, used, close);
    if (status == 0 && ended) status = -1;
    if (status <= 0) return status;
    if (status >= 300) failedResponse_ = in_.substr(0, std::min<size_t>(used, 300));
    in_.erase(0, used);
    // The next request connects again; so it does when the server ended the
    // connection, or a response came before the request was all written.
    if (close || ended || writing()) disconnect();
    return status;
  }

 private:
  int port_;
  SSL_CTX* tls_;
  std::string head_;
  int fd_ = -1;
  SSL* ssl_ = nullptr;
  std::string in_, out_;
  size_t sent_ = 0;
  std::string failedResponse_;
};

// A TLS client context that checks the server's certificate against `ca` (no
// host name check, as the bench's libcurl client), or nullptr for plain HTTP.
std::shared_ptr<SSL_CTX> clientTls(bool tls, const std::string& ca) {
  if (!tls) return nullptr;
  std::shared_ptr<SSL_CTX> ctx(SSL_CTX_new(TLS_client_method()), SSL_CTX_free);
  if (!ca.empty() && SSL_CTX_load_verify_locations(ctx.get(), ca.c_str(), nullptr) == 1)
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  return ctx;
}

std::string podJson(const std::string& name) {
  return R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":")" + name +
         R"(","labels":{"app":"bench"}},"spec":{"containers":[{"name":"main","image":"busybox:latest","command":["sleep","3600"]}]}})";
}

std::string base64(const std::string& in) {
  static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  int val = 0, bits = -6;
  for (unsigned char ch : in) {
    val = (val << 8) + ch;
    bits += 8;
    while (bits >= 0) {
      out.push_back(t[(val >> bits) & 0x3F]);
      bits -= 6;
    }
  }
  if (bits > -6) out.push_back(t[((val << 8) >> (bits + 8)) & 0x3F]);
  while (out.size() % 4) out.push_back('=');
  return out;
}

struct LoadResult {
  double opsPerSec = 0, p50 = 0, p99 = 0;
  size_t ok = 0, failed = 0;
  std::string firstFailure;     // what the first failed request got, for the report
  double serverCpuUsPerOp = 0;  // the server's user+system CPU per acknowledged op
  double clientCpuUsPerOp = 0;  // this load generator's own CPU per op
};

// User+system CPU seconds a process has used so far (/proc/PID/stat).
double cpuSeconds(pid_t pid) {
  std::ifstream f(pid == 0 ? "/proc/self/stat" : "/proc/" + std::to_string(pid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  auto close = s.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream in(s.substr(close + 2));
  std::string field;
  double utime = 0, stime = 0;
  for (int i = 3; in >> field; ++i) {  // field 3 is the state
    if (i == 14) utime = std::atof(field.c_str());
    if (i == 15) {
      stime = std::atof(field.c_str());
      break;
    }
  }
  return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// `clients` keep-alive connections, each with one request outstanding at a
// time, for `seconds`. One thread drives them all through epoll: with a thread
// per connection the load generator spent about twice the CPU per request on
// waking and switching threads, on the same two cores as the server under test.
LoadResult runLoad(int clients, double seconds,
                   const std::function<LoadRequest(int client, int n)>& next,
                   const std::function<std::unique_ptr<LoadClient>()>& make, pid_t server) {
  struct Conn {
    std::unique_ptr<LoadClient> http;
    int n = 0;                  // requests started
    Clock::time_point started;  // of the outstanding request
    bool busy = false;          // a request is outstanding
    int registered = -1;        // the fd in the epoll set, or -1
    bool wantOut = false;       // registered for EPOLLOUT too
  };
  std::vector<Conn> conns(clients);
  std::vector<double> lat;
  size_t failed = 0;
  std::string firstFailure;
  auto fail = [&](std::string why) {
    if (failed++ == 0) firstFailure = std::move(why);
  };
  const int poll = ::epoll_create1(EPOLL_CLOEXEC);
  // Connected (TLS handshakes included) before the clock and the CPU counters
  // start: the figures are of requests only.
  for (Conn& c : conns) {
    c.http = make();
    c.http->connect();
  }
  const double server0 = cpuSeconds(server), client0 = cpuSeconds(0);
  auto t0 = Clock::now();
  auto end = t0 + std::chrono::duration<double>(seconds);

  auto watch = [&](int i) {  // (re)registers conns[i]'s socket when that changes anything
    Conn& c = conns[i];
    epoll_event ev{};
    const bool out = c.http->writing();
    ev.events = EPOLLIN | (out ? uint32_t{EPOLLOUT} : 0u);
    ev.data.u32 = static_cast<uint32_t>(i);
    if (c.registered == c.http->fd()) {
      if (out != c.wantOut) ::epoll_ctl(poll, EPOLL_CTL_MOD, c.registered, &ev);
    } else {
      ::epoll_ctl(poll, EPOLL_CTL_ADD, c.http->fd(), &ev);
      c.registered = c.http->fd();
    }
    c.wantOut = out;
  };
  // Starts conns[i]'s next request, connecting again first when needed.
  // False when it could not (counted as a failure; the load goes on without it).
  auto start = [&](int i) {
    Conn& c = conns[i];
    for (int attempt = 0; attempt < 3; ++attempt) {
      if (!c.http->connected()) {
        c.registered = -1;  // a closed socket left the epoll set by itself
        if (!c.http->connect()) continue;
      }
      const LoadRequest request = next(i, c.n++);
      c.started = Clock::now();
      if (c.http->send(request)) {
        c.busy = true;
        watch(i);
        return true;
      }
      c.http->disconnect();
    }
    fail("could not connect or send");  // one request that could not be sent
    return false;
  };

  int busy = 0;
  for (int i = 0; i < clients; ++i)
    if (start(i)) ++busy;
  std::vector<epoll_event> events(clients);
  while (busy > 0) {
    int n = ::epoll_wait(poll, events.data(), clients, 1000);
    const auto now = Clock::now();
    for (int k = 0; k < n; ++k) {
      const int i = static_cast<int>(events[k].data.u32);
      Conn& c = conns[i];
      if (!c.busy) {
        // Idle after the end, and the server hung up or errored: level-
        // triggered epoll would report it on every wait.
        c.http->disconnect();
        c.registered = -1;
        continue;
      }
      long status = 0;
      if ((events[k].events & EPOLLOUT) && !c.http->flush()) status = -1;
      if (status == 0 && (events[k].events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
        status = c.http->receive();
      if (status == 0) {
        if (c.http->connected()) watch(i);
        continue;
      }
      c.busy = false;
      --busy;
      if (status >= 200 && status < 300) {
        lat.push_back(std::chrono::duration<double, std::milli>(Clock::now() - c.started).count());
      } else {
        fail(status < 0 ? "connection ended before a response"
                        : "status " + std::to_string(status) + ": " + c.http->failedResponse());
        c.http->disconnect();
      }
      if (now < end && start(i)) ++busy;
    }
    // A request outstanding for over 10 s is a failure; its connection starts over.
    for (int i = 0; i < clients; ++i) {
      Conn& c = conns[i];
      if (c.busy && now - c.started > std::chrono::seconds(10)) {
        fail("no response in 10 s");
        c.busy = false;
        --busy;
        c.http->disconnect();
        if (now < end && start(i)) ++busy;
      }
    }
  }
  double wall = msSince(t0) / 1000;
  ::close(poll);
  LoadResult r;
  r.ok = lat.size();
  r.failed = failed;
  r.firstFailure = std::move(firstFailure);
  r.opsPerSec = lat.size() / wall;
  r.p50 = percentile(lat, 0.5);
  r.p99 = percentile(lat, 0.99);
  if (!lat.empty()) {
    r.serverCpuUsPerOp = (cpuSeconds(server) - server0) * 1e6 / lat.size();
    r.clientCpuUsPerOp = (cpuSeconds(0) - client0) * 1e6 / lat.size();
  }
  return r;
}

struct Skiff {
  std::string bin, dir, url, token, ca;
  int port = 0;
  pid_t pid = -1;

  // Starts the server; returns ms until /healthz answered 200.
  double start() {
    port = port ? port : freePort();
    url = "https://127.0.0.1:" + std::to_string(port);
    auto t0 = Clock::now();
    pid = spawn(
        {bin, "apiserver", "--data-dir", dir, "--listen", "127.0.0.1:" + std::to_string(port)},
        dir + ".log");
    Http h("", "");
    curl_easy_setopt(h.c, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(h.c, CURLOPT_SSL_VERIFYHOST, 0L);
    while (msSince(t0) < 20000) {
      if (h.request("GET", url + "/healthz") == 200) {
        double ms = msSince(t0);
        loadCredentials();
        return ms;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
    std::fprintf(stderr, "skiff apiserver did not start; see %s.log\n", dir.c_str());
    std::exit(1);
  }
  void loadCredentials() {
    std::ifstream f(dir + "/kubeconfig");
    std::stringstream ss;
    ss << f.rdbuf();
    std::smatch m;
    std::string s = ss.str();
    if (std::regex_search(s, m, std::regex("token:\\s*\"?([A-Za-z0-9._-]+)"))) token = m[1];
    for (const char* c : {"/pki/ca.crt", "/pki/ca.pem"})
      if (fs::exists(dir + c)) ca = dir + c;
    tls = clientTls(true, ca);
  }
  std::unique_ptr<Http> client() const {
    auto h = std::make_unique<Http>(token, ca);
    if (ca.empty()) curl_easy_setopt(h->c, CURLOPT_SSL_VERIFYPEER, 0L);
    return h;
  }
  // The create load's client (see LoadClient). Thread-safe after start().
  std::unique_ptr<LoadClient> loadClient() const {
    return std::make_unique<LoadClient>(port, tls.get(), token);
  }
  std::shared_ptr<SSL_CTX> tls;  // set by start()
};

void benchWatch(Skiff& s, int watchers) {
  auto admin = s.client();
  admin->request("POST", s.url + "/api/v1/namespaces",
                 R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"watchbench"}})");
  admin->request("GET", s.url + "/api/v1/namespaces/watchbench/pods");
  std::smatch m;
  std::string rv;
  if (std::regex_search(admin->body, m, std::regex("\"resourceVersion\":\"(\\d+)\""))) rv = m[1];

  // Every watcher is its own TLS connection (OpenSSL, like the clients in
  // other processes it stands for), read by one of kPumps threads through
  // epoll, so a thread touches only the streams that have data. (curl's multi
  // interface walked every handle on each call: with 1,000 streams the bench
  // spent ~6x the server's CPU and measured mostly itself.)
  constexpr int kPumps = 2;
  struct W {
    int fd = -1;
    SSL* ssl = nullptr;
    std::string buf;
    std::map<std::string, Clock::time_point> seen;  // pod name -> first receipt
  };
  std::vector<W> ws(watchers);
  SSL_CTX* ctx = s.tls.get();
  const std::string get = "GET /api/v1/namespaces/watchbench/pods?watch=1&resourceVersion=" + rv +
                          " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + s.token +
                          "\r\nAccept: application/json\r\n\r\n";
  std::vector<int> polls;
  for (int i = 0; i < kPumps; ++i) polls.push_back(::epoll_create1(EPOLL_CLOEXEC));
  size_t connected = 0;
  for (size_t i = 0; i < ws.size(); ++i) {
    W& w = ws[i];
    w.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(s.port));
    if (::connect(w.fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) continue;
    w.ssl = SSL_new(ctx);
    SSL_set_fd(w.ssl, w.fd);
    if (SSL_connect(w.ssl) != 1 ||
        SSL_write(w.ssl, get.data(), static_cast<int>(get.size())) != static_cast<int>(get.size()))
      continue;
    ::fcntl(w.fd, F_SETFL, ::fcntl(w.fd, F_GETFL) | O_NONBLOCK);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = &w;
    ::epoll_ctl(polls[i % kPumps], EPOLL_CTL_ADD, w.fd, &ev);
    ++connected;
  }
  if (connected != ws.size())
    std::fprintf(stderr, "watch: %zu of %zu watchers connected\n", connected, ws.size());
  std::atomic<bool> done{false};
  std::vector<std::thread> pumps;
  for (int ep : polls)
    pumps.emplace_back([&done, ep] {
      epoll_event evs[64];
      char chunk[16384];
      while (!done) {
        int n = ::epoll_wait(ep, evs, 64, 50);
        for (int k = 0; k < n; ++k) {
          auto* w = static_cast<W*>(evs[k].data.ptr);
          for (;;) {
            int got = SSL_read(w->ssl, chunk, sizeof chunk);
            if (got <= 0) {
              // Drained; or the stream ended: then off the (level-triggered) set,
              // or every epoll_wait would return it at once.
              if (SSL_get_error(w->ssl, got) != SSL_ERROR_WANT_READ)
                ::epoll_ctl(ep, EPOLL_CTL_DEL, w->fd, nullptr);
              break;
            }
            auto now = Clock::now();
            w->buf.append(chunk, got);
            size_t pos;
            while ((pos = w->buf.find('\n')) != std::string::npos) {
              // Plain string search: the client's own parsing must not be what is measured.
              std::string_view line(w->buf.data(), pos);
              auto at = line.find("\"name\":\"wb-");
              if (line.find("\"ADDED\"") != std::string_view::npos && at != line.npos) {
                at += 8;
                auto end = line.find('"', at);
                if (end != line.npos) w->seen.emplace(std::string(line.substr(at, end - at)), now);
              }
              w->buf.erase(0, pos + 1);
            }
          }
        }
      }
    });
  std::this_thread::sleep_for(std::chrono::seconds(3));  // let every watch connect
  const int events = 20;
  std::map<std::string, Clock::time_point> sent;
  std::string createMs;  // each create's own latency, in order
  for (int i = 0; i < events; ++i) {
    std::string name = "wb-" + std::to_string(i);
    sent[name] = Clock::now();
    admin->request("POST", s.url + "/api/v1/namespaces/watchbench/pods", podJson(name));
    char v[32];
    std::snprintf(v, sizeof v, "%s%.1f", i ? "," : "", msSince(sent[name]));
    createMs += v;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::this_thread::sleep_for(std::chrono::seconds(2));
  done = true;
  for (auto& t : pumps) t.join();
  std::vector<double> lat;
  std::map<std::string, double> slowest;  // event -> its last delivery
  size_t missed = 0;
  for (W& w : ws) {
    for (auto& [name, t] : sent) {
      auto it = w.seen.find(name);
      if (it == w.seen.end()) {
        ++missed;
        continue;
      }
      double ms = std::chrono::duration<double, std::milli>(it->second - t).count();
      lat.push_back(ms);
      slowest[name] = std::max(slowest[name], ms);
    }
    if (w.ssl) SSL_free(w.ssl);
    if (w.fd >= 0) ::close(w.fd);
  }
  for (int ep : polls) ::close(ep);
  std::string byEvent;  // in the order written
  for (int i = 0; i < events; ++i) {
    char v[32];
    std::snprintf(v, sizeof v, "%s%.1f", i ? "," : "", slowest["wb-" + std::to_string(i)]);
    byEvent += v;
  }
  std::printf(
      "{\"bench\":\"watch\",\"watchers\":%d,\"events\":%d,\"deliveries\":%zu,\"missed\":%zu,"
      "\"p50_ms\":%.2f,\"p99_ms\":%.2f,\"max_ms\":%.2f,\"goal_p99_ms\":50,"
      "\"last_delivery_ms_by_event\":[%s],\"create_ms_by_event\":[%s]}\n",
      watchers, events, lat.size(), missed, percentile(lat, 0.5), percentile(lat, 0.99),
      percentile(lat, 1.0), byEvent.c_str(), createMs.c_str());
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  // A write to a connection the server closed is an error to count, not the
  // end of the bench (OpenSSL writes without MSG_NOSIGNAL).
  std::signal(SIGPIPE, SIG_IGN);
  std::string bin = "build/skiff";
  double seconds = 3;
  int watchers = 1000;
  int onlyClients = 16;  // --only create
  int rounds = 5;        // alternating create rounds per system
  std::string only;      // "watch" or "create": start the server and run only that part
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--only") only = argv[i + 1];
    if (a == "--skiff") bin = argv[i + 1];
    if (a == "--seconds") seconds = std::atof(argv[i + 1]);
    if (a == "--watchers") watchers = std::atoi(argv[i + 1]);
    if (a == "--clients") onlyClients = std::max(1, std::atoi(argv[i + 1]));
    if (a == "--rounds") rounds = std::max(1, std::atoi(argv[i + 1]));
  }
  bin = fs::absolute(bin);
  curl_global_init(CURL_GLOBAL_ALL);
  std::string tmp = fs::temp_directory_path() / ("skiff-bench-" + std::to_string(::getpid()));
  fs::create_directories(tmp);

  // --- startup and idle memory --------------------------------------------------------
  Skiff s;
  s.bin = bin;
  s.dir = tmp + "/skiff";
  if (only == "watch") {
    s.start();
    benchWatch(s, watchers);
    stop(s.pid);
    fs::remove_all(tmp);
    return 0;
  }
  if (only == "create") {  // for profiling the server under the create load
    s.start();
    std::printf("{\"apiserver_pid\":%d}\n", s.pid);
    std::fflush(stdout);
    std::this_thread::sleep_for(std::chrono::seconds(1));
    auto r = runLoad(
        onlyClients, seconds,
        [&](int c, int n) {
          return LoadRequest{"POST", "/api/v1/namespaces/default/pods",
                             podJson("p-" + std::to_string(c) + "-" + std::to_string(n))};
        },
        [&] { return s.loadClient(); }, s.pid);
    std::printf(
        "{\"bench\":\"create\",\"clients\":%d,\"ops_per_s\":%.0f,\"p50_ms\":%.3f,"
        "\"failed\":%zu,\"server_cpu_us_per_op\":%.0f,\"client_cpu_us_per_op\":%.0f}\n",
        onlyClients, r.opsPerSec, r.p50, r.failed, r.serverCpuUsPerOp, r.clientCpuUsPerOp);
    if (r.failed > 0) std::fprintf(stderr, "first failure: %s\n", r.firstFailure.c_str());
    stop(s.pid);
    fs::remove_all(tmp);
    return 0;
  }
  double first = s.start();
  stop(s.pid);
  double existing = s.start();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  long rss = rssKb(s.pid);
  std::printf(
      "{\"bench\":\"startup\",\"first_start_ready_ms\":%.1f,\"existing_db_ready_ms\":%.1f,"
      "\"idle_rss_mb\":%.1f,\"goal_ready_ms\":100,\"goal_rss_mb\":20}\n",
      first, existing, rss / 1024.0);
  std::fflush(stdout);

  // --- creates, skiff and the peer in alternating rounds --------------------------------
  // The peer is etcd 3.4 through its JSON gateway, with the same durability
  // (fsync per commit): first as the issue names it (plain HTTP: the goal's
  // figure), then with TLS on its client port, as skiff serves and as
  // kube-apiserver reaches etcd, using skiff's own server certificate (for
  // 127.0.0.1) and CA. The machine's speed drifts by tens of percent within
  // minutes, so the systems take turns, `rounds` times, a round of each system
  // right after the other's (each round starting with the next system); each
  // ratio is of rounds run side by side in time, and the median over rounds is
  // the figure.
  struct System {
    std::string name;
    pid_t pid = -1;
    std::function<std::unique_ptr<LoadClient>()> make;
    std::function<LoadRequest(const std::string& name)> create;
  };
  std::vector<System> systems;
  systems.push_back(
      System{"skiff", s.pid, [&] { return s.loadClient(); },
             [](const std::string& name) {
               return LoadRequest{"POST", "/api/v1/namespaces/default/pods", podJson(name)};
             }});
  std::vector<pid_t> etcds;
  std::vector<std::shared_ptr<SSL_CTX>> etcdContexts;
  if (!fs::exists("/usr/bin/etcd"))
    std::printf("{\"bench\":\"etcd_put\",\"skipped\":\"/usr/bin/etcd not installed\"}\n");
  for (bool tls : {false, true}) {
    if (!fs::exists("/usr/bin/etcd")) break;
    const std::string system = tls ? "etcd-3.4-gateway-tls" : "etcd-3.4-gateway";
    const std::string log = tmp + (tls ? "/etcd-tls.log" : "/etcd.log");
    int cport = freePort(), pport = freePort();
    std::string curl =
        std::string(tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(cport);
    std::vector<std::string> argv = {"/usr/bin/etcd",
                                     "--data-dir",
                                     tmp + (tls ? "/etcd-tls" : "/etcd"),
                                     "--listen-client-urls",
                                     curl,
                                     "--advertise-client-urls",
                                     curl,
                                     "--listen-peer-urls",
                                     "http://127.0.0.1:" + std::to_string(pport),
                                     "--initial-advertise-peer-urls",
                                     "http://127.0.0.1:" + std::to_string(pport),
                                     "--initial-cluster",
                                     "default=http://127.0.0.1:" + std::to_string(pport)};
    if (tls) {
      for (std::string a :
           {"--cert-file=" + s.dir + "/pki/server.crt", "--key-file=" + s.dir + "/pki/server.key"})
        argv.push_back(a);
    }
    pid_t etcd = spawn(argv, log);
    etcds.push_back(etcd);
    const std::string ca = tls ? s.ca : "";
    etcdContexts.push_back(clientTls(tls, ca));
    SSL_CTX* context = etcdContexts.back().get();
    Http probe("", ca);
    auto t0 = Clock::now();
    bool healthy = false;
    while (!(healthy = probe.request("GET", curl + "/health") == 200) && msSince(t0) < 20000)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (!healthy) {  // no figure rather than a zero one
      std::printf(
          "{\"bench\":\"etcd_put\",\"system\":\"%s\",\"error\":\"etcd not healthy; see %s\"}\n",
          system.c_str(), log.c_str());
      continue;
    }
    systems.push_back(System{
        system, etcd, [cport, context] { return std::make_unique<LoadClient>(cport, context, ""); },
        [](const std::string& name) {
          std::string key = "/registry/pods/default/" + name;
          return LoadRequest{
              "POST", "/v3/kv/put",
              "{\"key\":\"" + base64(key) + "\",\"value\":\"" + base64(podJson(name)) + "\"}"};
        }});
  }
  for (int clients : {1, 16}) {
    // results[system][round]
    std::vector<std::vector<LoadResult>> results(systems.size());
    for (auto& r : results) r.resize(rounds);
    for (int round = 0; round < rounds; ++round) {
      // Each round starts with the next system, so none always runs right
      // after the same other one (and its checkpoints, GC or snapshots).
      for (size_t k = 0; k < systems.size(); ++k) {
        const size_t i = (k + static_cast<size_t>(round)) % systems.size();
        const System& sys = systems[i];
        results[i][round] = runLoad(
            clients, seconds,
            [&](int c, int n) {
              return sys.create("c" + std::to_string(clients) + "-r" + std::to_string(round) + "-" +
                                std::to_string(c) + "-" + std::to_string(n));
            },
            sys.make, sys.pid);
      }
    }
    for (size_t i = 0; i < systems.size(); ++i) {
      // ratioOf[round]: skiff's ops/s over this system's in that round (0 when
      // this system did none); the median is over the rounds that have one.
      std::vector<double> ops, ratioOf(rounds, 0.0), ratios;
      for (int round = 0; round < rounds; ++round) {
        ops.push_back(results[i][round].opsPerSec);
        if (results[i][round].opsPerSec > 0) {
          ratioOf[round] = results[0][round].opsPerSec / results[i][round].opsPerSec;
          ratios.push_back(ratioOf[round]);
        }
      }
      // The round with the median throughput stands for the system.
      std::vector<size_t> order(rounds);
      for (int round = 0; round < rounds; ++round) order[round] = round;
      std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return ops[a] < ops[b]; });
      const LoadResult& r = results[i][order[rounds / 2]];
      size_t ok = 0, failed = 0;  // over every round, unlike the median round's figures
      for (const LoadResult& x : results[i]) {
        ok += x.ok, failed += x.failed;
        if (x.failed > 0)
          std::fprintf(stderr, "%s: first failure of a round: %s\n", systems[i].name.c_str(),
                       x.firstFailure.c_str());
      }
      std::string byRound, ratioByRound;
      for (int round = 0; round < rounds; ++round) {
        byRound += (round ? "," : "") + std::to_string(static_cast<long>(ops[round]));
        char b[32];
        std::snprintf(b, sizeof b, "%s%.2f", round ? "," : "", ratioOf[round]);
        ratioByRound += b;
      }
      const bool peer = i > 0;
      std::printf(
          "{\"bench\":\"%s\",\"system\":\"%s\",\"clients\":%d,\"ops_per_s\":%.0f,"
          "\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"ok\":%zu,\"failed\":%zu,"
          "\"server_cpu_us_per_op\":%.0f,\"client_cpu_us_per_op\":%.0f,"
          "\"ops_per_s_by_round\":[%s]",
          peer ? "etcd_put" : "create", systems[i].name.c_str(), clients, r.opsPerSec, r.p50, r.p99,
          ok, failed, r.serverCpuUsPerOp, r.clientCpuUsPerOp, byRound.c_str());
      if (peer)
        std::printf(",\"skiff_over_etcd\":%.2f,\"skiff_over_etcd_by_round\":[%s]",
                    ratios.empty() ? 0.0 : percentile(ratios, 0.5), ratioByRound.c_str());
      std::printf("}\n");
      std::fflush(stdout);
    }
  }
  for (pid_t etcd : etcds) stop(etcd);

  // --- list 10,000 pods -----------------------------------------------------------------
  {
    auto admin = s.client();
    admin->request("POST", s.url + "/api/v1/namespaces",
                   R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"listbench"}})");
    std::atomic<int> next{0};
    std::vector<std::thread> ts;
    for (int c = 0; c < 16; ++c)
      ts.emplace_back([&] {
        auto h = s.client();
        for (int i; (i = next++) < 10000;)
          h->request("POST", s.url + "/api/v1/namespaces/listbench/pods",
                     podJson("l-" + std::to_string(i)));
      });
    for (auto& t : ts) t.join();
    std::vector<double> times;
    size_t bytes = 0;
    for (int i = 0; i < 5; ++i) {
      auto t0 = Clock::now();
      admin->request("GET", s.url + "/api/v1/namespaces/listbench/pods");
      times.push_back(msSince(t0));
      bytes = admin->body.size();
    }
    size_t items = 0;
    for (size_t p = 0; (p = admin->body.find("\"uid\"", p)) != std::string::npos; ++p) ++items;
    std::printf(
        "{\"bench\":\"list\",\"pods\":%zu,\"bytes\":%zu,\"median_ms\":%.1f,\"min_ms\":%.1f,"
        "\"goal_ms\":150}\n",
        items, bytes, percentile(times, 0.5), percentile(times, 0.0));
    std::fflush(stdout);
  }

  // --- 1,000 watchers -------------------------------------------------------------------
  benchWatch(s, watchers);

  stop(s.pid);
  fs::remove_all(tmp);
  return 0;
}
