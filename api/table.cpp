// Server-side printing, as Kubernetes' pkg/printers/internalversion: the
// server always prints the wide form (every column, the wide ones with
// priority 1) and clients hide priority>0 columns unless `-o wide`. Cells are
// strings already formatted (AGE is a "string" column holding "5m"), except
// the counters Kubernetes sends as numbers (replicaset DESIRED/CURRENT/READY,
// deployment UP-TO-DATE/AVAILABLE, event COUNT).
#include "api/table.h"

#include <algorithm>
#include <ctime>
#include <map>
#include <set>

#include "api/selector.h"
#include "api/time.h"
#include "api/table_internal.h"

namespace skiff::api {

std::string humanDuration(std::chrono::seconds d) {
  long long seconds = d.count();
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 60 * 2) return std::to_string(seconds) + "s";
  long long minutes = seconds / 60;
  if (minutes < 10) {
    long long s = seconds % 60;
    if (s == 0) return std::to_string(minutes) + "m";
    return std::to_string(minutes) + "m" + std::to_string(s) + "s";
  }
  if (minutes < 60 * 3) return std::to_string(minutes) + "m";
  long long hours = seconds / 3600;
  if (hours < 8) {
    long long m = minutes % 60;
    if (m == 0) return std::to_string(hours) + "h";
    return std::to_string(hours) + "h" + std::to_string(m) + "m";
  }
  if (hours < 48) return std::to_string(hours) + "h";
  if (hours < 24 * 8) {
    long long h = hours % 24;
    if (h == 0) return std::to_string(hours / 24) + "d";
    return std::to_string(hours / 24) + "d" + std::to_string(h) + "h";
  }
  if (hours < 24 * 365 * 2) return std::to_string(hours / 24) + "d";
  if (hours < 24 * 365 * 8) {
    long long dy = (hours / 24) % 365;
    if (dy == 0) return std::to_string(hours / 24 / 365) + "y";
    return std::to_string(hours / 24 / 365) + "y" + std::to_string(dy) + "d";
  }
  return std::to_string(hours / 24 / 365) + "y";
}

namespace table_internal {

std::string str(const Json* j) {
  if (!j || j->is_null()) return "";
  if (j->is_string()) return j->get<std::string>();
  return j->dump();
}

long long num(const Json* j) {
  if (!j || !j->is_number()) return 0;
  return j->get<long long>();
}

const Json& arr(const Json* j) {
  static const Json empty = Json::array();
  return j && j->is_array() ? *j : empty;
}

std::optional<std::chrono::system_clock::time_point> parseTime(const Json* j) {
  if (!j || !j->is_string()) return std::nullopt;
  return api::parseTime(j->get_ref<const std::string&>());
}

std::string since(const Json* timestamp, std::chrono::system_clock::time_point now) {
  auto t = parseTime(timestamp);
  if (!t) return "<unknown>";
  return humanDuration(std::chrono::duration_cast<std::chrono::seconds>(now - *t));
}

std::string join(const std::vector<std::string>& v, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += sep;
    out += v[i];
  }
  return out;
}

std::string formatLabels(const Json* labels) {
  if (!labels || !labels->is_object() || labels->empty()) return "<none>";
  std::vector<std::string> parts;
  for (auto& [k, v] : labels->items()) parts.push_back(k + "=" + str(&v));  // keys sorted
  return join(parts, ",");
}

std::string selectorString(const Json* selector) {
  auto s = LabelSelector::fromJson(valueOrNull(selector));
  if (!s.ok()) return "<invalid>";
  if (!selector) return "";  // labels.Nothing().String()
  return s->toString();
}

Json column(const std::string& name, const std::string& type, const std::string& description,
            int priority, const std::string& format) {
  return Json{{"name", name},
              {"type", type},
              {"format", format},
              {"description", description},
              {"priority", priority}};
}

}  // namespace table_internal

using namespace table_internal;

