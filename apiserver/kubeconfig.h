// Writes the admin kubeconfig the apiserver hands to kubectl and skiff:
// cluster "skiff" (server URL + base64 CA), user "admin" (bearer token),
// context "skiff" (current). The file is written atomically with mode 0600,
// and left untouched when its content would not change.
//
// Thread-safety: free functions; call from one thread.
#pragma once

#include <string>

#include "base/result.h"

namespace skiff::apiserver {

struct KubeconfigSpec {
  std::string server;  // "https://127.0.0.1:6443"
  std::string caPem;   // CA certificate, PEM
  std::string token;   // admin bearer token
};

// The kubeconfig YAML text.
std::string renderKubeconfig(const KubeconfigSpec& spec);

// Writes renderKubeconfig(spec) to `path` (0600).
Status writeKubeconfig(const std::string& path, const KubeconfigSpec& spec);

// The URL host for a listen address: wildcards (0.0.0.0, ::, "") become
// 127.0.0.1, IPv6 literals get brackets. "0.0.0.0" -> "127.0.0.1",
// "::1" -> "[::1]".
std::string urlHost(const std::string& listenHost);

std::string base64Encode(const std::string& data);

}  // namespace skiff::apiserver
