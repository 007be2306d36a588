// parseJson: one linear pre-scan checks UTF-8 and nesting depth before
// nlohmann builds anything, so a hostile body (a million '[' or a stray 0xff
// byte) is refused in O(n) time and O(1) stack, whatever the parser's or the
// DOM destructor's own recursion would have done with it.
#include "api/json.h"

#include <string>

namespace skiff::api {

namespace {

Error badRequest(std::string message) {
  return makeError(Code::kBadRequest, std::move(message));
}

// Length of the well-formed UTF-8 sequence at s[i], or 0 when it is not one
// (overlong forms, surrogates and code points past U+10FFFF are refused).
size_t utf8SequenceLength(std::string_view s, size_t i) {
  auto byte = [&](size_t k) -> unsigned { return static_cast<unsigned char>(s[k]); };
  unsigned b0 = byte(i);
  if (b0 < 0x80) return 1;
  size_t n;
  unsigned lo = 0x80, hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    n = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    n = 3;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    n = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  unsigned b1 = byte(i + 1);
  if (b1 < lo || b1 > hi) return 0;
  for (size_t k = 2; k < n; ++k) {
    unsigned b = byte(i + k);
    if (b < 0x80 || b > 0xBF) return 0;
  }
  return n;
}

// Checks encoding and depth; brackets inside strings do not count.
Status prescan(std::string_view text) {
  int depth = 0;
  bool inString = false;
  for (size_t i = 0; i < text.size();) {
    unsigned char ch = static_cast<unsigned char>(text[i]);
    if (ch >= 0x80) {
      size_t n = utf8SequenceLength(text, i);
      if (n == 0) {
        return badRequest(
            "invalid JSON: invalid UTF-8 byte 0x" + std::string(1, "0123456789abcdef"[ch >> 4]) +
            std::string(1, "0123456789abcdef"[ch & 15]) + " at offset " + std::to_string(i));
      }
      i += n;
      continue;
    }
    if (inString) {
      if (ch == '\\') {
        i += 2;  // the escaped character cannot end the string
        continue;
      }
      if (ch == '"') inString = false;
    } else if (ch == '"') {
      inString = true;
    } else if (ch == '[' || ch == '{') {
      if (++depth > kMaxJsonDepth) {
        return badRequest("invalid JSON: nesting deeper than " + std::to_string(kMaxJsonDepth) +
                          " levels at offset " + std::to_string(i));
      }
    } else if (ch == ']' || ch == '}') {
      --depth;  // unbalanced input is the parser's to report
    }
    ++i;
  }
  return {};
}

}  // namespace

Result<Json> parseJson(std::string_view text) {
  if (Status s = prescan(text); !s) return s.error();
  try {
    return Json::parse(text.begin(), text.end());
  } catch (const Json::parse_error& e) {
    // nlohmann's what() reads "[json.exception.parse_error.101] parse error at line 1,
    // column 5: syntax error while parsing value - ..."; keep the part after the tag.
    std::string what = e.what();
    size_t tag = what.find("] ");
    if (tag != std::string::npos) what = what.substr(tag + 2);
    return badRequest("invalid JSON at offset " + std::to_string(e.byte) + ": " + what);
  } catch (const std::exception& e) {
    return badRequest(std::string("invalid JSON: ") + e.what());
  }
}

}  // namespace skiff::api
