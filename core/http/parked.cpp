#include "http/parked.h"

#include "log/log.h"
#include "metrics/registry.h"

#include <Poco/Exception.h>

#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <deque>
#include <limits>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

namespace eltrix::http::detail {
namespace {

using Clock = std::chrono::steady_clock;

/// After a "Connection: close" response, how long the client gets to close
/// its side before we do.
constexpr std::chrono::milliseconds kCloseLinger{2000};
/// Most a closing connection may still send us before we close regardless.
constexpr std::size_t kCloseDrainBytes = 256 * 1024;
/// How soon a connection waiting for a free slot in the dispatcher's queue
/// is offered again.
constexpr int kHandBackRetryMs = 10;
constexpr int kMaxEvents = 256;
/// A request whose Content-Length body is at most this is handed to a worker
/// only once the body has arrived too, so slow senders of the usual small
/// JSON bodies hold no thread either. (It waits in the kernel's receive
/// buffer, which holds this much without growing.) Larger and chunked bodies
/// are read on the worker.
constexpr std::size_t kSmallBodyBytes = 16 * 1024;

/// Each look at a partial head copies it again (MSG_PEEK starts at the
/// front), so a head dribbled in tiny segments would cost quadratic copying:
/// a head still incomplete after this many looks is dropped like a late one.
/// A real client sends its head in one segment or a few.
constexpr int kMaxHeadLooks = 64;

constexpr std::string_view kHeadTooLargeBody =
    R"({"errcode":"M_TOO_LARGE","error":"The request head is too large."})";

constexpr std::string_view kBusyBody =
    R"({"errcode":"M_LIMIT_EXCEEDED","error":"The server is busy; try again shortly.",)"
    R"("retry_after_ms":1000})";

/// A whole error response, written by the poller (which has no Poco response).
std::string poller_response(std::string_view status_line, std::string_view extra_headers,
                            std::string_view body) {
  std::string out(status_line);
  out += "\r\nContent-Type: application/json\r\nConnection: close\r\n";
  out += extra_headers;
  out += "Content-Length: ";
  out += std::to_string(body.size());
  out += "\r\n\r\n";
  out += body;
  return out;
}

/// Where a request head ends (the index after its empty line), or npos.
/// Leading empty lines are skipped, as RFC 9112 §2.2 allows (Poco does too).
std::size_t head_end(std::string_view data) {
  std::size_t start = 0;
  while (start < data.size() && (data[start] == '\r' || data[start] == '\n')) ++start;
  for (auto i = data.find('\n', start); i != std::string_view::npos; i = data.find('\n', i + 1)) {
    if (i + 1 < data.size() && data[i + 1] == '\n') return i + 2;
    if (i + 2 < data.size() && data[i + 1] == '\r' && data[i + 2] == '\n') return i + 3;
  }
  return std::string_view::npos;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

/// How many body bytes to wait for after `head` before handing the request
/// to a worker: its Content-Length when that is small, else 0 (chunked,
/// Expect: 100-continue, large or malformed: the worker deals with it).
std::size_t small_body(std::string_view head) {
  std::size_t length = 0;
  std::size_t pos = head.find('\n');
  while (pos != std::string_view::npos && pos + 1 < head.size()) {
    const std::size_t start = pos + 1;
    pos = head.find('\n', start);
    std::string_view line = head.substr(start, pos == std::string_view::npos ? pos : pos - start);
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string_view name = line.substr(0, colon);
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
      value.remove_prefix(1);
    while (!value.empty() &&
           (value.back() == '\r' || value.back() == ' ' || value.back() == '\t')) {
      value.remove_suffix(1);
    }
    if (iequals(name, "transfer-encoding") || iequals(name, "expect")) return 0;
    if (iequals(name, "content-length")) {
      std::size_t n = 0;
      const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec != std::errc() || end != value.data() + value.size() || n > kSmallBodyBytes) return 0;
      length = n;
    }
  }
  return length;
}

const log::Logger& logger() {
  static const log::Logger instance("http");
  return instance;
}

}  // namespace

// ---------------------------------------------------------------------------
// State shared with complete() calls, which may outlive the lot.

struct ParkingLot::Shared {
  /// A parked request until its Deferred completes.
  struct Control {
    std::shared_ptr<Deferred> deferred;
    std::unique_ptr<ParkedRequest> request;  // null once complete() took it
    bool keep_alive = false;
    bool started = false;        // start() returned
    bool cancel_wanted = false;  // hang-up or drain seen
    bool cancelled = false;      // cancel() called
  };
  /// Work for the loop thread, in the order it was posted.
  struct Command {
    enum class Kind { park, head, write, handoff, drain, stop };
    Kind kind = Kind::stop;
    std::uint64_t id = 0;
    Poco::Net::StreamSocket socket;      // park
    std::string bytes;                   // write
    bool keep_alive = false;             // write; head: a new connection
    std::shared_ptr<Deferred> deferred;  // write: released on the loop thread
    std::shared_ptr<HandOff> handoff;    // handoff
  };

