#include "ctl/cluster.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <filesystem>
#include <functional>
#include <thread>
#include <vector>

#include "base/log.h"
#include "client/kubeconfig.h"
#include "client/rest_client.h"
#include "controllers/manager.h"
#include "ctl/cluster_slot.h"
#include "ctl/host_routes.h"
#include "kubelet/kubelet.h"
#include "kubelet/netlink.h"
#include "kubelet/runc_runtime.h"
#include "kubelet/server.h"
#include "netproxy/netproxy.h"
#include "netproxy/nft.h"
#include "scheduler/scheduler.h"

namespace skiff::ctl {

namespace {

std::string hostNodeName() {
  char buf[256] = {0};
  if (::gethostname(buf, sizeof buf - 1) != 0 || !buf[0]) return "skiff";
  std::string s = buf;
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// "10.244.0.1/16" -> "10.244.0.1"
std::string addressOf(const std::string& cidr) {
  return cidr.substr(0, cidr.find('/'));
}

}  // namespace

std::string ephemeralTag(const std::string& dataDir) {
  std::string tag = std::filesystem::path(dataDir).filename().string();
  tag = tag.substr(tag.find('-') + 1);
  for (auto& ch : tag) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return tag;
}

void ClusterOptions::makeUnique(const std::string& tag) {
  bridge = "sk-" + tag;  // IFNAMSIZ: at most 15 characters
  nftTable = "skiff_" + tag;
  runcRoot = "/run/skiff/" + tag;
  cgroupParent = "skiff-" + tag;
  netnsPrefix = "skiff-" + tag + "-";
}

void useSlot(ClusterOptions& o, const SlotNetwork& net, const std::set<std::string>& keep) {
  if (!keep.count("pod-cidr")) {
    o.podCidr = net.podCidr;
    o.bridgeAddress = net.bridgeAddress;
  }
  // The DNS address lies in the service range: a given one keeps the range
  // it was checked against, and a given range keeps its own DNS address.
  if (!keep.count("service-cidr") && !keep.count("cluster-dns")) {
    o.serviceCidr = net.serviceCidr;
    o.clusterDns = net.clusterDns;
  }
  if (!keep.count("lb-cidr")) o.loadBalancerCidr = net.loadBalancerCidr;
  o.refusedServiceCidr = "10.96.0.0/12";
  o.refusedLoadBalancerCidr = "10.255.0.0/16";
}

struct LocalCluster::Impl {
  ClusterOptions options;
  client::ClientConfig config;
  std::string nodeName;
  std::unique_ptr<controllers::ControllerManager> controllers;
  std::unique_ptr<scheduler::Scheduler> scheduler;
  std::unique_ptr<netproxy::NetProxy> netproxy;
  kubelet::RuncRuntime* runtime = nullptr;  // owned by `kubelet`
  std::unique_ptr<kubelet::KubeletServer> kubeletServer;
  std::unique_ptr<kubelet::Kubelet> kubelet;
  bool kubeletEnabled = false;
  bool netproxyEnabled = false;

  bool enabled(const std::string& name) const { return !options.disabled.count(name); }

