// Label and field selectors, following k8s.io/apimachinery/pkg/labels and
// pkg/fields: the same lexer (special symbols = ! ( ) , > <, keywords in/notin
// that become identifiers where a value is expected), the same parser errors,
// and the same key/value validity messages, so `-l` errors read as Kubernetes'.
#include "api/selector.h"

#include <algorithm>
#include <map>
#include <regex>
#include <set>

#include "api/table_internal.h"
#include "api/validation_internal.h"

namespace skiff::api {
namespace {

using detail::regexError;

// ---- label key / value validity (k8s.io/apimachinery/pkg/util/validation) ----

const std::string kQualifiedNameFmt = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const std::string kQualifiedNameErrMsg =
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character";
const std::string kLabelValueFmt = "(" + kQualifiedNameFmt + ")?";
const std::string kDns1123SubdomainFmt =
    "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";

std::string maxLenError(int n) {
  return "must be no more than " + std::to_string(n) + " characters";
}

std::vector<std::string> isDns1123Subdomain(const std::string& v) {
  static const std::regex re("^" + kDns1123SubdomainFmt + "$");
  std::vector<std::string> errs;
  if (v.size() > 253) errs.push_back(maxLenError(253));
  if (!std::regex_match(v, re)) {
    errs.push_back(regexError(
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' "
        "or '.', and must start and end with an alphanumeric character",
        kDns1123SubdomainFmt, {"example.com"}));
  }
  return errs;
}

std::vector<std::string> isQualifiedName(const std::string& value) {
  static const std::regex re("^" + kQualifiedNameFmt + "$");
  std::vector<std::string> errs;
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t slash = value.find('/', start);
    parts.push_back(value.substr(start, slash == std::string::npos ? slash : slash - start));
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  std::string name;
  if (parts.size() == 1) {
    name = parts[0];
  } else if (parts.size() == 2) {
    name = parts[1];
    if (parts[0].empty()) {
      errs.push_back("prefix part must be non-empty");
    } else {
      for (auto& m : isDns1123Subdomain(parts[0])) errs.push_back("prefix part " + m);
    }
  } else {
    errs.push_back(
        "a qualified name " +
        regexError(kQualifiedNameErrMsg, kQualifiedNameFmt, {"MyName", "my.name", "123-abc"}) +
        " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')");
    return errs;
  }
  if (name.empty()) {
    errs.push_back("name part must be non-empty");
  } else if (name.size() > 63) {
    errs.push_back("name part " + maxLenError(63));
  }
  if (!std::regex_match(name, re)) {
    errs.push_back("name part " + regexError(kQualifiedNameErrMsg, kQualifiedNameFmt,
                                             {"MyName", "my.name", "123-abc"}));
  }
  return errs;
}

std::vector<std::string> isValidLabelValue(const std::string& v) {
  static const std::regex re("^" + kLabelValueFmt + "$");
  std::vector<std::string> errs;
  if (v.size() > 63) errs.push_back(maxLenError(63));
  if (!std::regex_match(v, re)) {
    errs.push_back(regexError(
        "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
        "'.', and must start and end with an alphanumeric character",
        kLabelValueFmt, {"MyValue", "my_value", "12345"}));
  }
  return errs;
}

using table_internal::join;

// Go's %q for the ASCII strings that reach here.
std::string quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// field.Invalid(path, value, detail).Error()
std::string invalid(const std::string& path, const std::string& value, const std::string& detail) {
  return path + ": Invalid value: " + quote(value) + ": " + detail;
}

// Go's %#v of a []string.
std::string goStringSlice(const std::vector<std::string>& v) {
  if (v.empty()) return "[]string{}";
  std::vector<std::string> q;
  for (auto& s : v) q.push_back(quote(s));
  return "[]string{" + join(q, ", ") + "}";
}

using Op = LabelSelector::Requirement::Op;

// labels.NewRequirement's validation; "" when valid.
std::string validateRequirement(const std::string& key, Op op,
                                const std::vector<std::string>& vals) {
  std::vector<std::string> errs;
  if (auto e = isQualifiedName(key); !e.empty()) errs.push_back(invalid("key", key, join(e, "; ")));
  switch (op) {
    case Op::kIn:
    case Op::kNotIn:
      if (vals.empty())
        errs.push_back("values: Invalid value: " + goStringSlice(vals) +
                       ": for 'in', 'notin' operators, values set can't be empty");
      break;
    case Op::kEquals:
    case Op::kNotEquals:
      if (vals.size() != 1)
        errs.push_back("values: Invalid value: " + goStringSlice(vals) +
                       ": exact-match compatibility requires one single value");
      break;
    case Op::kExists:
    case Op::kDoesNotExist:
      if (!vals.empty())
        errs.push_back("values: Invalid value: " + goStringSlice(vals) +
                       ": values set must be empty for exists and does not exist");
      break;
    case Op::kGreaterThan:
    case Op::kLessThan:
      if (vals.size() != 1)
        errs.push_back("values: Invalid value: " + goStringSlice(vals) +
                       ": for 'Gt', 'Lt' operators, exactly one value is required");
      for (size_t i = 0; i < vals.size(); ++i) {
        static const std::regex intRe("^[+-]?[0-9]+$");
        if (!std::regex_match(vals[i], intRe))
          errs.push_back(invalid("values[" + std::to_string(i) + "]", vals[i],
                                 "for 'Gt', 'Lt' operators, the value must be an integer"));
      }
      break;
  }
  for (size_t i = 0; i < vals.size(); ++i) {
    if (auto e = isValidLabelValue(vals[i]); !e.empty())
      errs.push_back(
          invalid("values[" + std::to_string(i) + "][" + key + "]", vals[i], join(e, "; ")));
  }
  if (errs.empty()) return "";
  if (errs.size() == 1) return errs[0];
  return "[" + join(errs, ", ") + "]";
}

// ---- lexer and parser (labels/selector.go) ----

enum class Tok {
  kError,
  kEnd,
  kClosedPar,
  kComma,
  kDoesNotExist,
  kDoubleEquals,
  kEquals,
  kGreaterThan,
  kIdentifier,
  kIn,
  kLessThan,
  kNotEquals,
  kNotIn,
  kOpenPar,
};

struct Item {
  Tok tok;
  std::string lit;
};

bool isSpecial(char c) {
  return c == '=' || c == '!' || c == '(' || c == ')' || c == ',' || c == '>' || c == '<';
}
bool isSpace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

bool literalToken(const std::string& s, Tok* t) {
  static const std::map<std::string, Tok> m = {
      {")", Tok::kClosedPar},     {",", Tok::kComma},    {"!", Tok::kDoesNotExist},
      {"==", Tok::kDoubleEquals}, {"=", Tok::kEquals},   {">", Tok::kGreaterThan},
      {"in", Tok::kIn},           {"<", Tok::kLessThan}, {"!=", Tok::kNotEquals},
      {"notin", Tok::kNotIn},     {"(", Tok::kOpenPar}};
  auto it = m.find(s);
  if (it == m.end()) return false;
  *t = it->second;
  return true;
}

std::vector<Item> lex(std::string_view s) {
  std::vector<Item> items;
  size_t pos = 0;
  while (true) {
    while (pos < s.size() && isSpace(s[pos])) ++pos;
    if (pos >= s.size()) {
      items.push_back({Tok::kEnd, ""});
      return items;
    }
    if (isSpecial(s[pos])) {
      std::string buf;
      Item last{Tok::kError, ""};
      bool haveLast = false;
      while (pos < s.size() && isSpecial(s[pos])) {
        buf += s[pos];
        Tok t;
        if (literalToken(buf, &t)) {
          last = {t, buf};
          haveLast = true;
          ++pos;
        } else if (haveLast) {
          break;
        } else {
          ++pos;
        }
      }
      if (!haveLast) {
        items.push_back({Tok::kError, "error expected: keyword found '" + buf + "'"});
      } else {
        items.push_back(last);
      }
    } else {
      std::string buf;
      while (pos < s.size() && !isSpecial(s[pos]) && !isSpace(s[pos])) buf += s[pos++];
      Tok t;
      if (literalToken(buf, &t)) {
        items.push_back({t, buf});
      } else {
        items.push_back({Tok::kIdentifier, buf});
      }
    }
  }
}

class Parser {
 public:
  explicit Parser(std::string_view text) : items_(lex(text)) {}

