// Kubernetes protobuf → JSON: a reader that walks the wire format, looking each
// field up in its message's table of field numbers (protobuf_tables.cpp) and
// asking the type model what the named field holds.
//
// Wire format in brief: a message is a sequence of (key, value); key = number<<3
// | wire type; wire type 0 is a varint, 1 eight bytes, 2 a length-prefixed byte
// string (strings, bytes, nested messages, packed repeated scalars), 5 four
// bytes. Repeated fields repeat their key; a map is a repeated entry message
// {1: key, 2: value}. Kubernetes' special types are messages too:
// IntOrString {1: type (0 int, 1 string), 2: intVal, 3: strVal},
// Quantity {1: string}, Time and MicroTime {1: seconds, 2: nanos}.
#include "api/protobuf.h"

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <functional>
#include <set>

#include "api/protobuf_internal.h"
#include "api/schema.h"
#include "api/time.h"
#include "api/types_internal.h"

namespace skiff::api {

namespace {

using model::kMeta;

using namespace protobuf_internal;

// ---- errors ----

Error malformed(const std::string& path, const std::string& what) {
  return makeError(Code::kBadRequest, "the protobuf body is malformed" +
                                          (path.empty() ? std::string() : " at " + path) + ": " +
                                          what);
}

Error unsupported(const std::string& message) {
  return makeError(Code::kUnsupportedMediaType, message + "; send the object as JSON (" +
                                                    "Content-Type: application/json) instead");
}

std::string at(const std::string& path) {
  return path.empty() ? std::string() : " at " + path;
}

std::string child(const std::string& path, const std::string& name) {
  return path.empty() ? name : path + "." + name;
}

// ---- wire reading ----

class Wire {
 public:
  explicit Wire(std::string_view data) : d_(data) {}
  bool done() const { return pos_ >= d_.size(); }

  bool varint(uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= d_.size()) return false;
      auto b = static_cast<unsigned char>(d_[pos_++]);
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return true;
    }
    return false;  // more than ten bytes
  }
  bool fixed(size_t n, uint64_t& v) {
    if (d_.size() - pos_ < n) return false;
    v = 0;
    for (size_t i = 0; i < n; ++i)
      v |= static_cast<uint64_t>(static_cast<unsigned char>(d_[pos_ + i])) << (8 * i);
    pos_ += n;
    return true;
  }
  bool bytes(std::string_view& out) {
    uint64_t n = 0;
    if (!varint(n) || n > d_.size() - pos_) return false;
    out = d_.substr(pos_, n);
    pos_ += n;
    return true;
  }

 private:
  std::string_view d_;
  size_t pos_ = 0;
};

enum WireType { kVarint = 0, kFixed64 = 1, kBytes = 2, kFixed32 = 5 };

const char* wireTypeName(int wt) {
  switch (wt) {
    case kVarint:
      return "varint";
    case kFixed64:
      return "64-bit";
    case kBytes:
      return "length-delimited";
    case kFixed32:
      return "32-bit";
    default:
      return "unknown";
  }
}

// RFC 3629 well-formed UTF-8 (no overlong forms, surrogates or values past
// U+10FFFF), which the JSON writer requires of every string.
bool validUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t n = 0;
    unsigned char lo = 0x80, hi = 0xbf;  // bounds of the second byte
    if (c < 0x80) {
      n = 0;
    } else if (c >= 0xc2 && c <= 0xdf) {
      n = 1;
    } else if (c >= 0xe0 && c <= 0xef) {
      n = 2;
      if (c == 0xe0) lo = 0xa0;
      if (c == 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3;
      if (c == 0xf0) lo = 0x90;
      if (c == 0xf4) hi = 0x8f;
    } else {
      return false;
    }
    if (n > s.size() - i - 1) return false;
    for (size_t k = 1; k <= n; ++k) {
      auto b = static_cast<unsigned char>(s[i + k]);
      if (k == 1 ? (b < lo || b > hi) : (b & 0xc0) != 0x80) return false;
    }
    i += n + 1;
  }
  return true;
}

