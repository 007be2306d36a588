// SPDY/3.1 framing, as much of it as Kubernetes' port-forward protocol uses
// (`kubectl port-forward` speaks it through moby/spdystream): frames are read
// from and written to a byte stream, header blocks are zlib-compressed with
// SPDY/3's fixed dictionary. Pure code, no sockets; kubelet/port_forward.h
// runs a session over it.
//
// Wire format (all integers big-endian):
//   control frame: 1 | version(15) = 3 | type(16) | flags(8) | length(24) | body
//   data frame:    0 | stream id(31)               | flags(8) | length(24) | data
// Bodies of the control frames used here:
//   SYN_STREAM (1)    stream id(31) | associated id(31) | priority(3) + 5 unused |
//                     slot(8) | header block
//   SYN_REPLY (2)     stream id(31) | header block
//   RST_STREAM (3)    stream id(31) | status(32)
//   SETTINGS (4)      count(32) | count x (flags(8) | id(24) | value(32))
//   PING (6)          id(32)
//   GOAWAY (7)        last good stream id(31) | status(32)
//   HEADERS (8)       stream id(31) | header block
//   WINDOW_UPDATE (9) stream id(31) | delta(31)
// Flags: FIN = 1 (the sender's last frame on the stream), UNIDIRECTIONAL = 2.
// A header block, once inflated: count(32), then per pair name length(32),
// name (lower case), value length(32), value (several values NUL-separated).
//
// Compression: each direction of a connection is one zlib stream, primed with
// the dictionary and flushed (Z_SYNC_FLUSH) after every header block, so the
// blocks must be inflated in the order they arrive — every one of them, even
// of a stream about to be refused — and deflated in the order they are sent.
//
// Limits: a frame longer than FrameReader's maximum, or a header block that
// inflates past HeaderDecompressor's, is an error, never an allocation of
// that size; so is any malformed frame or zlib data. Errors are final: the
// connection is to be dropped (its zlib state is lost).
//
// Thread-safety: none; each object belongs to one connection direction, whose
// owner serialises calls.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"

namespace skiff::kubelet::spdy {

enum FrameType : uint16_t {
  kSynStream = 1,
  kSynReply = 2,
  kRstStream = 3,
  kSettings = 4,
  kPing = 6,
  kGoAway = 7,
  kHeaders = 8,
  kWindowUpdate = 9,
};

constexpr uint8_t kFlagFin = 0x01;
constexpr uint8_t kFlagUnidirectional = 0x02;

// RST_STREAM status codes.
enum RstStatus : uint32_t {
  kProtocolError = 1,
  kInvalidStream = 2,
  kRefusedStream = 3,
  kUnsupportedVersion = 4,
  kCancel = 5,
  kInternalError = 6,
};

// Frames longer than this are refused by default: moby/spdystream writes one
// data frame per Write, and Go's io.Copy writes at most 32 KiB at a time.
constexpr size_t kDefaultMaxFrameBytes = 1 << 20;
// Inflated header blocks longer than this are refused by default.
constexpr size_t kDefaultMaxHeaderBytes = 64 * 1024;

// One frame, parsed. Which fields mean something depends on the kind.
struct Frame {
  bool control = false;
  uint16_t type = 0;  // control frames: a FrameType (others are passed on too)
  uint8_t flags = 0;
  uint32_t streamId = 0;  // data, SYN_STREAM, SYN_REPLY, RST_STREAM, HEADERS, WINDOW_UPDATE
                          // (GOAWAY: the last good stream id)
  uint32_t value = 0;     // RST_STREAM and GOAWAY: status; PING: id; WINDOW_UPDATE: delta;
                          // SYN_STREAM: the associated stream id
  uint8_t priority = 0;   // SYN_STREAM
  std::string payload;    // data: the bytes; SYN_STREAM, SYN_REPLY, HEADERS: the
                          // compressed header block; other control frames: the body
};

// Splits a byte stream into frames.
class FrameReader {
 public:
  explicit FrameReader(size_t maxFrameBytes = kDefaultMaxFrameBytes)
      : maxFrameBytes_(maxFrameBytes) {}

  // Appends bytes as they arrived (any split).
  void feed(std::string_view bytes);
  // The next complete frame; nullopt while more bytes are needed. kBadRequest
  // for a malformed frame: a control frame of another version than 3, a
  // length over the maximum, a known control frame too short for its type, a
  // stream id of 0 where one is required.
  Result<std::optional<Frame>> next();
  // Bytes fed and not yet returned as frames.
  size_t buffered() const { return buffer_.size() - offset_; }

 private:
  size_t maxFrameBytes_;
  std::string buffer_;
  size_t offset_ = 0;  // start of the unread part of buffer_
};

// Frame builders: the complete frame's bytes, ready to write.
std::string dataFrame(uint32_t streamId, uint8_t flags, std::string_view data);
std::string synStreamFrame(uint32_t streamId, uint32_t associatedId, uint8_t priority,
                           uint8_t flags, std::string_view headerBlock);
std::string synReplyFrame(uint32_t streamId, uint8_t flags, std::string_view headerBlock);
std::string rstStreamFrame(uint32_t streamId, uint32_t status);
std::string pingFrame(uint32_t id);
std::string goAwayFrame(uint32_t lastGoodStreamId, uint32_t status);

// Header pairs in order; names lower case.
using Headers = std::vector<std::pair<std::string, std::string>>;

// The value of `name` ("" when absent; several values come NUL-separated).
std::string headerValue(const Headers& headers, std::string_view name);

// A header block, uncompressed, and back. decode: kBadRequest when the block
// is truncated, has trailing bytes, or a length runs past its end.
std::string encodeHeaderBlock(const Headers& headers);
Result<Headers> decodeHeaderBlock(std::string_view block);

// One direction's deflate stream.
class HeaderCompressor {
 public:
  HeaderCompressor();
  ~HeaderCompressor();
  HeaderCompressor(const HeaderCompressor&) = delete;
  HeaderCompressor& operator=(const HeaderCompressor&) = delete;

  // The compressed block for `headers`, flushed so the peer can inflate it at
  // once. kInternal if zlib fails (out of memory); the compressor is then dead.
  Result<std::string> compress(const Headers& headers);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// One direction's inflate stream.
class HeaderDecompressor {
 public:
  explicit HeaderDecompressor(size_t maxHeaderBytes = kDefaultMaxHeaderBytes);
  ~HeaderDecompressor();
  HeaderDecompressor(const HeaderDecompressor&) = delete;
  HeaderDecompressor& operator=(const HeaderDecompressor&) = delete;

  // Inflates the next block and decodes it. kBadRequest for bad zlib data, a
  // wrong dictionary, a block inflating past the limit, or a malformed block;
  // after any error every later call fails too.
  Result<Headers> decompress(std::string_view compressed);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace skiff::kubelet::spdy
