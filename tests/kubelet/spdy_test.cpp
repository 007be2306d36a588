#include "kubelet/spdy.h"

#include <catch2/catch.hpp>

#include <string>

using namespace skiff::kubelet::spdy;

namespace {

// A port-forward client's first two header blocks, compressed by an
// independent zlib (Python's, with SPDY/3's dictionary) as one stream: the
// error stream's headers, then the data stream's.
const std::string kGoldenError(
    "\x78\xf9\xe3\xc6\xa7\xc2\x02\x25\x3a\x48\xf9\x5b\x04\x4e\xea\x16\x06\x16\x06\x40\x9a\xb3\x08"
    "\x12\x5f\x99\xa0\x74\xcc\x68\x00\x4e\x89\x25\x45\xa9\x89\xb9\xd0\xc2\x86\x35\x15\x14\x15\x00"
    "\x00\x00\x00\xff\xff",
    51);
const std::string kGoldenData("\x22\x53\x33\xa8\xa4\x4a\x04\x00\x00\x00\xff\xff", 12);

Frame nextFrame(FrameReader& r) {
  auto f = r.next();
  REQUIRE(f);
  REQUIRE(f->has_value());
  return std::move(**f);
}

}  // namespace

TEST_CASE("spdy: a client's compressed headers inflate with SPDY/3's dictionary", "[spdy]") {
  HeaderDecompressor d;
  auto first = d.decompress(kGoldenError);
  REQUIRE(first);
  CHECK(*first == Headers{{"port", "8080"}, {"requestid", "0"}, {"streamtype", "error"}});
  // The second block refers back into the first one's window: one stream.
  auto second = d.decompress(kGoldenData);
  REQUIRE(second);
  CHECK(headerValue(*second, "streamtype") == "data");
  CHECK(headerValue(*second, "port") == "8080");
  CHECK(headerValue(*second, "missing") == "");

  // Out of order, the second block alone means nothing.
  HeaderDecompressor fresh;
  CHECK_FALSE(fresh.decompress(kGoldenData));
}

TEST_CASE("spdy: header blocks round-trip through one compressor and one decompressor", "[spdy]") {
  HeaderCompressor c;
  HeaderDecompressor d;
  for (int i = 0; i < 50; ++i) {
    Headers h = {{"streamtype", i % 2 ? "data" : "error"},
                 {"port", std::to_string(8000 + i)},
                 {"requestid", std::to_string(i)},
                 {"multi", std::string("a\0b", 3)}};
    auto block = c.compress(h);
    REQUIRE(block);
    auto back = d.decompress(*block);
    REQUIRE(back);
    CHECK(*back == h);
  }
  auto empty = c.compress({});
  REQUIRE(empty);
  auto back = d.decompress(*empty);
  REQUIRE(back);
  CHECK(back->empty());
}

TEST_CASE("spdy: frames round-trip, split at every byte", "[spdy]") {
  HeaderCompressor c;
  auto block = c.compress({{"streamtype", "data"}});
  REQUIRE(block);
  std::string wire = synStreamFrame(3, 0, 2, kFlagFin, *block) + synReplyFrame(3, 0, *block) +
                     dataFrame(3, 0, "hello") + dataFrame(5, kFlagFin, "") +
                     rstStreamFrame(7, kCancel) + pingFrame(9) + goAwayFrame(11, 0);
  for (size_t split = 0; split <= wire.size(); ++split) {
    FrameReader r;
    r.feed(wire.substr(0, split));
    r.feed(wire.substr(split));
    Frame syn = nextFrame(r);
    CHECK(syn.control);
    CHECK(syn.type == kSynStream);
    CHECK(syn.streamId == 3);
    CHECK(syn.priority == 2);
    CHECK(syn.flags == kFlagFin);
    CHECK(syn.payload == *block);
    Frame reply = nextFrame(r);
    CHECK(reply.type == kSynReply);
    CHECK(reply.streamId == 3);
    CHECK(reply.payload == *block);
    Frame data = nextFrame(r);
    CHECK_FALSE(data.control);
    CHECK(data.streamId == 3);
    CHECK(data.payload == "hello");
    Frame fin = nextFrame(r);
    CHECK(fin.streamId == 5);
    CHECK(fin.flags == kFlagFin);
    CHECK(fin.payload.empty());
    Frame rst = nextFrame(r);
    CHECK(rst.type == kRstStream);
    CHECK(rst.streamId == 7);
    CHECK(rst.value == kCancel);
    Frame ping = nextFrame(r);
    CHECK(ping.type == kPing);
    CHECK(ping.value == 9);
    Frame away = nextFrame(r);
    CHECK(away.type == kGoAway);
    CHECK(away.streamId == 11);
    auto none = r.next();
    REQUIRE(none);
    CHECK_FALSE(none->has_value());
    CHECK(r.buffered() == 0);
  }
}

