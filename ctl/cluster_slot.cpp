#include "ctl/cluster_slot.h"

#include <fcntl.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

namespace skiff::ctl {

std::string defaultSlotDir() {
  if (::geteuid() == 0) return "/run/skiff/slots";
  const char* tmp = std::getenv("TMPDIR");
  return std::string(tmp && *tmp ? tmp : "/tmp") + "/skiff-slots-" + std::to_string(::getuid());
}

SlotNetwork slotNetwork(int slot) {
  const std::string n = std::to_string(slot);
  SlotNetwork net;
  net.podCidr = "10.244." + n + ".0/24";
  net.bridgeAddress = "10.244." + n + ".1/24";
  // 10.96.0.0 + slot * 4096: the second octet steps every 16 slots.
  const std::string prefix =
      "10." + std::to_string(96 + slot / 16) + "." + std::to_string((slot % 16) * 16) + ".";
  net.serviceCidr = prefix + "0/20";
  net.clusterDns = prefix + "10";
  net.loadBalancerCidr = "10.255." + n + ".0/24";
  return net;
}

Result<SlotClaim> SlotClaim::claim(const std::string& dir, const std::function<bool(int)>& usable,
                                   int first, int last) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return makeError(Code::kInternal, "create " + dir + ": " + ec.message());
  for (int n = first; n <= last; ++n) {
    const std::string path = dir + "/" + std::to_string(n) + ".lock";
    // A few tries per slot: each failure means another claimer unlinked the
    // file between our open and our lock, and the slot may be free again.
    for (int attempt = 0; attempt < 3; ++attempt) {
      int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
      if (fd < 0) return makeError(Code::kInternal, "open " + path + ": " + std::strerror(errno));
      if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int err = errno;
        ::close(fd);
        if (err == EWOULDBLOCK) break;  // held: the next slot
        return makeError(Code::kInternal, "lock " + path + ": " + std::strerror(err));
      }
      struct stat held = {};
      struct stat named = {};
      if (::fstat(fd, &held) != 0 || ::stat(path.c_str(), &named) != 0 ||
          held.st_ino != named.st_ino || held.st_dev != named.st_dev) {
        ::close(fd);  // we locked a file its holder had just unlinked
        continue;
      }
      SlotClaim c;
      c.fd_ = fd;
      c.slot_ = n;
      c.path_ = path;
      if (usable && !usable(n)) {
        c.release();
        break;
      }
      // Who holds it, for a person looking at the directory.
      std::string pid = std::to_string(::getpid()) + "\n";
      if (::ftruncate(fd, 0) == 0) (void)!::pwrite(fd, pid.data(), pid.size(), 0);
      return c;
    }
  }
  return makeError(Code::kUnavailable, "no free cluster slot in " + dir + " (" +
                                           std::to_string(last - first + 1) +
                                           " clusters running?)");
}

SlotClaim::SlotClaim(SlotClaim&& other) noexcept
    : fd_(other.fd_), slot_(other.slot_), path_(std::move(other.path_)) {
  other.fd_ = -1;
  other.slot_ = 0;
}

SlotClaim& SlotClaim::operator=(SlotClaim&& other) noexcept {
  if (this != &other) {
    release();
    fd_ = other.fd_;
    slot_ = other.slot_;
    path_ = std::move(other.path_);
    other.fd_ = -1;
    other.slot_ = 0;
  }
  return *this;
}

SlotClaim::~SlotClaim() {
  release();
}

void SlotClaim::release() {
  if (fd_ < 0) return;
  // Unlink while still locked (see the header), then drop the lock.
  ::unlink(path_.c_str());
  ::close(fd_);
  fd_ = -1;
  slot_ = 0;
}

bool podSubnetInUse(int slot) {
  struct ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return false;
  const uint32_t net = (10u << 24) | (244u << 16) | (static_cast<uint32_t>(slot) << 8);
  bool used = false;
  for (auto* a = list; a && !used; a = a->ifa_next) {
    if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET) continue;
    uint32_t ip = ntohl(reinterpret_cast<const sockaddr_in*>(a->ifa_addr)->sin_addr.s_addr);
    used = (ip & 0xffffff00u) == net;
  }
  ::freeifaddrs(list);
  return used;
}

}  // namespace skiff::ctl
