#include "netproxy/nftnl_batch.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

namespace skiff::netproxy {
namespace {

constexpr size_t kElementsPerMessage = 500;

struct SocketCloser {
  void operator()(mnl_socket* s) const { mnl_socket_close(s); }
};
using Socket = std::unique_ptr<mnl_socket, SocketCloser>;
struct SetFree {
  void operator()(nftnl_set* s) const { nftnl_set_free(s); }
};
using SetPtr = std::unique_ptr<nftnl_set, SetFree>;

Result<Socket> openSocket(int bufferBytes) {
  Socket nl(mnl_socket_open(NETLINK_NETFILTER));
  if (!nl || mnl_socket_bind(nl.get(), 0, MNL_SOCKET_AUTOPID) < 0) {
    return makeError(Code::kInternal, std::string("netlink socket: ") + std::strerror(errno));
  }
  // The whole batch is one sendmsg; the kernel refuses it beyond the send buffer.
  setsockopt(mnl_socket_get_fd(nl.get()), SOL_SOCKET, SO_SNDBUFFORCE, &bufferBytes,
             sizeof bufferBytes);
  int rcv = 4 << 20;
  setsockopt(mnl_socket_get_fd(nl.get()), SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof rcv);
  return nl;
}

// Appends one component of a key or value in register layout.
bool putComponent(std::string& out, const std::string& text, bool slot) {
  char reg[4] = {0, 0, 0, 0};
  in_addr a;
  if (text == "tcp" || text == "udp" || text == "sctp") {
    reg[0] = static_cast<char>(text == "tcp"   ? IPPROTO_TCP
                               : text == "udp" ? IPPROTO_UDP
                                               : IPPROTO_SCTP);
  } else if (inet_pton(AF_INET, text.c_str(), &a) == 1) {
    std::memcpy(reg, &a, 4);
  } else {
    if (text.empty() || text.size() > 10 ||
        text.find_first_not_of("0123456789") != std::string::npos) {
      return false;
    }
    unsigned long v = std::stoul(text);
    if (slot) {
      uint32_t h = static_cast<uint32_t>(v);  // numgen result: host byte order
      std::memcpy(reg, &h, 4);
    } else {
      if (v > 65535) return false;
      uint16_t n = htons(static_cast<uint16_t>(v));
      std::memcpy(reg, &n, 2);
    }
  }
  out.append(reg, 4);
  return true;
}

bool encode(const std::string& text, bool lastIsSlot, std::string& out) {
  out.clear();
  size_t start = 0;
  while (true) {
    size_t dot = text.find(" . ", start);
    bool last = dot == std::string::npos;
    if (!putComponent(out, text.substr(start, last ? std::string::npos : dot - start),
                      lastIsSlot && last)) {
      return false;
    }
    if (last) return true;
    start = dot + 3;
  }
}

// A key whose last component is a CIDR ("10.255.0.1 . tcp . 80 . 10.0.0.0/8", an
// interval set's element): `from` and `to` get the key of its first and last
// address. False when the key has no CIDR or does not encode.
bool encodeRange(const std::string& text, std::string& from, std::string& to) {
  size_t dot = text.rfind(" . ");
  size_t slash = text.rfind('/');
  if (slash == std::string::npos || (dot != std::string::npos && slash < dot)) return false;
  std::string head = dot == std::string::npos ? "" : text.substr(0, dot);
  const size_t ipStart = dot == std::string::npos ? 0 : dot + 3;
  std::string ip = text.substr(ipStart, slash - ipStart);
  std::string len = text.substr(slash + 1);
  in_addr a{};
  if (inet_pton(AF_INET, ip.c_str(), &a) != 1 || len.empty() || len.size() > 2 ||
      len.find_first_not_of("0123456789") != std::string::npos || std::stoi(len) > 32)
    return false;
  int bits = std::stoi(len);
  uint32_t host = bits == 32 ? 0 : ~uint32_t{0} >> bits;
  uint32_t first = ntohl(a.s_addr) & ~host, last = first | host;
  if (!head.empty() && !encode(head, false, from)) return false;
  if (head.empty()) from.clear();
  to = from;
  uint32_t f = htonl(first), l = htonl(last);
  from.append(reinterpret_cast<const char*>(&f), 4);
  to.append(reinterpret_cast<const char*>(&l), 4);
  return true;
}

SetPtr newSet(const std::string& table, const std::string& name) {
  SetPtr s(nftnl_set_alloc());
  nftnl_set_set_str(s.get(), NFTNL_SET_TABLE, table.c_str());
  nftnl_set_set_str(s.get(), NFTNL_SET_NAME, name.c_str());
  return s;
}

int collectSetName(const nlmsghdr* nlh, void* data) {
  SetPtr s(nftnl_set_alloc());
  if (nftnl_set_nlmsg_parse(nlh, s.get()) == 0) {
    static_cast<std::set<std::string>*>(data)->insert(nftnl_set_get_str(s.get(), NFTNL_SET_NAME));
  }
  return MNL_CB_OK;
}

}  // namespace

Result<std::set<std::string>> listSetNames(const std::string& table) {
  auto nl = openSocket(1 << 20);
  if (!nl.ok()) return nl.error();
  std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE * 4);
  uint32_t seq = 1;
  nlmsghdr* nlh =
      nftnl_nlmsg_build_hdr(buf.data(), NFT_MSG_GETSET, NFPROTO_IPV4, NLM_F_DUMP | NLM_F_ACK, seq);
  SetPtr filter(nftnl_set_alloc());
  nftnl_set_set_str(filter.get(), NFTNL_SET_TABLE, table.c_str());
  nftnl_set_nlmsg_build_payload(nlh, filter.get());
  if (mnl_socket_sendto(nl->get(), nlh, nlh->nlmsg_len) < 0) {
    return makeError(Code::kInternal, std::string("list sets: ") + std::strerror(errno));
  }
  std::set<std::string> names;
  uint32_t portid = mnl_socket_get_portid(nl->get());
  while (true) {
    ssize_t n = mnl_socket_recvfrom(nl->get(), buf.data(), buf.size());
    if (n < 0) return makeError(Code::kInternal, std::string("list sets: ") + std::strerror(errno));
    int rc = mnl_cb_run(buf.data(), n, seq, portid, collectSetName, &names);
    if (rc < 0) {
      if (errno == ENOENT) return makeError(Code::kNotFound, "table ip " + table + " not found");
      return makeError(Code::kInternal, std::string("list sets: ") + std::strerror(errno));
    }
    if (rc == MNL_CB_STOP) break;
  }
  return names;
}

