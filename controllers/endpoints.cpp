#include "controllers/endpoints.h"

#include <algorithm>
#include <cstdlib>
#include <tuple>

#include "api/selector.h"
#include "base/log.h"
#include "base/thread.h"

namespace skiff::controllers {
namespace {

constexpr const char* kHeadlessLabel = "service.kubernetes.io/headless";

using api::lenient::array;
using api::lenient::field;
using api::lenient::str;

bool isReady(const Json& pod) {
  for (const Json& c : array(field(pod, "status"), "conditions"))
    if (str(c, "type") == "Ready") return str(c, "status") == "True";
  return false;
}

// Kubernetes' ShouldPodBeInEndpoints.
bool shouldBeInEndpoints(const Json& pod, bool includeTerminating) {
  std::string phase = str(field(pod, "status"), "phase");
  if (phase == "Succeeded" || phase == "Failed") return false;
  if (str(field(pod, "status"), "podIP").empty()) return false;
  if (!includeTerminating && !field(field(pod, "metadata"), "deletionTimestamp").is_null())
    return false;
  return true;
}

// podutil.FindPort: the pod's port number for a Service port, or -1.
int64_t findPort(const Json& pod, const Json& servicePort) {
  const Json& target = field(servicePort, "targetPort");
  if (target.is_number_integer()) return target.get<int64_t>();
  if (target.is_null())
    return field(servicePort, "port").is_number_integer()
               ? field(servicePort, "port").get<int64_t>()
               : -1;
  if (!target.is_string()) return -1;
  std::string name = target.get<std::string>();
  std::string protocol = str(servicePort, "protocol");
  if (protocol.empty()) protocol = "TCP";
  const Json& spec = field(pod, "spec");
  auto search = [&](const Json& containers, bool sidecarsOnly) -> int64_t {
    for (const Json& c : containers) {
      if (sidecarsOnly && str(c, "restartPolicy") != "Always") continue;
      for (const Json& p : array(c, "ports")) {
        std::string proto = str(p, "protocol");
        if (proto.empty()) proto = "TCP";
        if (str(p, "name") == name && proto == protocol && field(p, "containerPort").is_number())
          return field(p, "containerPort").get<int64_t>();
      }
    }
    return -1;
  };
  int64_t found = search(array(spec, "containers"), false);
  return found >= 0 ? found : search(array(spec, "initContainers"), true);
}

Json canonicalAddress(const Json& a) {
  Json out = {{"ip", str(a, "ip")}};
  if (!str(a, "hostname").empty()) out["hostname"] = str(a, "hostname");
  if (!str(a, "nodeName").empty()) out["nodeName"] = str(a, "nodeName");
  const Json& ref = field(a, "targetRef");
  if (ref.is_object()) {
    Json r = Json::object();
    for (const char* k : {"kind", "namespace", "name", "uid"})
      if (!str(ref, k).empty()) r[k] = str(ref, k);
    out["targetRef"] = r;
  }
  return out;
}

Json canonicalPort(const Json& p) {
  Json out = Json::object();
  if (!str(p, "name").empty()) out["name"] = str(p, "name");
  out["port"] = field(p, "port").is_number_integer() ? field(p, "port").get<int64_t>() : 0;
  std::string proto = str(p, "protocol");
  out["protocol"] = proto.empty() ? "TCP" : proto;
  if (!str(p, "appProtocol").empty()) out["appProtocol"] = str(p, "appProtocol");
  return out;
}

auto addressOrder(const Json& a) {
  return std::make_tuple(str(a, "ip"), str(field(a, "targetRef"), "uid"));
}

auto portOrder(const Json& p) {
  return std::make_tuple(str(p, "name"), field(p, "port").get<int64_t>(), str(p, "protocol"),
                         str(p, "appProtocol"));
}

void sortAddresses(Json& list) {
  std::sort(list.begin(), list.end(),
            [](const Json& a, const Json& b) { return addressOrder(a) < addressOrder(b); });
}

// The sort key of a subset: its first address (ready ones first), then its ports.
std::string subsetOrder(const Json& s) {
  const Json& ready = array(s, "addresses");
  const Json& notReady = array(s, "notReadyAddresses");
  std::string first = !ready.empty()      ? "0" + str(ready[0], "ip")
                      : !notReady.empty() ? "1" + str(notReady[0], "ip")
                                          : "2";
  return first + "|" + field(s, "ports").dump();
}

void sortSubsets(Json& subsets) {
  std::sort(subsets.begin(), subsets.end(),
            [](const Json& a, const Json& b) { return subsetOrder(a) < subsetOrder(b); });
}

// One (address, port) pair before repacking; port null for a portless headless Service.
struct Entry {
  Json address;
  Json port;
  bool ready;
};

// RepackSubsets: map each port to the set of (address, ready) offering it,
// then give each distinct set one subset holding all its ports.
Json repack(const std::vector<Entry>& entries) {
  // address identity (ip, uid) -> canonical address
  std::map<std::pair<std::string, std::string>, Json> addrs;
  // port (dumped; "" for none) -> set of (address id, ready)
  using AddrSet = std::set<std::tuple<std::string, std::string, bool>>;
  std::map<std::string, AddrSet> byPort;
  std::map<std::string, Json> ports;
  for (const Entry& e : entries) {
    auto id = std::make_pair(str(e.address, "ip"), str(field(e.address, "targetRef"), "uid"));
    addrs.emplace(id, e.address);
    std::string pk = e.port.is_null() ? "" : e.port.dump();
    if (!e.port.is_null()) ports[pk] = e.port;
    byPort[pk].insert({id.first, id.second, e.ready});
  }
  std::map<AddrSet, std::vector<std::string>> bySet;
  for (const auto& [pk, set] : byPort) bySet[set].push_back(pk);
  Json subsets = Json::array();
  for (const auto& [set, pks] : bySet) {
    Json ready = Json::array(), notReady = Json::array(), portList = Json::array();
    for (const auto& [ip, uid, isReady] : set)
      (isReady ? ready : notReady).push_back(addrs[{ip, uid}]);
    for (const std::string& pk : pks)
      if (!pk.empty()) portList.push_back(ports[pk]);
    Json s = Json::object();
    sortAddresses(ready);
    sortAddresses(notReady);
    std::sort(portList.begin(), portList.end(),
              [](const Json& a, const Json& b) { return portOrder(a) < portOrder(b); });
    if (!ready.empty()) s["addresses"] = ready;
    if (!notReady.empty()) s["notReadyAddresses"] = notReady;
    if (!portList.empty()) s["ports"] = portList;
    subsets.push_back(s);
  }
  sortSubsets(subsets);
  return subsets;
}

bool isHeadless(const Json& service) {
  std::string ip = str(field(service, "spec"), "clusterIP");
  return ip.empty() || ip == "None";
}

Json labelsOf(const Json& obj) {
  const Json& l = field(field(obj, "metadata"), "labels");
  return l.is_object() ? l : Json::object();
}

// resourceVersions are decimal revisions; -1 when not.
long long revision(const Json& obj) {
  std::string rv = str(field(obj, "metadata"), "resourceVersion");
  char* end = nullptr;
  long long v = std::strtoll(rv.c_str(), &end, 10);
  return rv.empty() || *end ? -1 : v;
}

}  // namespace

bool managesEndpointsOf(const Json& service) {
  const Json& spec = field(service, "spec");
  const Json& selector = field(spec, "selector");
  return selector.is_object() && !selector.empty() && str(spec, "type") != "ExternalName";
}

Json desiredEndpoints(const Json& service, const std::vector<Json>& pods) {
  const Json& meta = field(service, "metadata");
  const Json& spec = field(service, "spec");
  std::string ns = str(meta, "namespace");
  std::string name = str(meta, "name");
  Json labels = labelsOf(service);
  if (isHeadless(service))
    labels[kHeadlessLabel] = "";
  else
    labels.erase(kHeadlessLabel);
  Json out = {{"apiVersion", "v1"},
              {"kind", "Endpoints"},
              {"metadata", {{"name", name}, {"namespace", ns}, {"labels", labels}}},
              {"subsets", Json::array()}};
  if (!managesEndpointsOf(service)) return out;

  api::LabelSelector selector = api::LabelSelector::fromMap(field(spec, "selector"));
  const Json& publish = field(spec, "publishNotReadyAddresses");
  bool tolerateUnready = publish.is_boolean() && publish.get<bool>();
  const Json& servicePorts = array(spec, "ports");
  std::vector<Entry> entries;
  for (const Json& pod : pods) {
    const Json& pmeta = field(pod, "metadata");
    if (str(pmeta, "namespace") != ns || !selector.matches(field(pmeta, "labels"))) continue;
    if (!shouldBeInEndpoints(pod, tolerateUnready)) continue;
    const Json& pspec = field(pod, "spec");
    Json address = {{"ip", str(field(pod, "status"), "podIP")}};
    if (!str(pspec, "hostname").empty() && str(pspec, "subdomain") == name)
      address["hostname"] = str(pspec, "hostname");
    if (!str(pspec, "nodeName").empty()) address["nodeName"] = str(pspec, "nodeName");
    address["targetRef"] = {{"kind", "Pod"},
                            {"namespace", ns},
                            {"name", str(pmeta, "name")},
                            {"uid", str(pmeta, "uid")}};
    address = canonicalAddress(address);
    bool ready = tolerateUnready || isReady(pod);
    if (servicePorts.empty()) {
      if (str(spec, "clusterIP") == "None") entries.push_back({address, nullptr, ready});
      continue;
    }
    for (const Json& sp : servicePorts) {
      int64_t port = findPort(pod, sp);
      if (port <= 0) continue;
      Json p = sp;
      p["port"] = port;
      entries.push_back({address, canonicalPort(p), ready});
    }
  }
  out["subsets"] = repack(entries);
  return out;
}

Json canonicalSubsets(const Json& subsets) {
  Json out = Json::array();
  if (!subsets.is_array()) return out;
  for (const Json& s : subsets) {
    Json c = Json::object();
    for (const char* k : {"addresses", "notReadyAddresses"}) {
      Json list = Json::array();
      for (const Json& a : array(s, k)) list.push_back(canonicalAddress(a));
      sortAddresses(list);
      if (!list.empty()) c[k] = list;
    }
    Json ports = Json::array();
    for (const Json& p : array(s, "ports")) ports.push_back(canonicalPort(p));
    std::sort(ports.begin(), ports.end(),
              [](const Json& a, const Json& b) { return portOrder(a) < portOrder(b); });
    if (!ports.empty()) c["ports"] = ports;
    if (c.contains("addresses") || c.contains("notReadyAddresses")) out.push_back(c);
  }
  sortSubsets(out);
  return out;
}

bool endpointsUpToDate(const Json& current, const Json& desired) {
  return canonicalSubsets(field(current, "subsets")) ==
             canonicalSubsets(field(desired, "subsets")) &&
         labelsOf(current) == labelsOf(desired);
}

// ---- the controller ----

EndpointsController::EndpointsController(client::ClientConfig config,
                                         EndpointsControllerOptions options)
    : options_(std::move(options)), client_(std::move(config)) {}

EndpointsController::~EndpointsController() {
  stop();
}

Status EndpointsController::start() {
  if (started_) return {};
  started_ = true;
  services_ = std::make_unique<client::Informer>(client_, "/api/v1/services");
  pods_ = std::make_unique<client::Informer>(client_, "/api/v1/pods");
  endpoints_ = std::make_unique<client::Informer>(client_, "/api/v1/endpoints");
  auto key = [](const Json& o) { return client::Informer::keyOf(o); };
  services_->addHandlers({[this, key](const Json& s) { queue_.add(key(s)); },
                          [this, key](const Json&, const Json& s) { queue_.add(key(s)); },
                          [this, key](const Json& s) {
                            if (managesEndpointsOf(s)) {
                              std::lock_guard<std::mutex> lock(mu_);
                              deletedManaged_.insert(key(s));
                            }
                            queue_.add(key(s));
                          }});
  pods_->addHandlers({[this](const Json& p) { enqueueServicesFor(p); },
                      [this](const Json& o, const Json& p) {
                        if (labelsOf(o) != labelsOf(p)) enqueueServicesFor(o);
                        enqueueServicesFor(p);
                      },
                      [this](const Json& p) { enqueueServicesFor(p); }});
  // Someone else changed or removed an Endpoints we keep: look again.
  auto ifManaged = [this, key](const Json& e) {
    auto svc = services_->get(key(e));
    if (svc && managesEndpointsOf(*svc)) queue_.add(key(e));
  };
  endpoints_->addHandlers({[](const Json&) {},
                           [ifManaged](const Json&, const Json& e) { ifManaged(e); },
                           [ifManaged](const Json& e) { ifManaged(e); }});
  services_->start();
  pods_->start();
  endpoints_->start();
  for (int i = 0; i < std::max(1, options_.workers); ++i) workers_.emplace_back([this] { run(); });
  resync_ = std::thread([this] { resyncLoop(); });
  logInfo("endpoints controller started");
  return {};
}

void EndpointsController::stop() {
  if (!started_) return;
  stopping_ = true;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopCv_.notify_all();
  }
  queue_.shutDown();
  for (auto& t : workers_)
    if (t.joinable()) t.join();
  workers_.clear();
  if (resync_.joinable()) resync_.join();
  // Each informer takes up to a second to notice; stop them side by side.
  std::thread servicesStop([this] { services_->stop(); });
  std::thread podsStop([this] { pods_->stop(); });
  endpoints_->stop();
  servicesStop.join();
  podsStop.join();
  started_ = false;
}

