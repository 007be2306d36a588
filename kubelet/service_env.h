// Service environment variables: the pure function behind the variables the
// kubelet gives every container about the Services that exist when it starts
// (Kubernetes' pkg/kubelet/envvars FromServices and the kubelet's
// getServiceEnvVarMap).
//
// For each Service with a ClusterIP (headless `None` and ExternalName ones are
// skipped), with NAME its name upper-cased and '-' → '_':
//   NAME_SERVICE_HOST=<clusterIP>
//   NAME_SERVICE_PORT=<first port>
//   NAME_SERVICE_PORT_<PORTNAME>=<port>           each named port
//   NAME_PORT=<proto>://<clusterIP>:<first port>   docker links
//   NAME_PORT_<port>_<PROTO>=<proto>://<clusterIP>:<port>, and
//   ..._PROTO=<proto>, ..._PORT=<port>, ..._ADDR=<clusterIP>   each port
// Services come from the pod's namespace when enableServiceLinks (default
// true), and the `kubernetes` Service of `default` always.
//
// Thread-safety: pure function.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "api/json.h"

namespace skiff::kubelet {

// `services`: Service objects of any namespace (the kubelet's informer cache).
// The result is sorted by name, one entry per name.
std::vector<std::pair<std::string, std::string>> serviceEnv(const std::string& podNamespace,
                                                            bool enableServiceLinks,
                                                            const std::vector<api::Json>& services);

// The same for a pod (its namespace and spec.enableServiceLinks).
std::vector<std::pair<std::string, std::string>> serviceEnvForPod(
    const api::Json& pod, const std::vector<api::Json>& services);

}  // namespace skiff::kubelet
