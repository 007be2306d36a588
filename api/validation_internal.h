// Private to api/: helpers shared by decoding, defaulting and the validation_*.cpp
// files. Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/json.h"
#include "api/validation.h"

namespace skiff::api::detail {

// resource.Quantity ("100m", "1Gi", "1e3", 2): its value, or nullopt with
// Kubernetes' parse error text in *error.
std::optional<double> parseQuantity(const Json& value, std::string* error = nullptr);
inline constexpr const char* kQuantityFormatError =
    "quantities must match the regular expression "
    "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

// The volume source fields of a Volume, in the order validation reports a second one;
// shared by defaulting (a volume with none gets emptyDir) and validation.
inline constexpr const char* kVolumeSources[] = {"hostPath",
                                                 "emptyDir",
                                                 "secret",
                                                 "configMap",
                                                 "projected",
                                                 "downwardAPI",
                                                 "persistentVolumeClaim",
                                                 "nfs",
                                                 "image",
                                                 "ephemeral",
                                                 "csi",
                                                 "gcePersistentDisk",
                                                 "awsElasticBlockStore",
                                                 "gitRepo",
                                                 "iscsi",
                                                 "glusterfs",
                                                 "rbd",
                                                 "flexVolume",
                                                 "cinder",
                                                 "cephfs",
                                                 "flocker",
                                                 "fc",
                                                 "azureFile",
                                                 "azureDisk",
                                                 "vsphereVolume",
                                                 "quobyte",
                                                 "photonPersistentDisk",
                                                 "portworxVolume",
                                                 "scaleIO",
                                                 "storageos"};

// Kubernetes' RegexError text: msg, then the examples and the regex `fmt`.
std::string regexError(const std::string& msg, const std::string& fmt,
                       const std::vector<std::string>& examples);

// RFC 3339 date-time as metav1.Time accepts it.
bool isRfc3339(std::string_view s);

// IPv4 or IPv6 address in canonical-enough form (inet_pton).
bool isIPv4(const std::string& s);
bool isIPv6(const std::string& s);
inline bool isIP(const std::string& s) {
  return isIPv4(s) || isIPv6(s);
}

// Kubernetes' small-function library (k8s.io/apimachinery/pkg/util/validation).
std::vector<std::string> isQualifiedName(const std::string& value);
std::vector<std::string> isValidLabelValue(const std::string& value);
std::vector<std::string> isCIdentifier(const std::string& value);
std::vector<std::string> isValidPortName(const std::string& value);
std::vector<std::string> isInRange(long long value, long long lo, long long hi);
std::string inclusiveRangeError(long long lo, long long hi);

// "a.b" + "c" -> "a.b.c"; "a" + index 3 -> "a[3]"; "a" + key k -> "a[k]".
inline std::string child(const std::string& path, const std::string& name) {
  return path.empty() ? name : path + "." + name;
}
inline std::string index(const std::string& path, size_t i) {
  return path + "[" + std::to_string(i) + "]";
}
inline std::string key(const std::string& path, const std::string& k) {
  return path + "[" + k + "]";
}

// Reading decoded JSON without exceptions.
const Json* get(const Json& obj, const char* name);
std::string getString(const Json& obj, const char* name);
bool hasString(const Json& obj, const char* name);

// Object metadata checks (validation_meta.cpp), as ValidateObjectMeta.
using NameValidator = std::vector<std::string> (*)(const std::string&);
void validateObjectMeta(const Json& meta, bool namespaced, NameValidator nameFn,
                        const std::string& path, FieldErrors& errs);
void validateObjectMetaUpdate(const Json& meta, const Json& oldMeta, const std::string& path,
                              FieldErrors& errs);
void validateLabels(const Json& labels, const std::string& path, FieldErrors& errs);
void validateLabelSelector(const Json& sel, const std::string& path, FieldErrors& errs);

// Per-kind checks.
void validatePodSpec(const Json& spec, const std::string& path, FieldErrors& errs);
void validatePodSpecUpdate(const Json& spec, const Json& oldSpec, const std::string& path,
                           FieldErrors& errs);
void validateService(const Json& svc, FieldErrors& errs);
void validateServiceUpdate(const Json& svc, const Json& old, FieldErrors& errs);
void validateEndpoints(const Json& ep, FieldErrors& errs);
// validation_config.cpp: keys, the 1 MiB limit, Secret types; an update keeps
// a Secret's type, and an immutable object's data and immutability.
void validateConfigMap(const Json& cm, FieldErrors& errs);
void validateSecret(const Json& secret, FieldErrors& errs);
void validateConfigDataUpdate(const Json& object, const Json& old, bool secret, FieldErrors& errs);
void validateNode(const Json& node, FieldErrors& errs);
void validateEvent(const Json& ev, FieldErrors& errs);
void validateDeployment(const Json& d, FieldErrors& errs);
void validateReplicaSet(const Json& rs, FieldErrors& errs);
void validatePodTemplate(const Json& tmpl, const Json* selector, const std::string& path,
                         FieldErrors& errs);

}  // namespace skiff::api::detail
