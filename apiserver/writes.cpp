// create, update (PUT), patch, binding and scale: each builds a WritePlan
// (registry.h) from a fresh read, so a lost compare-and-swap simply re-plans.
#include <chrono>

#include "api/decode.h"
#include "api/defaults.h"
#include "api/patch.h"
#include "api/validation.h"
#include "apiserver/api_errors.h"
#include "apiserver/objects.h"
#include "apiserver/registry.h"
#include "apiserver/service_accounts.h"

namespace skiff::apiserver {

using api::Json;

Result<api::UnknownFields> unknownFieldsMode(const Request& request) {
  std::string v = request.param("fieldValidation");
  if (v.empty() || v == "Strict") return api::UnknownFields::kStrict;
  if (v == "Warn") return api::UnknownFields::kWarn;
  if (v == "Ignore") return api::UnknownFields::kIgnore;
  return badRequest("fieldValidation: Unsupported value: \"" + v +
                    "\": supported values: \"Ignore\", \"Strict\", \"Warn\"");
}

std::vector<std::pair<std::string, std::string>> warningHeaders(
    const std::vector<std::string>& warnings) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& w : warnings) {
    std::string escaped;
    for (char c : w) {
      if (c == '"' || c == '\\') escaped += '\\';
      escaped += c;
    }
    out.emplace_back("Warning", "299 - \"" + escaped + "\"");
  }
  return out;
}

namespace {

Result<api::Decoded> decodeBody(const std::string& body, const ResourceInfo& r,
                                api::UnknownFields mode) {
  auto parsed = api::parseJson(body);
  if (!parsed) return parsed.error();
  if (!parsed->is_object()) return badRequest("the request body must be a JSON object");
  return api::decodeObject(std::move(*parsed), r.gvk(), mode);
}

// The decoded object of a create or update, for its planner, which may run
// more than once: the first attempt takes the object; a retry (a lost
// compare-and-swap, a taken generated name) decodes the body again. That costs
// less than the copy of the object each attempt would otherwise make.
class WriteBody {
 public:
  WriteBody(Json object, std::string body, api::UnknownFields mode)
      : object_(std::move(object)), body_(std::move(body)), mode_(mode) {}
  const Json& peek() const { return object_; }
  Result<Json> take(const ResourceInfo& r) {
    if (!taken_) {
      taken_ = true;
      return std::move(object_);
    }
    auto decoded = decodeBody(body_, r, mode_);
    if (!decoded) return decoded.error();
    return std::move(decoded->object);
  }

 private:
  Json object_;
  std::string body_;
  api::UnknownFields mode_;
  bool taken_ = false;
};

// The body of a create or update, decoded as the resource's kind under the
// request's fieldValidation mode; its warnings become Warning headers.
struct DecodedWrite {
  WriteBody body;
  std::vector<std::pair<std::string, std::string>> headers;
  bool dryRun = false;
};

Result<DecodedWrite> decodeWriteRequest(const Request& request, const ResourceInfo& r) {
  auto mode = unknownFieldsMode(request);
  if (!mode) return mode.error();
  auto decoded = decodeBody(request.body, r, *mode);
  if (!decoded) return decoded.error();
  return DecodedWrite{WriteBody(std::move(decoded->object), request.body, *mode),
                      warningHeaders(decoded->warnings), isDryRun(request)};
}

// Appends the write of the object itself, then the allocator's ops and keys.
void addObjectOp(WritePlan& plan, storage::Op op, AllocationPlan& alloc) {
  plan.ops.push_back(std::move(op));
  for (auto& o : alloc.ops) plan.ops.push_back(std::move(o));
  plan.autoKeys = std::move(alloc.autoKeys);
  plan.userKeys = std::move(alloc.userKeys);
}

Json& metadataOf(Json& object) {
  if (!object.contains("metadata") || !object["metadata"].is_object())
    object["metadata"] = Json::object();
  return object["metadata"];
}

void copyField(Json& to, const Json& from, const char* name) {
  if (from.is_object() && from.contains(name)) {
    to[name] = from[name];
  } else {
    to.erase(name);
  }
}

Error namespaceMismatch() {
  return badRequest(
      "the namespace of the provided object does not match the namespace sent on the request");
}

bool finalizersEmpty(const Json& object) {
  const Json* f = fieldAt(object, "metadata", "finalizers");
  return !f || !f->is_array() || f->empty();
}

}  // namespace

