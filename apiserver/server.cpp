// ApiServer: the store, RestApi, TLS material, the admin token and kubeconfig,
// and an HttpServer whose handler answers health, checks the bearer token, and
// passes everything else to RestApi.

#include "apiserver/server.h"

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <optional>

#include "apiserver/allocator.h"
#include "apiserver/api_errors.h"
#include "apiserver/auth.h"
#include "apiserver/http_server.h"
#include "apiserver/kubeconfig.h"
#include "apiserver/service_accounts.h"
#include "apiserver/tls.h"
#include "base/log.h"

namespace skiff::apiserver {
namespace {

bool isWildcard(const std::string& host) {
  return host.empty() || host == "0.0.0.0" || host == "::";
}

// "/healthz", "/livez", "/readyz" or one of their sub-paths: which one.
std::string_view healthRoot(std::string_view path) {
  for (std::string_view p : {"/healthz", "/livez", "/readyz"}) {
    if (path == p ||
        (path.size() > p.size() && path.substr(0, p.size()) == p && path[p.size()] == '/'))
      return p;
  }
  return {};
}

class ApiServerImpl final : public ApiServer {
 public:
  explicit ApiServerImpl(ServerOptions options) : options_(std::move(options)) {}
  ~ApiServerImpl() override { stop(); }

  Status init() {
    auto t0 = std::chrono::steady_clock::now();
    const std::string& dir = options_.dataDir;
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
      return makeError(Code::kInternal, "mkdir " + dir + ": " + std::strerror(errno));

    std::string host;
    uint16_t port = 0;
    if (!splitHostPort(options_.listen, host, port))
      return makeError(Code::kBadRequest,
                       "listen " + options_.listen + ": invalid address (want IP:PORT)");

    storage::Store::Options so;
    so.fsync = options_.fsync;
    auto store = storage::Store::open(dir + "/state.db", so);
    if (!store) return store.error().wrap("open " + dir + "/state.db");
    store_ = std::move(*store);

    auto token = ensureAdminToken(dir);
    if (!token) return token.error();
    auto saKey = ensureServiceAccountKey(dir);
    if (!saKey) return saKey.error();
    RestOptions restOptions = options_.rest;
    restOptions.serviceAccountKey = *saKey;
    // pods/log and pods/exec reach kubelets with the admin token (kubelet/server.h).
    if (restOptions.kubeletToken.empty()) restOptions.kubeletToken = *token;
    auto rest = RestApi::create(*store_, restOptions);
    if (!rest) return rest.error().wrap("bootstrap");
    rest_ = std::move(*rest);

    std::vector<std::string> sans;
    if (!isWildcard(host)) sans.push_back(host);
    // In-cluster clients dial the `kubernetes` Service by address or name.
    if (auto range = parseCidr(options_.rest.serviceCidr))
      sans.push_back(formatIpv4(range->network + 1));
    for (const char* name : {"kubernetes", "kubernetes.default", "kubernetes.default.svc",
                             "kubernetes.default.svc.cluster.local"})
      sans.push_back(name);
    if (!options_.advertiseAddress.empty()) sans.push_back(options_.advertiseAddress);
    auto pki = ensurePki(dir, sans);
    if (!pki) return pki.error();
    auth_ = std::make_unique<TokenAuthenticator>(
        *token, *saKey, [store = store_.get()](const ServiceAccountClaims& claims) {
          return serviceAccountTokenLive(*store, claims);
        });

    HttpServerOptions ho;
    ho.listen = options_.listen;
    ho.tls = TlsFiles{pki->serverCert, pki->serverKey};
    ho.ioThreads = options_.ioThreads;
    // (A wildcard listen address covers it already.)
    if (!options_.advertiseAddress.empty() && !isWildcard(host))
      ho.alsoListenOn = {options_.advertiseAddress};
    auto http = HttpServer::start(ho, [this](Request req, std::shared_ptr<ResponseWriter> w) {
      handle(std::move(req), std::move(w));
    });
    if (!http) return http.error();
    http_ = std::move(*http);
    if (options_.onListening) options_.onListening(http_->port());

    url_ = "https://" + urlHost(host == "localhost" ? "127.0.0.1" : host) + ":" +
           std::to_string(http_->port());
    kubeconfig_ = dir + "/kubeconfig";
    if (auto st = writeKubeconfig(kubeconfig_, {url_, pki->caPem, *token}); !st) return st.error();
    // Only now do the health endpoints say ok: a client that waits for
    // /healthz and then reads the kubeconfig must find it written.
    phase_ = Phase::kServing;
    if (!options_.advertiseAddress.empty())
      rest_->keepMasterEndpoints(options_.advertiseAddress, http_->port());

    auto us =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0)
            .count();
    logInfo("apiserver serving", {{"url", url_},
                                  {"address", http_->address()},
                                  {"data_dir", dir},
                                  {"kubeconfig", kubeconfig_},
                                  {"start_us", std::to_string(us)}});
    return {};
  }

