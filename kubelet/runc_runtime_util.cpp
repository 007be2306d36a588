#include "kubelet/runc_runtime_util.h"

#include <sys/stat.h>

#include <sstream>

#include "base/file.h"
#include "kubelet/mounts.h"

namespace skiff::kubelet::runtime_detail {

bool validPodUid(const std::string& uid) {
  if (uid.empty() || uid.size() > 128) return false;
  for (char c : uid) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
  }
  return true;
}

bool validContainerName(const std::string& name) {
  if (name.empty() || name.size() > 63) return false;
  for (char c : name) {
    if (!(std::islower(static_cast<unsigned char>(c)) ||
          std::isdigit(static_cast<unsigned char>(c)) || c == '-')) {
      return false;
    }
  }
  return name.front() != '-' && name.back() != '-';
}

Result<ContainerPaths> containerPaths(const std::string& podsDir, const std::string& id) {
  auto bad = [&] {
    return makeError(Code::kBadRequest,
                     "invalid container id \"" + id + "\" (want <podUid>_<name>_<attempt>)");
  };
  auto a = id.find('_');
  auto b = id.rfind('_');
  if (a == std::string::npos || a == b) return bad();
  ContainerPaths p;
  p.podUid = id.substr(0, a);
  p.name = id.substr(a + 1, b - a - 1);
  std::string attempt = id.substr(b + 1);
  if (!validPodUid(p.podUid) || !validContainerName(p.name) || attempt.empty() ||
      attempt.size() > 9 || attempt.find_first_not_of("0123456789") != std::string::npos) {
    return bad();
  }
  p.attempt = std::stoi(attempt);
  p.pod = podsDir + "/" + p.podUid;
  p.dir = p.pod + "/containers/" + id;
  p.rootfs = p.dir + "/rootfs";
  p.upper = p.dir + "/upper";
  p.work = p.dir + "/work";
  p.config = p.dir + "/config.json";
  p.meta = p.dir + "/meta.json";
  p.pidfile = p.dir + "/pidfile";
  p.conmonPidfile = p.dir + "/conmon.pid";
  p.exitDir = p.pod + "/exits";
  p.exitFile = p.exitDir + "/" + id;
  p.logDir = p.pod + "/logs/" + p.name;
  p.log = p.logDir + "/" + attempt + ".log";
  return p;
}

int64_t toNanos(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

std::chrono::system_clock::time_point fromNanos(int64_t ns) {
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::nanoseconds(ns)));
}

std::string processStartTime(pid_t pid) {
  if (pid <= 0) return "";
  auto text = readWholeFile("/proc/" + std::to_string(pid) + "/stat", kSmallFileLimit);
  if (!text) return "";
  auto close = text->rfind(')');
  if (close == std::string::npos) return "";
  std::istringstream in(text->substr(close + 2));
  std::string field;
  // Fields after "(comm)" start at 3 (state); starttime is field 22.
  for (int i = 3; i <= 22; ++i) {
    if (!(in >> field)) return "";
  }
  return field;
}

bool processAlive(pid_t pid, const std::string& startTime) {
  if (pid <= 0 || startTime.empty()) return false;
  return processStartTime(pid) == startTime;
}

std::string memoryCgroupDir(pid_t pid) {
  auto text = readWholeFile("/proc/" + std::to_string(pid) + "/cgroup", kSmallFileLimit);
  if (!text) return "";
  std::istringstream in(*text);
  std::string line, v2;
  while (std::getline(in, line)) {
    auto a = line.find(':');
    auto b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    std::string controllers = line.substr(a + 1, b - a - 1);
    std::string path = line.substr(b + 1);
    std::istringstream cs(controllers);
    std::string c;
    while (std::getline(cs, c, ',')) {
      if (c == "memory") return "/sys/fs/cgroup/memory" + path;
    }
    if (controllers.empty()) v2 = "/sys/fs/cgroup" + path;
  }
  struct stat st;
  if (!v2.empty() && ::stat((v2 + "/memory.events").c_str(), &st) == 0) return v2;
  return "";
}

int64_t oomKillCount(const std::string& dir) {
  if (dir.empty()) return -1;
  for (const char* file : {"/memory.oom_control", "/memory.events"}) {
    auto text = readWholeFile(dir + file, kSmallFileLimit);
    if (!text) continue;
    std::istringstream in(*text);
    std::string key;
    int64_t value;
    while (in >> key >> value) {
      if (key == "oom_kill") return value;
    }
  }
  return -1;
}

std::string runcErrorMessage(const std::string& output) {
  // runc logs `time="..." level=error msg="runc create failed: ... \"x\" ..."`;
  // the last error line says why (warnings come before it).
  auto msgOf = [](const std::string& line) -> std::string {
    auto pos = line.find("msg=\"");
    if (pos == std::string::npos) return "";
    std::string msg;
    for (size_t i = pos + 5; i < line.size() && line[i] != '"'; ++i) {
      if (line[i] == '\\' && i + 1 < line.size()) {
        ++i;
        msg += line[i] == 'n' ? '\n' : line[i] == 't' ? '\t' : line[i];
      } else {
        msg += line[i];
      }
    }
    return msg;
  };
  std::istringstream in(output);
  std::string line, error, any;
  while (std::getline(in, line)) {
    std::string m = msgOf(line);
    if (m.empty()) continue;
    any = m;
    if (line.find("level=error") != std::string::npos) error = m;
  }
  if (!error.empty()) return error;
  if (!any.empty()) return any;
  std::string t = output;
  while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.pop_back();
  size_t first = t.find_first_not_of(" \t\n");
  return first == std::string::npos ? "" : t.substr(first);
}

Result<api::Json> readMeta(const std::string& path) {
  auto text = readWholeFile(path, kSmallFileLimit);
  if (!text) return text.error();
  auto j = api::parseJson(*text);
  if (!j || !j->is_object()) return makeError(Code::kInternal, path + " is corrupt");
  return j;
}

Status writeMeta(const std::string& path, const api::Json& meta) {
  return replaceFile(path, meta.dump() + "\n");
}

}  // namespace skiff::kubelet::runtime_detail