// ---- create ----

Result<WritePlan> RestApiImpl::planCreate(const Scope& scope, Json obj, bool dryRun,
                                          const std::set<std::string>& avoid) {
  const ResourceInfo& r = *scope.resource;
  Json& md = metadataOf(obj);
  if (r.namespaced) {
    std::string bodyNs = md.value("namespace", "");
    if (!bodyNs.empty() && bodyNs != scope.ns) return namespaceMismatch();
    md["namespace"] = scope.ns;
  } else {
    md.erase("namespace");
  }
  if (md.contains("resourceVersion") && md["resourceVersion"].is_string() &&
      !md["resourceVersion"].get<std::string>().empty())
    return makeError(Code::kInternal, "resourceVersion should not be set on objects to be created");
  WritePlan plan;
  std::string name = md.value("name", "");
  std::string generateName = md.value("generateName", "");
  if (name.empty() && !generateName.empty()) {
    name = generateName + randomSuffix(5);
    md["name"] = name;
    plan.retryOnExists = true;
  }
  md["uid"] = newUid();
  md["creationTimestamp"] = nowRfc3339();
  md.erase("deletionTimestamp");
  md.erase("deletionGracePeriodSeconds");
  md.erase("selfLink");
  md.erase("resourceVersion");
  if (r.setsGeneration) {
    md["generation"] = 1;
  } else {
    md.erase("generation");
  }
  if (r.plural == "pods") {
    obj["status"] = {{"phase", "Pending"}, {"qosClass", podQosClass(obj)}};
    // As Kubernetes' ServiceAccount admission: a pod runs as "default" unless
    // it names an account, and v1 shows the name in the deprecated field too.
    if (obj.contains("spec") && obj["spec"].is_object()) {
      std::string account = stringAt(obj, "spec", "serviceAccountName");
      if (account.empty()) account = stringAt(obj, "spec", "serviceAccount");
      if (account.empty()) account = "default";
      obj["spec"]["serviceAccountName"] = account;
      obj["spec"]["serviceAccount"] = account;
    }
  } else if (r.plural == "services") {
    obj["status"] = {{"loadBalancer", Json::object()}};
  } else if (r.plural == "namespaces") {
    obj["status"] = {{"phase", "Active"}};
    if (!obj.contains("spec") || !obj["spec"].is_object()) obj["spec"] = Json::object();
    obj["spec"]["finalizers"] = Json::array({"kubernetes"});
    if (!md.contains("labels") || !md["labels"].is_object()) md["labels"] = Json::object();
    if (!name.empty()) md["labels"]["kubernetes.io/metadata.name"] = name;
  } else if (r.group == "apps") {
    obj.erase("status");
  }
  api::applyDefaults(obj, r.gvk());
  AllocationPlan alloc;
  if (r.plural == "services") {
    auto planned = allocator_->plan(obj, nullptr, avoid);
    if (!planned) return planned.error();
    alloc = std::move(*planned);
  }
  api::FieldErrors errors = api::validateCreate(obj, r.gvk());
  if (!errors.empty()) return api::invalidError(r.gvk(), name, errors);
  if (auto st = checkNamespaceWritable(scope, name); !st) return st.error();

  plan.name = name;
  plan.status = 201;
  if (dryRun) {
    plan.immediateBody = obj.dump();
    return plan;
  }
  Scope target = scope;
  target.name = name;
  plan.mainKey = target.key();
  plan.mainCreate = true;
  storage::Op op;
  op.kind = storage::Op::Kind::kCreate;
  op.key = plan.mainKey;
  op.encode = revisionEncoder(std::move(obj));
  addObjectOp(plan, std::move(op), alloc);
  // A namespace comes with its ServiceAccount "default", in the same commit:
  // a pod created right after the namespace finds it (Kubernetes' controller
  // makes it a moment later; the namespace loop still repairs a deleted one).
  if (r.plural == "namespaces")
    if (auto sa = missingDefaultServiceAccount(store_, name)) plan.ops.push_back(std::move(*sa));
  return plan;
}

