// Trampolines into the fixture libraries (tests/lazylib/fixture): each call
// below that is a function's first goes through skiff_lazylib_resolve_entry,
// so its result shows whether the arguments survived the resolver; the second
// call goes straight through the slot.
#include <dlfcn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cerrno>
#include <csignal>
#include <string>
#include <thread>
#include <vector>

#include "tests/lazylib/fixture/lazytest.h"

namespace {

bool loaded(const char* path) {
  void* h = ::dlopen(path, RTLD_NOW | RTLD_NOLOAD);
  if (h) ::dlclose(h);
  return h != nullptr;
}

struct Death {
  bool aborted = false;
  std::string stderrText;
};

// Runs fn in a child and reports whether it died of SIGABRT and what it wrote
// on stderr.
template <typename Fn>
Death inChild(Fn fn) {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::signal(SIGABRT, SIG_DFL);  // not Catch's handler, which would report a failure
    ::freopen("/dev/null", "w", stdout);
    ::dup2(fds[1], STDERR_FILENO);
    ::close(fds[0]);
    rlimit none{0, 0};
    ::setrlimit(RLIMIT_CORE, &none);  // the abort is expected; leave no core
    fn();
    ::_exit(0);
  }
  ::close(fds[1]);
  Death d;
  char buf[512];
  ssize_t n;
  while ((n = ::read(fds[0], buf, sizeof buf)) > 0) d.stderrText.append(buf, n);
  ::close(fds[0]);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  d.aborted = WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
  return d;
}

}  // namespace

TEST_CASE("a library is loaded by the first call into it, which sees the caller's errno") {
  REQUIRE_FALSE(loaded(LAZYTEST_LATE_PATH));
  errno = EDOM;  // the resolver (dlopen, dlsym) must not change it
  CHECK(lazytest_errno_seen() == EDOM);
  CHECK(errno == EDOM);
  CHECK(loaded(LAZYTEST_LATE_PATH));
  CHECK(lazytest_late_answer() == 42);
  CHECK(lazytest_late_answer() == 42);
}

TEST_CASE("integer arguments in registers and on the stack pass through") {
  CHECK(lazytest_sum8(1, 2, 3, 4, 5, 6, 7, 8) == 204);
  CHECK(lazytest_sum8(-1, 0, 0, 0, 0, 0, 0, 1L << 40) == -1 + 8 * (1L << 40));
  long (*viaPointer)(long, long, long, long, long, long, long, long) = &lazytest_sum8;
  CHECK(viaPointer(1, 1, 1, 1, 1, 1, 1, 1) == 36);
}

TEST_CASE("doubles in xmm0-7 and on the stack, between integers, pass through") {
  double expected = 0;
  for (int k = 0; k < 10; k++) expected += (k + 1) * (0.5 + k);
  for (int k = 0; k < 8; k++) expected += (k + 11) * (100L + k);
  for (int i = 0; i < 2; i++) {
    CHECK(lazytest_weigh(0.5, 100, 1.5, 101, 2.5, 102, 3.5, 103, 4.5, 104, 5.5, 105, 6.5, 106, 7.5,
                         107, 8.5, 9.5) == expected);
  }
}

TEST_CASE("a variadic function gets its vector-register count and arguments") {
  char buf[64];
  for (int i = 0; i < 2; i++) {
    int n = lazytest_format(buf, sizeof buf, "%d %.2f %s %.1f %ld %.3f", 7, 3.25, "x", -1.5,
                            1L << 40, 0.125);
    CHECK(std::string(buf) == "7 3.25 x -1.5 1099511627776 0.125");
    CHECK(n == 33);
  }
}

TEST_CASE("a struct returned through a hidden pointer arrives") {
  LazyBig b = lazytest_big(10);
  CHECK((b.a == 10 && b.b == 11 && b.c == 12 && b.d == 13));
  b = lazytest_big(-5);
  CHECK((b.a == -5 && b.d == -2));
}

TEST_CASE("first calls from many threads at once all reach the function") {
  constexpr int kThreads = 8;
  std::atomic<bool> go{false};
  std::vector<long> got(kThreads, 0);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; i++) {
    threads.emplace_back([&, i] {
      while (!go.load()) {
      }
      got[i] = lazytest_concurrent(i + 1);
    });
  }
  go = true;
  for (auto& t : threads) t.join();
  for (int i = 0; i < kThreads; i++) CHECK(got[i] == 3 * (i + 1));
}

TEST_CASE("a library that cannot be loaded stops the process, naming it and its package") {
  Death d = inChild([] { (void)lazytest_nolib_call(); });
  CHECK(d.aborted);
  CHECK_THAT(d.stderrText,
             Catch::StartsWith("skiff: cannot load /nonexistent/libskiff-lazytest-nolib.so: ") &&
                 Catch::Contains("No such file or directory") &&
                 Catch::EndsWith("(Debian package skiff-test-nolib)\n"));
}

TEST_CASE("a function missing from its library stops the process, naming both") {
  Death d = inChild([] { (void)lazytest_nosym_call(); });
  CHECK(d.aborted);
  CHECK_THAT(d.stderrText,
             Catch::StartsWith(std::string("skiff: cannot load lazytest_nosym_call from ") +
                               LAZYTEST_MAIN_PATH + ": ") &&
                 Catch::Contains("undefined symbol: lazytest_nosym_call") &&
                 Catch::EndsWith("(Debian package skiff-test-nosym)\n"));
}
