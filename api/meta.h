// Readers of an object's metadata that more than one component needs, as
// lenient as api::lenient: a missing or mistyped field reads as absent.
//
// Thread-safety: pure functions.
#pragma once

#include "api/json.h"

namespace skiff::api {

// The API server has set metadata.deletionTimestamp (a non-empty string): the
// object is on its way out, waiting for a grace period or finalizers, and is
// not to be started, adopted or counted as active.
inline bool isDeleting(const Json& obj) {
  const Json* t = jsonAt(obj, {"metadata", "deletionTimestamp"});
  return t && t->is_string() && !t->get_ref<const std::string&>().empty();
}

}  // namespace skiff::api