void RestApiImpl::create(const Scope& scope, const Request& request,
                         std::shared_ptr<ResponseWriter> writer) {
  auto decoded = decodeWriteRequest(request, *scope.resource);
  if (!decoded) return respondError(*writer, decoded.error());
  runWriteAndRespond(
      [this, scope, body = std::move(decoded->body), dryRun = decoded->dryRun,
       headers = std::move(decoded->headers)](
          const std::set<std::string>& avoid) mutable -> Result<WritePlan> {
        auto obj = body.take(*scope.resource);
        if (!obj) return obj.error();
        auto plan = planCreate(scope, std::move(*obj), dryRun, avoid);
        if (plan) plan->headers = headers;
        return plan;
      },
      scope, writer);
}

// ---- update ----

Result<WritePlan> RestApiImpl::planUpdate(const Scope& scope, const storage::Record& current,
                                          Json next, bool dryRun,
                                          const std::set<std::string>& avoid) {
  const ResourceInfo& r = *scope.resource;
  auto parsedOld = parseStored(current.value);
  if (!parsedOld) return parsedOld.error();
  const Json& old = *parsedOld;
  const Json& oldMd = old["metadata"];
  Json& md = metadataOf(next);
  std::string name = md.value("name", "");
  if (name.empty()) {
    md["name"] = scope.name;
  } else if (name != scope.name) {
    return badRequest("the name of the object (" + name + ") does not match the name on the URL (" +
                      scope.name + ")");
  }
  if (r.namespaced) {
    std::string bodyNs = md.value("namespace", "");
    if (!bodyNs.empty() && bodyNs != scope.ns) return namespaceMismatch();
    md["namespace"] = scope.ns;
  } else {
    md.erase("namespace");
  }
  std::string rv = md.contains("resourceVersion") && md["resourceVersion"].is_string()
                       ? md["resourceVersion"].get<std::string>()
                       : "";
  if (!rv.empty() && rv != std::to_string(current.modRevision))
    return staleConflict(r.groupResource(), scope.name);

  bool statusOnly = scope.sub == "status";
  if (statusOnly) {
    copyField(next, old, "spec");
  } else if (r.hasStatus) {
    copyField(next, old, "status");
    if (r.plural == "namespaces" && old.contains("spec")) {
      if (!next.contains("spec") || !next["spec"].is_object()) next["spec"] = Json::object();
      copyField(next["spec"], old["spec"], "finalizers");
    }
  }
  for (const char* f : {"uid", "creationTimestamp", "deletionTimestamp",
                        "deletionGracePeriodSeconds", "generation"})
    copyField(md, oldMd, f);
  md.erase("selfLink");
  md["resourceVersion"] = std::to_string(current.modRevision);
  if (r.setsGeneration && !statusOnly) {
    Json oldSpec = old.value("spec", Json::object());
    Json newSpec = next.value("spec", Json::object());
    api::applyDefaults(next, r.gvk());
    newSpec = next.value("spec", Json::object());
    if (oldSpec != newSpec) md["generation"] = oldMd.value("generation", 1) + 1;
  } else {
    api::applyDefaults(next, r.gvk());
  }
  AllocationPlan alloc;
  if (r.plural == "services" && !statusOnly) {
    auto planned = allocator_->plan(next, &old, avoid);
    if (!planned) return planned.error();
    alloc = std::move(*planned);
  }
  api::FieldErrors errors = api::validateUpdate(next, old, r.gvk());
  if (!errors.empty()) return api::invalidError(r.gvk(), scope.name, errors);

  WritePlan plan;
  plan.name = scope.name;
  plan.mainKey = scope.key();
  plan.status = 200;
  if (next == old) {  // Kubernetes skips no-op writes: same object, same resourceVersion
    plan.immediateBody = current.value;
    return plan;
  }
  // The last finalizer left an object being deleted (with no grace period
  // pending): it goes now.
  const Json* grace = fieldAt(next, "metadata", "deletionGracePeriodSeconds");
  bool graceOver = !grace || (grace->is_number_integer() && grace->get<int64_t>() == 0);
  bool finished = !stringAt(next, "metadata", "deletionTimestamp").empty() &&
                  finalizersEmpty(next) && !finalizersEmpty(old) && graceOver;
  if (dryRun) {
    plan.immediateBody = next.dump();
    return plan;
  }
  if (finished) {
    storage::Op op;
    op.kind = storage::Op::Kind::kDelete;
    op.key = plan.mainKey;
    op.expectedRevision = current.modRevision;
    plan.ops.push_back(std::move(op));
    if (r.plural == "services")
      for (auto& o : allocator_->releaseOps(old)) plan.ops.push_back(std::move(o));
    plan.body = [next](const storage::TxnResult& txn) {
      return encodeWithRevision(next, txn.revision);
    };
    return plan;
  }
  addObjectOp(plan, updateOp(plan.mainKey, current.modRevision, next), alloc);
  return plan;
}

