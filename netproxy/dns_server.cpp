#include "netproxy/dns_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>

#include <ldns/ldns.h>

#include "base/log.h"
#include "base/thread.h"
#include "netproxy/service_state.h"

namespace skiff::netproxy {
namespace {

struct PktDeleter {
  void operator()(ldns_pkt* p) const { ldns_pkt_free(p); }
};
using PktPtr = std::unique_ptr<ldns_pkt, PktDeleter>;

std::string toWire(const ldns_pkt* pkt) {
  uint8_t* wire = nullptr;
  size_t size = 0;
  if (ldns_pkt2wire(&wire, pkt, &size) != LDNS_STATUS_OK) return "";
  std::string out(reinterpret_cast<char*>(wire), size);
  free(wire);
  return out;
}

// Parses "IP" or "IP:PORT" (IPv4) into a sockaddr.
bool parseAddress(const std::string& text, int defaultPort, sockaddr_in& out) {
  std::string ip = text;
  int port = defaultPort;
  if (auto colon = text.rfind(':'); colon != std::string::npos) {
    ip = text.substr(0, colon);
    char* end = nullptr;
    long p = std::strtol(text.c_str() + colon + 1, &end, 10);
    if (!end || *end || p < 0 || p > 65535 || colon + 1 == text.size()) return false;
    port = static_cast<int>(p);
  }
  out = {};
  out.sin_family = AF_INET;
  out.sin_port = htons(static_cast<uint16_t>(port));
  return inet_pton(AF_INET, ip.c_str(), &out.sin_addr) == 1;
}

bool addRr(ldns_pkt* pkt, ldns_pkt_section section, const std::string& text) {
  ldns_rr* rr = nullptr;
  if (ldns_rr_new_frm_str(&rr, text.c_str(), 0, nullptr, nullptr) != LDNS_STATUS_OK) return false;
  ldns_pkt_push_rr(pkt, section, rr);
  return true;
}

std::string rrText(const DnsRecord& r, int ttl) {
  std::string head = r.name + ". " + std::to_string(ttl) + " IN ";
  switch (r.type) {
    case DnsType::kA:
      return head + "A " + r.target;
    case DnsType::kCname:
      return head + "CNAME " + r.target + ".";
    case DnsType::kPtr:
      return head + "PTR " + r.target + ".";
    case DnsType::kSrv:
      return head + "SRV " + std::to_string(r.priority) + " " + std::to_string(r.weight) + " " +
             std::to_string(r.port) + " " + r.target + ".";
  }
  return "";
}

// Reads exactly n bytes (TCP); false on EOF, error or timeout.
bool readFull(int fd, char* buf, size_t n) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = ::recv(fd, buf + got, n - got, 0);
    if (r <= 0) return false;
    got += static_cast<size_t>(r);
  }
  return true;
}

}  // namespace

std::vector<std::string> parseResolvConf(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    std::string key, value;
    words >> key >> value;
    if (key == "nameserver" && isIPv4(value)) out.push_back(value);
  }
  return out;
}

