// The pure halves of the runtime: config.json from a ContainerConfig, the pod's
// /etc files, overlay options, container ids and runc's error text.
#include <catch2/catch.hpp>

#include <algorithm>

#include "kubelet/mounts.h"
#include "kubelet/oci_spec.h"
#include "kubelet/runc_runtime_util.h"
#include "kubelet/sandbox.h"

using skiff::api::Json;
using namespace skiff::kubelet;

namespace {

ContainerConfig baseConfig() {
  ContainerConfig c;
  c.podUid = "0b6f3c1e-1111-2222-3333-444455556666";
  c.name = "web";
  c.attempt = 2;
  c.image = "busybox";
  c.process.args = {"sleep", "3600"};
  c.process.env = {"PATH=/usr/bin:/bin", "HOSTNAME=web-0"};
  c.process.cwd = "/srv";
  c.process.uid = 1000;
  c.process.gid = 2000;
  c.process.additionalGids = {3000, 4000};
  return c;
}

SandboxInfo podSandbox() {
  SandboxInfo s;
  s.podUid = "0b6f3c1e-1111-2222-3333-444455556666";
  s.ip = "10.244.0.5";
  s.netnsPath = "/run/netns/skiff-0b6f3c1e-1111-2222-3333-444455556666";
  s.hostsPath = "/var/lib/skiff/pods/u/hosts";
  s.resolvPath = "/var/lib/skiff/pods/u/resolv.conf";
  s.hostnamePath = "/var/lib/skiff/pods/u/hostname";
  return s;
}

OciSpecOptions options() {
  OciSpecOptions o;
  o.hostname = "web-0";
  o.cgroupsPath = "skiff/0b6f3c1e-1111-2222-3333-444455556666_web_2";
  return o;
}

const Json* mountAt(const Json& spec, const std::string& dest) {
  for (const auto& m : spec["mounts"]) {
    if (m["destination"] == dest) return &m;
  }
  return nullptr;
}

std::vector<std::string> namespaceTypes(const Json& spec) {
  std::vector<std::string> out;
  for (const auto& n : spec["linux"]["namespaces"]) out.push_back(n["type"]);
  std::sort(out.begin(), out.end());
  return out;
}

bool hasOption(const Json& mount, const std::string& opt) {
  for (const auto& o : mount["options"]) {
    if (o == opt) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("config.json: process, root, hostname, namespaces and the pod's netns", "[oci]") {
  auto spec = buildOciSpec(baseConfig(), podSandbox(), options());
  REQUIRE(spec.ok());
  const Json& s = *spec;
  CHECK(s["ociVersion"] == "1.0.2");
  CHECK(s["process"]["args"] == Json({"sleep", "3600"}));
  CHECK(s["process"]["env"] == Json({"PATH=/usr/bin:/bin", "HOSTNAME=web-0"}));
  CHECK(s["process"]["cwd"] == "/srv");
  CHECK(s["process"]["terminal"] == false);
  CHECK(s["process"]["user"] ==
        Json({{"uid", 1000}, {"gid", 2000}, {"additionalGids", {3000, 4000}}}));
  CHECK(s["root"] == Json({{"path", "rootfs"}, {"readonly", false}}));
  CHECK(s["hostname"] == "web-0");
  CHECK(namespaceTypes(s) == std::vector<std::string>{"ipc", "mount", "network", "pid", "uts"});
  for (const auto& n : s["linux"]["namespaces"]) {
    if (n["type"] == "network")
      CHECK(n["path"] == podSandbox().netnsPath);
    else
      CHECK_FALSE(n.contains("path"));
  }
  CHECK(s["linux"]["cgroupsPath"] == "skiff/0b6f3c1e-1111-2222-3333-444455556666_web_2");
  // No limits asked: only the device rule.
  CHECK(s["linux"]["resources"] == Json({{"devices", {{{"allow", false}, {"access", "rwm"}}}}}));
  CHECK(s["linux"]["maskedPaths"].size() == 10);
  CHECK(s["linux"]["readonlyPaths"] ==
        Json({"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}));
}

TEST_CASE("config.json: default mounts, the pod's /etc files, then user mounts", "[oci]") {
  ContainerConfig c = baseConfig();
  c.mounts = {{"/data/cache", "/var/lib/skiff/pods/u/volumes/cache", false, false},
              {"/data", "/srv/data", true, false},
              {"/scratch", "tmpfs", false, true},
              {"/shared-mem", "/var/lib/skiff/pods/u/volumes/mem", false, true}};
  auto spec = buildOciSpec(c, podSandbox(), options());
  REQUIRE(spec.ok());
  std::vector<std::string> dests;
  for (const auto& m : (*spec)["mounts"]) dests.push_back(m["destination"]);
  CHECK(dests == std::vector<std::string>{"/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue",
                                          "/sys", "/sys/fs/cgroup", "/etc/hosts",
                                          "/etc/resolv.conf", "/etc/hostname", "/data", "/scratch",
                                          "/shared-mem", "/data/cache"});
  const Json* proc = mountAt(*spec, "/proc");
  CHECK((*proc)["type"] == "proc");
  CHECK(hasOption(*mountAt(*spec, "/sys"), "ro"));
  CHECK(hasOption(*mountAt(*spec, "/sys/fs/cgroup"), "ro"));
  CHECK((*mountAt(*spec, "/dev/shm"))["type"] == "tmpfs");
  CHECK(hasOption(*mountAt(*spec, "/dev/shm"), "size=65536k"));
  CHECK((*mountAt(*spec, "/dev/mqueue"))["type"] == "mqueue");
  CHECK((*mountAt(*spec, "/dev/pts"))["type"] == "devpts");
  const Json* hosts = mountAt(*spec, "/etc/hosts");
  CHECK((*hosts)["source"] == "/var/lib/skiff/pods/u/hosts");
  CHECK((*hosts)["type"] == "bind");
  CHECK(hasOption(*hosts, "rbind"));
  CHECK((*mountAt(*spec, "/etc/resolv.conf"))["source"] == "/var/lib/skiff/pods/u/resolv.conf");
  CHECK((*mountAt(*spec, "/etc/hostname"))["source"] == "/var/lib/skiff/pods/u/hostname");
  const Json* data = mountAt(*spec, "/data");
  CHECK((*data)["source"] == "/srv/data");
  CHECK(hasOption(*data, "ro"));
  CHECK(hasOption(*mountAt(*spec, "/data/cache"), "rw"));
  const Json* scratch = mountAt(*spec, "/scratch");
  CHECK((*scratch)["type"] == "tmpfs");
  CHECK((*scratch)["source"] == "tmpfs");
  // A memory emptyDir with a host directory: the runtime mounts the tmpfs there,
  // containers bind it (so the pod's containers share it).
  const Json* mem = mountAt(*spec, "/shared-mem");
  CHECK((*mem)["type"] == "bind");
  CHECK((*mem)["source"] == "/var/lib/skiff/pods/u/volumes/mem");
}

TEST_CASE("config.json: a user mount replaces the default at its path", "[oci]") {
  ContainerConfig c = baseConfig();
  c.mounts = {{"/etc/hosts/", "/custom/hosts", true, false}};
  auto spec = buildOciSpec(c, podSandbox(), options());
  REQUIRE(spec.ok());
  int n = 0;
  for (const auto& m : (*spec)["mounts"]) n += m["destination"] == "/etc/hosts";
  CHECK(n == 1);
  CHECK((*mountAt(*spec, "/etc/hosts"))["source"] == "/custom/hosts");
}

TEST_CASE("config.json: resources become cgroup limits", "[oci]") {
  ContainerConfig c = baseConfig();
  c.memoryLimitBytes = 8 << 20;
  c.cpuQuotaMicros = 50000;
  c.pidsLimit = 64;
  c.readOnlyRootfs = true;
  auto spec = buildOciSpec(c, podSandbox(), options());
  REQUIRE(spec.ok());
  const Json& r = (*spec)["linux"]["resources"];
  CHECK(r["memory"] == Json({{"limit", 8 << 20}, {"swap", 8 << 20}}));
  CHECK(r["cpu"] == Json({{"quota", 50000}, {"period", 100000}}));
  CHECK(r["pids"] == Json({{"limit", 64}}));
  CHECK((*spec)["root"]["readonly"] == true);
}

TEST_CASE("config.json: capabilities default, drop, add, ALL, privileged", "[oci]") {
  auto capsOf = [](const ContainerConfig& c, std::vector<std::string> available = {}) {
    OciSpecOptions o = options();
    o.availableCapabilities = std::move(available);
    auto spec = buildOciSpec(c, podSandbox(), o);
    REQUIRE(spec.ok());
    const Json& caps = (*spec)["process"]["capabilities"];
    CHECK(caps["bounding"] == caps["effective"]);
    CHECK(caps["bounding"] == caps["permitted"]);
    return caps["bounding"].get<std::vector<std::string>>();
  };
  ContainerConfig c = baseConfig();
  CHECK(capsOf(c) == defaultCapabilities());
  CHECK(defaultCapabilities().size() == 14);

  c.capDrop = {"NET_RAW", "mknod"};
  c.capAdd = {"NET_ADMIN", "CAP_SYS_TIME"};
  auto caps = capsOf(c);
  CHECK(std::find(caps.begin(), caps.end(), "CAP_NET_RAW") == caps.end());
  CHECK(std::find(caps.begin(), caps.end(), "CAP_MKNOD") == caps.end());
  CHECK(std::find(caps.begin(), caps.end(), "CAP_NET_ADMIN") != caps.end());
  CHECK(std::find(caps.begin(), caps.end(), "CAP_SYS_TIME") != caps.end());
  CHECK(caps.size() == 14);

  c.capDrop = {"ALL"};
  c.capAdd = {"NET_BIND_SERVICE"};
  CHECK(capsOf(c) == std::vector<std::string>{"CAP_NET_BIND_SERVICE"});
  c.capAdd = {};
  CHECK(capsOf(c).empty());

  c.capDrop = {};
  c.capAdd = {"ALL"};
  CHECK(capsOf(c, {"CAP_CHOWN", "CAP_KILL"}) == std::vector<std::string>{"CAP_CHOWN", "CAP_KILL"});
  CHECK(capsOf(c) == knownCapabilities());

  c.capAdd = {"NOT_A_CAP"};
  auto bad = buildOciSpec(c, podSandbox(), options());
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code == skiff::Code::kBadRequest);
  CHECK(bad.error().message == "unknown capability \"NOT_A_CAP\"");
}

TEST_CASE("config.json: privileged gets every capability, devices, writable sysfs", "[oci]") {
  ContainerConfig c = baseConfig();
  c.privileged = true;
  OciSpecOptions o = options();
  o.availableCapabilities = {"CAP_CHOWN", "CAP_SYS_ADMIN"};
  o.hostDevices = {{"/dev/fuse", 'c', 10, 229, 0666, 0, 0}};
  auto spec = buildOciSpec(c, podSandbox(), o);
  REQUIRE(spec.ok());
  CHECK((*spec)["process"]["capabilities"]["bounding"] == Json({"CAP_CHOWN", "CAP_SYS_ADMIN"}));
  CHECK((*spec)["linux"]["resources"]["devices"] == Json({{{"allow", true}, {"access", "rwm"}}}));
  CHECK((*spec)["linux"]["devices"] == Json({{{"path", "/dev/fuse"},
                                              {"type", "c"},
                                              {"major", 10},
                                              {"minor", 229},
                                              {"fileMode", 0666},
                                              {"uid", 0},
                                              {"gid", 0}}}));
  CHECK_FALSE((*spec)["linux"].contains("maskedPaths"));
  CHECK_FALSE((*spec)["linux"].contains("readonlyPaths"));
  CHECK(hasOption(*mountAt(*spec, "/sys"), "rw"));
}

TEST_CASE("config.json: hostNetwork shares the host's network and UTS namespaces", "[oci]") {
  SandboxInfo host = podSandbox();
  host.ip = "";
  host.netnsPath = "";
  auto spec = buildOciSpec(baseConfig(), host, options());
  REQUIRE(spec.ok());
  CHECK(namespaceTypes(*spec) == std::vector<std::string>{"ipc", "mount", "pid"});
  CHECK_FALSE(spec->contains("hostname"));
}

TEST_CASE("config.json: refuses what runc could not run", "[oci]") {
  ContainerConfig c = baseConfig();
  c.process.args = {};
  CHECK(buildOciSpec(c, podSandbox(), options()).error().code == skiff::Code::kBadRequest);
  c = baseConfig();
  c.mounts = {{"relative/path", "/x", false, false}};
  CHECK(buildOciSpec(c, podSandbox(), options()).error().code == skiff::Code::kBadRequest);
  c.mounts = {{"/x", "relative", false, false}};
  CHECK(buildOciSpec(c, podSandbox(), options()).error().code == skiff::Code::kBadRequest);
}

TEST_CASE("pod /etc files as the kubelet writes them", "[sandbox]") {
  std::string hosts = podHostsFile("10.244.0.5", "web-0", {{"1.2.3.4", {"foo", "foo.local"}}});
  CHECK(hosts ==
        "# Kubernetes-managed hosts file.\n"
        "127.0.0.1\tlocalhost\n"
        "::1\tlocalhost ip6-localhost ip6-loopback\n"
        "fe00::0\tip6-localnet\n"
        "fe00::0\tip6-mcastprefix\n"
        "fe00::1\tip6-allnodes\n"
        "fe00::2\tip6-allrouters\n"
        "10.244.0.5\tweb-0\n"
        "\n# Entries added by HostAliases.\n"
        "1.2.3.4\tfoo\tfoo.local\n");
  CHECK(hostNetworkHostsFile("127.0.0.1 localhost", {}) ==
        "# Kubernetes-managed hosts file (host network).\n127.0.0.1 localhost\n");
  CHECK(resolvConf({"10.96.0.10"},
                   {"default.svc.cluster.local", "svc.cluster.local", "cluster.local"}, {"ndots:5"},
                   "nameserver 9.9.9.9\n") ==
        "search default.svc.cluster.local svc.cluster.local cluster.local\n"
        "nameserver 10.96.0.10\n"
        "options ndots:5\n");
  CHECK(resolvConf({}, {}, {}, "nameserver 9.9.9.9\n") == "nameserver 9.9.9.9\n");
}

TEST_CASE("overlay options, container ids, runc's error text", "[runtime]") {
  auto o = overlayOptions({"/l/top", "/l/base"}, "/c/upper", "/c/work");
  REQUIRE(o.ok());
  CHECK(*o == "lowerdir=/l/top:/l/base,upperdir=/c/upper,workdir=/c/work");
  CHECK_FALSE(overlayOptions({}, "/u", "/w").ok());
  CHECK_FALSE(overlayOptions({"/a:b"}, "/u", "/w").ok());
  CHECK_FALSE(overlayOptions(std::vector<std::string>(60, std::string(80, 'x')), "/u", "/w").ok());

  using namespace skiff::kubelet::runtime_detail;
  auto p = containerPaths("/d/pods", "0b6f3c1e-11_web-1_3");
  REQUIRE(p.ok());
  CHECK(p->podUid == "0b6f3c1e-11");
  CHECK(p->name == "web-1");
  CHECK(p->attempt == 3);
  CHECK(p->dir == "/d/pods/0b6f3c1e-11/containers/0b6f3c1e-11_web-1_3");
  CHECK(p->exitFile == "/d/pods/0b6f3c1e-11/exits/0b6f3c1e-11_web-1_3");
  CHECK(p->log == "/d/pods/0b6f3c1e-11/logs/web-1/3.log");
  for (const char* bad : {"x", "a_b", "a__1", "a_B_1", "../x_web_1", "a_web_x", "a_web_-1"}) {
    INFO(bad);
    CHECK_FALSE(containerPaths("/d/pods", bad).ok());
  }

  std::string out =
      "time=\"2026-11-27T02:16:53Z\" level=warning msg=\"something minor\"\n"
      "time=\"2026-11-27T02:16:53Z\" level=error msg=\"runc create failed: unable to start "
      "container "
      "process: exec: \\\"nosuch\\\": executable file not found in $PATH\"\n";
  CHECK(runcErrorMessage(out) ==
        "runc create failed: unable to start container process: exec: \"nosuch\": executable file "
        "not found in $PATH");
  CHECK(runcErrorMessage("  plain failure\n") == "plain failure");
}