void RestApiImpl::update(const Scope& scope, const Request& request,
                         std::shared_ptr<ResponseWriter> writer) {
  auto decoded = decodeWriteRequest(request, *scope.resource);
  if (!decoded) return respondError(*writer, decoded.error());
  std::string bodyName = stringAt(decoded->body.peek(), "metadata", "name");
  if (!bodyName.empty() && bodyName != scope.name)
    return respondError(*writer,
                        badRequest("the name of the object (" + bodyName +
                                   ") does not match the name on the URL (" + scope.name + ")"));
  runWriteAndRespond(
      [this, scope, body = std::move(decoded->body), dryRun = decoded->dryRun,
       headers = std::move(decoded->headers)](
          const std::set<std::string>& avoid) mutable -> Result<WritePlan> {
        const ResourceInfo& r = *scope.resource;
        auto obj = body.take(r);
        if (!obj) return obj.error();
        auto rec = store_.get(scope.key());
        Result<WritePlan> plan = makeError(Code::kInternal, "");
        if (!rec) {
          if (rec.error().code != Code::kNotFound) return rec.error();
          if (!r.allowCreateOnUpdate || !scope.sub.empty())
            return notFound(r.groupResource(), scope.name);
          Json created = std::move(*obj);
          Json& md = metadataOf(created);
          if (md.value("name", "").empty()) md["name"] = scope.name;
          if (md.value("name", "") != scope.name)
            return badRequest("the name of the object (" + md.value("name", "") +
                              ") does not match the name on the URL (" + scope.name + ")");
          md.erase("resourceVersion");
          plan = planCreate(scope, std::move(created), dryRun, avoid);
        } else {
          plan = planUpdate(scope, *rec, std::move(*obj), dryRun, avoid);
        }
        if (plan) plan->headers = headers;
        return plan;
      },
      scope, writer);
}

// ---- patch ----