// Go's zero time.Time as Unix seconds: metav1.Time writes it for an unset time.
constexpr int64_t kGoZeroTimeSeconds = -62135596800;

// ---- the reader ----

constexpr int kMaxDepth = 64;

class Reader {
 public:
  // Reads `bytes`, a message whose field numbers are in table `tableName`, into
  // `out` (an object), naming fields by the model type `type`.
  Status message(std::string_view bytes, const std::string& tableName, const TypeDef* type,
                 Json& out, const std::string& path, int depth);

 private:
  Status field(Wire& w, int wt, const FieldDef& f, const FieldNumber& num, Json& out,
               const std::string& path, int depth);
  Result<Json> scalar(Wire& w, int wt, FieldKind kind, const FieldDef& f, const std::string& path);
  Result<Json> intOrString(std::string_view bytes, const std::string& path);
  Result<Json> quantity(std::string_view bytes, const std::string& path);
  // Time: an empty Json (null) for the zero time.
  Result<Json> time(std::string_view bytes, bool micro, const std::string& path);
  Result<Json> element(Wire& w, int wt, const FieldDef& f, const std::string& path, int depth);
  Result<Json> nested(std::string_view bytes, const TypeDef* type, const std::string& path,
                      int depth);
};

Status Reader::message(std::string_view bytes, const std::string& tableName, const TypeDef* type,
                       Json& out, const std::string& path, int depth) {
  if (depth > kMaxDepth) return malformed(path, "nested more than 64 levels");
  auto tit = tables().find(tableName);
  if (tit == tables().end())
    return unsupported("skiff has no protobuf field numbers for " + tableName + at(path));
  const MessageTable& table = tit->second;
  if (!out.is_object()) out = Json::object();
  Wire w(bytes);
  while (!w.done()) {
    uint64_t key = 0;
    if (!w.varint(key)) return malformed(path, "truncated field key");
    uint64_t number = key >> 3;
    int wt = static_cast<int>(key & 7);
    if (number == 0 || number > 536870911) return malformed(path, "field number 0");
    auto it = table.find(static_cast<int>(number));
    if (it == table.end()) {
      return unsupported("protobuf field " + std::to_string(number) + " of " + tableName +
                         at(path) + " is not known to skiff");
    }
    const FieldNumber& num = it->second;
    if (num.flags & kInline) {
      std::string_view sub;
      if (wt != kBytes || !w.bytes(sub))
        return malformed(
            path, "field " + std::to_string(number) + " of " + tableName + " is not a message");
      auto st = message(sub, num.name, type, out, path, depth + 1);
      if (!st) return st;
      continue;
    }
    const FieldDef* f = type ? type->field(num.name) : nullptr;
    if (!f) {
      return unsupported("protobuf field " + std::to_string(number) + " (" + num.name + ") of " +
                         tableName + at(path) + " is not in skiff's type model");
    }
    auto st = field(w, wt, *f, num, out, child(path, num.name), depth);
    if (!st) return st;
  }
  return {};
}

