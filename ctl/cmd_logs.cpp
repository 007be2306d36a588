// `skiff logs` and `skiff exec`, as kubectl 1.32 does them: GET pods/log
// (streamed while following) and pods/exec over the Kubernetes WebSocket
// protocol (v5.channel.k8s.io, else v4): channel 0 stdin, 1 stdout, 2 stderr,
// 3 the final Status (its ExitCode cause becomes our exit code, with
// kubectl's "command terminated with exit code N"), 255 close (v5: [255, 0]
// ends stdin).
//
// Both speak to the apiserver directly with Boost.Beast over TLS (libcurl, the
// RestClient's transport, has no WebSocket here), trusting the kubeconfig's CA
// and sending its bearer token. One io_context thread runs the exec session;
// a second thread copies our stdin into it.
#include <openssl/x509v3.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <utility>  // before Boost.Asio, which uses std::exchange

#include <algorithm>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <cstdio>
#include <deque>
#include <limits>
#include <thread>

#include "api/json.h"
#include "ctl/cli.h"
#include "ctl/commands.h"

namespace skiff::ctl {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;
using api::Json;

struct Endpoint {
  std::string host, port;
};

Result<Endpoint> parseServer(const std::string& server) {
  std::string rest;
  if (server.rfind("https://", 0) == 0) {
    rest = server.substr(8);
  } else {
    return makeError(Code::kBadRequest,
                     "server " + server + ": logs and exec need an https:// server URL");
  }
  rest = rest.substr(0, rest.find('/'));
  Endpoint e;
  if (!rest.empty() && rest[0] == '[') {
    size_t close = rest.find(']');
    if (close == std::string::npos)
      return makeError(Code::kBadRequest, "server " + server + ": bad address");
    e.host = rest.substr(1, close - 1);
    e.port = close + 2 <= rest.size() ? rest.substr(close + 2) : "443";
  } else {
    size_t colon = rest.rfind(':');
    e.host = rest.substr(0, colon);
    e.port = colon == std::string::npos ? "443" : rest.substr(colon + 1);
  }
  if (e.port.empty()) e.port = "443";
  return e;
}

// A TLS connection to the apiserver, verified as the kubeconfig says.
struct Connection {
  net::io_context ioc;
  ssl::context ctx{ssl::context::tls_client};
  std::unique_ptr<TlsStream> stream;
  Endpoint ep;
  std::string token;

