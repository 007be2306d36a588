// get and list. A list without selectors or Table output never parses the
// stored objects: their JSON text (resourceVersion already embedded at write
// time) is concatenated into the list body, which keeps a 10,000-pod list well
// inside its latency budget.
#include <cstdint>
#include <future>
#include <optional>

#include "api/selector.h"
#include "api/table.h"
#include "apiserver/api_errors.h"
#include "apiserver/objects.h"
#include "apiserver/registry.h"
#include "apiserver/watch.h"

namespace skiff::apiserver {

using api::Json;

namespace {

// Lists of at least this many items (with no limit) are parsed and printed on
// two threads.
constexpr size_t kParallelListItems = 256;

// A list's JSON: kind <Kind>List, its revision and continue token, and the
// items' texts (`text(item)` for each item, already JSON), joined without a
// parse.
template <class Items, class Text>
std::string listJson(const ResourceInfo& r, storage::Revision rv, const std::string& cont,
                     const Items& items, Text text) {
  std::string s = "{\"kind\":\"" + r.kind + "List\",\"apiVersion\":\"" + r.apiVersion() +
                  "\",\"metadata\":{\"resourceVersion\":\"" + std::to_string(rv) + "\"";
  if (!cont.empty()) s += ",\"continue\":\"" + cont + "\"";
  s += "},\"items\":[";
  size_t total = s.size() + 2;
  for (const auto& item : items) total += text(item).size() + 1;
  s.reserve(total);
  bool first = true;
  for (const auto& item : items) {
    if (!first) s += ',';
    first = false;
    s += text(item);
  }
  s += "]}";
  return s;
}

const std::string& itself(const std::string& text) {
  return text;
}

Result<int64_t> intParam(const Request& request, const char* name) {
  std::string v = request.param(name);
  if (v.empty()) return int64_t{0};
  try {
    size_t used = 0;
    long long n = std::stoll(v, &used);
    if (used != v.size() || n < 0) throw std::invalid_argument(v);
    return static_cast<int64_t>(n);
  } catch (...) {
    return badRequest(std::string(name) + ": Invalid value: \"" + v +
                      "\": must be a non-negative integer");
  }
}

api::TableOptions tableOptions(const Request& request) {
  api::TableOptions o;
  std::string inc = request.param("includeObject");
  if (!inc.empty()) o.includeObject = inc;
  return o;
}

}  // namespace

// The objects of a derived resource (ResourceInfo::derivedFrom) in namespace
// `ns` ("" for all), made from its source's as they are now, and the revision
// they were read at.
Result<std::pair<std::vector<Json>, storage::Revision>> RestApiImpl::listDerived(
    const ResourceInfo& r, const std::string& ns) {
  auto listed = store_.list(collectionPrefix(storedResource(r), ns));
  if (!listed) return listed.error();
  std::vector<Json> out;
  for (const auto& rec : listed->items) {
    Json obj = api::parseStoredJson(rec.value);
    if (obj.is_discarded() || !obj.is_object()) continue;
    for (Json& derived : r.derive(obj)) out.push_back(std::move(derived));
  }
  return std::make_pair(std::move(out), listed->revision);
}

Result<storage::Record> RestApiImpl::getStored(const Scope& scope) {
  auto rec = store_.get(scope.key());
  if (!rec && rec.error().code == Code::kNotFound)
    return notFound(scope.resource->groupResource(), scope.name);
  return rec;
}

void RestApiImpl::get(const Scope& scope, const Request& request, ResponseWriter& writer) {
  const ResourceInfo& r = *scope.resource;
  if (!r.derivedFrom.empty()) {
    auto derived = listDerived(r, scope.ns);
    if (!derived) return respondError(writer, derived.error());
    for (const Json& obj : derived->first) {
      if (stringAt(obj, "metadata", "name") != scope.name) continue;
      if (!wantsTable(request)) return respondJson(writer, 200, api::dumpJson(obj));
      Json md = {{"resourceVersion", stringAt(obj, "metadata", "resourceVersion")}};
      return respondJson(writer, 200,
                         api::dumpJson(api::toTable(r.plural, {obj}, md, tableOptions(request))));
    }
    return respondError(writer, notFound(r.groupResource(), scope.name));
  }
  auto rec = getStored(scope);
  if (!rec) return respondError(writer, rec.error());
  if (wantsTable(request)) {
    auto obj = parseStored(rec->value);
    if (!obj) return respondError(writer, obj.error());
    Json md = {{"resourceVersion", std::to_string(rec->modRevision)}};
    respondJson(writer, 200,
                api::dumpJson(api::toTable(r.plural, {*obj}, md, tableOptions(request))));
    return;
  }
  respondJson(writer, 200, rec->value);
}

void RestApiImpl::list(const Scope& scope, const Request& request,
                       std::shared_ptr<ResponseWriter> writer) {
  const ResourceInfo& r = *scope.resource;
  std::optional<api::LabelSelector> labels;
  std::optional<api::FieldSelector> fields;
  std::string labelText = request.param("labelSelector");
  if (!labelText.empty()) {
    auto l = api::LabelSelector::parse(labelText);
    if (!l) return respondError(*writer, l.error());
    if (!l->empty()) labels = std::move(*l);
  }
  std::string fieldText = request.param("fieldSelector");
  if (!scope.name.empty())  // a watch on one object's URL
    fieldText = "metadata.name=" + scope.name + (fieldText.empty() ? "" : "," + fieldText);
  if (!fieldText.empty()) {
    auto f = api::FieldSelector::parse(fieldText, r.plural);
    if (!f) return respondError(*writer, f.error());
    if (!f->empty()) fields = std::move(*f);
  }
  std::string prefix = collectionPrefix(storedResource(r), scope.ns);
  bool table = wantsTable(request);
  std::string rvText = request.param("resourceVersion");

  if (!r.derivedFrom.empty() && !scope.legacyWatch && !request.flag("watch")) {
    // Every match in one answer: a server may ignore `limit` (it then sends
    // no continue token), and these lists are small.
    auto derived = listDerived(r, scope.ns);
    if (!derived) return respondError(*writer, derived.error());
    std::vector<Json> matches;
    for (Json& obj : derived->first) {
      if (api::selects(labels, fields, obj)) matches.push_back(std::move(obj));
    }
    if (table) {
      Json md = {{"resourceVersion", std::to_string(derived->second)}};
      respondJson(*writer, 200,
                  api::dumpJson(api::toTable(r.plural, matches, md, tableOptions(request))));
      return;
    }
    std::vector<std::string> texts;
    for (const Json& obj : matches) texts.push_back(api::dumpJson(obj));
    respondJson(*writer, 200, listJson(r, derived->second, "", texts, itself));
    return;
  }

  if (scope.legacyWatch || request.flag("watch")) {
    WatchRequest w;
    w.resource = &r;
    w.prefix = prefix;
    w.initialState = rvText.empty() || rvText == "0";
    if (!w.initialState) {
      try {
        size_t used = 0;
        w.after = std::stoll(rvText, &used);
        if (used != rvText.size() || w.after < 0) throw std::invalid_argument(rvText);
      } catch (...) {
        return respondError(
            *writer, makeError(Code::kBadRequest, "resourceVersion: Invalid value: \"" + rvText +
                                                      "\": must be a non-negative integer"));
      }
    }
    if (request.flag("sendInitialEvents")) {
      w.initialState = true;
      w.initialEventsEndBookmark = true;
    }
    w.labels = labels;
    w.fields = fields;
    w.table = table;
    w.includeObject = tableOptions(request).includeObject;
    w.bookmarks = request.flag("allowWatchBookmarks");
    auto timeout = intParam(request, "timeoutSeconds");
    if (!timeout) return respondError(*writer, timeout.error());
    w.timeoutSeconds = static_cast<int>(*timeout);
    watches_->start(std::move(w), writer);
    return;
  }

  auto limit = intParam(request, "limit");
  if (!limit) return respondError(*writer, limit.error());
  std::string startAfter;
  // Later pages read at the first page's revision (a snapshot, as etcd gives
  // kube-apiserver); 0 is "now".
  storage::Revision at = 0;
  std::string cont = request.param("continue");
  if (!cont.empty()) {
    auto token = decodeContinue(cont);
    if (!token || token->lastKey.rfind(prefix, 0) != 0)
      return respondError(*writer,
                          badRequest("continue key is not valid: the token does not belong to "
                                     "this list"));
    startAfter = token->lastKey;
    at = std::max<storage::Revision>(token->rv, 0);
  }
  // The page at `at` after `cursor`; Kubernetes' 410 when that revision is gone.
  auto page = [&](int64_t n, const std::string& cursor) {
    auto listed = store_.list(prefix, n, cursor, at);
    if (!listed && listed.error().code == Code::kGone)
      return Result<storage::ListResult>(makeError(
          Code::kGone,
          "The provided continue parameter is too old to display a consistent list result. You "
          "can start a new list without the continue parameter."));
    return listed;
  };

  if (!labels && !fields && !table) {
    auto listed = page(*limit, startAfter);
    if (!listed) return respondError(*writer, listed.error());
    std::string next = listed->more && !listed->items.empty()
                           ? encodeContinue(listed->revision, listed->items.back().key)
                           : "";
    respondJson(
        *writer, 200,
        listJson(r, listed->revision, next, listed->items,
                 [](const storage::Record& rec) -> const std::string& { return rec.value; }));
    return;
  }

  // Filtered (or Table) list: read in chunks until `limit` items matched.
  // A Table is written row by row as objects match (api::TableWriter); a
  // plain list keeps the stored texts of the matches.
  const api::TableOptions topts = tableOptions(request);  // one `now` for every row
  // The matches of a run of items: Table rows, or the stored texts.
  struct Matches {
    std::optional<api::TableWriter> table;
    std::vector<std::string> texts;
    size_t count = 0;
    std::string lastKey;
    void append(Matches&& other) {
      if (other.count == 0) return;
      if (table) table->append(std::move(*other.table));
      for (auto& t : other.texts) texts.push_back(std::move(t));
      count += other.count;
      lastKey = std::move(other.lastKey);
    }
  };
  auto newMatches = [&] {
    Matches m;
    if (table) m.table.emplace(r.plural, topts);
    return m;
  };
  // items[from, to) parsed, matched against the selectors and added to `out`,
  // stopping once `room` more have matched; returns the first index not looked at.
  auto scan = [&](const std::vector<storage::Record>& items, size_t from, size_t to, Matches& out,
                  size_t room) {
    size_t i = from;
    for (size_t taken = 0; i < to && taken < room; ++i) {
      Json obj = api::parseStoredJson(items[i].value);
      if (obj.is_discarded() || !obj.is_object()) continue;
      if (!api::selects(labels, fields, obj)) continue;
      ++taken;
      ++out.count;
      out.lastKey = items[i].key;
      if (out.table)
        out.table->add(std::move(obj));
      else
        out.texts.push_back(items[i].value);
    }
    return i;
  };
  Matches matched = newMatches();
  storage::Revision revision = 0;
  bool more = false;
  std::string cursor = startAfter;
  int64_t chunk = *limit > 0 ? std::max<int64_t>(*limit, 500) : 0;
  while (true) {
    auto listed = page(chunk, cursor);
    if (!listed) return respondError(*writer, listed.error());
    if (revision == 0) revision = at = listed->revision;  // every chunk at the first's
    const auto& items = listed->items;
    if (*limit == 0 && items.size() >= kParallelListItems) {
      // No limit: every item is read in this one chunk (so `matched` is still
      // empty). Parsing and printing dominate, so a second thread scans the
      // first half into `matched` while this one scans the second; an
      // exception on either side reaches the handler (the future rethrows it,
      // and waits for its thread when this side throws first).
      const size_t half = items.size() / 2;
      Matches second = newMatches();
      auto firstHalf =
          std::async(std::launch::async, [&] { scan(items, 0, half, matched, SIZE_MAX); });
      scan(items, half, items.size(), second, SIZE_MAX);
      firstHalf.get();
      matched.append(std::move(second));
    } else {
      size_t room = *limit > 0 ? static_cast<size_t>(*limit) - matched.count : SIZE_MAX;
      if (scan(items, 0, items.size(), matched, room) < items.size()) more = true;
    }
    if (more) break;
    if (!listed->more || listed->items.empty()) break;
    cursor = listed->items.back().key;
  }
  std::string next = more && matched.count > 0 ? encodeContinue(revision, matched.lastKey) : "";
  if (matched.table) {
    Json md = {{"resourceVersion", std::to_string(revision)}};
    if (!next.empty()) md["continue"] = next;
    respondJson(*writer, 200, matched.table->finish(md));
    return;
  }
  respondJson(*writer, 200, listJson(r, revision, next, matched.texts, itself));
}

Json scaleOf(const Json& object, storage::Revision rv) {
  Json md = object.value("metadata", Json::object());
  Json spec = object.value("spec", Json::object());
  Json status = object.value("status", Json::object());
  std::string selector;
  if (spec.contains("selector")) {
    auto sel = api::LabelSelector::fromJson(spec["selector"]);
    if (sel) selector = sel->toString();
  }
  return {{"kind", "Scale"},
          {"apiVersion", "autoscaling/v1"},
          {"metadata",
           {{"name", md.value("name", "")},
            {"namespace", md.value("namespace", "")},
            {"uid", md.value("uid", "")},
            {"resourceVersion", std::to_string(rv)},
            {"creationTimestamp", md.value("creationTimestamp", "")}}},
          {"spec", {{"replicas", spec.value("replicas", 1)}}},
          {"status", {{"replicas", status.value("replicas", 0)}, {"selector", selector}}}};
}

void RestApiImpl::getScale(const Scope& scope, ResponseWriter& writer) {
  auto rec = getStored(scope);
  if (!rec) return respondError(writer, rec.error());
  auto obj = parseStored(rec->value);
  if (!obj) return respondError(writer, obj.error());
  respondJson(writer, 200, scaleOf(*obj, rec->modRevision).dump());
}

}  // namespace skiff::apiserver
