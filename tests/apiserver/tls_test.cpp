// PKI generation: files, modes, SANs, reuse.

#include "apiserver/tls.h"

#include <catch2/catch.hpp>
#include <filesystem>

#include "base/file.h"
#include "tests/test_util.h"

namespace skiff::apiserver {
namespace {

using skiff::testing::modeOf;

std::string tempDir() {
  return skiff::testing::makeTempDir("tls-test");
}

std::string hostName() {
  char h[256] = {};
  gethostname(h, sizeof h - 1);
  return h;
}

TEST_CASE("ensurePki creates a CA and a server certificate with the right SANs", "[tls]") {
  auto dir = tempDir();
  auto pki = ensurePki(dir, {"10.1.2.3", "0.0.0.0"});
  REQUIRE(pki.ok());
  CHECK(modeOf(dir + "/pki") == 0700);
  CHECK(modeOf(pki->caKey) == 0600);
  CHECK(modeOf(pki->serverKey) == 0600);
  CHECK(modeOf(pki->caCert) == 0644);
  CHECK(pki->caPem.rfind("-----BEGIN CERTIFICATE-----", 0) == 0);
  auto pem = readWholeFile(pki->serverCert);
  REQUIRE(pem.ok());
  auto sans = certificateSans(*pem);
  REQUIRE(sans.ok());
  auto has = [&](const std::string& s) {
    return std::find(sans->begin(), sans->end(), s) != sans->end();
  };
  CHECK(has("IP:127.0.0.1"));
  CHECK(has("IP:0:0:0:0:0:0:0:1"));
  CHECK(has("DNS:localhost"));
  CHECK(has("DNS:" + hostName()));
  CHECK(has("IP:10.1.2.3"));
  // The CA is not a server certificate.
  auto caSans = certificateSans(pki->caPem);
  REQUIRE(caSans.ok());
  CHECK(caSans->empty());
  std::filesystem::remove_all(dir);
}

TEST_CASE("ensurePki reuses existing material and re-issues for a new SAN", "[tls]") {
  auto dir = tempDir();
  auto first = ensurePki(dir, {});
  REQUIRE(first.ok());
  auto key1 = readWholeFile(first->serverKey);
  auto ca1 = first->caPem;
  auto second = ensurePki(dir, {});
  REQUIRE(second.ok());
  CHECK(*readWholeFile(second->serverKey) == *key1);  // no regeneration on restart
  CHECK(second->caPem == ca1);
  auto third = ensurePki(dir, {"192.168.77.7"});
  REQUIRE(third.ok());
  CHECK(third->caPem == ca1);  // same CA: old kubeconfigs stay valid
  CHECK(*readWholeFile(third->serverKey) != *key1);
  auto sans = certificateSans(*readWholeFile(third->serverCert));
  REQUIRE(sans.ok());
  CHECK(std::find(sans->begin(), sans->end(), "IP:192.168.77.7") != sans->end());
  std::filesystem::remove_all(dir);
}

// readWholeFile and writeFileAtomic are tested with them, in tests/base/file_test.cpp.

}  // namespace
}  // namespace skiff::apiserver
