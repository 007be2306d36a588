// RuncRuntime's containers: overlay root, config.json, conmon + runc, status,
// stop, removal and exec. (Sandboxes: runc_runtime_sandbox.cpp.)
//
// Starting a container, as CRI-O does it:
//   1. mount the overlay (image layers + the container's upper/work dirs) on
//      BUNDLE/rootfs and write BUNDLE/config.json (oci_spec.h);
//   2. start conmon with a sync pipe (fd 3, _OCI_SYNCPIPE). conmon forks, its
//      first process exits at once (we reap it), the second setsid()s — it is
//      now nobody's child of ours and survives us — and runs `runc create`,
//      then writes {"data": PID} to the pipe, or {"data": -1, "message": runc's
//      stderr} when create failed (a missing command fails here: runc looks the
//      executable up before it blocks on its exec fifo);
//   3. `runc start` releases the init process;
//   4. conmon copies the container's stdout/stderr into the CRI log and, when
//      the init process ends, writes its exit code to EXITS/ID (128 + signal
//      for a signal), atomically.
// meta.json records each step ("phase": creating, started, exited), so a
// kubelet restarted at any point sees what happened.
#include "kubelet/runc_runtime.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>
#include <sstream>
#include <thread>

#include "base/file.h"
#include "base/log.h"
#include "kubelet/images_util.h"
#include "kubelet/mounts.h"
#include "kubelet/oci_spec.h"
#include "kubelet/runc_runtime_util.h"

namespace skiff::kubelet {

using api::Json;
using images_detail::Fd;
using images_detail::sysError;
using namespace runtime_detail;
using std::chrono::milliseconds;
namespace fs = std::filesystem;

namespace {

constexpr const char* kPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
constexpr int64_t kExecOutputLimit = 16 << 20;

bool exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

Status makeDirs(std::initializer_list<std::string> dirs) {
  for (const auto& d : dirs) {
    if (::mkdir(d.c_str(), 0700) != 0 && errno != EEXIST) return sysError("mkdir", d, errno);
  }
  return {};
}

// Capabilities in our bounding set, by name (the host may lack some, e.g.
// CAP_SYS_RESOURCE in a restricted sandbox; runc cannot grant those).
std::vector<std::string> boundingCapabilities() {
  auto status = readWholeFile("/proc/self/status", kSmallFileLimit);
  if (!status) return {};
  auto pos = status->find("CapBnd:");
  if (pos == std::string::npos) return {};
  uint64_t mask = std::strtoull(status->c_str() + pos + 7, nullptr, 16);
  std::vector<std::string> out;
  const auto& known = knownCapabilities();
  for (size_t bit = 0; bit < known.size() && bit < 64; ++bit) {
    if (mask & (uint64_t{1} << bit)) out.push_back(known[bit]);
  }
  return out;
}

// Every device node under /dev, for privileged containers (as containerd's
// WithDevices(HostDevices)).
std::vector<HostDevice> hostDevices() {
  std::vector<HostDevice> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(
           "/dev", fs::directory_options::skip_permission_denied, ec);
       it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    std::string p = it->path().string();
    if (p == "/dev/pts" || p == "/dev/shm" || p == "/dev/mqueue" || p == "/dev/.lxc") {
      it.disable_recursion_pending();
      continue;
    }
    struct stat st;
    if (::lstat(p.c_str(), &st) != 0) continue;
    if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode)) continue;
    HostDevice d;
    d.path = p;
    d.type = S_ISCHR(st.st_mode) ? 'c' : 'b';
    d.major = major(st.st_rdev);
    d.minor = minor(st.st_rdev);
    d.fileMode = st.st_mode & 07777;
    d.uid = st.st_uid;
    d.gid = st.st_gid;
    out.push_back(d);
  }
  return out;
}

ContainerState stateFromPhase(const std::string& phase) {
  if (phase == "started") return ContainerState::kRunning;
  if (phase == "exited") return ContainerState::kExited;
  return ContainerState::kUnknown;
}

