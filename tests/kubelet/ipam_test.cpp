// IPAM: prefixes, allocation order, reuse after release, persistence across
// instances (a kubelet restart), exhaustion, and concurrent allocators.
#include <catch2/catch.hpp>

#include <stdlib.h>

#include <filesystem>
#include <set>
#include <thread>

#include "kubelet/ipam.h"
#include "tests/test_util.h"

using skiff::kubelet::formatIpv4;
using skiff::kubelet::Ipam;
using skiff::kubelet::parseIpv4;
using skiff::kubelet::parseIpv4Prefix;
namespace fs = std::filesystem;

namespace {

}  // namespace

TEST_CASE("IPv4 prefixes parse and bound their range", "[ipam]") {
  auto p = parseIpv4Prefix("10.244.0.0/24");
  REQUIRE(p.ok());
  CHECK(formatIpv4(p->network()) == "10.244.0.0");
  CHECK(formatIpv4(p->broadcast()) == "10.244.0.255");
  CHECK(p->contains(*parseIpv4("10.244.0.9")));
  CHECK_FALSE(p->contains(*parseIpv4("10.244.1.9")));
  auto wide = parseIpv4Prefix("10.244.0.1/16");
  REQUIRE(wide.ok());
  CHECK(formatIpv4(wide->address) == "10.244.0.1");
  CHECK(formatIpv4(wide->network()) == "10.244.0.0");
  CHECK(wide->contains(p->network()));
  for (const char* bad :
       {"10.244.0.0", "10.244.0.0/33", "10.244.0/24", "x/8", "10.0.0.0/", "10.0.0.0/-1"}) {
    INFO(bad);
    auto r = parseIpv4Prefix(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == skiff::Code::kBadRequest);
  }
}

TEST_CASE("allocation skips network, broadcast and reserved; an owner keeps its address",
          "[ipam]") {
  skiff::testing::ScopedTempDir t("ipam-test");
  auto ipam = Ipam::open(t.path + "/ipam", "10.9.0.0/29", {"10.9.0.1"});
  REQUIRE(ipam.ok());
  auto a = (*ipam)->allocate("pod-a");
  REQUIRE(a.ok());
  CHECK(*a == "10.9.0.2");
  CHECK(*(*ipam)->allocate("pod-a") == "10.9.0.2");  // idempotent
  CHECK(*(*ipam)->allocate("pod-b") == "10.9.0.3");
  CHECK((*ipam)->leaseOf("pod-b")->value() == "10.9.0.3");
  CHECK_FALSE((*ipam)->leaseOf("pod-z")->has_value());
  auto leases = (*ipam)->leases();
  REQUIRE(leases.ok());
  CHECK(leases->size() == 2);
  CHECK(leases->at("10.9.0.2") == "pod-a");
}

TEST_CASE("released addresses come back only after the others; full range is an error", "[ipam]") {
  skiff::testing::ScopedTempDir t("ipam-test");
  auto ipam = Ipam::open(t.path, "10.9.0.0/29", {"10.9.0.1"});
  REQUIRE(ipam.ok());
  // /29: .1 reserved, .0 and .7 not usable: .2 .. .6 are five addresses.
  std::vector<std::string> got;
  for (int i = 0; i < 5; ++i) {
    auto a = (*ipam)->allocate("p" + std::to_string(i));
    REQUIRE(a.ok());
    got.push_back(*a);
  }
  CHECK(got ==
        std::vector<std::string>{"10.9.0.2", "10.9.0.3", "10.9.0.4", "10.9.0.5", "10.9.0.6"});
  auto full = (*ipam)->allocate("p5");
  REQUIRE_FALSE(full.ok());
  CHECK(full.error().code == skiff::Code::kUnavailable);
  CHECK(full.error().message == "no free address in 10.9.0.0/29");
  REQUIRE((*ipam)->release("p1").ok());
  REQUIRE((*ipam)->release("p1").ok());  // idempotent
  REQUIRE((*ipam)->release("never").ok());
  CHECK(*(*ipam)->allocate("p6") == "10.9.0.3");
  // Round robin: the search goes on after the last address handed out (.3), so
  // .5 comes before the lower .2, released earlier; then it wraps around.
  REQUIRE((*ipam)->release("p0").ok());
  REQUIRE((*ipam)->release("p3").ok());
  CHECK(*(*ipam)->allocate("p7") == "10.9.0.5");
  CHECK(*(*ipam)->allocate("p8") == "10.9.0.2");
}

TEST_CASE("leases persist: a new instance over the same directory sees them", "[ipam]") {
  skiff::testing::ScopedTempDir t("ipam-test");
  std::string a, b;
  {
    auto ipam = Ipam::open(t.path + "/x", "10.9.1.0/24", {"10.9.1.1"});
    REQUIRE(ipam.ok());
    a = *(*ipam)->allocate("uid-a");
    b = *(*ipam)->allocate("uid-b");
  }
  auto again = Ipam::open(t.path + "/x", "10.9.1.0/24", {"10.9.1.1"});
  REQUIRE(again.ok());
  CHECK(*(*again)->allocate("uid-a") == a);
  CHECK(*(*again)->allocate("uid-b") == b);
  std::string c = *(*again)->allocate("uid-c");
  CHECK(c != a);
  CHECK(c != b);
  // No temp files are left next to the leases.
  for (const auto& e : fs::directory_iterator(t.path + "/x")) {
    std::string n = e.path().filename();
    CHECK((parseIpv4(n).ok() || n == "last_reserved_ip"));
  }
}

TEST_CASE("concurrent allocators (two instances, several threads) never share an address",
          "[ipam]") {
  skiff::testing::ScopedTempDir t("ipam-test");
  auto one = Ipam::open(t.path, "10.9.2.0/24", {"10.9.2.1"});
  auto two = Ipam::open(t.path, "10.9.2.0/24", {"10.9.2.1"});
  REQUIRE(one.ok());
  REQUIRE(two.ok());
  std::vector<std::string> results(80);
  std::vector<std::thread> threads;
  for (int th = 0; th < 8; ++th) {
    threads.emplace_back([&, th] {
      Ipam& ipam = th % 2 ? **one : **two;
      for (int i = 0; i < 10; ++i) {
        auto a = ipam.allocate("o" + std::to_string(th * 10 + i));
        results[th * 10 + i] = a.ok() ? *a : "error: " + a.error().message;
      }
    });
  }
  for (auto& th : threads) th.join();
  std::set<std::string> unique(results.begin(), results.end());
  CHECK(unique.size() == results.size());
  for (const auto& r : results) CHECK(r.rfind("10.9.2.", 0) == 0);
}

TEST_CASE("unusable ranges are refused", "[ipam]") {
  skiff::testing::ScopedTempDir t("ipam-test");
  auto tiny = Ipam::open(t.path, "10.9.3.0/31");
  REQUIRE_FALSE(tiny.ok());
  CHECK(tiny.error().code == skiff::Code::kBadRequest);
  auto badReserved = Ipam::open(t.path, "10.9.3.0/24", {"nope"});
  REQUIRE_FALSE(badReserved.ok());
}