  Status start();
  void stop(bool teardown);
  void teardownKernel();
};

Status LocalCluster::Impl::start() {
  auto cfg = client::loadKubeconfig(options.kubeconfig);
  if (!cfg) return cfg.error().wrap("load " + options.kubeconfig);
  config = *cfg;
  nodeName = options.nodeName.empty() ? hostNodeName() : options.nodeName;
  bool root = ::geteuid() == 0;
  kubeletEnabled = enabled("kubelet");
  netproxyEnabled = enabled("netproxy");
  if (!root && (kubeletEnabled || netproxyEnabled)) {
    logWarn("not root: the kubelet and netproxy need root and do not run",
            {{"hint", "run skiff up as root, or --disable kubelet,netproxy"}});
    kubeletEnabled = netproxyEnabled = false;
  }

  if (enabled("controller-manager")) {
    controllers = std::make_unique<controllers::ControllerManager>(config);
    if (auto s = controllers->start(); !s) return s.error().wrap("start controller-manager");
  }
  if (enabled("scheduler")) {
    scheduler = std::make_unique<scheduler::Scheduler>(config);
    if (auto s = scheduler->start(); !s) return s.error().wrap("start scheduler");
  }
  // The bridge first: cluster DNS listens on its address.
  if (kubeletEnabled)
    if (auto s = kubelet::netlink::ensureBridge(options.bridge, options.bridgeAddress); !s)
      return s.error().wrap("create bridge " + options.bridge);
  // What netproxy refuses (and routing makes unreachable) when no Service took it.
  const std::string refusedServices =
      options.refusedServiceCidr.empty() ? options.serviceCidr : options.refusedServiceCidr;
  const std::string refusedPool = options.refusedLoadBalancerCidr.empty()
                                      ? options.loadBalancerCidr
                                      : options.refusedLoadBalancerCidr;
  if (kubeletEnabled && netproxyEnabled)
    if (auto s = routeClusterRanges(options.bridge, {{refusedServices, options.serviceCidr},
                                                     {refusedPool, options.loadBalancerCidr}});
        !s)
      return s.error().wrap("route the cluster ranges");
  if (netproxyEnabled) {
    netproxy::NetProxyOptions o;
    o.table = options.nftTable;
    o.serviceCidr = refusedServices;
    o.loadBalancerCidr = refusedPool;
    o.podBridge = options.bridge;
    o.dns = kubeletEnabled;  // pods are DNS's only clients
    std::string dnsIP = addressOf(options.bridgeAddress);
    o.dnsOptions.listen = dnsIP + ":53";
    netproxy = std::make_unique<netproxy::NetProxy>(config, o);
    if (auto s = netproxy->start(); !s) return s.error().wrap("start netproxy");
    if (o.dns) {
      client::RestClient c(config);
      if (auto s = netproxy::bootstrapDnsService(c, dnsIP, 53, options.clusterDns); !s)
        return s.error().wrap("create the kube-dns Service");
    }
  }
  if (kubeletEnabled) {
    kubelet::RuncRuntimeOptions ro;
    ro.dataDir = options.dataDir;
    ro.bridgeName = options.bridge;
    ro.podCidr = options.podCidr;
    ro.bridgeAddress = options.bridgeAddress;
    ro.runcRoot = options.runcRoot;
    ro.cgroupParent = options.cgroupParent;
    ro.netnsPrefix = options.netnsPrefix;
    auto rt = kubelet::RuncRuntime::create(ro);
    if (!rt) return rt.error().wrap("start the container runtime");
    runtime = rt->get();
    kubelet::KubeletServerOptions so;
    so.listen = "127.0.0.1:" + std::to_string(options.kubeletPort);
    so.authToken = config.token;
    kubeletServer = std::make_unique<kubelet::KubeletServer>(*runtime, so);
    if (auto s = kubeletServer->start(); !s) return s.error().wrap("start the kubelet server");
    kubelet::KubeletOptions ko;
    ko.nodeName = nodeName;
    ko.dataDir = options.dataDir;
    ko.podCIDR = options.podCidr;
    ko.clusterDNS = options.clusterDns;
    ko.kubeletPort = kubeletServer->port();
    kubelet = std::make_unique<kubelet::Kubelet>(config, ko, std::move(*rt));
    if (auto s = kubelet->start(); !s) return s.error().wrap("start kubelet");
  }
  return Status();
}

void LocalCluster::Impl::stop(bool teardown) {
  if (kubelet) kubelet->stop();
  if (kubeletServer) kubeletServer->stop();
  if (teardown) teardownKernel();
  kubeletServer.reset();
  kubelet.reset();
  runtime = nullptr;
  if (netproxy) netproxy->stop();
  netproxy.reset();
  if (teardown && netproxyEnabled) {
    if (auto nft = netproxy::LibNftExecutor::create(); nft)
      (void)(*nft)->apply(netproxy::deleteTableText(options.nftTable));
  }
  if (scheduler) scheduler->stop();
  scheduler.reset();
  if (controllers) controllers->stop();
  controllers.reset();
}

// Every container and sandbox of this node, then the bridge: nothing of the
// cluster stays in the kernel.
void LocalCluster::Impl::teardownKernel() {
  if (!kubeletEnabled) return;
  // The bridge goes last, whether or not the runtime got to start.
  auto removeBridge = [&] {
    (void)kubelet::netlink::deleteLink(options.bridge);
    std::error_code ec;
    std::filesystem::remove_all(options.runcRoot, ec);
  };
  if (!runtime) return removeBridge();
  // Every pod at once, a few threads wide: the cluster is going away, so
  // there is no grace period to honour (SIGKILL at once).
  auto parallel = [](size_t n, const std::function<void(size_t)>& fn) {
    std::atomic<size_t> next{0};
    std::vector<std::thread> ts;
    for (int t = 0; t < 8; ++t)
      ts.emplace_back([&] {
        for (size_t i; (i = next++) < n;) fn(i);
      });
    for (auto& t : ts) t.join();
  };
  if (auto cs = runtime->listContainers(""); cs) {
    parallel(cs->size(), [&](size_t i) {
      const auto& c = (*cs)[i];
      if (c.state == kubelet::ContainerState::kRunning ||
          c.state == kubelet::ContainerState::kCreated)
        (void)runtime->stopContainer(c.id, std::chrono::seconds(0));
      if (auto s = runtime->removeContainer(c.id); !s)
        logWarn("teardown: remove container", {{"id", c.id}, {"error", s.error().message}});
    });
  }
  if (auto ss = runtime->listSandboxes(); ss) {
    parallel(ss->size(), [&](size_t i) {
      const auto& s = (*ss)[i];
      if (auto r = runtime->removeSandbox(s.podUid); !r)
        logWarn("teardown: remove sandbox", {{"pod", s.podUid}, {"error", r.error().message}});
    });
  }
  (void)runtime->removeCgroupParent();
  removeBridge();
}

LocalCluster::LocalCluster(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

LocalCluster::~LocalCluster() {
  if (impl_) impl_->stop(false);
}

Result<std::unique_ptr<LocalCluster>> LocalCluster::start(const ClusterOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  if (auto s = impl->start(); !s) {
    impl->stop(options.ephemeral);
    return s.error();
  }
  return std::unique_ptr<LocalCluster>(new LocalCluster(std::move(impl)));
}

Status LocalCluster::waitNodeReady(std::chrono::milliseconds timeout) {
  if (!impl_->kubeletEnabled) return Status();
  client::RestClient c(impl_->config);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string last = "not registered yet";
  while (std::chrono::steady_clock::now() < deadline) {
    auto node = c.get("/api/v1/nodes/" + impl_->nodeName);
    if (node) {
      last = "not Ready yet";
      const api::Json& st = (*node)["status"];
      api::Json conds = st.is_object() ? st.value("conditions", api::Json::array()) : api::Json();
      for (const auto& cond : conds.is_array() ? conds : api::Json::array())
        if (cond.is_object() && cond.value("type", "") == "Ready") {
          if (cond.value("status", "") == "True") return Status();
          last = "Ready=" + cond.value("status", "") + ": " + cond.value("message", "");
        }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return makeError(Code::kUnavailable, "node " + impl_->nodeName + " is " + last);
}

void LocalCluster::stop(bool teardown) {
  if (impl_) impl_->stop(teardown);
  impl_.reset();
}

}  // namespace skiff::ctl
