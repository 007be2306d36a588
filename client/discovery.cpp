#include "client/discovery.h"

#include <algorithm>
#include <set>

#include "api/decode.h"
#include "client/rest_client.h"

namespace skiff::client {
namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

std::string ResourceType::basePath() const {
  return group.empty() ? "/api/" + version : "/apis/" + group + "/" + version;
}

std::string ResourceType::collectionPath(const std::string& ns) const {
  if (namespaced && !ns.empty()) return basePath() + "/namespaces/" + ns + "/" + name;
  return basePath() + "/" + name;
}

std::string ResourceType::objectPath(const std::string& ns, const std::string& objName) const {
  return collectionPath(ns) + "/" + objName;
}

bool ResourceType::hasVerb(const std::string& verb) const {
  return std::find(verbs.begin(), verbs.end(), verb) != verbs.end();
}

void Discovery::add(const api::Json& list, bool preferred) {
  std::string gv = list.value("groupVersion", "");
  std::string group, version = gv;
  if (auto slash = gv.find('/'); slash != std::string::npos) {
    group = gv.substr(0, slash);
    version = gv.substr(slash + 1);
  }
  auto it = list.find("resources");
  if (it == list.end() || !it->is_array()) return;
  for (const auto& r : *it) {
    ResourceType t;
    t.name = r.value("name", "");
    if (t.name.empty() || t.name.find('/') != std::string::npos) continue;  // subresources
    t.group = group;
    t.version = version;
    t.kind = r.value("kind", "");
    t.singular = r.value("singularName", "");
    if (t.singular.empty()) t.singular = lower(t.kind);
    t.namespaced = r.value("namespaced", false);
    t.preferred = preferred;
    if (auto s = r.find("shortNames"); s != r.end() && s->is_array())
      for (const auto& n : *s) t.shortNames.push_back(n.get<std::string>());
    if (auto v = r.find("verbs"); v != r.end() && v->is_array())
      for (const auto& n : *v) t.verbs.push_back(n.get<std::string>());
    if (auto c = r.find("categories"); c != r.end() && c->is_array())
      for (const auto& n : *c) t.categories.push_back(n.get<std::string>());
    resources_.push_back(std::move(t));
  }
}

Discovery Discovery::fromDocuments(const std::vector<api::Json>& lists) {
  Discovery d;
  std::set<std::string> seenGroups;
  for (const auto& l : lists) {
    std::string gv = l.value("groupVersion", "");
    std::string group = gv.find('/') == std::string::npos ? "" : gv.substr(0, gv.find('/'));
    bool preferred = seenGroups.insert(group).second;
    d.add(l, preferred);
  }
  return d;
}

Result<Discovery> Discovery::load(RestClient& client) {
  auto lists = loadDocuments(client);
  if (!lists) return lists.error();
  return fromDocuments(*lists);
}

bool Discovery::refresh() {
  if (!refresh_) return false;
  auto refresh = std::move(refresh_);
  refresh_ = nullptr;  // once
  auto lists = refresh();
  if (!lists) return false;
  resources_ = fromDocuments(*lists).resources_;
  return true;
}

Result<ResourceType> Discovery::resolve(const std::string& input) {
  auto t = resolveOnce(input);
  if (!t && t.error().code == Code::kNotFound && refresh()) return resolveOnce(input);
  return t;
}

Result<std::vector<ResourceType>> Discovery::resolveList(const std::string& names) {
  std::vector<ResourceType> out;
  for (size_t start = 0; start <= names.size();) {
    size_t comma = std::min(names.find(',', start), names.size());
    const std::string name = names.substr(start, comma - start);
    start = comma + 1;
    if (name.empty()) continue;
    bool category = false;
    for (const auto& t : resources_) {
      if (t.preferred &&
          std::find(t.categories.begin(), t.categories.end(), name) != t.categories.end()) {
        out.push_back(t);
        category = true;
      }
    }
    if (category) continue;
    auto t = resolve(name);
    if (!t) return t.error();
    out.push_back(std::move(*t));
  }
  return out;
}

Result<ResourceType> Discovery::forKind(const std::string& apiVersion,
                                        const std::string& kind) {
  auto t = forKindOnce(apiVersion, kind);
  if (!t && t.error().code == Code::kNotFound && refresh()) return forKindOnce(apiVersion, kind);
  return t;
}

Result<std::vector<api::Json>> Discovery::loadDocuments(RestClient& client) {
  std::vector<api::Json> lists;
  auto core = client.get("/api");
  if (!core) return core.error();
  if (auto vs = core->find("versions"); vs != core->end() && vs->is_array()) {
    for (const auto& v : *vs) {
      auto l = client.get("/api/" + v.get<std::string>());
      if (!l) return l.error();
      lists.push_back(std::move(*l));
    }
  }
  auto groups = client.get("/apis");
  if (!groups) return groups.error();
  if (auto gs = groups->find("groups"); gs != groups->end() && gs->is_array()) {
    for (const auto& g : *gs) {
      std::string preferred;
      if (auto p = g.find("preferredVersion"); p != g.end() && p->is_object())
        preferred = p->value("groupVersion", "");
      std::vector<std::string> order;
      if (!preferred.empty()) order.push_back(preferred);
      if (auto vs = g.find("versions"); vs != g.end() && vs->is_array())
        for (const auto& v : *vs) {
          std::string gv = v.value("groupVersion", "");
          if (!gv.empty() && gv != preferred) order.push_back(gv);
        }
      for (const auto& gv : order) {
        auto l = client.get("/apis/" + gv);
        if (!l) return l.error();
        if (!l->contains("groupVersion")) (*l)["groupVersion"] = gv;
        lists.push_back(std::move(*l));
      }
    }
  }
  return lists;
}

Result<ResourceType> Discovery::resolveOnce(const std::string& input) const {
  std::string name = lower(input), version, group;
  // kubectl: "pods.v1.", "deployments.v1.apps", "deployments.apps".
  if (auto dot = name.find('.'); dot != std::string::npos) {
    std::string rest = name.substr(dot + 1);
    name = name.substr(0, dot);
    auto dot2 = rest.find('.');
    std::string first = dot2 == std::string::npos ? rest : rest.substr(0, dot2);
    bool looksVersion =
        first.size() >= 2 && first[0] == 'v' && isdigit(static_cast<unsigned char>(first[1]));
    if (dot2 != std::string::npos && looksVersion) {
      version = first;
      group = rest.substr(dot2 + 1);
    } else if (looksVersion && dot2 == std::string::npos) {
      version = first;  // "pods.v1": core group
    } else {
      group = rest;
    }
  }
  auto groupMatches = [&](const ResourceType& t) {
    if (!group.empty() || !version.empty()) {
      if (t.group != group) return false;
      if (!version.empty() && t.version != version) return false;
      return true;
    }
    return t.preferred;
  };
  // Priority as kubectl's RESTMapper: plural, singular, short name, kind.
  for (int pass = 0; pass < 4; ++pass) {
    const ResourceType* found = nullptr;
    for (const auto& t : resources_) {
      if (!groupMatches(t)) continue;
      bool m = false;
      switch (pass) {
        case 0:
          m = t.name == name;
          break;
        case 1:
          m = t.singular == name;
          break;
        case 2:
          m = std::find(t.shortNames.begin(), t.shortNames.end(), name) != t.shortNames.end();
          break;
        case 3:
          m = lower(t.kind) == name;
          break;
      }
      // Core group wins ties, as kubectl's group priority does.
      if (m && (!found || (found->group != "" && t.group == ""))) found = &t;
    }
    if (found) return *found;
  }
  Error e = makeError(Code::kNotFound, "the server doesn't have a resource type \"" + input + "\"");
  std::vector<std::string> candidates;
  for (const auto& t : resources_) {
    candidates.push_back(t.name);
    candidates.push_back(t.singular);
    for (const auto& s : t.shortNames) candidates.push_back(s);
  }
  std::string close = api::closestMatch(lower(input), candidates);
  if (!close.empty()) {
    // Suggest the plural of whatever matched.
    for (const auto& t : resources_)
      if (t.singular == close ||
          std::find(t.shortNames.begin(), t.shortNames.end(), close) != t.shortNames.end())
        close = t.name;
    e.message += " (did you mean \"" + close + "\"?)";
  }
  return e;
}

Result<ResourceType> Discovery::forKindOnce(const std::string& apiVersion,
                                            const std::string& kind) const {
  std::string group, version = apiVersion;
  if (auto slash = apiVersion.find('/'); slash != std::string::npos) {
    group = apiVersion.substr(0, slash);
    version = apiVersion.substr(slash + 1);
  }
  for (const auto& t : resources_)
    if (t.group == group && t.version == version && t.kind == kind) return t;
  return makeError(Code::kNotFound,
                   "resource mapping not found for name: \"\" namespace: \"\" from \"\": no "
                   "matches for kind \"" +
                       kind + "\" in version \"" + apiVersion + "\"");
}

}  // namespace skiff::client
