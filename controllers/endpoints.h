// Endpoints controller: keeps, for every Service with a selector, the
// Endpoints object of the same name listing the pods that back it.
//
// The decision is desiredEndpoints() below, a pure function of the Service and
// the pods in its namespace, following Kubernetes' endpoints controller:
//   - a pod is selected when its labels match spec.selector; it is left out
//     when it has no status.podIP, is in phase Succeeded or Failed, or is being
//     deleted (metadata.deletionTimestamp) — so a pod leaves the Endpoints
//     before its containers get SIGTERM. With spec.publishNotReadyAddresses a
//     terminating pod stays, as in Kubernetes.
//   - a Ready pod (condition Ready=True) goes to addresses, any other to
//     notReadyAddresses; with publishNotReadyAddresses all go to addresses.
//     Each address: ip, nodeName, hostname (when spec.hostname is set and
//     spec.subdomain names the Service), targetRef {kind Pod, namespace,
//     name, uid}.
//   - each Service port becomes an EndpointPort {name, port, protocol,
//     appProtocol}; a named targetPort is resolved per pod by container port
//     name and protocol (a pod without that port gets no entry for it); a
//     headless Service without ports lists the addresses with no ports.
//   - (address, port) pairs are repacked as Kubernetes' RepackSubsets does:
//     addresses offering the same ports share one subset. Addresses are
//     sorted by IP then UID, ports by name, port, protocol, subsets by their
//     first address, so the result is canonical and comparable.
//   - labels: the Service's, plus service.kubernetes.io/headless for a
//     headless Service.
// Services without a selector (and ExternalName Services) are left alone:
// their Endpoints belong to the user.
//
// The controller (EndpointsController) watches Services, Pods and Endpoints
// with informers, enqueues Service keys (a pod event enqueues the Services
// whose selector matches the pod's old or new labels) and reconciles each key
// on a worker thread: create, update (only when subsets or labels differ) or,
// for a Service deleted while it had a selector, delete the Endpoints. At
// start it also deletes leftover Endpoints whose Service is gone and whose
// addresses (at least one) all point at Pods (what this controller writes;
// Kubernetes deletes every leftover, skiff spares hand-written ones), and it resyncs
// every Service every resyncPeriod. Failed writes are retried with backoff.
//
// Component shape: construct, start() (non-blocking), stop() (prompt, joins;
// the destructor stops). One start() per object.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "api/json.h"
#include "base/result.h"
#include "client/informer.h"
#include "client/kubeconfig.h"
#include "client/rest_client.h"
#include "controllers/workqueue.h"

namespace skiff::controllers {

using api::Json;

// ---- the decision (pure, thread-safe) ----

// True when the Service is one this controller manages (a non-empty selector,
// type other than ExternalName).
bool managesEndpointsOf(const Json& service);

// The Endpoints object the Service should have, given pods (any; those of
// other namespaces or not matching the selector are ignored): apiVersion, kind,
// metadata {name, namespace, labels}, subsets (canonical, see above).
Json desiredEndpoints(const Json& service, const std::vector<Json>& pods);

// Subsets in canonical form (known fields only, protocol defaulted to TCP,
// empty lists dropped, sorted as desiredEndpoints sorts), so an Endpoints read
// back from the server compares equal to the one computed.
Json canonicalSubsets(const Json& subsets);

// True when `current` (as stored) already has the subsets and labels of
// `desired`: no write needed.
bool endpointsUpToDate(const Json& current, const Json& desired);

// ---- the controller ----

struct EndpointsControllerOptions {
  // Every Service is reconciled again this often (the safety net).
  std::chrono::milliseconds resyncPeriod{30000};
  int workers = 1;
};

class EndpointsController {
 public:
  EndpointsController(client::ClientConfig config, EndpointsControllerOptions options = {});
  ~EndpointsController();
  EndpointsController(const EndpointsController&) = delete;
  EndpointsController& operator=(const EndpointsController&) = delete;

  // Starts the informers and the workers; returns at once.
  Status start();
  // Stops workers and informers and waits for them (about a second).
  void stop();

  // Endpoints writes (create, update, delete) made so far; for tests and logs.
  uint64_t writes() const { return writes_.load(); }

 private:
  void run();
  void resyncLoop();
  // Reconciles one "ns/name"; false when it should be retried.
  bool reconcile(const std::string& key);
  void enqueueServicesFor(const Json& pod);
  void enqueueAllServices();

  const EndpointsControllerOptions options_;
  client::RestClient client_;
  std::unique_ptr<client::Informer> services_;
  std::unique_ptr<client::Informer> pods_;
  std::unique_ptr<client::Informer> endpoints_;
  WorkQueue queue_;
  std::vector<std::thread> workers_;
  std::thread resync_;
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> writes_{0};
  bool started_ = false;

  std::mutex mu_;
  std::condition_variable stopCv_;
  // Services deleted while they had a selector: their Endpoints go too.
  std::set<std::string> deletedManaged_;  // guarded by mu_
  // What we last wrote per key, until the informer's cache catches up, so a
  // quick second reconcile does not PUT from a stale resourceVersion.
  std::map<std::string, Json> written_;  // guarded by mu_
};

}  // namespace skiff::controllers