namespace {

std::string mediaType(const std::string& contentType) {
  std::string t = contentType.substr(0, contentType.find(';'));
  while (!t.empty() && t.back() == ' ') t.pop_back();
  return t;
}

Error unsupportedPatch(const std::string& type) {
  return makeError(Code::kUnsupportedMediaType,
                   "the body of the request was in an unknown format - accepted media types "
                   "include: application/json-patch+json, application/merge-patch+json, "
                   "application/strategic-merge-patch+json");
}

Result<Json> applyPatch(const std::string& type, const Json& target, const Json& patch,
                        const api::GroupVersionKind& gvk) {
  if (type == "application/merge-patch+json") return api::applyMergePatch(target, patch);
  if (type == "application/json-patch+json") return api::applyJsonPatch(target, patch);
  if (type == "application/strategic-merge-patch+json")
    return api::applyStrategicMergePatch(target, patch, api::typeForKind(gvk));
  return unsupportedPatch(type);
}

}  // namespace

void RestApiImpl::patch(const Scope& scope, const Request& request,
                        std::shared_ptr<ResponseWriter> writer) {
  std::string type = mediaType(request.header("content-type"));
  if (type != "application/merge-patch+json" && type != "application/json-patch+json" &&
      type != "application/strategic-merge-patch+json")
    return respondError(*writer, unsupportedPatch(type));
  auto mode = unknownFieldsMode(request);
  if (!mode) return respondError(*writer, mode.error());
  auto patchDoc = api::parseJson(request.body);
  if (!patchDoc) return respondError(*writer, patchDoc.error());
  bool dryRun = isDryRun(request);
  api::UnknownFields unknown = *mode;
  Json patchJson = std::move(*patchDoc);
  runWriteAndRespond(
      [this, scope, type, patchJson = std::move(patchJson), unknown,
       dryRun](const std::set<std::string>& avoid) -> Result<WritePlan> {
        const ResourceInfo& r = *scope.resource;
        auto rec = getStored(scope);
        if (!rec) return rec.error();
        auto current = parseStored(rec->value);
        if (!current) return current.error();
        auto patched = applyPatch(type, *current, patchJson, r.gvk());
        if (!patched) return patched.error();
        auto decoded = api::decodeObject(std::move(*patched), r.gvk(), unknown);
        if (!decoded) return decoded.error();
        auto plan = planUpdate(scope, *rec, std::move(decoded->object), dryRun, avoid);
        if (plan) plan->headers = warningHeaders(decoded->warnings);
        return plan;
      },
      scope, writer);
}

// ---- self reviews ----

void RestApiImpl::review(const Scope& scope, const Request& request,
                         std::shared_ptr<ResponseWriter> writer) {
  const ResourceInfo& r = *scope.resource;
  auto decoded = decodeWriteRequest(request, r);
  if (!decoded) return respondError(*writer, decoded.error());
  auto taken = decoded->body.take(r);
  if (!taken) return respondError(*writer, taken.error());
  Json review = std::move(*taken);
  Json& md = metadataOf(review);
  md.erase("namespace");
  md["creationTimestamp"] = nullptr;  // as Kubernetes answers: never created
  if (r.kind == "SelfSubjectReview") {
    // A ServiceAccount's groups, as Kubernetes' serviceaccount.UserInfo gives
    // them; everyone else is the admin.
    Json groups = {"system:masters", "system:authenticated"};
    const std::string saPrefix = "system:serviceaccount:";
    if (request.user.rfind(saPrefix, 0) == 0) {
      std::string ns = request.user.substr(saPrefix.size());
      ns = ns.substr(0, ns.find(':'));
      groups = {"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"};
    }
    review["status"] = {{"userInfo", {{"username", request.user}, {"groups", groups}}}};
  } else if (r.kind == "SelfSubjectAccessReview") {
    const Json* resource = fieldAt(review, "spec", "resourceAttributes");
    const Json* nonResource = fieldAt(review, "spec", "nonResourceAttributes");
    if (!resource == !nonResource) {  // Kubernetes' two texts
      api::FieldErrors errors = {
          resource
              ? api::invalid("spec.nonResourceAttributes", *nonResource,
                             "cannot be specified in combination with resourceAttributes")
              : api::invalid("spec.resourceAttributes", Json("null"),  // Go's text for a nil
                             "exactly one of nonResourceAttributes or resourceAttributes must be "
                             "specified")};
      return respondError(*writer, api::invalidError(r.gvk(), "", errors));
    }
    review["status"] = {{"allowed", true}};
  } else {  // SelfSubjectRulesReview
    if (stringAt(review, "spec", "namespace").empty())
      return respondError(*writer, badRequest("no namespace on request"));
    review["status"] = {
        {"resourceRules", {{{"verbs", {"*"}}, {"apiGroups", {"*"}}, {"resources", {"*"}}}}},
        {"nonResourceRules", {{{"verbs", {"*"}}, {"nonResourceURLs", {"*"}}}}},
        {"incomplete", false}};
  }
  respondJson(*writer, 201, api::dumpJson(review), std::move(decoded->headers));
}

