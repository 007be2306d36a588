// The kubelet server's request helpers.
#include "kubelet/http_conn.h"

#include <catch2/catch.hpp>

using namespace skiff::kubelet;

TEST_CASE("listsToken compares a header's comma-separated items exactly", "[http_conn]") {
  const std::string kubectl = "v5.channel.k8s.io, v4.channel.k8s.io,\tchannel.k8s.io";
  CHECK(listsToken(kubectl, "v5.channel.k8s.io"));
  CHECK(listsToken(kubectl, "v4.channel.k8s.io"));
  CHECK(listsToken(kubectl, "channel.k8s.io"));
  CHECK(listsToken("SPDY/3.1+portforward.k8s.io", "SPDY/3.1+portforward.k8s.io"));
  // A substring of an item is not the item.
  CHECK_FALSE(listsToken("SPDY/3.1+portforward.k8s.io", "portforward.k8s.io"));
  CHECK_FALSE(listsToken("v4.base64.channel.k8s.io", "channel.k8s.io"));
  CHECK_FALSE(listsToken("", "v4.channel.k8s.io"));
  CHECK_FALSE(listsToken(",,", "v4.channel.k8s.io"));
}
