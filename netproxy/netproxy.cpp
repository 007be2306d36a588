#include "netproxy/netproxy.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>

#include <algorithm>

#include "base/log.h"
#include "base/thread.h"

namespace skiff::netproxy {

using api::Json;

std::vector<std::string> localIPv4Addresses(const std::string& interface) {
  std::vector<std::string> out;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return interface.empty() ? std::vector<std::string>{"127.0.0.1"} : out;
  for (ifaddrs* a = list; a; a = a->ifa_next) {
    if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET) continue;
    if (!interface.empty() && (!a->ifa_name || interface != a->ifa_name)) continue;
    char buf[INET_ADDRSTRLEN] = {};
    inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(a->ifa_addr)->sin_addr, buf, sizeof buf);
    if (std::find(out.begin(), out.end(), buf) == out.end()) out.push_back(buf);
  }
  freeifaddrs(list);
  if (interface.empty() && std::find(out.begin(), out.end(), "127.0.0.1") == out.end())
    out.push_back("127.0.0.1");
  return out;
}

NetProxy::NetProxy(client::ClientConfig config, NetProxyOptions options)
    : config_(std::move(config)), options_(std::move(options)) {}

NetProxy::~NetProxy() {
  stop();
}

Status NetProxy::start() {
  if (thread_.joinable()) return {};
  NftExecutor* nft = options_.executor;
  if (!nft) {
    auto e = LibNftExecutor::create();
    if (!e) return e.error().wrap("netproxy");
    ownedExecutor_ = std::move(*e);
    nft = ownedExecutor_.get();
  }
  RulesetConfig rc;
  rc.table = options_.table;
  rc.serviceCidr = options_.serviceCidr;
  rc.loadBalancerCidr = options_.loadBalancerCidr;
  rc.podBridge = options_.podBridge;
  rc.nodeAddresses = options_.nodeAddresses.empty() ? localIPv4Addresses() : options_.nodeAddresses;
  rc.localnetSourceAddress = options_.localnetSourceAddress;
  if (rc.localnetSourceAddress.empty() && !options_.podBridge.empty()) {
    auto onBridge = localIPv4Addresses(options_.podBridge);
    if (!onBridge.empty()) rc.localnetSourceAddress = onBridge.front();
  }
  proxier_ = std::make_unique<Proxier>(*nft, rc);

  if (options_.dns) {
    dns_ = std::make_unique<DnsServer>(options_.dnsOptions);
    if (auto st = dns_->start(); !st) {
      dns_.reset();
      return st.error().wrap("netproxy");
    }
  }
  if (options_.healthChecks) health_ = std::make_unique<HealthServer>();
  client_ = std::make_unique<client::RestClient>(config_);
  services_ = std::make_unique<client::Informer>(*client_, "/api/v1/services");
  endpoints_ = std::make_unique<client::Informer>(*client_, "/api/v1/endpoints");
  for (auto* inf : {services_.get(), endpoints_.get()}) {
    inf->addHandlers(client::InformerHandlers{
        [this](const Json& o) { enqueue(client::Informer::keyOf(o)); },
        [this](const Json&, const Json& n) { enqueue(client::Informer::keyOf(n)); },
        [this](const Json& o) { enqueue(client::Informer::keyOf(o)); }});
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = false;
  }
  services_->start();
  endpoints_->start();
  thread_ = std::thread([this] { run(); });
  logInfo("netproxy started", {{"table", options_.table},
                               {"serviceCidr", options_.serviceCidr},
                               {"loadBalancerCidr", options_.loadBalancerCidr},
                               {"podBridge", options_.podBridge},
                               {"nodeAddresses", std::to_string(rc.nodeAddresses.size())}});
  return {};
}

void NetProxy::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (services_) services_->stop();
  if (endpoints_) endpoints_->stop();
  if (dns_) dns_->stop();
  health_.reset();
}

void NetProxy::enqueue(const std::string& key) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    dirty_.insert(key);
  }
  cv_.notify_all();
}

NetProxyStats NetProxy::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

