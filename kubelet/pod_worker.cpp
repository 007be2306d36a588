#include "kubelet/pod_worker.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <future>
#include <set>
#include <sstream>

#include "api/meta.h"
#include "api/validation_internal.h"
#include "base/log.h"
#include "base/thread.h"
#include "kubelet/image_ref.h"
#include "kubelet/process_spec.h"
#include "kubelet/volume_files.h"

namespace skiff::kubelet {

namespace fs = std::filesystem;

// ---- resolv.conf and the sandbox ----

DnsConfig parseResolvConf(const std::string& text) {
  DnsConfig out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    auto hash = line.find_first_of("#;");
    if (hash != std::string::npos) line.resize(hash);
    std::istringstream words(line);
    std::string key, word;
    if (!(words >> key)) continue;
    std::vector<std::string> rest;
    while (words >> word) rest.push_back(word);
    if (key == "nameserver" && !rest.empty()) {
      out.servers.push_back(rest[0]);
    } else if (key == "search" || key == "domain") {
      out.searches = rest;  // the last search/domain line wins, as the resolver does
    } else if (key == "options") {
      out.options.insert(out.options.end(), rest.begin(), rest.end());
    }
  }
  return out;
}

namespace {

std::vector<std::string> strings(const Json& list) {
  std::vector<std::string> out;
  if (list.is_array())
    for (const auto& v : list)
      if (v.is_string()) out.push_back(v.get<std::string>());
  return out;
}

// Options merge by name ("ndots:5" and "ndots:2" are one option); later wins.
void mergeOption(std::vector<std::string>& options, const std::string& option) {
  std::string name = option.substr(0, option.find(':'));
  for (auto& o : options)
    if (o.substr(0, o.find(':')) == name) {
      o = option;
      return;
    }
  options.push_back(option);
}

std::string podHostname(const Json& pod) {
  std::string h = textOf(member(pod, "spec"), "hostname");
  if (h.empty()) h = textOf(member(pod, "metadata"), "name");
  if (h.size() > 63) {
    h.resize(63);
    while (!h.empty() && (h.back() == '-' || h.back() == '.')) h.pop_back();
  }
  return h;
}

bool boolOf(const Json& obj, const char* key) {
  const Json& v = member(obj, key);
  return v.is_boolean() && v.get<bool>();
}

// The runtime's containers by name, each name's attempts oldest first.
std::map<std::string, std::vector<ContainerStatus>> byContainerName(
    std::vector<ContainerStatus> listed) {
  std::map<std::string, std::vector<ContainerStatus>> byName;
  for (auto& c : listed) byName[c.name].push_back(std::move(c));
  for (auto& [name, attempts] : byName)
    std::sort(
        attempts.begin(), attempts.end(),
        [](const ContainerStatus& a, const ContainerStatus& b) { return a.attempt < b.attempt; });
  return byName;
}

}  // namespace

SandboxConfig sandboxConfig(const Json& pod, const PodWorkerConfig& config) {
  const Json& md = member(pod, "metadata");
  const Json& spec = member(pod, "spec");
  SandboxConfig sc;
  sc.podUid = textOf(md, "uid");
  sc.podName = textOf(md, "name");
  sc.podNamespace = textOf(md, "namespace");
  sc.hostname = podHostname(pod);
  sc.hostNetwork = boolOf(spec, "hostNetwork");
  const Json& aliases = member(spec, "hostAliases");
  if (aliases.is_array())
    for (const auto& a : aliases)
      sc.hostAliases.emplace_back(textOf(a, "ip"), strings(member(a, "hostnames")));

  std::string policy = textOf(spec, "dnsPolicy");
  if (policy.empty()) policy = "ClusterFirst";
  bool cluster =
      (policy == "ClusterFirst" && !sc.hostNetwork) || policy == "ClusterFirstWithHostNet";
  if (cluster && config.clusterDNS.empty()) cluster = false;
  DnsConfig dns;
  if (policy == "None") {
    // only spec.dnsConfig
  } else if (cluster) {
    const std::string& d = config.clusterDomain;
    dns.servers = {config.clusterDNS};
    dns.searches = {sc.podNamespace + ".svc." + d, "svc." + d, d};
    dns.searches.insert(dns.searches.end(), config.hostDNS.searches.begin(),
                        config.hostDNS.searches.end());
    dns.options = {"ndots:5"};
  } else {
    dns = config.hostDNS;
  }
  const Json& extra = member(spec, "dnsConfig");
  for (auto& s : strings(member(extra, "nameservers"))) dns.servers.push_back(s);
  for (auto& s : strings(member(extra, "searches"))) dns.searches.push_back(s);
  const Json& options = member(extra, "options");
  if (options.is_array())
    for (const auto& o : options) {
      std::string name = textOf(o, "name");
      if (name.empty()) continue;
      std::string value = textOf(o, "value");
      mergeOption(dns.options, value.empty() ? name : name + ":" + value);
    }
  // The resolver's limits, as the kubelet applies them.
  if (dns.servers.size() > 3) dns.servers.resize(3);
  std::vector<std::string> searches;
  for (auto& s : dns.searches)
    if (std::find(searches.begin(), searches.end(), s) == searches.end()) searches.push_back(s);
  if (searches.size() > 32) searches.resize(32);
  sc.dnsServers = dns.servers;
  sc.dnsSearches = searches;
  sc.dnsOptions = dns.options;
  return sc;
}

