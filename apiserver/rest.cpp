// Routing, bootstrap and the namespace loop (finalizer, default ServiceAccounts)
// of the REST API. The
// handlers live in reads.cpp, writes.cpp, deletes.cpp and watch.cpp; see
// registry.h for how they fit together.
#include "apiserver/rest.h"

#include "api/json.h"
#include "api/protobuf.h"
#include "api/validation.h"
#include "apiserver/api_errors.h"
#include "apiserver/backend_proxy.h"
#include "apiserver/discovery.h"
#include "apiserver/master_endpoints.h"
#include "apiserver/objects.h"
#include "apiserver/pod_proxy.h"
#include "apiserver/registry.h"
#include "apiserver/watch.h"
#include "base/log.h"
#include "base/thread.h"
#include "base/url.h"

namespace skiff::apiserver {

using api::Json;

// ---- shared helpers ----

void respondJson(ResponseWriter& writer, int status, std::string body,
                 std::vector<std::pair<std::string, std::string>> headers) {
  writer.respond(status, "application/json", std::move(body), std::move(headers));
}

void respondError(ResponseWriter& writer, const Error& error) {
  respondJson(writer, httpStatus(error.code), statusJson(error).dump());
}

bool wantsTable(const Request& request) {
  std::string accept = request.header("accept");
  return accept.find("as=Table") != std::string::npos &&
         accept.find("g=meta.k8s.io") != std::string::npos;
}

Result<Json> parseStored(const std::string& text) {
  Json j = api::parseStoredJson(text);
  if (j.is_discarded() || !j.is_object())
    return makeError(Code::kInternal, "stored object is not valid JSON");
  return j;
}

Result<Json> readStored(storage::Store& store, const std::string& plural, const std::string& ns,
                        const std::string& name) {
  const ResourceInfo* r = findResource("", "v1", plural);
  auto rec = store.get(objectKey(*r, r->namespaced ? ns : "", name));
  if (!rec) {
    if (rec.error().code == Code::kNotFound) return notFound(plural, name);
    return rec.error();
  }
  return parseStored(rec->value);
}

bool isDryRun(const Request& request) {
  return request.param("dryRun") == "All";
}

Status RestApiImpl::checkNamespaceWritable(const Scope& scope, const std::string& name) {
  if (!scope.resource->namespaced) return {};
  auto state = namespaces_.state(scope.ns);
  if (!state) return state.error();
  if (*state == NamespaceCache::State::kMissing) return notFound("namespaces", scope.ns);
  if (*state == NamespaceCache::State::kTerminating) {
    return forbidden(scope.resource->groupResource(), name,
                     "unable to create new content in namespace " + scope.ns +
                         " because it is being terminated");
  }
  return {};
}

// ---- construction and bootstrap ----

Result<std::unique_ptr<RestApi>> RestApi::create(storage::Store& store, RestOptions options) {
  auto allocator = ServiceAllocator::create(store, options);
  if (!allocator) return allocator.error();
  auto api = std::make_unique<RestApiImpl>(store, std::move(options), std::move(*allocator));
  auto st = api->bootstrap();
  if (!st) return st.error().wrap("bootstrap");
  return std::unique_ptr<RestApi>(std::move(api));
}

RestApiImpl::RestApiImpl(storage::Store& store, RestOptions options,
                         std::unique_ptr<ServiceAllocator> allocator)
    : store_(store),
      options_(std::move(options)),
      allocator_(std::move(allocator)),
      watches_(std::make_unique<WatchHub>(store)) {}

RestApiImpl::~RestApiImpl() {
  {
    std::lock_guard<std::mutex> lock(loopMu_);
    stopping_ = true;
  }
  loopCv_.notify_all();
  if (loop_.joinable()) loop_.join();
  namespaces_.stop();
  {
    std::unique_lock<std::mutex> lock(inflightMu_);
    inflightCv_.wait_for(lock, std::chrono::seconds(30), [&] { return inflight_ == 0; });
  }
  watches_.reset();
}

void RestApiImpl::beginCommit() {
  std::lock_guard<std::mutex> lock(inflightMu_);
  ++inflight_;
}

void RestApiImpl::endCommit() {
  std::lock_guard<std::mutex> lock(inflightMu_);
  if (--inflight_ == 0) inflightCv_.notify_all();
}

Status RestApiImpl::bootstrapNamespace(const std::string& name) {
  std::string key = "/registry/namespaces/" + name;
  if (store_.get(key).ok()) return {};
  Json ns = {{"apiVersion", "v1"},
             {"kind", "Namespace"},
             {"metadata",
              {{"name", name},
               {"uid", newUid()},
               {"creationTimestamp", nowRfc3339()},
               {"labels", {{"kubernetes.io/metadata.name", name}}}}},
             {"spec", {{"finalizers", {"kubernetes"}}}},
             {"status", {{"phase", "Active"}}}};
  storage::Op op;
  op.key = key;
  op.encode = [ns](storage::Revision rv) { return encodeWithRevision(ns, rv); };
  auto r = store_.commitSync({op});
  if (!r && r.error().code != Code::kAlreadyExists) return r.error();
  return {};
}

Status RestApiImpl::bootstrap() {
  for (const char* name : {"default", "kube-system", "kube-public", "kube-node-lease"}) {
    if (auto st = bootstrapNamespace(name); !st) return st;
    if (auto st = bootstrapDefaultServiceAccount(name); !st) return st;
  }
  auto repaired = allocator_->repair();
  if (!repaired) return repaired.error();

  const std::string svcKey = "/registry/services/default/kubernetes";
  if (!store_.get(svcKey).ok()) {
    Json svc = {
        {"apiVersion", "v1"},
        {"kind", "Service"},
        {"metadata",
         {{"name", "kubernetes"},
          {"namespace", "default"},
          {"uid", newUid()},
          {"creationTimestamp", nowRfc3339()},
          {"labels", {{"component", "apiserver"}, {"provider", "kubernetes"}}}}},
        {"spec",
         {{"type", "ClusterIP"},
          {"clusterIP", allocator_->firstIp()},
          {"sessionAffinity", "None"},
          {"internalTrafficPolicy", "Cluster"},
          {"ports",
           {{{"name", "https"}, {"port", 443}, {"protocol", "TCP"}, {"targetPort", 6443}}}}}},
        {"status", {{"loadBalancer", Json::object()}}}};
    auto plan = allocator_->plan(svc, nullptr);
    if (!plan) return plan.error();
    storage::Op op;
    op.key = svcKey;
    op.encode = [svc](storage::Revision rv) { return encodeWithRevision(svc, rv); };
    std::vector<storage::Op> ops = std::move(plan->ops);
    ops.push_back(std::move(op));
    auto r = store_.commitSync(std::move(ops));
    if (!r && r.error().code != Code::kAlreadyExists) return r.error();
  }
  namespaces_.start();
  loop_ = std::thread([this] { namespaceLoop(); });
  return {};
}

// ---- routing ----

namespace {

Result<Scope> knownSubresource(const Scope& scope) {
  if (!scope.sub.empty() && !scope.resource->subresource(scope.sub)) return resourceNotFound();
  return scope;
}

Result<Scope> route(const std::string& group, const std::string& version,
                    std::vector<std::string> segs) {
  Scope scope;
  if (!segs.empty() && segs[0] == "watch") {
    scope.legacyWatch = true;
    segs.erase(segs.begin());
  }
  if (segs.empty()) return resourceNotFound();
  if (segs[0] == "namespaces" && segs.size() >= 3) {
    const ResourceInfo* r = findResource(group, version, segs[2]);
    if (r && r->namespaced) {
      // pods/NAME/proxy/PATH...: the path belongs to the pod (backend_proxy.h).
      bool proxy = segs.size() > 5 && segs[4] == "proxy";
      if (segs.size() > 5 && !proxy) return resourceNotFound();
      scope.resource = r;
      scope.ns = segs[1];
      if (segs.size() > 3) scope.name = segs[3];
      if (segs.size() > 4) scope.sub = segs[4];
      return knownSubresource(scope);
    }
  }
  const ResourceInfo* r = findResource(group, version, segs[0]);
  if (!r || segs.size() > 3) return resourceNotFound();
  if (r->namespaced && segs.size() > 1) return resourceNotFound();
  scope.resource = r;
  if (segs.size() > 1) scope.name = segs[1];
  if (segs.size() > 2) scope.sub = segs[2];
  // /api/v1/namespaces/NS/persistentvolumeclaims (a resource skiff does not serve) lands
  // here as namespace NS's "persistentvolumeclaims" subresource: a 404 before any query
  // parameter or body (kubectl's typed clients send protobuf) is looked at.
  return knownSubresource(scope);
}

bool hasVerb(const ResourceInfo& r, const std::string& verb) {
  for (const auto& v : r.verbs)
    if (v == verb) return true;
  return false;
}

}  // namespace

void RestApiImpl::handle(Request request, std::shared_ptr<ResponseWriter> writer) {
  try {
    dispatch(request, writer);
  } catch (const std::exception& e) {
    logError("rest handler failed", {{"path", request.path}, {"error", e.what()}});
    if (!writer->closed()) respondError(*writer, makeError(Code::kInternal, e.what()));
  }
}

void RestApiImpl::dispatch(const Request& request, const std::shared_ptr<ResponseWriter>& writer) {
  if (auto d = serveDiscovery(request, options_)) {
    writer->respond(d->status, d->contentType, std::move(d->body));
    return;
  }
  std::vector<std::string> segs = splitPath(request.path);
  std::string group, version;
  if (segs.size() >= 2 && segs[0] == "api" && segs[1] == "v1") {
    version = "v1";
    segs.erase(segs.begin(), segs.begin() + 2);
  } else if (segs.size() >= 3 && segs[0] == "apis") {
    group = segs[1];
    version = segs[2];
    segs.erase(segs.begin(), segs.begin() + 3);
  } else {
    respondError(*writer, resourceNotFound());
    return;
  }
  auto routed = route(group, version, segs);
  if (!routed) {
    respondError(*writer, routed.error());
    return;
  }
  Scope scope = *routed;
  const ResourceInfo& r = *scope.resource;
  const std::string& m = request.method;
  if (scope.sub == "proxy") {
    // Any method and body: they are the pod's business (backend_proxy.h).
    proxyToBackend(store_, r.plural, scope.ns, scope.name, request, writer);
    return;
  }
  if (request.hasParam("dryRun")) {
    std::string dr = request.param("dryRun");
    if (dr != "All" && !dr.empty()) {
      respondError(*writer, badRequest("dryRun: Unsupported value: \"" + dr +
                                       "\": supported values: \"All\""));
      return;
    }
  }
  if (m == "POST" || m == "PUT" || (m == "DELETE" && !request.body.empty())) {
    // JSON bodies, and Kubernetes protobuf (kubectl's typed clients send it
    // and never fall back), read into JSON here so one path serves both.
    std::string type = request.header("content-type");
    if (api::isProtobufContentType(type)) {
      auto decoded = api::decodeProtobuf(request.body);
      if (!decoded) {
        respondError(*writer, decoded.error());
        return;
      }
      Request asJson = request;
      asJson.body = decoded->dump();
      asJson.headers["content-type"] = "application/json";
      dispatch(asJson, writer);
      return;
    }
    type = type.substr(0, type.find(';'));
    while (!type.empty() && type.back() == ' ') type.pop_back();
    if (!type.empty() && type != "application/json" && type != "*/*") {
      respondError(*writer, makeError(Code::kUnsupportedMediaType,
                                      "the body of the request was in an unknown format - "
                                      "accepted media types include: application/json, "
                                      "application/vnd.kubernetes.protobuf"));
      return;
    }
  }
  bool watchRequested = scope.legacyWatch || request.flag("watch");
  if (!r.derivedFrom.empty()) {
    if (m != "GET" || !scope.sub.empty()) {
      // Kubernetes' 405, with what to do instead.
      Error e = methodNotAllowed();
      e.message = r.groupResource() + " are read-only in skiff: they show the " + r.derivedFrom +
                  " objects; create, change or delete the " + r.derivedFrom +
                  " (v1) of the Service instead";
      respondError(*writer, e);
    } else if (scope.name.empty() || watchRequested) {
      list(scope, request, writer);  // a watch narrowed to one name too
    } else {
      get(scope, request, *writer);
    }
    return;
  }
  if (scope.name.empty()) {
    if (m == "GET" && hasVerb(r, "list")) {
      list(scope, request, writer);
      (void)watchRequested;  // list() starts a watch when asked
    } else if (m == "POST" && r.plural == "bindings") {
      bind(scope, request, writer);
    } else if (m == "POST" && !r.storable) {
      review(scope, request, writer);
    } else if (m == "POST" && hasVerb(r, "create")) {
      create(scope, request, writer);
    } else if (m == "DELETE" && hasVerb(r, "deletecollection")) {
      removeCollection(scope, request, writer);
    } else {
      respondError(*writer, methodNotAllowed());
    }
    return;
  }
  if (!r.storable) {
    respondError(*writer, methodNotAllowed());
    return;
  }
  if (scope.sub.empty()) {
    if (m == "GET") {
      if (watchRequested) {
        list(scope, request, writer);  // a watch narrowed to one name
      } else {
        get(scope, request, *writer);
      }
    } else if (m == "PUT") {
      update(scope, request, writer);
    } else if (m == "PATCH") {
      patch(scope, request, writer);
    } else if (m == "DELETE") {
      remove(scope, request, writer);
    } else {
      respondError(*writer, methodNotAllowed());
    }
    return;
  }
  if (scope.sub == "status") {
    if (m == "GET") {
      get(scope, request, *writer);
    } else if (m == "PUT") {
      update(scope, request, writer);
    } else if (m == "PATCH") {
      patch(scope, request, writer);
    } else {
      respondError(*writer, methodNotAllowed());
    }
  } else if (scope.sub == "binding") {
    if (m == "POST") {
      bind(scope, request, writer);
    } else {
      respondError(*writer, methodNotAllowed());
    }
  } else if (scope.sub == "scale") {
    if (m == "GET") {
      getScale(scope, *writer);
    } else if (m == "PUT" || m == "PATCH") {
      writeScale(scope, request, writer);
    } else {
      respondError(*writer, methodNotAllowed());
    }
  } else if (r.plural == "serviceaccounts" && scope.sub == "token") {
    createToken(scope, request, writer);
  } else if (r.plural == "pods" &&
             (scope.sub == "log" || scope.sub == "exec" || scope.sub == "portforward")) {
    // Served by the pod's kubelet (pod_proxy.h).
    proxyPodSubresource(store_, options_.kubeletToken, scope.ns, scope.name, scope.sub, request,
                        writer);
  } else {
    respondError(*writer, methodNotAllowed());
  }
}

// ---- the write engine ----

void RestApiImpl::runWrite(Planner planner, const Scope& scope, Done done, int attemptsLeft,
                           std::set<std::string> avoid) {
  Result<WritePlan> plan = makeError(Code::kInternal, "no plan");
  try {
    plan = planner(avoid);
  } catch (const std::exception& e) {
    plan = makeError(Code::kInternal, std::string("planning a write: ") + e.what());
  }
  if (!plan || plan->immediateBody) {
    done(std::move(plan), storage::TxnResult{});
    return;
  }
  // The ops go to the store (their encoders hold the object's text); the
  // callback needs only the namespaces they update or delete.
  std::vector<storage::Op> ops = std::move(plan->ops);
  plan->ops.clear();
  std::vector<std::string> namespaceWrites;
  for (const storage::Op& op : ops)
    if (op.kind != storage::Op::Kind::kCreate && NamespaceCache::isNamespaceKey(op.key))
      namespaceWrites.push_back(NamespaceCache::nameOf(op.key));
  auto shared = std::make_shared<WritePlan>(std::move(*plan));
  beginCommit();
  store_.commit(std::move(ops), [this, planner = std::move(planner), scope, done = std::move(done),
                                 attemptsLeft, avoid = std::move(avoid), shared,
                                 namespaceWrites = std::move(namespaceWrites)](
                                    Result<storage::TxnResult> result) mutable {
    struct Ender {
      RestApiImpl* self;
      ~Ender() { self->endCommit(); }
    } ender{this};
    if (result) {
      for (const std::string& ns : namespaceWrites) namespaces_.forget(ns, result->revision);
      done(std::move(*shared), std::move(result));
      return;
    }
    const Error& e = result.error();
    const WritePlan& p = *shared;
    bool retry = false;
    if (e.code == Code::kAlreadyExists && p.autoKeys.count(e.name)) {
      avoid.insert(e.name);
      retry = true;
    } else if (e.code == Code::kAlreadyExists && p.userKeys.count(e.name)) {
      done(api::invalidError({"", "v1", "Service"}, p.name, {p.userKeys.at(e.name)}),
           storage::TxnResult{});
      return;
    } else if (e.code == Code::kAlreadyExists && e.name == p.mainKey && p.mainCreate) {
      if (p.retryOnExists) {
        retry = true;
      } else {
        done(alreadyExists(scope.resource->groupResource(), p.name), storage::TxnResult{});
        return;
      }
    } else if (e.code == Code::kConflict || e.code == Code::kNotFound) {
      retry = true;  // the planner re-reads and decides (404, 409 or success)
    }
    if (retry && attemptsLeft > 1) {
      runWrite(std::move(planner), scope, std::move(done), attemptsLeft - 1, std::move(avoid));
      return;
    }
    if (retry) {
      done(staleConflict(scope.resource->groupResource(), p.name), storage::TxnResult{});
      return;
    }
    done(e, storage::TxnResult{});
  });
}

void RestApiImpl::runWriteAndRespond(Planner planner, const Scope& scope,
                                     std::shared_ptr<ResponseWriter> writer) {
  runWrite(std::move(planner), scope,
           [writer](Result<WritePlan> plan, Result<storage::TxnResult> txn) {
             if (!plan) {
               respondError(*writer, plan.error());
               return;
             }
             if (plan->immediateBody) {
               respondJson(*writer, plan->status, *plan->immediateBody, plan->headers);
               return;
             }
             if (!txn) {
               respondError(*writer, txn.error());
               return;
             }
             std::string body;
             if (plan->body) {
               body = plan->body(*txn);
             } else if (!txn->records.empty()) {
               body = txn->records[0].value;
             }
             respondJson(*writer, plan->status, body, plan->headers);
           });
}

// ---- namespace finalizer and default ServiceAccounts ----

void RestApiImpl::keepMasterEndpoints(const std::string& ip, uint16_t port) {
  {
    std::lock_guard<std::mutex> lock(loopMu_);
    masterIp_ = ip;
    masterPort_ = port;
  }
  reconcileKubernetesEndpoints(ip, port);
}

// A failure is logged and repaired on the next round, as Kubernetes' reconciler does.
void RestApiImpl::reconcileKubernetesEndpoints(const std::string& ip, uint16_t port) {
  auto wrote = reconcileMasterEndpoints(store_, ip, port);
  if (!wrote) {
    logWarn("kubernetes endpoints not reconciled", {{"error", wrote.error().message}});
  } else if (*wrote) {
    logInfo("kubernetes endpoints set", {{"address", ip + ":" + std::to_string(port)}});
  }
}

void RestApiImpl::wakeNamespaceLoop() {
  {
    // The change that woke it may commit a moment later: look for a while.
    std::lock_guard<std::mutex> lock(loopMu_);
    sweepUntil_ = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  }
  loopCv_.notify_all();
}

void RestApiImpl::namespaceLoop() {
  nameThisThread("api-namespaces");
  std::unique_lock<std::mutex> lock(loopMu_);
  auto nextSweep = std::chrono::steady_clock::now();
  while (!stopping_) {
    loopCv_.wait_for(lock, std::chrono::milliseconds(500));
    if (stopping_) break;
    // Every namespace gets its default ServiceAccount when it is created
    // (planCreate); this only repairs a deleted one: often after a wake,
    // otherwise every 10 s, since it reads one key per namespace. The
    // kubernetes Endpoints are checked on the same 10 s.
    auto now = std::chrono::steady_clock::now();
    bool periodic = now >= nextSweep;
    bool sweep = now < sweepUntil_ || periodic;
    if (periodic) nextSweep = now + std::chrono::seconds(10);
    std::string masterIp = periodic ? masterIp_ : "";
    uint16_t masterPort = masterPort_;
    lock.unlock();
    try {
      finalizeNamespaces();
      if (sweep) ensureDefaultServiceAccounts();
      if (!masterIp.empty()) reconcileKubernetesEndpoints(masterIp, masterPort);
    } catch (const std::exception& e) {
      logError("namespace loop failed", {{"error", e.what()}});
    }
    lock.lock();
  }
}

void RestApiImpl::finalizeNamespaces() {
  auto namespaces = store_.list("/registry/namespaces/");
  if (!namespaces) return;
  for (const auto& rec : namespaces->items) {
    auto ns = parseStored(rec.value);
    if (!ns || stringAt(*ns, "metadata", "deletionTimestamp").empty()) continue;
    std::string name = stringAt(*ns, "metadata", "name");
    bool empty = true;
    for (const auto& r : allResources()) {
      if (!r.namespaced || !r.storable) continue;
      auto items = store_.list(collectionPrefix(r, name));
      if (!items) {
        empty = false;
        continue;
      }
      for (const auto& item : items->items) {
        empty = false;
        auto obj = parseStored(item.value);
        if (!obj) continue;
        if (!stringAt(*obj, "metadata", "deletionTimestamp").empty()) continue;  // under way
        Scope s;
        s.resource = &r;
        s.ns = name;
        s.name = stringAt(*obj, "metadata", "name");
        deleteObject(s, Json::object(), false, [](Result<std::string>, int) {});
      }
    }
    const Json* finalizers = fieldAt(*ns, "metadata", "finalizers");
    bool finalized = !finalizers || !finalizers->is_array() || finalizers->empty();
    if (empty && finalized) {
      storage::Op op;
      op.kind = storage::Op::Kind::kDelete;
      op.key = rec.key;
      op.expectedRevision = rec.modRevision;
      beginCommit();
      store_.commit({op}, [this, name](Result<storage::TxnResult> r) {
        if (r) logInfo("namespace deleted", {{"namespace", name}});
        endCommit();
      });
    }
  }
}

}  // namespace skiff::apiserver