  explicit Shared(metrics::Gauge& g, std::function<void()> released)
      : gauge(g), on_released(std::move(released)) {
    wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wake_fd < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
  }
  ~Shared() { ::close(wake_fd); }
  Shared(const Shared&) = delete;
  Shared& operator=(const Shared&) = delete;

  void wake() const {
    const std::uint64_t one = 1;
    // A full counter (never reached) still leaves the loop awake.
    [[maybe_unused]] const auto n = ::write(wake_fd, &one, sizeof(one));
  }

  void post(Command command) {
    {
      std::lock_guard lock(mutex);
      commands.push_back(std::move(command));
    }
    wake();
  }

  /// One parked request fewer (written, closed, or never parked).
  void release() {
    {
      std::lock_guard lock(mutex);
      --count;
      gauge.set(static_cast<double>(count));
    }
    if (on_released) on_released();
  }

  void complete(std::uint64_t id, Response response) {
    if (response.streamed_body || response.continuation) {
      hand_off(id, std::move(response));
      return;
    }
    std::unique_ptr<ParkedRequest> request;
    bool keep_alive = false;
    {
      std::lock_guard lock(mutex);
      if (shut) return;
      auto it = controls.find(id);
      if (it == controls.end() || !it->second.request) return;  // a second call
      request = std::move(it->second.request);
      keep_alive = it->second.keep_alive && !draining;
      ++active;
    }
    // Formatting, metrics and the access log run on the caller's thread, so
    // a burst of wake-ups spreads over the notifier's threads, not the loop.
    std::string bytes;
    try {
      bytes = request->finish(std::move(response), keep_alive);
    } catch (const std::exception& e) {
      logger().error("formatting a deferred response failed", {{"error", e.what()}});
      bytes.clear();  // the loop closes the connection
    }
    request.reset();
    Command write;
    write.kind = Command::Kind::write;
    write.id = id;
    write.bytes = std::move(bytes);
    write.keep_alive = keep_alive;
    {
      std::lock_guard lock(mutex);
      --active;
      auto it = controls.find(id);
      if (it != controls.end()) {
        // The Deferred is released by the loop, not here: complete() may be
        // running inside one of its own methods.
        write.deferred = std::move(it->second.deferred);
        controls.erase(it);
      }
      if (!shut) commands.push_back(std::move(write));
      idle_cv.notify_all();
    }
    wake();
  }

  /// A response a worker must send: the request goes to the loop, which
  /// gives the socket to the dispatcher with it.
  void hand_off(std::uint64_t id, Response response) {
    {
      std::lock_guard lock(mutex);
      if (shut) return;
      auto it = controls.find(id);
      if (it == controls.end() || !it->second.request) return;  // a second call
      auto job = std::make_shared<HandOff>();
      job->request = std::move(it->second.request);
      job->response = std::move(response);
      job->keep_alive = it->second.keep_alive && !draining;
      Command command;
      command.kind = Command::Kind::handoff;
      command.id = id;
      command.handoff = std::move(job);
      command.deferred = std::move(it->second.deferred);
      controls.erase(it);
      commands.push_back(std::move(command));
    }
    wake();
  }

  /// Calls cancel() once start() has returned; until then, start()'s caller does.
  void request_cancel(std::uint64_t id) {
    std::shared_ptr<Deferred> deferred;
    {
      std::lock_guard lock(mutex);
      auto it = controls.find(id);
      if (it == controls.end() || !it->second.request) return;
      auto& c = it->second;
      c.cancel_wanted = true;
      if (!c.started || c.cancelled) return;
      c.cancelled = true;
      deferred = c.deferred;
    }
    call_cancel(*deferred);
  }

