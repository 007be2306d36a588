// Strict decoding. The walk mirrors what Go's encoding/json (as Kubernetes'
// sigs.k8s.io/json wraps it) does while unmarshalling into typed structs: the
// first wrong JSON type aborts with "json: cannot unmarshal ...", while unknown
// fields are collected across the whole object and reported together.
#include "api/decode.h"

#include <algorithm>
#include <cctype>
#include <climits>

#include "api/validation_internal.h"

namespace skiff::api {

namespace {

// The offset of the first byte that makes `text` invalid standard base64 (with
// padding), or npos when it is valid.
size_t badBase64At(const std::string& text) {
  auto digit = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/';
  };
  size_t end = text.size();
  size_t pad = 0;
  while (pad < 2 && end > 0 && text[end - 1] == '=') {
    --end;
    ++pad;
  }
  for (size_t i = 0; i < end; ++i)
    if (!digit(text[i])) return i;
  if (text.size() % 4 != 0) return text.size() / 4 * 4;
  return std::string::npos;
}

std::string jsonTypeName(const Json& v) {
  switch (v.type()) {
    case Json::value_t::string:
      return "string";
    case Json::value_t::boolean:
      return "bool";
    case Json::value_t::object:
      return "object";
    case Json::value_t::array:
      return "array";
    case Json::value_t::number_float:
      return "number " + v.dump();
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
      return "number " + v.dump();
    default:
      return "null";
  }
}

// "io.k8s.api.core.v1.ServicePort" -> "ServicePort"; with package: "v1.ServicePort".
std::string shortName(const TypeDef* t) {
  if (!t) return "";
  size_t dot = t->name.rfind('.');
  return dot == std::string::npos ? t->name : t->name.substr(dot + 1);
}
std::string goName(const TypeDef* t) {
  std::string pkg = "v1";
  if (t && t->name.rfind("io.k8s.api.autoscaling.v1.", 0) == 0) pkg = "v1";
  return pkg + "." + shortName(t);
}

std::string goKind(FieldKind kind, const std::string& format, const TypeDef* t) {
  switch (kind) {
    case FieldKind::kString:
      return format == "byte" ? "[]uint8" : "string";
    case FieldKind::kInteger:
      return format == "int64" ? "int64" : "int32";
    case FieldKind::kNumber:
      return "float64";
    case FieldKind::kBoolean:
      return "bool";
    case FieldKind::kObject:
      return goName(t);
    case FieldKind::kIntOrString:
      return "intstr.IntOrString";
    case FieldKind::kQuantity:
      return "resource.Quantity";
    case FieldKind::kTime:
      return "v1.Time";
    case FieldKind::kAny:
      return "interface {}";
    case FieldKind::kArray:
    case FieldKind::kMap:
      return "";
  }
  return "";
}

std::string goFieldType(const FieldDef& f) {
  if (f.kind == FieldKind::kArray) return "[]" + goKind(f.elemKind, f.format, f.type);
  if (f.kind == FieldKind::kMap) return "map[string]" + goKind(f.elemKind, f.format, f.type);
  return goKind(f.kind, f.format, f.type);
}

// Where the walk is, as a chain of steps up to the root; spelled out only for
// an error, so a valid object costs no path strings.
struct Path {
  enum class Step { kRoot, kField, kIndex, kKey };
  const Path* parent = nullptr;
  Step step = Step::kRoot;
  std::string_view name;  // kField, kKey
  size_t index = 0;       // kIndex

  Path field(std::string_view n) const { return {this, Step::kField, n, 0}; }
  Path at(size_t i) const { return {this, Step::kIndex, {}, i}; }
  Path key(std::string_view k) const { return {this, Step::kKey, k, 0}; }