ContainerStatus statusFromMeta(const Json& m) {
  ContainerStatus s;
  s.id = m.value("id", "");
  s.name = m.value("name", "");
  s.attempt = m.value("attempt", 0);
  s.logPath = m.value("logPath", "");
  s.state = stateFromPhase(m.value("phase", ""));
  if (m.value("startedAt", int64_t{0}) > 0)
    s.startedAt = fromNanos(m.value("startedAt", int64_t{0}));
  if (m.value("finishedAt", int64_t{0}) > 0) {
    s.finishedAt = fromNanos(m.value("finishedAt", int64_t{0}));
  }
  s.exitCode = m.value("exitCode", 0);
  s.reason = m.value("reason", "");
  s.message = m.value("message", "");
  return s;
}

// The exit code conmon wrote, or nullopt when there is no (complete) file.
std::optional<int> readExitCode(const std::string& path, int64_t* mtimeNanos) {
  auto text = readWholeFile(path, kSmallFileLimit);
  if (!text) return std::nullopt;
  std::string t = *text;
  while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.pop_back();
  if (t.empty() || t.find_first_not_of("-0123456789") != std::string::npos) return std::nullopt;
  struct stat st;
  if (mtimeNanos && ::stat(path.c_str(), &st) == 0) {
    *mtimeNanos = int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec;
  }
  return std::stoi(t);
}

// Waits until pid exits (any process, via pidfd) or the timeout passes.
void waitPidExit(pid_t pid, milliseconds timeout) {
  int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0) return;
  struct pollfd p = {fd, POLLIN, 0};
  while (::poll(&p, 1, static_cast<int>(timeout.count())) < 0 && errno == EINTR) {
  }
  ::close(fd);
}

// The container's conmon, if it still runs (checked by its command line, so a
// recycled pid is not mistaken for it).
pid_t conmonPid(const ContainerPaths& p, const std::string& id) {
  auto t = readWholeFile(p.conmonPidfile, kSmallFileLimit);
  if (!t) return 0;
  pid_t pid = std::atoi(t->c_str());
  if (pid <= 0) return 0;
  auto cmd = readWholeFile("/proc/" + std::to_string(pid) + "/cmdline", kSmallFileLimit);
  if (!cmd || cmd->find("conmon") == std::string::npos || cmd->find(id) == std::string::npos) {
    return 0;
  }
  return pid;
}

bool conmonAlive(const ContainerPaths& p, const std::string& id) {
  return conmonPid(p, id) > 0;
}

}  // namespace

RuncRuntime::RuncRuntime(RuncRuntimeOptions options, std::unique_ptr<ImageStore> images,
                         std::unique_ptr<Ipam> ipam)
    : options_(std::move(options)), images_(std::move(images)), ipam_(std::move(ipam)) {}

RuncRuntime::~RuncRuntime() = default;

std::string RuncRuntime::containerId(const std::string& podUid, const std::string& name,
                                     int attempt) {
  return podUid + "_" + name + "_" + std::to_string(attempt);
}

std::string RuncRuntime::podDir(const std::string& podUid) const {
  return options_.dataDir + "/pods/" + podUid;
}

Result<std::unique_ptr<RuncRuntime>> RuncRuntime::create(RuncRuntimeOptions o) {
  auto fail = [](const Error& e) { return e.wrap("container runtime"); };
  if (o.dataDir.empty() || o.dataDir[0] != '/') {
    return fail(makeError(Code::kBadRequest, "data directory must be an absolute path"));
  }
  while (o.dataDir.size() > 1 && o.dataDir.back() == '/') o.dataDir.pop_back();
  if (o.imagesDir.empty()) o.imagesDir = o.dataDir + "/images";
  auto range = parseIpv4Prefix(o.podCidr);
  if (!range) return fail(range.error());
  auto bridge = parseIpv4Prefix(o.bridgeAddress);
  if (!bridge) return fail(bridge.error());
  if (!bridge->contains(range->network()) || bridge->length > range->length) {
    return fail(makeError(
        Code::kBadRequest,
        "pod range " + o.podCidr + " is not inside the bridge's network " + o.bridgeAddress));
  }
  if (o.bridgeName.empty() || o.bridgeName.size() > 15) {
    return fail(makeError(Code::kBadRequest,
                          "bridge name \"" + o.bridgeName + "\" must have 1 to 15 characters"));
  }
  for (const auto* bin : {&o.runcPath, &o.conmonPath}) {
    if (::access(bin->c_str(), X_OK) != 0) {
      return fail(makeError(Code::kNotFound, *bin + " is not an executable (apt-get install " +
                                                 fs::path(*bin).filename().string() + ")"));
    }
  }
  for (const auto& d : {o.dataDir, o.dataDir + "/pods", o.dataDir + "/ipam"}) {
    if (::mkdir(d.c_str(), 0700) != 0 && errno != EEXIST) return fail(sysError("mkdir", d, errno));
  }
  std::error_code ec;
  fs::create_directories(o.runcRoot, ec);
  if (ec) return fail(makeError(Code::kInternal, "mkdir " + o.runcRoot + ": " + ec.message()));
  auto images = ImageStore::open(o.imagesDir);
  if (!images) return fail(images.error());
  std::string gateway = formatIpv4(bridge->address);
  auto ipam = Ipam::open(o.dataDir + "/ipam", o.podCidr, {gateway});
  if (!ipam) return fail(ipam.error());

  std::unique_ptr<RuncRuntime> rt(
      new RuncRuntime(std::move(o), std::move(*images), std::move(*ipam)));
  rt->podPrefixLength_ = bridge->length;
  rt->gateway_ = gateway;
  rt->availableCaps_ = boundingCapabilities();
  // Leases of pods whose directory is gone (removeSandbox releases first, so
  // these are a crash's leftovers).
  if (auto leases = rt->ipam_->leases(); leases) {
    for (const auto& [ip, owner] : *leases) {
      if (!exists(rt->podDir(owner))) (void)rt->ipam_->release(owner);
    }
  }
  return rt;
}

