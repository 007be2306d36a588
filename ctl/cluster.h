// The components `skiff up` runs next to the API server, in one process: the
// controller manager, the scheduler, the service proxy with cluster DNS, and
// the kubelet (with its logs/exec server) — k3s' single binary, in small.
//
// They reach the API server only through the kubeconfig it wrote, exactly as
// when each runs alone (`skiff scheduler`, `skiff kubelet`, ...).
//
// Names in the kernel (bridge, nft table, runc root, cgroup parent, netns
// prefix) and address ranges come from the options; an --ephemeral cluster
// gets unique names (ClusterOptions::makeUnique) and the ranges of a slot no
// other running cluster holds (cluster_slot.h, ClusterOptions::useSlot), so
// several run side by side, none touches a long-lived cluster's objects and
// none answers another's ClusterIPs, DNS or LoadBalancer IPs. stop(teardown=true) removes
// every container, sandbox, the table and the bridge the cluster made;
// stop(false) leaves containers and rules running for the next `skiff up`,
// which re-adopts them.
//
// Not thread-safe: start and stop from one thread.
#pragma once

#include <chrono>
#include <memory>
#include <set>
#include <string>

#include "base/result.h"

namespace skiff::ctl {

struct ClusterOptions {
  std::string dataDir;
  std::string kubeconfig;
  // Components not to run: "controller-manager", "scheduler", "netproxy", "kubelet".
  std::set<std::string> disabled;
  std::string nodeName;  // "" = the host name
  std::string bridge = "skiff0";
  std::string podCidr = "10.244.0.0/24";  // the node's pods
  std::string bridgeAddress = "10.244.0.1/16";
  std::string nftTable = "skiff";
  std::string runcRoot = "/run/skiff/runc";
  std::string cgroupParent = "skiff";
  std::string netnsPrefix = "skiff-";
  // ClusterIPs (the API server allocates from it; `kubernetes` takes the .1).
  std::string serviceCidr = "10.96.0.0/12";
  // The kube-dns Service's ClusterIP, the nameserver in pods' resolv.conf.
  std::string clusterDns = "10.96.0.10";
  // LoadBalancer ingress IPs (the API server's pool).
  std::string loadBalancerCidr = "10.255.0.0/24";
  // What netproxy refuses when no Service took it ("" = serviceCidr,
  // loadBalancerCidr). A slot cluster refuses the ranges every slot lies in,
  // so a packet to any cluster's range is DNATed by that cluster or refused,
  // never routed out (when the other cluster is gone, too).
  std::string refusedServiceCidr;
  std::string refusedLoadBalancerCidr;
  int kubeletPort = 0;  // the logs/exec server on 127.0.0.1; 0 = any free port
  // A throwaway cluster: a failed start removes what it made in the kernel. A
  // lasting one never does (its pods from an earlier run keep running).
  bool ephemeral = false;

  // Unique kernel names (suffix `tag`), for a cluster that must not meet
  // another one: bridge, table, runc root, cgroup parent, netns prefix.
  void makeUnique(const std::string& tag);
};

// The tag of an ephemeral cluster's kernel names (makeUnique), from its data
// directory "skiff-XXXXXX": "xxxxxx".
std::string ephemeralTag(const std::string& dataDir);

struct SlotNetwork;
// What a cluster in slot `net` uses, field by field; `keep` names the options
// the user set and that stay as they are: "pod-cidr" (with the bridge
// address), "service-cidr", "cluster-dns", "lb-cidr". The refused ranges
// become 10.96.0.0/12 and 10.255.0.0/16.
void useSlot(ClusterOptions& options, const SlotNetwork& net, const std::set<std::string>& keep);

class LocalCluster {
 public:
  // Starts every component not disabled. Components that need root (kubelet,
  // netproxy) are skipped with a warning when not root. On error, what was
  // started is stopped again (and, for an ephemeral cluster, torn down).
  static Result<std::unique_ptr<LocalCluster>> start(const ClusterOptions& options);
  ~LocalCluster();

  // Waits until this node is Ready in the API (at once when no kubelet runs).
  Status waitNodeReady(std::chrono::milliseconds timeout);

  // Stops the components, in reverse order. teardown: also removes every
  // container, sandbox, the nft table and the bridge this cluster used.
  void stop(bool teardown);

  struct Impl;

 private:
  explicit LocalCluster(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace skiff::ctl
