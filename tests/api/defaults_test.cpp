// Defaulting, as pkg/apis/core/v1/defaults.go and apps/v1 do it.
#include <catch2/catch.hpp>

#include "api/defaults.h"

using namespace skiff::api;

TEST_CASE("Service defaults", "[defaults]") {
  Json svc = Json::parse(R"({"metadata":{"name":"web"},
    "spec":{"selector":{"app":"web"},"ports":[{"port":80},{"port":53,"protocol":"UDP","targetPort":"dns"}]}})");
  applyDefaults(svc, {"", "v1", "Service"});
  const Json& s = svc["spec"];
  CHECK(s["type"] == "ClusterIP");
  CHECK(s["sessionAffinity"] == "None");
  CHECK(!s.contains("sessionAffinityConfig"));
  CHECK(s["ports"][0]["protocol"] == "TCP");
  CHECK(s["ports"][0]["targetPort"] == 80);
  CHECK(s["ports"][1]["protocol"] == "UDP");
  CHECK(s["ports"][1]["targetPort"] == "dns");
  CHECK(s["internalTrafficPolicy"] == "Cluster");
  CHECK(!s.contains("externalTrafficPolicy"));
  CHECK(s["ipFamilies"] == Json::array({"IPv4"}));
  CHECK(s["ipFamilyPolicy"] == "SingleStack");

  Json np =
      Json::parse(R"({"spec":{"type":"NodePort","sessionAffinity":"ClientIP","ports":[{"port":80}],
    "clusterIP":"10.96.0.5"}})");
  applyDefaults(np, {"", "v1", "Service"});
  CHECK(np["spec"]["externalTrafficPolicy"] == "Cluster");
  CHECK(np["spec"]["sessionAffinityConfig"]["clientIP"]["timeoutSeconds"] == 10800);
  CHECK(np["spec"]["clusterIPs"] == Json::array({"10.96.0.5"}));

  Json lb = Json::parse(R"({"spec":{"type":"LoadBalancer","ports":[{"port":80}]}})");
  applyDefaults(lb, {"", "v1", "Service"});
  CHECK(lb["spec"]["allocateLoadBalancerNodePorts"] == true);
  // An ingress address is a VIP unless its load balancer said otherwise.
  Json ingress = Json::parse(R"({"spec":{"type":"LoadBalancer","ports":[{"port":80}]},
    "status":{"loadBalancer":{"ingress":[{"ip":"10.255.0.1"},{"hostname":"lb.example"},
                                         {"ip":"10.255.0.2","ipMode":"Proxy"}]}}})");
  applyDefaults(ingress, {"", "v1", "Service"});
  CHECK(ingress["status"]["loadBalancer"]["ingress"] ==
        Json::parse(R"([{"ip":"10.255.0.1","ipMode":"VIP"},{"hostname":"lb.example"},
                        {"ip":"10.255.0.2","ipMode":"Proxy"}])"));

  Json en = Json::parse(R"({"spec":{"type":"ExternalName","externalName":"example.com"}})");
  applyDefaults(en, {"", "v1", "Service"});
  CHECK(!en["spec"].contains("ipFamilies"));
  CHECK(!en["spec"].contains("internalTrafficPolicy"));
}

