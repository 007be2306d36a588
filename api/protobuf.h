// Kubernetes' protobuf wire format, read into the JSON object skiff's type model
// already decodes, so a protobuf request body joins the JSON path unchanged.
//
// kubectl's typed commands (`kubectl create namespace|deployment|service ...`)
// send their bodies as Content-Type application/vnd.kubernetes.protobuf and do
// not fall back to JSON, so the apiserver must read this format. Responses stay
// JSON: client-go decodes whichever of its accepted types the server answers in.
//
// The body is a 4-byte magic "k8s\0" and then a runtime.Unknown message:
//   1: typeMeta {1: apiVersion, 2: kind}   2: raw (the object's own message)
//   3: contentEncoding (must be empty)      4: contentType
// The raw message is read with a table of field numbers per message type, taken
// from Kubernetes' generated.proto files (core/v1, apps/v1, meta/v1,
// autoscaling/v1); what each field holds (string, integer, list, map, nested
// message, IntOrString, Quantity, Time) comes from the type model (schema.h), so
// the two cannot disagree about a field's shape. A field number the table does
// not know is an error naming the message and the number: data is never dropped.
//
// The Go generator (gogo, proto2) writes every non-pointer field, zero values
// included, while Go's JSON encoder leaves `omitempty` zero values out. To give
// the same JSON as the JSON path, zero scalars of non-pointer fields are left
// out; pointer fields (replicas, runAsUser, automountServiceAccountToken, ...)
// keep an explicit zero. A zero Time (Go's zero time, or an empty message) is
// left out, as Go writes null for it.
//
// Pure functions; safe from any thread.
#pragma once

#include <string>
#include <string_view>

#include "api/json.h"
#include "base/result.h"

namespace skiff::api {

inline constexpr std::string_view kProtobufMediaType = "application/vnd.kubernetes.protobuf";

// True when a Content-Type header value (parameters allowed) names Kubernetes
// protobuf.
bool isProtobufContentType(std::string_view contentType);

// Decodes a whole protobuf request body into a JSON object carrying apiVersion
// and kind from the envelope. Errors:
//   kBadRequest: no "k8s\0" magic, truncated or malformed wire data;
//   kUnsupportedMediaType: a kind skiff does not serve, a compressed body, or a
//     field skiff cannot read ("protobuf field 42 of io.k8s.api.core.v1.PodSpec
//     at spec.template.spec is not known to skiff; send the object as JSON").
Result<Json> decodeProtobuf(std::string_view body);

// Decodes one message of the type model's `typeName` (e.g.
// "io.k8s.api.core.v1.Service") without the envelope; for tests and callers
// holding a bare message. Same errors as decodeProtobuf.
Result<Json> decodeProtobufMessage(std::string_view message, const std::string& typeName);

// Checks the field-number tables against the type model: every table names a
// model type (or an inlined proto-only message), and every field a JSON name
// that type has. kInternal naming the first mismatch; for tests.
Status checkProtobufTables();

}  // namespace skiff::api