Result<RunResult> RuncRuntime::runc(const std::vector<std::string>& args, milliseconds timeout) {
  std::vector<std::string> argv = {options_.runcPath, "--root", options_.runcRoot};
  argv.insert(argv.end(), args.begin(), args.end());
  return runCommand(argv, timeout);
}

// ---- start ----------------------------------------------------------------

Result<ContainerStatus> RuncRuntime::startContainer(const ContainerConfig& c,
                                                    const SandboxInfo& sandbox) {
  std::string id = containerId(c.podUid, c.name, c.attempt);
  auto fail = [&](const Error& e) { return e.wrap("start container " + id); };
  if (!validPodUid(c.podUid) || !validContainerName(c.name) || c.attempt < 0) {
    return makeError(Code::kBadRequest, "invalid container " + id);
  }
  auto pathsOr = containerPaths(options_.dataDir + "/pods", id);
  if (!pathsOr) return pathsOr.error();
  const ContainerPaths& p = *pathsOr;
  if (!exists(p.pod + "/sandbox.json")) {
    return makeError(Code::kNotFound, "sandbox of pod " + c.podUid + " not found");
  }
  if (exists(p.dir)) return makeError(Code::kAlreadyExists, "container " + id + " already exists");
  auto image = images_->resolve(c.image);
  if (!image) return image.error();

  auto started = std::chrono::steady_clock::now();
  if (auto s = makeDirs({p.dir, p.rootfs, p.upper, p.work, p.exitDir, p.pod + "/logs", p.logDir});
      !s) {
    return fail(s.error());
  }
  // From here on a failure that is not the container's own removes what we made.
  auto undo = [&](const Error& e) {
    (void)runc({"delete", "--force", id}, std::chrono::seconds(10));
    (void)removeTreeUnmounted(p.dir);
    ::unlink(p.exitFile.c_str());
    return fail(e);
  };
  Json meta = {{"id", id},           {"podUid", c.podUid},
               {"name", c.name},     {"attempt", c.attempt},
               {"image", c.image},   {"imageId", image->id},
               {"logPath", p.log},   {"createdAt", toNanos(std::chrono::system_clock::now())},
               {"phase", "creating"}};
  if (auto s = writeMeta(p.meta, meta); !s) return undo(s.error());

  // emptyDir of medium Memory: one tmpfs on the host directory, shared by the
  // pod's containers (removed with the pod directory).
  for (const auto& m : c.mounts) {
    if (m.tmpfs && !m.source.empty() && m.source[0] == '/') {
      std::error_code ec;
      fs::create_directories(m.source, ec);
      if (!isMountPoint(m.source)) {
        if (auto s = mountTmpfs(m.source); !s) return undo(s.error());
      }
    }
  }
  if (auto s = mountOverlay(image->layerDirs, p.upper, p.work, p.rootfs); !s) {
    return undo(s.error());
  }
  OciSpecOptions so;
  so.hostname = "";
  if (auto h = readWholeFile(sandbox.hostnamePath, kSmallFileLimit); h) {
    so.hostname = *h;
    while (!so.hostname.empty() && std::isspace(static_cast<unsigned char>(so.hostname.back()))) {
      so.hostname.pop_back();
    }
  }
  so.cgroupsPath = options_.cgroupParent + "/" + id;
  so.availableCapabilities = availableCaps_;
  if (c.privileged) so.hostDevices = hostDevices();
  auto spec = buildOciSpec(c, sandbox, so);
  if (!spec) return undo(spec.error());
  if (auto s = replaceFile(p.config, spec->dump(2) + "\n"); !s) return undo(s.error());

  auto prepared = std::chrono::steady_clock::now();
  // conmon, with the sync pipe on its fd 3.
  int sync[2];
  if (::pipe2(sync, O_CLOEXEC) != 0) return undo(sysError("pipe", "", errno));
  Fd syncRead(sync[0]);
  Fd syncWrite(sync[1]);
  std::vector<std::string> argv = {options_.conmonPath, "--api-version", "1"};
  auto flag = [&](const char* name, const std::string& value) {
    argv.push_back(name);
    argv.push_back(value);
  };
  flag("-c", id);  // runc's container id
  flag("-u", id);  // names the attach socket's directory
  flag("-n", id);
  flag("-r", options_.runcPath);
  flag("-b", p.dir);
  flag("-p", p.pidfile);
  flag("-P", p.conmonPidfile);
  flag("-l", "k8s-file:" + p.log);
  flag("--exit-dir", p.exitDir);
  flag("--socket-dir-path", p.dir);
  flag("--runtime-arg", "--root=" + options_.runcRoot);
  flag("--log-level", "error");
  if (c.stdinOpen) argv.push_back("--stdin");
  SpawnOptions spawnOptions;
  spawnOptions.env = {kPath, "_OCI_SYNCPIPE=3"};
  spawnOptions.extraFds = {syncWrite.get()};
  spawnOptions.cwd = p.dir;  // conmon writes its "oom" marker into its cwd
  auto conmon = spawn(argv, spawnOptions);
  syncWrite = Fd();
  if (!conmon) return undo(conmon.error());
  auto firstExit = waitChild(*conmon, std::chrono::seconds(10));
  if (!firstExit) {
    ::kill(*conmon, SIGKILL);
    (void)waitChild(*conmon);
    return undo(makeError(Code::kInternal, "conmon did not detach"));
  }
  if (exitCodeOf(*firstExit) != 0) {
    return undo(
        makeError(Code::kInternal, "conmon exited with " + std::to_string(exitCodeOf(*firstExit))));
  }
  auto detached = std::chrono::steady_clock::now();
  // The daemonised conmon answers once `runc create` is done.
  std::string reply;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (reply.find('\n') == std::string::npos) {
    auto left =
        std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    struct pollfd pfd = {syncRead.get(), POLLIN, 0};
    int r = ::poll(&pfd, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    char buf[4096];
    ssize_t n = ::read(syncRead.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    reply.append(buf, static_cast<size_t>(n));
  }
  auto createdAt = std::chrono::steady_clock::now();
  auto answer = api::parseJson(reply.substr(0, reply.find('\n')));
  if (!answer || !answer->is_object()) {
    return undo(makeError(Code::kInternal, "no answer from conmon (got \"" + reply + "\")"));
  }
  int pid = answer->contains("data") ? answer->value("data", -1) : answer->value("pid", -1);

  auto cannotRun = [&](const std::string& message) -> Result<ContainerStatus> {
    meta["phase"] = "exited";
    meta["exitCode"] = 128;
    meta["reason"] = "ContainerCannotRun";
    meta["message"] = message;
    meta["finishedAt"] = toNanos(std::chrono::system_clock::now());
    (void)runc({"delete", "--force", id}, std::chrono::seconds(10));
    if (auto s = writeMeta(p.meta, meta); !s) return fail(s.error());
    logInfo("container cannot run", {{"id", id}, {"message", message}});
    return statusFromMeta(meta);
  };
  if (pid <= 0) return cannotRun(runcErrorMessage(answer->value("message", "")));

  meta["pid"] = pid;
  meta["pidStart"] = processStartTime(pid);
  meta["memoryCgroup"] = memoryCgroupDir(pid);
  meta["phase"] = "created";
  if (auto s = writeMeta(p.meta, meta); !s) return undo(s.error());
  int64_t startedAt = toNanos(std::chrono::system_clock::now());  // before: it may end at once
  auto start = runc({"start", id});
  if (!start) return undo(start.error());
  if (start->status != 0) return cannotRun(runcErrorMessage(start->output));
  meta["phase"] = "started";
  meta["startedAt"] = startedAt;
  if (auto s = writeMeta(p.meta, meta); !s) return fail(s.error());
  // The steps' latency: rootfs and config, conmon + `runc create`, `runc start`.
  auto msBetween = [](std::chrono::steady_clock::time_point a,
                      std::chrono::steady_clock::time_point b) {
    return std::to_string(std::chrono::duration_cast<milliseconds>(b - a).count());
  };
  auto done = std::chrono::steady_clock::now();
  logInfo("container started", {{"id", id},
                                {"pid", std::to_string(pid)},
                                {"ms", msBetween(started, done)},
                                {"prepare_ms", msBetween(started, prepared)},
                                {"conmon_ms", msBetween(prepared, detached)},
                                {"create_ms", msBetween(detached, createdAt)},
                                {"start_ms", msBetween(createdAt, done)}});
  return statusFromDisk(id, false);
}

// ---- status ---------------------------------------------------------------

Result<ContainerStatus> RuncRuntime::statusFromDisk(const std::string& id, bool waitForExitFile) {
  auto pathsOr = containerPaths(options_.dataDir + "/pods", id);
  if (!pathsOr) return pathsOr.error();
  const ContainerPaths& p = *pathsOr;
  auto metaOr = readMeta(p.meta);
  if (!metaOr) {
    if (metaOr.error().code == Code::kNotFound) {
      return makeError(Code::kNotFound, "container " + id + " not found");
    }
    return metaOr.error();
  }
  Json& meta = *metaOr;
  std::string phase = meta.value("phase", "");
  if (phase == "exited") return statusFromMeta(meta);

  // Records the end: exit code, reason, finish time; kept in meta.json.
  auto finish = [&](int code, int64_t finishedAt, const std::string& reason,
                    const std::string& message) -> Result<ContainerStatus> {
    meta["phase"] = "exited";
    meta["exitCode"] = code;
    meta["finishedAt"] = std::max(finishedAt, meta.value("startedAt", int64_t{0}));
    std::string r = reason;
    if (r.empty()) {
      int64_t ooms = oomKillCount(meta.value("memoryCgroup", ""));
      bool oom = ooms > 0 || (ooms < 0 && exists(p.dir + "/oom"));
      r = code == 0 ? "Completed" : oom ? "OOMKilled" : "Error";
    }
    meta["reason"] = r;
    if (!message.empty()) meta["message"] = message;
    if (!meta.contains("startedAt")) meta["startedAt"] = meta.value("createdAt", int64_t{0});
    if (auto s = writeMeta(p.meta, meta); !s) return s.error();
    return statusFromMeta(meta);
  };

  int64_t mtime = 0;
  if (auto code = readExitCode(p.exitFile, &mtime)) return finish(*code, mtime, "", "");

  pid_t pid = meta.value("pid", 0);
  ContainerStatus st = statusFromMeta(meta);
  if (phase == "started" && processAlive(pid, meta.value("pidStart", ""))) {
    st.state = ContainerState::kRunning;
    st.pid = pid;
    return st;
  }
  // Not obviously running: ask runc.
  auto r = runc({"state", id}, std::chrono::seconds(10));
  if (!r) return r.error();
  std::string status;
  if (r->status == 0) {
    auto j = api::parseJson(r->output);
    if (j && j->is_object()) {
      status = j->value("status", "");
      pid = j->value("pid", pid);
    }
  }
  if (status == "running" || status == "paused") {
    st.state = ContainerState::kRunning;
    st.pid = pid;
    return st;
  }
  if (status == "created") {
    st.state = ContainerState::kCreated;
    st.pid = pid;
    return st;
  }
  if (phase == "creating") {
    // startContainer is at work (or died at work): nothing to say yet.
    st.state = ContainerState::kUnknown;
    return st;
  }
  // Stopped (or gone from runc) without an exit file yet: conmon writes it once
  // it has drained the output. Give it a moment. While conmon lives the end is
  // not recorded yet (report it running, without a pid, and look again later);
  // when conmon is gone too, the exit code is lost for good.
  auto until = std::chrono::steady_clock::now() +
               (waitForExitFile ? std::chrono::seconds(3) : std::chrono::milliseconds(100));
  bool monitor = conmonAlive(p, id);
  while (monitor && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(milliseconds(5));
    if (auto code = readExitCode(p.exitFile, &mtime)) return finish(*code, mtime, "", "");
    monitor = conmonAlive(p, id);
  }
  if (auto code = readExitCode(p.exitFile, &mtime)) return finish(*code, mtime, "", "");
  if (monitor) {
    st.state = ContainerState::kRunning;
    st.pid = 0;
    return st;
  }
  return finish(137, toNanos(std::chrono::system_clock::now()), "ContainerStatusUnknown",
                "the container ended but its exit code was not recorded (conmon is gone)");
}

Result<ContainerStatus> RuncRuntime::containerStatus(const std::string& id) {
  return statusFromDisk(id, false);
}

Result<std::vector<ContainerStatus>> RuncRuntime::listContainers(const std::string& podUid) {
  std::vector<std::string> pods;
  if (!podUid.empty()) {
    pods.push_back(podUid);
  } else {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(options_.dataDir + "/pods", ec)) {
      pods.push_back(e.path().filename().string());
    }
  }
  std::vector<ContainerStatus> out;
  for (const auto& uid : pods) {
    std::error_code ec;
    std::vector<std::string> ids;
    for (const auto& e : fs::directory_iterator(podDir(uid) + "/containers", ec)) {
      ids.push_back(e.path().filename().string());
    }
    std::sort(ids.begin(), ids.end());
    for (const auto& id : ids) {
      auto s = statusFromDisk(id, false);
      if (s) {
        out.push_back(std::move(*s));
      } else if (s.error().code != Code::kNotFound && s.error().code != Code::kBadRequest) {
        return s.error();
      }
    }
  }
  return out;
}

// ---- stop, remove ---------------------------------------------------------

Status RuncRuntime::waitForExit(const std::string& id, milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto st = statusFromDisk(id, false);
    if (!st) return st.error();
    if (st->state == ContainerState::kExited) return {};
    auto left =
        std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return makeError(Code::kTimeout, "container " + id + " is still running");
    }
    if (st->pid > 0) {
      waitPidExit(st->pid, std::min(left, milliseconds(1000)));
    } else {
      std::this_thread::sleep_for(std::min(left, milliseconds(10)));
    }
  }
}