  uint16_t port() const override { return http_ ? http_->port() : 0; }
  std::string kubeconfigPath() const override { return kubeconfig_; }
  std::string url() const override { return url_; }
  storage::Store& store() override { return *store_; }

  void stop() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopped_) return;
      stopped_ = true;
    }
    phase_ = Phase::kStopping;
    // Connections first (their onClose callbacks end watches), then the REST
    // layer, then the store it uses.
    if (http_) http_->stop();
    rest_.reset();
    store_.reset();
    logInfo("apiserver stopped", {{"data_dir", options_.dataDir}});
    cv_.notify_all();
  }

  void wait() override {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return stopped_; });
  }

 private:
  void handle(Request req, std::shared_ptr<ResponseWriter> w) {
    if (auto root = healthRoot(req.path); !root.empty()) return health(root, req, *w);
    req.user = auth_->authenticate(req);
    if (req.user.empty() && !isPublicPath(req.path)) {
      w->respond(401, "application/json", unauthorizedBody());
      return;
    }
    if (auto refused = refuseImpersonation(req)) {
      w->respond(403, "application/json", statusJson(*refused).dump());
      return;
    }
    if (Phase phase = phase_.load(); phase != Phase::kServing) {
      w->respond(503, "application/json",
                 statusJson(503, "ServiceUnavailable",
                            phase == Phase::kStarting ? "the apiserver is starting"
                                                      : "the apiserver is shutting down"));
      return;
    }
    rest_->handle(std::move(req), std::move(w));
  }

  // kubectl --as/--as-group send Impersonate-* headers. skiff has one user and
  // no authorization to answer for another, so acting on the request as the
  // admin would answer the wrong question (`kubectl auth can-i --as=bob` would
  // say yes); it is refused, as Kubernetes refuses an impersonator without the
  // right.
  static std::optional<Error> refuseImpersonation(const Request& req) {
    // The user first, as Kubernetes checks it first.
    auto it = req.headers.find("impersonate-user");
    if (it == req.headers.end()) {
      it = std::find_if(req.headers.begin(), req.headers.end(),
                        [](const auto& h) { return h.first.rfind("impersonate-", 0) == 0; });
    }
    if (it == req.headers.end()) return std::nullopt;
    const std::string& name = it->first;
    std::string kind = name == "impersonate-user"    ? "users"
                       : name == "impersonate-group" ? "groups"
                       : name == "impersonate-uid"   ? "uids"
                                                     : "userextras";
    return forbidden(kind, kind == "userextras" ? "" : it->second,
                     "User \"" + req.user + "\" cannot impersonate resource \"" + kind +
                         "\" in API group \"\" at the cluster scope: skiff has one user and "
                         "does not impersonate another (" +
                         name + ")");
  }

  // Kubernetes' health endpoints: "ok", or with ?verbose one line per check.
  // Every one fails until start-up has finished (as kube-apiserver's do until
  // its post-start hooks have run); /readyz fails again once stopping.
  void health(std::string_view root, const Request& req, ResponseWriter& w) {
    const Phase phase = phase_.load();
    const bool started = phase != Phase::kStarting;
    const bool storeOk = root != "/readyz" || phase != Phase::kStopping;
    const bool ok = started && storeOk;
    const std::string name(root.substr(1));
    const std::string storeLine = storeOk ? "[+]etcd ok\n" : "[-]etcd failed: reason withheld\n";
    const std::string startLine = started
                                      ? "[+]poststarthook/skiff-kubeconfig ok\n"
                                      : "[-]poststarthook/skiff-kubeconfig failed: not finished\n";
    const std::string verdict = name + (ok ? " check passed\n" : " check failed\n");
    if (!req.hasParam("verbose")) {
      if (ok) {
        w.respond(200, "text/plain; charset=utf-8", "ok");
      } else {
        w.respond(500, "text/plain; charset=utf-8",
                  (storeOk ? "" : storeLine) + (started ? "" : startLine) + verdict);
      }
      return;
    }
    w.respond(ok ? 200 : 500, "text/plain; charset=utf-8",
              "[+]ping ok\n[+]log ok\n" + storeLine + startLine + verdict);
  }

  ServerOptions options_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<RestApi> rest_;
  std::unique_ptr<TokenAuthenticator> auth_;
  std::unique_ptr<HttpServer> http_;
  // kServing once start-up has finished (the kubeconfig is written), until stop().
  enum class Phase { kStarting, kServing, kStopping };
  std::atomic<Phase> phase_{Phase::kStarting};
  std::string url_, kubeconfig_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopped_ = false;  // guarded by mu_
};

}  // namespace

Result<std::unique_ptr<ApiServer>> ApiServer::start(const ServerOptions& options) {
  auto server = std::make_unique<ApiServerImpl>(options);
  if (auto st = server->init(); !st) {
    logWarn("apiserver failed to start", {{"error", st.error().message}});
    return st.error();
  }
  return std::unique_ptr<ApiServer>(std::move(server));
}

}  // namespace skiff::apiserver
