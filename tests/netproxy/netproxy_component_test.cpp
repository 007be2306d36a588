// The NetProxy component against a real apiserver and a FakeNftExecutor (no
// root): what it sends to the kernel, not what the kernel does with it.
#include <unistd.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <functional>
#include <mutex>
#include <thread>

#include "netproxy/netproxy.h"
#include "tests/test_apiserver.h"

using namespace skiff;
using namespace skiff::netproxy;
using api::Json;

namespace {

bool eventually(const std::function<bool()>& pred) {
  for (int i = 0; i < 500; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return pred();
}

// The fake behind a mutex: the sync thread applies while the test reads.
class LockedNft : public NftExecutor {
 public:
  Status apply(const std::string& t) override {
    std::lock_guard<std::mutex> l(mu_);
    return fake_.apply(t);
  }
  Result<std::string> listJson(const std::string& c) override {
    std::lock_guard<std::mutex> l(mu_);
    return fake_.listJson(c);
  }
  Result<std::set<std::string>> setNames(const std::string& t) override {
    std::lock_guard<std::mutex> l(mu_);
    return fake_.setNames(t);
  }
  Result<std::map<std::string, int>> ruleCounts(const std::string& t) override {
    std::lock_guard<std::mutex> l(mu_);
    return fake_.ruleCounts(t);
  }
  Status refill(const std::string& t, const std::set<std::string>& f,
                const ElementsBySet& e) override {
    std::lock_guard<std::mutex> l(mu_);
    return fake_.refill(t, f, e);
  }
  template <typename F>
  auto with(F f) {
    std::lock_guard<std::mutex> l(mu_);
    return f(fake_);
  }

 private:
  std::mutex mu_;
  FakeNftExecutor fake_;
};

}  // namespace

TEST_CASE("netproxy component: takes over an existing table, then syncs partially",
          "[netproxy-unit]") {
  skiff::testing::TestApiServer api("netproxy-unit");
  LockedNft nft;
  nft.with([](FakeNftExecutor& f) {
    f.setTableSets({"svc", "nodeport", "aff", "cluster_ips"});  // a previous netproxy's table
    return 0;
  });
  NetProxyOptions o;
  o.table = "skiff_unit";
  o.nodeAddresses = {"127.0.0.1"};
  o.dns = false;
  o.executor = &nft;
  o.resyncPeriod = std::chrono::hours(1);
  NetProxy proxy(api.config, o);
  REQUIRE(proxy.start().ok());
  REQUIRE(proxy.waitForSync(std::chrono::seconds(10)));
  CHECK(proxy.stats().lastFull.mode == "refill");  // kept, not recreated

  REQUIRE(api.client->post(
      "/api/v1/namespaces/default/endpoints",
      Json{{"metadata", {{"name", "web"}}},
           {"subsets", Json::array({{{"addresses", Json::array({{{"ip", "10.244.0.9"}}})},
                                     {"ports", Json::array({{{"port", 8080}}})}}})}}));
  REQUIRE(api.client->post(
      "/api/v1/namespaces/default/services",
      Json{{"metadata", {{"name", "web"}}},
           {"spec", {{"clusterIP", "10.96.5.5"}, {"ports", Json::array({{{"port", 80}}})}}}}));
  // A partial sync programs web's endpoint (ep_1 key -> endpoint).
  CHECK(eventually([&] {
    return nft.with([](FakeNftExecutor& f) {
      for (const auto& t : f.applied)
        if (t.find("10.96.5.5 . tcp . 80 . 0 : 10.244.0.9 . 8080") != std::string::npos)
          return true;
      return false;
    });
  }));
  CHECK(proxy.stats().last.mode == "partial");
  proxy.stop();
  bool deleted = nft.with([](FakeNftExecutor& f) {
    for (const auto& t : f.applied)
      if (t.find("delete table") != std::string::npos) return true;
    return false;
  });
  CHECK_FALSE(deleted);  // neither start nor stop removes the table
  CHECK(proxy.stats().failures == 0);
}

TEST_CASE("netproxy component: a failed sync makes the next one full", "[netproxy-unit]") {
  skiff::testing::TestApiServer api("netproxy-unit");
  LockedNft nft;
  NetProxyOptions o;
  o.table = "skiff_unit2";
  o.nodeAddresses = {"127.0.0.1"};
  o.dns = false;
  o.executor = &nft;
  o.resyncPeriod = std::chrono::hours(1);
  NetProxy proxy(api.config, o);
  REQUIRE(proxy.start().ok());
  REQUIRE(proxy.waitForSync(std::chrono::seconds(10)));
  uint64_t fulls = proxy.stats().fullSyncs;
  nft.with([](FakeNftExecutor& f) {
    f.failNext(1);
    return 0;
  });
  REQUIRE(api.client->post(
      "/api/v1/namespaces/default/services",
      Json{{"metadata", {{"name", "a"}}}, {"spec", {{"ports", Json::array({{{"port", 80}}})}}}}));
  CHECK(eventually([&] { return proxy.stats().failures == 1; }));
  CHECK(eventually([&] {
    return proxy.stats().fullSyncs > fulls && proxy.stats().failures == 1 && proxy.stats().last.ok;
  }));
  proxy.stop();
}
