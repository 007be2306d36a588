#include "ctl/yaml.h"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <regex>
#include <sstream>

namespace skiff::ctl {
namespace {

bool isBoolTrue(const std::string& s) {
  static const char* k[] = {"y",    "Y",    "yes", "Yes", "YES", "true",
                            "True", "TRUE", "on",  "On",  "ON"};
  for (auto* w : k)
    if (s == w) return true;
  return false;
}
bool isBoolFalse(const std::string& s) {
  static const char* k[] = {"n",     "N",     "no",  "No",  "NO", "false",
                            "False", "FALSE", "off", "Off", "OFF"};
  for (auto* w : k)
    if (s == w) return true;
  return false;
}
bool isNull(const std::string& s) {
  return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL";
}

// go-yaml v2's resolve() for integers: strconv.ParseInt(s, 0, 64) after
// dropping underscores, plus "0b" binary.
bool parseInt(const std::string& in, Json* out) {
  std::string s;
  for (char c : in)
    if (c != '_') s.push_back(c);
  if (s.empty()) return false;
  size_t i = 0;
  bool neg = false;
  if (s[0] == '+' || s[0] == '-') {
    neg = s[0] == '-';
    i = 1;
  }
  if (i >= s.size()) return false;
  int base = 10;
  if (s.compare(i, 2, "0x") == 0 || s.compare(i, 2, "0X") == 0)
    base = 16, i += 2;
  else if (s.compare(i, 2, "0b") == 0)
    base = 2, i += 2;
  else if (s.compare(i, 2, "0o") == 0)
    base = 8, i += 2;
  else if (s[i] == '0' && s.size() > i + 1)
    base = 8, i += 1;
  if (i >= s.size()) return false;
  unsigned long long v = 0;
  for (; i < s.size(); ++i) {
    int d;
    char c = s[i];
    if (c >= '0' && c <= '9')
      d = c - '0';
    else if (c >= 'a' && c <= 'f')
      d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
      d = c - 'A' + 10;
    else
      return false;
    if (d >= base) return false;
    if (v > (~0ULL - d) / base) return false;  // overflow: not an int64
    v = v * base + d;
  }
  if (neg) {
    if (v > 9223372036854775808ULL) return false;
    *out = v == 9223372036854775808ULL ? INT64_MIN : -static_cast<int64_t>(v);
  } else if (v <= static_cast<unsigned long long>(INT64_MAX)) {
    *out = static_cast<int64_t>(v);
  } else {
    *out = static_cast<uint64_t>(v);
  }
  return true;
}

bool parseFloat(const std::string& s, Json* out) {
  static const std::regex re(R"([-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?)");
  if (s == ".inf" || s == ".Inf" || s == ".INF" || s == "+.inf" || s == "+.Inf" || s == "+.INF") {
    *out = INFINITY;
    return true;
  }
  if (s == "-.inf" || s == "-.Inf" || s == "-.INF") {
    *out = -INFINITY;
    return true;
  }
  if (s == ".nan" || s == ".NaN" || s == ".NAN") {
    *out = NAN;
    return true;
  }
  if (!std::regex_match(s, re)) return false;
  *out = std::strtod(s.c_str(), nullptr);
  return true;
}

Json resolvePlain(const std::string& s) {
  if (isNull(s)) return nullptr;
  if (isBoolTrue(s)) return true;
  if (isBoolFalse(s)) return false;
  Json v;
  char c = s[0];
  if ((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.') {
    if (parseInt(s, &v)) return v;
    if (parseFloat(s, &v)) return v;
  }
  return s;
}

std::string keyString(const Json& k) {
  if (k.is_string()) return k.get<std::string>();
  if (k.is_null()) return "null";
  return k.dump();
}

Json convert(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nullptr;
    case YAML::NodeType::Scalar: {
      const std::string& tag = n.Tag();
      if (tag == "?") return resolvePlain(n.Scalar());
      if (tag == "tag:yaml.org,2002:int" || tag == "tag:yaml.org,2002:float" ||
          tag == "tag:yaml.org,2002:bool" || tag == "tag:yaml.org,2002:null")
        return resolvePlain(n.Scalar());
      return n.Scalar();  // quoted, block, !!str and other tags
    }
    case YAML::NodeType::Sequence: {
      Json a = Json::array();
      for (const auto& c : n) a.push_back(convert(c));
      return a;
    }
    case YAML::NodeType::Map: {
      Json o = Json::object();
      for (const auto& kv : n) {
        // A `<<` merge key is left as a plain key; kubectl manifests don't use it.
        o[keyString(convert(kv.first))] = convert(kv.second);
      }
      return o;
    }
  }
  return nullptr;
}

// go-yaml's phrasing for yaml-cpp's most common complaints.
std::string explain(const std::string& msg) {
  if (msg == "illegal map value") return "mapping values are not allowed in this context";
  if (msg == "end of map not found")
    return "did not find expected key (check the indentation of this line and the one above)";
  if (msg == "end of sequence not found") return "did not find expected '-' indicator";
  if (msg == "end of map flow not found") return "did not find expected ',' or '}'";
  if (msg == "end of sequence flow not found") return "did not find expected ',' or ']'";
  if (msg == "illegal tab when looking for indentation")
    return "found character that cannot start any token (a tab; indent with spaces)";
  return msg;
}

bool isSeparator(const std::string& line) {
  if (line.compare(0, 3, "---") != 0) return false;
  for (size_t i = 3; i < line.size(); ++i)
    if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r') return false;
  return true;
}

Result<Json> convertDocument(const std::string& text, int firstLine) {
  try {
    YAML::Node n = YAML::Load(text);
    return convert(n);
  } catch (const YAML::Exception& e) {
    std::ostringstream m;
    m << "error converting YAML to JSON: yaml: line " << (e.mark.line + firstLine) << ", column "
      << (e.mark.column + 1) << ": " << explain(e.msg);
    return makeError(Code::kBadRequest, m.str());
  }
}

}  // namespace

std::vector<YamlDocument> parseYamlStream(const std::string& text) {
  std::vector<YamlDocument> docs;
  std::istringstream in(text);
  std::string line, current;
  int lineNo = 0, start = 1;
  bool hasContent = false;
  auto flush = [&] {
    if (hasContent) {
      YamlDocument d;
      d.firstLine = start;
      d.object = convertDocument(current, start);
      if (!d.object || !d.object->is_null()) docs.push_back(std::move(d));
    }
    current.clear();
    hasContent = false;
  };
  while (std::getline(in, line)) {
    ++lineNo;
    if (isSeparator(line)) {
      flush();
      start = lineNo + 1;
      continue;
    }
    current += line;
    current += '\n';
    auto first = line.find_first_not_of(" \t\r");
    if (first != std::string::npos && line[first] != '#') hasContent = true;
  }
  flush();
  return docs;
}

Result<Json> yamlToJson(const std::string& text) {
  return convertDocument(text, 1);
}

// ---- writing ----
namespace {

// go-yaml v2: a string that would read back as another type is double-quoted;
// one the emitter cannot write plain (indicators, ": ", " #", edge spaces) is
// single-quoted, or double-quoted when it holds control characters.
enum class Quote { kNone, kSingle, kDouble };

Quote quoting(const std::string& s) {
  if (s.empty()) return Quote::kDouble;
  if (!resolvePlain(s).is_string()) return Quote::kDouble;
  // go-yaml v2 resolves timestamps too (reading them back as strings), so it
  // quotes them: kubectl prints creationTimestamp: "2024-01-01T00:00:00Z".
  static const std::regex ts(
      R"(\d{4}-\d{1,2}-\d{1,2}([Tt ]\d{1,2}:\d{1,2}:\d{1,2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?)?)");
  if (s.size() >= 8 && isdigit(static_cast<unsigned char>(s[0])) && std::regex_match(s, ts))
    return Quote::kDouble;
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7f) return Quote::kDouble;
  static const char* indicators = "-?:,[]{}#&*!|>'\"%@`";
  if (std::strchr(indicators, s[0]) != nullptr) {
    if (!((s[0] == '-' || s[0] == '?' || s[0] == ':') && s.size() > 1 && s[1] != ' '))
      return Quote::kSingle;
  }
  if (s.front() == ' ' || s.back() == ' ' || s.back() == ':') return Quote::kSingle;
  if (s.find(": ") != std::string::npos || s.find(" #") != std::string::npos) return Quote::kSingle;
  return Quote::kNone;
}

std::string yamlQuoted(const std::string& s) {
  Quote q = quoting(s);
  if (q == Quote::kNone) return s;
  if (q == Quote::kDouble) return Json(s).dump();
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "''";
    else
      out.push_back(c);
  }
  return out + "'";
}