Status RuncRuntime::stopContainer(const std::string& id, std::chrono::seconds grace) {
  auto fail = [&](const Error& e) { return e.wrap("stop container " + id); };
  auto st = statusFromDisk(id, false);
  if (!st) return fail(st.error());
  if (st->state == ContainerState::kExited) return {};
  if (grace.count() > 0 && st->state == ContainerState::kRunning) {
    auto r = runc({"kill", id, "TERM"});
    if (!r) return fail(r.error());
    auto w = waitForExit(id, grace);
    if (w) return {};
    if (w.error().code != Code::kTimeout) return fail(w.error());
  }
  auto r = runc({"kill", id, "KILL"});
  if (!r) return fail(r.error());
  auto w = waitForExit(id, std::chrono::seconds(10));
  if (!w) return fail(w.error());
  logInfo("container stopped", {{"id", id}});
  return {};
}

Status RuncRuntime::removeContainer(const std::string& id) {
  auto fail = [&](const Error& e) { return e.wrap("remove container " + id); };
  auto pathsOr = containerPaths(options_.dataDir + "/pods", id);
  if (!pathsOr) return pathsOr.error();
  const ContainerPaths& p = *pathsOr;
  if (exists(p.meta)) {
    auto st = statusFromDisk(id, false);
    if (st && st->state != ContainerState::kExited) {
      if (auto s = stopContainer(id, std::chrono::seconds(0)); !s) return fail(s.error());
    }
  }
  auto r = runc({"delete", "--force", id});
  if (!r) return fail(r.error());
  if (r->status != 0 && r->output.find("does not exist") == std::string::npos) {
    return fail(makeError(Code::kInternal, "runc delete: " + runcErrorMessage(r->output)));
  }
  // conmon leaves by itself once the container is gone; make sure.
  if (pid_t cp = conmonPid(p, id); cp > 0) ::kill(cp, SIGKILL);
  if (auto s = removeTreeUnmounted(p.dir); !s) return fail(s.error());
  if (::unlink(p.exitFile.c_str()) != 0 && errno != ENOENT) {
    return fail(sysError("remove", p.exitFile, errno));
  }
  return {};
}

