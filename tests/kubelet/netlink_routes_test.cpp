// [root] tests of the host routes netlink.h writes for a cluster's ranges,
// against the real kernel: two bridges of the test's own (skr<hex>), with
// addresses of 198.18.0.0/15 (benchmarking space; nothing is sent), and a
// routing table no rule points at, so the routes steer no packet. The
// fixture deletes both bridges however the test ends; their routes go with
// them.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "kubelet/netlink.h"
#include "tests/test_util.h"

using namespace skiff::kubelet;

namespace {

struct TwoBridges {
  std::string a, b;
  int table = 0;
  TwoBridges() {
    std::random_device rd;
    std::ostringstream tag;
    tag << std::hex << (rd() & 0xffffff);
    a = "skr" + tag.str() + "a";
    b = "skr" + tag.str() + "b";
    table = 40000 + static_cast<int>(rd() % 20000);
  }
  ~TwoBridges() {
    (void)netlink::deleteLink(a);
    (void)netlink::deleteLink(b);
  }
};

// The devices of table's routes to prefix, as `ip route` lists them.
std::vector<std::string> routeDevices(int table, const std::string& prefix) {
  auto [rc, out] = skiff::testing::runCommand("ip -4 -o route show table " + std::to_string(table) +
                                              " exact " + prefix);
  if (rc != 0 && out.find("table does not exist") != std::string::npos) return {};  // no route yet
  REQUIRE(rc == 0);
  std::vector<std::string> devices;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream words(line);
    for (std::string w; words >> w;) {
      if (w == "dev" && words >> w) devices.push_back(w);
    }
  }
  std::sort(devices.begin(), devices.end());
  return devices;
}

}  // namespace

TEST_CASE("replaceLinkRoute: two links' routes of one prefix stay side by side",
          "[root][netlink]") {
  TwoBridges t;
  REQUIRE(netlink::ensureBridge(t.a, "198.18.201.1/24").ok());
  REQUIRE(netlink::ensureBridge(t.b, "198.18.202.1/24").ok());
  const std::string prefix = "10.96.240.0/20";
  REQUIRE(routeDevices(t.table, prefix).empty());

  REQUIRE(netlink::replaceLinkRoute(prefix, t.a, t.table).ok());
  REQUIRE(netlink::replaceLinkRoute(prefix, t.b, t.table).ok());
  CHECK(routeDevices(t.table, prefix) == std::vector<std::string>{t.a, t.b});

  // Again (a restarted cluster): its own route is replaced, not doubled.
  REQUIRE(netlink::replaceLinkRoute(prefix, t.a, t.table).ok());
  CHECK(routeDevices(t.table, prefix) == std::vector<std::string>{t.a, t.b});

  // One cluster going leaves the other's route.
  REQUIRE(netlink::deleteLink(t.a).ok());
  CHECK(routeDevices(t.table, prefix) == std::vector<std::string>{t.b});
}