void emitScalar(const Json& v, std::string& out) {
  if (v.is_null())
    out += "null";
  else if (v.is_boolean())
    out += v.get<bool>() ? "true" : "false";
  else if (v.is_number_integer())
    out += v.dump();
  else if (v.is_number_float()) {
    double d = v.get<double>();
    if (std::isnan(d))
      out += ".nan";
    else if (std::isinf(d))
      out += d > 0 ? ".inf" : "-.inf";
    else if (d == std::floor(d) && std::fabs(d) < 1e15)
      out += std::to_string(static_cast<int64_t>(d));
    else
      out += v.dump();
  } else {
    const std::string& s = v.get_ref<const std::string&>();
    out += yamlQuoted(s);
  }
}

void emit(const Json& v, int indent, std::string& out);

// Multi-line strings as literal blocks; `indent` is the block's indentation.
bool emitLiteral(const std::string& s, int indent, std::string& out) {
  if (s.find('\n') == std::string::npos) return false;
  for (unsigned char c : s)
    if ((c < 0x20 && c != '\n') || c == 0x7f) return false;
  out += "|";
  if (s[0] == ' ') out += "2";
  if (s.back() != '\n')
    out += "-";
  else if (s.size() >= 2 && s[s.size() - 2] == '\n')
    out += "+";
  out += "\n";
  std::string pad(indent, ' ');
  size_t start = 0;
  while (start < s.size()) {
    size_t nl = s.find('\n', start);
    if (nl == std::string::npos) nl = s.size();
    std::string line = s.substr(start, nl - start);
    if (!line.empty()) out += pad + line;
    out += "\n";
    start = nl + 1;
  }
  return true;
}

