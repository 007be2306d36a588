// Small helpers for object metadata as the REST API fills it: UIDs, RFC 3339
// timestamps, generateName suffixes, resourceVersion embedding, opaque
// continue tokens, and the pod QoS class.
//
// Pure (or RNG-only) functions; thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <random>
#include <string>

#include "api/json.h"
#include "api/time.h"
#include "storage/store.h"

namespace skiff::apiserver {

// This thread's random generator (seeded from std::random_device), shared by
// names, UIDs and the service allocator.
std::mt19937_64& rng();
// A random UUID v4, "0f8fad5b-d9cb-469f-a165-70867728950e".
std::string newUid();
// n random characters from Kubernetes' generateName alphabet
// ("bcdfghjklmnpqrstvwxz2456789": [a-z0-9] without vowels and look-alikes).
std::string randomSuffix(int n = 5);
// "2026-11-26T15:34:53Z" (api/time.h).
using api::formatTime;
using api::nowRfc3339;

// The object's JSON text with metadata.resourceVersion = rv.
std::string encodeWithRevision(const api::Json& object, storage::Revision rv);
// The same as a store op's encoder: the object is serialized here, on the
// caller's thread, and the writer only splices the revision in.
std::function<std::string(storage::Revision)> revisionEncoder(api::Json object);
// The store op that replaces `key`, last written at `expected`, by `next`
// (stamped with the new revision on write).
storage::Op updateOp(const std::string& key, storage::Revision expected, api::Json next);

// Opaque list continuation: the list's revision and the last key returned.
std::string encodeContinue(storage::Revision rv, const std::string& lastKey);
struct ContinueToken {
  storage::Revision rv = 0;
  std::string lastKey;
};
std::optional<ContinueToken> decodeContinue(const std::string& token);

// Kubernetes' QoS class of a pod: "Guaranteed", "Burstable" or "BestEffort".
std::string podQosClass(const api::Json& pod);

// Convenience accessors that tolerate missing or mistyped fields.
std::string stringAt(const api::Json& object, const char* section, const char* field);
const api::Json* fieldAt(const api::Json& object, const char* section, const char* field);

}  // namespace skiff::apiserver
