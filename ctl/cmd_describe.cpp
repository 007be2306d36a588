// `skiff describe TYPE NAME`: kubectl's layouts for Service and Pod, a generic
// one for other kinds; every layout ends with the object's Events.
#include <cstdio>

#include "api/table.h"
#include "api/time.h"
#include "ctl/commands.h"
#include "ctl/objects.h"
#include "ctl/printers.h"

namespace skiff::ctl {
namespace {

std::string str(const Json& o, const char* k, const std::string& def = "") {
  if (!o.is_object() || !o.contains(k)) return def;
  const Json& v = o[k];
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return def;
  return v.dump();
}

const Json& at(const Json& o, const char* k) {
  static const Json kNull;
  if (!o.is_object() || !o.contains(k)) return kNull;
  return o[k];
}

// "Labels:\tapp=x\n\ttier=y\n", "<none>" when empty.
void multiline(std::string& w, const std::string& title, const Json& map) {
  w += title + ":\t";
  if (!map.is_object() || map.empty()) {
    w += "<none>\n";
    return;
  }
  bool first = true;
  for (auto it = map.begin(); it != map.end(); ++it) {
    if (!first) w += "\t";
    std::string v = it->is_string() ? it->get<std::string>() : it->dump();
    if (title == "Annotations" && it.key() == kLastApplied) {
      // kubectl skips the last-applied annotation in describe.
      continue;
    }
    w += it.key() + (title == "Annotations" ? ": " : "=") + v + "\n";
    first = false;
  }
  if (first) w += "<none>\n";
}

std::string labelsInline(const Json& map) {
  if (!map.is_object() || map.empty()) return "<none>";
  std::string s;
  for (auto it = map.begin(); it != map.end(); ++it) {
    if (!s.empty()) s += ",";
    s += it.key() + "=" + (it->is_string() ? it->get<std::string>() : it->dump());
  }
  return s;
}

std::chrono::system_clock::time_point parseTime(const std::string& t) {
  return api::parseTime(t).value_or(std::chrono::system_clock::now());
}

std::string age(const std::string& t) {
  if (t.empty()) return "<unknown>";
  auto d = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now() -
                                                            parseTime(t));
  return api::humanDuration(d);
}

void events(std::string& w, client::RestClient& c, const Json& obj) {
  const Json& meta = at(obj, "metadata");
  std::string ns = str(meta, "namespace"), name = str(meta, "name"), uid = str(meta, "uid");
  std::string fs = "involvedObject.name=" + name + ",involvedObject.namespace=" + ns;
  if (!uid.empty()) fs += ",involvedObject.uid=" + uid;
  std::string path = (ns.empty() ? "/api/v1/events" : "/api/v1/namespaces/" + ns + "/events") +
                     std::string("?fieldSelector=") + urlEncode(fs);
  auto r = c.get(path);
  std::vector<Json> items;
  if (r && r->contains("items"))
    for (const auto& e : (*r)["items"]) {
      // Servers that ignore the selector: filter here too.
      const Json& io = at(e, "involvedObject");
      if (str(io, "name") == name &&
          (uid.empty() || str(io, "uid").empty() || str(io, "uid") == uid))
        items.push_back(e);
    }
  if (items.empty()) {
    w += "Events:\t<none>\n";
    return;
  }
  w += "Events:\n  Type\tReason\tAge\tFrom\tMessage\n  ----\t------\t----\t----\t-------\n";
  for (const auto& e : items) {
    std::string first = str(e, "firstTimestamp"), last = str(e, "lastTimestamp");
    if (last.empty()) last = str(e, "eventTime");
    if (first.empty()) first = last;
    std::string a = age(last);
    int count = at(e, "count").is_number() ? at(e, "count").get<int>() : 1;
    if (count > 1) a += " (x" + std::to_string(count) + " over " + age(first) + ")";
    std::string from = str(at(e, "source"), "component");
    if (from.empty()) from = str(e, "reportingComponent");
    w += "  " + str(e, "type") + "\t" + str(e, "reason") + "\t" + a + "\t" + from + "\t" +
         str(e, "message") + "\n";
  }
}

void describeService(std::string& w, client::RestClient& c, const Json& svc) {
  const Json& meta = at(svc, "metadata");
  const Json& spec = at(svc, "spec");
  w += "Name:\t" + str(meta, "name") + "\n";
  w += "Namespace:\t" + str(meta, "namespace") + "\n";
  multiline(w, "Labels", at(meta, "labels"));
  multiline(w, "Annotations", at(meta, "annotations"));
  std::string sel = labelsInline(at(spec, "selector"));
  w += "Selector:\t" + sel + "\n";
  w += "Type:\t" + str(spec, "type") + "\n";
  if (!str(spec, "ipFamilyPolicy").empty())
    w += "IP Family Policy:\t" + str(spec, "ipFamilyPolicy") + "\n";
  std::string fams;
  for (const auto& f : at(spec, "ipFamilies"))
    fams += (fams.empty() ? "" : ",") + f.get<std::string>();
  w += "IP Families:\t" + (fams.empty() ? std::string("<none>") : fams) + "\n";
  w += "IP:\t" + str(spec, "clusterIP") + "\n";
  std::string ips;
  for (const auto& i : at(spec, "clusterIPs"))
    ips += (ips.empty() ? "" : ",") + i.get<std::string>();
  w += "IPs:\t" + (ips.empty() ? std::string("<none>") : ips) + "\n";
  std::string ext;
  for (const auto& i : at(spec, "externalIPs"))
    ext += (ext.empty() ? "" : ",") + i.get<std::string>();
  if (!ext.empty()) w += "External IPs:\t" + ext + "\n";
  if (!str(spec, "loadBalancerIP").empty()) w += "IP:\t" + str(spec, "loadBalancerIP") + "\n";
  if (!str(spec, "externalName").empty())
    w += "External Name:\t" + str(spec, "externalName") + "\n";
  std::string ingress;
  for (const auto& i : at(at(at(svc, "status"), "loadBalancer"), "ingress")) {
    std::string v = str(i, "ip");
    if (v.empty()) v = str(i, "hostname");
    if (!str(i, "ipMode").empty()) v += " (" + str(i, "ipMode") + ")";
    ingress += (ingress.empty() ? "" : ", ") + v;
  }
  if (!ingress.empty()) w += "LoadBalancer Ingress:\t" + ingress + "\n";
  Json ep;
  if (auto r =
          c.get("/api/v1/namespaces/" + str(meta, "namespace") + "/endpoints/" + str(meta, "name")))
    ep = *r;
  for (const auto& p : at(spec, "ports")) {
    std::string name = str(p, "name");
    std::string pname = name.empty() ? "<unset>" : name;
    std::string proto = str(p, "protocol", "TCP");
    w += "Port:\t" + pname + "\t" + str(p, "port") + "/" + proto + "\n";
    w += "TargetPort:\t" + str(p, "targetPort", str(p, "port")) + "/" + proto + "\n";
    if (at(p, "nodePort").is_number() && at(p, "nodePort").get<int>() != 0)
      w += "NodePort:\t" + pname + "\t" + str(p, "nodePort") + "/" + proto + "\n";
    // Endpoints of this port: addresses x ports whose name matches.
    std::vector<std::string> eps;
    for (const auto& ss : at(ep, "subsets")) {
      for (const auto& ep2 : at(ss, "ports")) {
        if (str(ep2, "name") != name) continue;
        for (const auto& a : at(ss, "addresses"))
          eps.push_back(str(a, "ip") + ":" + str(ep2, "port"));
      }
    }
    std::string list;
    for (size_t i = 0; i < eps.size() && i < 3; ++i) list += (i ? "," : "") + eps[i];
    if (eps.size() > 3) list += " + " + std::to_string(eps.size() - 3) + " more...";
    w += "Endpoints:\t" + (list.empty() ? std::string("<none>") : list) + "\n";
  }
  w += "Session Affinity:\t" + str(spec, "sessionAffinity", "None") + "\n";
  if (!str(spec, "externalTrafficPolicy").empty())
    w += "External Traffic Policy:\t" + str(spec, "externalTrafficPolicy") + "\n";
  if (!str(spec, "internalTrafficPolicy").empty())
    w += "Internal Traffic Policy:\t" + str(spec, "internalTrafficPolicy") + "\n";
  if (at(spec, "healthCheckNodePort").is_number())
    w += "HealthCheck NodePort:\t" + str(spec, "healthCheckNodePort") + "\n";
  std::string ranges;
  for (const auto& r : at(spec, "loadBalancerSourceRanges"))
    if (r.is_string()) ranges += (ranges.empty() ? "" : ",") + r.get<std::string>();
  if (!ranges.empty()) w += "LoadBalancer Source Ranges:\t" + ranges + "\n";
  events(w, c, svc);
}

void describePod(std::string& w, client::RestClient& c, const Json& pod) {
  const Json& meta = at(pod, "metadata");
  const Json& spec = at(pod, "spec");
  const Json& status = at(pod, "status");
  w += "Name:\t" + str(meta, "name") + "\n";
  w += "Namespace:\t" + str(meta, "namespace") + "\n";
  if (at(spec, "priority").is_number()) w += "Priority:\t" + str(spec, "priority") + "\n";
  if (!str(spec, "serviceAccountName").empty())
    w += "Service Account:\t" + str(spec, "serviceAccountName") + "\n";
  std::string node = str(spec, "nodeName");
  w += "Node:\t" + (node.empty() ? std::string("<none>") : node + "/" + str(status, "hostIP")) +
       "\n";
  if (!str(status, "startTime").empty()) w += "Start Time:\t" + str(status, "startTime") + "\n";
  multiline(w, "Labels", at(meta, "labels"));
  multiline(w, "Annotations", at(meta, "annotations"));
  w += "Status:\t" + str(status, "phase", "Pending") + "\n";
  w += "IP:\t" + str(status, "podIP") + "\n";
  w += "IPs:";
  if (at(status, "podIPs").empty())
    w += "\t<none>\n";
  else {
    w += "\n";
    for (const auto& i : at(status, "podIPs")) w += "  IP:\t" + str(i, "ip") + "\n";
  }
  w += "Containers:\n";
  for (const auto& ctr : at(spec, "containers")) {
    w += "  " + str(ctr, "name") + ":\n";
    const Json* cs = nullptr;
    for (const auto& s : at(status, "containerStatuses"))
      if (str(s, "name") == str(ctr, "name")) cs = &s;
    if (cs && !str(*cs, "containerID").empty())
      w += "    Container ID:\t" + str(*cs, "containerID") + "\n";
    w += "    Image:\t" + str(ctr, "image") + "\n";
    if (cs) w += "    Image ID:\t" + str(*cs, "imageID") + "\n";
    std::string ports, hostPorts;
    for (const auto& p : at(ctr, "ports")) {
      ports +=
          (ports.empty() ? "" : ", ") + str(p, "containerPort") + "/" + str(p, "protocol", "TCP");
      hostPorts += (hostPorts.empty() ? "" : ", ") + str(p, "hostPort", "0") + "/" +
                   str(p, "protocol", "TCP");
    }
    w += "    Port:\t" + (ports.empty() ? std::string("<none>") : ports) + "\n";
    w += "    Host Port:\t" + (hostPorts.empty() ? std::string("<none>") : hostPorts) + "\n";
    // kubectl prints one element of command and args per line.
    auto lines = [](const Json& a) {
      std::string s;
      for (const auto& x : a)
        s += "      " + (x.is_string() ? x.get<std::string>() : x.dump()) + "\n";
      return s;
    };
    if (!at(ctr, "command").empty()) w += "    Command:\n" + lines(at(ctr, "command"));
    if (!at(ctr, "args").empty()) w += "    Args:\n" + lines(at(ctr, "args"));
    if (cs) {
      const Json& state = at(*cs, "state");
      if (state.contains("running")) {
        w += "    State:\tRunning\n      Started:\t" + str(state["running"], "startedAt") + "\n";
      } else if (state.contains("waiting")) {
        w += "    State:\tWaiting\n      Reason:\t" + str(state["waiting"], "reason") + "\n";
      } else if (state.contains("terminated")) {
        w += "    State:\tTerminated\n      Reason:\t" + str(state["terminated"], "reason") +
             "\n      Exit Code:\t" + str(state["terminated"], "exitCode") + "\n";
      }
      w += "    Ready:\t" +
           std::string(at(*cs, "ready").is_boolean() && at(*cs, "ready").get<bool>() ? "True"
                                                                                     : "False") +
           "\n";
      w += "    Restart Count:\t" + str(*cs, "restartCount", "0") + "\n";
    }
    // Probes as kubectl's describe prints them (DescribeProbe).
    auto probe = [](const Json& p) {
      std::string what;
      if (p.contains("exec")) {
        std::string cmd;
        for (const auto& x : at(p["exec"], "command"))
          cmd += (cmd.empty() ? "" : " ") + (x.is_string() ? x.get<std::string>() : x.dump());
        what = "exec [" + cmd + "]";
      } else if (p.contains("httpGet")) {
        const Json& h = p["httpGet"];
        std::string scheme = str(h, "scheme", "HTTP");
        for (auto& ch : scheme)
          ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        what =
            "http-get " + scheme + "://" + str(h, "host") + ":" + str(h, "port") + str(h, "path");
      } else if (p.contains("tcpSocket")) {
        what = "tcp-socket " + str(p["tcpSocket"], "host") + ":" + str(p["tcpSocket"], "port");
      } else if (p.contains("grpc")) {
        what = "grpc <pod>:" + str(p["grpc"], "port") + " " + str(p["grpc"], "service");
      } else {
        what = "unknown";
      }
      return what + " delay=" + str(p, "initialDelaySeconds", "0") +
             "s timeout=" + str(p, "timeoutSeconds", "1") +
             "s period=" + str(p, "periodSeconds", "10") +
             "s #success=" + str(p, "successThreshold", "1") +
             " #failure=" + str(p, "failureThreshold", "3") + "\n";
    };
    if (ctr.contains("livenessProbe")) w += "    Liveness:\t" + probe(ctr["livenessProbe"]);
    if (ctr.contains("readinessProbe")) w += "    Readiness:\t" + probe(ctr["readinessProbe"]);
    if (ctr.contains("startupProbe")) w += "    Startup:\t" + probe(ctr["startupProbe"]);
    std::string env;
    for (const auto& e : at(ctr, "env"))
      env += "      " + str(e, "name") + ":\t" + str(e, "value") + "\n";
    w += "    Environment:" + (env.empty() ? std::string("\t<none>\n") : "\n" + env);
    std::string mounts;
    for (const auto& m : at(ctr, "volumeMounts"))
      mounts += "      " + str(m, "mountPath") + " from " + str(m, "name") + " (" +
                (at(m, "readOnly").is_boolean() && at(m, "readOnly").get<bool>() ? "ro" : "rw") +
                ")\n";
    w += "    Mounts:" + (mounts.empty() ? std::string("\t<none>\n") : "\n" + mounts);
  }
  if (!at(status, "conditions").empty()) {
    w += "Conditions:\n  Type\tStatus\n";
    for (const auto& cnd : at(status, "conditions"))
      w += "  " + str(cnd, "type") + " \t" + str(cnd, "status") + " \n";
  }
  if (at(spec, "volumes").empty()) {
    w += "Volumes:\t<none>\n";
  } else {
    w += "Volumes:\n";
    for (const auto& v : at(spec, "volumes")) {
      w += "  " + str(v, "name") + ":\n";
      for (auto it = v.begin(); it != v.end(); ++it) {
        if (it.key() == "name") continue;
        w += "    Type:\t" + it.key() + "\n";
        if (it->is_object())
          for (auto f = it->begin(); f != it->end(); ++f)
            w += "    " + f.key() + ":\t" + (f->is_string() ? f->get<std::string>() : f->dump()) +
                 "\n";
      }
    }
  }
  w += "QoS Class:\t" + str(status, "qosClass", "BestEffort") + "\n";
  std::string ns;
  for (auto it = at(spec, "nodeSelector").begin(); it != at(spec, "nodeSelector").end(); ++it)
    ns += (ns.empty() ? "" : ",") + it.key() + "=" + it->get<std::string>();
  w += "Node-Selectors:\t" + (ns.empty() ? std::string("<none>") : ns) + "\n";
  w += "Tolerations:\t";
  if (at(spec, "tolerations").empty())
    w += "<none>\n";
  else {
    bool first = true;
    for (const auto& t : at(spec, "tolerations")) {
      if (!first) w += "\t";
      first = false;
      std::string s = str(t, "key");
      if (!str(t, "operator").empty() && str(t, "operator") == "Exists" && s.empty())
        s = "op=Exists";
      else if (!str(t, "value").empty())
        s += "=" + str(t, "value");
      if (!str(t, "effect").empty()) s += ":" + str(t, "effect");
      if (at(t, "tolerationSeconds").is_number()) s += " for " + str(t, "tolerationSeconds") + "s";
      w += s + "\n";
    }
  }
  events(w, c, pod);
}

void describeNamespace(std::string& w, const Json& ns) {
  const Json& meta = at(ns, "metadata");
  w += "Name:\t" + str(meta, "name") + "\n";
  multiline(w, "Labels", at(meta, "labels"));
  multiline(w, "Annotations", at(meta, "annotations"));
  w += "Status:\t" + str(at(ns, "status"), "phase", "Active") + "\n";
}

void describeEndpoints(std::string& w, client::RestClient& c, const Json& ep) {
  const Json& meta = at(ep, "metadata");
  w += "Name:\t" + str(meta, "name") + "\n";
  w += "Namespace:\t" + str(meta, "namespace") + "\n";
  multiline(w, "Labels", at(meta, "labels"));
  multiline(w, "Annotations", at(meta, "annotations"));
  w += "Subsets:\n";
  for (const auto& ss : at(ep, "subsets")) {
    std::string ready, notReady;
    for (const auto& a : at(ss, "addresses")) ready += (ready.empty() ? "" : ",") + str(a, "ip");
    for (const auto& a : at(ss, "notReadyAddresses"))
      notReady += (notReady.empty() ? "" : ",") + str(a, "ip");
    w += "  Addresses:\t" + (ready.empty() ? std::string("<none>") : ready) + "\n";
    w += "  NotReadyAddresses:\t" + (notReady.empty() ? std::string("<none>") : notReady) + "\n";
    w += "  Ports:\n    Name\tPort\tProtocol\n    ----\t----\t--------\n";
    for (const auto& p : at(ss, "ports"))
      w += "    " + str(p, "name", "<unset>") + "\t" + str(p, "port") + "\t" +
           str(p, "protocol", "TCP") + "\n";
    w += "\n";
  }
  events(w, c, ep);
}

// Other kinds: metadata, then spec and status as indented "Key:  value" lines.
void describeValue(std::string& w, const std::string& key, const Json& v, int indent) {
  std::string pad(indent * 2, ' ');
  auto title = [](const std::string& k) {
    std::string t;
    for (size_t i = 0; i < k.size(); ++i) {
      char ch = k[i];
      if (i == 0)
        t.push_back(static_cast<char>(toupper(static_cast<unsigned char>(ch))));
      else if (isupper(static_cast<unsigned char>(ch)) &&
               !isupper(static_cast<unsigned char>(k[i - 1]))) {
        t.push_back(' ');
        t.push_back(ch);
      } else
        t.push_back(ch);
    }
    return t;
  };
  if (v.is_object()) {
    w += pad + title(key) + ":\n";
    for (auto it = v.begin(); it != v.end(); ++it) describeValue(w, it.key(), *it, indent + 1);
  } else if (v.is_array()) {
    w += pad + title(key) + ":\n";
    for (const auto& e : v) {
      if (e.is_object()) {
        bool first = true;
        for (auto it = e.begin(); it != e.end(); ++it) {
          std::string sub;
          describeValue(sub, it.key(), *it, indent + 1);
          if (first && sub.size() > static_cast<size_t>(indent * 2 + 2))
            sub = std::string(indent * 2, ' ') + "- " + sub.substr(indent * 2 + 2);
          first = false;
          w += sub;
        }
      } else {
        w += pad + "  " + (e.is_string() ? e.get<std::string>() : e.dump()) + "\n";
      }
    }
  } else {
    w += pad + title(key) + ":\t" + (v.is_string() ? v.get<std::string>() : v.dump()) + "\n";
  }
}

void describeGeneric(std::string& w, client::RestClient& c, const Json& obj) {
  const Json& meta = at(obj, "metadata");
  w += "Name:\t" + str(meta, "name") + "\n";
  if (!str(meta, "namespace").empty()) w += "Namespace:\t" + str(meta, "namespace") + "\n";
  multiline(w, "Labels", at(meta, "labels"));
  multiline(w, "Annotations", at(meta, "annotations"));
  w += "API Version:\t" + str(obj, "apiVersion") + "\n";
  w += "Kind:\t" + str(obj, "kind") + "\n";
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    if (it.key() == "metadata" || it.key() == "apiVersion" || it.key() == "kind") continue;
    describeValue(w, it.key(), *it, 0);
  }
  events(w, c, obj);
}

