// A real API server and a real kubelet server without root, for the tests of
// kubectl logs, exec and port-forward: the kubelet serves over `runtime` (a
// fake of the test's), and a Node advertises it on 127.0.0.1, so requests go
// through the API server to it as in a cluster. The test creates its pods on
// `nodeName`. Everything goes when the object does.
#pragma once

#include <stdlib.h>
#include <catch2/catch.hpp>
#include <filesystem>
#include <memory>
#include <string>

#include "apiserver/server.h"
#include "client/kubeconfig.h"
#include "client/rest_client.h"
#include "kubelet/server.h"

namespace skiff::testing {

template <typename RuntimeT>
struct KubeletCluster {
  RuntimeT runtime;  // first: the kubelet server below serves over it
  std::string dir, nodeName, kubeconfig;
  std::unique_ptr<apiserver::ApiServer> api;
  std::unique_ptr<client::RestClient> client;
  std::unique_ptr<kubelet::KubeletServer> kubelet;

  explicit KubeletCluster(const std::string& node) : nodeName(node) {
    std::string tmpl = "/tmp/skiff-" + node + "-XXXXXX";
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    dir = tmpl;
    apiserver::ServerOptions o;
    o.dataDir = dir;
    o.listen = "127.0.0.1:0";
    o.fsync = false;
    auto s = apiserver::ApiServer::start(o);
    if (!s) FAIL(s.error().message);
    api = std::move(*s);
    kubeconfig = api->kubeconfigPath();
    auto cfg = client::loadKubeconfig(kubeconfig);
    REQUIRE(cfg);
    client = std::make_unique<client::RestClient>(*cfg);

    kubelet::KubeletServerOptions ko;
    ko.listen = "127.0.0.1:0";
    ko.authToken = cfg->token;  // the admin token, which the apiserver presents
    kubelet = std::make_unique<kubelet::KubeletServer>(runtime, ko);
    REQUIRE(kubelet->start());

    api::Json n = {
        {"apiVersion", "v1"},
        {"kind", "Node"},
        {"metadata", {{"name", nodeName}}},
        {"status",
         {{"addresses", api::Json::array({{{"type", "InternalIP"}, {"address", "127.0.0.1"}}})},
          {"daemonEndpoints", {{"kubeletEndpoint", {{"Port", kubelet->port()}}}}}}}};
    auto created = client->post("/api/v1/nodes", n);
    REQUIRE(created);
    (*created)["status"] = n["status"];
    REQUIRE(client->put("/api/v1/nodes/" + nodeName + "/status", *created));
  }
  ~KubeletCluster() {
    kubelet->stop();
    api->stop();
    std::filesystem::remove_all(dir);
  }
  KubeletCluster(const KubeletCluster&) = delete;
  KubeletCluster& operator=(const KubeletCluster&) = delete;
};

}  // namespace skiff::testing