Status RuncRuntime::removeCgroupParent() {
  for (const auto& d : cgroupParentDirs()) {
    if (::rmdir(d.c_str()) != 0 && errno != ENOENT) return sysError("rmdir", d, errno);
  }
  return {};
}

std::vector<std::string> RuncRuntime::cgroupParentDirs() const {
  // Every hierarchy of ours: /proc/self/cgroup "N:controllers:/path".
  std::vector<std::string> out;
  auto text = readWholeFile("/proc/self/cgroup", kSmallFileLimit);
  if (!text) return out;
  std::istringstream in(*text);
  std::string line;
  bool absolute = !options_.cgroupParent.empty() && options_.cgroupParent[0] == '/';
  while (std::getline(in, line)) {
    auto a = line.find(':');
    auto b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    std::string controllers = line.substr(a + 1, b - a - 1);
    std::string own = line.substr(b + 1);
    std::string mount;
    if (controllers.empty()) {
      mount = exists("/sys/fs/cgroup/unified") ? "/sys/fs/cgroup/unified" : "/sys/fs/cgroup";
    } else {
      std::string first = controllers.substr(0, controllers.find(','));
      if (first.rfind("name=", 0) == 0) first = first.substr(5);
      mount = "/sys/fs/cgroup/" + first;
      if (!exists(mount)) mount = "/sys/fs/cgroup/" + controllers;
    }
    std::string base = absolute ? mount : mount + (own == "/" ? "" : own);
    std::string dir = base + (absolute ? "" : "/") + options_.cgroupParent;
    if (exists(dir)) out.push_back(dir);
  }
  return out;
}

