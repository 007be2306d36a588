#include "ctl/cli.h"

#include "base/file.h"
#include "base/log.h"

#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <optional>

namespace skiff::ctl {

Result<client::RestClient*> Cli::client() {
  if (client_) return client_.get();
  std::string path = client::kubeconfigPath(flags_.kubeconfig);
  auto cfg = client::loadKubeconfig(path, flags_.context);
  if (!cfg) {
    if (cfg.error().code == Code::kNotFound)
      return makeError(Code::kNotFound, "no kubeconfig at " + path +
                                            " (is a cluster running? start one with `skiff up`, or "
                                            "pass --kubeconfig)");
    return cfg.error();
  }
  client_ = std::make_unique<client::RestClient>(std::move(*cfg));
  return client_.get();
}

namespace {

// kubectl keeps discovery on disk for six hours (~/.kube/cache/discovery) and
// reads it again when a name is not found; skiff does the same in
// ${XDG_CACHE_HOME:-~/.cache}/skiff/discovery, one file per server and CA.
constexpr std::chrono::hours kDiscoveryTtl{6};

std::string discoveryCacheFile(const client::ClientConfig& cfg) {
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  const char* home = std::getenv("HOME");
  std::string dir;
  if (xdg && *xdg)
    dir = xdg;
  else if (home && *home)
    dir = std::string(home) + "/.cache";
  else
    return "";
  std::string name;
  for (char ch : cfg.server) name += std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
  char hash[20];
  std::snprintf(hash, sizeof hash, "%016zx", std::hash<std::string>{}(cfg.caPem));
  return dir + "/skiff/discovery/" + name + "-" + hash + ".json";
}

std::optional<std::vector<api::Json>> readDiscoveryCache(const std::string& file) {
  std::error_code ec;
  auto mtime = std::filesystem::last_write_time(file, ec);
  if (ec || std::filesystem::file_time_type::clock::now() - mtime > kDiscoveryTtl)
    return std::nullopt;
  std::ifstream in(file);
  api::Json j = api::Json::parse(in, nullptr, false);
  if (!j.is_array() || j.empty()) return std::nullopt;
  return j.get<std::vector<api::Json>>();
}

// Best effort: a cache that cannot be written is simply not used. Files of
// servers not seen for longer than the TTL are removed.
void writeDiscoveryCache(const std::string& file, const std::vector<api::Json>& lists) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path dir = fs::path(file).parent_path();
  fs::create_directories(dir, ec);
  if (ec) return;
  fs::permissions(dir, fs::perms::owner_all, ec);
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::error_code ec2;
    auto t = fs::last_write_time(e.path(), ec2);
    if (!ec2 && fs::file_time_type::clock::now() - t > kDiscoveryTtl) fs::remove(e.path(), ec2);
  }
  // A cache: best effort, and not worth an fsync.
  (void)writeFileAtomic(file, api::Json(lists).dump(), {.durable = false});
}

}  // namespace

Result<client::Discovery*> Cli::discovery() {
  if (discovery_) return &*discovery_;
  auto c = client();
  if (!c) return c.error();
  client::RestClient* rc = *c;
  std::string file = discoveryCacheFile(rc->config());
  auto fetch = [rc, file]() -> Result<std::vector<api::Json>> {
    auto lists = client::Discovery::loadDocuments(*rc);
    if (lists && !file.empty()) writeDiscoveryCache(file, *lists);
    return lists;
  };
  if (auto cached = file.empty() ? std::nullopt : readDiscoveryCache(file)) {
    discovery_ = client::Discovery::fromDocuments(*cached);
    discovery_->setRefresher(fetch);
    return &*discovery_;
  }
  auto lists = fetch();
  if (!lists) return lists.error();
  discovery_ = client::Discovery::fromDocuments(*lists);
  return &*discovery_;
}

std::string Cli::ns() {
  if (!flags_.ns.empty()) return flags_.ns;
  auto c = client();
  if (c) return (*c)->config().ns;
  return "default";
}

void Cli::report(const Error& e, const std::string& context) {
  std::fprintf(stderr, "%s\n", client::renderError(e, context).c_str());
}

int Cli::fail(const Error& e, const std::string& context) {
  report(e, context);
  std::string kc = client_ ? client_->config().path : client::kubeconfigPath(flags_.kubeconfig);
  if (!client::isServerError(e) && e.code == Code::kUnavailable &&
      e.message.rfind("The connection to the server", 0) == 0) {
    std::fprintf(stderr, "hint: is skiff running? start it with `skiff up` (kubeconfig: %s)\n",
                 kc.c_str());
  } else if (client::isServerError(e) && e.code == Code::kUnauthorized) {
    std::fprintf(stderr,
                 "hint: the server refused the token in %s; it may be from another data "
                 "directory or an older cluster — use the kubeconfig that `skiff up` printed\n",
                 kc.c_str());
  }
  return 1;
}

