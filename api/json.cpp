// parseJson: one linear pre-scan checks UTF-8 and nesting depth before
// nlohmann builds anything, so a hostile body (a million '[' or a stray 0xff
// byte) is refused in O(n) time and O(1) stack, whatever the parser's or the
// DOM destructor's own recursion would have done with it.
#include "api/json.h"

#include <cctype>

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
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

// The fast reader: one recursive descent over the text that builds the Json
// in place. It takes exactly the JSON that nlohmann takes and builds what
// nlohmann builds (non-negative integers unsigned, negative ones signed, an
// integer out of 64 bits a double, the last of duplicate keys), except that it
// does not check UTF-8 (parseJson's prescan does; stored text was checked when
// it was written) and that it gives up — returns false — on anything unusual,
// for nlohmann to parse or to report.
class Reader {
 public:
  explicit Reader(std::string_view text) : p_(text.data()), end_(text.data() + text.size()) {}

  bool document(Json& out) {
    skipSpace();
    if (!value(out, 0)) return false;
    skipSpace();
    return p_ == end_;
  }

 private:
  const char* p_;
  const char* end_;

  void skipSpace() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }

  bool literal(const char* word, size_t n) {
    if (static_cast<size_t>(end_ - p_) < n || std::string_view(p_, n) != std::string_view(word, n))
      return false;
    p_ += n;
    return true;
  }

  bool value(Json& out, int depth) {
    if (p_ == end_) return false;
    switch (*p_) {
      case '{':
        return object(out, depth + 1);
      case '[':
        return array(out, depth + 1);
      case '"': {
        out = Json::value_t::string;
        return string(*out.get_ptr<Json::string_t*>());
      }
      case 't':
        out = true;
        return literal("true", 4);
      case 'f':
        out = false;
        return literal("false", 5);
      case 'n':
        out = nullptr;
        return literal("null", 4);
      default:
        return number(out);
    }
  }

  bool object(Json& out, int depth) {
    if (depth > kMaxJsonDepth) return false;
    if (openEmpty(out, Json::value_t::object, '}')) return true;
    auto& members = *out.get_ptr<Json::object_t*>();
    std::string key;
    while (true) {
      skipSpace();
      if (p_ == end_ || *p_ != '"' || !string(key)) return false;
      skipSpace();
      if (p_ == end_ || *p_ != ':') return false;
      ++p_;
      skipSpace();
      // Keys usually come sorted (skiff's own texts always do): append at the
      // end without a search; otherwise insert or replace (the last one wins).
      Json* slot;
      if (members.empty() || members.rbegin()->first < key) {
        slot = &members.emplace_hint(members.end(), std::move(key), Json())->second;
      } else {
        slot = &members[key];
        *slot = Json();
      }
      if (!value(*slot, depth)) return false;
      bool more;
      if (!next('}', more)) return false;
      if (!more) return true;
    }
  }

  bool array(Json& out, int depth) {
    if (depth > kMaxJsonDepth) return false;
    if (openEmpty(out, Json::value_t::array, ']')) return true;
    auto& items = *out.get_ptr<Json::array_t*>();
    while (true) {
      skipSpace();
      items.emplace_back();
      if (!value(items.back(), depth)) return false;
      bool more;
      if (!next(']', more)) return false;
      if (!more) return true;
    }
  }

  // At '{' or '[': `out` becomes an empty container of `type`; true when
  // `close` follows at once (then skipped too).
  bool openEmpty(Json& out, Json::value_t type, char close) {
    ++p_;
    out = type;
    skipSpace();
    if (p_ == end_ || *p_ != close) return false;
    ++p_;
    return true;
  }

  // After an element: a ',' (more = true) or `close` (more = false), skipped;
  // false for anything else.
  bool next(char close, bool& more) {
    skipSpace();
    if (p_ == end_ || (*p_ != ',' && *p_ != close)) return false;
    more = *p_++ == ',';
    return true;
  }

  static int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  bool hex4(unsigned& v) {
    if (end_ - p_ < 4) return false;
    v = 0;
    for (int i = 0; i < 4; ++i) {
      int h = hex(p_[i]);
      if (h < 0) return false;
      v = v * 16 + static_cast<unsigned>(h);
    }
    p_ += 4;
    return true;
  }

  static void appendUtf8(std::string& out, unsigned cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  // At the opening quote; leaves p_ after the closing one.
  bool string(std::string& out) {
    ++p_;
    const char* start = p_;
    while (p_ < end_ && *p_ != '"' && *p_ != '\\' && static_cast<unsigned char>(*p_) >= 0x20) ++p_;
    out.assign(start, p_);
    while (true) {
      if (p_ == end_ || static_cast<unsigned char>(*p_) < 0x20) return false;
      if (*p_ == '"') {
        ++p_;
        return true;
      }
      if (*p_ != '\\') {
        start = p_;
        while (p_ < end_ && *p_ != '"' && *p_ != '\\' && static_cast<unsigned char>(*p_) >= 0x20)
          ++p_;
        out.append(start, p_);
        continue;
      }
      if (++p_ == end_) return false;
      char e = *p_++;
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out += e;
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          unsigned cp;
          if (!hex4(cp)) return false;
          if (cp >= 0xDC00 && cp <= 0xDFFF) return false;  // a lone low surrogate
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            unsigned low;
            if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') return false;
            p_ += 2;
            if (!hex4(low) || low < 0xDC00 || low > 0xDFFF) return false;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          }
          appendUtf8(out, cp);
          break;
        }
        default:
          return false;
      }
    }
  }

  static bool digit(char c) { return c >= '0' && c <= '9'; }

  bool number(Json& out) {
    const char* start = p_;
    bool negative = false;
    if (*p_ == '-') {
      negative = true;
      ++p_;
    }
    if (p_ == end_ || !digit(*p_)) return false;
    if (*p_ == '0') {
      ++p_;
      if (p_ < end_ && digit(*p_)) return false;  // no leading zeros
    } else {
      while (p_ < end_ && digit(*p_)) ++p_;
    }
    const char* intEnd = p_;
    bool isFloat = false;
    if (p_ < end_ && *p_ == '.') {
      isFloat = true;
      ++p_;
      if (p_ == end_ || !digit(*p_)) return false;
      while (p_ < end_ && digit(*p_)) ++p_;
    }
    if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
      isFloat = true;
      ++p_;
      if (p_ < end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (p_ == end_ || !digit(*p_)) return false;
      while (p_ < end_ && digit(*p_)) ++p_;
    }
    if (!isFloat) {
      // 64 bits or, as nlohmann does, a double.
      uint64_t v = 0;
      bool fits = true;
      for (const char* d = negative ? start + 1 : start; d < intEnd; ++d) {
        uint64_t digitValue = static_cast<uint64_t>(*d - '0');
        if (v > (UINT64_MAX - digitValue) / 10) {
          fits = false;
          break;
        }
        v = v * 10 + digitValue;
      }
      if (fits && !negative) {
        out = static_cast<Json::number_unsigned_t>(v);
        return true;
      }
      if (fits && v <= static_cast<uint64_t>(INT64_MAX) + 1) {
        out = v == static_cast<uint64_t>(INT64_MAX) + 1 ? INT64_MIN
                                                        : -static_cast<Json::number_integer_t>(v);
        return true;
      }
    }
    std::string text(start, p_);
    char* parsedEnd = nullptr;
    double d = std::strtod(text.c_str(), &parsedEnd);
    if (parsedEnd != text.c_str() + text.size() || !std::isfinite(d)) return false;
    out = d;
    return true;
  }
};