  // The dotted path without list indices or map keys, as Go's type errors
  // print it ("spec.ports").
  std::string dotted() const {
    if (!parent) return "";
    std::string up = parent->dotted();
    if (step != Step::kField) return up;
    return up.empty() ? std::string(name) : up + "." + std::string(name);
  }
  // With them, as strict errors print it ("spec.ports[0]").
  std::string full() const {
    if (!parent) return "";
    std::string up = parent->full();
    switch (step) {
      case Step::kField:
        return detail::child(up, std::string(name));
      case Step::kIndex:
        return detail::index(up, index);
      case Step::kKey:
        return detail::key(up, std::string(name));
      case Step::kRoot:
        break;
    }
    return up;
  }
};

class Walker {
 public:
  Walker(UnknownFields mode) : mode_(mode) {}

  void object(Json& obj, const TypeDef* type, const Path& at) {
    std::vector<std::string> drop;
    for (auto it = obj.begin(); it != obj.end() && !typeError_; ++it) {
      const FieldDef* f = type->field(it.key());
      if (!f) {
        unknownField(type, at.full(), it.key());
        drop.push_back(it.key());
        continue;
      }
      if (it.value().is_null()) {
        drop.push_back(it.key());  // null is "absent", as Go leaves the zero value
        continue;
      }
      value(it.value(), *f, type, at.field(f->name));
    }
    for (const std::string& k : drop) obj.erase(k);
  }

  std::vector<std::string> unknown;  // full paths, with suggestions
  std::optional<std::string> typeError_;

 private:
  void unknownField(const TypeDef* type, const std::string& path, const std::string& name) {
    std::vector<std::string> names;
    for (const FieldDef& f : type->fields) names.push_back(f.name);
    std::string full = detail::child(path, name);
    std::string msg = "unknown field \"" + full + "\"";
    std::string near = closestMatch(name, names);
    if (!near.empty()) msg += ", did you mean \"" + detail::child(path, near) + "\"?";
    unknown.push_back(msg);
  }

  void fail(const Json& v, const TypeDef* owner, const Path& at, const std::string& goType) {
    if (typeError_) return;
    std::string path = at.dotted();
    // Go names the literal only when a number misses a numeric type (range, fraction).
    bool numericTarget = goType == "int32" || goType == "int64" || goType == "float64";
    std::string what = v.is_number() && !numericTarget ? "number" : jsonTypeName(v);
    typeError_ = "json: cannot unmarshal " + what + " into Go struct field " + shortName(owner) +
                 "." + path + " of type " + goType;
  }

  void value(Json& v, const FieldDef& f, const TypeDef* owner, const Path& at) {
    switch (f.kind) {
      case FieldKind::kArray:
        if (!v.is_array()) return fail(v, owner, at, goFieldType(f));
        for (size_t i = 0; i < v.size(); ++i) {
          if (typeError_) return;
          element(v[i], f.elemKind, f.format, f.type, owner, at.at(i));
        }
        return;
      case FieldKind::kMap:
        if (!v.is_object()) return fail(v, owner, at, goFieldType(f));
        for (auto it = v.begin(); it != v.end(); ++it) {
          if (typeError_) return;
          element(it.value(), f.elemKind, f.format, f.type, owner, at.key(it.key()));
        }
        return;
      default:
        element(v, f.kind, f.format, f.type, owner, at);
    }
  }