// ---- the container's runtime config ----

namespace {

Result<int64_t> quantity(const Json& v, const std::string& what) {
  std::string err;
  auto q = api::detail::parseQuantity(v, &err);
  if (!q) return makeError(Code::kBadRequest, what + ": " + err);
  return static_cast<int64_t>(std::ceil(*q));
}

std::string volumeDir(const PodWorkerConfig& config, const std::string& uid,
                      const std::string& volume) {
  return config.dataDir + "/pods/" + uid + "/volumes/" + volume;
}

// The service-account volume: the name its errors use, and its directory's
// (no volume of the pod's can be named so: '_' is not in a DNS label).
constexpr const char* kTokenVolume = "kube-api-access";
constexpr const char* kTokenVolumeDir = "_kube-api-access";

// spec.serviceAccountName, else the deprecated spec.serviceAccount, else "default".
std::string serviceAccountOf(const Json& pod) {
  const Json& spec = member(pod, "spec");
  for (const char* key : {"serviceAccountName", "serviceAccount"})
    if (std::string name = textOf(spec, key); !name.empty()) return name;
  return "default";
}

}  // namespace

bool mountsServiceAccountToken(const Json& pod, const PodWorkerConfig& config) {
  const Json& automount = member(member(pod, "spec"), "automountServiceAccountToken");
  return !config.caPem.empty() && !(automount.is_boolean() && !automount.get<bool>());
}

Result<ContainerPlan> containerPlan(const Json& pod, const Json& container, int attempt,
                                    ProcessSpec process, const PodWorkerConfig& config,
                                    bool serviceAccountVolume) {
  const Json& spec = member(pod, "spec");
  std::string uid = textOf(member(pod, "metadata"), "uid");
  std::string name = textOf(container, "name");
  ContainerPlan plan;
  ContainerConfig& c = plan.config;
  c.podUid = uid;
  c.name = name;
  c.attempt = attempt;
  c.image = textOf(container, "image");
  c.process = std::move(process);
  c.pidsLimit = config.pidsLimit;
  c.stdinOpen = boolOf(container, "stdin");

  const Json& limits = member(member(container, "resources"), "limits");
  if (const Json& mem = member(limits, "memory"); !mem.is_null()) {
    auto q = quantity(mem, "resources.limits.memory");
    if (!q) return q.error();
    c.memoryLimitBytes = *q;
  }
  if (const Json& cpu = member(limits, "cpu"); !cpu.is_null()) {
    std::string err;
    auto q = api::detail::parseQuantity(cpu, &err);
    if (!q) return makeError(Code::kBadRequest, "resources.limits.cpu: " + err);
    // The kubelet's MilliCPUToQuota: 100 ms periods, at least 1 ms.
    int64_t quota = static_cast<int64_t>(std::ceil(*q * 100000));
    c.cpuQuotaMicros = quota > 0 && quota < 1000 ? 1000 : quota;
  }
  const Json& sc = member(container, "securityContext");
  c.privileged = boolOf(sc, "privileged");
  c.readOnlyRootfs = boolOf(sc, "readOnlyRootFilesystem");
  c.capAdd = strings(member(member(sc, "capabilities"), "add"));
  c.capDrop = strings(member(member(sc, "capabilities"), "drop"));

  const Json& volumes = member(spec, "volumes");
  const Json& mounts = member(container, "volumeMounts");
  if (mounts.is_array()) {
    for (const auto& m : mounts) {
      std::string vname = textOf(m, "name");
      const Json* volume = nullptr;
      if (volumes.is_array())
        for (const auto& v : volumes)
          if (textOf(v, "name") == vname) volume = &v;
      if (!volume)
        return makeError(Code::kBadRequest, "volumeMount " + vname + ": volume not found");
      std::string subPath = textOf(m, "subPath");
      if (escapesDirectory(subPath))
        return makeError(Code::kBadRequest, "volumeMount " + vname + ": subPath \"" + subPath +
                                                "\" must be a relative path without '..'");
      Mount mount;
      mount.destination = textOf(m, "mountPath");
      mount.readOnly = boolOf(m, "readOnly");
      if (const Json& ed = member(*volume, "emptyDir"); ed.is_object()) {
        mount.source = volumeDir(config, uid, vname);
        mount.tmpfs = textOf(ed, "medium") == "Memory";
        if (!mount.tmpfs) plan.dirs.push_back(mount.source);
      } else if (const Json& hp = member(*volume, "hostPath"); hp.is_object()) {
        mount.source = textOf(hp, "path");
        if (textOf(hp, "type") == "DirectoryOrCreate") plan.dirs.push_back(mount.source);
      } else if (isFileVolume(*volume)) {
        // Written by the worker before the start (volume_files.h); always read-only.
        mount.source = volumeDir(config, uid, vname);
        mount.readOnly = true;
      } else {
        return makeError(Code::kBadRequest,
                         "volume " + vname +
                             ": only emptyDir, hostPath, configMap, secret, downwardAPI and "
                             "projected volumes are supported");
      }
      if (!subPath.empty()) {
        mount.source += "/" + subPath;
        if (!mount.tmpfs && !isFileVolume(*volume)) plan.dirs.push_back(mount.source);
      }
      c.mounts.push_back(std::move(mount));
    }
  }
  if (serviceAccountVolume && std::none_of(c.mounts.begin(), c.mounts.end(), [](const Mount& m) {
        return m.destination == kServiceAccountMountPath;
      })) {
    Mount mount;
    mount.source = volumeDir(config, uid, kTokenVolumeDir);
    mount.destination = kServiceAccountMountPath;
    mount.readOnly = true;
    c.mounts.push_back(std::move(mount));
  }
  return plan;
}

