// The implementation behind RestApi (rest.h), split over several files:
//   rest.cpp      routing, bootstrap, responses, the namespace loop
//   reads.cpp     get and list (with the no-parse fast path), Tables
//   writes.cpp    create, update, patch, binding, scale
//   deletes.cpp   delete, deletecollection, graceful and finalizer semantics
//   watch.cpp     watch streams (WatchHub)
//   service_accounts.cpp  the token subresource, default ServiceAccounts
//
// Writes never wait on an I/O thread for other writes: each is a WritePlan
// committed with Store::commit(); its callback (on the store's writer thread)
// responds, or re-plans after a lost race (a compare-and-swap conflict, or an
// allocation key another Service took first) up to kWriteAttempts times. On an
// idle store a lone write commits, fsync included, on the I/O thread itself
// and its callback runs there too (Store::commit()), which spares a lone
// client two thread hand-offs.
//
// Thread-safe: handle() runs on any thread; shared state is the store, the
// allocator (stateless) and the WatchHub (own mutex).
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "api/decode.h"
#include "api/json.h"
#include "api/schema.h"
#include "apiserver/allocator.h"
#include "apiserver/namespace_cache.h"
#include "apiserver/resources.h"
#include "apiserver/rest.h"
#include "storage/store.h"

namespace skiff::apiserver {

class WatchHub;

inline constexpr int kWriteAttempts = 10;

// What a URL names.
struct Scope {
  const ResourceInfo* resource = nullptr;
  std::string ns;            // the URL's namespace ("" for cluster-scoped or all namespaces)
  std::string name;          // "" for the collection
  std::string sub;           // subresource ("status", "binding", "scale", ...)
  bool legacyWatch = false;  // /api/v1/watch/...
  std::string key() const { return objectKey(*resource, ns, name); }
};

// One attempt at a write.
struct WritePlan {
  std::vector<storage::Op> ops;
  std::set<std::string> autoKeys;         // allocation keys picked automatically
  std::map<std::string, Cause> userKeys;  // allocation keys the user asked for
  std::string mainKey;                    // the object's own key (ops on it)
  bool mainCreate = false;                // kCreate of mainKey (409 AlreadyExists if taken)
  bool retryOnExists = false;             // generateName: a taken name means try another
  std::string name;                       // for error texts
  int status = 200;
  // Respond without committing (dry run, no-op update).
  std::optional<std::string> immediateBody;
  // Body on success; default: records[0].value.
  std::function<std::string(const storage::TxnResult&)> body;
  std::vector<std::pair<std::string, std::string>> headers;  // Warning headers
};
// Builds an attempt; `avoid` lists allocation keys lost in earlier attempts.
using Planner = std::function<Result<WritePlan>(const std::set<std::string>& avoid)>;
using Done = std::function<void(Result<WritePlan>, Result<storage::TxnResult>)>;

class RestApiImpl : public RestApi {
 public:
  RestApiImpl(storage::Store& store, RestOptions options,
              std::unique_ptr<ServiceAllocator> allocator);
  ~RestApiImpl() override;

  Status bootstrap();
  Status bootstrapNamespace(const std::string& name);
  void handle(Request request, std::shared_ptr<ResponseWriter> writer) override;
  void keepMasterEndpoints(const std::string& ip, uint16_t port) override;

  // Used by deletes.cpp and the namespace loop.
  using DeleteDone = std::function<void(Result<std::string> body, int status)>;
  void deleteObject(const Scope& scope, const api::Json& options, bool dryRun, DeleteDone done);

 private:
  // rest.cpp
  void dispatch(const Request& request, const std::shared_ptr<ResponseWriter>& writer);
  void namespaceLoop();
  void finalizeNamespaces();
  // Runs the namespace loop's next pass now rather than at its next tick.
  void wakeNamespaceLoop();

  // service_accounts.cpp
  void createToken(const Scope& scope, const Request& request,
                   std::shared_ptr<ResponseWriter> writer);
  Status bootstrapDefaultServiceAccount(const std::string& ns);
  // Creates "default" in each active namespace that lacks it (the namespace loop).
  void ensureDefaultServiceAccounts();

  // reads.cpp
  void get(const Scope& scope, const Request& request, ResponseWriter& writer);
  void list(const Scope& scope, const Request& request, std::shared_ptr<ResponseWriter> writer);
  void getScale(const Scope& scope, ResponseWriter& writer);