// nlohmann's no-throw parse of `text`, after the reader declined it.
Json nlohmannParse(std::string_view text) {
  return Json::parse(text.begin(), text.end(), nullptr, false);
}

// A string as nlohmann's serializer writes it with ensure_ascii off: quotes,
// backslashes and control characters escaped, everything else as is. False
// (nothing appended) when `s` is not valid UTF-8.
bool appendString(const std::string& s, std::string& out) {
  size_t i = 0;
  const size_t n = s.size();
  auto plain = [](unsigned char c) { return c >= 0x20 && c != '"' && c != '\\' && c < 0x80; };
  while (i < n && plain(static_cast<unsigned char>(s[i]))) ++i;
  if (i == n) {  // the common case: nothing to escape or check, one append
    const size_t at = out.size();
    out.resize(at + n + 2);
    char* p = out.data() + at;
    p[0] = '"';
    std::memcpy(p + 1, s.data(), n);
    p[n + 1] = '"';
    return true;
  }
  const size_t mark = out.size();
  out += '"';
  out.append(s, 0, i);
  while (i < n) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      const size_t len = utf8SequenceLength(s, i);
      if (len == 0) {
        out.resize(mark);
        return false;
      }
      out.append(s, i, len);
      i += len;
      continue;
    }
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (c < 0x20) {
          static const char* const kHex = "0123456789abcdef";
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xF];
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
  out += '"';
  return true;
}