std::string answerQuery(const std::string& query, const DnsZone& zone, int ttl, bool* forward) {
  if (forward) *forward = false;
  ldns_pkt* raw = nullptr;
  if (ldns_wire2pkt(&raw, reinterpret_cast<const uint8_t*>(query.data()), query.size()) !=
      LDNS_STATUS_OK) {
    if (query.size() < 12) return "";
    // A header we can echo: FORMERR with the query's id.
    PktPtr resp(ldns_pkt_new());
    ldns_pkt_set_id(resp.get(), static_cast<uint16_t>((static_cast<unsigned char>(query[0]) << 8) |
                                                      static_cast<unsigned char>(query[1])));
    ldns_pkt_set_qr(resp.get(), true);
    ldns_pkt_set_rcode(resp.get(), LDNS_RCODE_FORMERR);
    return toWire(resp.get());
  }
  PktPtr q(raw);
  PktPtr resp(ldns_pkt_new());
  ldns_pkt_set_id(resp.get(), ldns_pkt_id(q.get()));
  ldns_pkt_set_qr(resp.get(), true);
  ldns_pkt_set_rd(resp.get(), ldns_pkt_rd(q.get()));
  ldns_pkt_set_ra(resp.get(), true);
  ldns_pkt_set_opcode(resp.get(), ldns_pkt_get_opcode(q.get()));
  ldns_rr_list* questions = ldns_pkt_question(q.get());
  if (ldns_pkt_get_opcode(q.get()) != LDNS_PACKET_QUERY) {
    ldns_pkt_set_rcode(resp.get(), LDNS_RCODE_NOTIMPL);
    return toWire(resp.get());
  }
  if (!questions || ldns_rr_list_rr_count(questions) != 1) {
    ldns_pkt_set_rcode(resp.get(), LDNS_RCODE_FORMERR);
    return toWire(resp.get());
  }
  ldns_rr* question = ldns_rr_list_rr(questions, 0);
  ldns_pkt_push_rr(resp.get(), LDNS_SECTION_QUESTION, ldns_rr_clone(question));
  char* owner = ldns_rdf2str(ldns_rr_owner(question));
  std::string name = owner ? owner : "";
  free(owner);
  ldns_rr_type qtype = ldns_rr_get_type(question);

  DnsType type = DnsType::kA;
  bool known = true;
  if (qtype == LDNS_RR_TYPE_A) {
    type = DnsType::kA;
  } else if (qtype == LDNS_RR_TYPE_SRV) {
    type = DnsType::kSrv;
  } else if (qtype == LDNS_RR_TYPE_CNAME) {
    type = DnsType::kCname;
  } else if (qtype == LDNS_RR_TYPE_PTR) {
    type = DnsType::kPtr;
  } else {
    known = false;  // AAAA, TXT, ...: names still exist or not, with no data
  }
  DnsLookup found = zone.lookup(name, type);
  if (found.result == DnsLookup::Result::kNotInZone) {
    if (forward) *forward = true;
    return "";
  }
  ldns_pkt_set_aa(resp.get(), true);
  if (!known && found.result == DnsLookup::Result::kAnswer) {
    // Only a CNAME answers any type; other types of an existing name: NODATA.
    bool cname = !found.records.empty() && found.records[0].type == DnsType::kCname;
    if (!cname) found.result = DnsLookup::Result::kNoData;
  }
  if (found.result == DnsLookup::Result::kAnswer) {
    for (const auto& r : found.records) addRr(resp.get(), LDNS_SECTION_ANSWER, rrText(r, ttl));
  } else {
    ldns_pkt_set_rcode(resp.get(), found.result == DnsLookup::Result::kNxDomain
                                       ? LDNS_RCODE_NXDOMAIN
                                       : LDNS_RCODE_NOERROR);
    const std::string& d = zone.domain();
    addRr(resp.get(), LDNS_SECTION_AUTHORITY,
          d + ". " + std::to_string(ttl) + " IN SOA ns.dns." + d + ". hostmaster." + d +
              ". 1 7200 1800 86400 " + std::to_string(ttl));
  }
  return toWire(resp.get());
}

DnsServer::DnsServer(DnsServerOptions options)
    : options_(std::move(options)), zone_(options_.domain) {}

DnsServer::~DnsServer() {
  stop();
}

Status DnsServer::start() {
  if (!threads_.empty()) return {};
  sockaddr_in addr{};
  if (!parseAddress(options_.listen, 53, addr))
    return makeError(Code::kInvalid, "dns listen address \"" + options_.listen +
                                         "\" is not IPv4 IP:PORT (e.g. 10.244.0.1:53)");
  upstreams_ = options_.upstreams;
  if (upstreams_.empty()) {
    std::ifstream in(options_.resolvConf);
    std::stringstream text;
    text << in.rdbuf();
    upstreams_ = parseResolvConf(text.str());
  }
  char ipText[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, &addr.sin_addr, ipText, sizeof ipText);
  address_ = ipText;
  // The TCP port must equal the UDP one; with port 0 a TCP clash can happen: retry.
  for (int attempt = 0; attempt < 20; ++attempt) {
    sockaddr_in a = addr;
    udp_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (udp_ < 0 || ::bind(udp_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      int e = errno;
      if (udp_ >= 0) ::close(udp_);
      udp_ = -1;
      return makeError(Code::kUnavailable,
                       "dns: bind udp " + options_.listen + ": " + std::strerror(e));
    }
    socklen_t len = sizeof a;
    getsockname(udp_, reinterpret_cast<sockaddr*>(&a), &len);
    tcp_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    setsockopt(tcp_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (tcp_ >= 0 && ::bind(tcp_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
        ::listen(tcp_, 64) == 0) {
      port_ = ntohs(a.sin_port);
      break;
    }
    int e = errno;
    if (tcp_ >= 0) ::close(tcp_);
    ::close(udp_);
    tcp_ = udp_ = -1;
    if (addr.sin_port != 0 || attempt == 19)
      return makeError(Code::kUnavailable,
                       "dns: bind tcp " + options_.listen + ": " + std::strerror(e));
  }
  stopping_ = false;
  threads_.emplace_back([this] { serveUdp(); });
  threads_.emplace_back([this] { serveTcp(); });
  for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { forwardLoop(); });
  std::string ups;
  for (const auto& u : upstreams_) ups += (ups.empty() ? "" : ",") + u;
  logInfo("dns serving", {{"address", address_ + ":" + std::to_string(port_)},
                          {"domain", options_.domain},
                          {"upstreams", ups}});
  return {};
}

void DnsServer::stop() {
  stopping_ = true;
  fwdCv_.notify_all();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
  if (udp_ >= 0) ::close(udp_);
  if (tcp_ >= 0) ::close(tcp_);
  udp_ = tcp_ = -1;
  std::lock_guard<std::mutex> lock(fwdMu_);
  forwards_.clear();
}

void DnsServer::setService(const std::string& key, std::vector<DnsRecord> records) {
  std::lock_guard<std::mutex> lock(zoneMu_);
  zone_.setService(key, std::move(records));
}

void DnsServer::clearServices() {
  std::lock_guard<std::mutex> lock(zoneMu_);
  zone_.clear();
}

std::string DnsServer::respond(const std::string& query,
                               std::function<void(const std::string&)> later) {
  bool forward = false;
  std::string out;
  {
    std::lock_guard<std::mutex> lock(zoneMu_);
    out = answerQuery(query, zone_, options_.ttlSeconds, &forward);
  }
  if (!forward) return out;
  if (later) {
    std::lock_guard<std::mutex> lock(fwdMu_);
    if (forwards_.size() < 256) {
      forwards_.push_back({query, std::move(later)});
      fwdCv_.notify_one();
    }
    return "";
  }
  return forwardNow(query);
}

std::string DnsServer::forwardNow(const std::string& query) {
  for (const auto& up : upstreams_) {
    sockaddr_in addr{};
    if (!parseAddress(up, 53, addr)) continue;
    int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    std::string answer;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
        ::send(fd, query.data(), query.size(), 0) == static_cast<ssize_t>(query.size())) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, options_.forwardTimeoutMillis) == 1) {
        char buf[65536];
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        // The same id as the query, or it is not our answer.
        if (n >= 12 && buf[0] == query[0] && buf[1] == query[1]) answer.assign(buf, n);
      }
    }
    ::close(fd);
    if (!answer.empty()) return answer;
  }
  // SERVFAIL with the query's header.
  ldns_pkt* raw = nullptr;
  if (ldns_wire2pkt(&raw, reinterpret_cast<const uint8_t*>(query.data()), query.size()) !=
      LDNS_STATUS_OK)
    return "";
  PktPtr q(raw);
  ldns_pkt_set_qr(q.get(), true);
  ldns_pkt_set_ra(q.get(), true);
  ldns_pkt_set_rcode(q.get(), LDNS_RCODE_SERVFAIL);
  return toWire(q.get());
}