Status Reader::field(Wire& w, int wt, const FieldDef& f, const FieldNumber& num, Json& out,
                     const std::string& path, int depth) {
  bool keepZero = num.flags & kPointer;
  switch (f.kind) {
    case FieldKind::kString:
    case FieldKind::kInteger:
    case FieldKind::kNumber:
    case FieldKind::kBoolean: {
      auto v = scalar(w, wt, f.kind, f, path);
      if (!v) return v.error();
      bool zero = (v->is_string() && v->get_ref<const std::string&>().empty()) ||
                  (v->is_number_integer() && v->get<long long>() == 0) ||
                  (v->is_number_float() && v->get<double>() == 0) ||
                  (v->is_boolean() && !v->get<bool>());
      if (zero && !keepZero) return {};
      out[f.name] = std::move(*v);
      return {};
    }
    case FieldKind::kObject: {
      std::string_view sub;
      if (wt != kBytes || !w.bytes(sub)) return malformed(path, "expected a message");
      if (!f.type) return unsupported("field " + path + " has no type in skiff's model");
      Json& target = out[f.name];
      return message(sub, f.type->name, f.type, target, path, depth + 1);
    }
    case FieldKind::kIntOrString:
    case FieldKind::kQuantity:
    case FieldKind::kTime: {
      std::string_view sub;
      if (wt != kBytes || !w.bytes(sub)) return malformed(path, "expected a message");
      Result<Json> v = f.kind == FieldKind::kIntOrString ? intOrString(sub, path)
                       : f.kind == FieldKind::kQuantity  ? quantity(sub, path)
                                                         : time(sub, num.flags & kMicro, path);
      if (!v) return v.error();
      if (v->is_null()) return {};  // the zero time
      if (f.kind == FieldKind::kIntOrString && !keepZero && v->is_number_integer() &&
          v->get<long long>() == 0)
        return {};
      out[f.name] = std::move(*v);
      return {};
    }
    case FieldKind::kArray: {
      Json& arr = out[f.name];
      if (!arr.is_array()) arr = Json::array();
      // Packed repeated scalars: many varints in one length-delimited value.
      if (wt == kBytes &&
          (f.elemKind == FieldKind::kInteger || f.elemKind == FieldKind::kBoolean)) {
        std::string_view packed;
        if (!w.bytes(packed)) return malformed(path, "truncated packed list");
        Wire pw(packed);
        while (!pw.done()) {
          auto v =
              scalar(pw, kVarint, f.elemKind, f, path + "[" + std::to_string(arr.size()) + "]");
          if (!v) return v.error();
          arr.push_back(std::move(*v));
        }
        return {};
      }
      auto v = element(w, wt, f, path + "[" + std::to_string(arr.size()) + "]", depth);
      if (!v) return v.error();
      arr.push_back(std::move(*v));
      return {};
    }
    case FieldKind::kMap: {
      std::string_view entry;
      if (wt != kBytes || !w.bytes(entry)) return malformed(path, "expected a map entry");
      Wire ew(entry);
      std::string key;
      Json value;
      bool haveValue = false;
      while (!ew.done()) {
        uint64_t k = 0;
        if (!ew.varint(k)) return malformed(path, "truncated map entry");
        int ewt = static_cast<int>(k & 7);
        if ((k >> 3) == 1) {
          std::string_view s;
          if (ewt != kBytes || !ew.bytes(s)) return malformed(path, "map key is not a string");
          if (!validUtf8(s)) return malformed(path, "map key is not valid UTF-8");
          key.assign(s);
        } else if ((k >> 3) == 2) {
          auto v = element(ew, ewt, f, path + "[" + key + "]", depth);
          if (!v) return v.error();
          value = std::move(*v);
          haveValue = true;
        } else {
          return malformed(path, "map entry field " + std::to_string(k >> 3));
        }
      }
      if (!haveValue) {
        value = f.elemKind == FieldKind::kQuantity ? Json("0")
                : f.elemKind == FieldKind::kObject ? Json::object()
                                                   : Json("");
      }
      Json& map = out[f.name];
      if (!map.is_object()) map = Json::object();
      map[key] = std::move(value);
      return {};
    }
    case FieldKind::kAny:
      break;
  }
  return unsupported("field " + path + " cannot be read from protobuf by skiff");
}

