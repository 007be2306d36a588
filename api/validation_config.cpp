// ConfigMap and Secret validation, as k8s.io/kubernetes/pkg/apis/core/validation
// (ValidateConfigMap, ValidateSecret and their updates).
#include <regex>

#include "api/validation.h"
#include "api/validation_internal.h"

namespace skiff::api::detail {

namespace {

constexpr size_t kMaxDataBytes = 1024 * 1024;  // ConfigMap and Secret: 1 MiB in all
constexpr const char* kImmutable = "field is immutable when `immutable` is set";

// IsConfigMapKey: the keys of data, binaryData and stringData.
std::vector<std::string> configKeyErrors(const std::string& key) {
  static const std::regex re("[-._a-zA-Z0-9]+");
  std::vector<std::string> out;
  if (key.size() > 253) out.push_back("must be no more than 253 characters");
  if (!std::regex_match(key, re))
    out.push_back(
        "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. "
        "'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is "
        "'[-._a-zA-Z0-9]+')");
  if (key == ".") {
    out.push_back("must not be '.'");
  } else if (key == "..") {
    out.push_back("must not be '..'");
  } else if (key.rfind("..", 0) == 0) {
    out.push_back("must not start with '..'");
  }
  return out;
}

// The map object[key] (the decoder made it an object), or {} when absent.
const Json& members(const Json& object, const char* key) {
  return valueOrEmptyObject(get(object, key));
}

// Checks the keys of object[key]; returns the bytes its values hold (decoded
// base64 counts as its decoded length).
size_t checkKeys(const Json& object, const char* key, bool base64, FieldErrors& errs) {
  size_t total = 0;
  for (const auto& [k, v] : members(object, key).items()) {
    for (const std::string& m : configKeyErrors(k))
      errs.push_back(invalid(std::string(key) + "[" + k + "]", k, m));
    if (!v.is_string()) continue;
    const size_t n = v.get_ref<const std::string&>().size();
    total += base64 ? n / 4 * 3 : n;
  }
  return total;
}

}  // namespace

void validateConfigMap(const Json& cm, FieldErrors& errs) {
  size_t total = checkKeys(cm, "data", false, errs);
  total += checkKeys(cm, "binaryData", true, errs);
  const Json& data = members(cm, "data");
  for (const auto& [k, v] : members(cm, "binaryData").items())
    if (data.contains(k))
      errs.push_back(invalid("binaryData[" + k + "]", k, "duplicate of key present in data"));
  if (total > kMaxDataBytes)
    errs.push_back({"FieldValueTooLong", "",
                    "Too long: must have at most " + std::to_string(kMaxDataBytes) + " bytes"});
}

void validateSecret(const Json& secret, FieldErrors& errs) {
  size_t total = checkKeys(secret, "data", true, errs);
  if (total > kMaxDataBytes)
    errs.push_back({"FieldValueTooLong", "data",
                    "Too long: must have at most " + std::to_string(kMaxDataBytes) + " bytes"});
  const Json& data = members(secret, "data");
  const std::string type = secret.value("type", "");
  if (type == "kubernetes.io/tls") {
    for (const char* k : {"tls.crt", "tls.key"})
      if (!data.contains(k)) errs.push_back(required(std::string("data[") + k + "]"));
  } else if (type == "kubernetes.io/dockerconfigjson") {
    if (!data.contains(".dockerconfigjson")) errs.push_back(required("data[.dockerconfigjson]"));
  } else if (type == "kubernetes.io/basic-auth") {
    if (!data.contains("username") && !data.contains("password"))
      errs.push_back(required("data[username]"));
  }
}

void validateConfigDataUpdate(const Json& object, const Json& old, bool secret, FieldErrors& errs) {
  if (secret && object.value("type", "") != old.value("type", ""))
    errs.push_back(invalid("type", object.value("type", ""), "field is immutable"));
  if (!old.value("immutable", false)) return;
  if (!object.value("immutable", false)) errs.push_back(forbidden("immutable", kImmutable));
  for (const char* key : {"data", "binaryData"})
    if (members(object, key) != members(old, key)) errs.push_back(forbidden(key, kImmutable));
}

}  // namespace skiff::api::detail