bool NetProxy::waitForSync(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  uint64_t target = started_ + 1;  // a sync beginning after now
  dirty_.insert("");               // make one happen even when nothing changed
  cv_.notify_all();
  return cv_.wait_for(lock, timeout, [&] { return completed_ >= target || stopping_; }) &&
         !stopping_;
}

void NetProxy::run() {
  nameThisThread("netproxy");
  using clock = std::chrono::steady_clock;
  // Nothing is programmed before both caches hold a full list: a sync from half
  // the data would delete the rules of every Service not yet seen.
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
    }
    if (services_->waitForSync(std::chrono::milliseconds(200)) &&
        endpoints_->waitForSync(std::chrono::milliseconds(200)))
      break;
  }
  bool full = true;
  auto lastFull = clock::now();
  auto lastSync = clock::time_point{};
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      auto nextFull = lastFull + options_.resyncPeriod;
      cv_.wait_until(lock, nextFull, [&] { return stopping_ || !dirty_.empty() || full; });
      if (stopping_) return;
      if (clock::now() >= nextFull) full = true;
    }
    // Rate limit: batch what arrives within minSyncInterval of the last sync.
    auto earliest = lastSync + options_.minSyncInterval;
    if (clock::now() < earliest) {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_until(lock, earliest, [&] { return stopping_; });
      if (stopping_) return;
    }
    if (!full && proxier_->needsFullSync()) full = true;
    syncOnce(full);
    lastSync = clock::now();
    if (full) lastFull = lastSync;
    full = proxier_->needsFullSync();
  }
}

void NetProxy::syncOnce(bool full) {
  std::set<std::string> keys;
  {
    std::lock_guard<std::mutex> lock(mu_);
    keys.swap(dirty_);
    ++started_;
  }
  keys.erase("");
  std::set<std::string> changed;
  auto update = [&](const std::string& key) {
    auto svc = services_->get(key);
    std::optional<Json> eps = endpoints_->get(key);
    std::optional<ServiceInfo> info;
    if (svc) {
      auto converted = serviceFromJson(*svc, eps ? &*eps : nullptr);
      if (converted) {
        info = std::move(*converted);
      } else {
        logWarn("netproxy: service skipped", {{"error", converted.error().message}});
      }
      if (dns_)
        dns_->setService(
            key, serviceDnsRecords(*svc, eps ? &*eps : nullptr, options_.dnsOptions.domain));
    } else if (dns_) {
      dns_->setService(key, {});
    }
    auto it = desired_.services.find(key);
    if (info) {
      if (it == desired_.services.end() || !(it->second == *info)) {
        desired_.services[key] = std::move(*info);
        changed.insert(key);
      }
    } else if (it != desired_.services.end()) {
      desired_.services.erase(it);
      changed.insert(key);
    }
  };
  if (full) {
    // Rebuild from both caches: every key either of them knows, plus the old ones.
    std::set<std::string> all;
    for (const auto& [k, _] : desired_.services) all.insert(k);
    for (const auto& s : services_->list()) all.insert(client::Informer::keyOf(s));
    if (dns_) dns_->clearServices();
    for (const auto& k : all) update(k);
  } else {
    for (const auto& k : keys) update(k);
  }
  Status st;
  if (full) {
    proxier_->forceFullSync();
    st = proxier_->sync(desired_);
  } else {
    st = proxier_->sync(desired_, changed);
  }
  if (health_) updateHealthChecks(full, changed, st.ok());
  std::lock_guard<std::mutex> lock(mu_);
  ++stats_.syncs;
  if (proxier_->lastSync().full) {
    ++stats_.fullSyncs;
    stats_.lastFull = proxier_->lastSync();
  }
  stats_.last = proxier_->lastSync();
  stats_.services = desired_.services.size();
  if (st.ok()) {
    stats_.lastSyncAt = std::chrono::steady_clock::now();
    completed_ = started_;
  } else {
    ++stats_.failures;
    logWarn("netproxy sync failed (the next one is full)", {{"error", st.error().message}});
  }
  cv_.notify_all();
}