namespace {

int countRule(const nlmsghdr* nlh, void* data) {
  auto* counts = static_cast<std::map<std::string, int>*>(data);
  nftnl_rule* r = nftnl_rule_alloc();
  if (r && nftnl_rule_nlmsg_parse(nlh, r) == 0) {
    const char* chain = nftnl_rule_get_str(r, NFTNL_RULE_CHAIN);
    if (chain) ++(*counts)[chain];
  }
  if (r) nftnl_rule_free(r);
  return MNL_CB_OK;
}

}  // namespace

Result<std::map<std::string, int>> listRuleCounts(const std::string& table) {
  auto nl = openSocket(1 << 20);
  if (!nl.ok()) return nl.error();
  std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE * 4);
  uint32_t seq = 1;
  nlmsghdr* nlh =
      nftnl_nlmsg_build_hdr(buf.data(), NFT_MSG_GETRULE, NFPROTO_IPV4, NLM_F_DUMP | NLM_F_ACK, seq);
  nftnl_rule* filter = nftnl_rule_alloc();
  nftnl_rule_set_str(filter, NFTNL_RULE_TABLE, table.c_str());
  nftnl_rule_nlmsg_build_payload(nlh, filter);
  nftnl_rule_free(filter);
  if (mnl_socket_sendto(nl->get(), nlh, nlh->nlmsg_len) < 0) {
    return makeError(Code::kInternal, std::string("list rules: ") + std::strerror(errno));
  }
  std::map<std::string, int> counts;
  uint32_t portid = mnl_socket_get_portid(nl->get());
  while (true) {
    ssize_t n = mnl_socket_recvfrom(nl->get(), buf.data(), buf.size());
    if (n < 0)
      return makeError(Code::kInternal, std::string("list rules: ") + std::strerror(errno));
    int rc = mnl_cb_run(buf.data(), n, seq, portid, countRule, &counts);
    if (rc < 0) {
      if (errno == ENOENT) return makeError(Code::kNotFound, "table ip " + table + " not found");
      return makeError(Code::kInternal, std::string("list rules: ") + std::strerror(errno));
    }
    if (rc == MNL_CB_STOP) break;
  }
  return counts;
}

