// `skiff up` and `skiff down`.
//
// up runs the API server in this process (apiserver/server.h) and prints one
// line once GET /healthz answers through the kubeconfig it wrote:
//   skiff ready in 41 ms — kubeconfig: /var/lib/skiff/kubeconfig
// --detach forks before any thread exists; the child starts the server, checks
// /healthz, then reports "ready N" (or the error) up a pipe, so the parent
// exits 0 only when the cluster really answers. The child writes DIR/skiff.pid,
// logs to DIR/skiff.log and runs until SIGTERM/SIGINT. --ephemeral uses a fresh
// mkdtemp directory and removes it when the server stops.
//
// An --ephemeral cluster claims a slot (cluster_slot.h) in the process that
// serves (the child, with --detach) and holds it until that process ends; its
// pod /24, service range, DNS address and LoadBalancer pool come from the slot
// unless given as flags.
//
// down sends SIGTERM to DIR/skiff.pid and waits for the process to exit.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <thread>

#include "apiserver/allocator.h"
#include "apiserver/server.h"
#include "base/log.h"
#include "client/kubeconfig.h"
#include "client/rest_client.h"
#include "ctl/cli.h"
#include "ctl/cluster.h"
#include "ctl/cluster_slot.h"
#include "ctl/commands.h"

namespace skiff::ctl {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// The ephemeral cluster a detached `up --ephemeral` started, so a bare
// `skiff down` finds it.
std::string ephemeralMarker() {
  const char* tmp = std::getenv("TMPDIR");
  return std::string(tmp && *tmp ? tmp : "/tmp") + "/skiff-ephemeral-" + std::to_string(getuid());
}

int readPid(const std::string& pidFile) {
  std::ifstream in(pidFile);
  int pid = 0;
  if (in >> pid) return pid;
  return 0;
}

bool alive(int pid) {
  return pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM);
}