void NetProxy::updateHealthChecks(bool full, const std::set<std::string>& changed, bool healthy) {
  // Only Services with a health check port are looked at again (a partial sync
  // at 10,000 Services must not walk them all).
  bool touched = full || healthy != healthChecksHealthy_;
  if (full) healthKeys_.clear();
  auto track = [&](const std::string& key) {
    auto it = desired_.services.find(key);
    if (it != desired_.services.end() && it->second.healthCheckNodePort != 0) {
      healthKeys_.insert(key);
      touched = true;
    } else if (healthKeys_.erase(key)) {
      touched = true;
    }
  };
  if (full) {
    for (const auto& [key, s] : desired_.services) track(key);
  } else {
    for (const auto& key : changed) track(key);
  }
  if (!touched) return;
  healthChecksHealthy_ = healthy;
  // Every ready endpoint is on this node: the count of the Service's port with
  // the most (kube-proxy counts a port's local ready endpoints).
  std::map<int, HealthService> checks;
  for (const auto& key : healthKeys_) {
    const ServiceInfo& s = desired_.services.at(key);
    HealthService h{s.ns, s.name, 0};
    for (const auto& p : s.ports)
      h.localEndpoints = std::max(h.localEndpoints, static_cast<int>(p.endpoints.size()));
    checks.emplace(s.healthCheckNodePort, std::move(h));
  }
  health_->update(std::move(checks), healthy);
}

Status bootstrapDnsService(client::RestClient& client, const std::string& dnsAddress, int dnsPort,
                           const std::string& serviceIP) {
  if (!isIPv4(dnsAddress))
    return makeError(Code::kInvalid, "dns address \"" + dnsAddress + "\" is not an IPv4 address");
  if (dnsPort < 1 || dnsPort > 65535)
    return makeError(Code::kInvalid, "dns port " + std::to_string(dnsPort) + " is not 1..65535");
  auto ns = client.post(
      "/api/v1/namespaces",
      Json{{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", "kube-system"}}}});
  if (!ns && ns.error().code != Code::kAlreadyExists)
    return ns.error().wrap("namespace kube-system");

  const std::string base = "/api/v1/namespaces/kube-system/";
  Json svc = {
      {"apiVersion", "v1"},
      {"kind", "Service"},
      {"metadata", {{"name", "kube-dns"}, {"labels", {{"k8s-app", "kube-dns"}}}}},
      {"spec",
       {{"clusterIP", serviceIP},
        {"ports", Json::array({{{"name", "dns"}, {"port", 53}, {"protocol", "UDP"}},
                               {{"name", "dns-tcp"}, {"port", 53}, {"protocol", "TCP"}}})}}}};
  auto created = client.post(base + "services", svc);
  if (!created && created.error().code != Code::kAlreadyExists)
    return created.error().wrap("service kube-system/kube-dns");

  Json eps = {
      {"apiVersion", "v1"},
      {"kind", "Endpoints"},
      {"metadata", {{"name", "kube-dns"}, {"labels", {{"k8s-app", "kube-dns"}}}}},
      {"subsets",
       Json::array(
           {{{"addresses", Json::array({{{"ip", dnsAddress}}})},
             {"ports",
              Json::array({{{"name", "dns"}, {"port", dnsPort}, {"protocol", "UDP"}},
                           {{"name", "dns-tcp"}, {"port", dnsPort}, {"protocol", "TCP"}}})}}})}};
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto cur = client.get(base + "endpoints/kube-dns");
    if (!cur) {
      if (cur.error().code != Code::kNotFound) return cur.error().wrap("endpoints kube-dns");
      auto r = client.post(base + "endpoints", eps);
      if (r) return {};
      if (r.error().code == Code::kAlreadyExists) continue;
      return r.error().wrap("endpoints kube-system/kube-dns");
    }
    if ((*cur)["subsets"] == eps["subsets"]) return {};
    Json next = *cur;
    next["subsets"] = eps["subsets"];
    auto r = client.put(base + "endpoints/kube-dns", next);
    if (r) return {};
    if (r.error().code != Code::kConflict) return r.error().wrap("endpoints kube-system/kube-dns");
  }
  return makeError(Code::kConflict, "endpoints kube-system/kube-dns: kept changing");
}

}  // namespace skiff::netproxy