void EndpointsController::enqueueServicesFor(const Json& pod) {
  std::string ns = str(field(pod, "metadata"), "namespace");
  const Json& labels = field(field(pod, "metadata"), "labels");
  for (const Json& s : services_->list([&](const Json& s) {
         return str(field(s, "metadata"), "namespace") == ns && managesEndpointsOf(s) &&
                api::LabelSelector::fromMap(s["spec"]["selector"]).matches(labels);
       }))
    queue_.add(client::Informer::keyOf(s));
}

void EndpointsController::enqueueAllServices() {
  for (const Json& s : services_->list()) queue_.add(client::Informer::keyOf(s));
}

void EndpointsController::resyncLoop() {
  nameThisThread("endpoints-sync");
  // Wait for the caches, then look at everything once, leftovers included.
  while (!stopping_ && !(services_->hasSynced() && pods_->hasSynced() && endpoints_->hasSynced()))
    (void)endpoints_->waitForSync(std::chrono::milliseconds(100));
  if (stopping_) return;
  enqueueAllServices();
  for (const Json& e : endpoints_->list()) queue_.add(client::Informer::keyOf(e));
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    stopCv_.wait_for(lock, options_.resyncPeriod, [&] { return stopping_.load(); });
    if (stopping_) return;
    lock.unlock();
    enqueueAllServices();
    lock.lock();
  }
}

