// `skiff apiserver`: the HTTPS server in front of RestApi.
//
// On first start in a data directory it generates a CA and a server certificate
// (ECDSA P-256; SANs 127.0.0.1, ::1, localhost, the host name, the listen
// address, the advertise address, and the `kubernetes` Service's ClusterIP and
// names) under DIR/pki/, an admin bearer token, and DIR/kubeconfig (0600)
// naming all three, so `kubectl --kubeconfig DIR/kubeconfig` works as is. Later
// starts reuse them. Every request without the token gets 401, except
// /healthz, /livez, /readyz (and their /… sub-paths) and /version. The health
// endpoints say ok only once start-up has finished, the kubeconfig included:
// a client that waits for /healthz can then read DIR/kubeconfig.
//
// Threads: a small pool of I/O threads runs every connection; stop() may be
// called from any thread, and is called by the destructor.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "apiserver/rest.h"
#include "base/result.h"

namespace skiff::apiserver {

struct ServerOptions {
  std::string dataDir = "/var/lib/skiff";
  std::string listen = "127.0.0.1:6443";  // port 0 picks a free port (tests)
  int ioThreads = 2;
  bool fsync = true;  // storage synchronous=FULL
  RestOptions rest;
  // An address of this host pods reach (`skiff up`: their bridge's gateway),
  // or "": the server also listens there, on the same port (the address may
  // appear later), names it and the `kubernetes` Service in its certificate,
  // and keeps default/kubernetes's Endpoints pointing at it
  // (master_endpoints.h), so pods reach it at the Service's ClusterIP.
  std::string advertiseAddress;
  // Called on start()'s thread once the listener is up, before start-up has
  // finished (the kubeconfig is not written yet, and /healthz still fails), with
  // the bound port; tests use it to see what a client sees meanwhile.
  std::function<void(uint16_t port)> onListening;
};

class ApiServer {
 public:
  // Opens DIR/state.db, bootstraps, binds, and starts serving; returns once the
  // server accepts connections. Errors name what failed
  // ("listen 127.0.0.1:6443: address already in use").
  static Result<std::unique_ptr<ApiServer>> start(const ServerOptions& options);
  virtual ~ApiServer() = default;

  virtual uint16_t port() const = 0;
  virtual std::string kubeconfigPath() const = 0;
  // "https://127.0.0.1:6443"
  virtual std::string url() const = 0;
  virtual storage::Store& store() = 0;

  // Stops accepting, closes connections, ends watches, closes the store.
  virtual void stop() = 0;
  // Blocks until stop() (or a fatal error).
  virtual void wait() = 0;
};

}  // namespace skiff::apiserver
