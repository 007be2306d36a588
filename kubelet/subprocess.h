// Running helper programs (runc, conmon) from a multi-threaded process.
//
// spawn() vforks and execs argv[0] (an absolute path) with exactly the given
// environment and file descriptors: stdin from /dev/null unless given, stdout
// and stderr to the given fds (or /dev/null), `extraFds` moved to 3, 4, ... in
// order, every other descriptor closed, signal mask and dispositions reset. The
// child calls only async-signal-safe functions between fork and exec, so it is
// safe whatever the other threads hold.
//
// run() is spawn + collect stdout and stderr (interleaved, up to a limit) +
// wait, with a timeout after which the child is killed (SIGKILL).
//
// Thread-safety: free functions; safe from any thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "base/result.h"

namespace skiff::kubelet {

struct SpawnOptions {
  std::vector<std::string> env;  // "KEY=value"; empty = PATH only
  int stdinFd = -1;              // -1: /dev/null
  int stdoutFd = -1;             // -1: /dev/null
  int stderrFd = -1;             // -1: /dev/null; may equal stdoutFd
  std::vector<int> extraFds;     // become fds 3, 4, ... in the child
  bool newSession = false;       // setsid() in the child
  std::string cwd;               // "" = the caller's
};

// Starts the program; returns its pid. kInternal when fork fails; a failed
// exec makes the child exit 127.
Result<pid_t> spawn(const std::vector<std::string>& argv, const SpawnOptions& options = {});

// Waits for pid; returns the raw wait status. With a timeout, kTimeout when it
// has not exited by then (the child is left alone).
Result<int> waitChild(pid_t pid);
Result<int> waitChild(pid_t pid, std::chrono::milliseconds timeout);

struct RunResult {
  int status = -1;     // exit code, or 128 + signal
  std::string output;  // stdout and stderr, interleaved, cut at the limit
  bool timedOut = false;
};

// Runs argv to completion. Output past maxOutput bytes is read and dropped.
// At the timeout, onTimeout (if set) runs first, then the child gets SIGKILL.
Result<RunResult> runCommand(const std::vector<std::string>& argv,
                             std::chrono::milliseconds timeout, size_t maxOutput = 1 << 20,
                             const std::function<void()>& onTimeout = nullptr);

// Exit code from a wait status: WEXITSTATUS, or 128 + the signal.
int exitCodeOf(int waitStatus);

}  // namespace skiff::kubelet