  // writes.cpp
  void create(const Scope& scope, const Request& request, std::shared_ptr<ResponseWriter> writer);
  void update(const Scope& scope, const Request& request, std::shared_ptr<ResponseWriter> writer);
  void patch(const Scope& scope, const Request& request, std::shared_ptr<ResponseWriter> writer);
  void bind(const Scope& scope, const Request& request, std::shared_ptr<ResponseWriter> writer);
  // SelfSubjectReview, SelfSubjectAccessReview, SelfSubjectRulesReview: the
  // answer about the caller, who (the one admin user) may do everything.
  void review(const Scope& scope, const Request& request, std::shared_ptr<ResponseWriter> writer);
  void writeScale(const Scope& scope, const Request& request,
                  std::shared_ptr<ResponseWriter> writer);
  // Shared tail of update and patch: `next` is the requested new state of the
  // object `current` (raw stored record); status-only when scope.sub == "status".
  Result<WritePlan> planUpdate(const Scope& scope, const storage::Record& current, api::Json next,
                               bool dryRun, const std::set<std::string>& avoid);
  Result<WritePlan> planCreate(const Scope& scope, api::Json object, bool dryRun,
                               const std::set<std::string>& avoid);

  // The objects of a derived resource (endpointslices) in a namespace ("" for
  // all), with the revision they were read at (reads.cpp).
  Result<std::pair<std::vector<api::Json>, storage::Revision>> listDerived(const ResourceInfo& r,
                                                                           const std::string& ns);
  // The stored record at scope.key(); a missing one is Kubernetes' NotFound for
  // the scope's resource and name (reads.cpp).
  Result<storage::Record> getStored(const Scope& scope);

  // deletes.cpp
  void remove(const Scope& scope, const Request& request, std::shared_ptr<ResponseWriter> writer);
  void removeCollection(const Scope& scope, const Request& request,
                        std::shared_ptr<ResponseWriter> writer);

  // The write engine.
  void runWrite(Planner planner, const Scope& scope, Done done, int attemptsLeft = kWriteAttempts,
                std::set<std::string> avoid = {});
  void runWriteAndRespond(Planner planner, const Scope& scope,
                          std::shared_ptr<ResponseWriter> writer);

 public:
  storage::Store& store_;
  const RestOptions options_;
  std::unique_ptr<ServiceAllocator> allocator_;
  std::unique_ptr<WatchHub> watches_;

 private:
  // The namespace's state for a write into it: kNotFound, or kForbidden when
  // terminating (namespace_cache.h).
  Status checkNamespaceWritable(const Scope& scope, const std::string& name);
  NamespaceCache namespaces_{store_};

  // Commits whose callbacks (which use `this`) have not finished yet; the
  // destructor waits for them, since the store may outlive the RestApi.
  std::mutex inflightMu_;  // guards inflight_
  std::condition_variable inflightCv_;
  int inflight_ = 0;
  void beginCommit();
  void endCommit();

  std::mutex loopMu_;  // guards stopping_ and sweepUntil_
  std::condition_variable loopCv_;
  bool stopping_ = false;
  // The default ServiceAccounts are checked every 10 s, and on every pass
  // until this time after a wake (a namespace or ServiceAccount change).
  std::chrono::steady_clock::time_point sweepUntil_{};
  // keepMasterEndpoints' address; empty: none kept. Guarded by loopMu_.
  std::string masterIp_;
  uint16_t masterPort_ = 0;
  void reconcileKubernetesEndpoints(const std::string& ip, uint16_t port);
  std::thread loop_;  // namespace finalizer, default ServiceAccounts
};

// Responses (rest.cpp).
void respondJson(ResponseWriter& writer, int status, std::string body,
                 std::vector<std::pair<std::string, std::string>> headers = {});
void respondError(ResponseWriter& writer, const Error& error);
// Whether the request's Accept header asks for a meta.k8s.io Table.
bool wantsTable(const Request& request);
// Stored JSON text -> object (kInternal on corruption).
Result<api::Json> parseStored(const std::string& text);
// The stored core/v1 object `plural` NAME (ns "" for cluster-scoped ones),
// parsed; Kubernetes' kNotFound (`pods "web" not found`) when it does not exist.
Result<api::Json> readStored(storage::Store& store, const std::string& plural,
                             const std::string& ns, const std::string& name);
bool isDryRun(const Request& request);
// The fieldValidation query parameter (writes.cpp); kBadRequest when unknown.
Result<api::UnknownFields> unknownFieldsMode(const Request& request);
// Decoder warnings as Kubernetes' Warning headers (writes.cpp).
std::vector<std::pair<std::string, std::string>> warningHeaders(
    const std::vector<std::string>& warnings);
// The autoscaling/v1 Scale of a deployment or replicaset (reads.cpp).
api::Json scaleOf(const api::Json& object, storage::Revision rv);

}  // namespace skiff::apiserver
