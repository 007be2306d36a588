// parseJson / parseStoredJson build with skiff's own reader and fall back to
// nlohmann for what it declines: whatever the text, the result must be what
// nlohmann's parser gives — same values, same number types, same failures.
#include <catch2/catch.hpp>

#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "api/json.h"

using skiff::api::Json;
using skiff::api::parseJson;
using skiff::api::parseStoredJson;

namespace {

// The same value with the same types all the way down (== alone treats 1u and
// 1 and 1.0 as equal).
bool sameTree(const Json& a, const Json& b) {
  if (a.type() != b.type()) return false;
  if (a.is_object()) {
    if (a.size() != b.size()) return false;
    for (auto it = a.begin(), jt = b.begin(); it != a.end(); ++it, ++jt)
      if (it.key() != jt.key() || !sameTree(*it, *jt)) return false;
    return true;
  }
  if (a.is_array()) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
      if (!sameTree(a[i], b[i])) return false;
    return true;
  }
  return a == b;
}

void checkLikeNlohmann(const std::string& text) {
  INFO(text);
  Json expected = Json::parse(text, nullptr, false);
  // The reader itself takes exactly what nlohmann takes (no silent fallback).
  Json read;
  bool taken = skiff::api::detail::readJson(text, read);
  CHECK(taken == !expected.is_discarded());
  if (taken && !expected.is_discarded()) CHECK(sameTree(read, expected));
  Json stored = parseStoredJson(text);
  CHECK(stored.is_discarded() == expected.is_discarded());
  if (!expected.is_discarded()) CHECK(sameTree(stored, expected));
  auto parsed = parseJson(text);
  CHECK(parsed.ok() == !expected.is_discarded());
  if (parsed.ok() && !expected.is_discarded()) CHECK(sameTree(*parsed, expected));
}

// A random document: every JSON type, strings with escapes, control and
// multi-byte characters (in keys too), integers of both signs and sizes.
Json randomJson(std::mt19937& rng, int depth = 0) {
  auto text = [&] {
    std::string s;
    for (int i = static_cast<int>(rng() % 12); i > 0; --i) {
      static const char* pieces[] = {"a", "Z", "\"", "\\",   "\n", "\x01", "é",
                                     "😀", "/", " ",  "\x7f", "\t", "\x1f", "\b\f\r"};
      s += pieces[rng() % 14];
    }
    return s;
  };
  int kind = static_cast<int>(rng() % (depth > 4 ? 6 : 8));
  switch (kind) {
    case 0:
      return nullptr;
    case 1:
      return rng() % 2 == 0;
    case 2:
      return static_cast<int64_t>(rng()) - static_cast<int64_t>(rng()) * 4096;
    case 3:
      return static_cast<double>(rng()) / 7.0;
    case 4:
      return text();
    case 5:
      return static_cast<uint64_t>(rng()) << 33;
    case 6: {
      Json a = Json::array();
      for (int i = static_cast<int>(rng() % 5); i > 0; --i) a.push_back(randomJson(rng, depth + 1));
      return a;
    }
    default: {
      Json o = Json::object();
      for (int i = static_cast<int>(rng() % 5); i > 0; --i)
        o[rng() % 4 == 0 ? text() : "k" + std::to_string(rng() % 50)] = randomJson(rng, depth + 1);
      return o;
    }
  }
}

}  // namespace

TEST_CASE("the JSON reader builds what nlohmann builds", "[json]") {
  for (
      const char* text : {
          R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","labels":{"a":"b"}}})",
          R"({"b":1,"a":2,"c":{"z":[],"y":{}}})",  // unsorted keys
          R"({"a":1,"a":2})",                      // the last duplicate wins
          R"({"b":1,"a":1,"b":3})",
          R"([1,-1,0,-0,1.5,-2.25e3,1E2,1e-2,0.0,123456789012345678])",
          R"([18446744073709551615,18446744073709551616,-9223372036854775808,-9223372036854775809])",
          R"(["", "a\"b", "\\", "\/", "\b\f\n\r\t", "\u00e9\u4e2d", "\ud83d\ude00", "é中😀"])",
          R"( { "spaced" : [ 1 , 2 ] , "t" : true , "f" : false , "n" : null } )",
          "\"top-level string\"",
          "42",
          "-7",
          "3.25",
          "true",
          "null",
          R"({"nested":[[[[{"deep":[{"x":1}]}]]]]})",
      }) {
    checkLikeNlohmann(text);
  }
}

