#include "netproxy/proxier.h"

#include <chrono>

#include "base/log.h"

namespace skiff::netproxy {
namespace {

double millisSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

}  // namespace

Proxier::Proxier(NftExecutor& nft, RulesetConfig config) : nft_(nft), config_(std::move(config)) {}

Status Proxier::sync(const Model& desired) {
  if (needFull_) return sync(desired, {});
  return sync(desired, changedServices(current_, desired));
}

Status Proxier::sync(const Model& desired, const std::set<std::string>& changed) {
  if (needFull_) {
    Status refilled = refillSync(desired);
    if (refilled.ok()) return refilled;
    logDebug("nft refill not possible, recreating the table",
             {{"table", config_.table}, {"reason", refilled.error().message}});
  }
  last_ = SyncRecord{};
  last_.full = needFull_;
  last_.mode = needFull_ ? "recreate" : "partial";
  auto start = std::chrono::steady_clock::now();
  std::string text;
  KnownClasses classes = classes_;
  if (needFull_) {
    text = fullSyncText(desired, config_);
    classes = classesOf(desired);
    last_.changedServices = desired.services.size();
  } else {
    text = partialSyncText(current_, desired, changed, config_, classes);
    last_.changedServices = changed.size();
  }
  last_.buildMillis = millisSince(start);
  last_.textBytes = text.size();
  if (text.empty()) {
    last_.ok = true;
    adopt(desired, changed, last_.full);
    return {};
  }
  auto applyStart = std::chrono::steady_clock::now();
  Status st = nft_.apply(text);
  last_.applyMillis = millisSince(applyStart);
  if (!st.ok()) {
    needFull_ = true;
    logWarn("nft sync failed", {{"table", config_.table},
                                {"full", last_.full ? "true" : "false"},
                                {"error", st.error().message}});
    return st.error().wrap(last_.full ? "full sync" : "partial sync");
  }
  last_.ok = true;
  logDebug("nft sync", {{"table", config_.table},
                        {"full", last_.full ? "true" : "false"},
                        {"services", std::to_string(last_.changedServices)},
                        {"ms", std::to_string(last_.buildMillis + last_.applyMillis)}});
  Model before = adopt(desired, changed, last_.full);
  classes_ = std::move(classes);
  if (!last_.full) {
    Status c = cleanAffinity(before, current_, changed);
    if (!c.ok()) logWarn("nft affinity cleanup failed", {{"error", c.error().message}});
  }
  needFull_ = false;
  return {};
}

Status Proxier::refillSync(const Model& desired) {
  last_ = SyncRecord{};
  last_.full = true;
  last_.mode = "refill";
  last_.changedServices = desired.services.size();
  auto start = std::chrono::steady_clock::now();
  auto names = nft_.setNames(config_.table);
  if (!names.ok()) return names.error();
  // Refill keeps existing class chains as they are; one someone emptied (e.g.
  // `nft flush table`) would stay broken, so check them and recreate if needed.
  if (Status intact = checkClassChains(*names); !intact.ok()) return intact;
  std::string rules = refillRulesText(desired, config_, *names);
  ElementsBySet elements = elementsBySet(desired);
  std::set<std::string> flush = *names;
  flush.erase("aff");  // affinity survives a full sync that keeps the table
  KnownClasses classes = classesOf(desired);
  for (const auto& n : *names) {
    if (n.rfind("ep_", 0) == 0) classes.endpointCounts.insert(std::atoi(n.c_str() + 3));
  }
  last_.buildMillis = millisSince(start);
  last_.textBytes = rules.size();
  auto applyStart = std::chrono::steady_clock::now();
  Status st = nft_.apply(rules);
  if (st.ok()) st = nft_.refill(config_.table, flush, elements);
  last_.applyMillis = millisSince(applyStart);
  if (!st.ok()) return st;
  last_.ok = true;
  current_ = desired;
  classes_ = std::move(classes);
  needFull_ = false;
  // Endpoints may have gone while nobody was looking: check every sticky entry.
  std::set<std::string> all;
  for (const auto& [k, s] : desired.services) all.insert(k);
  Status c = cleanAffinity(desired, desired, all);
  if (!c.ok()) logWarn("nft affinity cleanup failed", {{"error", c.error().message}});
  return {};
}

Status Proxier::checkClassChains(const std::set<std::string>& setNames) {
  auto counts = nft_.ruleCounts(config_.table);
  if (!counts.ok()) return counts.error();
  for (const auto& set : setNames) {
    if (set.rfind("ep_", 0) != 0) continue;
    for (const char* prefix : {"svc_", "aff_", "np_", "npaff_"}) {
      const std::string chain = prefix + set.substr(3);
      if (!counts->count(chain))
        return makeError(Code::kInternal, "class chain " + chain + " has no rule (edited?)");
    }
  }
  return {};
}

Model Proxier::adopt(const Model& desired, const std::set<std::string>& changed, bool full) {
  if (full) {
    Model before = std::move(current_);
    current_ = desired;
    return before;
  }
  // Copying 10,000 Services per sync would cost more than the sync: update in place.
  Model before;
  for (const auto& k : changed) {
    if (auto it = current_.services.find(k); it != current_.services.end()) {
      before.services.emplace(k, std::move(it->second));
    }
    if (auto d = desired.services.find(k); d != desired.services.end()) {
      current_.services[k] = d->second;
    } else {
      current_.services.erase(k);
    }
  }
  return before;
}

Status Proxier::cleanAffinity(const Model& before, const Model& after,
                              const std::set<std::string>& changed) {
  bool any = false;
  for (const auto& k : changed) {
    auto it = before.services.find(k);
    if (it != before.services.end() && it->second.affinity) any = true;
  }
  if (!any) return {};
  Status last;
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto listing = nft_.listJson(listAffinityCommand(config_));
    if (!listing.ok()) return listing.error();
    auto json = api::parseJson(*listing);
    if (!json.ok()) return json.error().wrap("affinity listing");
    std::string text = affinityCleanupText(*json, before, after, changed, config_);
    if (text.empty()) return {};
    last = nft_.apply(text);
    if (last.ok()) return {};
  }
  return last;
}

Status Proxier::deleteTable() {
  Status st = nft_.apply(deleteTableText(config_.table));
  needFull_ = true;
  current_ = Model{};
  classes_ = KnownClasses{};
  return st;
}

}  // namespace skiff::netproxy
