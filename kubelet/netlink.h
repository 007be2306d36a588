// The few rtnetlink operations the pod network needs, over libnl-route-3: a
// bridge with an address, a veth pair whose pod end is born inside the pod's
// network namespace, and an interface's address, state and default route.
//
// Every function works in the network namespace of the calling thread (a
// netlink socket belongs to the namespace of the thread that opens it); use
// sandbox.h's inNetns() to act inside a pod. Operations are idempotent where
// the kernel lets them be: an address or route that exists already, or a link
// that is gone already, is success. Errors read `create veth veth1a2b: File
// exists`.
//
// Thread-safety: free functions, each with its own netlink socket.
#pragma once

#include <string>

#include "base/result.h"

namespace skiff::kubelet::netlink {

// The bridge `name`: created when missing, `addressCidr` ("10.244.0.1/16") added
// when missing, brought up.
Status ensureBridge(const std::string& name, const std::string& addressCidr);

// A veth pair: `hostName` in this namespace, enslaved to `bridge` and up;
// `peerName` created directly in the namespace behind `netnsFd` (so a pod end
// named eth0 never collides with the host's eth0). mtu 0 = the kernel's default.
Status createVeth(const std::string& hostName, const std::string& peerName, int netnsFd,
                  const std::string& bridge, int mtu);

// True when the link exists in this namespace.
Result<bool> linkExists(const std::string& name);
// The link's master's name ("" when none); kNotFound when the link is missing.
Result<std::string> linkMaster(const std::string& name);
// Deletes a link (for a veth, both ends); success when it does not exist.
Status deleteLink(const std::string& name);

Status setLinkUp(const std::string& name);
// Adds "a.b.c.d/n" to the interface; success when it is there already.
Status addAddress(const std::string& ifname, const std::string& addressCidr);
// Adds the IPv4 default route via gateway on ifname; success when present.
Status addDefaultRoute(const std::string& ifname, const std::string& gateway);

// Adds an `unreachable` route for cidr ("10.96.0.0/12") to the main table:
// what is addressed there and not rewritten first is refused, never routed
// out. Success when present.
Status addUnreachableRoute(const std::string& cidr);
// Points cidr at ifname (scope link) in routing table `table`, replacing
// ifname's own route of that prefix there; the route goes when the link goes.
// Another link's route of the same prefix stays beside it (each link's route
// has the link's index as its metric; the lowest serves): two clusters
// claiming one range (a default cluster and a netproxy run with the default
// --service-cidr) keep their routes, and one going leaves the other's.
Status replaceLinkRoute(const std::string& cidr, const std::string& ifname, int table);
// The policy rule `pref priority to cidr iif lo lookup table`: the host's own
// traffic to cidr (iif lo matches locally generated packets) consults `table`
// before the main table. Success when present.
Status addHostLookupRule(const std::string& cidr, int table, int priority);

}  // namespace skiff::kubelet::netlink
