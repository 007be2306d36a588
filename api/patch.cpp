// RFC 7386 JSON merge patch and RFC 6902 JSON patch. Strategic merge patch and
// the three-way patch live in patch_strategic.cpp.
#include "api/patch.h"

#include <string>
#include <vector>

namespace skiff::api {

// ---- RFC 7386 -------------------------------------------------------------

namespace {

Json mergePatch(const Json& target, const Json& patch) {
  if (!patch.is_object()) return patch;
  Json result = target.is_object() ? target : Json::object();
  for (auto& [k, v] : patch.items()) {
    if (v.is_null()) {
      result.erase(k);
    } else {
      auto it = result.find(k);
      result[k] = mergePatch(it == result.end() ? Json() : *it, v);
    }
  }
  return result;
}

}  // namespace

Result<Json> applyMergePatch(const Json& target, const Json& patch) {
  return mergePatch(target, patch);
}

// ---- RFC 6902 -------------------------------------------------------------

namespace {

Error opError(Code code, size_t index, const std::string& op, const std::string& path,
              const std::string& what) {
  return makeError(code, "json patch operation " + std::to_string(index) + " (" + op + " " + path +
                             "): " + what);
}

// Splits a JSON pointer into unescaped reference tokens; false when malformed.
bool parsePointer(const std::string& ptr, std::vector<std::string>* tokens) {
  tokens->clear();
  if (ptr.empty()) return true;
  if (ptr[0] != '/') return false;
  std::string cur;
  for (size_t i = 1; i <= ptr.size(); ++i) {
    if (i == ptr.size() || ptr[i] == '/') {
      tokens->push_back(cur);
      cur.clear();
    } else if (ptr[i] == '~') {
      if (i + 1 >= ptr.size()) return false;
      if (ptr[i + 1] == '0')
        cur += '~';
      else if (ptr[i + 1] == '1')
        cur += '/';
      else
        return false;
      ++i;
    } else {
      cur += ptr[i];
    }
  }
  return true;
}

// An array index token: digits without leading zeros.
bool arrayIndex(const std::string& tok, size_t* out) {
  if (tok.empty() || tok.size() > 9) return false;
  if (tok.size() > 1 && tok[0] == '0') return false;
  size_t v = 0;
  for (char c : tok) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<size_t>(c - '0');
  }
  *out = v;
  return true;
}

// The value at `tokens`, or nullptr.
Json* resolve(Json& doc, const std::vector<std::string>& tokens, size_t count) {
  Json* cur = &doc;
  for (size_t i = 0; i < count; ++i) {
    const std::string& t = tokens[i];
    if (cur->is_object()) {
      auto it = cur->find(t);
      if (it == cur->end()) return nullptr;
      cur = &*it;
    } else if (cur->is_array()) {
      size_t idx;
      if (!arrayIndex(t, &idx) || idx >= cur->size()) return nullptr;
      cur = &(*cur)[idx];
    } else {
      return nullptr;
    }
  }
  return cur;
}

// Error message text when the operation fails; empty on success.
std::string addAt(Json& doc, const std::vector<std::string>& tokens, Json value) {
  if (tokens.empty()) {
    doc = std::move(value);
    return "";
  }
  Json* parent = resolve(doc, tokens, tokens.size() - 1);
  if (!parent) return "path does not exist: missing parent";
  const std::string& last = tokens.back();
  if (parent->is_object()) {
    (*parent)[last] = std::move(value);
    return "";
  }
  if (parent->is_array()) {
    if (last == "-") {
      parent->push_back(std::move(value));
      return "";
    }
    size_t idx;
    if (!arrayIndex(last, &idx)) return "invalid array index: " + last;
    if (idx > parent->size()) return "array index " + last + " out of bounds";
    parent->insert(parent->begin() + static_cast<std::ptrdiff_t>(idx), std::move(value));
    return "";
  }
  return "parent is not an object or array";
}

std::string removeAt(Json& doc, const std::vector<std::string>& tokens, Json* removed) {
  if (tokens.empty()) return "cannot remove the whole document";
  Json* parent = resolve(doc, tokens, tokens.size() - 1);
  if (!parent) return "path does not exist";
  const std::string& last = tokens.back();
  if (parent->is_object()) {
    auto it = parent->find(last);
    if (it == parent->end()) return "path does not exist";
    if (removed) *removed = *it;
    parent->erase(it);
    return "";
  }
  if (parent->is_array()) {
    size_t idx;
    if (!arrayIndex(last, &idx) || idx >= parent->size()) return "path does not exist";
    if (removed) *removed = (*parent)[idx];
    parent->erase(parent->begin() + static_cast<std::ptrdiff_t>(idx));
    return "";
  }
  return "path does not exist";
}

}  // namespace

