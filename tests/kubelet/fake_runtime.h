// FakeRuntime: the Runtime interface in memory, for the kubelet's unit and API
// tests. Containers do what the test scripts for their name (run until told
// to exit, exit at once with a code, or fail to run); every call is recorded
// as a line ("start <id>", "stop <id> <grace>", ...) so tests can assert the
// order of effects. The clock is the test's, so times in statuses are exact.
//
// Thread-safe: one mutex around everything (the Kubelet calls from many threads).
#pragma once

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "kubelet/runtime.h"

namespace skiff::kubelet::testing {

class FakeRuntime : public Runtime {
 public:
  using TimePoint = std::chrono::system_clock::time_point;

  // What a container of a given name does when started.
  struct Behaviour {
    enum class Kind { kRun, kExit, kCannotRun, kImageMissing, kError } kind = Kind::kRun;
    int exitCode = 0;
    std::string message;
    static Behaviour exitWith(int code) {
      Behaviour b;
      b.kind = Kind::kExit;
      b.exitCode = code;
      return b;
    }
  };

  std::function<TimePoint()> clock = [] { return std::chrono::system_clock::now(); };

  void script(const std::string& containerName, Behaviour b) {
    std::lock_guard<std::mutex> lock(mu_);
    behaviours_[containerName] = std::move(b);
  }
  // A running container exits now (by id).
  void exit(const std::string& id, int code, const std::string& reason = "") {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = containers_.find(id);
    if (it == containers_.end() || it->second.state != ContainerState::kRunning) return;
    it->second.state = ContainerState::kExited;
    it->second.exitCode = code;
    it->second.reason = reason;
    it->second.finishedAt = clock();
    it->second.pid = 0;
  }
  // What execSync answers for argv[0] (exit code; default 0).
  void execExit(const std::string& argv0, int code) {
    std::lock_guard<std::mutex> lock(mu_);
    execCodes_[argv0] = code;
  }
  // Puts a container in place as if a previous kubelet had started it.
  void adopt(ContainerStatus c) {
    std::lock_guard<std::mutex> lock(mu_);
    containers_[c.id] = c;
  }
  void adoptSandbox(SandboxInfo s) {
    std::lock_guard<std::mutex> lock(mu_);
    sandboxes_[s.podUid] = s;
  }
  void failSandbox(bool fail) {
    std::lock_guard<std::mutex> lock(mu_);
    failSandbox_ = fail;
  }

  std::vector<std::string> calls() const {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }
  void clearCalls() {
    std::lock_guard<std::mutex> lock(mu_);
    calls_.clear();
  }
  bool called(const std::string& line) const {
    auto c = calls();
    return std::find(c.begin(), c.end(), line) != c.end();
  }
  std::vector<ContainerConfig> configs() const {
    std::lock_guard<std::mutex> lock(mu_);
    return configs_;
  }
  std::vector<SandboxConfig> sandboxConfigs() const {
    std::lock_guard<std::mutex> lock(mu_);
    return sandboxConfigs_;
  }
  size_t sandboxCount() const {
    std::lock_guard<std::mutex> lock(mu_);
    return sandboxes_.size();
  }
  size_t containerCount() const {
    std::lock_guard<std::mutex> lock(mu_);
    return containers_.size();
  }
  std::vector<ContainerStatus> all() const {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<ContainerStatus> out;
    for (const auto& [id, c] : containers_) out.push_back(c);
    return out;
  }

  // ---- Runtime ----