  Status open(const client::ClientConfig& config) {
    auto e = parseServer(config.server);
    if (!e) return e.error();
    ep = *e;
    token = config.token;
    try {
      if (config.insecure) {
        ctx.set_verify_mode(ssl::verify_none);
      } else {
        ctx.set_verify_mode(ssl::verify_peer);
        if (config.caPem.empty()) {
          ctx.set_default_verify_paths();
        } else {
          ctx.add_certificate_authority(net::buffer(config.caPem));
        }
      }
      if (!config.clientCertPem.empty()) {
        ctx.use_certificate_chain(net::buffer(config.clientCertPem));
        ctx.use_private_key(net::buffer(config.clientKeyPem), ssl::context::pem);
      }
      stream = std::make_unique<TlsStream>(ioc, ctx);
      beast::error_code ec;
      net::ip::make_address(ep.host, ec);  // only: is the host an IP literal?
      X509_VERIFY_PARAM* param = SSL_get0_param(stream->native_handle());
      if (!ec) {
        X509_VERIFY_PARAM_set1_ip_asc(param, ep.host.c_str());
      } else {
        SSL_set_tlsext_host_name(stream->native_handle(), ep.host.c_str());
        X509_VERIFY_PARAM_set1_host(param, ep.host.c_str(), 0);
      }
      tcp::resolver resolver(ioc);
      auto results = resolver.resolve(ep.host, ep.port);
      beast::get_lowest_layer(*stream).connect(results);
      stream->handshake(ssl::stream_base::client);
    } catch (const std::exception& ex) {
      return makeError(Code::kUnavailable,
                       "unable to connect to the server at " + config.server + ": " + ex.what());
    }
    return {};
  }
  std::string hostHeader() const {
    return (ep.host.find(':') != std::string::npos ? "[" + ep.host + "]" : ep.host) + ":" + ep.port;
  }
};

Error statusError(int status, const std::string& body) {
  client::Response r;
  r.status = status;
  r.body = body;
  r.contentType = "application/json";
  return client::errorFromResponse(r);
}

// The pod, and the container to use: -c, else the only one, else kubectl's
// default (annotation kubectl.kubernetes.io/default-container, else the
// first), announced on stderr as kubectl does.
Result<std::string> pickContainer(client::RestClient& c, const std::string& ns,
                                  const std::string& pod, const std::string& asked, Json* podOut) {
  auto p = c.get("/api/v1/namespaces/" + urlEncode(ns) + "/pods/" + urlEncode(pod));
  if (!p) {
    // kubectl's wording for a missing pod, as a local error.
    if (p.error().code == Code::kNotFound && client::isServerError(p.error()))
      return makeError(Code::kNotFound, "error from server (NotFound): pods \"" + pod +
                                            "\" not found in namespace \"" + ns + "\"");
    return p.error();
  }
  if (podOut) *podOut = *p;
  std::vector<std::string> names, all;
  if (p->contains("spec")) {
    for (const char* field : {"containers", "initContainers", "ephemeralContainers"}) {
      if (!(*p)["spec"].contains(field)) continue;
      for (const auto& ct : (*p)["spec"][field]) {
        all.push_back(ct.value("name", ""));
        if (std::string(field) == "containers") names.push_back(all.back());
      }
    }
  }
  if (!asked.empty()) {
    // kubectl checks the name itself before asking the server.
    if (std::find(all.begin(), all.end(), asked) == all.end())
      return makeError(Code::kBadRequest, "container " + asked + " is not valid for pod " + pod);
    return asked;
  }
  if (names.empty()) return std::string();
  if (names.size() == 1) return names[0];
  std::string chosen = names[0];
  if (p->contains("metadata") && (*p)["metadata"].contains("annotations")) {
    const Json& a = (*p)["metadata"]["annotations"];
    if (a.contains("kubectl.kubernetes.io/default-container") &&
        a["kubectl.kubernetes.io/default-container"].is_string())
      chosen = a["kubectl.kubernetes.io/default-container"].get<std::string>();
  }
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
  std::fprintf(stderr, "Defaulted container \"%s\" out of: %s\n", chosen.c_str(), list.c_str());
  return chosen;
}

}  // namespace