void emitValueAfterKey(const Json& v, int indent, std::string& out) {
  if (v.is_object() && !v.empty()) {
    out += "\n";
    emit(v, indent + 2, out);
  } else if (v.is_array() && !v.empty()) {
    out += "\n";
    emit(v, indent, out);  // go-yaml: sequences sit at their key's indentation
  } else if (v.is_object()) {
    out += " {}\n";
  } else if (v.is_array()) {
    out += " []\n";
  } else if (v.is_string() && (out += " ", emitLiteral(v.get<std::string>(), indent + 2, out))) {
  } else {
    emitScalar(v, out);
    out += "\n";
  }
}

void emit(const Json& v, int indent, std::string& out) {
  std::string pad(indent, ' ');
  if (v.is_object()) {
    for (auto it = v.begin(); it != v.end(); ++it) {
      out += pad;
      std::string k = it.key();
      k = yamlQuoted(k);
      out += k + ":";
      if (!(it->is_string() || it->is_object() || it->is_array())) out += " ";
      emitValueAfterKey(*it, indent, out);
    }
  } else if (v.is_array()) {
    for (const auto& e : v) {
      out += pad + "-";
      if (e.is_object() && !e.empty()) {
        // First key on the dash line, the rest aligned under it.
        std::string inner;
        emit(e, indent + 2, inner);
        out += " " + inner.substr(indent + 2);
      } else if (e.is_array() && !e.empty()) {
        std::string inner;
        emit(e, indent + 2, inner);
        out += " " + inner.substr(indent + 2);
      } else if (e.is_object()) {
        out += " {}\n";
      } else if (e.is_array()) {
        out += " []\n";
      } else if (e.is_string() &&
                 (out += " ", emitLiteral(e.get<std::string>(), indent + 2, out))) {
      } else {
        if (!e.is_string()) out += " ";
        emitScalar(e, out);
        out += "\n";
      }
    }
  } else {
    emitScalar(v, out);
    out += "\n";
  }
}

}  // namespace

std::string jsonToYaml(const Json& value) {
  std::string out;
  if (value.is_object() && value.empty()) return "{}\n";
  if (value.is_array() && value.empty()) return "[]\n";
  emit(value, 0, out);
  return out;
}

}  // namespace skiff::ctl