// ---- the worker ----

namespace {

// status.containerStatuses[].imageID: "docker.io/library/busybox@sha256:<manifest>".
std::string imageID(const std::string& image, const ResolvedImage& resolved) {
  auto ref = parseImageRef(image);
  return (ref ? ref->name() : image) + "@" +
         (resolved.manifestDigest.empty() ? resolved.id : resolved.manifestDigest);
}

}  // namespace

PodWorker::PodWorker(Json pod, PodWorkerConfig config, Runtime& runtime, PodHost& host)
    : uid_(textOf(member(pod, "metadata"), "uid")),
      config_(std::move(config)),
      runtime_(runtime),
      host_(host),
      pod_(std::move(pod)),
      backoff_(config_.backoffInitial, config_.backoffMax) {}

PodWorker::~PodWorker() {
  stop();
}

TimePoint PodWorker::now() const {
  return config_.clock ? config_.clock() : std::chrono::system_clock::now();
}

void PodWorker::start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] { run(); });
}

void PodWorker::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (config_.startGate) config_.startGate->wakeAll();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void PodWorker::update(Json pod) {
  bool newlyDeleted;
  {
    std::lock_guard<std::mutex> lock(mu_);
    newlyDeleted = api::isDeleting(pod) && !api::isDeleting(pod_);
    pod_ = std::move(pod);
    dirty_ = true;
  }
  cv_.notify_all();
  // A deletion cancels a waiting start; no other change does (most updates
  // are echoes of this kubelet's own status writes).
  if (newlyDeleted && config_.startGate) config_.startGate->wakeAll();
}

void PodWorker::removed() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    gone_ = true;
    dirty_ = true;
  }
  cv_.notify_all();
  if (config_.startGate) config_.startGate->wakeAll();
}

bool PodWorker::startCancelled() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stopping_ || gone_ || api::isDeleting(pod_);
}

bool PodWorker::enterGate() {
  if (holdingGate_ || !config_.startGate) return true;
  holdingGate_ = config_.startGate->acquire([this] { return startCancelled(); });
  return holdingGate_;
}

void PodWorker::leaveGate() {
  if (!holdingGate_) return;
  holdingGate_ = false;
  config_.startGate->release();
}

std::vector<std::string> PodWorker::podIPs() const {
  if (!sandbox_) return {};
  if (!sandbox_->ip.empty()) return {sandbox_->ip};
  if (sandbox_->netnsPath.empty()) return config_.hostIPs;  // hostNetwork: the node's
  return {};
}

Json PodWorker::lastStatus() const {
  std::lock_guard<std::mutex> lock(mu_);
  return lastWritten_;
}