// GET /healthz through the kubeconfig until it answers "ok" (or 5 s pass).
Status waitHealthy(const std::string& kubeconfig) {
  auto cfg = client::loadKubeconfig(kubeconfig);
  if (!cfg) return cfg.error();
  client::RestClient c(*cfg);
  auto deadline = Clock::now() + std::chrono::seconds(5);
  Error last = makeError(Code::kUnavailable, "no answer");
  while (Clock::now() < deadline) {
    auto r = c.request("GET", "/healthz");
    if (r && r->status == 200) return Status();
    if (!r)
      last = r.error();
    else
      last = makeError(Code::kUnavailable,
                       "/healthz answered " + std::to_string(r->status) + ": " + r->body);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return last.wrap("waiting for /healthz");
}

long elapsedMs(Clock::time_point start) {
  return static_cast<long>(
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count());
}

// Runs the server until a stop signal. `report` is called once: with "" and
// the kubeconfig path when healthy, or with an error message. `slotKeep`:
// null = no slot; else claim one and take its ranges except the options named.
int serve(
    apiserver::ServerOptions options, ClusterOptions cluster, bool ephemeral,
    const std::set<std::string>* slotKeep,
    const std::function<void(const std::string& err, const std::string& kubeconfig)>& report) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  // Block before any thread exists so only sigwait() below sees them.
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::string pidFile = options.dataDir + "/skiff.pid";
  auto cleanup = [&] {
    ::unlink(pidFile.c_str());
    if (ephemeral) {
      std::error_code ec;
      fs::remove_all(options.dataDir, ec);
      if (readPid(ephemeralMarker()) == getpid()) ::unlink(ephemeralMarker().c_str());
    }
  };
  // Held until this function returns, after the cluster is torn down; the
  // kernel drops it if the process dies first.
  SlotClaim slot;
  if (slotKeep) {
    auto claimed = SlotClaim::claim(defaultSlotDir(), [](int n) { return !podSubnetInUse(n); });
    if (!claimed) {
      report(claimed.error().wrap("claim a cluster slot").message, "");
      cleanup();
      return 1;
    }
    slot = std::move(*claimed);
    useSlot(cluster, slotNetwork(slot.slot()), *slotKeep);
  }
  options.rest.serviceCidr = cluster.serviceCidr;
  options.rest.loadBalancerCidr = cluster.loadBalancerCidr;
  // Pods reach the API server at their gateway, the host's address on the bridge.
  if (!cluster.disabled.count("kubelet"))
    options.advertiseAddress = cluster.bridgeAddress.substr(0, cluster.bridgeAddress.find('/'));
  logInfo("cluster network", {{"slot", std::to_string(slot.slot())},
                              {"podCidr", cluster.podCidr},
                              {"serviceCidr", cluster.serviceCidr},
                              {"clusterDns", cluster.clusterDns},
                              {"loadBalancerCidr", cluster.loadBalancerCidr},
                              {"bridge", cluster.bridge}});
  auto server = apiserver::ApiServer::start(options);
  if (!server) {
    report(server.error().message, "");
    cleanup();
    return 1;
  }
  std::string kubeconfig = (*server)->kubeconfigPath();
  {
    std::ofstream out(pidFile);
    out << getpid() << "\n";
  }
  if (ephemeral) {
    std::ofstream out(ephemeralMarker());
    out << getpid() << "\n" << options.dataDir << "\n";
  }
  auto healthy = waitHealthy(kubeconfig);
  if (!healthy) {
    report(healthy.error().message, "");
    (*server)->stop();
    cleanup();
    return 1;
  }
  cluster.dataDir = options.dataDir;
  cluster.kubeconfig = kubeconfig;
  cluster.ephemeral = ephemeral;
  auto components = LocalCluster::start(cluster);
  if (!components) {
    report(components.error().message, "");
    (*server)->stop();
    cleanup();
    return 1;
  }
  if (auto ready = (*components)->waitNodeReady(std::chrono::seconds(30)); !ready) {
    report(ready.error().message, "");
    (*components)->stop(ephemeral);
    (*server)->stop();
    cleanup();
    return 1;
  }
  report("", kubeconfig);
  int sig = 0;
  sigwait(&set, &sig);
  std::fprintf(stderr, "skiff: signal %d, stopping\n", sig);
  // An ephemeral cluster leaves nothing behind; a lasting one leaves its
  // containers and rules running for the next `skiff up` to adopt.
  (*components)->stop(ephemeral);
  (*server)->stop();
  server->reset();
  cleanup();
  return 0;
}