  Result<std::vector<LabelSelector::Requirement>> parse() {
    std::vector<LabelSelector::Requirement> reqs;
    while (true) {
      auto [tok, lit] = lookahead(true);
      if (tok == Tok::kIdentifier || tok == Tok::kDoesNotExist) {
        auto r = parseRequirement();
        if (!r.ok()) return bad("unable to parse requirement: " + r.error().message);
        reqs.push_back(*r);
        auto [t, l] = consume(true);
        if (t == Tok::kEnd) return reqs;
        if (t == Tok::kComma) {
          auto [t2, l2] = lookahead(true);
          if (t2 != Tok::kIdentifier && t2 != Tok::kDoesNotExist)
            return bad("found '" + l2 + "', expected: identifier after ','");
        } else {
          return bad("found '" + l + "', expected: ',' or 'end of string'");
        }
      } else if (tok == Tok::kEnd) {
        return reqs;
      } else {
        return bad("found '" + lit + "', expected: !, identifier, or 'end of string'");
      }
    }
  }

 private:
  static Error bad(const std::string& m) { return makeError(Code::kBadRequest, m); }

  std::pair<Tok, std::string> lookahead(bool values) const {
    Item it = items_[std::min(pos_, items_.size() - 1)];
    if (values && (it.tok == Tok::kIn || it.tok == Tok::kNotIn)) it.tok = Tok::kIdentifier;
    return {it.tok, it.lit};
  }
  std::pair<Tok, std::string> consume(bool values) {
    auto r = lookahead(values);
    if (pos_ < items_.size() - 1) ++pos_;
    return r;
  }