  Result<SandboxInfo> ensureSandbox(const SandboxConfig& config) override {
    std::lock_guard<std::mutex> lock(mu_);
    calls_.push_back("ensureSandbox " + config.podUid);
    sandboxConfigs_.push_back(config);
    if (failSandbox_) return makeError(Code::kInternal, "no addresses left");
    auto it = sandboxes_.find(config.podUid);
    if (it != sandboxes_.end()) return it->second;
    SandboxInfo s;
    s.podUid = config.podUid;
    if (!config.hostNetwork) {
      s.ip = "10.244.0." + std::to_string(nextIp_++);
      s.netnsPath = "/run/netns/skiff-" + config.podUid;
    }
    sandboxes_[config.podUid] = s;
    return s;
  }
  Status removeSandbox(const std::string& podUid) override {
    std::lock_guard<std::mutex> lock(mu_);
    calls_.push_back("removeSandbox " + podUid);
    for (const auto& [id, c] : containers_)
      if (id.rfind(podUid + "_", 0) == 0)
        return makeError(Code::kBadRequest, "sandbox " + podUid + " still has container " + id);
    sandboxes_.erase(podUid);
    return Status();
  }
  Result<std::vector<SandboxInfo>> listSandboxes() override {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<SandboxInfo> out;
    for (const auto& [uid, s] : sandboxes_) out.push_back(s);
    return out;
  }
  Result<ContainerStatus> startContainer(const ContainerConfig& config,
                                         const SandboxInfo& sandbox) override {
    std::lock_guard<std::mutex> lock(mu_);
    std::string id = config.podUid + "_" + config.name + "_" + std::to_string(config.attempt);
    calls_.push_back("start " + id);
    configs_.push_back(config);
    if (!sandboxes_.count(sandbox.podUid))
      return makeError(Code::kBadRequest, "no sandbox " + sandbox.podUid);
    if (containers_.count(id))
      return makeError(Code::kAlreadyExists, "container " + id + " exists");
    Behaviour b = behaviours_.count(config.name) ? behaviours_[config.name] : Behaviour{};
    if (b.kind == Behaviour::Kind::kImageMissing)
      return makeError(Code::kNotFound, "image \"" + config.image + "\" not found");
    if (b.kind == Behaviour::Kind::kError) return makeError(Code::kInternal, b.message);
    ContainerStatus c;
    c.id = id;
    c.name = config.name;
    c.attempt = config.attempt;
    c.startedAt = clock();
    c.logPath = "/fake/" + id + ".log";
    if (b.kind == Behaviour::Kind::kRun) {
      c.state = ContainerState::kRunning;
      c.pid = 1000 + static_cast<int>(containers_.size());
    } else if (b.kind == Behaviour::Kind::kExit) {
      c.state = ContainerState::kExited;
      c.exitCode = b.exitCode;
      c.finishedAt = clock();
    } else {
      c.state = ContainerState::kExited;
      c.exitCode = 128;
      c.reason = "ContainerCannotRun";
      c.message = b.message;
      c.startedAt = {};
      c.finishedAt = clock();
    }
    containers_[id] = c;
    return c;
  }
  Status stopContainer(const std::string& id, std::chrono::seconds grace) override {
    std::lock_guard<std::mutex> lock(mu_);
    calls_.push_back("stop " + id + " " + std::to_string(grace.count()));
    auto it = containers_.find(id);
    if (it == containers_.end())
      return makeError(Code::kNotFound, "container " + id + " not found");
    if (it->second.state == ContainerState::kRunning) {
      it->second.state = ContainerState::kExited;
      it->second.exitCode = 137;
      it->second.reason = "Error";
      it->second.finishedAt = clock();
      it->second.pid = 0;
    }
    return Status();
  }
  Status removeContainer(const std::string& id) override {
    std::lock_guard<std::mutex> lock(mu_);
    calls_.push_back("remove " + id);
    auto it = containers_.find(id);
    if (it != containers_.end() && it->second.state == ContainerState::kRunning)
      return makeError(Code::kBadRequest, "container " + id + " is running");
    containers_.erase(id);
    return Status();
  }
  Result<ContainerStatus> containerStatus(const std::string& id) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = containers_.find(id);
    if (it == containers_.end())
      return makeError(Code::kNotFound, "container " + id + " not found");
    return it->second;
  }
  Result<std::vector<ContainerStatus>> listContainers(const std::string& podUid) override {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<ContainerStatus> out;
    for (const auto& [id, c] : containers_)
      if (podUid.empty() || id.rfind(podUid + "_", 0) == 0) out.push_back(c);
    return out;
  }
  Result<ExecResult> execSync(const std::string& id, const std::vector<std::string>& argv,
                              std::chrono::milliseconds timeout) override {
    std::lock_guard<std::mutex> lock(mu_);
    calls_.push_back("exec " + id + " " + (argv.empty() ? "" : argv[0]));
    auto it = containers_.find(id);
    if (it == containers_.end() || it->second.state != ContainerState::kRunning)
      return makeError(Code::kBadRequest, "container " + id + " is not running");
    ExecResult r;
    if (!argv.empty() && execCodes_.count(argv[0])) r.exitCode = execCodes_[argv[0]];
    return r;
  }
  Result<std::vector<std::string>> execCommand(const std::string& id,
                                               const std::vector<std::string>& argv,
                                               bool tty) override {
    std::vector<std::string> out = {"fake-exec", id};
    out.insert(out.end(), argv.begin(), argv.end());
    return out;
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, Behaviour> behaviours_;
  std::map<std::string, ContainerStatus> containers_;
  std::map<std::string, SandboxInfo> sandboxes_;
  std::map<std::string, int> execCodes_;
  std::vector<std::string> calls_;
  std::vector<ContainerConfig> configs_;
  std::vector<SandboxConfig> sandboxConfigs_;
  bool failSandbox_ = false;
  int nextIp_ = 2;
};

}  // namespace skiff::kubelet::testing