// ---- binding ----

void RestApiImpl::bind(const Scope& scope, const Request& request,
                       std::shared_ptr<ResponseWriter> writer) {
  auto parsed = api::parseJson(request.body);
  if (!parsed) return respondError(*writer, parsed.error());
  if (!parsed->is_object())
    return respondError(*writer, badRequest("the request body must be a JSON object"));
  Json binding = std::move(*parsed);
  std::string name = stringAt(binding, "metadata", "name");
  if (scope.sub == "binding") {
    if (!name.empty() && name != scope.name)
      return respondError(*writer,
                          badRequest("the name of the object (" + name +
                                     ") does not match the name on the URL (" + scope.name + ")"));
    name = scope.name;
  }
  std::string bodyNs = stringAt(binding, "metadata", "namespace");
  if (!bodyNs.empty() && bodyNs != scope.ns) return respondError(*writer, namespaceMismatch());
  std::string node = stringAt(binding, "target", "name");
  api::FieldErrors errors;
  if (name.empty())
    errors.push_back(api::required("metadata.name", "name or generateName is required"));
  if (node.empty()) errors.push_back(api::required("target.name"));
  std::string targetKind = stringAt(binding, "target", "kind");
  if (!targetKind.empty() && targetKind != "Node")
    errors.push_back(api::notSupported("target.kind", targetKind, {"Node"}));
  if (!errors.empty())
    return respondError(*writer, api::invalidError({"", "v1", "Binding"}, name, errors));
  const ResourceInfo* pods = findResource("", "v1", "pods");
  Scope podScope;
  podScope.resource = pods;
  podScope.ns = scope.ns;
  podScope.name = name;
  Json annotations = binding.contains("metadata") && binding["metadata"].is_object()
                         ? binding["metadata"].value("annotations", Json::object())
                         : Json::object();
  bool dryRun = isDryRun(request);
  runWriteAndRespond(
      [this, podScope, name, node, annotations,
       dryRun](const std::set<std::string>&) -> Result<WritePlan> {
        auto rec = store_.get(podScope.key());
        if (!rec) {
          if (rec.error().code == Code::kNotFound) return notFound("pods", name);
          return rec.error();
        }
        auto pod = parseStored(rec->value);
        if (!pod) return pod.error();
        if (!stringAt(*pod, "metadata", "deletionTimestamp").empty())
          return conflict("pods/binding", name,
                          "pod " + name + " is being deleted, cannot be assigned to a host");
        std::string assigned = stringAt(*pod, "spec", "nodeName");
        if (!assigned.empty())
          return conflict("pods/binding", name,
                          "pod " + name + " is already assigned to node \"" + assigned + "\"");
        Json next = *pod;
        next["spec"]["nodeName"] = node;
        if (annotations.is_object() && !annotations.empty()) {
          Json& md = next["metadata"];
          if (!md.contains("annotations") || !md["annotations"].is_object())
            md["annotations"] = Json::object();
          for (auto& [k, v] : annotations.items()) md["annotations"][k] = v;
        }
        if (!next.contains("status") || !next["status"].is_object())
          next["status"] = Json::object();
        Json& conds = next["status"]["conditions"];
        if (!conds.is_array()) conds = Json::array();
        Json cond = {{"type", "PodScheduled"},
                     {"status", "True"},
                     {"lastProbeTime", nullptr},
                     {"lastTransitionTime", nowRfc3339()}};
        bool replaced = false;
        for (auto& c : conds)
          if (c.is_object() && c.value("type", "") == "PodScheduled") {
            c = cond;
            replaced = true;
          }
        if (!replaced) conds.push_back(cond);
        WritePlan plan;
        plan.name = name;
        plan.mainKey = podScope.key();
        plan.status = 201;
        std::string ok = successStatus(201).dump();
        if (dryRun) {
          plan.immediateBody = ok;
          return plan;
        }
        plan.ops.push_back(updateOp(plan.mainKey, rec->modRevision, next));
        plan.body = [ok](const storage::TxnResult&) { return ok; };
        return plan;
      },
      podScope, writer);
}