int runLogsCommand(int argc, char** argv) {
  GlobalFlags g;
  std::string container;
  bool follow = false, previous = false, timestamps = false;
  long long tail = -1, limitBytes = 0;
  std::string since;
  po::options_description desc;
  desc.add_options()("container,c", po::value(&container), "Print the logs of this container")(
      "follow,f", po::bool_switch(&follow), "Specify if the logs should be streamed.")(
      "previous,p", po::bool_switch(&previous),
      "If true, print the logs for the previous instance of the container in a pod if it exists.")(
      "timestamps", po::bool_switch(&timestamps),
      "Include timestamps on each line in the log output")(
      "tail", po::value(&tail), "Lines of recent log file to display. Defaults to -1 (all lines).")(
      "limit-bytes", po::value(&limitBytes),
      "Maximum bytes of logs to return. Defaults to no limit.")(
      "since", po::value(&since),
      "Only return logs newer than a relative duration like 5s, 2m, or 3h.");
  addGlobalFlags(desc, g, false);
  po::variables_map vm;
  std::vector<std::string> args;
  if (auto err = parseFlags(argc, argv, desc, vm, args); !err.empty())
    return usageError("logs", err);
  if (vm["help"].as<bool>()) {
    printHelp("skiff logs POD [-c CONTAINER] [-f] [--tail N] [--previous] [--timestamps]",
              "Print the logs for a container in a pod.",
              "  # Return snapshot logs from pod nginx with only one container\n"
              "  skiff logs nginx\n\n"
              "  # Begin streaming the logs of the ruby container in pod web-1\n"
              "  skiff logs -f -c ruby web-1\n\n"
              "  # Display only the most recent 20 lines of output in pod nginx\n"
              "  skiff logs --tail=20 nginx",
              desc);
    return 0;
  }
  if (args.empty()) return usageError("logs", "expected POD_NAME or TYPE/NAME");
  if (args.size() > 2) return usageError("logs", "expected POD_NAME or TYPE/NAME");
  std::string pod = args[0];
  if (pod.rfind("pod/", 0) == 0) pod = pod.substr(4);
  if (pod.rfind("pods/", 0) == 0) pod = pod.substr(5);
  if (args.size() == 2) container = args[1];
  if (limitBytes < 0) return usageError("logs", "--limit-bytes must be greater than 0");

  Cli cli(g);
  auto c = cli.client();
  if (!c) return cli.fail(c.error());
  std::string ns = cli.ns();
  auto chosen = pickContainer(**c, ns, pod, container, nullptr);
  if (!chosen) return cli.fail(chosen.error());
  std::string query;
  auto add = [&](const std::string& k, const std::string& v) {
    query += (query.empty() ? "?" : "&") + k + "=" + urlEncode(v);
  };
  if (!chosen->empty()) add("container", *chosen);
  if (follow) add("follow", "true");
  if (previous) add("previous", "true");
  if (timestamps) add("timestamps", "true");
  if (tail >= 0) add("tailLines", std::to_string(tail));
  if (limitBytes > 0) add("limitBytes", std::to_string(limitBytes));
  if (!since.empty()) {
    auto d = parseDuration(since);
    if (!d) return usageError("logs", d.error().message);
    add("sinceSeconds", std::to_string(std::max<long long>(1, (d->count() + 999) / 1000)));
  }
  std::string target =
      "/api/v1/namespaces/" + urlEncode(ns) + "/pods/" + urlEncode(pod) + "/log" + query;

  Connection conn;
  if (auto st = conn.open((*c)->config()); !st) return cli.fail(st.error());
  try {
    http::request<http::empty_body> req{http::verb::get, target, 11};
    req.set(http::field::host, conn.hostHeader());
    req.set(http::field::user_agent, "skiff");
    req.set(http::field::accept, "*/*");
    if (!conn.token.empty()) req.set(http::field::authorization, "Bearer " + conn.token);
    http::write(*conn.stream, req);
    beast::flat_buffer buffer;
    http::response_parser<http::buffer_body> parser;
    // Not boost::none: Beast 1.74 then refuses any Content-Length.
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());
    http::read_header(*conn.stream, buffer, parser);
    int status = int(parser.get().result_int());
    if (status != 200) {
      // An error: the rest is a (small) Status body.
      http::response_parser<http::string_body> whole{std::move(parser)};
      whole.body_limit(1 << 20);
      beast::error_code ec;
      http::read(*conn.stream, buffer, whole, ec);
      return cli.fail(statusError(status, whole.get().body()));
    }
    char buf[16 * 1024];
    beast::error_code ec;
    while (!parser.is_done()) {
      parser.get().body().data = buf;
      parser.get().body().size = sizeof buf;
      http::read(*conn.stream, buffer, parser, ec);
      if (ec == http::error::need_buffer) ec = {};
      size_t n = sizeof buf - parser.get().body().size;
      std::fwrite(buf, 1, n, stdout);
      std::fflush(stdout);
      if (ec) break;
    }
    if (ec && ec != http::error::end_of_stream && ec != net::error::eof &&
        ec != ssl::error::stream_truncated)
      return cli.fail(makeError(Code::kUnavailable, "reading logs: " + ec.message()));
  } catch (const std::exception& e) {
    return cli.fail(makeError(Code::kUnavailable, std::string("reading logs: ") + e.what()));
  }
  return 0;
}

namespace {

// One exec session over a WebSocket; runs on one io_context thread.
class ExecSession {
 public:
  ExecSession(Connection& conn) : conn_(conn), ws_(std::move(*conn.stream)) {}

  // Handshake; on a refused upgrade, the server's Status as an Error.
  Status handshake(const std::string& target) {
    ws_.set_option(websocket::stream_base::decorator([this](websocket::request_type& req) {
      req.set(http::field::sec_websocket_protocol, "v5.channel.k8s.io, v4.channel.k8s.io");
      req.set(http::field::user_agent, "skiff");
      if (!conn_.token.empty()) req.set(http::field::authorization, "Bearer " + conn_.token);
    }));
    websocket::response_type res;
    beast::error_code ec;
    ws_.handshake(res, conn_.hostHeader(), target, ec);
    if (ec) {
      if (res.result_int() != 0 && res.result_int() != 101)
        return statusError(int(res.result_int()), res.body());
      return makeError(Code::kUnavailable, "unable to upgrade connection: " + ec.message());
    }
    v5_ = res[http::field::sec_websocket_protocol] == "v5.channel.k8s.io";
    ws_.binary(true);
    return {};
  }