void PodWorker::run() {
  nameThisThread("pod-worker");
  skipThreadCache();
  while (true) {
    std::optional<TimePoint> wake = syncOnce();
    if (done_) return;
    auto delay = std::chrono::duration_cast<std::chrono::milliseconds>(
        wake ? *wake - now() : std::chrono::system_clock::duration(config_.resyncPeriod));
    delay = std::clamp(delay, std::chrono::milliseconds(0), config_.resyncPeriod);
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, delay, [&] { return stopping_ || dirty_; });
    if (stopping_) return;
    dirty_ = false;
  }
}

std::optional<TimePoint> PodWorker::syncOnce() {
  Json pod;
  bool gone;
  {
    std::lock_guard<std::mutex> lock(mu_);
    pod = pod_;
    gone = gone_;
  }
  TimePoint now = this->now();
  const Json& md = member(pod, "metadata");
  if (gone || api::isDeleting(pod)) return teardown(pod, gone);

  // A slot taken for the sandbox or a container start is held to the end of
  // the pass's starts, so a pod's starts finish together, in arrival order.
  struct GateGuard {
    PodWorker* w;
    ~GateGuard() { w->leaveGate(); }
  } gateGuard{this};
  TimePoint retry = now + config_.retryPeriod;
  if (!sandbox_) {
    if (!enterGate()) return now;  // being deleted or stopping: the next pass sees it
    auto sandbox = runtime_.ensureSandbox(sandboxConfig(pod, config_));
    if (!sandbox) {
      logWarn("pod sandbox failed", {{"pod", textOf(md, "namespace") + "/" + textOf(md, "name")},
                                     {"error", sandbox.error().message}});
      leaveGate();
      PodObservation obs;
      obs.pod = pod;
      obs.hostIPs = config_.hostIPs;
      (void)writeStatus(pod, std::move(obs), now);
      return retry;
    }
    sandbox_ = *sandbox;
  }
  auto listed = runtime_.listContainers(uid_);
  if (!listed) {
    logWarn("list containers failed", {{"pod", uid_}, {"error", listed.error().message}});
    return retry;
  }
  ContainersByName byName = byContainerName(std::move(*listed));

  TimePoint wake = TimePoint::max();
  std::string oldPhase;
  {
    std::lock_guard<std::mutex> lock(mu_);
    oldPhase = textOf(lastWritten_.is_null() ? member(pod, "status") : lastWritten_, "phase");
  }
  bool terminal = oldPhase == "Succeeded" || oldPhase == "Failed";
  const Json& spec = member(pod, "spec");
  if (!terminal) {
    bool initDone = true;
    const Json& inits = member(spec, "initContainers");
    if (inits.is_array())
      for (const auto& c : inits) {
        Progress p = advance(pod, c, true, byName[textOf(c, "name")], now, wake);
        if (p == Progress::kSucceeded) continue;
        initDone = false;
        break;
      }
    const Json& apps = member(spec, "containers");
    if (initDone && apps.is_array())
      for (const auto& c : apps) advance(pod, c, false, byName[textOf(c, "name")], now, wake);
  }

  bool anyRunning = false;
  PodObservation obs = observe(pod, byName, false, anyRunning);
  leaveGate();  // the status write needs no slot
  // A running pod's file volumes follow their ConfigMaps, Secrets and labels.
  if (anyRunning && now >= volumesRefreshAt_) {
    volumesRefreshAt_ = now + config_.volumeRefreshPeriod;
    if (auto st = setUpVolumes(pod, context(pod)); !st)
      logWarn("volume refresh failed", {{"pod", uid_}, {"error", st.error().message}});
  }
  if (!writeStatus(pod, std::move(obs), now)) wake = std::min(wake, retry);
  if (anyRunning) wake = std::min(wake, now + config_.pollPeriod);
  if (wake == TimePoint::max()) return std::nullopt;
  return wake;
}

