#include "controllers/workload_util.h"

#include <cmath>
#include <cstdio>
#include <ctime>
#include <thread>

namespace skiff::controllers {

namespace {
const Json* at(const Json& obj, const char* a, const char* b, const char* c) {
  return c ? api::jsonAt(obj, {a, b, c}) : api::jsonAt(obj, {a, b});
}
}  // namespace

std::string str(const Json& obj, const char* a, const char* b, const char* c) {
  const Json* j = at(obj, a, b, c);
  return j && j->is_string() ? j->get<std::string>() : "";
}

long long num(const Json& obj, const char* a, const char* b, long long fallback) {
  const Json* j = at(obj, a, b, nullptr);
  return j && j->is_number_integer() ? j->get<long long>() : fallback;
}

std::string keyOf(const Json& obj) {
  return str(obj, "metadata", "namespace") + "/" + str(obj, "metadata", "name");
}

std::string uidOf(const Json& obj) {
  return str(obj, "metadata", "uid");
}

const Json* controllerRef(const Json& obj) {
  const Json* refs = at(obj, "metadata", "ownerReferences", nullptr);
  if (!refs || !refs->is_array()) return nullptr;
  for (const Json& r : *refs)
    if (r.is_object() && r.value("controller", false)) return &r;
  return nullptr;
}

Json makeControllerRef(const Json& owner, const std::string& apiVersion, const std::string& kind) {
  return Json{
      {"apiVersion", apiVersion}, {"kind", kind},       {"name", str(owner, "metadata", "name")},
      {"uid", uidOf(owner)},      {"controller", true}, {"blockOwnerDeletion", true}};
}

bool podIsActive(const Json& pod) {
  std::string phase = str(pod, "status", "phase");
  return phase != "Succeeded" && phase != "Failed" && !isDeleting(pod);
}

namespace {
const Json* readyCondition(const Json& pod) {
  const Json* conds = at(pod, "status", "conditions", nullptr);
  if (!conds || !conds->is_array()) return nullptr;
  for (const Json& c : *conds)
    if (c.is_object() && c.value("type", "") == "Ready") return &c;
  return nullptr;
}
}  // namespace

bool podIsReady(const Json& pod) {
  const Json* c = readyCondition(pod);
  return c && c->value("status", "") == "True";
}

bool podIsAvailable(const Json& pod, long long minReadySeconds, TimePoint now) {
  if (!podIsReady(pod)) return false;
  if (minReadySeconds <= 0) return true;
  const Json* c = readyCondition(pod);
  auto t = parseTime(c->value("lastTransitionTime", ""));
  if (!t) return true;
  return *t + std::chrono::seconds(minReadySeconds) <= now;
}

long long resolveIntOrPercent(const Json* value, long long total, bool roundUp) {
  if (!value || value->is_null()) value = nullptr;
  if (value && value->is_number_integer()) return value->get<long long>();
  std::string s = value && value->is_string() ? value->get<std::string>() : "25%";
  if (s.empty() || s.back() != '%') {
    try {
      return std::stoll(s);
    } catch (...) {
      return 0;
    }
  }
  long long pct = 0;
  try {
    pct = std::stoll(s.substr(0, s.size() - 1));
  } catch (...) {
    return 0;
  }
  long long scaled = pct * total;
  return roundUp ? (scaled + 99) / 100 : scaled / 100;
}

void stopInformers(const std::vector<client::Informer*>& informers) {
  std::vector<std::thread> threads;
  for (client::Informer* i : informers)
    if (i) threads.emplace_back([i] { i->stop(); });
  for (auto& t : threads) t.join();
}

}  // namespace skiff::controllers