Result<Json> Reader::scalar(Wire& w, int wt, FieldKind kind, const FieldDef& f,
                            const std::string& path) {
  auto wrongType = [&](const char* want) {
    return malformed(
        path, std::string("expected a ") + want + " value, got wire type " + wireTypeName(wt));
  };
  switch (kind) {
    case FieldKind::kString: {
      std::string_view s;
      if (wt != kBytes) return wrongType("length-delimited");
      if (!w.bytes(s)) return malformed(path, "truncated string");
      if (f.format == "byte") return Json(base64Encode(s));
      if (!validUtf8(s)) return malformed(path, "string is not valid UTF-8");
      return Json(std::string(s));
    }
    case FieldKind::kInteger: {
      uint64_t v = 0;
      if (wt != kVarint) return wrongType("varint");
      if (!w.varint(v)) return malformed(path, "truncated varint");
      int64_t n = static_cast<int64_t>(v);
      if (f.format == "int32") n = static_cast<int32_t>(static_cast<uint32_t>(v));
      return Json(static_cast<long long>(n));
    }
    case FieldKind::kBoolean: {
      uint64_t v = 0;
      if (wt != kVarint) return wrongType("varint");
      if (!w.varint(v)) return malformed(path, "truncated varint");
      return Json(v != 0);
    }
    case FieldKind::kNumber: {
      uint64_t v = 0;
      if (wt == kFixed64) {
        if (!w.fixed(8, v)) return malformed(path, "truncated double");
        double d;
        std::memcpy(&d, &v, sizeof d);
        return Json(d);
      }
      if (wt == kFixed32) {
        if (!w.fixed(4, v)) return malformed(path, "truncated float");
        uint32_t u = static_cast<uint32_t>(v);
        float fl;
        std::memcpy(&fl, &u, sizeof fl);
        return Json(static_cast<double>(fl));
      }
      return wrongType("64-bit");
    }
    default:
      return unsupported("field " + path + " cannot be read from protobuf by skiff");
  }
}

Result<Json> Reader::element(Wire& w, int wt, const FieldDef& f, const std::string& path,
                             int depth) {
  switch (f.elemKind) {
    case FieldKind::kObject: {
      std::string_view sub;
      if (wt != kBytes || !w.bytes(sub)) return malformed(path, "expected a message");
      return nested(sub, f.type, path, depth);
    }
    case FieldKind::kQuantity:
    case FieldKind::kIntOrString:
    case FieldKind::kTime: {
      std::string_view sub;
      if (wt != kBytes || !w.bytes(sub)) return malformed(path, "expected a message");
      if (f.elemKind == FieldKind::kQuantity) return quantity(sub, path);
      if (f.elemKind == FieldKind::kIntOrString) return intOrString(sub, path);
      return time(sub, false, path);
    }
    default:
      return scalar(w, wt, f.elemKind, f, path);
  }
}

Result<Json> Reader::nested(std::string_view bytes, const TypeDef* type, const std::string& path,
                            int depth) {
  if (!type) return unsupported("field " + path + " has no type in skiff's model");
  Json obj = Json::object();
  auto st = message(bytes, type->name, type, obj, path, depth + 1);
  if (!st) return st.error();
  return obj;
}

Result<Json> Reader::intOrString(std::string_view bytes, const std::string& path) {
  Wire w(bytes);
  uint64_t type = 0, intVal = 0;
  std::string strVal;
  while (!w.done()) {
    uint64_t k = 0;
    if (!w.varint(k)) return malformed(path, "truncated IntOrString");
    int wt = static_cast<int>(k & 7);
    uint64_t n = k >> 3;
    if ((n == 1 || n == 2) && wt == kVarint) {
      if (!w.varint(n == 1 ? type : intVal)) return malformed(path, "truncated IntOrString");
    } else if (n == 3 && wt == kBytes) {
      std::string_view s;
      if (!w.bytes(s)) return malformed(path, "truncated IntOrString");
      if (!validUtf8(s)) return malformed(path, "string is not valid UTF-8");
      strVal.assign(s);
    } else {
      return malformed(path, "IntOrString field " + std::to_string(n));
    }
  }
  if (type == 1) return Json(strVal);
  if (type != 0) return malformed(path, "IntOrString type " + std::to_string(type));
  return Json(static_cast<long long>(static_cast<int32_t>(static_cast<uint32_t>(intVal))));
}

