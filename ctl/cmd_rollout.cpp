// `skiff scale`, `skiff rollout status|history|undo|restart|pause|resume` and
// `skiff set image`, with kubectl 1.32's requests and output texts. `rollout
// undo` is client-side as in kubectl: it copies the chosen revision's
// ReplicaSet template (without pod-template-hash) into the Deployment.
#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <thread>

#include "controllers/deployment.h"
#include "controllers/workload_util.h"
#include "ctl/commands.h"
#include "ctl/objects.h"
#include "ctl/printers.h"

namespace skiff::ctl {
namespace {

// TYPE/NAME or TYPE NAME (exactly one object).
Result<ObjectRef> resolveOne(Cli& cli, const std::vector<std::string>& args, size_t from,
                             const std::string& what) {
  auto d = cli.discovery();
  if (!d) return d.error();
  if (args.size() <= from) return makeError(Code::kBadRequest, "required resource not specified");
  std::string typeName, name;
  auto slash = args[from].find('/');
  if (slash != std::string::npos) {
    typeName = args[from].substr(0, slash);
    name = args[from].substr(slash + 1);
    if (args.size() > from + 1)
      return makeError(Code::kBadRequest,
                       "there is no need to specify a resource type as a "
                       "separate argument when passing arguments in "
                       "resource/name form");
  } else {
    if (args.size() < from + 2)
      return makeError(Code::kBadRequest, "resource(s) were provided, but no name was specified");
    typeName = args[from];
    name = args[from + 1];
  }
  auto t = (*d)->resolve(typeName);
  if (!t) return t.error();
  if (!what.empty() && t->kind != "Deployment")
    return makeError(Code::kBadRequest, "no " + what + " for " + t->qualifiedName() +
                                            " (only deployments.apps are supported)");
  return ObjectRef{*t, cli.ns(), name};
}

// ---- rollout subcommands ----

// The Deployment's ReplicaSets (controllerRef to it), by revision.
Result<std::map<long long, Json>> revisionsOf(client::RestClient& c, const ObjectRef& t,
                                              const Json& d) {
  auto l = c.get(t.type.basePath() + "/namespaces/" + t.ns + "/replicasets");
  if (!l) return l.error();
  std::map<long long, Json> out;
  for (const Json& rs : (*l)["items"]) {
    const Json* ref = controllers::controllerRef(rs);
    if (!ref || ref->value("uid", "") != controllers::uidOf(d)) continue;
    out[controllers::revisionOf(rs)] = rs;
  }
  return out;
}

int rolloutStatus(Cli& cli, const ObjectRef& t, bool watch, std::chrono::milliseconds timeout) {
  auto c = cli.client();
  if (!c) return cli.fail(c.error());
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string last;
  for (;;) {
    auto d = (*c)->get(t.path());
    if (!d) return cli.fail(d.error());
    controllers::RolloutView v = controllers::viewRollout(*d);
    if (!v.error.empty()) {
      std::fprintf(stderr, "error: %s\n", v.error.c_str());
      return 1;
    }
    if (v.message != last) {
      std::cout << v.message << std::flush;
      last = v.message;
    }
    if (v.done || !watch) return 0;
    if (timeout.count() > 0 && std::chrono::steady_clock::now() >= deadline) {
      std::fprintf(stderr, "error: timed out waiting for the condition\n");
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

int rolloutHistory(Cli& cli, const ObjectRef& t, long long revision) {
  auto c = cli.client();
  if (!c) return cli.fail(c.error());
  auto d = (*c)->get(t.path());
  if (!d) return cli.fail(d.error());
  auto revs = revisionsOf(**c, t, *d);
  if (!revs) return cli.fail(revs.error());
  if (revision > 0) {
    auto it = revs->find(revision);
    if (it == revs->end()) {
      std::fprintf(stderr, "error: unable to find the specified revision\n");
      return 1;
    }
    Json tmpl = it->second["spec"].value("template", Json::object());
    std::cout << t.word() << " with revision #" << revision << "\nPod Template:\n";
    Json labels = tmpl.contains("metadata") ? tmpl["metadata"].value("labels", Json::object())
                                            : Json::object();
    std::string l;
    for (auto i = labels.begin(); i != labels.end(); ++i)
      l += (l.empty() ? "" : "\n\t") + i.key() + "=" + i.value().get<std::string>();
    std::cout << "  Labels:\t" << (l.empty() ? "<none>" : l) << "\n  Containers:\n";
    for (const Json& ct : tmpl["spec"].value("containers", Json::array()))
      std::cout << "   " << ct.value("name", "") << ":\n    Image:\t" << ct.value("image", "")
                << "\n";
    std::cout << "\n";
    return 0;
  }
  std::cout << t.word() << " \nREVISION  CHANGE-CAUSE\n";
  for (const auto& [rev, rs] : *revs) {
    std::string cause =
        controllers::str(rs, "metadata", "annotations", "kubernetes.io/change-cause");
    std::string r = std::to_string(rev);
    std::cout << r << std::string(r.size() < 10 ? 10 - r.size() : 1, ' ')
              << (cause.empty() ? "<none>" : cause) << "\n";
  }
  std::cout << "\n";
  return 0;
}

int rolloutUndo(Cli& cli, const ObjectRef& t, long long toRevision) {
  auto c = cli.client();
  if (!c) return cli.fail(c.error());
  auto d = (*c)->get(t.path());
  if (!d) return cli.fail(d.error());
  if ((*d)["spec"].value("paused", false)) {
    std::fprintf(stderr,
                 "error: you cannot rollback a paused deployment; resume it first with 'kubectl "
                 "rollout resume %s' and try again\n",
                 t.word().c_str());
    return 1;
  }
  auto revs = revisionsOf(**c, t, *d);
  if (!revs) return cli.fail(revs.error());
  const Json* target = nullptr;
  long long chosen = toRevision;
  if (toRevision == 0) {
    if (revs->size() < 2) {
      std::fprintf(stderr, "error: no rollout history found for deployment \"%s\"\n",
                   t.name.c_str());
      return 1;
    }
    auto it = std::prev(revs->end(), 2);  // the previous revision
    chosen = it->first;
    target = &it->second;
  } else {
    auto it = revs->find(toRevision);
    if (it == revs->end()) {
      std::fprintf(stderr, "error: unable to find specified revision %lld in history\n",
                   toRevision);
      return 1;
    }
    target = &it->second;
  }
  Json tmpl = (*target)["spec"].value("template", Json::object());
  if (controllers::equalIgnoreHash(tmpl, (*d)["spec"].value("template", Json::object()))) {
    std::cout << t.word() << " skipped rollback (current template already matches revision "
              << chosen << ")\n";
    return 0;
  }
  if (tmpl.contains("metadata") && tmpl["metadata"].contains("labels")) {
    tmpl["metadata"]["labels"].erase(controllers::kPodTemplateHashLabel);
  }
  Json patch = Json::array({{{"op", "replace"}, {"path", "/spec/template"}, {"value", tmpl}}});
  auto r = (*c)->patch(t.path(), patch, client::kJsonPatch);
  if (!r) return cli.fail(r.error());
  std::cout << t.word() << " rolled back\n";
  return 0;
}

int rolloutPatch(Cli& cli, const ObjectRef& t, const Json& patch, const std::string& done) {
  auto c = cli.client();
  if (!c) return cli.fail(c.error());
  auto r = (*c)->patch(t.path(), patch, client::kStrategicMergePatch);
  if (!r) return cli.fail(r.error());
  std::cout << t.word() << " " << done << "\n";
  return 0;
}

}  // namespace

int runScaleCommand(int argc, char** argv) {
  GlobalFlags g;
  int replicas = -1;
  po::options_description desc;
  desc.add_options()("replicas", po::value(&replicas), "The new desired number of replicas");
  addGlobalFlags(desc, g, false);
  po::variables_map vm;
  std::vector<std::string> args;
  if (auto err = parseFlags(argc, argv, desc, vm, args); !err.empty())
    return usageError("scale", err);
  if (vm["help"].as<bool>()) {
    printHelp("skiff scale [--replicas=COUNT] (TYPE NAME | TYPE/NAME)",
              "Set a new size for a deployment or replica set (through its scale subresource).",
              "  # Scale the deployment web to 3 replicas\n  skiff scale deployment/web "
              "--replicas=3\n\n  # Scale a replica set\n  skiff scale rs web-5d4f --replicas=0",
              desc);
    return 0;
  }
  if (!vm.count("replicas")) return usageError("scale", "required flag(s) \"replicas\" not set");
  if (replicas < 0)
    return usageError(
        "scale",
        "The --replicas=COUNT flag is required, and COUNT must be greater than or equal to 0");
  Cli cli(g);
  auto t = resolveOne(cli, args, 0, "");
  if (!t) return cli.fail(t.error());
  auto c = cli.client();
  if (!c) return cli.fail(c.error());
  auto r = (*c)->patch(t->path() + "/scale", Json{{"spec", {{"replicas", replicas}}}},
                       client::kMergePatch);
  if (!r) return cli.fail(r.error());
  std::cout << t->word() << " scaled\n";
  return 0;
}

int runRolloutCommand(int argc, char** argv) {
  GlobalFlags g;
  bool watch = true;
  long long revision = 0, toRevision = 0;
  std::string timeoutText = "0s";
  po::options_description desc;
  desc.add_options()("watch,w", po::value(&watch)->implicit_value(true),
                     "status: watch until the rollout finishes (default true)")(
      "timeout", po::value(&timeoutText), "status: how long to wait (0 = forever)")(
      "revision", po::value(&revision), "history: show the details of this revision")(
      "to-revision", po::value(&toRevision), "undo: the revision to roll back to (0 = previous)");
  addGlobalFlags(desc, g, false);
  po::variables_map vm;
  std::vector<std::string> args;
  if (auto err = parseFlags(argc, argv, desc, vm, args); !err.empty())
    return usageError("rollout", err);
  if (vm["help"].as<bool>() || args.empty()) {
    printHelp("skiff rollout SUBCOMMAND (TYPE NAME | TYPE/NAME) [options]",
              "Manage the rollout of a deployment: status, history, undo, restart, pause, "
              "resume.",
              "  # Wait for a rollout to finish\n  skiff rollout status deployment/web\n\n"
              "  # Roll back to the previous revision\n  skiff rollout undo deployment/web\n\n"
              "  # Roll back to revision 3\n  skiff rollout undo deployment/web --to-revision=3\n\n"
              "  # Restart every pod of a deployment (a new rollout)\n  skiff rollout restart "
              "deployment/web",
              desc);
    return args.empty() && !vm["help"].as<bool>() ? 1 : 0;
  }
  std::string sub = args[0];
  if (sub != "status" && sub != "history" && sub != "undo" && sub != "restart" && sub != "pause" &&
      sub != "resume")
    return usageError("rollout", "unknown command \"" + sub +
                                     "\" for \"skiff rollout\" (status, history, undo, "
                                     "restart, pause, resume)");
  auto timeout = parseDuration(timeoutText);
  if (!timeout) return usageError("rollout", timeout.error().message);
  Cli cli(g);
  auto t = resolveOne(cli, args, 1, "rollout");
  if (!t) return cli.fail(t.error());
  if (sub == "status") return rolloutStatus(cli, *t, watch, *timeout);
  if (sub == "history") return rolloutHistory(cli, *t, revision);
  if (sub == "undo") return rolloutUndo(cli, *t, toRevision);
  if (sub == "pause") return rolloutPatch(cli, *t, Json{{"spec", {{"paused", true}}}}, "paused");
  if (sub == "resume")
    return rolloutPatch(cli, *t, Json{{"spec", {{"paused", nullptr}}}}, "resumed");
  std::string now = controllers::formatTime(std::chrono::system_clock::now());
  return rolloutPatch(
      cli, *t,
      Json{{"spec",
            {{"template",
              {{"metadata", {{"annotations", {{"kubectl.kubernetes.io/restartedAt", now}}}}}}}}}},
      "restarted");
}

int runSetCommand(int argc, char** argv) {
  GlobalFlags g;
  po::options_description desc;
  addGlobalFlags(desc, g, false);
  po::variables_map vm;
  std::vector<std::string> args;
  if (auto err = parseFlags(argc, argv, desc, vm, args); !err.empty())
    return usageError("set", err);
  if (vm["help"].as<bool>() || args.empty() || args[0] != "image") {
    printHelp("skiff set image (TYPE NAME | TYPE/NAME) CONTAINER_NAME_1=CONTAINER_IMAGE_1 ...",
              "Update the image of containers of a deployment, replica set or pod.",
              "  # Set the nginx container's image of deployment web\n  skiff set image "
              "deployment/web nginx=nginx:1.27\n\n  # Every container\n  skiff set image "
              "deployment/web '*'=nginx:1.27",
              desc);
    if (vm["help"].as<bool>()) return 0;
    return usageError("set", args.empty()
                                 ? "a subcommand is required (image)"
                                 : "unknown command \"" + args[0] + "\" for \"skiff set\"");
  }
  // Split TYPE/NAME (or TYPE NAME) from the C=IMAGE pairs.
  std::vector<std::string> objArgs, pairs;
  for (size_t i = 1; i < args.size(); ++i)
    (args[i].find('=') != std::string::npos ? pairs : objArgs).push_back(args[i]);
  if (pairs.empty()) return usageError("set", "at least one image update is required");
  objArgs.insert(objArgs.begin(), "image");
  Cli cli(g);
  auto t = resolveOne(cli, objArgs, 1, "");
  if (!t) return cli.fail(t.error());
  auto c = cli.client();
  if (!c) return cli.fail(c.error());
  auto obj = (*c)->get(t->path());
  if (!obj) return cli.fail(obj.error());
  bool isPod = t->type.kind == "Pod";
  Json spec = isPod ? (*obj)["spec"] : (*obj)["spec"]["template"]["spec"];
  Json containers = Json::array(), inits = Json::array();
  for (const std::string& p : pairs) {
    std::string name = p.substr(0, p.find('=')), image = p.substr(p.find('=') + 1);
    bool found = false;
    for (const char* field : {"initContainers", "containers"}) {
      for (const Json& ct : spec.value(field, Json::array())) {
        if (name != "*" && ct.value("name", "") != name) continue;
        found = true;
        (std::string(field) == "containers" ? containers : inits)
            .push_back({{"name", ct.value("name", "")}, {"image", image}});
      }
    }
    if (!found) {
      std::fprintf(stderr, "error: unable to find container named \"%s\"\n", name.c_str());
      return 1;
    }
  }
  Json specPatch = Json::object();
  if (!containers.empty()) specPatch["containers"] = containers;
  if (!inits.empty()) specPatch["initContainers"] = inits;
  Json patch =
      isPod ? Json{{"spec", specPatch}} : Json{{"spec", {{"template", {{"spec", specPatch}}}}}};
  auto r = (*c)->patch(t->path(), patch, client::kStrategicMergePatch);
  if (!r) return cli.fail(r.error());
  std::cout << t->word() << " image updated\n";
  return 0;
}

}  // namespace skiff::ctl
