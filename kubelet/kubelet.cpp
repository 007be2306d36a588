#include "kubelet/kubelet.h"

#include <fstream>
#include <set>
#include <sstream>

#include "api/time.h"
#include "base/log.h"
#include "base/thread.h"
#include "kubelet/service_env.h"
#include "kubelet/termination.h"

namespace skiff::kubelet {

namespace {

std::string podPath(const Json& pod) {
  const Json& md = member(pod, "metadata");
  return "/api/v1/namespaces/" + textOf(md, "namespace") + "/pods/" + textOf(md, "name");
}

std::string podKey(const Json& pod) {
  const Json& md = member(pod, "metadata");
  return textOf(md, "namespace") + "/" + textOf(md, "name");
}

// Query values: percent-encode all but unreserved characters.
std::string queryEscape(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

}  // namespace

Kubelet::Kubelet(client::ClientConfig config, KubeletOptions options,
                 std::unique_ptr<Runtime> runtime)
    : clientConfig_(std::move(config)), options_(std::move(options)), runtime_(std::move(runtime)) {
  if (options_.nodeName.empty()) options_.nodeName = defaultNodeName();
}

Kubelet::~Kubelet() {
  stop();
}

Status Kubelet::start() {
  if (started_) return Status();
  if (options_.nodeIP.empty()) options_.nodeIP = detectNodeIP();
  auto machine = readMachineInfo();
  if (!machine) return machine.error().wrap("kubelet");
  machine_ = *machine;
  if (!options_.imageResolver) {
    auto store = ImageStore::open(options_.dataDir + "/images");
    if (!store) return store.error().wrap("kubelet: open image store");
    images_ = std::move(*store);
  }
  node_.name = options_.nodeName;
  node_.internalIP = options_.nodeIP;
  node_.podCIDR = options_.podCIDR;
  node_.kubeletPort = options_.kubeletPort;
  node_.maxPods = options_.maxPods;

  workerConfig_.nodeName = options_.nodeName;
  workerConfig_.dataDir = options_.dataDir;
  workerConfig_.caPem = clientConfig_.caPem;
  workerConfig_.hostIPs = {options_.nodeIP};
  workerConfig_.clusterDNS = options_.clusterDNS;
  workerConfig_.clusterDomain = options_.clusterDomain;
  workerConfig_.pidsLimit = options_.podPidsLimit;
  workerConfig_.pollPeriod = options_.pollPeriod;
  workerConfig_.resyncPeriod = options_.resyncPeriod;
  int slots = options_.parallelStarts > 0 ? options_.parallelStarts : StartGate::defaultSlots();
  workerConfig_.startGate = std::make_shared<StartGate>(slots);
  {
    std::ifstream in(options_.resolvConf);
    std::stringstream text;
    text << in.rdbuf();
    workerConfig_.hostDNS = parseResolvConf(text.str());
  }

  client_ = std::make_unique<client::RestClient>(clientConfig_);
  watchClient_ = std::make_unique<client::RestClient>(clientConfig_);
  events_ = std::make_unique<client::EventRecorder>(clientConfig_, "kubelet", node_.name);
  pods_ = std::make_unique<client::Informer>(
      *watchClient_, "/api/v1/pods", "fieldSelector=" + queryEscape("spec.nodeName=" + node_.name));
  pods_->addHandlers({[this](const Json& p) { onPod(p); },
                      [this](const Json&, const Json& p) { onPod(p); },
                      [this](const Json& p) { onPodDeleted(p); }});
  services_ = std::make_unique<client::Informer>(*watchClient_, "/api/v1/services");
  endpoints_ = std::make_unique<client::Informer>(*watchClient_, "/api/v1/endpoints");
  {
    std::lock_guard<std::mutex> lock(stopMu_);
    stopping_ = false;
  }
  services_->start();
  endpoints_->start();
  pods_->start();
  threads_.emplace_back([this] { heartbeatLoop(); });
  threads_.emplace_back([this] { housekeepingLoop(); });
  started_ = true;
  logInfo("kubelet started", {{"node", node_.name}, {"nodeIP", node_.internalIP}});
  return Status();
}

void Kubelet::stop() {
  if (!started_) return;
  started_ = false;
  {
    std::lock_guard<std::mutex> lock(stopMu_);
    stopping_ = true;
  }
  stopCv_.notify_all();
  pods_->stop();
  services_->stop();
  endpoints_->stop();
  for (auto& t : threads_) t.join();
  threads_.clear();
  std::map<std::string, std::unique_ptr<PodWorker>> workers;
  {
    std::lock_guard<std::mutex> lock(workersMu_);
    workers.swap(workers_);
  }
  for (auto& [uid, w] : workers) w->stop();
  logInfo("kubelet stopped", {{"node", node_.name}});
}

bool Kubelet::sleepFor(std::chrono::milliseconds d) {
  std::unique_lock<std::mutex> lock(stopMu_);
  return !stopCv_.wait_for(lock, d, [&] { return stopping_; });
}

// ---- pods ----

void Kubelet::onPod(const Json& pod) {
  std::string uid = textOf(member(pod, "metadata"), "uid");
  if (uid.empty()) return;
  std::lock_guard<std::mutex> lock(workersMu_);
  auto it = workers_.find(uid);
  if (it != workers_.end()) {
    it->second->update(pod);
    return;
  }
  auto worker =
      std::make_unique<PodWorker>(pod, workerConfig_, *runtime_, static_cast<PodHost&>(*this));
  worker->start();
  workers_.emplace(uid, std::move(worker));
}

void Kubelet::onPodDeleted(const Json& pod) {
  std::string uid = textOf(member(pod, "metadata"), "uid");
  std::lock_guard<std::mutex> lock(workersMu_);
  if (auto it = workers_.find(uid); it != workers_.end()) it->second->removed();
}

void Kubelet::housekeepingLoop() {
  auto lastOrphanSweep = std::chrono::steady_clock::time_point();
  bool swept = false;
  while (sleepFor(std::chrono::milliseconds(500))) {
    // Reap workers that finished, once the API no longer shows their pod.
    std::vector<std::unique_ptr<PodWorker>> finished;
    {
      std::lock_guard<std::mutex> lock(workersMu_);
      std::set<std::string> live;
      for (const auto& p : pods_->list()) live.insert(textOf(member(p, "metadata"), "uid"));
      for (auto it = workers_.begin(); it != workers_.end();) {
        if (it->second->done() && !live.count(it->first)) {
          finished.push_back(std::move(it->second));
          it = workers_.erase(it);
        } else {
          ++it;
        }
      }
    }
    finished.clear();  // joins their threads outside the lock
    if (!pods_->hasSynced()) continue;
    auto now = std::chrono::steady_clock::now();
    if (!swept || now - lastOrphanSweep >= options_.resyncPeriod) {
      removeOrphans();
      swept = true;
      lastOrphanSweep = now;
    }
  }
}

void Kubelet::removeOrphans() {
  std::set<std::string> uids;
  auto sandboxes = runtime_->listSandboxes();
  if (sandboxes)
    for (const auto& s : *sandboxes) uids.insert(s.podUid);
  auto containers = runtime_->listContainers("");
  if (containers)
    for (const auto& c : *containers) uids.insert(c.id.substr(0, c.id.find('_')));
  for (const auto& uid : uids) {
    {
      std::lock_guard<std::mutex> lock(workersMu_);
      if (workers_.count(uid)) continue;
    }
    logInfo("removing pod the API no longer has", {{"uid", uid}});
    if (containers)
      for (const auto& c : *containers) {
        if (c.id.substr(0, c.id.find('_')) != uid) continue;
        if (c.state == ContainerState::kRunning || c.state == ContainerState::kCreated)
          (void)runtime_->stopContainer(c.id, std::chrono::seconds(2));
        if (auto st = runtime_->removeContainer(c.id); !st)
          logWarn("remove container failed", {{"id", c.id}, {"error", st.error().message}});
      }
    if (auto st = runtime_->removeSandbox(uid); !st)
      logWarn("remove sandbox failed", {{"uid", uid}, {"error", st.error().message}});
  }
}

// ---- node ----

void Kubelet::heartbeatLoop() {
  nameThisThread("kubelet-beat");
  while (true) {
    Status st = registered_ ? writeNodeStatus() : registerNode();
    if (!st) logWarn("node status failed", {{"node", node_.name}, {"error", st.error().message}});
    auto period = st ? options_.heartbeatPeriod
                     : std::min(options_.heartbeatPeriod, std::chrono::milliseconds(1000));
    if (!sleepFor(period)) return;
  }
}

Status Kubelet::registerNode() {
  auto created = client_->post("/api/v1/nodes", nodeObject(node_, machine_));
  if (!created && created.error().code != Code::kAlreadyExists) return created.error();
  if (created) logInfo("node registered", {{"node", node_.name}});
  if (auto st = writeNodeStatus(); !st) return st;
  registered_ = true;
  return Status();
}

Status Kubelet::writeNodeStatus() {
  Json status = nodeStatus(node_, machine_, nodeStatus_, std::chrono::system_clock::now());
  auto r = client_->patch("/api/v1/nodes/" + node_.name + "/status", {{"status", status}},
                          client::kMergePatch);
  if (!r) {
    if (r.error().code == Code::kNotFound) registered_ = false;  // deleted: register again
    return r.error();
  }
  nodeStatus_ = std::move(status);
  return Status();
}

// ---- PodHost ----

Status Kubelet::patchPodStatus(const Json& pod, const Json& patch) {
  auto r = client_->patch(podPath(pod) + "/status", patch, client::kMergePatch);
  if (!r) return r.error().wrap("update status of pod " + podKey(pod));
  return Status();
}

void Kubelet::recordEvent(const Json& pod, const std::string& type, const std::string& reason,
                          const std::string& message) {
  if (events_) events_->record(pod, type, reason, message);
}

namespace {

std::string serviceAccountPath(const Json& pod, const std::string& name) {
  return "/api/v1/namespaces/" + textOf(member(pod, "metadata"), "namespace") +
         "/serviceaccounts/" + name;
}

}  // namespace

Result<bool> Kubelet::serviceAccountAutomounts(const Json& pod, const std::string& name) {
  auto sa = client_->get(serviceAccountPath(pod, name));
  if (!sa) return sa.error();
  const Json& automount = member(*sa, "automountServiceAccountToken");
  return !(automount.is_boolean() && !automount.get<bool>());
}

Result<ServiceAccountToken> Kubelet::serviceAccountToken(const Json& pod, const std::string& name,
                                                         const std::string& audience,
                                                         int64_t expirationSeconds) {
  const Json& md = member(pod, "metadata");
  Json spec = {{"expirationSeconds", expirationSeconds},
               {"boundObjectRef",
                {{"apiVersion", "v1"},
                 {"kind", "Pod"},
                 {"name", textOf(md, "name")},
                 {"uid", textOf(md, "uid")}}}};
  if (!audience.empty()) spec["audiences"] = Json::array({audience});
  Json request = {
      {"apiVersion", "authentication.k8s.io/v1"}, {"kind", "TokenRequest"}, {"spec", spec}};
  auto r = client_->post(serviceAccountPath(pod, name) + "/token", request);
  if (!r) return r.error();
  const Json& status = member(*r, "status");
  auto expires = api::parseTime(textOf(status, "expirationTimestamp"));
  if (textOf(status, "token").empty() || !expires)
    return makeError(Code::kInternal, "the TokenRequest for service account " + name +
                                          " came back without a token or expiry");
  return ServiceAccountToken{textOf(status, "token"), *expires};
}

Status Kubelet::deletePod(const Json& pod) {
  Json options = {{"apiVersion", "v1"},
                  {"kind", "DeleteOptions"},
                  {"gracePeriodSeconds", 0},
                  {"preconditions", {{"uid", textOf(member(pod, "metadata"), "uid")}}}};
  auto r = client_->del(podPath(pod), options);
  if (!r && r.error().code != Code::kNotFound && r.error().code != Code::kConflict)
    return r.error().wrap("delete pod " + podKey(pod));
  return Status();
}

std::vector<std::pair<std::string, std::string>> Kubelet::serviceEnv(const Json& pod) {
  // The kubelet refuses to guess: wait (a little) for the first list.
  services_->waitForSync(std::chrono::seconds(5));
  return serviceEnvForPod(pod, services_->list());
}

std::optional<std::vector<std::string>> Kubelet::endpointsListing(const std::string& ns,
                                                                  const std::string& ip) {
  if (!endpoints_->hasSynced()) return std::nullopt;
  // Filtered inside the cache: only the few holding the pod are copied out.
  return endpointsListingIP(
      endpoints_->list([&](const Json& ep) { return endpointsHoldPod(ep, ns, ip); }), ns, ip);
}

Result<ResolvedImage> Kubelet::resolveImage(const std::string& ref) {
  if (options_.imageResolver) return options_.imageResolver(ref);
  return images_->resolve(ref);
}

Result<std::map<std::string, std::string>> Kubelet::objectData(const std::string& resource,
                                                               const std::string& ns,
                                                               const std::string& name) {
  auto obj = client_->get("/api/v1/namespaces/" + ns + "/" + resource + "/" + name);
  if (!obj) return obj.error();
  std::map<std::string, std::string> out;
  const Json& data = member(*obj, "data");
  if (data.is_object())
    for (auto it = data.begin(); it != data.end(); ++it) {
      if (!it.value().is_string()) continue;
      std::string v = it.value().get<std::string>();
      if (resource == "secrets") {
        auto decoded = client::base64Decode(v);
        if (!decoded) return decoded.error().wrap("secret " + ns + "/" + name + " key " + it.key());
        v = *decoded;
      }
      out[it.key()] = v;
    }
  if (resource == "configmaps") {
    const Json& binary = member(*obj, "binaryData");
    if (binary.is_object())
      for (auto it = binary.begin(); it != binary.end(); ++it)
        if (it.value().is_string())
          if (auto d = client::base64Decode(it.value().get<std::string>()); d) out[it.key()] = *d;
  }
  return out;
}

}  // namespace skiff::kubelet