TEST_CASE("spdy: the wire layout is SPDY/3's", "[spdy]") {
  CHECK(dataFrame(1, kFlagFin, "ab") == std::string("\x00\x00\x00\x01\x01\x00\x00\x02"
                                                    "ab",
                                                    10));
  CHECK(pingFrame(1) == std::string("\x80\x03\x00\x06\x00\x00\x00\x04\x00\x00\x00\x01", 12));
  CHECK(rstStreamFrame(3, kCancel) ==
        std::string("\x80\x03\x00\x03\x00\x00\x00\x08\x00\x00\x00\x03\x00\x00\x00\x05", 16));
  CHECK(synReplyFrame(1, 0, "") ==
        std::string("\x80\x03\x00\x02\x00\x00\x00\x04\x00\x00\x00\x01", 12));
}

TEST_CASE("spdy: a truncated frame waits; bad frames are errors", "[spdy]") {
  SECTION("truncated: nothing yet, however it is cut") {
    std::string frame = dataFrame(1, 0, "hello");
    for (size_t n = 0; n < frame.size(); ++n) {
      FrameReader r;
      r.feed(frame.substr(0, n));
      auto f = r.next();
      REQUIRE(f);
      CHECK_FALSE(f->has_value());
    }
  }
  SECTION("a length over the limit is refused before its bytes arrive") {
    FrameReader r(1024);
    r.feed(std::string("\x00\x00\x00\x01\x00\xff\xff\xff", 8));  // 16 MiB announced
    auto f = r.next();
    REQUIRE_FALSE(f);
    CHECK(f.error().message.find("exceeds the limit") != std::string::npos);
  }
  SECTION("another version") {
    FrameReader r;
    r.feed(std::string("\x80\x02\x00\x06\x00\x00\x00\x04\x00\x00\x00\x01", 12));
    CHECK_FALSE(r.next());
  }
  SECTION("a control frame too short for its type") {
    FrameReader r;
    r.feed(std::string("\x80\x03\x00\x03\x00\x00\x00\x04\x00\x00\x00\x01", 12));  // RST of 4
    CHECK_FALSE(r.next());
  }
  SECTION("stream 0") {
    FrameReader r;
    r.feed(dataFrame(0, 0, "x"));
    CHECK_FALSE(r.next());
  }
  SECTION("an unknown control type is passed on") {
    FrameReader r;
    r.feed(std::string("\x80\x03\x00\x0a\x00\x00\x00\x02zz", 10));
    Frame f = nextFrame(r);
    CHECK(f.type == 10);
    CHECK(f.payload == "zz");
  }
}

TEST_CASE("spdy: bad header blocks are errors, never crashes or big allocations", "[spdy]") {
  SECTION("decode: truncated, lying counts and lengths, trailing bytes") {
    std::string good = encodeHeaderBlock({{"port", "80"}});
    for (size_t n = 0; n < good.size(); ++n) CHECK_FALSE(decodeHeaderBlock(good.substr(0, n)));
    CHECK_FALSE(decodeHeaderBlock(good + "x"));
    CHECK_FALSE(decodeHeaderBlock(std::string("\xff\xff\xff\xff", 4)));  // 4 G pairs
    CHECK_FALSE(decodeHeaderBlock(std::string("\x00\x00\x00\x01\xff\xff\xff\xff", 8) +
                                  std::string(8, 'a')));  // a 4 GiB name
    CHECK_FALSE(decodeHeaderBlock(encodeHeaderBlock({{"", "v"}})));
    auto none = decodeHeaderBlock(encodeHeaderBlock({}));
    REQUIRE(none);
    CHECK(none->empty());
  }
  SECTION("garbage instead of zlib") {
    HeaderDecompressor d;
    CHECK_FALSE(d.decompress("this is not zlib at all"));
    // Dead from then on, even for a good block.
    CHECK_FALSE(d.decompress(kGoldenError));
  }
  SECTION("zlib with another dictionary") {
    // A zlib header naming dictionary 0x01020304.
    HeaderDecompressor d;
    auto r = d.decompress(std::string("\x78\xf9\x01\x02\x03\x04\x00\x00", 8));
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("dictionary") != std::string::npos);
  }
  SECTION("a corrupted good block") {
    for (size_t i = 6; i < kGoldenError.size(); ++i) {
      std::string bad = kGoldenError;
      bad[i] = char(bad[i] ^ 0x5a);
      HeaderDecompressor d;
      auto r = d.decompress(bad);  // an error or some headers; never a crash
      CHECK((r || !r.error().message.empty()));
    }
  }
  SECTION("a zip bomb stops at the limit") {
    HeaderCompressor c;
    Headers big = {{"x", std::string(200 * 1024, 'a')}};
    auto block = c.compress(big);
    REQUIRE(block);
    CHECK(block->size() < 2048);
    HeaderDecompressor d(64 * 1024);
    auto r = d.decompress(*block);
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("inflates past") != std::string::npos);
  }
}