void appendValue(const Json& j, std::string& out) {
  switch (j.type()) {
    case Json::value_t::object: {
      const auto& obj = j.get_ref<const Json::object_t&>();
      out += '{';
      bool first = true;
      for (const auto& [key, value] : obj) {
        if (!first) out += ',';
        first = false;
        if (!appendString(key, out)) {
          out += Json(key).dump();  // throws: not UTF-8
        }
        out += ':';
        appendValue(value, out);
      }
      out += '}';
      return;
    }
    case Json::value_t::array: {
      out += '[';
      bool first = true;
      for (const Json& v : j.get_ref<const Json::array_t&>()) {
        if (!first) out += ',';
        first = false;
        appendValue(v, out);
      }
      out += ']';
      return;
    }
    case Json::value_t::string:
      if (!appendString(j.get_ref<const std::string&>(), out)) out += j.dump();  // throws
      return;
    case Json::value_t::boolean:
      out += j.get<bool>() ? "true" : "false";
      return;
    case Json::value_t::null:
      out += "null";
      return;
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned: {
      char buf[24];
      auto r = j.is_number_unsigned() ? std::to_chars(buf, buf + sizeof buf, j.get<uint64_t>())
                                      : std::to_chars(buf, buf + sizeof buf, j.get<int64_t>());
      out.append(buf, r.ptr);
      return;
    }
    default:  // floats (nlohmann's shortest round-trip form), binary, discarded
      out += j.dump();
      return;
  }
}

}  // namespace

std::string dumpJson(const Json& j) {
  std::string out;
  out.reserve(1024);  // an object's text is about that; a scalar's, far less
  appendValue(j, out);
  return out;
}

void appendJson(const Json& j, std::string& out) {
  appendValue(j, out);
}

const Json& valueOrEmptyObject(const Json* p) {
  static const Json empty = Json::object();
  return p ? *p : empty;
}

const Json& valueOrNull(const Json* p) {
  static const Json null;
  return p ? *p : null;
}

const Json* jsonAt(const Json& obj, std::initializer_list<const char*> path) {
  const Json* cur = &obj;
  for (const char* key : path) {
    if (!cur->is_object()) return nullptr;
    // As a string_view the key's length is taken once, not by every comparison
    // of the map's search (a const char* key costs a strlen each).
    auto it = cur->find(std::string_view(key));
    if (it == cur->end() || it->is_null()) return nullptr;
    cur = &*it;
  }
  return cur;
}

namespace lenient {

std::string str(const Json& obj, const char* key) {
  const Json* v = jsonAt(obj, {key});
  return v && v->is_string() ? v->get<std::string>() : "";
}

const Json& field(const Json& obj, const char* key) {
  return valueOrNull(jsonAt(obj, {key}));
}

const Json& array(const Json& obj, const char* key) {
  static const Json kEmpty = Json::array();
  const Json& v = field(obj, key);
  return v.is_array() ? v : kEmpty;
}

}  // namespace lenient

namespace detail {
bool readJson(std::string_view text, Json& out) {
  return Reader(text).document(out);
}
}  // namespace detail

Json parseStoredJson(std::string_view text) {
  Json out;
  if (detail::readJson(text, out)) return out;
  return nlohmannParse(text);
}

Result<Json> parseJson(std::string_view text) {
  if (Status s = prescan(text); !s) return s.error();
  if (Json out; detail::readJson(text, out)) return out;
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

std::string base64Encode(std::string_view in) {
  static const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (static_cast<unsigned char>(in[i]) << 16) |
                 (static_cast<unsigned char>(in[i + 1]) << 8) |
                 static_cast<unsigned char>(in[i + 2]);
    out += {a[v >> 18], a[(v >> 12) & 63], a[(v >> 6) & 63], a[v & 63]};
  }
  if (i + 1 == in.size()) {
    uint32_t v = static_cast<unsigned char>(in[i]) << 16;
    out += {a[v >> 18], a[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    uint32_t v =
        (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
    out += {a[v >> 18], a[(v >> 12) & 63], a[(v >> 6) & 63], '='};
  }
  return out;
}

std::string base64UrlEncode(std::string_view in) {
  std::string out = base64Encode(in);
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return out;
}

namespace {

// The one base64 decoding loop. url: base64url as JSON Web Tokens carry it
// ('-' and '_' only, no padding, nothing else, zero leftover bits); else
// either alphabet, '=' and whitespace skipped (kubeconfig data, Secret data).
std::optional<std::string> decodeBase64(std::string_view in, bool url) {
  auto value = [url](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-' || (!url && c == '+')) return 62;
    if (c == '_' || (!url && c == '/')) return 63;
    return -1;
  };
  if (url && in.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(in.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    if (!url && (c == '=' || std::isspace(static_cast<unsigned char>(c)))) continue;
    int v = value(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  // The leftover bits must be zero, or two texts would decode the same.
  if (url && bits > 0 && (acc & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

}  // namespace

std::optional<std::string> base64UrlDecode(std::string_view in) {
  return decodeBase64(in, true);
}

std::optional<std::string> base64Decode(std::string_view in) {
  return decodeBase64(in, false);
}

}  // namespace skiff::api
