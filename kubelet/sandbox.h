// A pod's sandbox, the parts that are not containers: its network namespace
// and the files every container of the pod bind-mounts (/etc/hosts,
// /etc/resolv.conf, /etc/hostname).
//
// Network namespaces are made without `ip netns`: a short-lived helper thread
// unshare(CLONE_NEWNET)s and bind-mounts its /proc/thread-self/ns/net onto
// DIR/NAME (DIR = /run/netns, made a shared mount point as iproute2 does, so
// `ip netns exec` sees skiff's namespaces too). The bind mount keeps the
// namespace alive after the thread exits; removing it is umount + unlink.
// Work inside a namespace runs on another short-lived thread that setns()es
// into it (a thread's namespace is its own, so no other thread is disturbed).
//
// The file contents are pure functions (unit-tested); the kubelet's wording.
//
// Thread-safety: free functions; safe from any thread.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"

namespace skiff::kubelet {

// Creates DIR/NAME bound to a new, empty network namespace (only `lo`, down).
// kAlreadyExists when DIR/NAME is a namespace already.
Result<std::string> createNetns(const std::string& dir, const std::string& name);
// True when path is a bind-mounted network namespace.
bool isNetns(const std::string& path);
// Unmounts and removes the namespace file; success when it is not there.
Status removeNetns(const std::string& path);
// Runs fn on a new thread that has joined the namespace at path; returns fn's result.
Status inNetns(const std::string& path, const std::function<Status()>& fn);

// /etc/hosts of a pod with its own network: localhost lines, "IP\thostname",
// then the hostAliases (as the kubelet writes it).
std::string podHostsFile(
    const std::string& ip, const std::string& hostname,
    const std::vector<std::pair<std::string, std::vector<std::string>>>& hostAliases);
// /etc/hosts of a hostNetwork pod: the host's file, then the hostAliases.
std::string hostNetworkHostsFile(
    const std::string& hostHosts,
    const std::vector<std::pair<std::string, std::vector<std::string>>>& hostAliases);
// resolv.conf: "search ...", "nameserver ..." lines, "options ...". With no
// nameserver at all, `fallback` (the host's resolv.conf) is used unchanged.
std::string resolvConf(const std::vector<std::string>& servers,
                       const std::vector<std::string>& searches,
                       const std::vector<std::string>& options, const std::string& fallback);

}  // namespace skiff::kubelet
