// What a container runs: the pure function from a PodSpec container and its
// image's config to argv, environment, working directory and user, with
// Kubernetes' rules (kubelet's makeEnvironmentVariables and
// ExpandContainerCommandAndArgs, then the runtime's merge with the image, as
// containerd's CRI plugin does it):
//
//   argv  command set: command + args (ENTRYPOINT and CMD ignored);
//         only args set: ENTRYPOINT + args; neither: ENTRYPOINT + CMD.
//         Nothing at all: "no command specified".
//   $(VAR) in command, args and env values expands from the container's env
//         (for env values: variables declared earlier in the list, plus the
//         service variables); `$$` is a literal `$`; unknown references stay as
//         written. Image Env is never a source for expansion.
//   env   PATH default, HOSTNAME, image Env, then container env in order, each
//         later KEY replacing an earlier one in place; env values from
//         valueFrom.fieldRef (metadata.name/namespace/uid, metadata.labels['k'],
//         metadata.annotations['k'], spec.nodeName, spec.serviceAccountName,
//         status.podIP(s), status.hostIP(s)) resolve from the pod and the context.
//   cwd   workingDir, else the image WorkingDir, else "/".
//   user  runAsUser/runAsGroup (container securityContext over the pod's) over the
//         image User "uid[:gid]"; gid 0 when neither says. Only numeric image users
//         are supported; a named one needs runAsUser (and a named group,
//         runAsGroup). runAsNonRoot is enforced as the kubelet does.
//   groups the pod's supplementalGroups and fsGroup.
//
// Errors are the texts the kubelet reports in a container's waiting state
// (CreateContainerConfigError / CreateContainerError); the caller picks the reason.
//
// Thread-safety: pure function.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "api/json.h"
#include "base/result.h"
#include "kubelet/images.h"

namespace skiff::kubelet {

// What the kubelet knows about the pod's surroundings when it starts a container.
struct PodContext {
  api::Json pod;                     // the Pod object (metadata, spec, status)
  std::vector<std::string> podIPs;   // the sandbox's addresses, first = status.podIP
  std::vector<std::string> hostIPs;  // the node's addresses, first = status.hostIP
  std::string nodeName;              // used when the pod's spec.nodeName is empty
  std::string hostname;              // HOSTNAME; else spec.hostname, else the pod name (max 63)
  // Service variables (FOO_SERVICE_HOST, ...) when enableServiceLinks: sources for
  // $(VAR) and appended after the container's own env when not overridden.
  std::vector<std::pair<std::string, std::string>> serviceEnv;
  // The data of a ConfigMap / Secret in the pod's namespace, for env
  // valueFrom.configMapKeyRef / secretKeyRef and envFrom. kNotFound when the
  // object does not exist. Unset: such references fail with a clear error.
  using DataLookup = std::function<Result<std::map<std::string, std::string>>(const std::string&)>;
  DataLookup configMapData;
  DataLookup secretData;
  // A token of the pod's ServiceAccount for `audience` ("": the API server's),
  // valid for about `expirationSeconds`: projected serviceAccountToken volume
  // sources. Unset: they fail with a clear error.
  std::function<Result<std::string>(const std::string& audience, int64_t expirationSeconds)>
      serviceAccountToken;
};

struct ProcessSpec {
  std::vector<std::string> args;  // argv; args[0] is looked up in PATH by the runtime
  std::vector<std::string> env;   // "KEY=value"
  std::string cwd;
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::vector<uint32_t> additionalGids;
};

// container: one element of spec.containers / spec.initContainers.
Result<ProcessSpec> processSpec(const api::Json& container, const ImageConfig& image,
                                const PodContext& ctx);

// Kubernetes' $(VAR) expansion (third_party/forked/golang/expansion): `lookup`
// returns false for unknown names, which then stay as `$(NAME)`.
std::string expandVars(const std::string& input,
                       const std::function<bool(const std::string&, std::string*)>& lookup);

// The value of a downward-API field path for the pod, as the kubelet resolves
// env valueFrom.fieldRef. kBadRequest "unsupported fieldPath: x" otherwise.
Result<std::string> podFieldValue(const std::string& fieldPath, const PodContext& ctx);

}  // namespace skiff::kubelet