void EndpointsController::run() {
  nameThisThread("endpoints");
  while (!stopping_ && !(services_->hasSynced() && pods_->hasSynced() && endpoints_->hasSynced()))
    (void)pods_->waitForSync(std::chrono::milliseconds(100));
  while (auto key = queue_.get()) {
    bool ok = reconcile(*key);
    if (ok)
      queue_.forget(*key);
    else
      queue_.addRateLimited(*key);
    queue_.done(*key);
  }
}

bool EndpointsController::reconcile(const std::string& key) {
  auto slash = key.find('/');
  if (slash == std::string::npos) return true;
  std::string ns = key.substr(0, slash), name = key.substr(slash + 1);
  std::string path = "/api/v1/namespaces/" + ns + "/endpoints/" + name;

  // The Endpoints as we know it: the cache, or what we wrote if that is newer.
  std::optional<Json> current = endpoints_->get(key);
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto w = written_.find(key);
    if (w != written_.end()) {
      if (current && revision(*current) >= revision(w->second))
        written_.erase(w);
      else
        current = w->second;
    }
  }

  std::optional<Json> service = services_->get(key);
  if (!service) {
    bool wasManaged;
    {
      std::lock_guard<std::mutex> lock(mu_);
      wasManaged = deletedManaged_.erase(key) > 0;
    }
    if (!current) return true;
    if (!wasManaged) {
      // A leftover from before a restart: ours only if every address points at a Pod.
      bool ours = true;
      for (const Json& s : array(*current, "subsets"))
        for (const char* k : {"addresses", "notReadyAddresses"})
          for (const Json& a : array(s, k))
            if (str(field(a, "targetRef"), "kind") != "Pod") ours = false;
      if (!ours || array(*current, "subsets").empty()) return true;
    }
    auto r = client_.del(path);
    if (!r && r.error().code != Code::kNotFound) {
      logWarn("endpoints delete failed", {{"endpoints", key}, {"error", r.error().message}});
      return false;
    }
    ++writes_;
    std::lock_guard<std::mutex> lock(mu_);
    written_.erase(key);
    logInfo("endpoints deleted", {{"endpoints", key}});
    return true;
  }
  if (!managesEndpointsOf(*service)) return true;  // the user's Endpoints

  // Copy only the selected pods out of the cache (desiredEndpoints checks again).
  api::LabelSelector selector = api::LabelSelector::fromMap((*service)["spec"]["selector"]);
  std::vector<Json> pods = pods_->list([&](const Json& p) {
    const Json& meta = field(p, "metadata");
    return str(meta, "namespace") == ns && selector.matches(field(meta, "labels"));
  });
  Json desired = desiredEndpoints(*service, pods);
  if (current && endpointsUpToDate(*current, desired)) return true;

  Result<Json> r = makeError(Code::kInternal, "");
  if (!current) {
    r = client_.post("/api/v1/namespaces/" + ns + "/endpoints", desired);
  } else {
    Json next = *current;
    next["metadata"]["labels"] = desired["metadata"]["labels"];
    next["subsets"] = desired["subsets"];
    r = client_.put(path, next);
  }
  if (!r) {
    if (r.error().code == Code::kNotFound) {  // deleted behind our back: create it next time
      std::lock_guard<std::mutex> lock(mu_);
      written_.erase(key);
      return false;
    }
    // AlreadyExists / Conflict: our view is behind; retried with backoff.
    if (r.error().code != Code::kAlreadyExists && r.error().code != Code::kConflict)
      logWarn("endpoints write failed", {{"endpoints", key}, {"error", r.error().message}});
    return false;
  }
  ++writes_;
  size_t ready = 0, notReady = 0;
  for (const Json& s : desired["subsets"]) {
    ready += array(s, "addresses").size();
    notReady += array(s, "notReadyAddresses").size();
  }
  logDebug("endpoints updated", {{"endpoints", key},
                                 {"ready", std::to_string(ready)},
                                 {"notReady", std::to_string(notReady)}});
  std::lock_guard<std::mutex> lock(mu_);
  written_[key] = *r;
  return true;
}

}  // namespace skiff::controllers