PodWorker::Progress PodWorker::advance(const Json& pod, const Json& container, bool isInit,
                                       std::vector<ContainerStatus>& attempts, TimePoint now,
                                       TimePoint& wake) {
  std::string name = textOf(container, "name");
  if (attempts.empty()) return start(pod, container, 0, attempts, now, wake);
  ContainerStatus& latest = attempts.back();
  // probe() stops a container whose liveness or startup probe failed.
  if (latest.state == ContainerState::kRunning && !isInit) probe(pod, container, latest, now, wake);
  if (latest.state != ContainerState::kExited) return Progress::kRunning;
  probes_.erase(latest.id);

  // Exited.
  std::string policy = textOf(member(pod, "spec"), "restartPolicy");
  bool restart =
      isInit ? latest.exitCode != 0 && policy != "Never" : shouldRestart(policy, latest.exitCode);
  if (!restart) {
    waiting_.erase(name);
    return latest.exitCode == 0 ? Progress::kSucceeded : Progress::kFailed;
  }
  if (auto delay = backoff_.inBackoff(name, latest.finishedAt, now)) {
    const Json& md = member(pod, "metadata");
    const std::string podName =
        textOf(md, "name") + "_" + textOf(md, "namespace") + "(" + uid_ + ")";
    waiting_[name] = {"CrashLoopBackOff", "back-off " + goDuration(*delay) +
                                              " restarting failed container=" + name +
                                              " pod=" + podName};
    // Once per dead attempt, not on every pass of its wait (a pass a second
    // while the pod's other containers run).
    if (std::string& reported = backoffReported_[name]; reported != latest.id) {
      reported = latest.id;
      host_.recordEvent(pod, "Warning", "BackOff",
                        "Back-off restarting failed container " + name + " in pod " + podName);
    }
    wake = std::min(wake, latest.finishedAt + *delay);
    return Progress::kWaiting;
  }
  int next = latest.attempt + 1;
  // Only the newest dead attempt stays (lastState, logs --previous).
  while (attempts.size() > 1) {
    if (auto st = runtime_.removeContainer(attempts.front().id); !st)
      logWarn("remove container failed",
              {{"id", attempts.front().id}, {"error", st.error().message}});
    attempts.erase(attempts.begin());
  }
  backoff_.next(name, now);
  return start(pod, container, next, attempts, now, wake);
}

PodWorker::Progress PodWorker::start(const Json& pod, const Json& container, int attempt,
                                     std::vector<ContainerStatus>& attempts, TimePoint now,
                                     TimePoint& wake) {
  std::string name = textOf(container, "name");
  if (auto r = retryAt_.find(name); r != retryAt_.end() && r->second > now) {
    wake = std::min(wake, r->second);
    return Progress::kWaiting;
  }
  auto fail = [&](const std::string& reason, const std::string& message) {
    waiting_[name] = {reason, message};
    // Where `kubectl describe pod` shows the message (its State shows the reason only).
    if (reason == "ErrImageNeverPull") {
      host_.recordEvent(pod, "Warning", reason, message);
    } else if (reason == "ContainerCreating") {  // a volume could not be set up
      host_.recordEvent(pod, "Warning", "FailedMount", message);
    } else {
      host_.recordEvent(pod, "Warning", "Failed", "Error: " + message);
    }
    retryAt_[name] = now + config_.imageRetryPeriod;
    wake = std::min(wake, retryAt_[name]);
    return Progress::kWaiting;
  };
  std::string image = textOf(container, "image");
  auto notPresent = [&] {
    return fail("ErrImageNeverPull",
                "Container image \"" + image +
                    "\" is not present with pull policy of Never: load it into the node with "
                    "`skiff image load FILE` (a docker save or OCI archive)");
  };
  auto resolved = host_.resolveImage(image);
  if (!resolved) {
    if (resolved.error().code == Code::kNotFound) return notPresent();
    return fail("InvalidImageName", resolved.error().message);
  }
  imageIDs_[name] = imageID(image, *resolved);

  const Json& md = member(pod, "metadata");
  std::string ns = textOf(md, "namespace");
  PodContext ctx = context(pod);
  // Once per refresh period, not per container: a pod's containers starting
  // in one pass share what the first start wrote.
  if (now >= volumesRefreshAt_) {
    if (auto st = setUpVolumes(pod, ctx); !st) return fail("ContainerCreating", st.error().message);
    volumesRefreshAt_ = now + config_.volumeRefreshPeriod;
  }
  ctx.serviceEnv = host_.serviceEnv(pod);
  auto process = processSpec(container, resolved->config, ctx);
  if (!process) return fail("CreateContainerConfigError", process.error().message);
  auto plan = containerPlan(pod, container, attempt, std::move(*process), config_,
                            mountsServiceAccountToken(pod, config_) && automount_.value_or(true));
  if (!plan) return fail("CreateContainerConfigError", plan.error().message);
  for (const auto& dir : plan->dirs) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return fail("CreateContainerError", "create " + dir + ": " + ec.message());
  }
  if (!enterGate()) {  // being deleted or stopping: the next pass sees it
    wake = std::min(wake, now);
    return Progress::kWaiting;
  }
  auto started = runtime_.startContainer(plan->config, *sandbox_);
  if (!started) {
    if (started.error().code == Code::kNotFound) return notPresent();
    return fail("CreateContainerError", started.error().message);
  }
  logInfo("container started", {{"pod", ns + "/" + textOf(md, "name")},
                                {"container", name},
                                {"attempt", std::to_string(attempt)}});
  host_.recordEvent(pod, "Normal", "Pulled",
                    "Container image \"" + image + "\" already present on machine");
  host_.recordEvent(pod, "Normal", "Created", "Created container: " + name);
  host_.recordEvent(pod, "Normal", "Started", "Started container " + name);
  waiting_.erase(name);
  retryAt_.erase(name);
  attempts.push_back(*started);
  // Look again soon: the container may exit at once (or an init container finish).
  wake = std::min(wake, now);
  return Progress::kRunning;
}