// ---- exec -----------------------------------------------------------------

Result<Runtime::ExecResult> RuncRuntime::execSync(const std::string& id,
                                                  const std::vector<std::string>& argv,
                                                  milliseconds timeout) {
  auto fail = [&](const Error& e) { return e.wrap("exec in container " + id); };
  if (argv.empty()) return makeError(Code::kBadRequest, "exec: no command");
  auto st = statusFromDisk(id, false);
  if (!st) return fail(st.error());
  if (st->state != ContainerState::kRunning) {
    return makeError(Code::kConflict, "container " + id + " is not running");
  }
  auto pathsOr = containerPaths(options_.dataDir + "/pods", id);
  if (!pathsOr) return pathsOr.error();
  static std::atomic<uint64_t> seq{0};
  std::string pidfile = pathsOr->dir + "/exec-" + std::to_string(++seq) + ".pid";
  std::vector<std::string> cmd = {
      options_.runcPath, "--root", options_.runcRoot, "exec", "--pid-file", pidfile, id};
  cmd.insert(cmd.end(), argv.begin(), argv.end());
  auto r = runCommand(cmd, timeout, kExecOutputLimit, [&] {
    // Kill the command itself, not only runc: runc exec would leave it running.
    if (auto t = readWholeFile(pidfile, kSmallFileLimit); t && std::atoi(t->c_str()) > 0) {
      ::kill(std::atoi(t->c_str()), SIGKILL);
    }
  });
  ::unlink(pidfile.c_str());
  if (!r) return fail(r.error());
  ExecResult out;
  out.exitCode = r->status;
  out.output = std::move(r->output);
  out.timedOut = r->timedOut;
  return out;
}

Result<std::vector<std::string>> RuncRuntime::execCommand(const std::string& id,
                                                          const std::vector<std::string>& argv,
                                                          bool tty) {
  if (argv.empty()) return makeError(Code::kBadRequest, "exec: no command");
  auto st = statusFromDisk(id, false);
  if (!st) return st.error().wrap("exec in container " + id);
  if (st->state != ContainerState::kRunning) {
    return makeError(Code::kConflict, "container " + id + " is not running");
  }
  std::vector<std::string> cmd = {options_.runcPath, "--root", options_.runcRoot, "exec"};
  if (tty) cmd.push_back("--tty");
  cmd.push_back(id);
  cmd.insert(cmd.end(), argv.begin(), argv.end());
  return cmd;
}

}  // namespace skiff::kubelet
