#include "apiserver/kubeconfig.h"

#include <sys/stat.h>

#include "apiserver/tls.h"
#include "base/file.h"

namespace skiff::apiserver {

std::string base64Encode(const std::string& data) {
  static const char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    unsigned v = unsigned((unsigned char)data[i]) << 16 |
                 unsigned((unsigned char)data[i + 1]) << 8 | unsigned((unsigned char)data[i + 2]);
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i < data.size()) {
    unsigned v = unsigned((unsigned char)data[i]) << 16;
    if (i + 1 < data.size()) v |= unsigned((unsigned char)data[i + 1]) << 8;
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < data.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string urlHost(const std::string& host) {
  if (host.empty() || host == "0.0.0.0" || host == "::" || host == "[::]") return "127.0.0.1";
  if (host.find(':') != std::string::npos && host.front() != '[') return "[" + host + "]";
  return host;
}

std::string renderKubeconfig(const KubeconfigSpec& spec) {
  // Values are quoted; none of them (URL, base64, hex) needs escaping.
  std::string y;
  y += "apiVersion: v1\n";
  y += "kind: Config\n";
  y += "clusters:\n";
  y += "- name: skiff\n";
  y += "  cluster:\n";
  y += "    server: \"" + spec.server + "\"\n";
  y += "    certificate-authority-data: \"" + base64Encode(spec.caPem) + "\"\n";
  y += "users:\n";
  y += "- name: admin\n";
  y += "  user:\n";
  y += "    token: \"" + spec.token + "\"\n";
  y += "contexts:\n";
  y += "- name: skiff\n";
  y += "  context:\n";
  y += "    cluster: skiff\n";
  y += "    user: admin\n";
  y += "    namespace: default\n";
  y += "current-context: skiff\n";
  y += "preferences: {}\n";
  return y;
}

Status writeKubeconfig(const std::string& path, const KubeconfigSpec& spec) {
  std::string text = renderKubeconfig(spec);
  auto existing = readWholeFile(path);
  if (existing && *existing == text) {
    ::chmod(path.c_str(), 0600);
    return {};
  }
  return writeFileAtomic(path, text, {.mode = 0600});
}

}  // namespace skiff::apiserver
