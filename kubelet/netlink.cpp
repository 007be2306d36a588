#include "kubelet/netlink.h"

#include <fstream>

#include <linux/if.h>
#include <netlink/addr.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>
#include <netlink/route/rule.h>
#include <linux/fib_rules.h>

#include <memory>

namespace skiff::kubelet::netlink {

namespace {

struct SockDeleter {
  void operator()(nl_sock* s) const { nl_socket_free(s); }
};
struct LinkDeleter {
  void operator()(rtnl_link* l) const { rtnl_link_put(l); }
};
struct AddrDeleter {
  void operator()(rtnl_addr* a) const { rtnl_addr_put(a); }
};
struct NlAddrDeleter {
  void operator()(nl_addr* a) const { nl_addr_put(a); }
};
struct RouteDeleter {
  void operator()(rtnl_route* r) const { rtnl_route_put(r); }
};
using Sock = std::unique_ptr<nl_sock, SockDeleter>;
using Link = std::unique_ptr<rtnl_link, LinkDeleter>;
using Addr = std::unique_ptr<rtnl_addr, AddrDeleter>;
using NlAddr = std::unique_ptr<nl_addr, NlAddrDeleter>;
using Route = std::unique_ptr<rtnl_route, RouteDeleter>;
struct RuleDeleter {
  void operator()(rtnl_rule* r) const { rtnl_rule_put(r); }
};
using Rule = std::unique_ptr<rtnl_rule, RuleDeleter>;

// An IPv4 route to be added: table, scope and type set, protocol "boot".
Route newRoute(uint32_t table, uint8_t scope, uint8_t type) {
  Route r(rtnl_route_alloc());
  rtnl_route_set_family(r.get(), AF_INET);
  rtnl_route_set_table(r.get(), table);
  rtnl_route_set_protocol(r.get(), RTPROT_BOOT);
  rtnl_route_set_scope(r.get(), scope);
  rtnl_route_set_type(r.get(), type);
  return r;
}

// "a.b.c.d/n" as a netlink address; kBadRequest naming it otherwise.
Result<NlAddr> parseCidr(const std::string& cidr) {
  nl_addr* raw = nullptr;
  if (cidr.find('/') == std::string::npos || nl_addr_parse(cidr.c_str(), AF_INET, &raw) < 0)
    return makeError(Code::kBadRequest, "invalid IPv4 CIDR " + cidr);
  return NlAddr(raw);
}

Error nlError(const std::string& what, int err) {
  return makeError(Code::kInternal, what + ": " + nl_geterror(err < 0 ? -err : err));
}

Result<Sock> connect() {
  Sock s(nl_socket_alloc());
  if (!s) return makeError(Code::kInternal, "netlink: out of memory");
  if (int e = nl_connect(s.get(), NETLINK_ROUTE); e < 0) return nlError("netlink connect", e);
  return s;
}

bool isMissing(int e) {
  return e == -NLE_OBJ_NOTFOUND || e == -NLE_NODEV;
}

// The link, or nullptr when it does not exist.
Result<Link> getLink(nl_sock* s, const std::string& name, int ifindex = 0) {
  rtnl_link* l = nullptr;
  int e = rtnl_link_get_kernel(s, ifindex, ifindex ? nullptr : name.c_str(), &l);
  if (isMissing(e)) return Link();
  if (e < 0) return nlError("get link " + name, e);
  return Link(l);
}

Status up(nl_sock* s, rtnl_link* link, const std::string& name) {
  if (rtnl_link_get_flags(link) & IFF_UP) return {};
  Link change(rtnl_link_alloc());
  rtnl_link_set_flags(change.get(), IFF_UP);
  if (int e = rtnl_link_change(s, link, change.get(), 0); e < 0) {
    return nlError("set link " + name + " up", e);
  }
  return {};
}

Status addAddr(nl_sock* s, int ifindex, const std::string& ifname, const std::string& cidr) {
  auto local = parseCidr(cidr);
  if (!local) return local.error();
  Addr a(rtnl_addr_alloc());
  rtnl_addr_set_ifindex(a.get(), ifindex);
  rtnl_addr_set_family(a.get(), AF_INET);
  if (int e = rtnl_addr_set_local(a.get(), local->get()); e < 0) {
    return nlError("address " + cidr, e);
  }
  int e = rtnl_addr_add(s, a.get(), 0);
  if (e < 0 && e != -NLE_EXIST) return nlError("add address " + cidr + " to " + ifname, e);
  return {};
}

}  // namespace

Status ensureBridge(const std::string& name, const std::string& addressCidr) {
  auto s = connect();
  if (!s) return s.error();
  auto link = getLink(s->get(), name);
  if (!link) return link.error();
  if (!*link) {
    Link br(rtnl_link_bridge_alloc());
    rtnl_link_set_name(br.get(), name.c_str());
    int e = rtnl_link_add(s->get(), br.get(), NLM_F_CREATE | NLM_F_EXCL);
    if (e < 0 && e != -NLE_EXIST) return nlError("create bridge " + name, e);
    link = getLink(s->get(), name);
    if (!link) return link.error();
    if (!*link)
      return makeError(Code::kInternal, "create bridge " + name + ": gone after creation");
  }
  if (!rtnl_link_is_bridge(link->get())) {
    return makeError(Code::kInternal, "link " + name + " exists and is not a bridge");
  }
  if (auto st = addAddr(s->get(), rtnl_link_get_ifindex(link->get()), name, addressCidr); !st) {
    return st;
  }
  return up(s->get(), link->get(), name);
}

Status createVeth(const std::string& hostName, const std::string& peerName, int netnsFd,
                  const std::string& bridge, int mtu) {
  auto s = connect();
  if (!s) return s.error();
  auto br = getLink(s->get(), bridge);
  if (!br) return br.error();
  if (!*br) return makeError(Code::kNotFound, "bridge " + bridge + " does not exist");
  Link veth(rtnl_link_veth_alloc());
  if (!veth) return makeError(Code::kInternal, "netlink: out of memory");
  rtnl_link_set_name(veth.get(), hostName.c_str());
  rtnl_link_set_master(veth.get(), rtnl_link_get_ifindex(br->get()));
  rtnl_link_set_flags(veth.get(), IFF_UP);
  if (mtu > 0) rtnl_link_set_mtu(veth.get(), mtu);
  {
    Link peer(rtnl_link_veth_get_peer(veth.get()));
    rtnl_link_set_name(peer.get(), peerName.c_str());
    rtnl_link_set_ns_fd(peer.get(), netnsFd);  // (IFF_UP here makes the kernel refuse)
    if (mtu > 0) rtnl_link_set_mtu(peer.get(), mtu);
  }
  if (int e = rtnl_link_add(s->get(), veth.get(), NLM_F_CREATE | NLM_F_EXCL); e < 0) {
    return nlError("create veth " + hostName, e);
  }
  // Older kernels ignore IFF_UP and IFLA_MASTER on creation: make sure.
  auto made = getLink(s->get(), hostName);
  if (!made) return made.error();
  if (!*made)
    return makeError(Code::kInternal, "create veth " + hostName + ": gone after creation");
  if (rtnl_link_get_master(made->get()) != rtnl_link_get_ifindex(br->get())) {
    Link change(rtnl_link_alloc());
    rtnl_link_set_master(change.get(), rtnl_link_get_ifindex(br->get()));
    if (int e = rtnl_link_change(s->get(), made->get(), change.get(), 0); e < 0) {
      return nlError("attach " + hostName + " to " + bridge, e);
    }
  }
  if (auto u = up(s->get(), made->get(), hostName); !u) return u;
  // Hairpin: a pod reaching its own Service is DNATed back to itself; with
  // br_netfilter the bridge must then send the frame out the port it came in
  // on, which it refuses unless the port is in hairpin mode (as kubenet does).
  std::string hairpin = "/sys/class/net/" + hostName + "/brport/hairpin_mode";
  std::ofstream hp(hairpin);
  if (!(hp << "1\n") || !hp.flush())
    return makeError(Code::kInternal, "set hairpin mode on " + hostName + ": write " + hairpin);
  return Status();
}

Result<bool> linkExists(const std::string& name) {
  auto s = connect();
  if (!s) return s.error();
  auto link = getLink(s->get(), name);
  if (!link) return link.error();
  return static_cast<bool>(*link);
}

Result<std::string> linkMaster(const std::string& name) {
  auto s = connect();
  if (!s) return s.error();
  auto link = getLink(s->get(), name);
  if (!link) return link.error();
  if (!*link) return makeError(Code::kNotFound, "link " + name + " does not exist");
  int m = rtnl_link_get_master(link->get());
  if (m <= 0) return std::string();
  auto master = getLink(s->get(), "", m);
  if (!master) return master.error();
  if (!*master) return std::string();
  return std::string(rtnl_link_get_name(master->get()));
}

Status deleteLink(const std::string& name) {
  auto s = connect();
  if (!s) return s.error();
  Link l(rtnl_link_alloc());
  rtnl_link_set_name(l.get(), name.c_str());
  int e = rtnl_link_delete(s->get(), l.get());
  if (e < 0 && !isMissing(e)) return nlError("delete link " + name, e);
  return {};
}

Status setLinkUp(const std::string& name) {
  auto s = connect();
  if (!s) return s.error();
  auto link = getLink(s->get(), name);
  if (!link) return link.error();
  if (!*link) return makeError(Code::kNotFound, "link " + name + " does not exist");
  return up(s->get(), link->get(), name);
}

Status addAddress(const std::string& ifname, const std::string& addressCidr) {
  auto s = connect();
  if (!s) return s.error();
  auto link = getLink(s->get(), ifname);
  if (!link) return link.error();
  if (!*link) return makeError(Code::kNotFound, "link " + ifname + " does not exist");
  return addAddr(s->get(), rtnl_link_get_ifindex(link->get()), ifname, addressCidr);
}

Status addDefaultRoute(const std::string& ifname, const std::string& gateway) {
  auto s = connect();
  if (!s) return s.error();
  auto link = getLink(s->get(), ifname);
  if (!link) return link.error();
  if (!*link) return makeError(Code::kNotFound, "link " + ifname + " does not exist");
  auto dst = parseCidr("0.0.0.0/0");
  if (!dst) return dst.error();
  nl_addr* rawGw = nullptr;
  if (nl_addr_parse(gateway.c_str(), AF_INET, &rawGw) < 0) {
    return makeError(Code::kBadRequest, "invalid gateway " + gateway);
  }
  NlAddr gw(rawGw);
  Route r = newRoute(RT_TABLE_MAIN, RT_SCOPE_UNIVERSE, RTN_UNICAST);
  if (int e = rtnl_route_set_dst(r.get(), dst->get()); e < 0) return nlError("default route", e);
  rtnl_nexthop* nh = rtnl_route_nh_alloc();
  rtnl_route_nh_set_gateway(nh, gw.get());
  rtnl_route_nh_set_ifindex(nh, rtnl_link_get_ifindex(link->get()));
  rtnl_route_add_nexthop(r.get(), nh);  // the route owns nh now
  int e = rtnl_route_add(s->get(), r.get(), NLM_F_EXCL);
  if (e < 0 && e != -NLE_EXIST) return nlError("add default route via " + gateway, e);
  return {};
}

Status addUnreachableRoute(const std::string& cidr) {
  auto s = connect();
  if (!s) return s.error();
  auto dst = parseCidr(cidr);
  if (!dst) return dst.error();
  Route r = newRoute(RT_TABLE_MAIN, RT_SCOPE_UNIVERSE, RTN_UNREACHABLE);
  if (int e = rtnl_route_set_dst(r.get(), dst->get()); e < 0) return nlError("route " + cidr, e);
  int e = rtnl_route_add(s->get(), r.get(), NLM_F_EXCL);
  if (e < 0 && e != -NLE_EXIST) return nlError("add unreachable route " + cidr, e);
  return {};
}

Status replaceLinkRoute(const std::string& cidr, const std::string& ifname, int table) {
  auto s = connect();
  if (!s) return s.error();
  auto dst = parseCidr(cidr);
  if (!dst) return dst.error();
  auto link = getLink(s->get(), ifname);
  if (!link) return link.error();
  if (!*link) return makeError(Code::kNotFound, "link " + ifname + " does not exist");
  Route r = newRoute(static_cast<uint32_t>(table), RT_SCOPE_LINK, RTN_UNICAST);
  if (int e = rtnl_route_set_dst(r.get(), dst->get()); e < 0) return nlError("route " + cidr, e);
  const int ifindex = rtnl_link_get_ifindex(link->get());
  // The link's index as the metric: the replace then meets only this link's
  // own route of the prefix, never another link's.
  rtnl_route_set_priority(r.get(), static_cast<uint32_t>(ifindex));
  rtnl_nexthop* nh = rtnl_route_nh_alloc();
  rtnl_route_nh_set_ifindex(nh, ifindex);
  rtnl_route_add_nexthop(r.get(), nh);  // the route owns nh now
  if (int e = rtnl_route_add(s->get(), r.get(), NLM_F_REPLACE); e < 0)
    return nlError("route " + cidr + " dev " + ifname + " table " + std::to_string(table), e);
  return {};
}

Status addHostLookupRule(const std::string& cidr, int table, int priority) {
  auto s = connect();
  if (!s) return s.error();
  auto dst = parseCidr(cidr);
  if (!dst) return dst.error();
  Rule r(rtnl_rule_alloc());
  rtnl_rule_set_family(r.get(), AF_INET);
  rtnl_rule_set_prio(r.get(), static_cast<uint32_t>(priority));
  rtnl_rule_set_iif(r.get(), "lo");
  if (int e = rtnl_rule_set_dst(r.get(), dst->get()); e < 0) return nlError("rule " + cidr, e);
  rtnl_rule_set_table(r.get(), static_cast<uint32_t>(table));
  rtnl_rule_set_action(r.get(), FR_ACT_TO_TBL);
  // With NLM_F_EXCL the kernel refuses an identical rule (EEXIST) instead of
  // adding a second copy.
  int e = rtnl_rule_add(s->get(), r.get(), NLM_F_EXCL);
  if (e < 0 && e != -NLE_EXIST)
    return nlError("add rule to " + cidr + " iif lo lookup " + std::to_string(table), e);
  return {};
}

}  // namespace skiff::kubelet::netlink