TEST_CASE("Pod defaults", "[defaults]") {
  Json pod = Json::parse(R"({"metadata":{"name":"p"},"spec":{
    "containers":[
      {"name":"a","image":"nginx","ports":[{"containerPort":80}],
       "livenessProbe":{"httpGet":{"port":80}},
       "resources":{"limits":{"cpu":"1"}}},
      {"name":"b","image":"nginx:1.25","readinessProbe":{"exec":{"command":["true"]},"periodSeconds":3}},
      {"name":"c","image":"registry:5000/app:latest"},
      {"name":"d","image":"registry:5000/app"},
      {"name":"e","image":"app@sha256:abcd"},
      {"name":"f","image":"nginx","imagePullPolicy":"Never"}],
    "volumes":[{"name":"v"},{"name":"h","hostPath":{"path":"/tmp"}},{"name":"s","secret":{"secretName":"x"}}]}})");
  applyDefaults(pod, {"", "v1", "Pod"});
  const Json& s = pod["spec"];
  CHECK(s["restartPolicy"] == "Always");
  CHECK(s["terminationGracePeriodSeconds"] == 30);
  CHECK(s["dnsPolicy"] == "ClusterFirst");
  CHECK(s["schedulerName"] == "default-scheduler");
  CHECK(s["securityContext"] == Json::object());
  CHECK(s["enableServiceLinks"] == true);
  const Json& a = s["containers"][0];
  CHECK(a["terminationMessagePath"] == "/dev/termination-log");
  CHECK(a["terminationMessagePolicy"] == "File");
  CHECK(a["imagePullPolicy"] == "Always");
  CHECK(a["ports"][0]["protocol"] == "TCP");
  CHECK(a["livenessProbe"]["timeoutSeconds"] == 1);
  CHECK(a["livenessProbe"]["periodSeconds"] == 10);
  CHECK(a["livenessProbe"]["successThreshold"] == 1);
  CHECK(a["livenessProbe"]["failureThreshold"] == 3);
  CHECK(a["livenessProbe"]["httpGet"]["scheme"] == "HTTP");
  CHECK(a["livenessProbe"]["httpGet"]["path"] == "/");
  CHECK(a["resources"]["requests"]["cpu"] == "1");
  CHECK(s["containers"][1]["imagePullPolicy"] == "IfNotPresent");
  CHECK(s["containers"][1]["readinessProbe"]["periodSeconds"] == 3);
  CHECK(s["containers"][2]["imagePullPolicy"] == "Always");
  CHECK(s["containers"][3]["imagePullPolicy"] == "Always");
  CHECK(s["containers"][4]["imagePullPolicy"] == "IfNotPresent");
  CHECK(s["containers"][5]["imagePullPolicy"] == "Never");
  CHECK(s["volumes"][0]["emptyDir"] == Json::object());
  CHECK(s["volumes"][1]["hostPath"]["type"] == "");
  CHECK(!s["volumes"][1].contains("emptyDir"));
  CHECK(s["volumes"][2]["secret"]["defaultMode"] == 420);
}

TEST_CASE("Deployment, ReplicaSet, Namespace, Endpoints defaults", "[defaults]") {
  Json d = Json::parse(R"({"metadata":{"name":"d"},"spec":{"selector":{"matchLabels":{"a":"b"}},
    "template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"i:1"}]}}}})");
  applyDefaults(d, {"apps", "v1", "Deployment"});
  CHECK(d["spec"]["replicas"] == 1);
  CHECK(d["spec"]["strategy"]["type"] == "RollingUpdate");
  CHECK(d["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == "25%");
  CHECK(d["spec"]["strategy"]["rollingUpdate"]["maxSurge"] == "25%");
  CHECK(d["spec"]["revisionHistoryLimit"] == 10);
  CHECK(d["spec"]["progressDeadlineSeconds"] == 600);
  CHECK(d["spec"]["template"]["spec"]["restartPolicy"] == "Always");
  CHECK(d["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] == "IfNotPresent");

  Json recreate = Json::parse(R"({"spec":{"replicas":0,"strategy":{"type":"Recreate"}}})");
  applyDefaults(recreate, {"apps", "v1", "Deployment"});
  CHECK(recreate["spec"]["replicas"] == 0);
  CHECK(!recreate["spec"]["strategy"].contains("rollingUpdate"));

  Json rs = Json::parse(R"({"spec":{}})");
  applyDefaults(rs, {"apps", "v1", "ReplicaSet"});
  CHECK(rs["spec"]["replicas"] == 1);

  Json ns = Json::parse(R"({"metadata":{"name":"team-a"}})");
  applyDefaults(ns, {"", "v1", "Namespace"});
  CHECK(ns["status"]["phase"] == "Active");
  CHECK(ns["metadata"]["labels"]["kubernetes.io/metadata.name"] == "team-a");

  Json ep = Json::parse(R"({"subsets":[{"addresses":[{"ip":"10.0.0.1"}],"ports":[{"port":80}]}]})");
  applyDefaults(ep, {"", "v1", "Endpoints"});
  CHECK(ep["subsets"][0]["ports"][0]["protocol"] == "TCP");
}