  Result<LabelSelector::Requirement> parseRequirement() {
    LabelSelector::Requirement r;
    bool notExist = false;
    auto [tok, lit] = consume(true);
    if (tok == Tok::kDoesNotExist) {
      notExist = true;
      std::tie(tok, lit) = consume(true);
    }
    if (tok != Tok::kIdentifier) return bad("found '" + lit + "', expected: identifier");
    if (auto e = isQualifiedName(lit); !e.empty()) return bad(invalid("<nil>", lit, join(e, "; ")));
    r.key = lit;
    auto [next, nlit] = lookahead(true);
    if (notExist || next == Tok::kEnd || next == Tok::kComma) {
      // `!k` is complete (what follows is checked by the caller); `k` alone is Exists.
      r.op = notExist ? Op::kDoesNotExist : Op::kExists;
      return r;
    }
    auto [opTok, opLit] = consume(false);
    switch (opTok) {
      case Tok::kIn:
        r.op = Op::kIn;
        break;
      case Tok::kNotIn:
        r.op = Op::kNotIn;
        break;
      case Tok::kEquals:
      case Tok::kDoubleEquals:
        r.op = Op::kEquals;
        break;
      case Tok::kNotEquals:
        r.op = Op::kNotEquals;
        break;
      case Tok::kGreaterThan:
        r.op = Op::kGreaterThan;
        break;
      case Tok::kLessThan:
        r.op = Op::kLessThan;
        break;
      default:
        return bad("found '" + opLit + "', expected: in, notin, =, ==, !=, gt, lt");
    }
    std::set<std::string> values;
    if (r.op == Op::kIn || r.op == Op::kNotIn) {
      auto v = parseValues();
      if (!v.ok()) return v.error();
      values = *v;
    } else {
      auto [t, l] = lookahead(true);
      if (t == Tok::kEnd || t == Tok::kComma) {
        values.insert("");
      } else {
        auto [t2, l2] = consume(true);
        if (t2 != Tok::kIdentifier) return bad("found '" + l2 + "', expected: identifier");
        values.insert(l2);
      }
    }
    r.values.assign(values.begin(), values.end());
    if (auto e = validateRequirement(r.key, r.op, r.values); !e.empty()) return bad(e);
    return r;
  }

  Result<std::set<std::string>> parseValues() {
    auto [tok, lit] = consume(true);
    if (tok != Tok::kOpenPar) return bad("found '" + lit + "' expected: '('");
    std::tie(tok, lit) = lookahead(true);
    if (tok == Tok::kIdentifier || tok == Tok::kComma) {
      auto s = parseIdentifiersList();
      if (!s.ok()) return s;
      if (consume(true).first != Tok::kClosedPar) return bad("found '" + lit + "', expected: ')'");
      return s;
    }
    if (tok == Tok::kClosedPar) {
      consume(true);
      return std::set<std::string>{""};
    }
    return bad("found '" + lit + "', expected: ',', ')' or identifier");
  }

