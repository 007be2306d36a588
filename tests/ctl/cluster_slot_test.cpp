// Cluster slots: the ranges a slot gives, and claims that are unique while
// held and free again when their holder goes (kill -9 included). No root: the
// claims live in a temporary directory of the test's own.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <string>

#include "ctl/cluster.h"
#include "ctl/cluster_slot.h"
#include "tests/test_util.h"

using namespace skiff;
using namespace skiff::ctl;

namespace {

// Reads one line from fd (the child's report).
std::string readLine(int fd) {
  std::string out;
  char c;
  while (::read(fd, &c, 1) == 1 && c != '\n') out += c;
  return out;
}

// Forks a child that claims a slot under dir, then runs `then` (may be
// empty) and reports "SLOT" or "SLOT THEN-RESULT" as one line, which lands in
// `report`. With `stay` the child then waits to be killed; otherwise it
// exits at once without destructors (the kernel closes its descriptors).
pid_t forkClaimer(const std::string& dir, const std::function<std::string()>& then, bool stay,
                  std::string& report) {
  int fds[2];
  if (::pipe(fds) != 0) return -1;
  pid_t child = ::fork();
  if (child == 0) {
    ::close(fds[0]);
    auto c = SlotClaim::claim(dir);
    std::string line = std::to_string(c.ok() ? c->slot() : -1);
    if (then) line += " " + then();
    line += "\n";
    (void)!::write(fds[1], line.data(), line.size());
    if (stay) ::pause();  // until killed
    ::_exit(0);
  }
  ::close(fds[1]);
  report = child > 0 ? readLine(fds[0]) : "";
  ::close(fds[0]);
  return child;
}

}  // namespace

TEST_CASE("slotNetwork: disjoint ranges per slot, DNS at the service range's .10", "[slot]") {
  SlotNetwork one = slotNetwork(1);
  CHECK(one.podCidr == "10.244.1.0/24");
  CHECK(one.bridgeAddress == "10.244.1.1/24");
  CHECK(one.serviceCidr == "10.96.16.0/20");
  CHECK(one.clusterDns == "10.96.16.10");
  CHECK(one.loadBalancerCidr == "10.255.1.0/24");
  CHECK(slotNetwork(15).serviceCidr == "10.96.240.0/20");
  CHECK(slotNetwork(16).serviceCidr == "10.97.0.0/20");
  CHECK(slotNetwork(16).clusterDns == "10.97.0.10");
  // The last slot's /20 ends at 10.111.223.255, inside 10.96.0.0/12.
  SlotNetwork last = slotNetwork(kLastSlot);
  CHECK(last.serviceCidr == "10.111.208.0/20");
  CHECK(last.podCidr == "10.244.253.0/24");
  CHECK(last.loadBalancerCidr == "10.255.253.0/24");
  // None of them is the default cluster's: 10.96.0.1 and 10.96.0.10 are in
  // 10.96.0.0/20, which would be slot 0.
  CHECK(slotNetwork(0).serviceCidr == "10.96.0.0/20");
  CHECK(kFirstSlot == 1);
}

TEST_CASE("useSlot: the slot's ranges except the ones given as flags", "[slot]") {
  ClusterOptions o;
  useSlot(o, slotNetwork(7), {});
  CHECK(o.podCidr == "10.244.7.0/24");
  CHECK(o.bridgeAddress == "10.244.7.1/24");
  CHECK(o.serviceCidr == "10.96.112.0/20");
  CHECK(o.clusterDns == "10.96.112.10");
  CHECK(o.loadBalancerCidr == "10.255.7.0/24");
  // netproxy refuses every slot's ranges, not only its own.
  CHECK(o.refusedServiceCidr == "10.96.0.0/12");
  CHECK(o.refusedLoadBalancerCidr == "10.255.0.0/16");

  ClusterOptions given;
  given.podCidr = "10.244.99.0/24";
  given.bridgeAddress = "10.244.99.1/24";
  given.serviceCidr = "10.100.0.0/16";
  given.clusterDns = "10.100.0.53";
  useSlot(given, slotNetwork(7), {"pod-cidr", "service-cidr"});
  CHECK(given.podCidr == "10.244.99.0/24");
  CHECK(given.bridgeAddress == "10.244.99.1/24");
  CHECK(given.serviceCidr == "10.100.0.0/16");
  CHECK(given.clusterDns == "10.100.0.53");  // belongs to the given service range
  CHECK(given.loadBalancerCidr == "10.255.7.0/24");

  // A given DNS address keeps the service range it lies in.
  ClusterOptions dns;
  dns.clusterDns = "10.96.0.53";
  useSlot(dns, slotNetwork(7), {"cluster-dns"});
  CHECK(dns.serviceCidr == "10.96.0.0/12");
  CHECK(dns.clusterDns == "10.96.0.53");
  CHECK(dns.podCidr == "10.244.7.0/24");
}