  void element(Json& v, FieldKind kind, const std::string& format, const TypeDef* type,
               const TypeDef* owner, const Path& at) {
    auto fail = [&] { this->fail(v, owner, at, goKind(kind, format, type)); };
    if (v.is_null()) {
      // Go decodes a null element as the zero value.
      switch (kind) {
        case FieldKind::kObject:
          v = Json::object();
          break;
        case FieldKind::kString:
          v = "";
          break;
        case FieldKind::kInteger:
          v = 0;
          break;
        case FieldKind::kBoolean:
          v = false;
          break;
        default:
          break;
      }
      return;
    }
    switch (kind) {
      case FieldKind::kString:
        if (!v.is_string()) return fail();
        if (format == "byte" && !typeError_) {
          // []byte: standard base64 with padding, as Go's encoding/json reads it.
          size_t bad = badBase64At(v.get_ref<const std::string&>());
          if (bad != std::string::npos)
            typeError_ = "illegal base64 data at input byte " + std::to_string(bad);
        }
        return;
      case FieldKind::kBoolean:
        if (!v.is_boolean()) fail();
        return;
      case FieldKind::kNumber:
        if (!v.is_number()) fail();
        return;
      case FieldKind::kInteger: {
        if (!v.is_number_integer()) return fail();
        bool is64 = format == "int64";
        if (v.is_number_unsigned()) {
          unsigned long long u = v.get<unsigned long long>();
          if (u > (is64 ? static_cast<unsigned long long>(LLONG_MAX) : INT_MAX)) {
            fail();
          }
        } else {
          long long n = v.get<long long>();
          if (!is64 && (n < INT_MIN || n > INT_MAX)) fail();
        }
        return;
      }
      case FieldKind::kIntOrString:
        if (v.is_string()) return;
        if (v.is_number_integer()) {
          long long n = v.is_number_unsigned() && v.get<unsigned long long>() > INT_MAX
                            ? LLONG_MAX
                            : v.get<long long>();
          if (n >= INT_MIN && n <= INT_MAX) return;
        }
        return fail();
      case FieldKind::kQuantity: {
        if (!v.is_string() && !v.is_number()) return fail();
        std::string err;
        if (!detail::parseQuantity(v, &err) && !typeError_) typeError_ = err;
        return;
      }
      case FieldKind::kTime:
        if (!v.is_string()) return fail();
        if (!detail::isRfc3339(v.get_ref<const std::string&>()) && !typeError_) {
          typeError_ = "parsing time \"" + v.get<std::string>() +
                       "\" as \"2006-01-02T15:04:05Z07:00\": cannot parse \"" +
                       v.get<std::string>() + "\" as \"2006\"";
        }
        return;
      case FieldKind::kObject:
        if (!v.is_object()) return fail();
        if (type) object(v, type, at);
        return;
      case FieldKind::kAny:
        return;
      case FieldKind::kArray:
      case FieldKind::kMap:
        return;  // nested collections do not occur in the model
    }
  }

  UnknownFields mode_;
};

// Edit distance counting a swap of neighbours as one edit (optimal string
// alignment), case-insensitively: "sepc" is one edit from "spec".
size_t editDistance(const std::string& a, const std::string& b) {
  auto eq = [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  };
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = eq(a[i - 1], b[j - 1]) ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && eq(a[i - 1], b[j - 2]) && eq(a[i - 2], b[j - 1])) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

}  // namespace

std::string closestMatch(const std::string& word, const std::vector<std::string>& candidates) {
  if (word.size() > 128) return "";  // no field name is that long; bound the work
  std::string best;
  size_t bestDist = SIZE_MAX;
  for (const std::string& c : candidates) {
    size_t d = editDistance(word, c);
    if (d < bestDist) {
      bestDist = d;
      best = c;
    }
  }
  // Close means: at most a third of the word wrong (and at most 3 edits), so
  // "port" suggests "ports" and "selecter" "selector", but "foo" suggests nothing.
  size_t limit = std::min<size_t>(3, std::max<size_t>(1, word.size() / 3));
  if (best.empty() || best == word || bestDist > limit) return "";
  return best;
}

Result<GroupVersionKind> objectKind(const Json& object) {
  if (!object.is_object()) {
    return makeError(Code::kBadRequest, "Object 'Kind' is missing in '" + object.dump() + "'");
  }
  auto av = object.find("apiVersion");
  auto k = object.find("kind");
  if (k == object.end() || !k->is_string() || k->get<std::string>().empty()) {
    return makeError(Code::kBadRequest, "Object 'Kind' is missing in '" + object.dump() + "'");
  }
  if (av == object.end() || !av->is_string() || av->get<std::string>().empty()) {
    return makeError(Code::kBadRequest,
                     "Object 'apiVersion' is missing in '" + object.dump() + "'");
  }
  GroupVersionKind gvk;
  std::string apiVersion = av->get<std::string>();
  size_t slash = apiVersion.find('/');
  if (slash == std::string::npos) {
    gvk.version = apiVersion;
  } else {
    gvk.group = apiVersion.substr(0, slash);
    gvk.version = apiVersion.substr(slash + 1);
  }
  gvk.kind = k->get<std::string>();
  return gvk;
}