// ---- scale ----

void RestApiImpl::writeScale(const Scope& scope, const Request& request,
                             std::shared_ptr<ResponseWriter> writer) {
  bool isPatch = request.method == "PATCH";
  std::string type = isPatch ? mediaType(request.header("content-type")) : "";
  if (isPatch && type != "application/merge-patch+json" && type != "application/json-patch+json" &&
      type != "application/strategic-merge-patch+json")
    return respondError(*writer, unsupportedPatch(type));
  auto body = api::parseJson(request.body);
  if (!body) return respondError(*writer, body.error());
  if (!body->is_object() && !isPatch)
    return respondError(*writer, badRequest("the request body must be a JSON object"));
  Json doc = std::move(*body);
  bool dryRun = isDryRun(request);
  Scope main = scope;
  main.sub = "";
  runWriteAndRespond(
      [this, main, doc = std::move(doc), type, isPatch,
       dryRun](const std::set<std::string>& avoid) -> Result<WritePlan> {
        const ResourceInfo& r = *main.resource;
        auto rec = getStored(main);
        if (!rec) return rec.error();
        auto obj = parseStored(rec->value);
        if (!obj) return obj.error();
        Json scale = scaleOf(*obj, rec->modRevision);
        if (isPatch) {
          auto patched = applyPatch(type, scale, doc, {"autoscaling", "v1", "Scale"});
          if (!patched) return patched.error();
          scale = std::move(*patched);
        } else {
          scale = doc;
        }
        std::string rv = stringAt(scale, "metadata", "resourceVersion");
        if (!rv.empty() && rv != std::to_string(rec->modRevision))
          return staleConflict(r.groupResource(), main.name);
        const Json* replicas = fieldAt(scale, "spec", "replicas");
        int64_t n = 0;
        if (replicas) {  // (null reads as absent)
          if (!replicas->is_number_integer())
            return api::invalidError(
                {"autoscaling", "v1", "Scale"}, main.name,
                {api::invalid("spec.replicas", *replicas, "must be an integer")});
          n = replicas->get<int64_t>();
        }
        if (n < 0)
          return api::invalidError(
              {"autoscaling", "v1", "Scale"}, main.name,
              {api::invalid("spec.replicas", n, "must be greater than or equal to 0")});
        Json next = std::move(*obj);
        next["spec"]["replicas"] = n;
        auto plan = planUpdate(main, *rec, std::move(next), dryRun, avoid);
        if (!plan) return plan;
        if (plan->immediateBody) {
          auto after = parseStored(*plan->immediateBody);
          if (after) plan->immediateBody = scaleOf(*after, rec->modRevision).dump();
        } else {
          plan->body = [](const storage::TxnResult& txn) {
            auto after = parseStored(txn.records[0].value);
            return after ? scaleOf(*after, txn.records[0].modRevision).dump() : std::string("{}");
          };
        }
        return plan;
      },
      main, writer);
}

}  // namespace skiff::apiserver
