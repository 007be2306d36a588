#include "base/url.h"

#include <catch2/catch.hpp>

using namespace skiff;

TEST_CASE("percentDecode decodes escapes in either case, '+' only in queries", "[url]") {
  std::string out;
  REQUIRE(percentDecode("a%20b%2Fc%2fd", false, out));
  CHECK(out == "a b/c/d");
  REQUIRE(percentDecode("x=a+b%3D", true, out));
  CHECK(out == "x=a b=");
  REQUIRE(percentDecode("a+b", false, out));
  CHECK(out == "a+b");
  REQUIRE(percentDecode("", true, out));
  CHECK(out.empty());
}

TEST_CASE("percentDecode refuses a '%' without two hex digits", "[url]") {
  std::string out;
  CHECK_FALSE(percentDecode("%zz", false, out));
  CHECK_FALSE(percentDecode("abc%2", false, out));
  CHECK_FALSE(percentDecode("abc%", true, out));
  CHECK_FALSE(percentDecode("%g0", true, out));
}

TEST_CASE("splitPath keeps the non-empty segments", "[url]") {
  CHECK(splitPath("/api/v1/pods") == std::vector<std::string>{"api", "v1", "pods"});
  CHECK(splitPath("//api//v1/") == std::vector<std::string>{"api", "v1"});
  CHECK(splitPath("/").empty());
  CHECK(splitPath("").empty());
}

TEST_CASE("parseQuery decodes pairs in order, repeats kept, empty pairs skipped", "[url]") {
  std::multimap<std::string, std::string> q{{"stale", "1"}};
  REQUIRE(parseQuery("command=sh&command=-c&x=a+b%3D&&flag&=v", q));
  CHECK(q == std::multimap<std::string, std::string>{
                 {"command", "sh"}, {"command", "-c"}, {"x", "a b="}, {"flag", ""}, {"", "v"}});
  auto [first, last] = q.equal_range("command");
  CHECK(first->second == "sh");
  CHECK(std::next(first)->second == "-c");
  REQUIRE(parseQuery("", q));
  CHECK(q.empty());
  CHECK_FALSE(parseQuery("a=%zz", q));
  CHECK_FALSE(parseQuery("%2=b", q));
}

TEST_CASE("parsePort and parsePortList take decimal ports from 1 to 65535", "[url]") {
  CHECK(parsePort("1") == uint16_t(1));
  CHECK(parsePort("8080") == uint16_t(8080));
  CHECK(parsePort("65535") == uint16_t(65535));
  for (const char* bad : {"", "0", "65536", "99999", "080x", " 80", "+80", "-1", "123456"})
    CHECK_FALSE(parsePort(bad));
  CHECK(parsePortList("8080,9000,81") == std::vector<uint16_t>{8080, 9000, 81});
  CHECK(parsePortList("53") == std::vector<uint16_t>{53});
  for (const char* bad : {"", ",", "80,", ",80", "80,,81", "80,http"})
    CHECK_FALSE(parsePortList(bad));
}