int runUp(int argc, char** argv) {
  auto start = Clock::now();
  std::string dataDir = client::kDefaultKubeconfig;
  dataDir = dataDir.substr(0, dataDir.rfind('/'));
  std::string listen = "127.0.0.1:6443";
  bool detach = false, ephemeral = false, noFsync = false;
  ClusterOptions cluster;
  std::string disable;
  po::options_description desc;
  desc.add_options()("data-dir", po::value(&dataDir),
                     "Where state lives (state.db, pki, kubeconfig); default /var/lib/skiff")(
      "listen", po::value(&listen), "ADDR:PORT the API serves on (port 0 picks a free port)")(
      "detach,d", po::bool_switch(&detach),
      "Return once the cluster is ready, leaving it running in the background")(
      "ephemeral", po::bool_switch(&ephemeral),
      "Use a fresh temporary data directory, removed when the cluster stops")(
      "no-fsync", po::bool_switch(&noFsync),
      "Do not fsync the store (tests only: loses writes on power failure)")(
      "disable", po::value(&disable),
      "Components not to run, comma-separated: controller-manager, scheduler, netproxy, kubelet")(
      "node-name", po::value(&cluster.nodeName), "This node's name (default: the host name)")(
      "bridge", po::value(&cluster.bridge), "The pods' bridge (default skiff0)")(
      "pod-cidr", po::value(&cluster.podCidr),
      "The node's pod addresses (default 10.244.0.0/24, --ephemeral 10.244.SLOT.0/24; the "
      "bridge takes the .1)")(
      "service-cidr", po::value(&cluster.serviceCidr),
      "ClusterIPs (default 10.96.0.0/12, --ephemeral the SLOT-th /20 of it: 10.96.16.0/20 for "
      "slot 1)")(
      "cluster-dns", po::value(&cluster.clusterDns),
      "The kube-dns Service's ClusterIP, pods' nameserver (default: the service range's .10, "
      "10.96.0.10)")(
      "lb-cidr", po::value(&cluster.loadBalancerCidr),
      "LoadBalancer ingress pool (default 10.255.0.0/24, --ephemeral 10.255.SLOT.0/24)")(
      "nft-table", po::value(&cluster.nftTable), "The nftables table `ip NAME` (default skiff)")(
      "help,h", po::bool_switch(), "Help for this command");
  po::variables_map vm;
  std::vector<std::string> args;
  if (auto err = parseFlags(argc, argv, desc, vm, args); !err.empty()) return usageError("up", err);
  if (vm["help"].as<bool>()) {
    printHelp("skiff up [--data-dir DIR] [--listen ADDR:PORT] [--detach] [--ephemeral]",
              "Start a single-machine cluster: the API server (with its store in DIR/state.db) "
              "and every component built in, in this process. Prints one line when the API "
              "answers:\n  skiff ready in N ms — kubeconfig: DIR/kubeconfig\nThen point skiff or "
              "kubectl at that kubeconfig. Without --detach it runs until Ctrl-C.\n\n"
              "An --ephemeral cluster holds a slot N (1-253) no other running cluster on this "
              "machine holds (a lock in /run/skiff/slots, dropped when the process ends) and "
              "takes its ranges from it: pods 10.244.N.0/24, ClusterIPs the N-th /20 of "
              "10.96.0.0/12 with kube-dns at its .10, LoadBalancer IPs 10.255.N.0/24. Its "
              "netproxy leaves pods on other bridges alone, so clusters side by side never "
              "answer each other's Services or DNS.",
              "  # A cluster in /var/lib/skiff, in the foreground\n  skiff up\n\n"
              "  # A throwaway cluster in the background, for a test suite\n"
              "  skiff up --ephemeral --detach --listen 127.0.0.1:0\n  skiff down\n\n"
              "  # Stop a detached cluster\n  skiff down --data-dir /var/lib/skiff",
              desc);
    return 0;
  }
  if (!args.empty()) return usageError("up", "unexpected argument \"" + args[0] + "\"");
  if (ephemeral) {
    const char* tmp = std::getenv("TMPDIR");
    std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/skiff-XXXXXX";
    if (!::mkdtemp(tmpl.data())) {
      std::fprintf(stderr, "error: mkdtemp %s: %s\n", tmpl.c_str(), std::strerror(errno));
      return 1;
    }
    dataDir = tmpl;
  } else {
    std::error_code ec;
    fs::create_directories(dataDir, ec);
    if (ec) {
      std::fprintf(stderr, "error: create %s: %s\n", dataDir.c_str(), ec.message().c_str());
      return 1;
    }
    ::chmod(dataDir.c_str(), 0700);
    int pid = readPid(dataDir + "/skiff.pid");
    if (alive(pid)) {
      std::fprintf(stderr,
                   "error: skiff is already running in %s (pid %d); stop it with `skiff down "
                   "--data-dir %s`\n",
                   dataDir.c_str(), pid, dataDir.c_str());
      return 1;
    }
  }
  for (size_t p = 0; p <= disable.size() && !disable.empty();) {
    size_t q = disable.find(',', p);
    if (q == std::string::npos) q = disable.size();
    std::string c = disable.substr(p, q - p);
    if (c == "controllers") c = "controller-manager";
    if (c != "controller-manager" && c != "scheduler" && c != "netproxy" && c != "kubelet")
      return usageError("up", "--disable: unknown component \"" + c +
                                  "\" (choose from controller-manager, scheduler, netproxy, "
                                  "kubelet)");
    cluster.disabled.insert(c);
    p = q + 1;
  }
  if (ephemeral) {
    // Names of its own in the kernel, unless given: a throwaway cluster never
    // meets a lasting one (or another throwaway one).
    // Its address ranges come from its slot, claimed by the serving process.
    ClusterOptions unique = cluster;
    unique.makeUnique(ephemeralTag(dataDir));
    if (!vm.count("bridge")) cluster.bridge = unique.bridge;
    if (!vm.count("nft-table")) cluster.nftTable = unique.nftTable;
    cluster.runcRoot = unique.runcRoot;
    cluster.cgroupParent = unique.cgroupParent;
    cluster.netnsPrefix = unique.netnsPrefix;
  }
  if (vm.count("pod-cidr")) {
    // The bridge takes the subnet's first address.
    std::string net = cluster.podCidr.substr(0, cluster.podCidr.find('/'));
    auto dot = net.rfind('.');
    if (dot == std::string::npos || cluster.podCidr.find('/') == std::string::npos)
      return usageError("up", "--pod-cidr: want A.B.C.0/24, got \"" + cluster.podCidr + "\"");
    cluster.bridgeAddress =
        net.substr(0, dot) + ".1" + cluster.podCidr.substr(cluster.podCidr.find('/'));
  }
  for (const char* flag : {"service-cidr", "lb-cidr"}) {
    if (!vm.count(flag)) continue;
    const std::string& v =
        std::string(flag) == "lb-cidr" ? cluster.loadBalancerCidr : cluster.serviceCidr;
    auto cidr = apiserver::parseCidr(v);
    if (!cidr || cidr->prefix > 28)
      return usageError("up",
                        std::string("--") + flag + ": want an IPv4 range such as " +
                            (std::string(flag) == "lb-cidr" ? "10.255.0.0/24" : "10.96.0.0/12") +
                            " (at most /28), got \"" + v + "\"");
    // The DNS Service takes the range's .10, as kubeadm's does.
    if (std::string(flag) == "service-cidr" && !vm.count("cluster-dns"))
      cluster.clusterDns = apiserver::formatIpv4(cidr->network + 10);
  }
  if (vm.count("cluster-dns")) {
    auto ip = apiserver::parseIpv4(cluster.clusterDns);
    auto range = apiserver::parseCidr(cluster.serviceCidr);
    if (!ip || !range || !range->usable(*ip))
      return usageError("up",
                        "--cluster-dns: want an IPv4 address inside the service range, got \"" +
                            cluster.clusterDns + "\"");
  }
  std::set<std::string> slotKeep;
  for (const char* flag : {"pod-cidr", "service-cidr", "cluster-dns", "lb-cidr"})
    if (vm.count(flag)) slotKeep.insert(flag);
  apiserver::ServerOptions options;
  options.dataDir = dataDir;
  options.listen = listen;
  // An ephemeral cluster is deleted when it stops: durability buys nothing there.
  options.fsync = !noFsync && !ephemeral;

  if (!detach) {
    return serve(options, cluster, ephemeral, ephemeral ? &slotKeep : nullptr,
                 [&](const std::string& err, const std::string& kc) {
                   if (!err.empty()) {
                     std::fprintf(stderr, "error: %s\n", err.c_str());
                     return;
                   }
                   std::printf("skiff ready in %ld ms — kubeconfig: %s\n", elapsedMs(start),
                               kc.c_str());
                   std::fflush(stdout);
                 });
  }

  int fds[2];
  if (::pipe(fds) != 0) {
    std::fprintf(stderr, "error: pipe: %s\n", std::strerror(errno));
    return 1;
  }
  std::fflush(stdout);
  std::fflush(stderr);
  pid_t pid = ::fork();
  if (pid < 0) {
    std::fprintf(stderr, "error: fork: %s\n", std::strerror(errno));
    return 1;
  }
  if (pid == 0) {
    ::close(fds[0]);
    ::setsid();
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, 0);
    std::string log = dataDir + "/skiff.log";
    int lf = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (lf >= 0) {
      ::dup2(lf, 1);
      ::dup2(lf, 2);
    }
    int wfd = fds[1];
    int rc = serve(options, cluster, ephemeral, ephemeral ? &slotKeep : nullptr,
                   [&](const std::string& err, const std::string& kc) {
                     std::string msg = err.empty() ? "ready " + kc + "\n" : "error " + err + "\n";
                     (void)!::write(wfd, msg.data(), msg.size());
                     ::close(wfd);
                     wfd = -1;
                   });
    if (wfd >= 0) ::close(wfd);
    std::_Exit(rc);
  }
  ::close(fds[1]);
  std::string msg;
  char buf[512];
  ssize_t n;
  while ((n = ::read(fds[0], buf, sizeof buf)) > 0) msg.append(buf, static_cast<size_t>(n));
  ::close(fds[0]);
  if (msg.rfind("ready ", 0) == 0) {
    std::string kc = msg.substr(6);
    while (!kc.empty() && kc.back() == '\n') kc.pop_back();
    std::printf("skiff ready in %ld ms — kubeconfig: %s\n", elapsedMs(start), kc.c_str());
    return 0;
  }
  if (msg.rfind("error ", 0) == 0) {
    while (!msg.empty() && msg.back() == '\n') msg.pop_back();
    std::fprintf(stderr, "error: %s\n", msg.substr(6).c_str());
  } else {
    std::fprintf(stderr, "error: the server exited before it was ready (see %s/skiff.log)\n",
                 dataDir.c_str());
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (ephemeral) {
    std::error_code ec;
    fs::remove_all(dataDir, ec);
  }
  return 1;
}