TEST_CASE("SlotClaim: two claims in one process get different slots; release frees one", "[slot]") {
  skiff::testing::ScopedTempDir dir("slot-test");
  auto a = SlotClaim::claim(dir.path);
  REQUIRE(a.ok());
  auto b = SlotClaim::claim(dir.path);
  REQUIRE(b.ok());
  CHECK(a->slot() == 1);
  CHECK(b->slot() == 2);
  CHECK(std::filesystem::exists(dir.path + "/1.lock"));

  // Released: the file goes, and the lowest free slot is handed out again.
  a->release();
  CHECK(a->slot() == 0);
  CHECK_FALSE(std::filesystem::exists(dir.path + "/1.lock"));
  auto c = SlotClaim::claim(dir.path);
  REQUIRE(c.ok());
  CHECK(c->slot() == 1);

  // A moved claim stays held; the moved-from one releases nothing.
  SlotClaim moved = std::move(*c);
  CHECK(moved.slot() == 1);
  auto d = SlotClaim::claim(dir.path);
  REQUIRE(d.ok());
  CHECK(d->slot() == 3);
}

TEST_CASE("SlotClaim: unusable slots are skipped; a full range is an error", "[slot]") {
  skiff::testing::ScopedTempDir dir("slot-test");
  auto a = SlotClaim::claim(dir.path, [](int n) { return n != 1 && n != 2; });
  REQUIRE(a.ok());
  CHECK(a->slot() == 3);
  CHECK_FALSE(std::filesystem::exists(dir.path + "/1.lock"));  // tried, not kept

  auto b = SlotClaim::claim(dir.path, {}, 3, 4);
  REQUIRE(b.ok());
  CHECK(b->slot() == 4);
  auto full = SlotClaim::claim(dir.path, {}, 3, 4);
  REQUIRE_FALSE(full.ok());
  CHECK(full.error().code == Code::kUnavailable);
  CHECK(full.error().message.find("no free cluster slot") != std::string::npos);
}

TEST_CASE("SlotClaim: a claim is released when its holder dies, even by kill -9", "[slot]") {
  skiff::testing::ScopedTempDir dir("slot-test");
  std::string slot;
  pid_t child = forkClaimer(dir.path, {}, /*stay=*/true, slot);
  REQUIRE(child > 0);
  CHECK(slot == "1");

  // While the child holds slot 1, this process gets another one.
  {
    auto other = SlotClaim::claim(dir.path);
    REQUIRE(other.ok());
    CHECK(other->slot() == 2);
  }
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  CHECK(WIFSIGNALED(status));
  // Its lock file is still there (nobody unlinked it), but the lock is gone.
  CHECK(std::filesystem::exists(dir.path + "/1.lock"));
  auto again = SlotClaim::claim(dir.path);
  REQUIRE(again.ok());
  CHECK(again->slot() == 1);
}

TEST_CASE("SlotClaim: programs the holder starts do not inherit the claim", "[slot]") {
  // `skiff up` starts conmon and runc, and a conmon may outlive it: the claim
  // must end with the holder anyway (O_CLOEXEC).
  skiff::testing::ScopedTempDir dir("slot-test");
  std::string line;
  pid_t child = forkClaimer(
      dir.path,
      [] {
        // Until its exec the forked child holds a copy of every descriptor; a
        // close-on-exec pipe tells when the exec has happened.
        int execed[2];
        if (::pipe2(execed, O_CLOEXEC) != 0) ::_exit(1);
        pid_t sleeper = ::fork();
        if (sleeper == 0) {
          ::execl("/bin/sleep", "sleep", "30", static_cast<char*>(nullptr));
          ::_exit(127);
        }
        ::close(execed[1]);
        char ignored;
        while (::read(execed[0], &ignored, 1) > 0) {
        }
        return std::to_string(sleeper);
      },
      /*stay=*/false, line);
  REQUIRE(child > 0);
  ::waitpid(child, nullptr, 0);
  REQUIRE(line.find(' ') != std::string::npos);
  pid_t sleeper = std::stoi(line.substr(line.find(' ') + 1));
  CHECK(line.substr(0, line.find(' ')) == "1");
  auto again = SlotClaim::claim(dir.path);
  if (sleeper > 0) ::kill(sleeper, SIGKILL);  // ours (a grandchild); init reaps it
  REQUIRE(again.ok());
  CHECK(again->slot() == 1);
}
