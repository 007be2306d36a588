// The default ServiceAccounts and the token subresource (service_accounts.h).
#include "apiserver/service_accounts.h"

#include <chrono>

#include "api/decode.h"
#include "api/validation.h"
#include "apiserver/api_errors.h"
#include "apiserver/objects.h"
#include "apiserver/registry.h"
#include "base/log.h"

namespace skiff::apiserver {

using api::Json;

namespace {

const api::GroupVersionKind kTokenRequest{"authentication.k8s.io", "v1", "TokenRequest"};

const ResourceInfo& serviceAccounts() {
  static const ResourceInfo* r = findResource("", "v1", "serviceaccounts");
  return *r;
}

// The stored object a token may be bound to, by the reference's kind.
struct BindableKind {
  const char* kind;
  const char* plural;
  bool namespaced;
};
constexpr BindableKind kBindable[] = {
    {"Pod", "pods", true}, {"Secret", "secrets", true}, {"Node", "nodes", false}};

const BindableKind* bindableKind(const std::string& kind) {
  for (const BindableKind& k : kBindable)
    if (kind == k.kind) return &k;
  return nullptr;
}

// The stored object `kind` NAME (in `ns` when namespaced), parsed.
Result<Json> getBindable(storage::Store& store, const BindableKind& kind, const std::string& ns,
                         const std::string& name) {
  return readStored(store, kind.plural, kind.namespaced ? ns : "", name);
}

int64_t unixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
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

bool serviceAccountTokenLive(storage::Store& store, const ServiceAccountClaims& claims) {
  auto uidOf = [](const Result<Json>& object) {
    return object ? stringAt(*object, "metadata", "uid") : std::string();
  };
  const BindableKind saKind{"ServiceAccount", "serviceaccounts", true};
  if (uidOf(getBindable(store, saKind, claims.ns, claims.name)) != claims.uid) return false;
  if (!claims.bound) return true;
  const BindableKind* kind = bindableKind(claims.bound->kind);
  return kind &&
         uidOf(getBindable(store, *kind, claims.ns, claims.bound->name)) == claims.bound->uid;
}

// ---- the token subresource ----

void RestApiImpl::createToken(const Scope& scope, const Request& request,
                              std::shared_ptr<ResponseWriter> writer) {
  auto fail = [&](const Error& e) { respondError(*writer, e); };
  if (request.method != "POST") return fail(methodNotAllowed());
  if (options_.serviceAccountKey.empty())
    return fail(makeError(Code::kUnavailable, "service account tokens are not configured"));
  auto mode = unknownFieldsMode(request);
  if (!mode) return fail(mode.error());
  auto parsed = api::parseJson(request.body);
  if (!parsed) return fail(parsed.error());
  if (!parsed->is_object()) return fail(badRequest("the request body must be a JSON object"));
  auto decoded = api::decodeObject(std::move(*parsed), kTokenRequest, *mode);
  if (!decoded) return fail(decoded.error());
  Json req = std::move(decoded->object);
  auto headers = warningHeaders(decoded->warnings);

  // The order of Kubernetes' TokenREST.Create: names, the ServiceAccount,
  // defaults, validation, the bound object, the cap.
  const std::string bodyName = stringAt(req, "metadata", "name");
  const std::string bodyNs = stringAt(req, "metadata", "namespace");
  if (!bodyName.empty() && bodyName != scope.name)
    return fail(
        api::invalidError(kTokenRequest, scope.name,
                          {api::invalid("metadata.name", bodyName,
                                        "must match the service account name if specified")}));
  if (!bodyNs.empty() && bodyNs != scope.ns)
    return fail(
        api::invalidError(kTokenRequest, scope.name,
                          {api::invalid("metadata.namespace", bodyNs,
                                        "must match the service account namespace if specified")}));
  const BindableKind saKind{"ServiceAccount", "serviceaccounts", true};
  auto sa = getBindable(store_, saKind, scope.ns, scope.name);
  if (!sa) return fail(sa.error());

  if (!req.contains("spec") || !req["spec"].is_object()) req["spec"] = Json::object();
  Json& spec = req["spec"];
  if (!spec.contains("audiences") || !spec["audiences"].is_array() || spec["audiences"].empty())
    spec["audiences"] = Json::array({std::string(kServiceAccountIssuer)});
  if (!spec.contains("expirationSeconds") || spec["expirationSeconds"].is_null())
    spec["expirationSeconds"] = kDefaultTokenSeconds;
  if (!req.contains("metadata") || !req["metadata"].is_object()) req["metadata"] = Json::object();
  req["metadata"]["name"] = scope.name;
  req["metadata"]["namespace"] = scope.ns;
  const int64_t now = unixNow();
  req["metadata"]["creationTimestamp"] = formatTime(now, 0, api::TimeFraction::kNone);
  req.erase("status");

  int64_t seconds = spec["expirationSeconds"].get<int64_t>();
  api::FieldErrors errors;
  if (seconds < kMinTokenSeconds)
    errors.push_back(api::invalid("spec.expirationSeconds", seconds,
                                  "may not specify a duration less than 10 minutes"));
  if (seconds > (int64_t{1} << 32))
    errors.push_back(api::invalid("spec.expirationSeconds", seconds,
                                  "may not specify a duration larger than 2^32 seconds"));
  if (!errors.empty()) return fail(api::invalidError(kTokenRequest, "", errors));

  ServiceAccountClaims claims;
  claims.ns = scope.ns;
  claims.name = scope.name;
  claims.uid = stringAt(*sa, "metadata", "uid");
  if (const Json* ref = api::jsonAt(spec, {"boundObjectRef"}); ref && ref->is_object()) {
    const std::string kind = ref->value("kind", "");
    const std::string apiVersion = ref->value("apiVersion", "");
    const std::string name = ref->value("name", "");
    const std::string uid = ref->value("uid", "");
    const BindableKind* bindable = bindableKind(kind);
    // schema.FromAPIVersionAndKind: the group is what precedes a '/'; only the
    // core group's kinds bind, whatever the version (as Kubernetes checks).
    const size_t slash = apiVersion.find('/');
    const std::string group = slash == std::string::npos ? "" : apiVersion.substr(0, slash);
    const std::string version =
        slash == std::string::npos ? apiVersion : apiVersion.substr(slash + 1);
    if (!bindable || !group.empty())
      return fail(badRequest("cannot bind token to object of type " + group + "/" + version +
                             ", Kind=" + kind));
    auto bound = getBindable(store_, *bindable, scope.ns, name);
    if (!bound) return fail(bound.error());
    if (kind == "Pod") {
      // skiff admits pods without serviceAccountName; they run as the
      // deprecated serviceAccount's, else "default" (as the kubelet reads it).
      std::string podSa = stringAt(*bound, "spec", "serviceAccountName");
      if (podSa.empty()) podSa = stringAt(*bound, "spec", "serviceAccount");
      if (podSa.empty()) podSa = "default";
      if (podSa != scope.name)
        return fail(badRequest("cannot bind token for serviceaccount \"" + scope.name +
                               "\" to pod running with different serviceaccount name."));
    }
    const std::string actualUid = stringAt(*bound, "metadata", "uid");
    if (!uid.empty() && uid != actualUid)
      return fail(conflict(kind, name,
                           "the UID in the bound object reference (" + uid +
                               ") does not match the UID in record. The object might have been "
                               "deleted and then recreated"));
    claims.bound = BoundObject{kind, name, actualUid};
  }
  if (seconds > kMaxTokenSeconds) {
    headers.emplace_back("Warning", "299 - \"requested expiration of " + std::to_string(seconds) +
                                        " seconds shortened to " +
                                        std::to_string(kMaxTokenSeconds) + " seconds\"");
    seconds = kMaxTokenSeconds;
    spec["expirationSeconds"] = seconds;
  }

  for (const Json& a : spec["audiences"])
    if (a.is_string()) claims.audiences.push_back(a.get<std::string>());
  claims.issuedAt = now;
  claims.expires = now + seconds;
  claims.id = newUid();
  req["status"] = {
      {"token", signServiceAccountToken(claims, options_.serviceAccountKey)},
      {"expirationTimestamp", formatTime(claims.expires, 0, api::TimeFraction::kNone)}};
  respondJson(*writer, 201, api::dumpJson(req), std::move(headers));
}

// ---- the default ServiceAccount of every namespace ----

std::optional<storage::Op> missingDefaultServiceAccount(storage::Store& store,
                                                        const std::string& ns) {
  storage::Op op;
  op.key = objectKey(serviceAccounts(), ns, "default");
  auto existing = store.get(op.key);
  if (existing || existing.error().code != Code::kNotFound) return std::nullopt;
  op.encode = revisionEncoder(defaultServiceAccount(ns));
  return op;
}

Status RestApiImpl::bootstrapDefaultServiceAccount(const std::string& ns) {
  auto op = missingDefaultServiceAccount(store_, ns);
  if (!op) return {};
  auto r = store_.commitSync({std::move(*op)});
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