int runDown(int argc, char** argv) {
  std::string dataDir;
  std::string timeoutText = "30s";
  po::options_description desc;
  desc.add_options()("data-dir", po::value(&dataDir),
                     "The data directory of the cluster to stop (default /var/lib/skiff, or the "
                     "last detached --ephemeral one)")("timeout", po::value(&timeoutText),
                                                       "How long to wait for it to exit")(
      "help,h", po::bool_switch(), "Help for this command");
  po::variables_map vm;
  std::vector<std::string> args;
  if (auto err = parseFlags(argc, argv, desc, vm, args); !err.empty())
    return usageError("down", err);
  if (vm["help"].as<bool>()) {
    printHelp("skiff down [--data-dir DIR]",
              "Stop the cluster running from DIR (its pid is in DIR/skiff.pid): SIGTERM, then "
              "wait for it to exit. An --ephemeral cluster removes its directory as it stops.",
              "  # Stop the default cluster\n  skiff down\n\n  # Stop one in another directory\n  "
              "skiff down --data-dir /tmp/c1",
              desc);
    return 0;
  }
  auto timeout = parseDuration(timeoutText);
  if (!timeout) return usageError("down", timeout.error().message);
  int pid = 0;
  std::string where;
  if (!dataDir.empty()) {
    where = dataDir + "/skiff.pid";
    pid = readPid(where);
  } else {
    where = "/var/lib/skiff/skiff.pid";
    pid = readPid(where);
    if (!alive(pid)) {
      int epid = readPid(ephemeralMarker());
      if (alive(epid)) {
        pid = epid;
        where = ephemeralMarker();
      }
    }
  }
  if (!alive(pid)) {
    std::fprintf(stderr, "error: no running skiff found (%s)\n", where.c_str());
    return 1;
  }
  if (::kill(pid, SIGTERM) != 0) {
    std::fprintf(stderr, "error: kill %d: %s\n", pid, std::strerror(errno));
    return 1;
  }
  auto deadline = Clock::now() + *timeout;
  while (alive(pid) && Clock::now() < deadline) {
    // A detached server is not our child; poll until it is gone.
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (alive(pid)) {
    std::fprintf(stderr, "error: skiff (pid %d) did not stop within %s\n", pid,
                 timeoutText.c_str());
    return 1;
  }
  std::printf("skiff stopped (pid %d)\n", pid);
  return 0;
}

}  // namespace

int runUpCommand(int argc, char** argv) {
  return runUp(argc, argv);
}
int runDownCommand(int argc, char** argv) {
  return runDown(argc, argv);
}

}  // namespace skiff::ctl
