// The reading loop: the whole file is read once (keeping only the last
// tailLines logical lines when asked), then, when following, each growth of the
// file is read as inotify reports it. Lines are assembled from P/F messages
// before the since filter, the timestamp prefix and the byte limit apply.
#include "kubelet/log_reader.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>

#include "api/time.h"

namespace skiff::kubelet {
namespace {

using SysClock = std::chrono::system_clock;

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

// Turns file bytes into logical lines and hands each to the emitter.
class Assembler {
 public:
  using LineFn = std::function<bool(SysClock::time_point, std::string_view)>;
  explicit Assembler(LineFn fn) : fn_(std::move(fn)) {}

  // Feeds bytes; returns false once the line function refused.
  bool feed(std::string_view bytes) {
    pending_.append(bytes);
    size_t start = 0;
    for (;;) {
      size_t nl = pending_.find('\n', start);
      if (nl == std::string::npos) break;
      std::string_view line(pending_.data() + start, nl - start);
      start = nl + 1;
      if (!message(line)) {
        pending_.erase(0, start);
        return false;
      }
    }
    pending_.erase(0, start);
    return true;
  }

  // End of input (not following): a run of P messages without its F still
  // counts as a line, printed without a newline.
  bool finish() {
    if (!inLine_) return true;
    inLine_ = false;
    return fn_(lineTime_, line_);
  }

 private:
  bool message(std::string_view raw) {
    auto m = parseCriLine(raw);
    if (!m) return true;  // not CRI: skipped
    if (!inLine_) {
      inLine_ = true;
      lineTime_ = m->time;
      line_.clear();
    }
    line_.append(m->text);
    if (m->partial) return true;
    line_ += '\n';
    inLine_ = false;
    return fn_(lineTime_, line_);
  }

  LineFn fn_;
  std::string pending_;  // bytes after the last '\n'
  bool inLine_ = false;
  SysClock::time_point lineTime_;
  std::string line_;
};

}  // namespace

std::optional<CriMessage> parseCriLine(std::string_view line) {
  size_t a = line.find(' ');
  if (a == std::string_view::npos) return std::nullopt;
  size_t b = line.find(' ', a + 1);
  if (b == std::string_view::npos) return std::nullopt;
  auto time = api::parseTimePrecise(line.substr(0, a));
  if (!time) return std::nullopt;
  CriMessage m;
  m.time = *time;
  m.stream = line.substr(a + 1, b - a - 1);
  if (m.stream != "stdout" && m.stream != "stderr") return std::nullopt;
  // The tag field is "F" or "P" (later CRI versions allow "P:..." style tag
  // lists; only the first letter matters here).
  size_t c = line.find(' ', b + 1);
  std::string_view tag =
      line.substr(b + 1, c == std::string_view::npos ? std::string_view::npos : c - b - 1);
  if (tag.empty() || (tag[0] != 'F' && tag[0] != 'P')) return std::nullopt;
  m.partial = tag[0] == 'P';
  m.text = c == std::string_view::npos ? std::string_view() : line.substr(c + 1);
  return m;
}

Status readCriLog(const std::string& path, const LogReadOptions& options, const LogSink& sink,
                  const FollowPredicate& keepFollowing) {
  Fd file{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (file.fd < 0) {
    int err = errno;
    return makeError(err == ENOENT ? Code::kNotFound : Code::kInternal,
                     "open log " + path + ": " + std::strerror(err));
  }
  Fd notify;
  if (options.follow) {
    notify.fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (notify.fd >= 0) inotify_add_watch(notify.fd, path.c_str(), IN_MODIFY | IN_CLOSE_WRITE);
  }

  int64_t sent = 0;
  bool stopped = false;  // the sink refused or the byte limit was reached
  auto emit = [&](SysClock::time_point t, std::string_view text) {
    if (options.since && t < *options.since) return true;
    std::string out;
    if (options.timestamps) out = api::formatTime(t, api::TimeFraction::kNano) + " ";
    out.append(text);
    if (options.limitBytes) {
      int64_t room = *options.limitBytes - sent;
      if (int64_t(out.size()) >= room) {
        out.resize(size_t(std::max<int64_t>(room, 0)));
        if (!out.empty()) sink(out);
        sent += int64_t(out.size());
        stopped = true;
        return false;
      }
    }
    sent += int64_t(out.size());
    if (!sink(out)) {
      stopped = true;
      return false;
    }
    return true;
  };

  // Phase 1: what the file holds now.
  std::deque<std::pair<SysClock::time_point, std::string>> tail;
  bool tailing = options.tailLines.has_value();
  Assembler initial([&](SysClock::time_point t, std::string_view text) {
    if (!tailing) return emit(t, text);
    if (*options.tailLines <= 0) return true;
    tail.emplace_back(t, std::string(text));
    if (int64_t(tail.size()) > *options.tailLines) tail.pop_front();
    return true;
  });
  char buf[64 * 1024];
  auto readSome = [&](Assembler& assembler, bool& eof) -> Status {
    eof = false;
    ssize_t n = ::read(file.fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) return {};
      return makeError(Code::kInternal, "read log " + path + ": " + std::strerror(errno));
    }
    if (n == 0) {
      eof = true;
      return {};
    }
    assembler.feed(std::string_view(buf, size_t(n)));
    return {};
  };
  for (;;) {
    bool eof = false;
    if (auto st = readSome(initial, eof); !st) return st;
    if (eof || stopped) break;
  }
  // Lines of the initial read that end in P wait for the rest while following.
  if (!options.follow) initial.finish();
  for (auto& [t, text] : tail) {
    if (stopped || !emit(t, text)) break;
  }
  if (!options.follow || stopped) return {};

  // Phase 2: follow the growth. The assembler keeps the initial one's partial
  // state: whatever was pending after phase 1 continues here.
  tailing = false;
  Assembler& follower = initial;
  for (;;) {
    bool eof = false;
    if (auto st = readSome(follower, eof); !st) return st;
    if (stopped) return {};
    if (!eof) continue;
    // Nothing new: wait for a change, asking now and then whether to go on.
    bool changed = false;
    if (notify.fd >= 0) {
      pollfd p{notify.fd, POLLIN, 0};
      int r = ::poll(&p, 1, 250);
      if (r > 0) {
        char events[4096];
        while (::read(notify.fd, events, sizeof events) > 0) {
        }
        changed = true;
      }
    } else {
      ::poll(nullptr, 0, 100);  // no inotify: poll the file
    }
    if (!changed && keepFollowing && !keepFollowing()) {
      // Last look: what was written before the container stopped.
      for (;;) {
        if (auto st = readSome(follower, eof); !st) return st;
        if (eof || stopped) break;
      }
      if (!stopped) follower.finish();
      return {};
    }
  }
}

}  // namespace skiff::kubelet
