// Patches, as the Kubernetes API accepts them (Content-Type of a PATCH):
//   application/merge-patch+json            RFC 7386 JSON merge patch
//   application/json-patch+json             RFC 6902 JSON patch
//   application/strategic-merge-patch+json  Kubernetes strategic merge patch,
//     driven by the type model's patchStrategy/patchMergeKey, with the
//     directives kubectl sends ($patch: replace|delete|merge, $retainKeys,
//     $setElementOrder/<list>, $deleteFromPrimitiveList/<list>).
// And the three-way patch `kubectl apply` computes on the client side, so
// `skiff apply` and `kubectl apply` can take turns on the same objects.
//
// Pure functions; errors are kBadRequest (malformed patch) or kInvalid
// (a JSON patch `test` that fails, a path that does not exist) naming the part.
#pragma once

#include "api/json.h"
#include "api/schema.h"
#include "base/result.h"

namespace skiff::api {

Result<Json> applyMergePatch(const Json& target, const Json& patch);
Result<Json> applyJsonPatch(const Json& target, const Json& patch);
// `type` is the target's type (typeForKind of the object); nullptr degrades to
// merge-patch semantics for lists.
Result<Json> applyStrategicMergePatch(const Json& target, const Json& patch, const TypeDef* type);

// The strategic merge patch from `current` (live) to `modified` (the manifest),
// deleting what `original` (the last-applied-configuration) had and `modified`
// no longer has — kubectl's CreateThreeWayMergePatch. An empty object {} means
// nothing to change (kubectl prints "unchanged").
Result<Json> createThreeWayMergePatch(const Json& original, const Json& modified,
                                      const Json& current, const TypeDef* type);

}  // namespace skiff::api
