// The default ServiceAccounts (service_accounts.h).
#include "apiserver/service_accounts.h"

#include "apiserver/objects.h"
#include "apiserver/registry.h"
#include "base/log.h"

namespace skiff::apiserver {

using api::Json;

namespace {

const ResourceInfo& serviceAccounts() {
  static const ResourceInfo* r = findResource("", "v1", "serviceaccounts");
  return *r;
}

}  // namespace

Json defaultServiceAccount(const std::string& ns) {
  return {{"apiVersion", "v1"},
          {"kind", "ServiceAccount"},
          {"metadata",
           {{"name", "default"},
            {"namespace", ns},
            {"uid", newUid()},
            {"creationTimestamp", nowRfc3339()}}}};
}

// ---- the default ServiceAccount of every namespace ----

Status RestApiImpl::bootstrapDefaultServiceAccount(const std::string& ns) {
  storage::Op op;
  op.key = objectKey(serviceAccounts(), ns, "default");
  if (store_.get(op.key).ok()) return {};
  op.encode = revisionEncoder(defaultServiceAccount(ns));
  auto r = store_.commitSync({op});
  if (!r && r.error().code != Code::kAlreadyExists) return r.error();
  return {};
}

void RestApiImpl::ensureDefaultServiceAccounts() {
  auto namespaces = store_.list("/registry/namespaces/");
  if (!namespaces) return;
  for (const auto& rec : namespaces->items) {
    auto ns = parseStored(rec.value);
    if (!ns || !stringAt(*ns, "metadata", "deletionTimestamp").empty() ||
        stringAt(*ns, "status", "phase") == "Terminating")
      continue;
    const std::string name = stringAt(*ns, "metadata", "name");
    Scope scope;
    scope.resource = &serviceAccounts();
    scope.ns = name;
    scope.name = "default";
    auto existing = store_.get(scope.key());
    if (existing || existing.error().code != Code::kNotFound) continue;
    // Through planCreate, as a client's create: the namespace's state is
    // checked again there, so one that began terminating since the list above
    // refuses it (and one that begins after the commit empties it).
    runWrite(
        [this, scope](const std::set<std::string>& avoid) -> Result<WritePlan> {
          return planCreate(scope, defaultServiceAccount(scope.ns), false, avoid);
        },
        scope,
        [name](Result<WritePlan> plan, Result<storage::TxnResult> txn) {
          const Error* e = !plan ? &plan.error() : !txn ? &txn.error() : nullptr;
          if (!e) {
            logInfo("default serviceaccount created", {{"namespace", name}});
          } else if (e->code != Code::kAlreadyExists && e->code != Code::kForbidden &&
                     e->code != Code::kNotFound) {
            logWarn("default serviceaccount not created",
                    {{"namespace", name}, {"error", e->message}});
          }
        });
  }
}

}  // namespace skiff::apiserver
