#include "kubelet/ipam.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <memory>

#include "base/file.h"
#include "kubelet/images_util.h"
#include "kubelet/mounts.h"

namespace skiff::kubelet {

using images_detail::sysError;

Result<uint32_t> parseIpv4(const std::string& text) {
  struct in_addr a;
  if (text.empty() || ::inet_pton(AF_INET, text.c_str(), &a) != 1) {
    return makeError(Code::kBadRequest, "invalid IPv4 address \"" + text + "\"");
  }
  return ntohl(a.s_addr);
}

std::string formatIpv4(uint32_t address) {
  struct in_addr a;
  a.s_addr = htonl(address);
  char buf[INET_ADDRSTRLEN];
  ::inet_ntop(AF_INET, &a, buf, sizeof buf);
  return buf;
}

Result<Ipv4Prefix> parseIpv4Prefix(const std::string& text) {
  auto bad = [&] {
    return makeError(Code::kBadRequest, "invalid IPv4 prefix \"" + text + "\" (want a.b.c.d/n)");
  };
  auto slash = text.find('/');
  if (slash == std::string::npos) return bad();
  auto addr = parseIpv4(text.substr(0, slash));
  if (!addr) return bad();
  std::string len = text.substr(slash + 1);
  if (len.empty() || len.size() > 2 || len.find_first_not_of("0123456789") != std::string::npos) {
    return bad();
  }
  int n = std::stoi(len);
  if (n > 32) return bad();
  return Ipv4Prefix{*addr, n};
}

Result<std::unique_ptr<Ipam>> Ipam::open(const std::string& dir, const std::string& cidr,
                                         std::vector<std::string> reserved) {
  auto range = parseIpv4Prefix(cidr);
  if (!range) return range.error();
  if (range->length > 30) {
    return makeError(Code::kBadRequest, "pod range " + cidr + " has no room for pods");
  }
  std::vector<uint32_t> res;
  for (const auto& r : reserved) {
    auto a = parseIpv4(r);
    if (!a) return a.error();
    res.push_back(*a);
  }
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return sysError("mkdir", dir, errno);
  return std::unique_ptr<Ipam>(new Ipam(dir, *range, std::move(res)));
}

bool Ipam::usable(uint32_t a) const {
  if (!range_.contains(a) || a == range_.network() || a == range_.broadcast()) return false;
  for (uint32_t r : reserved_) {
    if (r == a) return false;
  }
  return true;
}

Result<std::map<std::string, std::string>> Ipam::leases() const {
  std::map<std::string, std::string> out;
  DIR* d = ::opendir(dir_.c_str());
  if (!d) return sysError("open", dir_, errno);
  std::unique_ptr<DIR, int (*)(DIR*)> closer(d, ::closedir);
  while (struct dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    auto a = parseIpv4(name);
    if (!a || !range_.contains(*a)) continue;
    auto owner = readWholeFile(dir_ + "/" + name, 4096);
    if (!owner) continue;  // released meanwhile
    std::string o = *owner;
    while (!o.empty() && (o.back() == '\n' || o.back() == ' ')) o.pop_back();
    out[name] = o;
  }
  return out;
}

Result<std::optional<std::string>> Ipam::leaseOf(const std::string& owner) const {
  auto all = leases();
  if (!all) return all.error();
  for (const auto& [ip, o] : *all) {
    if (o == owner) return std::optional<std::string>(ip);
  }
  return std::optional<std::string>();
}

Result<std::string> Ipam::allocate(const std::string& owner) {
  if (owner.empty() || owner.find('\n') != std::string::npos) {
    return makeError(Code::kBadRequest, "invalid lease owner \"" + owner + "\"");
  }
  std::lock_guard<std::mutex> lock(mu_);
  auto held = leaseOf(owner);
  if (!held) return held.error();
  if (*held) return **held;

  // Start after the last address handed out (host-local's round robin).
  uint32_t first = range_.network() + 1;
  uint32_t last = range_.broadcast() - 1;
  uint32_t start = first;
  if (auto text = readWholeFile(dir_ + "/last_reserved_ip", 64); text) {
    std::string t = *text;
    while (!t.empty() && t.back() == '\n') t.pop_back();
    if (auto a = parseIpv4(t); a && *a >= first && *a < last) start = *a + 1;
  }
  static std::atomic<uint64_t> seq{0};
  std::string tmp = dir_ + "/.lease-" + std::to_string(::getpid()) + "-" + std::to_string(++seq);
  if (auto s = replaceFile(tmp, owner + "\n"); !s) return s.error();
  struct Unlink {
    std::string p;
    ~Unlink() { ::unlink(p.c_str()); }
  } cleanup{tmp};
  uint64_t count = static_cast<uint64_t>(last) - first + 1;
  uint32_t a = start;
  for (uint64_t i = 0; i < count; ++i, a = (a == last ? first : a + 1)) {
    if (!usable(a)) continue;
    std::string name = formatIpv4(a);
    if (::link(tmp.c_str(), (dir_ + "/" + name).c_str()) == 0) {
      (void)replaceFile(dir_ + "/last_reserved_ip", name + "\n");
      return name;
    }
    if (errno != EEXIST) return sysError("link", dir_ + "/" + name, errno);
  }
  return makeError(Code::kUnavailable, "no free address in " + formatIpv4(range_.network()) + "/" +
                                           std::to_string(range_.length));
}

Status Ipam::release(const std::string& owner) {
  std::lock_guard<std::mutex> lock(mu_);
  auto all = leases();
  if (!all) return all.error();
  for (const auto& [ip, o] : *all) {
    if (o != owner) continue;
    if (::unlink((dir_ + "/" + ip).c_str()) != 0 && errno != ENOENT) {
      return sysError("unlink", dir_ + "/" + ip, errno);
    }
  }
  return {};
}

}  // namespace skiff::kubelet