Result<Json> applyJsonPatch(const Json& target, const Json& patch) {
  if (!patch.is_array()) {
    return makeError(Code::kBadRequest, "json patch must be an array of operations");
  }
  Json doc = target;
  for (size_t i = 0; i < patch.size(); ++i) {
    const Json& op = patch[i];
    if (!op.is_object()) {
      return makeError(Code::kBadRequest,
                       "json patch operation " + std::to_string(i) + ": must be an object");
    }
    auto field = [&](const char* name, std::string* out) {
      auto it = op.find(name);
      if (it == op.end() || !it->is_string()) return false;
      *out = it->get<std::string>();
      return true;
    };
    std::string name, path;
    if (!field("op", &name)) {
      return makeError(Code::kBadRequest,
                       "json patch operation " + std::to_string(i) + ": missing \"op\"");
    }
    if (!field("path", &path)) {
      return makeError(Code::kBadRequest, "json patch operation " + std::to_string(i) + " (" +
                                              name + "): missing \"path\"");
    }
    std::vector<std::string> tokens;
    if (!parsePointer(path, &tokens)) {
      return opError(Code::kBadRequest, i, name, path, "invalid JSON pointer");
    }
    auto needValue = [&]() -> const Json* {
      auto it = op.find("value");
      return it == op.end() ? nullptr : &*it;
    };
    std::string failure;
    if (name == "add") {
      const Json* v = needValue();
      if (!v) return opError(Code::kBadRequest, i, name, path, "missing \"value\"");
      failure = addAt(doc, tokens, *v);
    } else if (name == "remove") {
      failure = removeAt(doc, tokens, nullptr);
    } else if (name == "replace") {
      const Json* v = needValue();
      if (!v) return opError(Code::kBadRequest, i, name, path, "missing \"value\"");
      Json* at = resolve(doc, tokens, tokens.size());
      if (!at) {
        failure = "path does not exist";
      } else {
        *at = *v;
      }
    } else if (name == "move" || name == "copy") {
      std::string from;
      std::vector<std::string> fromTokens;
      if (!field("from", &from))
        return opError(Code::kBadRequest, i, name, path, "missing \"from\"");
      if (!parsePointer(from, &fromTokens)) {
        return opError(Code::kBadRequest, i, name, path, "invalid JSON pointer in from: " + from);
      }
      if (name == "move" && path.size() > from.size() && path.compare(0, from.size(), from) == 0 &&
          path[from.size()] == '/') {
        return opError(Code::kInvalid, i, name, path,
                       "cannot move a value into one of its children (from " + from + ")");
      }
      Json value;
      if (name == "move") {
        failure = removeAt(doc, fromTokens, &value);
        if (!failure.empty()) failure = "from " + from + ": " + failure;
      } else {
        Json* src = resolve(doc, fromTokens, fromTokens.size());
        if (!src) {
          failure = "from " + from + ": path does not exist";
        } else {
          value = *src;
        }
      }
      if (failure.empty()) failure = addAt(doc, tokens, std::move(value));
    } else if (name == "test") {
      const Json* v = needValue();
      if (!v) return opError(Code::kBadRequest, i, name, path, "missing \"value\"");
      Json* at = resolve(doc, tokens, tokens.size());
      if (!at) {
        failure = "path does not exist";
      } else if (!(*at == *v)) {
        failure = "test failed: value is " + at->dump() + ", expected " + v->dump();
      }
    } else {
      return opError(Code::kBadRequest, i, name, path, "unknown operation \"" + name + "\"");
    }
    if (!failure.empty()) return opError(Code::kInvalid, i, name, path, failure);
  }
  return doc;
}

}  // namespace skiff::api
