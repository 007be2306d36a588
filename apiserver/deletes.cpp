// delete and deletecollection, with Kubernetes' deferred deletions:
//   - a pod bound to a node, deleted with a grace period > 0, only gets
//     deletionTimestamp (now + grace) and deletionGracePeriodSeconds; the
//     kubelet stops it and deletes it again with grace 0;
//   - an object with metadata.finalizers gets deletionTimestamp and stays until
//     an update empties its finalizers (planUpdate then removes it);
//   - a namespace turns Terminating; the finalizer loop (rest.cpp) deletes its
//     content and then the namespace itself.
#include <chrono>

#include "api/selector.h"
#include "apiserver/api_errors.h"
#include "apiserver/objects.h"
#include "apiserver/registry.h"

namespace skiff::apiserver {

using api::Json;

namespace {

bool returnsObject(const ResourceInfo& r) {
  return r.plural == "pods" || r.plural == "services" || r.plural == "namespaces";
}

std::optional<int64_t> intField(const Json& j, const char* name) {
  if (j.is_object() && j.contains(name) && j[name].is_number_integer())
    return j[name].get<int64_t>();
  return std::nullopt;
}

// DeleteOptions from the body and the query (the query wins, as Kubernetes).
Result<Json> deleteOptions(const Request& request) {
  Json options = Json::object();
  if (!request.body.empty()) {
    auto parsed = api::parseJson(request.body);
    if (!parsed) return parsed.error();
    if (parsed->is_object()) options = std::move(*parsed);
  }
  std::string grace = request.param("gracePeriodSeconds");
  if (!grace.empty()) {
    try {
      size_t used = 0;
      long long g = std::stoll(grace, &used);
      if (used != grace.size()) throw std::invalid_argument(grace);
      options["gracePeriodSeconds"] = g;
    } catch (...) {
      return badRequest("gracePeriodSeconds: Invalid value: \"" + grace + "\": must be an integer");
    }
  }
  std::string policy = request.param("propagationPolicy");
  if (!policy.empty()) options["propagationPolicy"] = policy;
  if (options.contains("propagationPolicy") && options["propagationPolicy"].is_string()) {
    std::string p = options["propagationPolicy"].get<std::string>();
    if (p != "Orphan" && p != "Background" && p != "Foreground")
      return makeError(Code::kInvalid, "propagationPolicy: Unsupported value: \"" + p +
                                           "\": supported values: \"Foreground\", "
                                           "\"Background\", \"Orphan\"");
  }
  return options;
}

}  // namespace

void RestApiImpl::deleteObject(const Scope& scope, const Json& options, bool dryRun,
                               DeleteDone done) {
  Planner planner = [this, scope, options,
                     dryRun](const std::set<std::string>&) -> Result<WritePlan> {
    const ResourceInfo& r = *scope.resource;
    auto rec = getStored(scope);
    if (!rec) return rec.error();
    auto parsed = parseStored(rec->value);
    if (!parsed) return parsed.error();
    Json obj = std::move(*parsed);
    Json& md = obj["metadata"];
    if (options.contains("preconditions") && options["preconditions"].is_object()) {
      const Json& pre = options["preconditions"];
      std::string uid = pre.value("uid", "");
      if (!uid.empty() && uid != md.value("uid", ""))
        return conflict(r.groupResource(), scope.name,
                        "Precondition failed: UID in precondition: " + uid +
                            ", UID in object meta: " + md.value("uid", ""));
      std::string rv = pre.value("resourceVersion", "");
      if (!rv.empty() && rv != std::to_string(rec->modRevision))
        return conflict(
            r.groupResource(), scope.name,
            "Precondition failed: ResourceVersion in precondition: " + rv +
                ", ResourceVersion in object meta: " + std::to_string(rec->modRevision));
    }
    WritePlan plan;
    plan.name = scope.name;
    plan.mainKey = scope.key();
    plan.status = 200;
    auto updateTo = [&](const Json& next) {
      if (dryRun) {
        plan.immediateBody = next.dump();
        return;
      }
      plan.ops.push_back(updateOp(plan.mainKey, rec->modRevision, next));
    };
    auto now = std::chrono::system_clock::now();
    bool deleting = !stringAt(obj, "metadata", "deletionTimestamp").empty();

    if (r.plural == "namespaces") {
      if (scope.name == "default" || scope.name == "kube-system" || scope.name == "kube-public")
        return forbidden("namespaces", scope.name, "this namespace may not be deleted");
      if (deleting) {
        plan.immediateBody = rec->value;
        return plan;
      }
      md["deletionTimestamp"] = formatTime(now);
      md["deletionGracePeriodSeconds"] = 0;
      if (!obj.contains("status") || !obj["status"].is_object()) obj["status"] = Json::object();
      obj["status"]["phase"] = "Terminating";
      updateTo(obj);
      return plan;
    }

    int64_t grace = 0;
    if (r.plural == "pods") {
      grace =
          intField(obj.value("spec", Json::object()), "terminationGracePeriodSeconds").value_or(30);
      if (auto g = intField(options, "gracePeriodSeconds")) grace = *g;
      std::string phase = stringAt(obj, "status", "phase");
      if (stringAt(obj, "spec", "nodeName").empty() || phase == "Succeeded" || phase == "Failed")
        grace = 0;
      if (grace < 0) grace = 0;
    }
    // propagationPolicy as Kubernetes' deletionFinalizersForGarbageCollection:
    // Orphan and Foreground become a finalizer the garbage collector acts on
    // (and removes); Background drops both.
    if (options.contains("propagationPolicy") && options["propagationPolicy"].is_string()) {
      std::string policy = options["propagationPolicy"].get<std::string>();
      Json kept = Json::array();
      if (md.contains("finalizers") && md["finalizers"].is_array())
        for (const Json& f : md["finalizers"])
          if (f != "orphan" && f != "foregroundDeletion") kept.push_back(f);
      if (policy == "Orphan") kept.push_back("orphan");
      if (policy == "Foreground") kept.push_back("foregroundDeletion");
      if (kept.empty())
        md.erase("finalizers");
      else
        md["finalizers"] = kept;
    }
    const Json* finalizers = fieldAt(obj, "metadata", "finalizers");
    bool hasFinalizers = finalizers && finalizers->is_array() && !finalizers->empty();
    auto currentGrace = intField(md, "deletionGracePeriodSeconds");

    if (grace > 0 || hasFinalizers) {
      if (deleting && currentGrace && *currentGrace <= grace) {
        plan.immediateBody = rec->value;  // already being deleted at least as fast
        return plan;
      }
      if (!deleting || grace > 0)
        md["deletionTimestamp"] = formatTime(now + std::chrono::seconds(grace));
      md["deletionGracePeriodSeconds"] = grace;
      updateTo(obj);
      return plan;
    }

    // Gone at once.
    if (dryRun) {
      plan.immediateBody =
          returnsObject(r) ? rec->value : successStatus(0, scope.name, r.group, r.plural).dump();
      return plan;
    }
    storage::Op op;
    op.kind = storage::Op::Kind::kDelete;
    op.key = plan.mainKey;
    op.expectedRevision = rec->modRevision;
    plan.ops.push_back(std::move(op));
    if (r.plural == "services")
      for (auto& o : allocator_->releaseOps(obj)) plan.ops.push_back(std::move(o));
    if (returnsObject(r)) {
      std::string text = rec->value;
      plan.body = [text](const storage::TxnResult&) { return text; };
    } else {
      Json status = successStatus(0, scope.name, r.group, r.plural);
      status["details"]["uid"] = md.value("uid", "");
      std::string text = status.dump();
      plan.body = [text](const storage::TxnResult&) { return text; };
    }
    return plan;
  };
  runWrite(std::move(planner), scope,
           [done = std::move(done)](Result<WritePlan> plan, Result<storage::TxnResult> txn) {
             if (!plan) return done(plan.error(), 0);
             if (plan->immediateBody) return done(*plan->immediateBody, plan->status);
             if (!txn) return done(txn.error(), 0);
             std::string body = plan->body ? plan->body(*txn) : txn->records[0].value;
             done(std::move(body), plan->status);
           });
}

void RestApiImpl::remove(const Scope& scope, const Request& request,
                         std::shared_ptr<ResponseWriter> writer) {
  auto options = deleteOptions(request);
  if (!options) return respondError(*writer, options.error());
  bool dryRun = isDryRun(request);
  if (options->contains("dryRun") && (*options)["dryRun"].is_array())
    for (const auto& d : (*options)["dryRun"])
      if (d == "All") dryRun = true;
  // A namespace's default ServiceAccount deleted: the namespace loop makes it again.
  bool account = scope.resource->plural == "serviceaccounts" && !dryRun;
  deleteObject(scope, *options, dryRun,
               [this, writer, account](Result<std::string> body, int status) {
                 if (!body) return respondError(*writer, body.error());
                 if (account) wakeNamespaceLoop();
                 respondJson(*writer, status, *body);
               });
}

void RestApiImpl::removeCollection(const Scope& scope, const Request& request,
                                   std::shared_ptr<ResponseWriter> writer) {
  const ResourceInfo& r = *scope.resource;
  auto options = deleteOptions(request);
  if (!options) return respondError(*writer, options.error());
  bool dryRun = isDryRun(request);
  std::optional<api::LabelSelector> labels;
  std::optional<api::FieldSelector> fields;
  if (std::string l = request.param("labelSelector"); !l.empty()) {
    auto parsed = api::LabelSelector::parse(l);
    if (!parsed) return respondError(*writer, parsed.error());
    labels = std::move(*parsed);
  }
  if (std::string f = request.param("fieldSelector"); !f.empty()) {
    auto parsed = api::FieldSelector::parse(f, r.plural);
    if (!parsed) return respondError(*writer, parsed.error());
    fields = std::move(*parsed);
  }
  auto listed = store_.list(collectionPrefix(r, scope.ns));
  if (!listed) return respondError(*writer, listed.error());
  struct Pending {
    std::vector<Scope> targets;
    std::vector<std::string> items;
    size_t next = 0;
    storage::Revision revision = 0;
  };
  auto pending = std::make_shared<Pending>();
  pending->revision = listed->revision;
  for (const auto& rec : listed->items) {
    auto obj = parseStored(rec.value);
    if (!obj) continue;
    if (!api::selects(labels, fields, *obj)) continue;
    Scope s = scope;
    s.ns = stringAt(*obj, "metadata", "namespace");
    s.name = stringAt(*obj, "metadata", "name");
    pending->targets.push_back(s);
    pending->items.push_back(rec.value);
  }
  // One object after another, each from the previous one's commit callback.
  auto step = std::make_shared<std::function<void()>>();
  Json opts = *options;
  *step = [this, pending, step, writer, opts, dryRun, &r]() {
    if (pending->next >= pending->targets.size()) {
      std::string body = "{\"kind\":\"" + r.kind + "List\",\"apiVersion\":\"" + r.apiVersion() +
                         "\",\"metadata\":{\"resourceVersion\":\"" +
                         std::to_string(store_.currentRevision()) + "\"},\"items\":[";
      for (size_t i = 0; i < pending->items.size(); ++i) {
        if (i) body += ',';
        body += pending->items[i];
      }
      body += "]}";
      respondJson(*writer, 200, std::move(body));
      *step = nullptr;  // break the cycle
      return;
    }
    const Scope& target = pending->targets[pending->next++];
    deleteObject(target, opts, dryRun, [step](Result<std::string>, int) { (*step)(); });
  };
  (*step)();
}

}  // namespace skiff::apiserver