int runDescribe(int argc, char** argv) {
  GlobalFlags g;
  std::string selector;
  po::options_description desc;
  desc.add_options()("selector,l", po::value(&selector), "Selector (label query) to filter on");
  addGlobalFlags(desc, g, true);
  po::variables_map vm;
  std::vector<std::string> args;
  if (auto err = parseFlags(argc, argv, desc, vm, args); !err.empty())
    return usageError("describe", err);
  if (vm["help"].as<bool>()) {
    printHelp("skiff describe (TYPE [NAME...] | TYPE/NAME | TYPE -l label) [options]",
              "Show details of a specific resource or group of resources, in kubectl's layout, "
              "with its events.",
              "  # Describe a service\n  skiff describe svc http-go-np\n\n"
              "  # Describe a pod\n  skiff describe pod/web\n\n"
              "  # Describe every pod labelled app=web\n  skiff describe pods -l app=web",
              desc);
    return 0;
  }
  if (args.empty())
    return usageError("describe",
                      "You must specify the type of resource to describe. Use \"skiff "
                      "api-resources\" for a complete list of supported resources.");
  Cli cli(g);
  auto d = cli.discovery();
  if (!d) return cli.fail(d.error());
  auto c = cli.client();
  struct Target {
    client::ResourceType type;
    std::string ns;  // the object's own: with -A, a listed object's namespace
    std::string name;
  };
  std::vector<Target> targets;
  std::string ns = cli.ns();
  if (args[0].find('/') != std::string::npos) {
    for (const auto& a : args) {
      auto t = (*d)->resolve(a.substr(0, a.find('/')));
      if (!t) return cli.fail(t.error());
      targets.push_back({*t, ns, a.substr(a.find('/') + 1)});
    }
  } else {
    auto types = (*d)->resolveList(args[0]);
    if (!types) return cli.fail(types.error());
    for (const auto& t : *types) {
      if (args.size() > 1) {
        for (size_t i = 1; i < args.size(); ++i) targets.push_back({t, ns, args[i]});
        continue;
      }
      std::string path = t.collectionPath(g.allNamespaces || !t.namespaced ? "" : ns);
      if (!selector.empty()) path += "?labelSelector=" + urlEncode(selector);
      auto l = (*c)->get(path);
      if (!l) return cli.fail(l.error());
      for (const auto& item : (*l)["items"])
        targets.push_back(
            {t, item["metadata"].value("namespace", ""), item["metadata"].value("name", "")});
    }
    if (targets.empty()) {
      // kubectl's words, on stderr.
      if (g.allNamespaces)
        std::fputs("No resources found\n", stderr);
      else
        std::fprintf(stderr, "No resources found in %s namespace.\n", ns.c_str());
      return 0;
    }
  }
  bool failed = false, first = true;
  for (const auto& [t, objNs, name] : targets) {
    auto r = (*c)->get(t.objectPath(t.namespaced ? objNs : "", name));
    if (!r) {
      if (!client::isServerError(r.error())) return cli.fail(r.error());
      cli.report(r.error());
      failed = true;
      continue;
    }
    std::string w;
    if (t.kind == "Service" && t.group.empty())
      describeService(w, **c, *r);
    else if (t.kind == "Pod" && t.group.empty())
      describePod(w, **c, *r);
    else if (t.kind == "Endpoints" && t.group.empty())
      describeEndpoints(w, **c, *r);
    else if (t.kind == "Namespace" && t.group.empty())
      describeNamespace(w, *r);
    else
      describeGeneric(w, **c, *r);
    if (!first) std::fputs("\n\n", stdout);
    first = false;
    std::fputs(goTabwriter(w, 0, 2).c_str(), stdout);
  }
  return failed ? 1 : 0;
}

}  // namespace

int runDescribeCommand(int argc, char** argv) {
  return runDescribe(argc, argv);
}

}  // namespace skiff::ctl