  // Runs until the server closes; returns the exit code.
  int run(bool withStdin, bool tty) {
    read();
    if (tty) {
      // The remote terminal takes our window's size (kubectl also follows
      // later changes; skiff sends the size once).
      winsize wsz{};
      if (::ioctl(0, TIOCGWINSZ, &wsz) == 0 && wsz.ws_col > 0)
        send(std::string(1, '\x04') + Json{{"Width", wsz.ws_col}, {"Height", wsz.ws_row}}.dump());
    }
    if (withStdin) {
      // Detached: it may sit in read(0) after the session ends; the process
      // exits then.
      std::thread([this] {
        char buf[16 * 1024];
        for (;;) {
          ssize_t n = ::read(0, buf, sizeof buf);
          if (n < 0 && errno == EINTR) continue;
          if (n <= 0) break;
          send(std::string(1, '\0') + std::string(buf, size_t(n)));
        }
        // v5 lets us say stdin ended; v4 cannot.
        if (v5_) send(std::string("\xff\x00", 2));
      }).detach();
    }
    conn_.ioc.run();
    std::fflush(stdout);
    if (!gotStatus_) {
      std::fprintf(stderr, "error: the connection closed before the command's status arrived%s\n",
                   readError_.empty() ? "" : (": " + readError_).c_str());
      return 1;
    }
    return exitCode_;
  }

 private:
  void send(std::string message) {
    net::post(ws_.get_executor(), [this, m = std::move(message)]() mutable {
      if (closed_) return;
      queue_.push_back(std::move(m));
      if (queue_.size() == 1) writeNext();
    });
  }
  void writeNext() {
    ws_.async_write(net::buffer(queue_.front()), [this](beast::error_code ec, size_t) {
      queue_.pop_front();
      if (ec) return;
      if (!queue_.empty()) writeNext();
    });
  }

  void read() {
    ws_.async_read(buffer_, [this](beast::error_code ec, size_t) {
      if (ec) {
        closed_ = true;
        if (ec != websocket::error::closed && ec != net::error::eof &&
            ec != ssl::error::stream_truncated)
          readError_ = ec.message();
        return;
      }
      std::string msg = beast::buffers_to_string(buffer_.data());
      buffer_.consume(buffer_.size());
      if (!msg.empty()) handle(msg);
      read();
    });
  }

  void handle(const std::string& msg) {
    uint8_t channel = uint8_t(msg[0]);
    std::string_view data(msg.data() + 1, msg.size() - 1);
    if (channel == 1) {
      std::fwrite(data.data(), 1, data.size(), stdout);
      std::fflush(stdout);
    } else if (channel == 2) {
      std::fwrite(data.data(), 1, data.size(), stderr);
    } else if (channel == 3) {
      statusText_.append(data);
      auto j = api::parseJson(statusText_);
      if (!j) return;  // more to come
      gotStatus_ = true;
      std::fflush(stdout);
      if (j->value("status", "") == "Success") {
        exitCode_ = 0;
        return;
      }
      if (j->value("reason", "") == "NonZeroExitCode" && j->contains("details")) {
        for (const auto& cause : (*j)["details"].value("causes", Json::array())) {
          if (cause.value("reason", "") == "ExitCode") {
            try {
              exitCode_ = std::stoi(cause.value("message", "1"));
            } catch (...) {
              exitCode_ = 1;
            }
            std::fprintf(stderr, "command terminated with exit code %d\n", exitCode_);
            return;
          }
        }
      }
      std::fprintf(stderr, "error: %s\n", j->value("message", statusText_).c_str());
      exitCode_ = 1;
    }
  }

  Connection& conn_;
  websocket::stream<TlsStream> ws_;
  beast::flat_buffer buffer_;
  std::deque<std::string> queue_;  // io thread only
  bool closed_ = false;            // io thread only
  bool v5_ = false;
  bool gotStatus_ = false;
  int exitCode_ = 1;
  std::string statusText_, readError_;
};

}  // namespace