namespace {

using Now = std::chrono::system_clock::time_point;
using Printer = Json (*)(const Json& obj, Now now, Json* conditions);

struct Kind {
  std::vector<Json> (*columns)();
  Printer print;
};

Json nameCol() {
  return column("Name", "string", kDescName, 0, "name");
}
Json ageCol() {
  return column("Age", "string", kDescCreationTimestamp);
}
std::string name(const Json& o) {
  return str(at(o, {"metadata", "name"}));
}
std::string age(const Json& o, Now now) {
  return since(at(o, {"metadata", "creationTimestamp"}), now);
}

// ---- generic ----
std::vector<Json> genericColumns() {
  return {nameCol(), ageCol()};
}
Json printGeneric(const Json& o, Now now, Json*) {
  return Json::array({name(o), age(o, now)});
}

// ---- configmaps, secrets, serviceaccounts ----
std::vector<Json> configMapColumns() {
  return {nameCol(), column("Data", "string", kDescConfigMapData), ageCol()};
}
long long dataCount(const Json& o) {
  long long n = 0;
  for (const char* f : {"data", "binaryData"}) {
    if (auto* d = at(o, {f}); d && d->is_object()) n += static_cast<long long>(d->size());
  }
  return n;
}
Json printConfigMap(const Json& o, Now now, Json*) {
  return Json::array({name(o), dataCount(o), age(o, now)});
}
std::vector<Json> secretColumns() {
  return {nameCol(), column("Type", "string", kDescSecretType),
          column("Data", "string", kDescSecretData), ageCol()};
}
Json printSecret(const Json& o, Now now, Json*) {
  long long n = 0;
  for (const char* f : {"data", "stringData"}) {
    if (auto* d = at(o, {f}); d && d->is_object()) n += static_cast<long long>(d->size());
  }
  return Json::array({name(o), str(at(o, {"type"})), n, age(o, now)});
}
std::vector<Json> serviceAccountColumns() {
  return {nameCol(), column("Secrets", "string", kDescServiceAccountSecrets), ageCol()};
}
Json printServiceAccount(const Json& o, Now now, Json*) {
  return Json::array(
      {name(o), static_cast<long long>(arr(at(o, {"secrets"})).size()), age(o, now)});
}

// ---- services ----
std::vector<Json> serviceColumns() {
  return {nameCol(),
          column("Type", "string", kDescServiceType),
          column("Cluster-IP", "string", kDescServiceClusterIP),
          column("External-IP", "string", kDescServiceExternalIPs),
          column("Port(s)", "string", kDescServicePorts),
          ageCol(),
          column("Selector", "string", kDescServiceSelector, 1)};
}

std::string serviceExternalIP(const Json& o) {
  std::string type = str(at(o, {"spec", "type"}));
  std::vector<std::string> externalIPs;
  for (auto& ip : arr(at(o, {"spec", "externalIPs"}))) externalIPs.push_back(str(&ip));
  if (type == "ClusterIP" || type == "NodePort") {
    return externalIPs.empty() ? "<none>" : join(externalIPs, ",");
  }
  if (type == "LoadBalancer") {
    std::set<std::string> ingress;  // sets.String: sorted, unique
    for (auto& in : arr(at(o, {"status", "loadBalancer", "ingress"}))) {
      std::string ip = str(at(in, {"ip"}));
      std::string host = str(at(in, {"hostname"}));
      if (!ip.empty())
        ingress.insert(ip);
      else if (!host.empty())
        ingress.insert(host);
    }
    std::vector<std::string> all(ingress.begin(), ingress.end());
    all.insert(all.end(), externalIPs.begin(), externalIPs.end());
    return all.empty() ? "<pending>" : join(all, ",");
  }
  if (type == "ExternalName") return str(at(o, {"spec", "externalName"}));
  return "<unknown>";
}

Json printService(const Json& o, Now now, Json*) {
  std::string clusterIP = "<none>";
  if (auto& ips = arr(at(o, {"spec", "clusterIPs"})); !ips.empty()) {
    clusterIP = str(&ips[0]);
  } else if (auto* ip = at(o, {"spec", "clusterIP"}); ip && !str(ip).empty()) {
    clusterIP = str(ip);  // an object written before clusterIPs existed
  }
  std::vector<std::string> ports;
  for (auto& p : arr(at(o, {"spec", "ports"}))) {
    std::string proto = str(at(p, {"protocol"}));
    long long nodePort = num(at(p, {"nodePort"}));
    std::string port = std::to_string(num(at(p, {"port"})));
    if (nodePort > 0) port += ":" + std::to_string(nodePort);
    ports.push_back(port + "/" + proto);
  }
  std::string portStr = ports.empty() ? "<none>" : join(ports, ",");
  return Json::array({name(o), str(at(o, {"spec", "type"})), clusterIP, serviceExternalIP(o),
                      portStr, age(o, now), formatLabels(at(o, {"spec", "selector"}))});
}

// ---- endpoints ----
std::vector<Json> endpointsColumns() {
  return {nameCol(), column("Endpoints", "string", kDescEndpointsSubsets), ageCol()};
}

std::string joinHostPort(const std::string& host, long long port) {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

std::string formatEndpoints(const Json& o) {
  auto& subsets = arr(at(o, {"subsets"}));
  if (subsets.empty()) return "<none>";
  std::vector<std::string> list;
  const size_t max = 3;
  bool more = false;
  size_t count = 0;
  for (auto& ss : subsets) {
    auto& addrs = arr(at(ss, {"addresses"}));
    auto& ports = arr(at(ss, {"ports"}));
    if (ports.empty()) {
      count += addrs.size();
      for (auto& a : addrs) {
        if (list.size() == max) {
          more = true;
          break;
        }
        list.push_back(str(at(a, {"ip"})));
      }
      continue;
    }
    for (auto& p : ports) {
      count += addrs.size();
      for (auto& a : addrs) {
        if (list.size() == max) {
          more = true;
          break;
        }
        list.push_back(joinHostPort(str(at(a, {"ip"})), num(at(p, {"port"}))));
      }
    }
  }
  std::string ret = join(list, ",");
  if (more) return ret + " + " + std::to_string(count - max) + " more...";
  return ret;
}

Json printEndpoints(const Json& o, Now now, Json*) {
  return Json::array({name(o), formatEndpoints(o), age(o, now)});
}

// ---- endpointslices (discovery.k8s.io/v1) ----
std::vector<Json> endpointSliceColumns() {
  return {nameCol(),
          column("AddressType", "string",
                 "addressType specifies the type of address carried by this EndpointSlice. All "
                 "addresses in this slice must be the same type."),
          column("Ports", "string",
                 "ports specifies the list of network ports exposed by each endpoint in this "
                 "slice."),
          column("Endpoints", "string",
                 "endpoints is a list of unique endpoints in this slice. Each slice may include a "
                 "maximum of 1000 endpoints."),
          ageCol()};
}

// Up to three of `list`, and how many more there are; "<unset>" for none.
std::string listWithMore(const std::vector<std::string>& list) {
  const size_t max = 3;
  std::vector<std::string> shown(list.begin(), list.begin() + std::min(list.size(), max));
  std::string ret = join(shown, ",");
  if (list.size() > max) return ret + " + " + std::to_string(list.size() - max) + " more...";
  return ret.empty() ? "<unset>" : ret;
}

Json printEndpointSlice(const Json& o, Now now, Json*) {
  std::vector<std::string> ports;
  for (auto& p : arr(at(o, {"ports"}))) {
    const Json* port = at(p, {"port"});
    const Json* portName = at(p, {"name"});
    ports.push_back(port ? std::to_string(num(port)) : portName ? str(portName) : "*");
  }
  std::vector<std::string> addresses;
  for (auto& e : arr(at(o, {"endpoints"})))
    for (auto& a : arr(at(e, {"addresses"}))) addresses.push_back(str(&a));
  return Json::array({name(o), str(at(o, {"addressType"})), listWithMore(ports),
                      listWithMore(addresses), age(o, now)});
}

// ---- nodes ----
std::vector<Json> nodeColumns() {
  return {nameCol(),
          column("Status", "string", "The status of the node"),
          column("Roles", "string", "The roles of the node"),
          ageCol(),
          column("Version", "string", kDescKubeletVersion),
          column("Internal-IP", "string", kDescNodeAddresses, 1),
          column("External-IP", "string", kDescNodeAddresses, 1),
          column("OS-Image", "string", kDescOSImage, 1),
          column("Kernel-Version", "string", kDescKernelVersion, 1),
          column("Container-Runtime", "string", kDescContainerRuntime, 1)};
}

std::string nodeAddress(const Json& o, const std::string& type) {
  for (auto& a : arr(at(o, {"status", "addresses"}))) {
    if (str(at(a, {"type"})) == type) return str(at(a, {"address"}));
  }
  return "<none>";
}

Json printNode(const Json& o, Now now, Json*) {
  std::vector<std::string> status;
  for (auto& c : arr(at(o, {"status", "conditions"}))) {
    if (str(at(c, {"type"})) == "Ready") {
      status.push_back(str(at(c, {"status"})) == "True" ? "Ready" : "NotReady");
      break;
    }
  }
  if (status.empty()) status.push_back("Unknown");
  if (auto* u = at(o, {"spec", "unschedulable"}); u && u->is_boolean() && u->get<bool>())
    status.push_back("SchedulingDisabled");
  std::set<std::string> roles;
  if (auto* labels = at(o, {"metadata", "labels"}); labels && labels->is_object()) {
    const std::string prefix = "node-role.kubernetes.io/";
    for (auto& [k, v] : labels->items()) {
      if (k.rfind(prefix, 0) == 0) {
        if (k.size() > prefix.size()) roles.insert(k.substr(prefix.size()));
      } else if (k == "kubernetes.io/role" && !str(&v).empty()) {
        roles.insert(str(&v));
      }
    }
  }
  std::string rolesStr =
      roles.empty() ? "<none>" : join(std::vector<std::string>(roles.begin(), roles.end()), ",");
  auto info = [&](const char* f) {
    std::string v = str(at(o, {"status", "nodeInfo", f}));
    return v.empty() ? std::string("<unknown>") : v;
  };
  return Json::array({name(o), join(status, ","), rolesStr, age(o, now),
                      str(at(o, {"status", "nodeInfo", "kubeletVersion"})),
                      nodeAddress(o, "InternalIP"), nodeAddress(o, "ExternalIP"), info("osImage"),
                      info("kernelVersion"), info("containerRuntimeVersion")});
}

// ---- namespaces ----
std::vector<Json> namespaceColumns() {
  return {nameCol(), column("Status", "string", "The status of the namespace"), ageCol()};
}
Json printNamespace(const Json& o, Now now, Json*) {
  return Json::array({name(o), str(at(o, {"status", "phase"})), age(o, now)});
}

// ---- events ----
std::vector<Json> eventColumns() {
  return {column("Last Seen", "string", kDescEventLastTimestamp),
          column("Type", "string", kDescEventType),
          column("Reason", "string", kDescEventReason),
          column("Object", "string", kDescEventInvolvedObject),
          column("Subobject", "string", kDescEventFieldPath, 1),
          column("Source", "string", kDescEventSource, 1),
          column("Message", "string", kDescEventMessage),
          column("First Seen", "string", kDescEventFirstTimestamp, 1),
          column("Count", "string", kDescEventCount, 1),
          column("Name", "string", kDescName, 1, "name")};
}

std::string trimSpace(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n\v\f");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n\v\f");
  return s.substr(b, e - b + 1);
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

Json printEvent(const Json& o, Now now, Json*) {
  std::string first = at(o, {"firstTimestamp"}) ? since(at(o, {"firstTimestamp"}), now)
                                                : since(at(o, {"eventTime"}), now);
  std::string last = at(o, {"lastTimestamp"}) ? since(at(o, {"lastTimestamp"}), now) : first;
  long long count = num(at(o, {"count"}));
  if (auto* series = at(o, {"series"}); series && series->is_object()) {
    last = since(at(*series, {"lastObservedTime"}), now);
    count = num(at(*series, {"count"}));
  } else if (count == 0) {
    count = 1;
  }
  std::string kind = lower(str(at(o, {"involvedObject", "kind"})));
  std::string objName = str(at(o, {"involvedObject", "name"}));
  std::string target = objName.empty() ? kind : kind + "/" + objName;
  std::string component = str(at(o, {"source", "component"}));
  if (component.empty()) component = str(at(o, {"reportingComponent"}));
  std::string host = str(at(o, {"source", "host"}));
  if (host.empty()) host = str(at(o, {"reportingInstance"}));
  std::string source = component.empty() ? "<unknown>"
                       : host.empty()    ? component
                                         : component + ", " + host;
  return Json::array({last, str(at(o, {"type"})), str(at(o, {"reason"})), target,
                      str(at(o, {"involvedObject", "fieldPath"})), source,
                      trimSpace(str(at(o, {"message"}))), first, count, name(o)});
}

// ---- deployments, replicasets ----
std::vector<Json> deploymentColumns() {
  return {nameCol(),
          column("Ready", "string", "Number of the pod with ready state"),
          column("Up-to-date", "string", kDescDeploymentUpdated),
          column("Available", "string", kDescDeploymentAvailable),
          ageCol(),
          column("Containers", "string", "Names of each container in the template.", 1),
          column("Images", "string", "Images referenced by each container in the template.", 1),
          column("Selector", "string", kDescDeploymentSelector, 1)};
}

std::pair<std::string, std::string> containerCells(const Json& o) {
  std::vector<std::string> names, images;
  for (auto& c : arr(at(o, {"spec", "template", "spec", "containers"}))) {
    names.push_back(str(at(c, {"name"})));
    images.push_back(str(at(c, {"image"})));
  }
  return {join(names, ","), join(images, ",")};
}

Json printDeployment(const Json& o, Now now, Json*) {
  long long desired = at(o, {"spec", "replicas"}) ? num(at(o, {"spec", "replicas"})) : 1;
  auto [containers, images] = containerCells(o);
  return Json::array(
      {name(o),
       std::to_string(num(at(o, {"status", "readyReplicas"}))) + "/" + std::to_string(desired),
       num(at(o, {"status", "updatedReplicas"})), num(at(o, {"status", "availableReplicas"})),
       age(o, now), containers, images, selectorString(at(o, {"spec", "selector"}))});
}

std::vector<Json> replicaSetColumns() {
  return {nameCol(),
          column("Desired", "integer", kDescReplicaSetDesired),
          column("Current", "integer", kDescReplicaSetCurrent),
          column("Ready", "integer", kDescReplicaSetReady),
          ageCol(),
          column("Containers", "string", "Names of each container in the template.", 1),
          column("Images", "string", "Images referenced by each container in the template.", 1),
          column("Selector", "string", kDescReplicaSetSelector, 1)};
}

Json printReplicaSet(const Json& o, Now now, Json*) {
  long long desired = at(o, {"spec", "replicas"}) ? num(at(o, {"spec", "replicas"})) : 1;
  auto [containers, images] = containerCells(o);
  return Json::array({name(o), desired, num(at(o, {"status", "replicas"})),
                      num(at(o, {"status", "readyReplicas"})), age(o, now), containers, images,
                      selectorString(at(o, {"spec", "selector"}))});
}

const Kind& kindFor(const std::string& resource) {
  static const std::map<std::string, Kind> kinds = {
      {"pods", {podColumns, printPod}},
      {"services", {serviceColumns, printService}},
      {"endpoints", {endpointsColumns, printEndpoints}},
      {"endpointslices", {endpointSliceColumns, printEndpointSlice}},
      {"nodes", {nodeColumns, printNode}},
      {"namespaces", {namespaceColumns, printNamespace}},
      {"events", {eventColumns, printEvent}},
      {"deployments", {deploymentColumns, printDeployment}},
      {"replicasets", {replicaSetColumns, printReplicaSet}},
      {"configmaps", {configMapColumns, printConfigMap}},
      {"secrets", {secretColumns, printSecret}},
      {"serviceaccounts", {serviceAccountColumns, printServiceAccount}},
  };
  static const Kind generic{genericColumns, printGeneric};
  auto it = kinds.find(resource);
  return it == kinds.end() ? generic : it->second;
}

}  // namespace

Json tableColumns(const std::string& resource) {
  Json cols = Json::array();
  for (auto& c : kindFor(resource).columns()) cols.push_back(c);
  return cols;
}

namespace {

// One row; `obj` is consumed (its metadata or the whole object moves in).
Json tableRow(const Kind& kind, Json&& obj, const TableOptions& options) {
  Json conditions = Json::array();
  Json row = {{"cells", kind.print(obj, options.now, &conditions)}};
  if (!conditions.empty()) row["conditions"] = std::move(conditions);
  if (options.includeObject == "Object") {
    row["object"] = std::move(obj);
  } else if (options.includeObject == "None") {
    row["object"] = nullptr;
  } else {
    Json meta = Json::object();
    if (obj.is_object())
      if (auto it = obj.find("metadata"); it != obj.end()) meta = std::move(*it);
    row["object"] = {{"kind", "PartialObjectMetadata"},
                     {"apiVersion", "meta.k8s.io/v1"},
                     {"metadata", std::move(meta)}};
  }
  return row;
}

}  // namespace

Json toTable(const std::string& resource, const std::vector<Json>& objects,
             const Json& listMetadata, const TableOptions& options) {
  const Kind& kind = kindFor(resource);
  Json table = {{"kind", "Table"},
                {"apiVersion", "meta.k8s.io/v1"},
                {"metadata", listMetadata.is_object() ? listMetadata : Json::object()},
                {"columnDefinitions", tableColumns(resource)},
                {"rows", Json::array()}};
  for (const Json& obj : objects) table["rows"].push_back(tableRow(kind, Json(obj), options));
  return table;
}

TableWriter::TableWriter(std::string resource, TableOptions options)
    : resource_(std::move(resource)), options_(std::move(options)) {}

void TableWriter::add(Json&& object) {
  if (!rows_.empty()) rows_ += ',';
  rows_ += tableRow(kindFor(resource_), std::move(object), options_).dump();
}

void TableWriter::append(TableWriter&& other) {
  if (other.rows_.empty()) return;
  if (!rows_.empty()) rows_ += ',';
  rows_ += other.rows_;
  other.rows_.clear();
}

std::string TableWriter::finish(const Json& listMetadata) {
  Json head = {{"kind", "Table"},
               {"apiVersion", "meta.k8s.io/v1"},
               {"metadata", listMetadata.is_object() ? listMetadata : Json::object()},
               {"columnDefinitions", tableColumns(resource_)},
               {"rows", Json::array()}};
  std::string out = head.dump();
  // nlohmann orders keys, so "rows" is last and the text ends with `[]}`.
  out.resize(out.size() - 2);
  out.reserve(out.size() + rows_.size() + 2);
  out += rows_;
  out += "]}";
  rows_.clear();
  return out;
}

}  // namespace skiff::api
