// A real `skiff apiserver` for API-level tests, in this process: a fresh temp
// data directory, a free loopback port, fsync off, and an admin client from the
// kubeconfig it wrote. Stopped and removed when the object goes away.
// Construction failures throw (the test then fails with the message).
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

#include "apiserver/server.h"
#include "client/kubeconfig.h"
#include "client/rest_client.h"

namespace skiff::testing {

struct TestApiServer {
  std::string dir;
  std::unique_ptr<apiserver::ApiServer> server;
  client::ClientConfig config;
  std::unique_ptr<client::RestClient> client;

  // `name` shows in the temp directory: /tmp/skiff-<name>-XXXXXX.
  explicit TestApiServer(const std::string& name = "test") {
    std::string tmpl = "/tmp/skiff-" + name + "-XXXXXX";
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp " + tmpl);
    dir = tmpl;
    start("127.0.0.1:0");
  }
  ~TestApiServer() {
    client.reset();
    if (server) server->stop();
    server.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  TestApiServer(const TestApiServer&) = delete;
  TestApiServer& operator=(const TestApiServer&) = delete;

  // Stops the server and starts it again on the same port and data directory.
  void restart() {
    std::string listen = "127.0.0.1:" + std::to_string(server->port());
    client.reset();
    server->stop();
    server.reset();
    start(listen);
  }

 private:
  void start(const std::string& listen) {
    apiserver::ServerOptions o;
    o.dataDir = dir;
    o.listen = listen;
    o.fsync = false;
    auto s = apiserver::ApiServer::start(o);
    if (!s) throw std::runtime_error("start apiserver: " + s.error().message);
    server = std::move(*s);
    auto cfg = client::loadKubeconfig(server->kubeconfigPath());
    if (!cfg) throw std::runtime_error("load kubeconfig: " + cfg.error().message);
    config = *cfg;
    client = std::make_unique<client::RestClient>(config);
  }
};

}  // namespace skiff::testing
