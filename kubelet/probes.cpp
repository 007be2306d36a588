#include "kubelet/probes.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "kubelet/pod_status.h"

namespace skiff::kubelet {

using api::Json;

const char* probeField(ProbeKind kind) {
  switch (kind) {
    case ProbeKind::kReadiness:
      return "readinessProbe";
    case ProbeKind::kLiveness:
      return "livenessProbe";
    case ProbeKind::kStartup:
      return "startupProbe";
  }
  return "";
}

const char* probeName(ProbeKind kind) {
  switch (kind) {
    case ProbeKind::kReadiness:
      return "Readiness";
    case ProbeKind::kLiveness:
      return "Liveness";
    case ProbeKind::kStartup:
      return "Startup";
  }
  return "";
}

namespace {

// IntOrString port: a number, or the name of one of the container's ports.
Result<int> resolvePort(const Json& port, const Json& container) {
  if (port.is_number_integer()) return static_cast<int>(port.get<long long>());
  if (port.is_string()) {
    std::string name = port.get<std::string>();
    const Json& ports = member(container, "ports");
    if (ports.is_array())
      for (const auto& p : ports)
        if (textOf(p, "name") == name) return static_cast<int>(intOf(p, "containerPort", 0));
    try {
      size_t used = 0;
      int n = std::stoi(name, &used);
      if (used == name.size()) return n;
    } catch (...) {
    }
    return makeError(Code::kBadRequest,
                     "couldn't find port: " + name + " in container " + textOf(container, "name"));
  }
  return makeError(Code::kBadRequest, "probe port missing");
}

std::chrono::seconds seconds(const Json& probe, const char* key, long long fallback,
                             long long min) {
  long long v = intOf(probe, key, fallback);
  return std::chrono::seconds(v < min ? min : v);
}

}  // namespace

Result<std::optional<ProbeSpec>> parseProbe(const Json& container, ProbeKind kind) {
  const Json& probe = member(container, probeField(kind));
  if (!probe.is_object()) return std::optional<ProbeSpec>();
  ProbeSpec spec;
  spec.initialDelay = seconds(probe, "initialDelaySeconds", 0, 0);
  spec.period = seconds(probe, "periodSeconds", 10, 1);
  spec.timeout = seconds(probe, "timeoutSeconds", 1, 1);
  spec.successThreshold = static_cast<int>(intOf(probe, "successThreshold", 1));
  spec.failureThreshold = static_cast<int>(intOf(probe, "failureThreshold", 3));
  if (spec.successThreshold < 1) spec.successThreshold = 1;
  if (spec.failureThreshold < 1) spec.failureThreshold = 1;
  std::string where = std::string(probeField(kind)) + " of container " + textOf(container, "name");
  if (const Json& exec = member(probe, "exec"); exec.is_object()) {
    spec.handler = ProbeSpec::Handler::kExec;
    const Json& cmd = member(exec, "command");
    if (cmd.is_array())
      for (const auto& a : cmd)
        if (a.is_string()) spec.command.push_back(a.get<std::string>());
    if (spec.command.empty())
      return makeError(Code::kBadRequest, where + ": exec.command is empty");
  } else if (const Json& http = member(probe, "httpGet"); http.is_object()) {
    spec.handler = ProbeSpec::Handler::kHttpGet;
    auto port = resolvePort(member(http, "port"), container);
    if (!port) return port.error().wrap(where);
    spec.port = *port;
    spec.host = textOf(http, "host");
    spec.path = textOf(http, "path");
    if (spec.path.empty() || spec.path[0] != '/') spec.path = "/" + spec.path;
    std::string scheme = textOf(http, "scheme");
    if (!scheme.empty()) spec.scheme = scheme;
    const Json& headers = member(http, "httpHeaders");
    if (headers.is_array())
      for (const auto& h : headers)
        spec.headers.emplace_back(textOf(h, "name"), textOf(h, "value"));
  } else if (const Json& tcp = member(probe, "tcpSocket"); tcp.is_object()) {
    spec.handler = ProbeSpec::Handler::kTcpSocket;
    auto port = resolvePort(member(tcp, "port"), container);
    if (!port) return port.error().wrap(where);
    spec.port = *port;
    spec.host = textOf(tcp, "host");
  } else {
    return makeError(Code::kBadRequest,
                     where + ": no supported handler (exec, httpGet, tcpSocket)");
  }
  return std::optional<ProbeSpec>(std::move(spec));
}

ProbeTracker::ProbeTracker(ProbeKind kind, ProbeSpec spec, TimePoint containerStartedAt)
    : kind_(kind), spec_(std::move(spec)) {
  result_ = kind == ProbeKind::kReadiness  ? ProbeResult::kFailure
            : kind == ProbeKind::kLiveness ? ProbeResult::kSuccess
                                           : ProbeResult::kUnknown;
  nextRun_ = containerStartedAt + spec_.initialDelay;
}

ProbeResult ProbeTracker::record(bool success, TimePoint now) {
  if (run_ > 0 && success == lastSuccess_) {
    ++run_;
  } else {
    lastSuccess_ = success;
    run_ = 1;
  }
  if (success && run_ >= spec_.successThreshold) result_ = ProbeResult::kSuccess;
  if (!success && run_ >= spec_.failureThreshold) result_ = ProbeResult::kFailure;
  nextRun_ = now + spec_.period;
  return result_;
}

namespace {

size_t discard(char*, size_t size, size_t n, void*) {
  return size * n;
}

ProbeOutcome httpProbe(const ProbeSpec& spec, const std::string& host) {
  CURL* curl = curl_easy_init();
  if (!curl) return {false, "curl_easy_init failed"};
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  std::string scheme = spec.scheme == "HTTPS" ? "https" : "http";
  std::string url = scheme + "://" + h + ":" + std::to_string(spec.port) + spec.path;
  curl_slist* headers = nullptr;
  bool hasAgent = false, hasAccept = false;
  for (const auto& [k, v] : spec.headers) {
    headers = curl_slist_append(headers, (k + ": " + v).c_str());
    if (strcasecmp(k.c_str(), "User-Agent") == 0) hasAgent = true;
    if (strcasecmp(k.c_str(), "Accept") == 0) hasAccept = true;
  }
  if (!hasAgent) headers = curl_slist_append(headers, "User-Agent: kube-probe/1.32");
  if (!hasAccept) headers = curl_slist_append(headers, "Accept: */*");
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS,
                   static_cast<long>(std::chrono::milliseconds(spec.timeout).count()));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
  curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
  CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  if (rc != CURLE_OK) return {false, "Get \"" + url + "\": " + curl_easy_strerror(rc)};
  if (status >= 200 && status < 400) return {true, ""};
  return {false, "HTTP probe failed with statuscode: " + std::to_string(status)};
}

// "connect: connection refused", as Go's net package words it.
std::string goError(int err) {
  std::string text = std::strerror(err);
  if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return "connect: " + text;
}

ProbeOutcome tcpProbe(const ProbeSpec& spec, const std::string& host) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* res = nullptr;
  std::string port = std::to_string(spec.port);
  if (int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &res); rc != 0)
    return {false, "dial tcp " + host + ":" + port + ": " + gai_strerror(rc)};
  int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    freeaddrinfo(res);
    return {false, std::string("socket: ") + std::strerror(errno)};
  }
  int rc = connect(fd, res->ai_addr, res->ai_addrlen);
  freeaddrinfo(res);
  std::string err;
  if (rc != 0 && errno == EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    int n = poll(&p, 1, static_cast<int>(std::chrono::milliseconds(spec.timeout).count()));
    if (n == 0) {
      err = "i/o timeout";
    } else {
      int soErr = 0;
      socklen_t len = sizeof soErr;
      getsockopt(fd, SOL_SOCKET, SO_ERROR, &soErr, &len);
      if (soErr != 0) err = goError(soErr);
    }
  } else if (rc != 0) {
    err = goError(errno);
  }
  close(fd);
  if (!err.empty()) return {false, "dial tcp " + host + ":" + port + ": " + err};
  return {true, ""};
}

}  // namespace

ProbeOutcome runProbe(const ProbeSpec& spec, Runtime& runtime, const std::string& containerId,
                      const std::string& podIP) {
  std::string host = spec.host.empty() ? podIP : spec.host;
  switch (spec.handler) {
    case ProbeSpec::Handler::kExec: {
      auto r =
          runtime.execSync(containerId, spec.command,
                           std::chrono::duration_cast<std::chrono::milliseconds>(spec.timeout));
      if (!r) return {false, r.error().message};
      if (r->timedOut)
        return {false, "command timed out after " + std::to_string(spec.timeout.count()) + "s"};
      if (r->exitCode != 0)
        return {false, "command exited " + std::to_string(r->exitCode) + ": " + r->output};
      return {true, ""};
    }
    case ProbeSpec::Handler::kHttpGet:
      return httpProbe(spec, host);
    case ProbeSpec::Handler::kTcpSocket:
      return tcpProbe(spec, host);
  }
  return {false, "unknown probe handler"};
}

}  // namespace skiff::kubelet