  Result<std::set<std::string>> parseIdentifiersList() {
    std::set<std::string> s;
    while (true) {
      auto [tok, lit] = consume(true);
      if (tok == Tok::kIdentifier) {
        s.insert(lit);
        auto [t2, l2] = lookahead(true);
        if (t2 == Tok::kComma) continue;
        if (t2 == Tok::kClosedPar) return s;
        return bad("found '" + l2 + "', expected: ',' or ')'");
      } else if (tok == Tok::kComma) {
        if (s.empty()) s.insert("");
        auto [t2, l2] = lookahead(true);
        if (t2 == Tok::kClosedPar) {
          s.insert("");
          return s;
        }
        if (t2 == Tok::kComma) {
          consume(true);
          s.insert("");
        }
      } else {
        return bad("found '" + lit + "', expected: ',', or identifier");
      }
    }
  }

  std::vector<Item> items_;
  size_t pos_ = 0;
};

void sortByKey(std::vector<LabelSelector::Requirement>& reqs) {
  std::stable_sort(reqs.begin(), reqs.end(),
                   [](const auto& a, const auto& b) { return a.key < b.key; });
}

bool parseInt64(const std::string& s, long long* out) {
  try {
    size_t idx = 0;
    *out = std::stoll(s, &idx, 10);
    return idx == s.size() && !s.empty();
  } catch (...) {
    return false;
  }
}

}  // namespace

Result<LabelSelector> LabelSelector::parse(std::string_view text) {
  Parser p(text);
  auto reqs = p.parse();
  if (!reqs.ok()) return reqs.error();
  LabelSelector s;
  s.requirements_ = std::move(*reqs);
  sortByKey(s.requirements_);
  return s;
}

Result<LabelSelector> LabelSelector::fromJson(const Json& selector) {
  LabelSelector s;
  if (selector.is_null()) {
    s.nothing_ = true;
    return s;
  }
  if (!selector.is_object())
    return makeError(Code::kBadRequest, "label selector must be an object");
  auto bad = [](const std::string& m) { return makeError(Code::kBadRequest, m); };
  if (auto it = selector.find("matchLabels"); it != selector.end() && it->is_object()) {
    for (auto& [k, v] : it->items()) {
      Requirement r{k, Op::kEquals, {v.is_string() ? v.get<std::string>() : v.dump()}};
      if (auto e = validateRequirement(r.key, r.op, r.values); !e.empty()) return bad(e);
      s.requirements_.push_back(std::move(r));
    }
  }
  if (auto it = selector.find("matchExpressions"); it != selector.end() && it->is_array()) {
    for (auto& expr : *it) {
      if (!expr.is_object()) return bad("matchExpressions entries must be objects");
      Requirement r;
      r.key = expr.value("key", "");
      std::string op = expr.value("operator", "");
      if (op == "In")
        r.op = Op::kIn;
      else if (op == "NotIn")
        r.op = Op::kNotIn;
      else if (op == "Exists")
        r.op = Op::kExists;
      else if (op == "DoesNotExist")
        r.op = Op::kDoesNotExist;
      else
        return bad(quote(op) + " is not a valid label selector operator");
      if (auto v = expr.find("values"); v != expr.end() && v->is_array()) {
        for (auto& x : *v) r.values.push_back(x.is_string() ? x.get<std::string>() : x.dump());
      }
      if (auto e = validateRequirement(r.key, r.op, r.values); !e.empty()) return bad(e);
      s.requirements_.push_back(std::move(r));
    }
  }
  sortByKey(s.requirements_);
  return s;
}

LabelSelector LabelSelector::fromMap(const Json& labels) {
  LabelSelector s;
  if (!labels.is_object()) return s;
  for (auto& [k, v] : labels.items()) {
    s.requirements_.push_back({k, Op::kEquals, {v.is_string() ? v.get<std::string>() : v.dump()}});
  }
  sortByKey(s.requirements_);
  return s;
}

bool LabelSelector::matches(const Json& labels) const {
  if (nothing_) return false;
  for (const auto& r : requirements_) {
    const std::string* value = nullptr;
    std::string holder;
    if (labels.is_object()) {
      auto it = labels.find(r.key);
      if (it != labels.end()) {
        holder = it->is_string() ? it->get<std::string>() : it->dump();
        value = &holder;
      }
    }
    auto in = [&] {
      return value && std::find(r.values.begin(), r.values.end(), *value) != r.values.end();
    };
    bool ok = false;
    switch (r.op) {
      case Op::kEquals:
      case Op::kIn:
        ok = in();
        break;
      case Op::kNotEquals:
      case Op::kNotIn:
        ok = !value || !in();
        break;
      case Op::kExists:
        ok = value != nullptr;
        break;
      case Op::kDoesNotExist:
        ok = value == nullptr;
        break;
      case Op::kGreaterThan:
      case Op::kLessThan: {
        long long have, want;
        if (!value || r.values.size() != 1 || !parseInt64(*value, &have) ||
            !parseInt64(r.values[0], &want)) {
          ok = false;
        } else {
          ok = r.op == Op::kGreaterThan ? have > want : have < want;
        }
        break;
      }
    }
    if (!ok) return false;
  }
  return true;
}

std::string LabelSelector::toString() const {
  std::vector<std::string> parts;
  for (const auto& r : requirements_) {
    std::string s;
    if (r.op == Op::kDoesNotExist) s += "!";
    s += r.key;
    std::vector<std::string> vals = r.values;
    std::sort(vals.begin(), vals.end());
    switch (r.op) {
      case Op::kEquals:
        s += "=" + join(vals, ",");
        break;
      case Op::kNotEquals:
        s += "!=" + join(vals, ",");
        break;
      case Op::kIn:
        s += " in (" + join(vals, ",") + ")";
        break;
      case Op::kNotIn:
        s += " notin (" + join(vals, ",") + ")";
        break;
      case Op::kGreaterThan:
        s += ">" + join(vals, ",");
        break;
      case Op::kLessThan:
        s += "<" + join(vals, ",");
        break;
      case Op::kExists:
      case Op::kDoesNotExist:
        break;
    }
    parts.push_back(s);
  }
  return join(parts, ",");
}

// ---- field selectors (k8s.io/apimachinery/pkg/fields) ----

namespace {

struct FieldSet {
  // True when the kind has its own conversion func ("field label not supported: x").
  bool custom = false;
  std::vector<std::string> fields;
};

const FieldSet& fieldSetFor(const std::string& resource) {
  static const std::map<std::string, FieldSet> sets = {
      {"pods",
       {true,
        {"metadata.name", "metadata.namespace", "spec.nodeName", "spec.restartPolicy",
         "spec.schedulerName", "spec.serviceAccountName", "spec.hostNetwork", "status.phase",
         "status.podIP", "status.nominatedNodeName"}}},
      {"events",
       {true,
        {"metadata.name", "metadata.namespace", "involvedObject.kind", "involvedObject.namespace",
         "involvedObject.name", "involvedObject.uid", "involvedObject.apiVersion",
         "involvedObject.resourceVersion", "involvedObject.fieldPath", "reason",
         "reportingComponent", "source", "type"}}},
      {"nodes", {true, {"metadata.name", "spec.unschedulable"}}},
      {"namespaces", {true, {"metadata.name", "status.phase"}}},
      {"services", {true, {"metadata.name", "metadata.namespace", "spec.clusterIP", "spec.type"}}},
      {"replicasets", {true, {"metadata.name", "metadata.namespace", "status.replicas"}}},
      {"replicationcontrollers",
       {true, {"metadata.name", "metadata.namespace", "status.replicas"}}},
      {"secrets", {true, {"metadata.name", "metadata.namespace", "type"}}},
  };
  static const FieldSet defaults{false, {"metadata.name", "metadata.namespace"}};
  auto it = sets.find(resource);
  return it == sets.end() ? defaults : it->second;
}

using table_internal::at;
using table_internal::str;

std::string boolStr(const Json* j) {
  return j && j->is_boolean() && j->get<bool>() ? "true" : "false";
}

// The value an object has for `field`, as Kubernetes' *ToSelectableFields.
std::string fieldValue(const std::string& resource, const Json& o, const std::string& field) {
  if (field == "metadata.name") return str(at(o, {"metadata", "name"}));
  if (field == "metadata.namespace") return str(at(o, {"metadata", "namespace"}));
  if (resource == "pods") {
    if (field == "spec.hostNetwork") return boolStr(at(o, {"spec", "hostNetwork"}));
  }
  if (resource == "nodes" && field == "spec.unschedulable")
    return boolStr(at(o, {"spec", "unschedulable"}));
  if ((resource == "replicasets" || resource == "replicationcontrollers") &&
      field == "status.replicas") {
    const Json* r = at(o, {"status", "replicas"});
    return r && r->is_number() ? std::to_string(r->get<long long>()) : "0";
  }
  if (resource == "events") {
    if (field == "source") return str(at(o, {"source", "component"}));
    if (field == "reportingComponent") return str(at(o, {"reportingComponent"}));
  }
  // Generic dotted path.
  const Json* cur = &o;
  size_t start = 0;
  while (start <= field.size()) {
    size_t dot = field.find('.', start);
    std::string part = field.substr(start, dot == std::string::npos ? dot : dot - start);
    if (!cur->is_object()) return "";
    auto it = cur->find(part);
    if (it == cur->end()) return "";
    cur = &*it;
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return str(cur);
}

// Splits on commas not escaped by a backslash (fields.splitTerms).
std::vector<std::string> splitTerms(std::string_view s) {
  std::vector<std::string> terms;
  if (s.empty()) return terms;
  std::string cur;
  bool slash = false;
  for (char c : s) {
    if (slash) {
      cur += c;
      slash = false;
    } else if (c == '\\') {
      cur += c;
      slash = true;
    } else if (c == ',') {
      terms.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  terms.push_back(cur);
  return terms;
}

}  // namespace

Result<FieldSelector> FieldSelector::parse(std::string_view text, const std::string& resource) {
  FieldSelector sel;
  sel.resource_ = resource;
  auto parts = splitTerms(text);
  std::sort(parts.begin(), parts.end());
  const FieldSet& fs = fieldSetFor(resource);
  for (const auto& part : parts) {
    if (part.empty()) continue;
    // splitTerm: the first operator at the earliest position, preferring != and == over =.
    Term t;
    bool found = false;
    for (size_t i = 0; i < part.size() && !found; ++i) {
      if (part.compare(i, 2, "!=") == 0) {
        t = {part.substr(0, i), false, part.substr(i + 2)};
        found = true;
      } else if (part.compare(i, 2, "==") == 0) {
        t = {part.substr(0, i), true, part.substr(i + 2)};
        found = true;
      } else if (part[i] == '=') {
        t = {part.substr(0, i), true, part.substr(i + 1)};
        found = true;
      } else if (part[i] == '\\') {
        ++i;  // an escaped character is never an operator
      }
    }
    if (!found) {
      return makeError(Code::kBadRequest, "invalid selector: '" + std::string(text) +
                                              "'; can't understand '" + part + "'");
    }
    // UnescapeValue.
    std::string value;
    bool slash = false;
    for (char c : t.value) {
      if (slash) {
        if (c == '\\' || c == ',' || c == '=') {
          value += c;
        } else {
          return makeError(Code::kBadRequest,
                           std::string("invalid field selector: invalid escape sequence: \\") + c);
        }
        slash = false;
      } else if (c == '\\') {
        slash = true;
      } else if (c == ',' || c == '=') {
        return makeError(Code::kBadRequest,
                         "invalid field selector: unescaped character in value: " +
                             std::to_string(static_cast<int>(c)));
      } else {
        value += c;
      }
    }
    if (slash)
      return makeError(Code::kBadRequest, "invalid field selector: invalid escape sequence: \\");
    t.value = value;
    std::string field = t.field;
    if (resource == "pods" && field == "spec.host") field = "spec.nodeName";  // old v1 clients
    if (std::find(fs.fields.begin(), fs.fields.end(), field) == fs.fields.end()) {
      if (fs.custom) return makeError(Code::kBadRequest, "field label not supported: " + t.field);
      return makeError(Code::kBadRequest,
                       quote(t.field) +
                           " is not a known field selector: only \"metadata.name\", "
                           "\"metadata.namespace\"");
    }
    t.field = field;
    sel.terms_.push_back(std::move(t));
  }
  return sel;
}

bool FieldSelector::matches(const Json& object) const {
  for (const auto& t : terms_) {
    bool eq = fieldValue(resource_, object, t.field) == t.value;
    if (eq != t.equals) return false;
  }
  return true;
}

std::string FieldSelector::toString() const {
  std::vector<std::string> parts;
  for (const auto& t : terms_) {
    std::string v;
    for (char c : t.value) {
      if (c == '\\' || c == ',' || c == '=') v += '\\';
      v += c;
    }
    parts.push_back(t.field + (t.equals ? "=" : "!=") + v);
  }
  return join(parts, ",");
}

bool selects(const std::optional<LabelSelector>& labels, const std::optional<FieldSelector>& fields,
             const Json& object) {
  if (labels && !labels->matches(valueOrNull(jsonAt(object, {"metadata", "labels"})))) return false;
  return !fields || fields->matches(object);
}

}  // namespace skiff::api