  static void call_cancel(Deferred& deferred) {
    try {
      deferred.cancel();
    } catch (const std::exception& e) {
      logger().error("Deferred::cancel failed", {{"error", e.what()}});
    } catch (...) {
      logger().error("Deferred::cancel failed", {{"error", "unknown exception"}});
    }
  }

  std::vector<std::uint64_t> pending_ids() const {
    std::lock_guard lock(mutex);
    std::vector<std::uint64_t> ids;
    ids.reserve(controls.size());
    for (const auto& [id, c] : controls) {
      if (c.request) ids.push_back(id);
    }
    return ids;
  }

  metrics::Gauge& gauge;
  std::function<void()> on_released;
  int wake_fd = -1;

  mutable std::mutex mutex;
  std::condition_variable idle_cv;  // signalled when `active` drops
  std::unordered_map<std::uint64_t, Control> controls;
  std::vector<Command> commands;
  std::uint64_t next_id = 0;  // 0 is the wake-up fd's epoll tag
  std::size_t count = 0;
  std::atomic<std::size_t> reading_head{0};  // kept by the loop
  int active = 0;                            // complete() calls formatting outside the lock
  bool draining = false;
  bool shut = false;
};

// ---------------------------------------------------------------------------
// The loop thread: owns the sockets and every byte written to them.

bool next_request_ready(const Poco::Net::StreamSocket& socket, std::chrono::microseconds wait,
                        std::size_t max_head_bytes) {
  const int fd = socket.impl()->sockfd();
  if (fd < 0) return false;
  pollfd p{fd, POLLIN, 0};
  const auto us = wait.count();
  const timespec timeout{static_cast<time_t>(us / 1000000), static_cast<long>(us % 1000000) * 1000};
  int ready = 0;
  do {
    ready = ::ppoll(&p, 1, &timeout, nullptr);
  } while (ready < 0 && errno == EINTR);
  if (ready <= 0 || (p.revents & POLLIN) == 0 || (p.revents & (POLLERR | POLLNVAL)) != 0)
    return false;
  thread_local std::vector<char> peek;
  peek.resize(max_head_bytes + kSmallBodyBytes);
  ssize_t n = 0;
  do {
    n = ::recv(fd, peek.data(), peek.size(), MSG_PEEK | MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  if (n <= 0) return false;
  const std::string_view data(peek.data(), static_cast<std::size_t>(n));
  const std::size_t end = head_end(data.substr(0, std::min(data.size(), max_head_bytes)));
  if (end == std::string_view::npos) return false;
  return data.size() >= end + small_body(data.substr(0, end));
}

class ParkingLot::Loop {
 public:
  Loop(const ParkingOptions& options, std::shared_ptr<Shared> shared,
       std::function<HandBack(const Poco::Net::StreamSocket&, std::shared_ptr<HandOff>)> hand_back)
      : options_(options), shared_(std::move(shared)), hand_back_(std::move(hand_back)) {
    epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd_ < 0) throw std::system_error(errno, std::generic_category(), "epoll_create1");
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = 0;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, shared_->wake_fd, &ev) != 0) {
      const int err = errno;
      ::close(epoll_fd_);
      throw std::system_error(err, std::generic_category(), "epoll_ctl");
    }
  }
  ~Loop() { ::close(epoll_fd_); }
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  void run() {
    epoll_event events[kMaxEvents];
    while (true) {
      const int n = ::epoll_wait(epoll_fd_, events, kMaxEvents, timeout_ms());
      if (n < 0 && errno != EINTR) {
        logger().error("epoll_wait failed", {{"error", std::to_string(errno)}});
      }
      for (int i = 0; i < n; ++i) {
        if (events[i].data.u64 == 0) {
          std::uint64_t value = 0;
          [[maybe_unused]] const auto r = ::read(shared_->wake_fd, &value, sizeof(value));
        } else {
          on_event(events[i].data.u64, events[i].events);
        }
      }
      if (!run_commands()) break;
      expire();
      offer_hand_backs();
    }
    // Shut down: whatever is left is closed without a response.
    while (!conns_.empty()) close_conn(conns_.begin()->first);
  }

