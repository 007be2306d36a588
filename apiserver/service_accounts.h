// ServiceAccounts beyond plain CRUD:
//
// - The "default" ServiceAccount every namespace has. Kubernetes' serviceaccounts
//   controller (controller-manager) keeps it; skiff keeps it in the apiserver,
//   next to the namespace finalizer (rest.cpp), for the same reason that loop
//   lives there: `skiff apiserver` alone must be a whole API. bootstrap() creates it in
//   the four system namespaces; the namespace loop creates it in every active
//   namespace that lacks it (a new namespace, or one whose default was
//   deleted) and never in a terminating one.
//
// Thread-safe: functions of their arguments and the store.
#pragma once

#include <string>

#include "api/json.h"

namespace skiff::apiserver {

// The ServiceAccount "default" of namespace `ns`, as a create would store it
// (uid and creationTimestamp filled in).
api::Json defaultServiceAccount(const std::string& ns);

}  // namespace skiff::apiserver
