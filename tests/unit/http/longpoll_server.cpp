// A stand-alone server with a sync-shaped long-poll route, for
// scripts/bench/sync_waiters --self-test (the real /sync needs the database
// and is benchmarked against a full node). It uses the real http::Server and
// notify::Notifier the way the /sync handler does (see notify/notifier.h):
//
//   GET  /_matrix/client/v3/sync?since=sN&timeout=MS   parks until /bench/notify
//                                                     or the timeout
//   POST /bench/notify                                 "sends an event"
//   GET  /_matrix/client/versions, /health/live, /metrics
//
//   longpoll-server PORT [WORKERS] [MAX_WAITING]
//
// Prints "listening PORT" once ready; SIGTERM or SIGINT drains (parked syncs
// answer at once) and exits.
#include "http/server.h"
#include "log/log.h"
#include "metrics/registry.h"
#include "notify/notifier.h"

#include <pthread.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

using namespace eltrix;
using Clock = std::chrono::steady_clock;

namespace {

const std::string kKey = notify::room_key("!bench:localhost");

/// The stream position: /bench/notify advances it.
std::atomic<long> g_position{0};

http::Response sync_response(long position) {
  return http::Response::json(200, nlohmann::json{{"next_batch", "s" + std::to_string(position)},
                                                  {"rooms", nlohmann::json::object()}});
}

/// The notifier.h example, with "anything new" meaning "the position moved".
class SyncWait final : public http::Deferred, public std::enable_shared_from_this<SyncWait> {
 public:
  SyncWait(notify::Notifier& n, long since, Clock::time_point deadline)
      : notifier_(n), since_(since), deadline_(deadline) {}

  void start(std::function<void(http::Response)> complete) override {
    complete_ = std::move(complete);
    arm();
  }
  void cancel() override {
    std::uint64_t id = 0;
    {
      std::lock_guard lock(mutex_);
      cancelled_ = true;
      id = std::exchange(id_, 0);
    }
    if (id != 0 && notifier_.cancel(id)) complete_(sync_response(g_position.load()));
  }

 private:
  void arm() {
    std::unique_lock lock(mutex_);
    if (!cancelled_) {
      id_ = notifier_.wait({kKey}, deadline_,
                           [self = shared_from_this()](bool t) { self->woken(t); });
      if (id_ != 0) return;
    }
    lock.unlock();
    complete_(sync_response(g_position.load()));
  }
  void woken(bool timed_out) {
    {
      std::lock_guard lock(mutex_);
      id_ = 0;
    }
    const long now = g_position.load();
    if (now == since_ && !timed_out && Clock::now() < deadline_) {
      arm();
    } else {
      complete_(sync_response(now));
    }
  }

  notify::Notifier& notifier_;
  long since_;
  Clock::time_point deadline_;
  std::function<void(http::Response)> complete_;
  std::mutex mutex_;
  std::uint64_t id_ = 0;
  bool cancelled_ = false;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s PORT [WORKERS] [MAX_WAITING]\n", argv[0]);
    return 64;
  }
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  log::init(log::Format::text, log::Level::warn);

  metrics::Registry registry;
  metrics::register_process_metrics(registry);
  const std::size_t max_waiting = argc > 3 ? std::strtoul(argv[3], nullptr, 10) : 10000;
  notify::Notifier notifier(registry, max_waiting);

  http::Router router;
  router.add("GET", "/_matrix/client/v3/sync", [&notifier](http::Request& req) {
    const long position = g_position.load();
    const auto since = req.query("since");
    long since_position = -1;
    if (since && since->size() > 1 && (*since)[0] == 's') {
      since_position = std::strtol(since->c_str() + 1, nullptr, 10);
    }
    const long timeout_ms = std::strtol(req.query("timeout").value_or("0").c_str(), nullptr, 10);
    if (since_position != position || timeout_ms <= 0) return sync_response(position);
    return http::Response::deferred(std::make_shared<SyncWait>(
        notifier, since_position, Clock::now() + std::chrono::milliseconds(timeout_ms)));
  });
  router.add("POST", "/bench/notify", [&notifier](http::Request&) {
    ++g_position;
    notifier.notify({kKey});
    return http::Response::json_text(200, "{}");
  });
  router.add("GET", "/_matrix/client/versions", [](http::Request&) {
    return http::Response::json_text(200, R"({"versions":["v1.11"]})");
  });
  router.add("GET", "/health/live",
             [](http::Request&) { return http::Response::json_text(200, R"({"status":"ok"})"); });
  router.add("GET", "/metrics", [&registry](http::Request&) {
    return http::Response::text(200, "text/plain; version=0.0.4", registry.render());
  });

  http::ServerOptions options;
  options.bind_address = "127.0.0.1";
  options.port = static_cast<std::uint16_t>(std::strtoul(argv[1], nullptr, 10));
  options.workers = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 32;
  options.max_queued = 1024;
  options.keep_alive_timeout = std::chrono::seconds(60);
  http::Server server(options, router, registry);
  server.start();
  std::printf("listening %u\n", static_cast<unsigned>(server.port()));
  std::fflush(stdout);

  int signal = 0;
  sigwait(&signals, &signal);
  const auto t0 = Clock::now();
  server.stop_accepting();
  notifier.wake_all();
  const bool drained = server.drain(std::chrono::seconds(30));
  std::printf("drained=%s in %.0f ms\n", drained ? "yes" : "no",
              std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  return drained ? 0 : 1;
}
