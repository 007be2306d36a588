// Defaulting as pkg/apis/core/v1/defaults.go and pkg/apis/apps/v1/defaults.go
// (Kubernetes 1.32), plus the few defaults the Service REST strategy fills in
// (clusterIPs, ipFamilies, ipFamilyPolicy) so one call gives a stored object its
// final shape. Only absent (or empty) fields are filled; wrong values are left
// for validation to report.
#include "api/defaults.h"

#include "api/validation_internal.h"

namespace skiff::api {

namespace {

using detail::get;

// obj[name], created as {} when absent; nullptr when present but not an object.
Json* objectAt(Json& obj, const char* name) {
  if (!obj.is_object()) return nullptr;
  Json& v = obj[name];
  if (v.is_null()) v = Json::object();
  return v.is_object() ? &v : nullptr;
}

bool absent(const Json& obj, const char* name) {
  if (!obj.is_object()) return false;
  auto it = obj.find(std::string_view(name));
  return it == obj.end() || it->is_null() || (it->is_string() && it->get<std::string>().empty());
}

void setIfAbsent(Json& obj, const char* name, Json value) {
  if (obj.is_object() && absent(obj, name)) obj[name] = std::move(value);
}

// Integer fields whose zero value means "unset" in Go (int32, not *int32).
void setIfZero(Json& obj, const char* name, int value) {
  if (!obj.is_object()) return;
  const Json* v = get(obj, name);
  if (!v || (v->is_number_integer() && v->get<long long>() == 0)) obj[name] = value;
}

template <typename F>
void forEach(Json& obj, const char* name, F&& f) {
  if (!obj.is_object()) return;
  auto it = obj.find(std::string_view(name));
  if (it == obj.end() || !it->is_array()) return;
  for (Json& e : *it) {
    if (e.is_object()) f(e);
  }
}

void defaultHttpGet(Json& handler) {
  if (Json* h = get(handler, "httpGet") ? &handler["httpGet"] : nullptr; h && h->is_object()) {
    setIfAbsent(*h, "path", "/");
    setIfAbsent(*h, "scheme", "HTTP");
  }
}

void defaultProbe(Json& container, const char* name) {
  if (!get(container, name) || !container[name].is_object()) return;
  Json& p = container[name];
  setIfZero(p, "timeoutSeconds", 1);
  setIfZero(p, "periodSeconds", 10);
  setIfZero(p, "successThreshold", 1);
  setIfZero(p, "failureThreshold", 3);
  defaultHttpGet(p);
}

// "nginx" and "nginx:latest" -> Always; "nginx:1.25" and digests -> IfNotPresent.
std::string pullPolicyFor(const std::string& image) {
  if (image.find('@') != std::string::npos) return "IfNotPresent";
  size_t slash = image.rfind('/');
  size_t colon = image.rfind(':');
  if (colon == std::string::npos || (slash != std::string::npos && colon < slash)) return "Always";
  return image.substr(colon + 1) == "latest" ? "Always" : "IfNotPresent";
}

void defaultContainer(Json& c, bool hostNetwork) {
  if (absent(c, "imagePullPolicy") && detail::hasString(c, "image")) {
    c["imagePullPolicy"] = pullPolicyFor(detail::getString(c, "image"));
  }
  setIfAbsent(c, "terminationMessagePath", "/dev/termination-log");
  setIfAbsent(c, "terminationMessagePolicy", "File");
  forEach(c, "ports", [&](Json& p) {
    setIfAbsent(p, "protocol", "TCP");
    if (hostNetwork && !get(p, "hostPort") && get(p, "containerPort"))
      p["hostPort"] = p["containerPort"];
  });
  forEach(c, "env", [](Json& e) {
    if (Json* vf = get(e, "valueFrom") ? &e["valueFrom"] : nullptr) {
      if (get(*vf, "fieldRef") && (*vf)["fieldRef"].is_object()) {
        setIfAbsent((*vf)["fieldRef"], "apiVersion", "v1");
      }
    }
  });
  defaultProbe(c, "livenessProbe");
  defaultProbe(c, "readinessProbe");
  defaultProbe(c, "startupProbe");
  if (get(c, "lifecycle") && c["lifecycle"].is_object()) {
    for (const char* h : {"postStart", "preStop"}) {
      if (get(c["lifecycle"], h)) defaultHttpGet(c["lifecycle"][h]);
    }
  }
  // Requests default to limits for each resource with a limit (SetDefaults_Pod).
  if (get(c, "resources") && c["resources"].is_object()) {
    Json& r = c["resources"];
    if (get(r, "limits") && r["limits"].is_object() && !r["limits"].empty()) {
      Json* req = objectAt(r, "requests");
      if (req) {
        for (auto it = r["limits"].begin(); it != r["limits"].end(); ++it) {
          if (!req->contains(it.key())) (*req)[it.key()] = it.value();
        }
      }
    }
  }
}

void defaultVolume(Json& v) {
  bool any = false;
  for (const char* s : detail::kVolumeSources) any = any || get(v, s);
  if (!any) v["emptyDir"] = Json::object();
  if (Json* hp = get(v, "hostPath") ? &v["hostPath"] : nullptr; hp && hp->is_object()) {
    if (!hp->contains("type") || (*hp)["type"].is_null()) (*hp)["type"] = "";
  }
  for (const char* s : {"secret", "configMap", "downwardAPI", "projected"}) {
    if (get(v, s) && v[s].is_object()) setIfAbsent(v[s], "defaultMode", 420);
  }
  if (get(v, "downwardAPI") && v["downwardAPI"].is_object()) {
    forEach(v["downwardAPI"], "items", [](Json& item) {
      if (get(item, "fieldRef") && item["fieldRef"].is_object()) {
        setIfAbsent(item["fieldRef"], "apiVersion", "v1");
      }
    });
  }
  if (get(v, "projected") && v["projected"].is_object()) {
    forEach(v["projected"], "sources", [](Json& src) {
      if (get(src, "serviceAccountToken") && src["serviceAccountToken"].is_object()) {
        setIfAbsent(src["serviceAccountToken"], "expirationSeconds", 3600);
      }
    });
  }
}

void defaultPodSpec(Json& spec) {
  if (!spec.is_object()) return;
  setIfAbsent(spec, "dnsPolicy", "ClusterFirst");
  setIfAbsent(spec, "restartPolicy", "Always");
  if (!get(spec, "securityContext")) spec["securityContext"] = Json::object();
  setIfAbsent(spec, "terminationGracePeriodSeconds", 30);
  setIfAbsent(spec, "schedulerName", "default-scheduler");
  if (!get(spec, "enableServiceLinks")) spec["enableServiceLinks"] = true;
  const Json* hn = get(spec, "hostNetwork");
  bool hostNetwork = hn && hn->is_boolean() && hn->get<bool>();
  forEach(spec, "containers", [&](Json& c) { defaultContainer(c, hostNetwork); });
  forEach(spec, "initContainers", [&](Json& c) { defaultContainer(c, hostNetwork); });
  forEach(spec, "ephemeralContainers", [&](Json& c) { defaultContainer(c, hostNetwork); });
  forEach(spec, "volumes", defaultVolume);
}

void defaultPodTemplate(Json& obj) {
  Json* spec = get(obj, "spec") ? &obj["spec"] : nullptr;
  if (!spec || !spec->is_object()) return;
  if (get(*spec, "template") && (*spec)["template"].is_object()) {
    Json& t = (*spec)["template"];
    if (get(t, "spec")) defaultPodSpec(t["spec"]);
  }
}

void defaultService(Json& svc) {
  Json* spec = objectAt(svc, "spec");
  if (!spec) return;
  setIfAbsent(*spec, "sessionAffinity", "None");
  std::string affinity = detail::getString(*spec, "sessionAffinity");
  if (affinity == "None") {
    spec->erase("sessionAffinityConfig");
  } else if (affinity == "ClientIP") {
    Json* cfg = objectAt(*spec, "sessionAffinityConfig");
    Json* cip = cfg ? objectAt(*cfg, "clientIP") : nullptr;
    if (cip && !get(*cip, "timeoutSeconds")) (*cip)["timeoutSeconds"] = 10800;
  }
  setIfAbsent(*spec, "type", "ClusterIP");
  std::string type = detail::getString(*spec, "type");
  forEach(*spec, "ports", [](Json& p) {
    setIfAbsent(p, "protocol", "TCP");
    const Json* tp = get(p, "targetPort");
    bool zero = !tp || (tp->is_number_integer() && tp->get<long long>() == 0) ||
                (tp->is_string() && tp->get<std::string>().empty());
    if (zero && get(p, "port")) p["targetPort"] = p["port"];
  });
  if (type == "NodePort" || type == "LoadBalancer") {
    setIfAbsent(*spec, "externalTrafficPolicy", "Cluster");
  }
  if (type != "ExternalName") {
    setIfAbsent(*spec, "internalTrafficPolicy", "Cluster");
    std::string clusterIP = detail::getString(*spec, "clusterIP");
    if (!clusterIP.empty() && !get(*spec, "clusterIPs")) {
      (*spec)["clusterIPs"] = Json::array({clusterIP});
    }
    if (!get(*spec, "ipFamilies")) {
      (*spec)["ipFamilies"] = Json::array({detail::isIPv6(clusterIP) ? "IPv6" : "IPv4"});
    }
    setIfAbsent(*spec, "ipFamilyPolicy", "SingleStack");
  }
  if (type == "LoadBalancer" && !get(*spec, "allocateLoadBalancerNodePorts")) {
    (*spec)["allocateLoadBalancerNodePorts"] = true;
  }
  if (type == "LoadBalancer") {
    // An ingress address is a VIP unless its load balancer says it proxies.
    Json* status = objectAt(svc, "status");
    Json* lb = status ? objectAt(*status, "loadBalancer") : nullptr;
    if (lb) {
      forEach(*lb, "ingress", [](Json& ing) {
        if (!detail::getString(ing, "ip").empty()) setIfAbsent(ing, "ipMode", "VIP");
      });
    }
  }
}

void defaultDeployment(Json& d) {
  Json* spec = objectAt(d, "spec");
  if (!spec) return;
  setIfAbsent(*spec, "replicas", 1);
  Json* strategy = objectAt(*spec, "strategy");
  if (strategy) {
    setIfAbsent(*strategy, "type", "RollingUpdate");
    if (detail::getString(*strategy, "type") == "RollingUpdate") {
      Json* ru = objectAt(*strategy, "rollingUpdate");
      if (ru) {
        setIfAbsent(*ru, "maxUnavailable", "25%");
        setIfAbsent(*ru, "maxSurge", "25%");
      }
    }
  }
  setIfAbsent(*spec, "revisionHistoryLimit", 10);
  setIfAbsent(*spec, "progressDeadlineSeconds", 600);
  defaultPodTemplate(d);
}

}  // namespace

void applyDefaults(Json& object, const GroupVersionKind& gvk) {
  if (!object.is_object()) return;
  const std::string& k = gvk.kind;
  if (gvk.group.empty()) {
    if (k == "Service") {
      defaultService(object);
    } else if (k == "Pod") {
      Json* spec = objectAt(object, "spec");
      if (spec) defaultPodSpec(*spec);
    } else if (k == "Namespace") {
      Json* status = objectAt(object, "status");
      if (status) setIfAbsent(*status, "phase", "Active");
      // The immutable kubernetes.io/metadata.name label (SetDefaults_Namespace).
      Json* meta = objectAt(object, "metadata");
      if (meta && detail::hasString(*meta, "name")) {
        Json* labels = objectAt(*meta, "labels");
        if (labels) (*labels)["kubernetes.io/metadata.name"] = detail::getString(*meta, "name");
      }
    } else if (k == "Secret") {
      // stringData is write-only: merged into data, where it wins (as the
      // v1 conversion does), and gone from what is stored.
      if (auto sd = object.find("stringData"); sd != object.end()) {
        Json* data = objectAt(object, "data");
        if (data && sd->is_object())
          for (const auto& [key, value] : sd->items())
            if (value.is_string()) (*data)[key] = base64Encode(value.get<std::string>());
        object.erase(sd);
      }
      if (!detail::hasString(object, "type") || object["type"].get<std::string>().empty())
        object["type"] = "Opaque";
    } else if (k == "Endpoints") {
      forEach(object, "subsets", [](Json& s) {
        forEach(s, "ports", [](Json& p) { setIfAbsent(p, "protocol", "TCP"); });
      });
    } else if (k == "Node") {
      Json* status = get(object, "status") ? &object["status"] : nullptr;
      if (status && status->is_object() && !get(*status, "allocatable") &&
          get(*status, "capacity")) {
        (*status)["allocatable"] = (*status)["capacity"];
      }
    }
  } else if (gvk.group == "apps") {
    if (k == "Deployment") {
      defaultDeployment(object);
    } else if (k == "ReplicaSet") {
      Json* spec = objectAt(object, "spec");
      if (spec) setIfAbsent(*spec, "replicas", 1);
      defaultPodTemplate(object);
    }
  }
}

}  // namespace skiff::api
