// `skiff apply`, `skiff create -f`, `skiff replace -f`.
#include <cstdio>
#include <iostream>

#include "api/json.h"
#include "api/patch.h"
#include "api/schema.h"
#include "ctl/commands.h"
#include "ctl/manifest.h"
#include "ctl/objects.h"
#include "ctl/printers.h"

namespace skiff::ctl {
namespace {

struct ApplyFlags {
  std::vector<std::string> files;
  bool recursive = false;
  std::string dryRun = "none";
  bool wait = false;
  std::string timeout = "5m";
  std::string output;
};

void addFileFlags(po::options_description& desc, ApplyFlags& f) {
  desc.add_options()(
      "filename,f", po::value(&f.files)->composing(),
      "The files that contain the configurations (a file, a directory, or - for stdin)")(
      "recursive,R", po::bool_switch(&f.recursive),
      "Process the directory used in -f, --filename recursively")(
      "dry-run", po::value(&f.dryRun)->implicit_value("client"),
      "Must be \"none\", \"server\", or \"client\". With client, only print what would be sent; "
      "with server, submit requests the server does not persist.")(
      "output,o", po::value(&f.output), "Output format: name (only TYPE/NAME lines)");
}

std::string dryRunSuffix(const std::string& dryRun) {
  if (dryRun == "client") return " (dry run)";
  if (dryRun == "server") return " (server dry run)";
  return "";
}

std::string query(const std::string& dryRun) {
  std::string q = "?fieldValidation=Strict";
  if (dryRun == "server") q += "&dryRun=All";
  return q;
}

void printResult(const BoundObject& b, const std::string& verb, const ApplyFlags& f) {
  if (f.output == "name")
    std::printf("%s\n", b.word().c_str());
  else
    std::printf("%s %s%s\n", b.word().c_str(), verb.c_str(), dryRunSuffix(f.dryRun).c_str());
  std::fflush(stdout);
}

void printWarnings(client::RestClient& c) {
  for (const auto& w : c.lastWarnings()) std::fprintf(stderr, "Warning: %s\n", w.c_str());
}

// POSTs `object` to b's collection: "created", or the error prefixed as kubectl does.
// A manifest without a name (generateName, or a review) takes the server's
// name, or kubectl's "<unknown>" when the answer has none.
Result<std::string> createObject(client::RestClient& c, BoundObject& b, const ApplyFlags& f,
                                 const Json& object) {
  auto r = c.post(b.type.collectionPath(b.ns) + query(f.dryRun), object);
  printWarnings(c);
  if (!r) {
    Error e = r.error();
    e.message = "error when creating \"" + b.source + "\": " + e.message;
    return e;
  }
  if (b.name.empty()) {
    const Json* name = api::jsonAt(*r, {"metadata", "name"});
    b.name = name && name->is_string() && !name->get<std::string>().empty()
                 ? name->get<std::string>()
                 : "<unknown>";
  }
  return std::string("created");
}

// Applies one object; returns the verb printed ("created", ...) or the error.
Result<std::string> applyOne(Cli& cli, client::RestClient& c, BoundObject& b, const ApplyFlags& f) {
  Json modified = withLastApplied(b.object);
  auto current = c.get(b.path());
  if (!current) {
    if (current.error().code != Code::kNotFound || !client::isServerError(current.error()))
      return current.error().wrap("error when retrieving current configuration of:\nResource: \"" +
                                  b.type.qualifiedName() + "\", Name: \"" + b.name +
                                  "\", Namespace: \"" + b.ns + "\"\nfrom server for: \"" +
                                  b.source + "\"");
    if (f.dryRun == "client") return std::string("created");
    return createObject(c, b, f, modified);
  }
  Json original;
  const Json& meta = (*current)["metadata"];
  if (meta.contains("annotations") && meta["annotations"].contains(kLastApplied)) {
    auto o = api::parseJson(meta["annotations"][kLastApplied].get<std::string>());
    if (o) original = *o;
  } else {
    std::fprintf(stderr,
                 "Warning: resource %s/%s is missing the %s annotation which is required by "
                 "skiff apply. skiff apply should only be used on resources created "
                 "declaratively by either skiff create --save-config or skiff apply. The missing "
                 "annotation will be patched automatically.\n",
                 b.type.name.c_str(), b.name.c_str(), kLastApplied);
  }
  if (original.is_null()) original = Json::object();
  const api::TypeDef* typeDef =
      api::typeForKind(api::GroupVersionKind{b.type.group, b.type.version, b.type.kind});
  auto patch = api::createThreeWayMergePatch(original, modified, *current, typeDef);
  if (!patch) return patch.error().wrap("creating patch for \"" + b.source + "\"");
  if (patch->is_object() && patch->empty()) return std::string("unchanged");
  if (f.dryRun == "client") return std::string("configured");
  auto r = c.patch(b.path() + query(f.dryRun), *patch,
                   typeDef ? client::kStrategicMergePatch : client::kMergePatch);
  printWarnings(c);
  if (!r) {
    Error e = r.error();
    e.message = "error when applying patch:\n" + patch->dump() + "\nto:\nResource: \"" +
                b.type.qualifiedName() + "\", GroupVersionKind: \"" + b.type.apiVersion() +
                ", Kind=" + b.type.kind + "\"\nName: \"" + b.name + "\", Namespace: \"" + b.ns +
                "\"\nfor: \"" + b.source + "\": error when patching \"" + b.source +
                "\": " + e.message;
    return e;
  }
  return std::string("configured");
}

Result<std::string> createOrReplaceOne(client::RestClient& c, BoundObject& b, const ApplyFlags& f,
                                       bool replace) {
  if (f.dryRun == "client") return std::string(replace ? "replaced" : "created");
  if (!replace) {
    return createObject(c, b, f, b.object);
  }
  // replace: PUT with the live resourceVersion unless the manifest has one.
  Json obj = b.object;
  if (!obj["metadata"].contains("resourceVersion")) {
    auto cur = c.get(b.path());
    if (!cur) {
      Error e = cur.error();
      e.message = "error when replacing \"" + b.source + "\": " + e.message;
      return e;
    }
    obj["metadata"]["resourceVersion"] = (*cur)["metadata"].value("resourceVersion", "");
  }
  auto r = c.put(b.path() + query(f.dryRun), obj);
  printWarnings(c);
  if (!r) {
    Error e = r.error();
    e.message = "error when replacing \"" + b.source + "\": " + e.message;
    return e;
  }
  return std::string("replaced");
}

int runManifestVerb(const std::string& verb, int argc, char** argv) {
  GlobalFlags g;
  ApplyFlags f;
  po::options_description desc;
  addFileFlags(desc, f);
  if (verb == "apply")
    desc.add_options()(
        "wait", po::value(&f.wait)->implicit_value(true),
        "After applying, wait until each Pod is Ready and each Deployment Available")(
        "timeout", po::value(&f.timeout), "How long --wait waits (e.g. 30s, 5m)");
  addGlobalFlags(desc, g, false);
  po::variables_map vm;
  std::vector<std::string> args;
  if (auto err = parseFlags(argc, argv, desc, vm, args); !err.empty()) return usageError(verb, err);
  if (vm["help"].as<bool>()) {
    if (verb == "apply")
      printHelp(
          "skiff apply (-f FILENAME | -R -f DIR) [options]",
          "Apply a configuration to resources by file name or stdin. Each object is created "
          "if it does not exist, or else patched with kubectl's three-way merge, using the\n"
          "kubectl.kubernetes.io/last-applied-configuration annotation, so `skiff apply` "
          "and `kubectl apply` can take turns on the same objects.\n\n"
          "The documents of a file (and the files of a directory, in name order) are applied "
          "in order; each failure is reported, the remaining documents are still applied,\n"
          "and the exit code is 1 if any failed. JSON and YAML formats are accepted, as are "
          "multi-document YAML and `kind: List`.",
          "  # Apply the configuration in service.yaml\n  skiff apply -f "
          "examples/service-nodeport.yaml\n\n"
          "  # Apply every manifest under a directory, recursively, and wait for pods to be Ready\n"
          "  skiff apply -R -f examples/ --wait --timeout 60s\n\n"
          "  # Apply what arrives on stdin\n  cat pod.yaml | skiff apply -f -\n\n"
          "  # Show what would change without changing it\n  skiff apply -f pod.yaml "
          "--dry-run=server",
          desc);
    else if (verb == "create")
      printHelp(
          "skiff create -f FILENAME [options]",
          "Create resources from files or stdin. Documents are created in order; each failure "
          "is reported (AlreadyExists for existing objects).",
          "  # Create the pod in pod.json\n  skiff create -f ./pod.json\n\n"
          "  # Create from stdin\n  cat pod.yaml | skiff create -f -",
          desc);
    else
      printHelp("skiff replace -f FILENAME [options]",
                "Replace resources by file name or stdin: the whole object is sent (PUT); the "
                "object must exist.",
                "  # Replace a pod using the data in pod.yaml\n  skiff replace -f ./pod.yaml",
                desc);
    return 0;
  }
  if (!args.empty()) return usageError(verb, "Unexpected args: [" + args[0] + "]");
  if (f.files.empty()) return usageError(verb, "must specify one of -f and -k");
  if (f.dryRun != "none" && f.dryRun != "client" && f.dryRun != "server")
    return usageError(verb, "Invalid dry-run value (" + f.dryRun +
                                "). Must be \"none\", \"server\", or \"client\".");
  auto timeout = parseDuration(f.timeout);
  if (!timeout) return usageError(verb, timeout.error().message);

  Cli cli(g);
  auto manifests = readManifests(f.files, f.recursive, std::cin);
  bool failed = false;
  if (manifests.empty()) {
    std::fprintf(stderr, "error: no objects passed to %s\n", verb.c_str());
    return 1;
  }
  auto c = cli.client();
  std::vector<std::string> waitPaths, waitWords, waitFor;
  for (auto& m : manifests) {
    if (!m.object) {
      cli.report(m.object.error());
      failed = true;
      continue;
    }
    if (!c) return cli.fail(c.error());
    auto b = bindManifest(cli, *m.object, m.source, verb != "create");
    if (!b) {
      if (!client::isServerError(b.error()) && b.error().code == Code::kUnavailable)
        return cli.fail(b.error());
      if (client::isServerError(b.error()) && b.error().code == Code::kUnauthorized)
        return cli.fail(b.error());
      cli.report(b.error());
      failed = true;
      continue;
    }
    Result<std::string> r = verb == "apply" ? applyOne(cli, **c, *b, f)
                                            : createOrReplaceOne(**c, *b, f, verb == "replace");
    if (!r) {
      if (!client::isServerError(r.error()) && r.error().code == Code::kUnavailable)
        return cli.fail(r.error());
      cli.report(r.error());
      failed = true;
      continue;
    }
    printResult(*b, *r, f);
    if (f.wait && f.dryRun == "none") {
      std::string w = defaultWaitFor(b->type.kind);
      if (!w.empty()) {
        waitPaths.push_back(b->path());
        waitWords.push_back(b->word());
        waitFor.push_back(w);
      }
    }
  }
  if (!waitPaths.empty()) {
    auto done = waitForAllOrComplain(cli, waitPaths, waitWords, waitFor, *timeout, true);
    if (!done) return cli.fail(done.error());
    if (!*done) failed = true;
  }
  return failed ? 1 : 0;
}

}  // namespace

int runApplyCommand(int argc, char** argv) {
  return runManifestVerb("apply", argc, argv);
}
int runCreateCommand(int argc, char** argv) {
  return runManifestVerb("create", argc, argv);
}
int runReplaceCommand(int argc, char** argv) {
  return runManifestVerb("replace", argc, argv);
}

}  // namespace skiff::ctl