PodContext PodWorker::context(const Json& pod) {
  std::string ns = textOf(member(pod, "metadata"), "namespace");
  PodContext ctx;
  ctx.pod = pod;
  ctx.podIPs = podIPs();
  ctx.hostIPs = config_.hostIPs;
  ctx.nodeName = config_.nodeName;
  ctx.configMapData = [this, ns](const std::string& n) {
    return host_.objectData("configmaps", ns, n);
  };
  ctx.secretData = [this, ns](const std::string& n) { return host_.objectData("secrets", ns, n); };
  ctx.serviceAccountToken = [this, pod](const std::string& audience, int64_t seconds) {
    return token(pod, audience, seconds);
  };
  return ctx;
}

Status PodWorker::setUpVolumes(const Json& pod, const PodContext& ctx) {
  static const Json kNone = Json::array();
  const Json& volumes = member(member(pod, "spec"), "volumes");
  for (const auto& v : volumes.is_array() ? volumes : kNone) {
    if (!isFileVolume(v)) continue;
    std::string name = textOf(v, "name");
    auto files = volumeFiles(v, ctx);
    Result<bool> wrote = files ? writeVolumeFiles(volumeDir(config_, uid_, name), *files)
                               : Result<bool>(files.error());
    if (!wrote)
      return makeError(wrote.error().code, "MountVolume.SetUp failed for volume \"" + name +
                                               "\" : " + wrote.error().message);
    if (*wrote) logInfo("volume written", {{"pod", uid_}, {"volume", name}});
  }
  if (!mountsServiceAccountToken(pod, config_)) return {};
  auto failed = [&](const Error& e) {
    return makeError(e.code, std::string("MountVolume.SetUp failed for volume \"") + kTokenVolume +
                                 "\" : " + e.message);
  };
  if (!automount_) {
    // The pod says nothing (mountsServiceAccountToken): its ServiceAccount decides.
    auto automounts = host_.serviceAccountAutomounts(pod, serviceAccountOf(pod));
    if (!automounts) return failed(automounts.error());
    automount_ = *automounts;
  }
  if (!*automount_) return {};
  auto token = this->token(pod, "", 3607);  // an hour (and 7 s), as the kubelet's own volume
  if (!token) return failed(token.error());
  std::vector<VolumeFile> files = {
      {"ca.crt", config_.caPem, 0644},
      {"namespace", textOf(member(pod, "metadata"), "namespace"), 0644},
      {"token", *token, 0644}};
  auto wrote = writeVolumeFiles(volumeDir(config_, uid_, kTokenVolumeDir), files);
  if (!wrote) return failed(wrote.error());
  return {};
}

Result<std::string> PodWorker::token(const Json& pod, const std::string& audience,
                                     int64_t seconds) {
  TimePoint t = now();
  auto key = std::make_pair(audience, seconds);
  if (auto it = tokens_.find(key); it != tokens_.end() && t < it->second.renewAt)
    return it->second.token;
  auto minted = host_.serviceAccountToken(pod, serviceAccountOf(pod), audience, seconds);
  if (!minted) return minted.error();
  tokens_[key] = {minted->token, t + (minted->expires - t) * 4 / 5};
  return minted->token;
}