void DnsServer::forwardLoop() {
  nameThisThread("dns-forward");
  while (true) {
    Forward job;
    {
      std::unique_lock<std::mutex> lock(fwdMu_);
      fwdCv_.wait(lock, [&] { return stopping_ || !forwards_.empty(); });
      if (stopping_) return;
      job = std::move(forwards_.front());
      forwards_.pop_front();
    }
    std::string answer = forwardNow(job.query);
    if (!answer.empty() && !stopping_) job.reply(answer);
  }
}

void DnsServer::serveUdp() {
  nameThisThread("dns-udp");
  char buf[65536];
  while (!stopping_) {
    pollfd p{udp_, POLLIN, 0};
    if (::poll(&p, 1, 200) != 1) continue;
    sockaddr_in from{};
    socklen_t len = sizeof from;
    ssize_t n = ::recvfrom(udp_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
    if (n <= 0) continue;
    int fd = udp_;
    auto reply = [fd, from](const std::string& answer) {
      ::sendto(fd, answer.data(), answer.size(), 0, reinterpret_cast<const sockaddr*>(&from),
               sizeof from);
    };
    std::string answer = respond(std::string(buf, static_cast<size_t>(n)), reply);
    if (!answer.empty()) reply(answer);
  }
}

void DnsServer::serveTcp() {
  nameThisThread("dns-tcp");
  while (!stopping_) {
    pollfd p{tcp_, POLLIN, 0};
    if (::poll(&p, 1, 200) != 1) continue;
    int conn = ::accept4(tcp_, nullptr, nullptr, SOCK_CLOEXEC);
    if (conn < 0) continue;
    timeval tv{2, 0};
    setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(conn, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    // Several queries may follow on one connection (RFC 7766).
    while (!stopping_) {
      unsigned char lenBuf[2];
      if (!readFull(conn, reinterpret_cast<char*>(lenBuf), 2)) break;
      size_t len = (static_cast<size_t>(lenBuf[0]) << 8) | lenBuf[1];
      std::string query(len, '\0');
      if (len == 0 || !readFull(conn, query.data(), len)) break;
      std::string answer = respond(query, nullptr);
      if (answer.empty()) break;
      std::string framed;
      framed.push_back(static_cast<char>(answer.size() >> 8));
      framed.push_back(static_cast<char>(answer.size() & 0xff));
      framed += answer;
      if (::send(conn, framed.data(), framed.size(), MSG_NOSIGNAL) !=
          static_cast<ssize_t>(framed.size()))
        break;
    }
    ::close(conn);
  }
}

}  // namespace skiff::netproxy
