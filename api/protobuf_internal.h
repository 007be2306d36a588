// Private to api/protobuf*.cpp: the field-number tables the protobuf reader
// (protobuf.cpp) walks messages with, defined in protobuf_tables.cpp. Built
// once on first use and immutable afterwards; safe to read from any thread.
#pragma once

#include <map>
#include <string>

namespace skiff::api::protobuf_internal {

enum FieldFlag : unsigned {
  kPointer = 1,  // a Go pointer field: an explicit zero or false is kept
  kInline = 2,   // an embedded Go struct: `name` is the message whose fields join this object
  kMicro = 4,    // metav1.MicroTime: microseconds in the JSON text
};

struct FieldNumber {
  std::string name;  // JSON field name; for kInline the table (message) name
  unsigned flags = 0;
};
using MessageTable = std::map<int, FieldNumber>;
using Tables = std::map<std::string, MessageTable>;

// Message tables keyed by the type model's names ("io.k8s.api.core.v1.PodSpec");
// ProbeHandler, VolumeSource and EphemeralContainerCommon exist only in
// protobuf (Go embeds them inline in Probe, Volume and EphemeralContainer).
const Tables& tables();

}  // namespace skiff::api::protobuf_internal