void addGlobalFlags(po::options_description& desc, GlobalFlags& flags, bool allNamespaces) {
  desc.add_options()("kubeconfig", po::value(&flags.kubeconfig),
                     "Path to the kubeconfig file to use")(
      "context", po::value(&flags.context), "The name of the kubeconfig context to use")(
      "namespace,n", po::value(&flags.ns), "If present, the namespace scope for this CLI request")(
      "request-timeout", po::value(&flags.requestTimeout), "Accepted for kubectl compatibility")(
      "help,h", po::bool_switch(), "Help for this command");
  if (allNamespaces)
    desc.add_options()("all-namespaces,A", po::bool_switch(&flags.allNamespaces),
                       "List the requested object(s) across all namespaces");
}

std::string parseFlags(int argc, char** argv, const po::options_description& desc,
                       po::variables_map& vm, std::vector<std::string>& args) {
  po::options_description all;
  all.add(desc);
  all.add_options()("__args", po::value<std::vector<std::string>>(&args));
  po::positional_options_description pos;
  pos.add("__args", -1);
  try {
    auto style = po::command_line_style::default_style & ~po::command_line_style::allow_guessing;
    po::store(po::command_line_parser(argc, argv).options(all).positional(pos).style(style).run(),
              vm);
    po::notify(vm);
  } catch (const po::unknown_option& e) {
    std::string opt = e.get_option_name();
    if (opt.size() == 2 && opt[0] == '-')
      return "unknown shorthand flag: '" + opt.substr(1) + "' in " + opt;
    return "unknown flag: " + opt;
  } catch (const po::invalid_command_line_syntax& e) {
    if (e.kind() == po::invalid_command_line_syntax::missing_parameter)
      return "flag needs an argument: " + e.get_option_name();
    return e.what();
  } catch (const po::error& e) {
    return e.what();
  }
  return "";
}

int usageError(const std::string& verb, const std::string& message) {
  std::fprintf(stderr, "error: %s\nSee 'skiff %s -h' for help and examples\n", message.c_str(),
               verb.c_str());
  return 1;
}

void printHelp(const std::string& usage, const std::string& description,
               const std::string& examples, const po::options_description& desc) {
  std::cout << description << "\n\nExamples:\n"
            << examples << "\n\nOptions:\n"
            << desc << "\nUsage:\n  " << usage << "\n";
}

Result<std::chrono::milliseconds> parseDuration(const std::string& text) {
  if (text.empty()) return makeError(Code::kBadRequest, "invalid duration \"\"");
  bool digitsOnly = text.find_first_not_of("0123456789") == std::string::npos;
  if (digitsOnly) return std::chrono::milliseconds(std::stoll(text) * 1000);
  double total = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t j = i;
    while (j < text.size() && (isdigit(static_cast<unsigned char>(text[j])) || text[j] == '.')) ++j;
    if (j == i) return makeError(Code::kBadRequest, "invalid duration \"" + text + "\"");
    double n = std::stod(text.substr(i, j - i));
    size_t k = j;
    while (k < text.size() && isalpha(static_cast<unsigned char>(text[k]))) ++k;
    std::string unit = text.substr(j, k - j);
    double ms;
    if (unit == "ms")
      ms = 1;
    else if (unit == "s")
      ms = 1000;
    else if (unit == "m")
      ms = 60000;
    else if (unit == "h")
      ms = 3600000;
    else
      return makeError(Code::kBadRequest, "invalid duration \"" + text + "\"");
    total += n * ms;
    i = k;
  }
  return std::chrono::milliseconds(static_cast<long long>(total));
}

bool stdoutIsTerminal() {
  return ::isatty(STDOUT_FILENO) == 1;
}

}  // namespace skiff::ctl

namespace skiff::ctl {
std::string urlEncode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~')
      out.push_back(static_cast<char>(c));
    else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}
bool applyLogLevelFlag(const std::string& text) {
  LogLevel level;
  if (text == "debug")
    level = LogLevel::kDebug;
  else if (text == "info")
    level = LogLevel::kInfo;
  else if (text == "warn" || text == "warning")
    level = LogLevel::kWarn;
  else if (text == "error")
    level = LogLevel::kError;
  else {
    std::fprintf(stderr, "error: invalid --log-level \"%s\" (debug, info, warn, error)\n",
                 text.c_str());
    return false;
  }
  setLogLevel(level);
  return true;
}

sigset_t blockStopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
  return set;
}

std::string waitForStopSignal(const sigset_t& stopSignals) {
  int sig = 0;
  sigwait(&stopSignals, &sig);
  return sig == SIGINT ? "SIGINT" : "SIGTERM";
}

bool parseComponentFlags(int argc, char** argv,
                         const boost::program_options::options_description& flags, const char* verb,
                         boost::program_options::variables_map& vm) {
  namespace po = boost::program_options;
  try {
    po::store(po::command_line_parser(argc, argv).options(flags).run(), vm);
    po::notify(vm);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\nSee 'skiff %s --help' for usage.\n", e.what(), verb);
    return false;
  }
  return true;
}

std::optional<client::ClientConfig> loadKubeconfigFlag(const std::string& flag) {
  auto config = client::loadKubeconfig(client::kubeconfigPath(flag));
  if (!config) {
    std::fprintf(stderr, "error: %s\n", config.error().message.c_str());
    return std::nullopt;
  }
  return std::move(*config);
}

}  // namespace skiff::ctl
