// `skiff get`: the server's Tables laid out as kubectl does, or objects as
// name/json/yaml/jsonpath, optionally followed by a watch (-w).
#include <algorithm>
#include <cstdio>
#include <iostream>

#include "ctl/commands.h"
#include "ctl/objects.h"
#include "ctl/printers.h"
#include "ctl/yaml.h"

namespace skiff::ctl {
namespace {

struct GetFlags {
  std::string selector, fieldSelector, output;
  bool watch = false, watchOnly = false, showLabels = false, noHeaders = false;
};

struct Request {
  client::ResourceType type;
  std::vector<std::string> names;  // empty = list
};

std::string listQuery(const GetFlags& f) {
  std::string q;
  auto add = [&](const std::string& k, const std::string& v) {
    q += (q.empty() ? "?" : "&") + k + "=" + urlEncode(v);
  };
  if (!f.selector.empty()) add("labelSelector", f.selector);
  if (!f.fieldSelector.empty()) add("fieldSelector", f.fieldSelector);
  return q;
}

// Items of a plain list get their kind and apiVersion back, as kubectl does.
Json completeItem(Json item, const client::ResourceType& t) {
  if (!item.contains("apiVersion")) item["apiVersion"] = t.apiVersion();
  if (!item.contains("kind")) item["kind"] = t.kind;
  return item;
}

// A Table built on the client for servers that do not send one.
Json fallbackTable(const std::vector<Json>& objects) {
  Json t = {{"kind", "Table"}, {"apiVersion", "meta.k8s.io/v1"}};
  t["columnDefinitions"] = Json::array({{{"name", "Name"}, {"type", "string"}, {"format", "name"}},
                                        {{"name", "Created At"}, {"type", "date"}}});
  t["rows"] = Json::array();
  for (const auto& o : objects)
    t["rows"].push_back(
        {{"cells", {o["metadata"].value("name", ""), o["metadata"].value("creationTimestamp", "")}},
         {"object", o}});
  return t;
}

int emitObjects(const std::vector<Json>& objects, bool single, const std::string& output) {
  Json data;
  if (single && objects.size() == 1) {
    data = objects[0];
  } else {
    data = {{"apiVersion", "v1"},
            {"kind", "List"},
            {"items", objects},
            {"metadata", {{"resourceVersion", ""}}}};
  }
  if (output == "json") {
    std::fputs(toJsonText(data).c_str(), stdout);
  } else if (output == "yaml") {
    std::fputs(jsonToYaml(data).c_str(), stdout);
  } else {
    std::string tmpl = output.substr(output.find('=') + 1);
    auto r = jsonPath(tmpl, data);
    if (!r) {
      std::fprintf(stderr, "error: %s\n", r.error().message.c_str());
      return 1;
    }
    std::fputs(r->c_str(), stdout);
  }
  return 0;
}

int runGet(int argc, char** argv) {
  GlobalFlags g;
  GetFlags f;
  po::options_description desc;
  desc.add_options()("selector,l", po::value(&f.selector),
                     "Selector (label query) to filter on, e.g. -l app=web,tier!=db")(
      "field-selector", po::value(&f.fieldSelector),
      "Selector (field query) to filter on, e.g. --field-selector status.phase=Running")(
      "output,o", po::value(&f.output), "Output format: wide, name, json, yaml, jsonpath=TEMPLATE")(
      "watch,w", po::bool_switch(&f.watch),
      "After listing/getting the requested objects, watch for changes")(
      "watch-only", po::bool_switch(&f.watchOnly), "Watch for changes without listing first")(
      "show-labels", po::bool_switch(&f.showLabels), "Show all labels as the last column")(
      "no-headers", po::bool_switch(&f.noHeaders), "Don't print headers");
  addGlobalFlags(desc, g, true);
  po::variables_map vm;
  std::vector<std::string> args;
  if (auto err = parseFlags(argc, argv, desc, vm, args); !err.empty())
    return usageError("get", err);
  if (vm["help"].as<bool>()) {
    printHelp(
        "skiff get [(-o|--output=)json|yaml|name|wide|jsonpath=...] (TYPE[.VERSION][.GROUP] [NAME "
        "| -l label] | TYPE[.VERSION][.GROUP]/NAME ...) [flags]",
        "Display one or many resources, as the server's Table (kubectl's columns). Types "
        "take plural, singular or short names (po, svc, ep, no, ns, ev, deploy).",
        "  # List all pods in the current namespace\n  skiff get pods\n\n"
        "  # List pods and services across all namespaces\n  skiff get po,svc -A\n\n"
        "  # One service as YAML\n  skiff get svc http-go-np -o yaml\n\n"
        "  # Names of pods labelled app=web\n  skiff get pods -l app=web -o name\n\n"
        "  # Node ports of every service\n  skiff get svc -o jsonpath='{range "
        ".items[*]}{.metadata.name}{\" \"}{.spec.ports[*].nodePort}{\"\\n\"}{end}'\n\n"
        "  # Watch pods change\n  skiff get pods -w",
        desc);
    return 0;
  }
  if (args.empty()) {
    std::fprintf(stderr,
                 "You must specify the type of resource to get. Use \"skiff api-resources\" for a "
                 "complete list of supported resources.\n\n");
    return usageError("get", "Required resource not specified.");
  }
  std::string out = f.output;
  bool tableOut = out.empty() || out == "wide";
  if (!tableOut && out != "name" && out != "json" && out != "yaml" &&
      out.rfind("jsonpath=", 0) != 0 && out.rfind("jsonpath", 0) != 0)
    return usageError("get", "unable to match a printer suitable for the output format \"" + out +
                                 "\", allowed formats are: json,jsonpath,name,wide,yaml");
  if (out.rfind("jsonpath", 0) == 0 && out.find('=') == std::string::npos)
    return usageError("get", "template format specified but no template given");

  Cli cli(g);
  auto d = cli.discovery();
  if (!d) return cli.fail(d.error());
  auto c = cli.client();

  // TYPE[,TYPE] [NAME...]  or  TYPE/NAME ...
  std::vector<Request> reqs;
  if (args[0].find('/') != std::string::npos) {
    for (const auto& a : args) {
      auto slash = a.find('/');
      if (slash == std::string::npos)
        return usageError(
            "get",
            "there is no need to specify a resource type as a separate argument when passing "
            "arguments in resource/name form (e.g. 'skiff get resource/<resource_name>' instead of "
            "'skiff get resource resource/<resource_name>'");
      auto t = (*d)->resolve(a.substr(0, slash));
      if (!t) return cli.fail(t.error());
      bool merged = false;
      for (auto& r : reqs)
        if (r.type.name == t->name && r.type.group == t->group) {
          r.names.push_back(a.substr(slash + 1));
          merged = true;
        }
      if (!merged) reqs.push_back({*t, {a.substr(slash + 1)}});
    }
  } else {
    auto types = (*d)->resolveList(args[0]);
    if (!types) return cli.fail(types.error());
    for (auto& t : *types)
      reqs.push_back({std::move(t), std::vector<std::string>(args.begin() + 1, args.end())});
  }
  bool allNs = g.allNamespaces;
  std::string ns = cli.ns();
  bool multiType = reqs.size() > 1;
  bool singleObject = reqs.size() == 1 && reqs[0].names.size() == 1;
  bool failed = false;
  bool printedAny = false;
  std::vector<Json> collected;  // json/yaml/jsonpath
  std::vector<std::string> errors;
  std::vector<size_t> widths;
  Json columns = Json::array();  // the last Table's column definitions (for -w)
  std::string lastRv;
  TablePrintOptions topts;
  topts.wide = out == "wide";
  topts.noHeaders = f.noHeaders;
  topts.showLabels = f.showLabels;
  topts.withNamespace = allNs;

  for (const auto& rq : reqs) {
    std::string listNs = allNs ? "" : ns;
    if (!rq.type.namespaced) listNs = "";
    std::vector<Json> tables;  // table mode
    std::vector<Json> objects;
    if (f.watchOnly) {
      // Only the resourceVersion, so the watch starts after what exists now.
      auto r = (*c)->get(rq.type.collectionPath(listNs) + listQuery(f) +
                         (listQuery(f).empty() ? "?" : "&") + "limit=1");
      if (!r) return cli.fail(r.error());
      lastRv = (*r)["metadata"].value("resourceVersion", "");
    } else if (rq.names.empty()) {
      std::string path = rq.type.collectionPath(listNs) + listQuery(f);
      // The rows' objects serve only the NAMESPACE and LABELS columns; without
      // them the server sends the cells alone, a fraction of the bytes.
      if (tableOut && !allNs && !f.showLabels)
        path += (path.find('?') == std::string::npos ? "?" : "&") + std::string("includeObject=None");
      auto r = (*c)->get(path, tableOut ? client::kAcceptTable : "application/json");
      if (!r) return cli.fail(r.error());
      lastRv = (*r)["metadata"].value("resourceVersion", "");
      if (tableOut) {
        if (r->value("kind", "") == "Table")
          tables.push_back(std::move(*r));
        else {
          std::vector<Json> items;
          for (const auto& i : (*r)["items"]) items.push_back(i);
          tables.push_back(fallbackTable(items));
        }
      } else {
        for (const auto& i : (*r)["items"]) objects.push_back(completeItem(i, rq.type));
      }
    } else {
      for (const auto& name : rq.names) {
        std::string path = rq.type.objectPath(allNs ? ns : listNs.empty() ? ns : listNs, name);
        if (!rq.type.namespaced) path = rq.type.objectPath("", name);
        auto r = (*c)->get(path, tableOut ? client::kAcceptTable : "application/json");
        if (!r) {
          if (client::isServerError(r.error()) && r.error().code != Code::kUnauthorized) {
            errors.push_back(client::renderError(r.error()));
            failed = true;
            continue;
          }
          return cli.fail(r.error());
        }
        if (tableOut) {
          if (r->value("kind", "") == "Table")
            tables.push_back(std::move(*r));
          else
            tables.push_back(fallbackTable({*r}));
        } else {
          objects.push_back(completeItem(*r, rq.type));
        }
      }
    }
    if (tableOut) {
      // Merge the tables of this type into one (same columns).
      Json merged;
      for (auto& t : tables) {
        if (merged.is_null())
          merged = std::move(t);
        else
          for (auto& row : t["rows"]) merged["rows"].push_back(std::move(row));
      }
      if (merged.is_null() || !merged.contains("rows") || merged["rows"].empty()) continue;
      TablePrintOptions o = topts;
      if (multiType) o.kindPrefix = typeWord(rq.type.kind, rq.type.group);
      auto cells = tableCells(merged, o);
      if (printedAny && !f.noHeaders) std::fputs("\n", stdout);
      std::fputs(tabwrite(cells).c_str(), stdout);
      widths = columnWidths(cells);
      columns = merged["columnDefinitions"];
      printedAny = true;
    } else if (out == "name") {
      for (const auto& o : objects) {
        std::printf("%s/%s\n", typeWord(rq.type.kind, rq.type.group).c_str(),
                    o["metadata"].value("name", "").c_str());
        printedAny = true;
      }
    } else {
      for (auto& o : objects) collected.push_back(std::move(o));
    }
  }
  if (!tableOut && out != "name" && !f.watchOnly) {
    if (!collected.empty() || !singleObject) {
      if (!(collected.empty() && !errors.empty()))
        if (emitObjects(collected, singleObject, out) != 0) return 1;
    }
    printedAny = printedAny || !collected.empty();
  }
  std::fflush(stdout);
  for (const auto& e : errors) std::fprintf(stderr, "%s\n", e.c_str());
  if (!printedAny && errors.empty() && (tableOut || out == "name") && !f.watchOnly) {
    bool clusterScoped = !reqs.empty() && !reqs[0].type.namespaced;
    if (allNs || clusterScoped)
      std::fprintf(stderr, "No resources found\n");
    else
      std::fprintf(stderr, "No resources found in %s namespace.\n", ns.c_str());
  }
  if (!(f.watch || f.watchOnly)) return failed ? 1 : 0;

  // Watch: one type only, as kubectl.
  if (reqs.size() != 1) {
    std::fprintf(stderr, "error: you may only specify a single resource type\n");
    return 1;
  }
  const auto& rq = reqs[0];
  std::string listNs = allNs || !rq.type.namespaced ? "" : ns;
  std::string q = listQuery(f);
  if (rq.names.size() == 1) {
    std::string fs = "metadata.name=" + rq.names[0];
    q += (q.empty() ? "?" : "&") + std::string("fieldSelector=") + urlEncode(fs);
  }
  q += (q.empty() ? "?" : "&") + std::string("watch=1");
  if (!lastRv.empty()) q += "&resourceVersion=" + urlEncode(lastRv);
  bool headerDone = printedAny;
  auto st = (*c)->watch(
      rq.type.collectionPath(listNs) + q,
      [&](const Json& ev) {
        const Json& obj = ev.contains("object") ? ev["object"] : Json();
        std::string type = ev.value("type", "");
        if (type == "ERROR") {
          std::fprintf(stderr, "error: %s\n", obj.value("message", "watch error").c_str());
          return false;
        }
        if (type == "BOOKMARK") return true;
        if (tableOut) {
          Json table = obj.value("kind", "") == "Table" ? obj : fallbackTable({obj});
          // Only the first event's Table carries column definitions.
          if (table.contains("columnDefinitions") && !table["columnDefinitions"].empty())
            columns = table["columnDefinitions"];
          else
            table["columnDefinitions"] = columns;
          TablePrintOptions o = topts;
          o.noHeaders = headerDone || f.noHeaders;
          auto cells = tableCells(table, o);
          if (!headerDone) {
            widths = columnWidths(cells);
            headerDone = true;
          }
          for (const auto& row : cells) {
            // kubectl's tabwriter remembers widths across events and widens
            // a column when a new row needs it.
            auto need = columnWidths({row});
            if (widths.size() < need.size()) widths.resize(need.size(), 0);
            for (size_t i = 0; i < need.size(); ++i) widths[i] = std::max(widths[i], need[i]);
            std::fputs(formatRow(row, widths).c_str(), stdout);
          }
        } else if (out == "name") {
          std::printf("%s/%s\n", typeWord(rq.type.kind, rq.type.group).c_str(),
                      obj["metadata"].value("name", "").c_str());
        } else if (out == "json") {
          std::fputs(toJsonText(completeItem(obj, rq.type)).c_str(), stdout);
        } else if (out == "yaml") {
          std::fputs(("---\n" + jsonToYaml(completeItem(obj, rq.type))).c_str(), stdout);
        } else {
          auto r = jsonPath(out.substr(out.find('=') + 1), completeItem(obj, rq.type));
          if (r) std::fputs(r->c_str(), stdout);
        }
        std::fflush(stdout);
        return true;
      },
      0, tableOut ? client::kAcceptTable : "application/json");
  if (!st) return cli.fail(st.error());
  return failed ? 1 : 0;
}

}  // namespace

int runGetCommand(int argc, char** argv) {
  return runGet(argc, argv);
}

}  // namespace skiff::ctl
