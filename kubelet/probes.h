// Probes: readiness, liveness and startup checks of a running container, as
// the kubelet's prober does them.
//
// parseProbe() reads container.<kind>Probe with Kubernetes' defaults
// (initialDelaySeconds 0, periodSeconds 10, timeoutSeconds 1,
// successThreshold 1, failureThreshold 3) and resolves a named port against
// the container's ports. ProbeTracker is the pure per-attempt state machine:
// the first probe runs initialDelaySeconds after the container started, then
// every periodSeconds; the result flips to Success after successThreshold
// successes in a row and to Failure after failureThreshold failures in a row.
// Before any flip the result is the kind's initial one: readiness Failure
// (not ready), liveness Success, startup Unknown (not started).
// runProbe() performs one check: exec through Runtime::execSync (exit 0 is a
// success, a timeout a failure); httpGet to scheme://host:port/path (host
// defaults to the pod IP; HTTPS is not verified; 200–399 is a success, as is
// any redirect, which is not followed); tcpSocket: the connection opens.
//
// The pod worker decides what follows: liveness and readiness wait until the
// startup probe succeeded; a liveness or startup Failure restarts the container.
//
// Thread-safety: parseProbe and ProbeTracker are plain values; runProbe is
// reentrant (it blocks for at most the probe's timeout, plus a second for exec).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "api/json.h"
#include "base/result.h"
#include "kubelet/runtime.h"

namespace skiff::kubelet {

enum class ProbeKind { kReadiness, kLiveness, kStartup };
enum class ProbeResult { kUnknown, kSuccess, kFailure };

// "readinessProbe", "livenessProbe", "startupProbe".
const char* probeField(ProbeKind kind);
// "Readiness", "Liveness", "Startup" (as the kubelet's messages print them).
const char* probeName(ProbeKind kind);

struct ProbeSpec {
  enum class Handler { kExec, kHttpGet, kTcpSocket };
  Handler handler = Handler::kExec;
  std::vector<std::string> command;                          // exec
  std::string scheme = "HTTP";                               // httpGet: HTTP or HTTPS
  std::string host;                                          // httpGet / tcpSocket; "" = the pod IP
  std::string path = "/";                                    // httpGet
  int port = 0;                                              // httpGet / tcpSocket
  std::vector<std::pair<std::string, std::string>> headers;  // httpGet
  std::chrono::seconds initialDelay{0};
  std::chrono::seconds period{10};
  std::chrono::seconds timeout{1};
  int successThreshold = 1;
  int failureThreshold = 3;
};

// The container's probe of `kind`, or nullopt when it has none. kBadRequest for
// a probe without a supported handler (grpc is not) or a port name the
// container does not declare.
Result<std::optional<ProbeSpec>> parseProbe(const api::Json& container, ProbeKind kind);

class ProbeTracker {
 public:
  using TimePoint = std::chrono::system_clock::time_point;

  ProbeTracker(ProbeKind kind, ProbeSpec spec, TimePoint containerStartedAt);

  ProbeKind kind() const { return kind_; }
  const ProbeSpec& spec() const { return spec_; }
  ProbeResult result() const { return result_; }
  TimePoint nextRun() const { return nextRun_; }
  bool due(TimePoint now) const { return now >= nextRun_; }

  // Records one check's outcome at `now`; returns the result after it.
  ProbeResult record(bool success, TimePoint now);

 private:
  ProbeKind kind_;
  ProbeSpec spec_;
  ProbeResult result_;
  bool lastSuccess_ = false;
  int run_ = 0;  // checks in a row with lastSuccess_
  TimePoint nextRun_;
};

struct ProbeOutcome {
  bool success = false;
  std::string message;  // why it failed, for logs and events
};

// One check of `spec` against the container (exec) or podIP (network).
ProbeOutcome runProbe(const ProbeSpec& spec, Runtime& runtime, const std::string& containerId,
                      const std::string& podIP);

}  // namespace skiff::kubelet
