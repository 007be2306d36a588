#include "client/kubeconfig.h"

#include <yaml-cpp/yaml.h>

#include <sys/stat.h>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "api/json.h"

namespace skiff::client {
namespace {

bool fileExists(const std::string& p) {
  struct stat st;
  return !p.empty() && ::stat(p.c_str(), &st) == 0;
}

Result<std::string> readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return makeError(Code::kNotFound, "open " + path + ": no such file or directory");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string resolve(const std::string& dir, const std::string& p) {
  if (p.empty() || p[0] == '/' || dir.empty()) return p;
  return dir + "/" + p;
}

// Finds the entry named `name` in a kubeconfig list (clusters, users, contexts).
YAML::Node findNamed(const YAML::Node& list, const std::string& name) {
  if (!list || !list.IsSequence()) return YAML::Node();
  for (const auto& item : list)
    if (item["name"] && item["name"].as<std::string>() == name) return item;
  return YAML::Node();
}

std::string str(const YAML::Node& n, const char* key) {
  if (!n || !n.IsMap() || !n[key] || !n[key].IsScalar()) return "";
  return n[key].as<std::string>();
}

// Inline base64 data wins over a file reference, as in client-go.
Result<std::string> dataOrFile(const YAML::Node& n, const char* dataKey, const char* fileKey,
                               const std::string& dir) {
  std::string data = str(n, dataKey);
  if (!data.empty()) {
    auto d = base64Decode(data);
    if (!d) return d.error().wrap(dataKey);
    return d;
  }
  std::string file = str(n, fileKey);
  if (file.empty()) return std::string();
  return readFile(resolve(dir, file));
}

}  // namespace

std::string kubeconfigPath(const std::string& explicitPath) {
  if (!explicitPath.empty()) return explicitPath;
  if (const char* env = std::getenv("KUBECONFIG"); env && *env) {
    std::string list = env, first;
    size_t start = 0;
    while (start <= list.size()) {
      size_t end = list.find(':', start);
      if (end == std::string::npos) end = list.size();
      std::string p = list.substr(start, end - start);
      if (first.empty()) first = p;
      if (fileExists(p)) return p;
      start = end + 1;
    }
    if (!first.empty()) return first;
  }
  return kDefaultKubeconfig;
}

Result<ClientConfig> parseKubeconfig(const std::string& text, const std::string& context,
                                     const std::string& dir) {
  try {
    YAML::Node root = YAML::Load(text);
    if (!root.IsMap()) return makeError(Code::kBadRequest, "kubeconfig is not a YAML mapping");
    ClientConfig c;
    c.context = context.empty() ? str(root, "current-context") : context;
    if (c.context.empty())
      return makeError(Code::kBadRequest, "no context chosen and no current-context set");
    YAML::Node ctx = findNamed(root["contexts"], c.context);
    if (!ctx || ctx.IsNull())
      return makeError(Code::kBadRequest,
                       "context was not found for specified context: " + c.context);
    YAML::Node cctx = ctx["context"];
    std::string clusterName = str(cctx, "cluster"), userName = str(cctx, "user");
    if (std::string ns = str(cctx, "namespace"); !ns.empty()) c.ns = ns;
    YAML::Node cluster = findNamed(root["clusters"], clusterName);
    if (!cluster || cluster.IsNull())
      return makeError(Code::kBadRequest, "cluster \"" + clusterName + "\" of context \"" +
                                              c.context + "\" is not defined");
    YAML::Node cl = cluster["cluster"];
    c.server = str(cl, "server");
    if (c.server.empty())
      return makeError(Code::kBadRequest, "cluster \"" + clusterName + "\" has no server");
    while (!c.server.empty() && c.server.back() == '/') c.server.pop_back();
    c.insecure = str(cl, "insecure-skip-tls-verify") == "true";
    auto ca = dataOrFile(cl, "certificate-authority-data", "certificate-authority", dir);
    if (!ca) return ca.error();
    c.caPem = *ca;
    if (!userName.empty()) {
      YAML::Node user = findNamed(root["users"], userName);
      if (user && !user.IsNull()) {
        YAML::Node u = user["user"];
        c.token = str(u, "token");
        if (c.token.empty()) {
          if (std::string tf = str(u, "tokenFile"); !tf.empty()) {
            auto t = readFile(resolve(dir, tf));
            if (!t) return t.error();
            c.token = *t;
            while (!c.token.empty() && isspace(static_cast<unsigned char>(c.token.back())))
              c.token.pop_back();
          }
        }
        auto cert = dataOrFile(u, "client-certificate-data", "client-certificate", dir);
        if (!cert) return cert.error();
        c.clientCertPem = *cert;
        auto key = dataOrFile(u, "client-key-data", "client-key", dir);
        if (!key) return key.error();
        c.clientKeyPem = *key;
      }
    }
    return c;
  } catch (const std::exception& e) {
    return makeError(Code::kBadRequest, std::string("invalid kubeconfig: ") + e.what());
  }
}

Result<ClientConfig> loadKubeconfig(const std::string& path, const std::string& context) {
  auto text = readFile(path);
  if (!text) return text.error();
  std::string dir;
  if (auto slash = path.rfind('/'); slash != std::string::npos) dir = path.substr(0, slash);
  auto c = parseKubeconfig(*text, context, dir);
  if (!c) return c.error().wrap("load kubeconfig " + path);
  c->path = path;
  return c;
}

Result<std::string> base64Decode(const std::string& text) {
  auto d = api::base64Decode(text);  // one decoder: the API's
  if (!d) return makeError(Code::kBadRequest, "illegal base64 data");
  return *d;
}

std::string base64Encode(const std::string& bytes) {
  return api::base64Encode(bytes);  // one encoder: the API's JSON []byte form
}

}  // namespace skiff::client