TEST_CASE("the JSON reader declines what nlohmann refuses", "[json]") {
  for (const char* text : {
           "",
           " ",
           "{",
           "}",
           "[1,]",
           "{\"a\":1,}",
           "{\"a\" 1}",
           "{a:1}",
           "[01]",
           "[-]",
           "[1.]",
           "[.5]",
           "[1e]",
           "[1e+]",
           "[+1]",
           "[1e400]",
           "[-1e400]",
           "tru",
           "nul",
           "[true false]",
           "{\"a\":1} x",
           "\"unterminated",
           "\"bad \\x escape\"",
           "\"\\u12\"",
           "\"\\ud800\"",
           "\"\\udc00\"",
           "\"\\ud800\\u0041\"",
           "\"tab\tinside\"",
           "[NaN]",
           "[Infinity]",
       }) {
    INFO(text);
    CHECK(Json::parse(text, nullptr, false).is_discarded());  // the list itself is right
    checkLikeNlohmann(text);
  }
  // Invalid UTF-8 (a bad byte, a cut sequence, an overlong form): parseJson's
  // prescan refuses it before the reader runs (stored texts are skiff's own
  // dumps, which cannot hold it, so parseStoredJson does not look).
  for (const char* text : {"\"\xff\"", "\"\xc3\"", "\"\xc0\xaf\""}) {
    INFO(text);
    CHECK(Json::parse(text, nullptr, false).is_discarded());
    CHECK_FALSE(parseJson(text).ok());
  }
  // parseJson keeps nlohmann's message.
  auto r = parseJson("{\"a\":1,}");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("invalid JSON at offset") != std::string::npos);
}

TEST_CASE("random documents: the reader round-trips them, dumpJson writes them as dump() does",
          "[json]") {
  std::mt19937 rng(12345);
  for (int i = 0; i < 2000; ++i) {
    Json doc = randomJson(rng);
    std::string text = doc.dump();
    INFO(text);
    CHECK(skiff::api::dumpJson(doc) == text);
    Json back;
    REQUIRE(skiff::api::detail::readJson(text, back));
    CHECK(sameTree(back, Json::parse(text)));
    CHECK(back.dump() == text);
  }
}

TEST_CASE("dumpJson writes the bytes nlohmann's dump writes", "[json]") {
  for (const Json& doc :
       {Json::object(), Json::array(), Json(std::numeric_limits<int64_t>::min()),
        Json(std::numeric_limits<uint64_t>::max()), Json(-0.0), Json(1e300), Json(0.1), Json(""),
        Json::parse(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","labels":{"a":"b"},)"
                    R"("resourceVersion":"12"},"spec":{"containers":[{"name":"c","image":"i",)"
                    R"("ports":[{"containerPort":80}]}]},"status":{"phase":"Pending"}})")}) {
    INFO(doc.dump());
    CHECK(skiff::api::dumpJson(doc) == doc.dump());
  }
  std::string appended = "prefix:";
  skiff::api::appendJson(Json{{"a", 1}}, appended);
  CHECK(appended == R"(prefix:{"a":1})");
  // Not UTF-8, as a value or as a key: refused as nlohmann refuses it.
  CHECK_THROWS_AS(skiff::api::dumpJson(Json{{"k", "bad \xff byte"}}), Json::type_error);
  CHECK_THROWS_AS(skiff::api::dumpJson(Json{{"bad \xc3", 1}}), Json::type_error);
}

TEST_CASE("lenient readers give zero values for missing or mistyped members", "[json]") {
  using skiff::api::Json;
  using skiff::api::lenient::array;
  using skiff::api::lenient::field;
  using skiff::api::lenient::str;
  Json o = {{"s", "x"}, {"n", 1}, {"a", {1, 2}}};
  CHECK(str(o, "s") == "x");
  CHECK(str(o, "n").empty());
  CHECK(str(o, "missing").empty());
  CHECK(str(Json::array(), "s").empty());
  CHECK(field(o, "n") == 1);
  CHECK(field(o, "missing").is_null());
  CHECK(field(Json("text"), "s").is_null());
  CHECK(array(o, "a").size() == 2);
  CHECK(array(o, "s").is_array());
  CHECK(array(o, "s").empty());
  CHECK(array(o, "missing").empty());
}

TEST_CASE("base64url: RFC 4648 vectors, no padding, strict decoding", "[json]") {
  using skiff::api::base64UrlDecode;
  using skiff::api::base64UrlEncode;
  // RFC 4648 section 10, padding stripped.
  const std::pair<const char*, const char*> vectors[] = {
      {"", ""},           {"f", "Zg"},          {"fo", "Zm8"},         {"foo", "Zm9v"},
      {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : vectors) {
    CHECK(base64UrlEncode(plain) == encoded);
    CHECK(base64UrlDecode(encoded) == std::optional<std::string>(plain));
  }
  // The URL alphabet: 0xfb 0xff encode to "-_8" where standard base64 has "+/8=".
  CHECK(base64UrlEncode("\xfb\xff") == "-_8");
  CHECK(base64UrlDecode("-_8") == std::optional<std::string>("\xfb\xff"));
  for (const char* bad : {"+/8", "Zg==", "Z", "Zm9v!", "Zh"})  // "Zh": stray low bits
    CHECK_FALSE(base64UrlDecode(bad));
}