Result<Decoded> decodeObject(const Json& object, const GroupVersionKind& gvk,
                             UnknownFields unknown) {
  return decodeObject(Json(object), gvk, unknown);
}

Result<Decoded> decodeObject(Json&& object, const GroupVersionKind& gvk, UnknownFields unknown) {
  const TypeDef* type = typeForKind(gvk);
  std::string prefix =
      gvk.kind + " in version \"" + gvk.version + "\" cannot be handled as a " + gvk.kind + ": ";
  if (!type) {
    return makeError(
        Code::kBadRequest,
        "no kind \"" + gvk.kind + "\" is registered for version \"" + gvk.apiVersion() + "\"");
  }
  if (!object.is_object()) {
    return makeError(Code::kBadRequest, prefix + "json: cannot unmarshal " + jsonTypeName(object) +
                                            " into Go value of type " + goName(type));
  }
  Decoded out{std::move(object), {}};
  Json& obj = out.object;
  // apiVersion and kind: absent (or null/empty) means "the endpoint's".
  auto typeMetaString = [&](const char* name) -> Result<std::string> {
    auto it = obj.find(name);
    if (it == obj.end() || it->is_null()) return std::string();
    if (!it->is_string()) {
      return makeError(Code::kBadRequest, prefix + "json: cannot unmarshal " + jsonTypeName(*it) +
                                              " into Go struct field " + shortName(type) + "." +
                                              name + " of type string");
    }
    return it->get<std::string>();
  };
  Result<std::string> apiVersion = typeMetaString("apiVersion");
  if (!apiVersion) return apiVersion.error();
  Result<std::string> kind = typeMetaString("kind");
  if (!kind) return kind.error();
  // DeleteOptions (like the other meta/v1 option kinds) is registered in every
  // group-version; clients send "v1", "meta.k8s.io/v1" or their own group's.
  bool metaKind = gvk.kind == "DeleteOptions" && gvk.group.empty();
  bool versionOk = apiVersion->empty() || *apiVersion == gvk.apiVersion() ||
                   (metaKind && (*apiVersion == "meta.k8s.io/v1" || *apiVersion == "apps/v1" ||
                                 *apiVersion == "autoscaling/v1"));
  if (!versionOk) {
    return makeError(Code::kBadRequest, "the API version in the data (" + *apiVersion +
                                            ") does not match the expected API version (" +
                                            gvk.apiVersion() + ")");
  }
  if (!kind->empty() && *kind != gvk.kind) {
    return makeError(
        Code::kBadRequest,
        "the kind in the data (" + *kind + ") does not match the expected kind (" + gvk.kind + ")");
  }
  if (!metaKind || apiVersion->empty()) obj["apiVersion"] = gvk.apiVersion();
  obj["kind"] = gvk.kind;

  Walker w(unknown);
  w.object(obj, type, Path{});
  if (w.typeError_) return makeError(Code::kBadRequest, prefix + *w.typeError_);
  if (!w.unknown.empty()) {
    if (unknown == UnknownFields::kStrict) {
      std::string msg = prefix + "strict decoding error: ";
      Error e = makeError(Code::kBadRequest, "");
      for (size_t i = 0; i < w.unknown.size(); ++i) {
        if (i) msg += ", ";
        msg += w.unknown[i];
        // The field path sits between the first pair of quotes.
        const std::string& u = w.unknown[i];
        size_t a = u.find('"'), b = u.find('"', a + 1);
        e.causes.push_back({"FieldValueUnknown", u.substr(a + 1, b - a - 1), u});
      }
      e.message = msg;
      return e;
    }
    if (unknown == UnknownFields::kWarn) out.warnings = std::move(w.unknown);
  }
  return out;
}

}  // namespace skiff::api
