#include "kubelet/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace skiff::kubelet {

namespace {

Error sysErr(const std::string& what, int err) {
  return makeError(Code::kInternal, what + ": " + std::strerror(err));
}

int pidfdOpen(pid_t pid) {
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
}

// In the child, between vfork and exec: async-signal-safe calls only, no
// allocation, nothing written but this frame's locals (the memory is the
// parent's).
[[noreturn]] void execChild(char* const* argv, char* const* envp, const SpawnOptions& o,
                            int devNull) {
  // Move every fd we hand over above the range we assign, so dup2 into
  // 0..2+extra never clobbers a source that is still needed.
  int n = static_cast<int>(o.extraFds.size());
  int base = 3 + n + 16;
  int srcs[3 + 64];
  int want[3] = {o.stdinFd < 0 ? devNull : o.stdinFd, o.stdoutFd < 0 ? devNull : o.stdoutFd,
                 o.stderrFd < 0 ? devNull : o.stderrFd};
  for (int i = 0; i < 3; ++i) {
    srcs[i] = ::fcntl(want[i], F_DUPFD, base);
    if (srcs[i] < 0) ::_exit(127);
  }
  for (int i = 0; i < n && i < 64; ++i) {
    srcs[3 + i] = ::fcntl(o.extraFds[i], F_DUPFD, base);
    if (srcs[3 + i] < 0) ::_exit(127);
  }
  for (int i = 0; i < 3 + n && i < 3 + 64; ++i) {
    if (::dup2(srcs[i], i) < 0) ::_exit(127);
  }
  ::syscall(SYS_close_range, 3 + n, ~0U, 0);

  // Dispositions first, while every signal is still blocked: a handler of
  // the parent must never run here, on the parent's memory (vfork).
  struct sigaction dfl;
  std::memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  for (int s = 1; s < NSIG; ++s) {
    if (s != SIGKILL && s != SIGSTOP) ::sigaction(s, &dfl, nullptr);
  }
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  if (o.newSession) ::setsid();
  if (!o.cwd.empty() && ::chdir(o.cwd.c_str()) != 0) ::_exit(127);
  ::execve(argv[0], argv, envp);
  ::_exit(127);
}

}  // namespace

int exitCodeOf(int st) {
  if (WIFEXITED(st)) return WEXITSTATUS(st);
  if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
  return -1;
}

Result<pid_t> spawn(const std::vector<std::string>& argv, const SpawnOptions& options) {
  if (argv.empty()) return makeError(Code::kInternal, "spawn: empty argv");
  if (options.extraFds.size() > 64) return makeError(Code::kInternal, "spawn: too many fds");
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<std::string> envStrings = options.env;
  if (envStrings.empty())
    envStrings.push_back("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  std::vector<char*> envp;
  for (const auto& e : envStrings) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  int devNull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (devNull < 0) return sysErr("open /dev/null", errno);
  // vfork, not fork: the child borrows our memory until it execs, so the
  // kernel copies no page tables and write-protects nothing — fork of a big,
  // many-threaded kubelet cost more than the helper it started (copying the
  // page tables, then a copy-on-write fault and TLB shootdown per touched
  // page). Only this thread waits, and only until the exec. Every signal
  // stays blocked across it (execChild resets them before unblocking).
  sigset_t all, old;
  ::sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &old);
  pid_t pid = ::vfork();
  if (pid == 0) execChild(args.data(), envp.data(), options, devNull);
  int e = errno;
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  ::close(devNull);
  if (pid < 0) return sysErr("fork " + argv[0], e);
  return pid;
}

Result<int> waitChild(pid_t pid) {
  int st = 0;
  while (::waitpid(pid, &st, 0) < 0) {
    if (errno != EINTR) return sysErr("waitpid " + std::to_string(pid), errno);
  }
  return st;
}

Result<int> waitChild(pid_t pid, std::chrono::milliseconds timeout) {
  int pfd = pidfdOpen(pid);
  if (pfd < 0) return waitChild(pid);  // no pidfd: wait without a limit
  struct pollfd p = {pfd, POLLIN, 0};
  int r;
  do {
    r = ::poll(&p, 1, static_cast<int>(timeout.count()));
  } while (r < 0 && errno == EINTR);
  ::close(pfd);
  if (r == 0) return makeError(Code::kTimeout, "process " + std::to_string(pid) + " still running");
  return waitChild(pid);
}

Result<RunResult> runCommand(const std::vector<std::string>& argv,
                             std::chrono::milliseconds timeout, size_t maxOutput,
                             const std::function<void()>& onTimeout) {
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0) return sysErr("pipe", errno);
  SpawnOptions o;
  o.stdoutFd = pipefd[1];
  o.stderrFd = pipefd[1];
  auto pid = spawn(argv, o);
  ::close(pipefd[1]);
  if (!pid) {
    ::close(pipefd[0]);
    return pid.error();
  }
  RunResult out;
  int pfd = pidfdOpen(*pid);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  bool exited = false, eof = false;
  int status = 0;
  char buf[4096];  // small: it sits on every pod worker's stack
  ::fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
  auto drain = [&] {
    for (;;) {
      ssize_t n = ::read(pipefd[0], buf, sizeof buf);
      if (n > 0) {
        size_t room = maxOutput > out.output.size() ? maxOutput - out.output.size() : 0;
        out.output.append(buf, std::min(room, static_cast<size_t>(n)));
        continue;
      }
      if (n == 0) eof = true;
      if (n < 0 && errno == EINTR) continue;
      return;
    }
  };
  while (!(exited && eof)) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      out.timedOut = true;
      if (onTimeout) onTimeout();
      ::kill(*pid, SIGKILL);
      break;
    }
    struct pollfd p[2] = {{pipefd[0], POLLIN, 0}, {pfd, POLLIN, 0}};
    int nfds = exited || pfd < 0 ? 1 : 2;
    if (eof) p[0].fd = -1;
    int r = ::poll(p, nfds, static_cast<int>(std::min<int64_t>(left.count(), exited ? 50 : 1000)));
    if (r < 0 && errno != EINTR) break;
    if (!eof && (p[0].revents & (POLLIN | POLLHUP))) drain();
    if (!exited && (pfd < 0 || (p[1].revents & POLLIN))) {
      pid_t w = ::waitpid(*pid, &status, pfd < 0 ? WNOHANG : 0);
      if (w == *pid) exited = true;
    }
    // A grandchild may hold the pipe open after the child exits: stop once it
    // has been quiet for a poll round.
    if (exited && r == 0) break;
  }
  if (!exited) {
    auto st = waitChild(*pid);
    if (st) status = *st;
  }
  drain();
  if (pfd >= 0) ::close(pfd);
  ::close(pipefd[0]);
  out.status = exitCodeOf(status);
  return out;
}

}  // namespace skiff::kubelet