void PodWorker::probe(const Json& pod, const Json& container, ContainerStatus& latest,
                      TimePoint now, TimePoint& wake) {
  auto it = probes_.find(latest.id);
  if (it == probes_.end()) {
    std::vector<ProbeTracker> trackers;
    for (ProbeKind kind : {ProbeKind::kStartup, ProbeKind::kLiveness, ProbeKind::kReadiness}) {
      auto spec = parseProbe(container, kind);
      if (!spec) {
        logWarn("probe ignored", {{"container", latest.id}, {"error", spec.error().message}});
      } else if (*spec) {
        trackers.emplace_back(kind, **spec, latest.startedAt);
      }
    }
    it = probes_.emplace(latest.id, std::move(trackers)).first;
  }
  auto startedOk = [&] {
    for (const auto& t : it->second)
      if (t.kind() == ProbeKind::kStartup && t.result() != ProbeResult::kSuccess) return false;
    return true;
  };
  for (auto& t : it->second) {
    bool started = startedOk();
    if ((t.kind() == ProbeKind::kStartup) == started) continue;  // startup runs until it passes
    if (!t.due(now)) {
      wake = std::min(wake, t.nextRun());
      continue;
    }
    std::vector<std::string> ips = podIPs();
    ProbeOutcome outcome = runProbe(t.spec(), runtime_, latest.id, ips.empty() ? "" : ips[0]);
    ProbeResult result = t.record(outcome.success, now);
    if (!outcome.success) {
      logInfo(
          "probe failed",
          {{"container", latest.id}, {"probe", probeName(t.kind())}, {"output", outcome.message}});
      std::string kind = probeName(t.kind());
      if (!kind.empty()) kind[0] = static_cast<char>(std::toupper(kind[0]));
      host_.recordEvent(pod, "Warning", "Unhealthy", kind + " probe failed: " + outcome.message);
    }
    if (t.kind() != ProbeKind::kReadiness && result == ProbeResult::kFailure) {
      logInfo("container failed " + std::string(probeName(t.kind())) + " probe, will be restarted",
              {{"container", latest.id}});
      host_.recordEvent(pod, "Normal", "Killing",
                        "Container " + textOf(container, "name") + " failed " +
                            probeName(t.kind()) + " probe, will be restarted");
      long long grace = intOf(member(pod, "spec"), "terminationGracePeriodSeconds", 30);
      if (auto st = runtime_.stopContainer(latest.id, std::chrono::seconds(grace)); !st)
        logWarn("stop container failed", {{"id", latest.id}, {"error", st.error().message}});
      if (auto st = runtime_.containerStatus(latest.id); st) latest = *st;
      probes_.erase(latest.id);
      return;
    }
    if (t.kind() != ProbeKind::kStartup || result != ProbeResult::kSuccess)
      wake = std::min(wake, t.nextRun());
  }
  // A startup success lets liveness and readiness start at once.
  if (startedOk())
    for (const auto& t : it->second)
      if (t.kind() != ProbeKind::kStartup) wake = std::min(wake, t.nextRun());
}

void PodWorker::observeProbes(const Json& container, const ContainerStatus& latest,
                              ContainerObservation& out) const {
  out.started = true;
  out.ready = true;
  auto it = probes_.find(latest.id);
  if (it == probes_.end()) {
    // Not probed yet (an init container, or before the first pass): only a
    // container without probes counts as started and ready.
    for (ProbeKind k : {ProbeKind::kStartup, ProbeKind::kReadiness})
      if (member(container, probeField(k)).is_object()) {
        out.ready = false;
        if (k == ProbeKind::kStartup) out.started = false;
      }
    return;
  }
  for (const auto& t : it->second) {
    if (t.kind() == ProbeKind::kStartup && t.result() != ProbeResult::kSuccess) out.started = false;
    if (t.kind() == ProbeKind::kReadiness && t.result() != ProbeResult::kSuccess) out.ready = false;
  }
  if (!out.started) out.ready = false;
}

PodObservation PodWorker::observe(const Json& pod, ContainersByName& byName, bool terminating,
                                  bool& anyRunning) {
  const Json& spec = member(pod, "spec");
  PodObservation obs;
  obs.pod = pod;
  obs.podIPs = podIPs();
  obs.hostIPs = config_.hostIPs;
  anyRunning = false;
  for (const char* list : {"initContainers", "containers"}) {
    const Json& cs = member(spec, list);
    if (!cs.is_array()) continue;
    for (const auto& c : cs) {
      std::string name = textOf(c, "name");
      ContainerObservation& o = obs.containers[name];
      o.attempts = byName[name];
      if (auto w = waiting_.find(name); w != waiting_.end()) {
        o.waitingReason = w->second.reason;
        o.waitingMessage = w->second.message;
      }
      if (auto id = imageIDs_.find(name); id != imageIDs_.end()) {
        o.imageID = id->second;
      } else if (!o.attempts.empty()) {  // re-adopted: resolve the image once more
        if (auto r = host_.resolveImage(textOf(c, "image")); r)
          o.imageID = imageIDs_[name] = imageID(textOf(c, "image"), *r);
      }
      if (!o.attempts.empty()) {
        const ContainerStatus& latest = o.attempts.back();
        if (latest.state == ContainerState::kRunning || latest.state == ContainerState::kCreated)
          anyRunning = true;
        if (latest.state == ContainerState::kRunning) observeProbes(c, latest, o);
        if (terminating) o.ready = false;  // leaving: no new traffic (termination.h)
      }
    }
  }
  return obs;
}