Status refillSets(const std::string& table, const std::set<std::string>& flush,
                  const ElementsBySet& elements) {
  // Size the batch: ~100 bytes per element is ample (keys <= 16 bytes, values 8
  // bytes or a chain name), plus headers.
  size_t count = 0;
  for (const auto& [name, elems] : elements) count += elems.size();
  std::vector<char> buf(count * 128 + (flush.size() + elements.size()) * 1024 + (1 << 16));
  mnl_nlmsg_batch* batch = mnl_nlmsg_batch_start(buf.data(), buf.size());
  auto cur = [&] { return static_cast<char*>(mnl_nlmsg_batch_current(batch)); };
  uint32_t seq = 1;
  nftnl_batch_begin(cur(), seq++);
  mnl_nlmsg_batch_next(batch);
  const uint32_t first = seq;
  for (const auto& name : flush) {
    SetPtr s = newSet(table, name);
    nlmsghdr* nlh =
        nftnl_nlmsg_build_hdr(cur(), NFT_MSG_DELSETELEM, NFPROTO_IPV4, NLM_F_ACK, seq++);
    nftnl_set_elems_nlmsg_build_payload(nlh, s.get());
    mnl_nlmsg_batch_next(batch);
  }
  std::string key, keyEnd, data;
  for (const auto& [name, elems] : elements) {
    const bool slotted = name.rfind("ep_", 0) == 0 || name.rfind("npep_", 0) == 0;
    for (size_t i = 0; i < elems.size(); i += kElementsPerMessage) {
      SetPtr s = newSet(table, name);
      for (size_t j = i; j < std::min(elems.size(), i + kElementsPerMessage); ++j) {
        const auto& [k, v] = elems[j];
        const bool range = k.find('/') != std::string::npos;
        if (range ? !encodeRange(k, key, keyEnd) : !encode(k, slotted, key)) {
          mnl_nlmsg_batch_stop(batch);
          return makeError(Code::kInternal, "refill " + name + ": cannot encode key " + k);
        }
        nftnl_set_elem* e = nftnl_set_elem_alloc();
        nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key.data(), key.size());
        if (range) nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY_END, keyEnd.data(), keyEnd.size());
        if (v.rfind("goto ", 0) == 0) {
          nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_VERDICT, static_cast<uint32_t>(NFT_GOTO));
          nftnl_set_elem_set_str(e, NFTNL_SET_ELEM_CHAIN, v.substr(5).c_str());
        } else if (!v.empty()) {
          if (!encode(v, false, data)) {
            nftnl_set_elem_free(e);
            mnl_nlmsg_batch_stop(batch);
            return makeError(Code::kInternal, "refill " + name + ": cannot encode value " + v);
          }
          nftnl_set_elem_set(e, NFTNL_SET_ELEM_DATA, data.data(), data.size());
        }
        nftnl_set_elem_add(s.get(), e);
      }
      nlmsghdr* nlh = nftnl_nlmsg_build_hdr(cur(), NFT_MSG_NEWSETELEM, NFPROTO_IPV4,
                                            NLM_F_CREATE | NLM_F_ACK, seq++);
      nftnl_set_elems_nlmsg_build_payload(nlh, s.get());
      mnl_nlmsg_batch_next(batch);
    }
  }
  const uint32_t last = seq - 1;
  nftnl_batch_end(cur(), seq++);
  mnl_nlmsg_batch_next(batch);
  const size_t size = mnl_nlmsg_batch_size(batch);
  std::vector<char> head(static_cast<char*>(mnl_nlmsg_batch_head(batch)),
                         static_cast<char*>(mnl_nlmsg_batch_head(batch)) + size);
  mnl_nlmsg_batch_stop(batch);

  auto nl = openSocket(static_cast<int>(size) + 65536);
  if (!nl.ok()) return nl.error();
  if (mnl_socket_sendto(nl->get(), head.data(), size) < 0) {
    return makeError(Code::kInternal, std::string("refill: send: ") + std::strerror(errno));
  }
  // Every message asked for an ACK; an error in any aborts the whole batch.
  std::vector<char> rbuf(MNL_SOCKET_BUFFER_SIZE * 4);
  uint32_t acked = 0;
  const uint32_t need = last >= first ? last - first + 1 : 0;
  std::string error;
  while (acked < need) {
    ssize_t n = mnl_socket_recvfrom(nl->get(), rbuf.data(), rbuf.size());
    if (n < 0)
      return makeError(Code::kInternal, std::string("refill: receive: ") + std::strerror(errno));
    int len = static_cast<int>(n);
    for (auto* h = reinterpret_cast<nlmsghdr*>(rbuf.data()); mnl_nlmsg_ok(h, len);
         h = mnl_nlmsg_next(h, &len)) {
      if (h->nlmsg_type != NLMSG_ERROR) continue;
      ++acked;
      auto* e = static_cast<nlmsgerr*>(mnl_nlmsg_get_payload(h));
      if (e->error != 0 && error.empty()) {
        error = std::string(std::strerror(-e->error)) + " (message " +
                std::to_string(h->nlmsg_seq) + ")";
      }
    }
    if (!error.empty()) break;  // the kernel aborted the batch; no more ACKs follow
  }
  if (!error.empty()) return makeError(Code::kInternal, "refill table ip " + table + ": " + error);
  return {};
}

}  // namespace skiff::netproxy