 private:
  enum class State {
    waiting,  // for complete(); watching for a hang-up
    hung_up,  // the peer closed while waiting; still waiting for complete()
    writing,
    idle,     // waiting for the next request head (new or keep-alive)
    queued,   // next request arrived; waiting for room in the dispatcher's queue
    closing,  // our side shut down; reading the peer's rest until it closes
  };
  struct Conn {
    Poco::Net::StreamSocket socket;
    int fd = -1;
    State state = State::waiting;
    std::uint32_t watched = 0;  // epoll events registered; 0: not registered
    bool counted = true;        // still holds a place in the lot's count
    bool keep_alive = false;
    std::string out;
    std::size_t sent = 0;
    std::size_t dropped = 0;           // bytes read and thrown away while closing
    bool head_started = false;         // idle: the head's deadline runs
    std::shared_ptr<HandOff> handoff;  // queued: a response for a worker to send
    bool fresh = false;                // a new connection's first request
    int looks = 0;                     // idle: peeks at a partial head so far
    Clock::time_point deadline = Clock::time_point::max();
  };

  int timeout_ms() const {
    if (!hand_back_queue_.empty()) return kHandBackRetryMs;
    if (deadlines_.empty()) return -1;
    const auto wait = deadlines_.begin()->first - Clock::now();
    if (wait <= Clock::duration::zero()) return 0;
    // Rounded up: waking a little late is fine, spinning on 0 ms is not.
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(wait).count();
    return static_cast<int>(std::min<std::int64_t>(ms, 60'000));
  }

  void watch(std::uint64_t id, Conn& c, std::uint32_t events) {
    if (events == c.watched) return;
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = id;
    int rc = 0;
    if (events == 0) {
      rc = ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, c.fd, &ev);
    } else {
      rc = ::epoll_ctl(epoll_fd_, c.watched == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, c.fd, &ev);
    }
    if (rc != 0 && events != 0) {
      // Only a bad fd gets here; treat it as a connection that went away.
      logger().debug("epoll_ctl failed", {{"error", std::to_string(errno)}});
      c.watched = 0;
      return;
    }
    c.watched = events;
  }

  void set_deadline(std::uint64_t id, Conn& c, Clock::time_point when) {
    if (c.deadline != Clock::time_point::max()) deadlines_.erase({c.deadline, id});
    c.deadline = when;
    if (when != Clock::time_point::max()) deadlines_.emplace(when, id);
  }

  void close_conn(std::uint64_t id) {
    auto it = conns_.find(id);
    if (it == conns_.end()) return;
    Conn& c = it->second;
    watch(id, c, 0);
    set_deadline(id, c, Clock::time_point::max());
    set_state(c, State::closing);
    try {
      c.socket.close();
    } catch (const Poco::Exception&) {
    }
    const bool counted = c.counted;
    conns_.erase(it);
    if (counted) shared_->release();
  }

  /// False once asked to stop.
  bool run_commands() {
    std::vector<Shared::Command> commands;
    {
      std::lock_guard lock(shared_->mutex);
      commands.swap(shared_->commands);
    }
    for (auto& command : commands) {
      switch (command.kind) {
        case Shared::Command::Kind::park: add(command.id, command.socket); break;
        case Shared::Command::Kind::head: add_head(command.socket, command.keep_alive); break;
        case Shared::Command::Kind::write:
          start_write(command.id, std::move(command.bytes), command.keep_alive);
          command.deferred.reset();
          break;
        case Shared::Command::Kind::handoff:
          start_handoff(command.id, std::move(command.handoff));
          command.deferred.reset();
          break;
        case Shared::Command::Kind::drain: drain(); break;
        case Shared::Command::Kind::stop: return false;
      }
    }
    return true;
  }

  /// Every state change goes through here, so the reading-head count is right.
  void set_state(Conn& c, State state) {
    if (c.state == State::idle && state != State::idle) update_reading_head(-1);
    if (c.state != State::idle && state == State::idle) update_reading_head(+1);
    c.state = state;
  }

  void update_reading_head(int delta) {
    reading_head_ += delta;
    shared_->reading_head.store(reading_head_);
    if (options_.reading_head_gauge != nullptr) {
      options_.reading_head_gauge->set(static_cast<double>(reading_head_));
    }
  }

  /// A connection without a request in progress (new, or back from a worker).
  void add_head(const Poco::Net::StreamSocket& socket, bool fresh) {
    const std::uint64_t id = next_head_id_--;  // from the top: never a parked id
    Conn c;
    c.fd = socket.impl()->sockfd();
    c.socket = socket;
    c.counted = false;
    c.fresh = fresh;
    c.state = State::closing;  // not idle yet: set_state below counts it
    auto& conn = conns_.emplace(id, std::move(c)).first->second;
    if (draining_) {
      close_conn(id);
      return;
    }
    wait_for_head(id, conn, fresh);
  }

  void wait_for_head(std::uint64_t id, Conn& c, bool fresh) {
    set_state(c, State::idle);
    c.head_started = fresh;
    c.looks = 0;
    set_deadline(id, c,
                 Clock::now() + (fresh ? options_.header_timeout : options_.keep_alive_timeout));
    // Edge-triggered: the head stays unread in the kernel (MSG_PEEK), so a
    // level-triggered watch would fire again and again until it is complete.
    watch(id, c, EPOLLIN | EPOLLRDHUP | EPOLLET);
    if (c.watched == 0) {
      close_conn(id);
      return;
    }
    // Bytes that arrived before the watch (a pipelined request) would raise
    // no edge: look now.
    next_request(id, c, 0);
  }

  void add(std::uint64_t id, const Poco::Net::StreamSocket& socket) {
    Conn c;
    c.fd = socket.impl()->sockfd();
    c.socket = socket;  // Poco 1.11 sockets copy (a reference count), never move
    auto& conn = conns_.emplace(id, std::move(c)).first->second;
    // While the Deferred works, only a hang-up matters: EPOLLIN is not
    // watched, so a client that sends more (a pipelined request) does not
    // wake the loop; those bytes wait in the kernel for the next request.
    watch(id, conn, EPOLLRDHUP);
    if (conn.watched == 0) hang_up(id, conn);
  }

  void hang_up(std::uint64_t id, Conn& c) {
    watch(id, c, 0);  // level-triggered: it would fire again and again
    c.state = State::hung_up;
    // A half-closed client may still read the answer, so the socket stays
    // open until complete(); cancel() asks the Deferred to hurry.
    shared_->request_cancel(id);
  }

  void start_handoff(std::uint64_t id, std::shared_ptr<HandOff> job) {
    auto it = conns_.find(id);
    if (it == conns_.end()) {
      shared_->release();  // cannot happen: park always precedes the hand-off
      return;
    }
    Conn& c = it->second;
    if (c.state == State::hung_up) {
      close_conn(id);  // nobody to send it to
      return;
    }
    watch(id, c, 0);
    c.handoff = std::move(job);
    set_state(c, State::queued);
    set_deadline(id, c, Clock::now() + options_.send_timeout);
    hand_back_queue_.push_back(id);
  }

  void start_write(std::uint64_t id, std::string bytes, bool keep_alive) {
    auto it = conns_.find(id);
    if (it == conns_.end()) {
      shared_->release();  // cannot happen: park always precedes write
      return;
    }
    Conn& c = it->second;
    if (bytes.empty()) {
      close_conn(id);
      return;
    }
    c.out = std::move(bytes);
    c.sent = 0;
    c.keep_alive = keep_alive;
    c.state = State::writing;
    flush(id, c);
  }

  void flush(std::uint64_t id, Conn& c) {
    bool progress = false;
    while (c.sent < c.out.size()) {
      const ssize_t n =
          ::send(c.fd, c.out.data() + c.sent, c.out.size() - c.sent, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) {
        c.sent += static_cast<std::size_t>(n);
        progress = true;
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        watch(id, c, EPOLLOUT);
        if (c.watched == 0) {
          close_conn(id);
          return;
        }
        // The timeout is for a client that stops reading, not for a slow one.
        if (progress || c.deadline == Clock::time_point::max()) {
          set_deadline(id, c, Clock::now() + options_.send_timeout);
        }
        return;
      }
      close_conn(id);  // EPIPE, ECONNRESET: the client is gone
      return;
    }
    written(id, c);
  }

  void written(std::uint64_t id, Conn& c) {
    std::string().swap(c.out);  // a large sync body should not stay with an idle connection
    if (c.counted) {
      c.counted = false;
      shared_->release();
    }
    if (c.keep_alive && !draining_) {
      wait_for_head(id, c, false);
      return;
    }
    ::shutdown(c.fd, SHUT_WR);
    set_state(c, State::closing);
    watch(id, c, EPOLLIN | EPOLLRDHUP);
    set_deadline(id, c, Clock::now() + kCloseLinger);
    if (c.watched == 0) close_conn(id);
  }

  void on_event(std::uint64_t id, std::uint32_t events) {
    auto it = conns_.find(id);
    if (it == conns_.end()) return;  // closed earlier in this round
    Conn& c = it->second;
    switch (c.state) {
      case State::waiting: hang_up(id, c); break;
      case State::writing:
        if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) != 0) flush(id, c);
        break;
      case State::idle: next_request(id, c, events); break;
      case State::closing: drop_input(id, c); break;
      case State::hung_up:
      case State::queued: break;  // not watched
    }
  }

  /// Looks at what the client sent so far without consuming it; hands the
  /// connection over once a whole head (and small body) is there.
  void next_request(std::uint64_t id, Conn& c, std::uint32_t events) {
    ssize_t n = 0;
    do {
      n = ::recv(c.fd, peek_.data(), peek_.size(), MSG_PEEK | MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if ((events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) close_conn(id);
      return;
    }
    if (n <= 0) {
      close_conn(id);  // the client closed the connection (or it failed)
      return;
    }
    if (!c.head_started) {
      // A keep-alive connection's next request began: its head has
      // header_timeout from now, however long the connection was idle.
      c.head_started = true;
      set_deadline(id, c, Clock::now() + options_.header_timeout);
    }
    const std::string_view data(peek_.data(), static_cast<std::size_t>(n));
    const std::size_t end =
        head_end(data.substr(0, std::min(data.size(), options_.max_head_bytes)));
    if (end == std::string_view::npos) {
      if (data.size() >= options_.max_head_bytes) {
        refuse_head(id, c);
      } else if ((events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) {
        close_conn(id);  // half a head, and the client will send no more
      } else if (++c.looks > kMaxHeadLooks) {
        if (options_.head_timeouts != nullptr) options_.head_timeouts->inc();
        close_conn(id);
      }
      return;  // wait for more (the deadline runs)
    }
    const std::size_t body = small_body(data.substr(0, end));
    if (data.size() < end + body && (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) == 0) {
      if (++c.looks > kMaxHeadLooks) {
        if (options_.head_timeouts != nullptr) options_.head_timeouts->inc();
        close_conn(id);
      }
      return;
    }
    watch(id, c, 0);
    set_state(c, State::queued);
    // A connection that cannot get a worker within the keep-alive timeout is
    // dropped, as Poco drops a queued connection when the server stops.
    set_deadline(id, c, Clock::now() + options_.keep_alive_timeout);
    hand_back_queue_.push_back(id);
  }

  void refuse_busy(std::uint64_t id, Conn& c) {
    if (options_.refused != nullptr) options_.refused->inc();
    c.out = poller_response("HTTP/1.1 503 Service Unavailable", "Retry-After: 1\r\n", kBusyBody);
    c.sent = 0;
    c.keep_alive = false;
    set_state(c, State::writing);
    flush(id, c);
  }

  /// 431, then a lingering close (the client may still be sending).
  void refuse_head(std::uint64_t id, Conn& c) {
    if (options_.heads_too_large != nullptr) options_.heads_too_large->inc();
    watch(id, c, 0);
    // Level-triggered from here: the closing state reads what arrives.
    c.out = poller_response("HTTP/1.1 431 Request Header Fields Too Large", "", kHeadTooLargeBody);
    c.sent = 0;
    c.keep_alive = false;
    set_state(c, State::writing);
    flush(id, c);
  }

  void drop_input(std::uint64_t id, Conn& c) {
    char buf[16384];
    while (true) {
      const ssize_t n = ::recv(c.fd, buf, sizeof(buf), MSG_DONTWAIT);
      if (n > 0) {
        c.dropped += static_cast<std::size_t>(n);
        if (c.dropped > kCloseDrainBytes) break;
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      break;  // EOF or error
    }
    close_conn(id);
  }

  void expire() {
    const auto now = Clock::now();
    while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
      const auto id = deadlines_.begin()->second;
      auto it = conns_.find(id);
      if (it == conns_.end()) {
        deadlines_.erase(deadlines_.begin());
        continue;
      }
      if (it->second.state == State::writing) {
        logger().debug("client stopped reading a deferred response; closing",
                       {{"sent", std::to_string(it->second.sent)},
                        {"size", std::to_string(it->second.out.size())}});
      }
      if (it->second.state == State::idle && it->second.head_started &&
          options_.head_timeouts != nullptr) {
        options_.head_timeouts->inc();
      }
      close_conn(id);
    }
  }

  void offer_hand_backs() {
    while (!hand_back_queue_.empty()) {
      const auto id = hand_back_queue_.front();
      auto it = conns_.find(id);
      if (it == conns_.end() || it->second.state != State::queued) {
        hand_back_queue_.pop_front();
        continue;
      }
      HandBack result = HandBack::refused;
      if (!draining_) {
        try {
          result = hand_back_(it->second.socket, it->second.handoff);
        } catch (const std::exception& e) {
          logger().error("handing a connection back failed", {{"error", e.what()}});
        }
      }
      if (result == HandBack::later) {
        if (!it->second.fresh) return;  // keep-alive and deferred: wait for a worker
        // A new connection while every worker is busy and the queue full:
        // told so at once, as Poco's dispatcher would refuse it, but with a
        // response rather than a reset.
        hand_back_queue_.pop_front();
        refuse_busy(id, it->second);
        continue;
      }
      hand_back_queue_.pop_front();
      if (result == HandBack::taken) {
        // The dispatcher holds its own reference to the socket now (and the
        // worker that sends a hand-off counts as in flight).
        set_deadline(id, it->second, Clock::time_point::max());
        const bool counted = it->second.counted;
        conns_.erase(it);
        if (counted) shared_->release();
      } else {
        close_conn(id);
      }
    }
  }

  void drain() {
    draining_ = true;
    // Idle and queued keep-alive connections close now, as Poco closes its
    // idle ones when the server stops; writes in progress finish first.
    std::vector<std::uint64_t> idle;
    for (const auto& [id, c] : conns_) {
      if (c.state == State::idle || c.state == State::queued) idle.push_back(id);
    }
    for (const auto id : idle) close_conn(id);
    hand_back_queue_.clear();
    for (const auto id : shared_->pending_ids()) shared_->request_cancel(id);
  }

  ParkingOptions options_;
  std::shared_ptr<Shared> shared_;
  std::function<HandBack(const Poco::Net::StreamSocket&, std::shared_ptr<HandOff>)> hand_back_;
  int epoll_fd_ = -1;
  bool draining_ = false;
  std::unordered_map<std::uint64_t, Conn> conns_;
  std::set<std::pair<Clock::time_point, std::uint64_t>> deadlines_;
  std::deque<std::uint64_t> hand_back_queue_;
  /// Ids of connections waiting for a head count down from the top, parked
  /// ones (Shared::next_id) up from 1: they never meet.
  std::uint64_t next_head_id_ = std::numeric_limits<std::uint64_t>::max();
  std::size_t reading_head_ = 0;
  std::vector<char> peek_ = std::vector<char>(options_.max_head_bytes + kSmallBodyBytes);
};

// ---------------------------------------------------------------------------

ParkingLot::ParkingLot(
    ParkingOptions options,
    std::function<HandBack(const Poco::Net::StreamSocket&, std::shared_ptr<HandOff>)> hand_back,
    std::function<void()> on_released, metrics::Gauge& parked_gauge)
    : options_(options),
      shared_(std::make_shared<Shared>(parked_gauge, std::move(on_released))),
      loop_(std::make_unique<Loop>(options_, shared_, std::move(hand_back))) {
  parked_gauge.set(0);
  thread_ = std::thread([this] { loop_->run(); });
}

ParkingLot::~ParkingLot() {
  shutdown();
}

bool ParkingLot::reserve() {
  std::lock_guard lock(shared_->mutex);
  if (shared_->shut || shared_->count >= options_.max_parked) return false;
  ++shared_->count;
  shared_->gauge.set(static_cast<double>(shared_->count));
  return true;
}

void ParkingLot::unreserve() {
  shared_->release();
}

void ParkingLot::park(const Poco::Net::StreamSocket& socket, std::shared_ptr<Deferred> deferred,
                      std::unique_ptr<ParkedRequest> request, bool keep_alive) {
  std::uint64_t id = 0;
  {
    std::lock_guard lock(shared_->mutex);
    if (!shared_->shut) {
      id = ++shared_->next_id;
      Shared::Control control;
      control.deferred = deferred;
      control.request = std::move(request);
      control.keep_alive = keep_alive;
      control.cancel_wanted = shared_->draining;
      shared_->controls.emplace(id, std::move(control));
      // Posted before start(): a complete() from inside start() must find
      // the socket already known to the loop (commands run in order).
      Shared::Command command;
      command.kind = Shared::Command::Kind::park;
      command.id = id;
      command.socket = socket;
      shared_->commands.push_back(std::move(command));
    }
  }
  if (id == 0) {
    try {
      Poco::Net::StreamSocket(socket).close();  // copies share the descriptor
    } catch (const Poco::Exception&) {
    }
    shared_->release();
    return;
  }
  shared_->wake();

  auto complete = [weak = std::weak_ptr<Shared>(shared_), id](Response response) {
    if (auto shared = weak.lock()) shared->complete(id, std::move(response));
  };
  try {
    deferred->start(complete);
  } catch (const errors::Error& e) {
    logger().warn("Deferred::start failed", {{"error", e.what()}});
    complete(Response::error(e));
  } catch (const std::exception& e) {
    logger().error("Deferred::start failed", {{"error", e.what()}});
    complete(Response::error(MatrixError(500, "M_UNKNOWN", "Internal server error")));
  } catch (...) {
    logger().error("Deferred::start failed", {{"error", "unknown exception"}});
    complete(Response::error(MatrixError(500, "M_UNKNOWN", "Internal server error")));
  }

  bool cancel_now = false;
  {
    std::lock_guard lock(shared_->mutex);
    auto it = shared_->controls.find(id);
    if (it != shared_->controls.end() && it->second.request) {
      it->second.started = true;
      // A hang-up or drain seen while start() ran is acted on now.
      if (it->second.cancel_wanted && !it->second.cancelled) {
        it->second.cancelled = true;
        cancel_now = true;
      }
    }
  }
  if (cancel_now) Shared::call_cancel(*deferred);
}

void ParkingLot::begin_drain() {
  {
    std::lock_guard lock(shared_->mutex);
    if (shared_->draining) return;
    shared_->draining = true;
    Shared::Command command;
    command.kind = Shared::Command::Kind::drain;
    shared_->commands.push_back(std::move(command));
  }
  shared_->wake();
}

void ParkingLot::watch_head(const Poco::Net::StreamSocket& socket, bool fresh) {
  {
    std::lock_guard lock(shared_->mutex);
    if (!shared_->shut) {
      Shared::Command command;
      command.kind = Shared::Command::Kind::head;
      command.socket = socket;
      command.keep_alive = fresh;
      shared_->commands.push_back(std::move(command));
    }
  }
  shared_->wake();  // a socket not taken is closed when its last copy goes
}

std::size_t ParkingLot::reading_head() const {
  return shared_->reading_head.load();
}

std::size_t ParkingLot::parked() const {
  std::lock_guard lock(shared_->mutex);
  return shared_->count;
}

void ParkingLot::shutdown() {
  {
    std::lock_guard lock(shared_->mutex);
    if (!shared_->shut) {
      shared_->shut = true;
      shared_->draining = true;
      Shared::Command command;
      command.kind = Shared::Command::Kind::stop;
      shared_->commands.push_back(std::move(command));
    }
  }
  shared_->wake();
  if (thread_.joinable()) thread_.join();
  std::unordered_map<std::uint64_t, Shared::Control> leftover;
  {
    std::unique_lock lock(shared_->mutex);
    shared_->idle_cv.wait(lock, [this] { return shared_->active == 0; });
    leftover.swap(shared_->controls);
    shared_->commands.clear();
  }
  // Deferreds that never completed are released here, outside the lock; their
  // complete() is a no-op from now on.
}

}  // namespace eltrix::http::detail