Status PodWorker::writeStatus(const Json& pod, PodObservation obs, TimePoint now) {
  Json previous;
  {
    std::lock_guard<std::mutex> lock(mu_);
    previous = lastWritten_.is_null() ? member(pod, "status") : lastWritten_;
  }
  obs.pod["status"] = previous;
  Json status = computePodStatus(obs, now);
  Json patch = statusPatch(previous, status);
  if (patch.is_null()) return Status();
  auto st = host_.patchPodStatus(pod, patch);
  if (!st) {
    logWarn("pod status update failed", {{"pod", uid_}, {"error", st.error().message}});
    return st;
  }
  std::lock_guard<std::mutex> lock(mu_);
  lastWritten_ = std::move(status);
  return Status();
}

std::optional<TimePoint> PodWorker::teardown(const Json& pod, bool gone) {
  TimePoint retry = now() + config_.retryPeriod;
  const Json& md = member(pod, "metadata");
  long long grace = gone ? 2
                         : intOf(md, "deletionGracePeriodSeconds",
                                 intOf(member(pod, "spec"), "terminationGracePeriodSeconds", 30));
  if (grace < 0) grace = 0;
  auto listed = runtime_.listContainers(uid_);
  if (!listed) {
    logWarn("list containers failed", {{"pod", uid_}, {"error", listed.error().message}});
    return retry;
  }
  if (!gone && !drained_) {
    // Leave the Services first (termination.h): not ready, then out of every
    // Endpoints, then SIGTERM.
    TimePoint now = this->now();
    if (!terminatingSince_) terminatingSince_ = now;
    // What the stop below will signal: the same test, from the same listing.
    const bool anyRunning = std::any_of(listed->begin(), listed->end(), [](const auto& c) {
      return c.state == ContainerState::kRunning || c.state == ContainerState::kCreated;
    });
    if (!notReadyWritten_) {  // once; the looks that follow only ask the Endpoints
      ContainersByName byName = byContainerName(*listed);
      bool observedRunning = false;
      PodObservation obs = observe(pod, byName, true, observedRunning);
      notReadyWritten_ = static_cast<bool>(writeStatus(pod, std::move(obs), now));
    }
    DrainInput in;
    in.graceSeconds = grace;
    in.hostNetwork = boolOf(member(pod, "spec"), "hostNetwork");
    std::vector<std::string> ips = podIPs();
    in.podIP = ips.empty() ? "" : ips[0];
    in.anyRunning = anyRunning;
    const bool applies = drainSkipReason(in) == nullptr;
    if (applies) {
      auto listing = host_.endpointsListing(textOf(md, "namespace"), in.podIP);
      if (listing) in.listedIn = listing->size();
    }
    in.since = *terminatingSince_;
    in.now = now;
    in.maxWait = config_.drainTimeout;
    DrainDecision d = drainDecision(in);
    if (d.hold) return d.nextLook;
    drained_ = true;
    if (applies)
      logInfo("pod left its Services' endpoints",
              {{"pod", textOf(md, "namespace") + "/" + textOf(md, "name")},
               {"reason", d.reason},
               {"waited_ms", std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                now - *terminatingSince_)
                                                .count())}});
  }
  // Stop every running container at once: each gets the whole grace period.
  std::vector<std::future<Status>> stops;
  for (const auto& c : *listed)
    if (c.state == ContainerState::kRunning || c.state == ContainerState::kCreated) {
      if (c.state == ContainerState::kRunning)
        host_.recordEvent(pod, "Normal", "Killing", "Stopping container " + c.name);
      stops.push_back(std::async(std::launch::async, [this, id = c.id, grace] {
        return runtime_.stopContainer(id, std::chrono::seconds(grace));
      }));
    }
  bool failed = false;
  for (auto& f : stops)
    if (auto st = f.get(); !st) {
      logWarn("stop container failed", {{"pod", uid_}, {"error", st.error().message}});
      failed = true;
    }
  if (failed) return retry;
  for (const auto& c : *listed)
    if (auto st = runtime_.removeContainer(c.id); !st) {
      logWarn("remove container failed", {{"id", c.id}, {"error", st.error().message}});
      return retry;
    }
  if (auto st = runtime_.removeSandbox(uid_); !st) {
    logWarn("remove sandbox failed", {{"pod", uid_}, {"error", st.error().message}});
    return retry;
  }
  sandbox_.reset();
  if (!gone) {
    if (auto st = host_.deletePod(pod); !st) {
      logWarn("delete pod failed", {{"pod", uid_}, {"error", st.error().message}});
      return retry;
    }
  }
  logInfo("pod removed",
          {{"pod", textOf(md, "namespace") + "/" + textOf(md, "name")}, {"uid", uid_}});
  done_ = true;
  return std::nullopt;
}

}  // namespace skiff::kubelet