Result<Json> Reader::quantity(std::string_view bytes, const std::string& path) {
  Wire w(bytes);
  std::string s;
  while (!w.done()) {
    uint64_t k = 0;
    std::string_view v;
    if (!w.varint(k)) return malformed(path, "truncated Quantity");
    if ((k >> 3) != 1 || (k & 7) != kBytes || !w.bytes(v))
      return malformed(path, "Quantity field " + std::to_string(k >> 3));
    if (!validUtf8(v)) return malformed(path, "string is not valid UTF-8");
    s.assign(v);
  }
  return Json(s.empty() ? std::string("0") : s);  // Go writes a zero Quantity as "0"
}

Result<Json> Reader::time(std::string_view bytes, bool micro, const std::string& path) {
  Wire w(bytes);
  uint64_t seconds = 0, nanos = 0;
  while (!w.done()) {
    uint64_t k = 0;
    if (!w.varint(k)) return malformed(path, "truncated Time");
    uint64_t n = k >> 3;
    if ((n != 1 && n != 2) || (k & 7) != kVarint)
      return malformed(path, "Time field " + std::to_string(n));
    if (!w.varint(n == 1 ? seconds : nanos)) return malformed(path, "truncated Time");
  }
  auto s = static_cast<int64_t>(seconds);
  auto ns = static_cast<int32_t>(static_cast<uint32_t>(nanos));
  if (bytes.empty() || (s == kGoZeroTimeSeconds && ns == 0)) return Json();  // Go's zero time: null
  if (ns < 0 || ns > 999999999) return malformed(path, "Time nanos out of range");
  return Json(formatTime(s, ns, micro ? TimeFraction::kMicro : TimeFraction::kNone));
}

// The type model's TypeDef for an envelope's apiVersion and kind.
const TypeDef* typeForEnvelope(const std::string& apiVersion, const std::string& kind) {
  GroupVersionKind gvk;
  size_t slash = apiVersion.find('/');
  if (slash == std::string::npos) {
    gvk.version = apiVersion;
  } else {
    gvk.group = apiVersion.substr(0, slash);
    gvk.version = apiVersion.substr(slash + 1);
  }
  gvk.kind = kind;
  if (const TypeDef* t = typeForKind(gvk)) return t;
  // DeleteOptions travels with the group version of the request it rides on.
  if (kind == "DeleteOptions") return findType(kMeta + "DeleteOptions");
  return nullptr;
}

}  // namespace

bool isProtobufContentType(std::string_view contentType) {
  std::string_view t = contentType.substr(0, contentType.find(';'));
  while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
  while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
  return t == kProtobufMediaType;
}

Result<Json> decodeProtobufMessage(std::string_view message, const std::string& typeName) {
  const TypeDef* type = findType(typeName);
  if (!type) return unsupported("skiff has no type " + typeName);
  Json out = Json::object();
  Reader reader;
  auto st = reader.message(message, typeName, type, out, "", 0);
  if (!st) return st.error();
  return out;
}

