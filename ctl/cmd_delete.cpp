// `skiff delete` and `skiff wait`.
#include <cstdio>
#include <iostream>

#include "ctl/commands.h"
#include "ctl/manifest.h"
#include "ctl/objects.h"
#include "ctl/printers.h"

namespace skiff::ctl {
namespace {

// TYPE NAME..., TYPE/NAME..., TYPE -l SEL, TYPE --all. `error` set on failure.
Result<std::vector<ObjectRef>> resolveTargets(Cli& cli, const std::vector<std::string>& args,
                                              const std::string& selector, bool all,
                                              const std::string& verb) {
  auto d = cli.discovery();
  if (!d) return d.error();
  auto c = cli.client();
  std::vector<ObjectRef> out;
  std::string ns = cli.ns();
  bool allNs = cli.flags().allNamespaces;
  if (args.empty())
    return makeError(Code::kBadRequest,
                     "You must provide one or more resources by argument or filename.");
  if (args[0].find('/') != std::string::npos) {
    for (const auto& a : args) {
      auto slash = a.find('/');
      if (slash == std::string::npos)
        return makeError(Code::kBadRequest,
                         "there is no need to specify a resource type as a separate argument when "
                         "passing arguments in resource/name form");
      auto t = (*d)->resolve(a.substr(0, slash));
      if (!t) return t.error();
      out.push_back({*t, ns, a.substr(slash + 1)});
    }
    return out;
  }
  auto resolved = (*d)->resolveList(args[0]);
  if (!resolved) return resolved.error();
  const std::vector<client::ResourceType>& types = *resolved;
  if (args.size() > 1) {
    if (!selector.empty() || all)
      return makeError(Code::kBadRequest, "name cannot be provided when a selector is specified");
    for (const auto& t : types)
      for (size_t i = 1; i < args.size(); ++i) out.push_back({t, ns, args[i]});
    return out;
  }
  if (selector.empty() && !all)
    return makeError(Code::kBadRequest, "resource(s) were provided, but no name was specified");
  for (const auto& t : types) {
    std::string path = t.collectionPath(allNs || !t.namespaced ? "" : ns);
    if (!selector.empty()) path += "?labelSelector=" + urlEncode(selector);
    auto l = (*c)->get(path);
    if (!l) return l.error();
    for (const auto& item : (*l)["items"])
      out.push_back(
          {t, item["metadata"].value("namespace", ""), item["metadata"].value("name", "")});
  }
  return out;
}

int runDelete(int argc, char** argv) {
  GlobalFlags g;
  std::vector<std::string> files;
  bool recursive = false, all = false, ignoreNotFound = false;
  bool wait = true;
  int gracePeriod = -1;
  std::string cascade = "background";
  std::string selector, timeoutText = "0s", output;
  po::options_description desc;
  desc.add_options()("filename,f", po::value(&files)->composing(),
                     "Files (or directories, or -) naming the resources to delete")(
      "recursive,R", po::bool_switch(&recursive), "Process the directory used in -f recursively")(
      "selector,l", po::value(&selector), "Selector (label query) to filter on")(
      "all", po::bool_switch(&all), "Delete all resources of the given types in the namespace")(
      "ignore-not-found", po::bool_switch(&ignoreNotFound),
      "Treat \"resource not found\" as a successful delete")(
      "cascade", po::value(&cascade)->implicit_value("background"),
      "background, foreground or orphan: what happens to the objects this one owns")(
      "grace-period", po::value(&gracePeriod),
      "Seconds given to the resource to terminate gracefully; -1 uses the object's default")(
      "wait", po::value(&wait)->implicit_value(true),
      "Wait for resources to be gone before returning (default true)")(
      "timeout", po::value(&timeoutText), "How long to wait for the deletion (0 = a week)")(
      "output,o", po::value(&output), "Output mode: name");
  addGlobalFlags(desc, g, true);
  po::variables_map vm;
  std::vector<std::string> args;
  if (auto err = parseFlags(argc, argv, desc, vm, args); !err.empty())
    return usageError("delete", err);
  if (vm["help"].as<bool>()) {
    printHelp("skiff delete ([-f FILENAME] | TYPE [(NAME | -l label | --all)]) [options]",
              "Delete resources by file names, stdin, resources and names, or by resources and "
              "label selector. By default waits until each object is gone.",
              "  # Delete the objects of a manifest\n  skiff delete -f examples/pod.yaml\n\n"
              "  # Delete pods and services with the same names \"baz\" and \"foo\"\n  skiff "
              "delete pod,service baz foo\n\n"
              "  # Delete pods labelled name=myLabel\n  skiff delete pods -l name=myLabel\n\n"
              "  # Delete a pod immediately\n  skiff delete pod foo --grace-period=0",
              desc);
    return 0;
  }
  auto timeout = parseDuration(timeoutText);
  if (!timeout) return usageError("delete", timeout.error().message);
  if (timeout->count() == 0) *timeout = std::chrono::hours(24 * 7);
  Cli cli(g);
  bool failed = false;
  std::vector<ObjectRef> targets;
  std::vector<std::string> sources;
  if (!files.empty()) {
    if (!args.empty()) return usageError("delete", "Unexpected args: [" + args[0] + "]");
    for (auto& m : readManifests(files, recursive, std::cin)) {
      if (!m.object) {
        cli.report(m.object.error());
        failed = true;
        continue;
      }
      auto b = bindManifest(cli, *m.object, m.source);
      if (!b) {
        if (!client::isServerError(b.error()) && b.error().code == Code::kUnavailable)
          return cli.fail(b.error());
        cli.report(b.error());
        failed = true;
        continue;
      }
      targets.push_back({b->type, b->ns, b->name});
    }
  } else {
    if (args.empty())
      return usageError("delete",
                        "You must provide one or more resources by argument or filename.\nExample "
                        "resource specifications include:\n   '-f rsrc.yaml'\n   "
                        "'--filename=rsrc.json'\n   '<resource> <name>'\n   '<resource>'");
    auto t = resolveTargets(cli, args, selector, all, "delete");
    if (!t) {
      if (t.error().code == Code::kBadRequest && !client::isServerError(t.error()))
        return usageError("delete", t.error().message);
      return cli.fail(t.error());
    }
    targets = std::move(*t);
    if (targets.empty()) {
      std::fprintf(stderr, "No resources found\n");
      return 0;
    }
  }
  // kubectl's --cascade (true/false are its deprecated spellings).
  std::string policy;
  if (cascade == "background" || cascade == "true")
    policy = "Background";
  else if (cascade == "foreground")
    policy = "Foreground";
  else if (cascade == "orphan" || cascade == "false")
    policy = "Orphan";
  else
    return usageError("delete", "invalid cascade value (" + cascade +
                                    "). Must be \"background\", \"foreground\", or \"orphan\".");
  auto c = cli.client();
  if (!c) return cli.fail(c.error());
  Json opts = {{"kind", "DeleteOptions"}, {"apiVersion", "v1"}, {"propagationPolicy", policy}};
  // kubectl needs --force for 0; skiff, one machine, takes 0 to mean now.
  if (gracePeriod >= 0) opts["gracePeriodSeconds"] = gracePeriod;
  std::vector<std::string> waitPaths, waitWords, waitFor;
  for (const auto& t : targets) {
    auto r = (*c)->del(t.path(), opts);
    if (!r) {
      if (r.error().code == Code::kNotFound && ignoreNotFound) continue;
      if (!client::isServerError(r.error()) || r.error().code == Code::kUnauthorized)
        return cli.fail(r.error());
      cli.report(r.error());
      failed = true;
      continue;
    }
    if (output == "name")
      std::printf("%s\n", t.word().c_str());
    else
      std::printf("%s \"%s\" deleted\n", typeWord(t.type.kind, t.type.group).c_str(),
                  t.name.c_str());
    std::fflush(stdout);
    if (wait) {
      waitPaths.push_back(t.path());
      waitWords.push_back(t.word());
      waitFor.push_back("delete");
    }
  }
  if (!waitPaths.empty()) {
    auto done = waitForAllOrComplain(cli, waitPaths, waitWords, waitFor, *timeout, false);
    if (!done) return cli.fail(done.error());
    if (!*done) failed = true;
  }
  return failed ? 1 : 0;
}

int runWait(int argc, char** argv) {
  GlobalFlags g;
  std::vector<std::string> files;
  std::string forSpec, selector, timeoutText = "30s";
  bool all = false;
  po::options_description desc;
  desc.add_options()(
      "for", po::value(&forSpec),
      "The condition to wait on: condition=NAME[=VALUE], delete, create, jsonpath='{.path}'=VALUE")(
      "filename,f", po::value(&files)->composing(), "Files naming the resources to wait for")(
      "selector,l", po::value(&selector), "Selector (label query) to filter on")(
      "all", po::bool_switch(&all), "Select all resources of the type in the namespace")(
      "timeout", po::value(&timeoutText),
      "How long to wait before giving up (e.g. 30s, 5m); 0 checks once");
  addGlobalFlags(desc, g, true);
  po::variables_map vm;
  std::vector<std::string> args;
  if (auto err = parseFlags(argc, argv, desc, vm, args); !err.empty())
    return usageError("wait", err);
  if (vm["help"].as<bool>()) {
    printHelp(
        "skiff wait ([-f FILENAME] | TYPE/NAME | TYPE [NAME | -l label | --all]) --for=CONDITION "
        "[--timeout D]",
        "Wait for a condition on one or many resources. On a terminal, shows which objects "
        "are still waiting and why; piped, prints one line per object as it is met.",
        "  # Wait for the pod \"busybox1\" to contain the status condition of type \"Ready\"\n"
        "  skiff wait --for=condition=Ready pod/busybox1\n\n"
        "  # Wait for a pod's phase\n  skiff wait --for=jsonpath='{.status.phase}'=Running "
        "pod/busybox1\n\n"
        "  # Wait for the pod to be deleted, at most 60 seconds\n  skiff wait --for=delete "
        "pod/busybox1 --timeout=60s",
        desc);
    return 0;
  }
  if (forSpec.empty()) return usageError("wait", "--for must be specified");
  auto probe = evaluateWaitFor(forSpec, nullptr);
  if (!probe) return usageError("wait", probe.error().message);
  auto timeout = parseDuration(timeoutText);
  if (!timeout) return usageError("wait", timeout.error().message);
  Cli cli(g);
  std::vector<ObjectRef> targets;
  if (!files.empty()) {
    for (auto& m : readManifests(files, false, std::cin)) {
      if (!m.object) return cli.fail(m.object.error());
      auto b = bindManifest(cli, *m.object, m.source);
      if (!b) return cli.fail(b.error());
      targets.push_back({b->type, b->ns, b->name});
    }
  } else {
    if (args.empty()) return usageError("wait", "resource name or selector may not be empty");
    auto t = resolveTargets(cli, args, selector, all, "wait");
    if (!t) {
      if (t.error().code == Code::kBadRequest && !client::isServerError(t.error()))
        return usageError("wait", t.error().message);
      return cli.fail(t.error());
    }
    targets = std::move(*t);
    if (targets.empty()) {
      std::fprintf(stderr, "error: no matching resources found\n");
      return 1;
    }
  }
  auto c = cli.client();
  if (!c) return cli.fail(c.error());
  std::vector<std::string> paths, words, fors;
  for (const auto& t : targets) {
    if (forSpec != "delete" && forSpec != "create") {
      auto r = (*c)->get(t.path());
      if (!r) return cli.fail(r.error());
    }
    paths.push_back(t.path());
    words.push_back(t.word());
    fors.push_back(forSpec);
  }
  Error err;
  auto left = waitForAllReporting(cli, paths, words, fors, *timeout, &err);
  if (!err.message.empty()) return cli.fail(err);
  for (size_t i : left)
    std::fprintf(stderr, "error: timed out waiting for the condition on %s/%s\n",
                 targets[i].type.qualifiedName().c_str(), targets[i].name.c_str());
  return left.empty() ? 0 : 1;
}

}  // namespace

int runDeleteCommand(int argc, char** argv) {
  return runDelete(argc, argv);
}
int runWaitCommand(int argc, char** argv) {
  return runWait(argc, argv);
}

}  // namespace skiff::ctl
