// Kubeconfig: where the server is and how to prove who we are.
//
// Which file: `--kubeconfig F`, else the first existing path of $KUBECONFIG
// (colon-separated; skiff reads the first file that exists rather than merging),
// else /var/lib/skiff/kubeconfig. Which context: `--context`, else the file's
// current-context. Inline data (certificate-authority-data, token,
// client-certificate-data, client-key-data) and file references
// (certificate-authority, tokenFile, client-certificate, client-key; relative
// to the kubeconfig's folder) are both read.
//
// Plain values; yaml-cpp exceptions stop in loadKubeconfig().
#pragma once

#include <string>

#include "base/result.h"

namespace skiff::client {

inline constexpr const char* kDefaultKubeconfig = "/var/lib/skiff/kubeconfig";

// Everything the REST client needs to reach one server as one user.
struct ClientConfig {
  std::string server;         // "https://127.0.0.1:6443"
  std::string caPem;          // PEM bytes; empty = system trust store
  bool insecure = false;      // insecure-skip-tls-verify
  std::string token;          // bearer token; empty = none
  std::string clientCertPem;  // client certificate auth (optional)
  std::string clientKeyPem;
  std::string ns = "default";  // the context's namespace
  std::string path;            // the kubeconfig file it came from (for hints)
  std::string context;         // the context used
};

// Which file to read: explicit (a flag) > $KUBECONFIG > kDefaultKubeconfig.
std::string kubeconfigPath(const std::string& explicitPath);

// kNotFound when the file is missing (message names it); kBadRequest for a
// malformed file or a context/cluster/user it does not define.
Result<ClientConfig> loadKubeconfig(const std::string& path, const std::string& context = "");
// The same from text (tests); `dir` resolves relative file references.
Result<ClientConfig> parseKubeconfig(const std::string& text, const std::string& context,
                                     const std::string& dir);

// RFC 4648 base64 (padding optional, whitespace ignored); kBadRequest on junk.
Result<std::string> base64Decode(const std::string& text);
std::string base64Encode(const std::string& bytes);

}  // namespace skiff::client
