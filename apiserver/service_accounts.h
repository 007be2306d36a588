// ServiceAccounts beyond plain CRUD:
//
// - The "default" ServiceAccount every namespace has. Kubernetes' serviceaccounts
//   controller (controller-manager) keeps it; skiff keeps it in the apiserver,
//   next to the namespace finalizer (rest.cpp), for the same reason that loop
//   lives there: `skiff apiserver` alone must be a whole API (a TokenRequest for
//   "default" works without any controller running). bootstrap() creates it in
//   the four system namespaces; the namespace loop creates it in every active
//   namespace that lacks it (a new namespace, or one whose default was
//   deleted) and never in a terminating one.
// - The token subresource: POST .../serviceaccounts/NAME/token with a
//   TokenRequest answers 201 with the request, status.token and
//   status.expirationTimestamp (RestApiImpl::createToken, service_accounts.cpp;
//   the rules are Kubernetes' pkg/registry/core/serviceaccount/storage/token.go).
// - Whether a token's ServiceAccount and bound object still exist, for the
//   authenticator (auth.h).
//
// Thread-safe: functions of their arguments and the store.
#pragma once

#include <optional>
#include <string>

#include "api/json.h"
#include "apiserver/service_account_token.h"
#include "storage/store.h"

namespace skiff::apiserver {

// The ServiceAccount "default" of namespace `ns`, as a create would store it
// (uid and creationTimestamp filled in).
api::Json defaultServiceAccount(const std::string& ns);
// The store op creating it when `store` lacks it; nullopt when it is there
// (or cannot be read: the namespace loop tries again).
std::optional<storage::Op> missingDefaultServiceAccount(storage::Store& store,
                                                        const std::string& ns);

// expirationSeconds: the default, Kubernetes' minimum (validation) and skiff's
// cap (Kubernetes' --service-account-max-token-expiration; longer requests are
// shortened, with a Warning).
inline constexpr int64_t kDefaultTokenSeconds = 3600;
inline constexpr int64_t kMinTokenSeconds = 600;
inline constexpr int64_t kMaxTokenSeconds = 48 * 3600;

// True when the claims' ServiceAccount exists with their uid and so does their
// bound object (if any). A store error reads as false (refuse when unsure).
bool serviceAccountTokenLive(storage::Store& store, const ServiceAccountClaims& claims);

}  // namespace skiff::apiserver