Result<Json> decodeProtobuf(std::string_view body) {
  static constexpr std::string_view kMagic("k8s\0", 4);
  if (body.substr(0, 4) != kMagic)
    return malformed("", "it does not start with the Kubernetes magic \"k8s\\x00\"");
  Wire w(body.substr(4));
  std::string apiVersion, kind, contentEncoding;
  std::string_view raw;
  bool haveRaw = false;
  while (!w.done()) {
    uint64_t k = 0;
    if (!w.varint(k)) return malformed("", "truncated envelope");
    std::string_view v;
    if ((k & 7) != kBytes || !w.bytes(v)) return malformed("", "truncated envelope");
    switch (k >> 3) {
      case 1: {  // typeMeta
        Wire tw(v);
        while (!tw.done()) {
          uint64_t tk = 0;
          std::string_view s;
          if (!tw.varint(tk) || (tk & 7) != kBytes || !tw.bytes(s))
            return malformed("", "truncated typeMeta");
          if ((tk >> 3) == 1) apiVersion.assign(s);
          if ((tk >> 3) == 2) kind.assign(s);
        }
        break;
      }
      case 2:
        raw = v;
        haveRaw = true;
        break;
      case 3:
        contentEncoding.assign(v);
        break;
      case 4:  // contentType: empty for protobuf
        break;
      default:
        return malformed("", "envelope field " + std::to_string(k >> 3));
    }
  }
  if (!contentEncoding.empty())
    return unsupported("protobuf bodies with content encoding \"" + contentEncoding +
                       "\" are not supported");
  if (kind.empty() || apiVersion.empty())
    return malformed("", "the envelope carries no apiVersion and kind");
  if (!haveRaw) return malformed("", "the envelope carries no object");
  if (!validUtf8(kind) || !validUtf8(apiVersion))
    return malformed("", "apiVersion or kind is not valid UTF-8");
  const TypeDef* type = typeForEnvelope(apiVersion, kind);
  if (!type)
    return unsupported("skiff cannot read kind \"" + kind + "\" of version \"" + apiVersion +
                       "\" from protobuf");
  Json out = Json::object();
  Reader reader;
  auto st = reader.message(raw, type->name, type, out, "", 0);
  if (!st) return st.error();
  out["apiVersion"] = apiVersion;
  out["kind"] = kind;
  return out;
}

Status checkProtobufTables() {
  const Tables& t = tables();
  std::set<std::string> inlined;
  // Every field of `tableName` must be a field of model type `type`.
  std::function<Status(const std::string&, const TypeDef*)> check =
      [&](const std::string& tableName, const TypeDef* type) -> Status {
    auto it = t.find(tableName);
    if (it == t.end()) return makeError(Code::kInternal, "no table " + tableName);
    for (const auto& [number, num] : it->second) {
      if (num.flags & kInline) {
        inlined.insert(num.name);
        auto st = check(num.name, type);
        if (!st) return st.error().wrap(tableName + " field " + std::to_string(number));
      } else if (!type->field(num.name)) {
        return makeError(Code::kInternal, tableName + " field " + std::to_string(number) + " (" +
                                              num.name + ") is not in model type " + type->name);
      }
    }
    return {};
  };
  for (const auto& [name, table] : t) {
    const TypeDef* type = findType(name);
    if (!type) continue;  // proto-only, checked where inlined
    auto st = check(name, type);
    if (!st) return st;
  }
  for (const auto& [name, table] : t) {
    if (!findType(name) && !inlined.count(name))
      return makeError(Code::kInternal, "table " + name + " is neither a model type nor inlined");
  }
  // Every model type reachable from a served kind has a table covering its fields.
  std::set<std::string> seen;
  std::function<Status(const TypeDef*)> reach = [&](const TypeDef* type) -> Status {
    if (!type || !seen.insert(type->name).second) return {};
    auto it = t.find(type->name);
    if (it == t.end()) return makeError(Code::kInternal, "no field numbers for " + type->name);
    std::set<std::string> numbered;
    std::function<void(const MessageTable&)> collect = [&](const MessageTable& m) {
      for (const auto& [number, num] : m) {
        if (num.flags & kInline) {
          collect(t.at(num.name));
        } else {
          numbered.insert(num.name);
        }
      }
    };
    collect(it->second);
    for (const FieldDef& f : type->fields) {
      if (type->gvk && (f.name == "apiVersion" || f.name == "kind")) continue;
      if (!numbered.count(f.name))
        return makeError(Code::kInternal,
                         "model field " + type->name + "." + f.name + " has no field number");
      auto st = reach(f.type);
      if (!st) return st;
    }
    return {};
  };
  for (const TypeDef* type : allTypes()) {
    // WatchEvent only ever travels from server to client.
    if (!type->gvk || type->gvk->kind == "WatchEvent") continue;
    auto st = reach(type);
    if (!st) return st;
  }
  return {};
}

}  // namespace skiff::api