int runExecCommand(int argc, char** argv) {
  // Everything after "--" is the command.
  std::vector<std::string> command;
  int flagArgc = argc;
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--") {
      flagArgc = i;
      for (int j = i + 1; j < argc; ++j) command.push_back(argv[j]);
      break;
    }
  }
  GlobalFlags g;
  std::string container;
  bool stdinFlag = false, tty = false, quiet = false;
  po::options_description desc;
  desc.add_options()("container,c", po::value(&container),
                     "Container name. If omitted, the first container in the pod will be chosen")(
      "stdin,i", po::bool_switch(&stdinFlag), "Pass stdin to the container")(
      "tty,t", po::bool_switch(&tty), "Stdin is a TTY")(
      "quiet,q", po::bool_switch(&quiet), "Only print output from the remote session");
  addGlobalFlags(desc, g, false);
  po::variables_map vm;
  std::vector<std::string> args;
  if (auto err = parseFlags(flagArgc, argv, desc, vm, args); !err.empty())
    return usageError("exec", err);
  if (vm["help"].as<bool>()) {
    printHelp("skiff exec POD [-c CONTAINER] [-i] -- COMMAND [args...]",
              "Execute a command in a container.",
              "  # Get output from running the 'date' command from pod mypod\n"
              "  skiff exec mypod -- date\n\n"
              "  # Pass stdin to 'cat' in container ruby-container of pod mypod\n"
              "  echo hi | skiff exec mypod -c ruby-container -i -- cat",
              desc);
    return 0;
  }
  if (args.empty()) return usageError("exec", "pod or type/name must be specified");
  if (args.size() > 1 && command.empty())
    return usageError("exec",
                      "exec [POD] [COMMAND] is not supported anymore. Use exec [POD] -- "
                      "[COMMAND] instead");
  if (args.size() > 1) return usageError("exec", "only one pod can be specified before --");
  if (command.empty())
    return usageError("exec", "you must specify at least one command for the container");
  std::string pod = args[0];
  if (pod.rfind("pod/", 0) == 0) pod = pod.substr(4);
  if (pod.rfind("pods/", 0) == 0) pod = pod.substr(5);
  if (tty && (!stdinFlag || !::isatty(0))) {
    // kubectl's rule: a terminal needs -i and a terminal on stdin.
    if (!quiet)
      std::fprintf(stderr,
                   "Unable to use a TTY - input is not a terminal or the right kind of "
                   "file\n");
    tty = false;
  }

  Cli cli(g);
  auto c = cli.client();
  if (!c) return cli.fail(c.error());
  std::string ns = cli.ns();
  Json podObj;
  auto chosen = pickContainer(**c, ns, pod, container, &podObj);
  if (!chosen) return cli.fail(chosen.error());
  std::string phase = podObj.contains("status") ? podObj["status"].value("phase", "") : "";
  if (phase == "Succeeded" || phase == "Failed") {
    std::fprintf(stderr,
                 "error: cannot exec into a container in a completed pod; current phase is %s\n",
                 phase.c_str());
    return 1;
  }
  std::string target = "/api/v1/namespaces/" + urlEncode(ns) + "/pods/" + urlEncode(pod) +
                       "/exec?container=" + urlEncode(*chosen);
  for (const auto& a : command) target += "&command=" + urlEncode(a);
  if (stdinFlag) target += "&stdin=true";
  target += tty ? "&stdout=true&tty=true" : "&stdout=true&stderr=true";

  // Never freed: the stdin thread may still use them while the process exits.
  auto* conn = new Connection;
  if (auto st = conn->open((*c)->config()); !st) return cli.fail(st.error());
  auto* session = new ExecSession(*conn);
  if (auto st = session->handshake(target); !st) return cli.fail(st.error());
  // Raw mode while the remote terminal runs, restored however we leave.
  struct RawTerminal {
    termios saved{};
    bool active = false;
    ~RawTerminal() {
      if (active) ::tcsetattr(0, TCSADRAIN, &saved);
    }
  } raw;
  if (tty && ::tcgetattr(0, &raw.saved) == 0) {
    termios t = raw.saved;
    ::cfmakeraw(&t);
    raw.active = ::tcsetattr(0, TCSADRAIN, &t) == 0;
  }
  return session->run(stdinFlag, tty);
}

}  // namespace skiff::ctl
