// Helpers for netproxy's [root] tests: a throw-away network of namespaces and
// tiny TCP servers, all removed when the owner goes out of scope.
//
// Layout (names unique per process and instance; addresses exist only inside
// these namespaces, so nothing reaches the host's interfaces or the outside):
//
//   P (a "pod" client) 10.250.1.2 --veth-- 10.250.1.1  N (the "node": nft table)
//   S1 (endpoint)      10.250.2.2 --veth-- 10.250.2.1  N
//   S2 (endpoint)      10.250.3.2 --veth-- 10.250.3.1  N
//
// addBridgedPod() adds more "pods" the way a cluster wires them: a bridge in N
// (10.250.<subnet>.1/24) and a namespace behind a veth port of it (.2).
//
// P, S1 and S2 route everything via N; N forwards and routes 10.96.0.0/12 to a
// local veth so its own sockets can connect to ClusterIPs. Each S runs a server on
// port 8080 answering "<name> <client address>" to every connection.
#pragma once

#include <string>
#include <vector>

#include <sys/types.h>

namespace skiff::netproxy::testing {

struct CmdResult {
  int status = -1;  // exit status, -1 if it could not run
  std::string out;  // stdout and stderr
};
CmdResult run(const std::string& command);

class TestNetwork {
 public:
  TestNetwork();
  ~TestNetwork();
  TestNetwork(const TestNetwork&) = delete;
  TestNetwork& operator=(const TestNetwork&) = delete;

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }

  std::string node, pod, server1, server2;  // namespace names

  // Runs the client in namespace `ns`: `count` TCP connections to host:port, one
  // output line each: the server's answer, or "ERR <errno name> <milliseconds>".
  std::vector<std::string> connect(const std::string& ns, const std::string& host, int port,
                                   int count = 1);

  // A new namespace (returned; "" on failure, see error()) at 10.250.<subnet>.2
  // on a port of bridge `bridge` in N, created with 10.250.<subnet>.1/24 if
  // missing; it routes everything via the bridge's address.
  std::string addBridgedPod(const std::string& bridge, int subnet);

 private:
  void step(const std::string& command);
  pid_t startServer(const std::string& ns, const std::string& name);

  std::string error_;
  std::string dir_;   // temp dir with the client/server scripts
  std::string base_;  // the namespaces' common prefix
  std::vector<pid_t> servers_;
  std::vector<std::string> namespaces_;
};

// Moves the calling thread into a named network namespace; back on destruction.
class InNetns {
 public:
  explicit InNetns(const std::string& name);
  ~InNetns();
  bool ok() const { return ok_; }

 private:
  int original_ = -1;
  bool ok_ = false;
};

}  // namespace skiff::netproxy::testing
