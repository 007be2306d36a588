// The building blocks of validation: field-error builders with Kubernetes'
// texts (k8s.io/apimachinery/pkg/util/validation/field), the name and label
// syntax checks (util/validation), quantities, IPs and times, and the 422 error.
#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <regex>

#include "api/validation.h"
#include "api/time.h"
#include "api/validation_internal.h"

namespace skiff::api {

namespace {

using detail::regexError;

// As field.Error.ErrorBody prints a bad value in Kubernetes 1.32: %q for
// strings, %v for numbers and booleans, %#v for the rest ([]string{"a", "b"},
// map[string]string{"k":"v"}); other shapes fall back to JSON.
std::string showValue(const Json& v) {
  if (v.is_null()) return "null";
  if (v.is_array() &&
      std::all_of(v.begin(), v.end(), [](const Json& e) { return e.is_string(); })) {
    std::string s = "[]string{";
    for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + v[i].dump();
    return s + "}";
  }
  if (v.is_object() && !v.empty() &&
      std::all_of(v.begin(), v.end(), [](const Json& e) { return e.is_string(); })) {
    std::string s = "map[string]string{";
    bool first = true;
    for (auto it = v.begin(); it != v.end(); ++it) {  // nlohmann keeps keys sorted, as Go prints
      s += (first ? "" : ", ") + Json(it.key()).dump() + ":" + it.value().dump();
      first = false;
    }
    return s + "}";
  }
  return v.dump();
}

std::string withDetail(std::string s, const std::string& detail) {
  if (!detail.empty()) s += ": " + detail;
  return s;
}

std::string maxLenError(size_t n) {
  return "must be no more than " + std::to_string(n) + " characters";
}

const char* kDns1123LabelFmt = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const char* kDns1123SubdomainFmt =
    "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
const char* kDns1035LabelFmt = "[a-z]([-a-z0-9]*[a-z0-9])?";
const char* kQualifiedNameFmt = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const char* kQualifiedNameErrMsg =
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character";

// Hand-written matchers for the patterns above: std::regex backtracks
// recursively and can exhaust the stack on long hostile input.
bool isLowerAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}
bool isAlnum(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0;
}

bool matchDns1123Label(const std::string& s) {
  if (s.empty() || !isLowerAlnum(s.front()) || !isLowerAlnum(s.back())) return false;
  for (char c : s) {
    if (!isLowerAlnum(c) && c != '-') return false;
  }
  return true;
}
bool matchDns1123Subdomain(const std::string& s) {
  size_t start = 0;
  while (true) {
    size_t dot = s.find('.', start);
    if (!matchDns1123Label(s.substr(start, dot == std::string::npos ? dot : dot - start))) {
      return false;
    }
    if (dot == std::string::npos) return true;
    start = dot + 1;
  }
}
bool matchDns1035Label(const std::string& s) {
  return matchDns1123Label(s) && s.front() >= 'a' && s.front() <= 'z';
}
bool matchQualifiedNamePart(const std::string& s) {
  if (s.empty() || !isAlnum(s.front()) || !isAlnum(s.back())) return false;
  for (char c : s) {
    if (!isAlnum(c) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

}  // namespace

Cause required(const std::string& field, const std::string& detail) {
  return {"FieldValueRequired", field, withDetail("Required value", detail)};
}
Cause invalid(const std::string& field, const Json& value, const std::string& detail) {
  return {"FieldValueInvalid", field, withDetail("Invalid value: " + showValue(value), detail)};
}
Cause duplicate(const std::string& field, const Json& value) {
  return {"FieldValueDuplicate", field, "Duplicate value: " + showValue(value)};
}
Cause notSupported(const std::string& field, const Json& value,
                   const std::vector<std::string>& supported) {
  std::string detail;
  if (!supported.empty()) {
    detail = "supported values: ";
    for (size_t i = 0; i < supported.size(); ++i) {
      if (i) detail += ", ";
      detail += "\"" + supported[i] + "\"";
    }
  }
  return {"FieldValueNotSupported", field,
          withDetail("Unsupported value: " + showValue(value), detail)};
}
Cause forbidden(const std::string& field, const std::string& detail) {
  return {"FieldValueForbidden", field, withDetail("Forbidden", detail)};
}
Cause tooLong(const std::string& field, const Json& value, size_t maxLength) {
  return {"FieldValueTooLong", field,
          "Too long: may not be more than " + std::to_string(maxLength) +
              (maxLength == 1 ? " byte" : " bytes")};
}

Error invalidError(const GroupVersionKind& gvk, const std::string& name,
                   const FieldErrors& errors) {
  std::string qualifiedKind = gvk.group.empty() ? gvk.kind : gvk.kind + "." + gvk.group;
  std::vector<std::string> parts;
  for (const Cause& c : errors) {
    std::string s = c.field.empty() ? c.message : c.field + ": " + c.message;
    if (std::find(parts.begin(), parts.end(), s) == parts.end()) parts.push_back(s);
  }
  std::string msg = qualifiedKind + " \"" + name + "\" is invalid";
  if (parts.size() == 1) {
    msg += ": " + parts[0];
  } else if (!parts.empty()) {
    msg += ": [";
    for (size_t i = 0; i < parts.size(); ++i) {
      if (i) msg += ", ";
      msg += parts[i];
    }
    msg += "]";
  }
  Error e = makeError(Code::kInvalid, msg);
  e.name = name;
  e.group = gvk.group;
  e.kind = gvk.kind;
  e.causes = errors;
  return e;
}

std::vector<std::string> isDns1123Label(const std::string& value) {
  std::vector<std::string> errs;
  if (value.size() > 63) errs.push_back(maxLenError(63));
  if (!matchDns1123Label(value)) {
    errs.push_back(regexError(
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
        "and must start and end with an alphanumeric character",
        kDns1123LabelFmt, {"my-name", "123-abc"}));
  }
  return errs;
}

std::vector<std::string> isDns1123Subdomain(const std::string& value) {
  std::vector<std::string> errs;
  if (value.size() > 253) errs.push_back(maxLenError(253));
  if (!matchDns1123Subdomain(value)) {
    errs.push_back(regexError(
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' "
        "or '.', and must start and end with an alphanumeric character",
        kDns1123SubdomainFmt, {"example.com"}));
  }
  return errs;
}

std::vector<std::string> isDns1035Label(const std::string& value) {
  std::vector<std::string> errs;
  if (value.size() > 63) errs.push_back(maxLenError(63));
  if (!matchDns1035Label(value)) {
    errs.push_back(regexError(
        "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with "
        "an alphabetic character, and end with an alphanumeric character",
        kDns1035LabelFmt, {"my-name", "abc-123"}));
  }
  return errs;
}

namespace detail {

std::string regexError(const std::string& msg, const std::string& fmt,
                       const std::vector<std::string>& examples) {
  if (examples.empty()) return msg + " (regex used for validation is '" + fmt + "')";
  std::string out = msg + " (e.g. ";
  for (size_t i = 0; i < examples.size(); ++i) {
    if (i > 0) out += " or ";
    out += "'" + examples[i] + "', ";
  }
  return out + "regex used for validation is '" + fmt + "')";
}

std::vector<std::string> isQualifiedName(const std::string& value) {
  std::vector<std::string> errs;
  std::string name = value;
  size_t slash = value.find('/');
  if (slash != std::string::npos) {
    if (value.find('/', slash + 1) != std::string::npos) {
      errs.push_back(
          "a qualified name " +
          regexError(kQualifiedNameErrMsg, kQualifiedNameFmt, {"MyName", "my.name", "123-abc"}) +
          " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')");
      return errs;
    }
    std::string prefix = value.substr(0, slash);
    name = value.substr(slash + 1);
    if (prefix.empty()) {
      errs.push_back("prefix part must be non-empty");
    } else {
      for (const std::string& m : isDns1123Subdomain(prefix)) errs.push_back("prefix part " + m);
    }
  }
  if (name.empty()) {
    errs.push_back("name part must be non-empty");
  } else if (name.size() > 63) {
    errs.push_back("name part " + maxLenError(63));
  }
  if (!name.empty() && !matchQualifiedNamePart(name)) {
    errs.push_back("name part " + regexError(kQualifiedNameErrMsg, kQualifiedNameFmt,
                                             {"MyName", "my.name", "123-abc"}));
  }
  return errs;
}

std::vector<std::string> isValidLabelValue(const std::string& value) {
  std::vector<std::string> errs;
  if (value.size() > 63) errs.push_back(maxLenError(63));
  static const std::string fmt = std::string("(") + kQualifiedNameFmt + ")?";
  if (!value.empty() && !matchQualifiedNamePart(value)) {
    errs.push_back(regexError(
        "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' "
        "or '.', and must start and end with an alphanumeric character",
        fmt, {"MyValue", "my_value", "12345"}));
  }
  return errs;
}

std::vector<std::string> isCIdentifier(const std::string& value) {
  static const char* fmt = "[A-Za-z_][A-Za-z0-9_]*";
  bool ok =
      !value.empty() && (std::isalpha(static_cast<unsigned char>(value[0])) || value[0] == '_');
  for (char c : value) ok = ok && (isAlnum(c) || c == '_');
  if (ok) return {};
  return {
      regexError("a valid C identifier must start with alphabetic character or '_', followed "
                 "by a string of alphanumeric characters or '_'",
                 fmt, {"my_name", "MY_NAME", "MyName"})};
}

std::vector<std::string> isValidPortName(const std::string& port) {
  std::vector<std::string> errs;
  if (port.size() < 1 || port.size() > 15) errs.push_back("must be no more than 15 characters");
  bool hasLetter = false, ok = true;
  for (char c : port) {
    if (std::islower(static_cast<unsigned char>(c))) hasLetter = true;
    if (!(std::islower(static_cast<unsigned char>(c)) ||
          std::isdigit(static_cast<unsigned char>(c)) || c == '-')) {
      ok = false;
    }
  }
  if (!ok) errs.push_back("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)");
  if (port.find("--") != std::string::npos) errs.push_back("must not contain consecutive hyphens");
  if (!port.empty() && (port.front() == '-' || port.back() == '-')) {
    errs.push_back("must not begin or end with a hyphen");
  }
  if (!hasLetter) errs.push_back("must contain at least one letter (a-z)");
  return errs;
}

std::string inclusiveRangeError(long long lo, long long hi) {
  return "must be between " + std::to_string(lo) + " and " + std::to_string(hi) + ", inclusive";
}

std::vector<std::string> isInRange(long long value, long long lo, long long hi) {
  if (value >= lo && value <= hi) return {};
  return {inclusiveRangeError(lo, hi)};
}

std::optional<double> parseQuantity(const Json& value, std::string* error) {
  auto fail = [&](const char* msg) -> std::optional<double> {
    if (error) *error = msg;
    return std::nullopt;
  };
  if (value.is_number()) return value.get<double>();
  if (!value.is_string()) return fail(kQuantityFormatError);
  const std::string s = value.get<std::string>();
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  size_t numStart = i;
  while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
  std::string number = s.substr(numStart, i - numStart);
  if (number.empty() || std::count(number.begin(), number.end(), '.') > 1 || number == ".") {
    return fail(kQuantityFormatError);
  }
  std::string suffix = s.substr(i);
  if (suffix.size() > 32) return fail(kQuantityFormatError);  // keeps std::regex's recursion short
  static const std::regex suffixRe("[eEinumkKMGTP]*[-+]?[0-9]*");
  if (!std::regex_match(suffix, suffixRe)) return fail(kQuantityFormatError);
  double base = std::strtod(s.substr(0, i).c_str(), nullptr);
  static const std::vector<std::pair<std::string, double>> suffixes = {
      {"", 1},
      {"n", 1e-9},
      {"u", 1e-6},
      {"m", 1e-3},
      {"k", 1e3},
      {"M", 1e6},
      {"G", 1e9},
      {"T", 1e12},
      {"P", 1e15},
      {"E", 1e18},
      {"Ki", 1024.0},
      {"Mi", 1048576.0},
      {"Gi", 1073741824.0},
      {"Ti", 1099511627776.0},
      {"Pi", 1125899906842624.0},
      {"Ei", 1152921504606846976.0}};
  for (const auto& [sfx, mult] : suffixes) {
    if (suffix == sfx) return base * mult;
  }
  if (suffix.size() >= 2 && (suffix[0] == 'e' || suffix[0] == 'E')) {
    static const std::regex expRe("[eE][-+]?[0-9]+");
    if (std::regex_match(suffix, expRe)) return base * std::pow(10.0, std::stod(suffix.substr(1)));
  }
  return fail("unable to parse quantity's suffix");
}

bool isRfc3339(std::string_view s) {
  return s.size() <= 64 && parseTimeSeconds(s).has_value();  // the grammar of api/time.h
}

bool isIPv4(const std::string& s) {
  in_addr a{};
  return inet_pton(AF_INET, s.c_str(), &a) == 1;
}
bool isIPv6(const std::string& s) {
  in6_addr a{};
  return s.find(':') != std::string::npos && inet_pton(AF_INET6, s.c_str(), &a) == 1;
}

const Json* get(const Json& obj, const char* name) {
  return jsonAt(obj, {name});
}
std::string getString(const Json& obj, const char* name) {
  const Json* v = get(obj, name);
  return v && v->is_string() ? v->get<std::string>() : "";
}
bool hasString(const Json& obj, const char* name) {
  const Json* v = get(obj, name);
  return v && v->is_string() && !v->get<std::string>().empty();
}

}  // namespace detail
}  // namespace skiff::api
