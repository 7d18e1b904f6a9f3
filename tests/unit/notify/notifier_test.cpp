#include "notify/notifier.h"

#include "http/router.h"
#include "metrics/registry.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <random>
#include <thread>
#include <utility>
#include <vector>

using namespace eltrix;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

/// Collects callback results so a test can wait for them.
struct Calls {
  std::mutex m;
  std::condition_variable cv;
  std::vector<std::pair<int, bool>> seen;  // (tag, timed_out)

  notify::Notifier::Callback make(int tag) {
    return [this, tag](bool timed_out) {
      std::lock_guard lock(m);
      seen.emplace_back(tag, timed_out);
      cv.notify_all();
    };
  }
  bool wait_for(std::size_t n, std::chrono::milliseconds timeout = 5s) {
    std::unique_lock lock(m);
    return cv.wait_for(lock, timeout, [&] { return seen.size() >= n; });
  }
  std::size_t size() {
    std::lock_guard lock(m);
    return seen.size();
  }
};

double gauge(metrics::Registry& r, const char* name, const char* help) {
  return r.gauge(name, help).value();
}

double waiting_gauge(metrics::Registry& r) {
  return gauge(r, "eltrix_sync_connections", "Sync requests currently waiting for events.");
}

}  // namespace

TEST_CASE("keys are prefixed by kind", "[notify]") {
  CHECK(notify::room_key("!a:x") == "room:!a:x");
  CHECK(notify::user_key("@u:x") == "user:@u:x");
}

TEST_CASE("notify wakes the waiters on a key, once", "[notify]") {
  metrics::Registry registry;
  // node.cpp declares the gauge first; the notifier must share it.
  registry.gauge("eltrix_sync_connections", "Sync requests currently waiting for events.");
  Calls calls;  // declared first: outlives the notifier, which calls it
  notify::Notifier n(registry, 100);
  const auto far = Clock::now() + 60s;
  const auto a = n.wait({notify::room_key("!a"), notify::user_key("@u")}, far, calls.make(1));
  const auto b = n.wait({notify::room_key("!b")}, far, calls.make(2));
  const auto c = n.wait({notify::room_key("!a"), notify::room_key("!a")}, far, calls.make(3));
  REQUIRE(a != 0);
  REQUIRE(b != 0);
  REQUIRE(c != 0);
  CHECK(a != b);
  CHECK(n.waiting() == 3);
  CHECK(waiting_gauge(registry) == 3);

  n.notify({"room:!nobody", "user:@nobody"});  // no waiter: nothing happens
  std::this_thread::sleep_for(20ms);
  CHECK(calls.size() == 0);

  n.notify({notify::room_key("!a")});
  REQUIRE(calls.wait_for(2));
  std::this_thread::sleep_for(20ms);
  {
    std::lock_guard lock(calls.m);
    REQUIRE(calls.seen.size() == 2);
    std::sort(calls.seen.begin(), calls.seen.end());
    CHECK(calls.seen[0] == std::make_pair(1, false));
    CHECK(calls.seen[1] == std::make_pair(3, false));
  }
  CHECK(n.waiting() == 1);
  CHECK(waiting_gauge(registry) == 1);
  // Woken waiters are gone from every key they waited on.
  n.notify({notify::user_key("@u"), notify::room_key("!a")});
  std::this_thread::sleep_for(20ms);
  CHECK(calls.size() == 2);
  CHECK_FALSE(n.cancel(a));

  n.notify({notify::room_key("!b")});
  REQUIRE(calls.wait_for(3));
  CHECK(n.waiting() == 0);
  CHECK(waiting_gauge(registry) == 0);
}

TEST_CASE("deadlines fire with timed_out, in order, and past deadlines at once", "[notify]") {
  metrics::Registry registry;
  Calls calls;  // declared first: outlives the notifier, which calls it
  notify::Notifier n(registry, 100);
  const auto t0 = Clock::now();
  n.wait({"k"}, t0 + 150ms, calls.make(2));
  n.wait({"k"}, t0 + 50ms, calls.make(1));
  n.wait({"j"}, t0 - 1s, calls.make(0));
  REQUIRE(calls.wait_for(3));
  const auto elapsed = Clock::now() - t0;
  CHECK(elapsed >= 150ms);
  std::lock_guard lock(calls.m);
  CHECK(calls.seen == std::vector<std::pair<int, bool>>{{0, true}, {1, true}, {2, true}});
}

TEST_CASE("cancel removes a waiter whose callback then never runs", "[notify]") {
  metrics::Registry registry;
  Calls calls;  // declared first: outlives the notifier, which calls it
  notify::Notifier n(registry, 100);
  const auto id = n.wait({"k"}, Clock::now() + 100ms, calls.make(1));
  CHECK(n.cancel(id));
  CHECK_FALSE(n.cancel(id));
  CHECK_FALSE(n.cancel(0));
  CHECK_FALSE(n.cancel(987654));
  CHECK(n.waiting() == 0);
  n.notify({"k"});
  std::this_thread::sleep_for(200ms);  // past the deadline too
  CHECK(calls.size() == 0);
  CHECK(waiting_gauge(registry) == 0);
}

TEST_CASE("each waiter hears back exactly once under racing notify, cancel and timeout",
          "[notify]") {
  metrics::Registry registry;
  notify::Notifier n(registry, 100000, 3);
  std::mt19937 rng(12345);
  for (int round = 0; round < 20; ++round) {
    constexpr int kWaiters = 500;
    std::vector<std::atomic<int>> called(kWaiters);
    std::vector<std::atomic<bool>> cancelled(kWaiters);
    std::vector<std::uint64_t> ids(kWaiters);
    std::vector<std::string> keys;
    const auto now = Clock::now();
    for (int i = 0; i < kWaiters; ++i) {
      // A few shared keys, so one notify wakes many waiters at once.
      keys.push_back("room:" + std::to_string(i % 37));
      const auto deadline = now + std::chrono::microseconds(rng() % 3000);
      ids[i] = n.wait({keys.back(), "user:" + std::to_string(i)}, deadline,
                      [&called, i](bool) { called[i].fetch_add(1); });
      REQUIRE(ids[i] != 0);
    }
    std::vector<int> order(kWaiters);
    for (int i = 0; i < kWaiters; ++i) order[i] = i;
    auto cancel_order = order;
    std::shuffle(order.begin(), order.end(), rng);
    std::shuffle(cancel_order.begin(), cancel_order.end(), rng);
    auto notifier = std::async(std::launch::async, [&] {
      for (int i : order) n.notify({"user:" + std::to_string(i)});
    });
    auto room_notifier = std::async(std::launch::async, [&] {
      for (int r = 0; r < 37; r += 3) n.notify({"room:" + std::to_string(r)});
    });
    auto canceller = std::async(std::launch::async, [&] {
      for (int i : cancel_order) {
        if (n.cancel(ids[i])) cancelled[i] = true;
      }
    });
    notifier.get();
    room_notifier.get();
    canceller.get();
    const auto give_up = Clock::now() + 5s;
    const auto settled = [&] {
      for (int i = 0; i < kWaiters; ++i) {
        if (!cancelled[i] && called[i] == 0) return false;
      }
      return true;
    };
    while (!settled() && Clock::now() < give_up) std::this_thread::sleep_for(1ms);
    std::this_thread::sleep_for(10ms);  // room for a (wrong) second call
    int bad = 0;
    for (int i = 0; i < kWaiters; ++i) {
      if (called[i] + (cancelled[i] ? 1 : 0) != 1) ++bad;
    }
    INFO("round " << round);
    REQUIRE(bad == 0);
    REQUIRE(n.waiting() == 0);
  }
  CHECK(waiting_gauge(registry) == 0);
}

TEST_CASE("wait returns 0 beyond max_waiting, and capacity frees as waiters leave", "[notify]") {
  metrics::Registry registry;
  Calls calls;  // declared first: outlives the notifier, which calls it
  notify::Notifier n(registry, 3);
  const auto far = Clock::now() + 60s;
  const auto a = n.wait({"a"}, far, calls.make(1));
  CHECK(n.wait({"b"}, far, calls.make(2)) != 0);
  CHECK(n.wait({"c"}, far, calls.make(3)) != 0);
  CHECK(n.wait({"d"}, far, calls.make(4)) == 0);
  CHECK(registry
            .counter("eltrix_sync_waits_refused_total",
                     "Sync waits refused because the limit of waiting syncs was reached.")
            .value() == 1);
  CHECK(gauge(registry, "eltrix_sync_connections_limit",
              "Maximum number of sync requests waiting at once on this node (further ones "
              "answer at once).") == 3);
  CHECK(n.cancel(a));
  CHECK(n.wait({"d"}, far, calls.make(4)) != 0);
  n.notify({"b"});
  REQUIRE(calls.wait_for(1));
  CHECK(n.wait({"e"}, far, calls.make(5)) != 0);
  CHECK(n.waiting() == 3);
}

TEST_CASE("wake_all wakes every waiter with timed_out", "[notify]") {
  metrics::Registry registry;
  Calls calls;  // declared first: outlives the notifier, which calls it
  notify::Notifier n(registry, 100);
  for (int i = 0; i < 10; ++i)
    n.wait({"k" + std::to_string(i % 3)}, Clock::now() + 60s, calls.make(i));
  n.wake_all();
  REQUIRE(calls.wait_for(10));
  CHECK(n.waiting() == 0);
  std::lock_guard lock(calls.m);
  CHECK(std::all_of(calls.seen.begin(), calls.seen.end(), [](auto& p) { return p.second; }));
}

TEST_CASE("callbacks run without the lock and may call back into the notifier", "[notify]") {
  metrics::Registry registry;
  notify::Notifier n(registry, 100, 1);
  std::promise<std::size_t> inner;
  n.wait({"k"}, Clock::now() + 60s, [&](bool) {
    // Would deadlock if the notifier held its lock here.
    const auto id = n.wait({"k2"}, Clock::now() + 60s, [](bool) {});
    n.notify({"nothing"});
    n.cancel(id);
    inner.set_value(n.waiting());
  });
  n.notify({"k"});
  auto f = inner.get_future();
  REQUIRE(f.wait_for(5s) == std::future_status::ready);
  CHECK(f.get() == 0);
}

TEST_CASE("destroying the notifier times out outstanding waiters and refuses new ones",
          "[notify]") {
  metrics::Registry registry;
  std::atomic<int> timed_out{0};
  std::atomic<int> rewait_ids{0};
  {
    notify::Notifier n(registry, 100);
    for (int i = 0; i < 5; ++i) {
      n.wait({"k"}, Clock::now() + 60s, [&](bool t) {
        if (t) ++timed_out;
        // A re-waiting handler must not keep the notifier alive forever.
        if (n.wait({"k"}, Clock::now() + 60s, [](bool) {}) != 0) ++rewait_ids;
      });
    }
  }
  CHECK(timed_out == 5);
  CHECK(rewait_ids == 0);
  CHECK(waiting_gauge(registry) == 0);
}

TEST_CASE("notify on a hot key is proportional to its waiters", "[notify]") {
  // Not a timing test: checks that many keys with no waiters and one key with
  // many waiters both behave (the index drops keys nobody waits on).
  metrics::Registry registry;
  notify::Notifier n(registry, 5000);
  std::atomic<int> called{0};
  for (int i = 0; i < 2000; ++i) {
    n.wait({"room:hot", "user:" + std::to_string(i)}, Clock::now() + 60s, [&](bool) { ++called; });
  }
  for (int i = 0; i < 10000; ++i) n.notify({"room:cold" + std::to_string(i)});
  CHECK(called == 0);
  n.notify({"room:hot"});
  for (int i = 0; i < 5000 && called < 2000; ++i) std::this_thread::sleep_for(1ms);
  CHECK(called == 2000);
  CHECK(n.waiting() == 0);
}

// ---------------------------------------------------------------------------
// The pairing with http::Deferred shown in notifier.h, run without a server.

namespace {

using Result = std::vector<std::string>;  // "events"; empty: nothing new

http::Response to_response(const Result& r) {
  return http::Response::json(200, nlohmann::json{{"events", r}});
}

class SyncWait final : public http::Deferred, public std::enable_shared_from_this<SyncWait> {
 public:
  SyncWait(notify::Notifier& n, std::vector<std::string> keys, Clock::time_point deadline,
           std::function<Result()> compute)
      : notifier_(n), keys_(std::move(keys)), deadline_(deadline), compute_(std::move(compute)) {}

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
    if (id != 0 && notifier_.cancel(id)) complete_(to_response(Result{}));
  }

 private:
  void arm() {
    std::unique_lock lock(mutex_);
    if (!cancelled_) {
      id_ =
          notifier_.wait(keys_, deadline_, [self = shared_from_this()](bool t) { self->woken(t); });
      if (id_ != 0) return;
    }
    lock.unlock();
    complete_(to_response(compute_()));
  }
  void woken(bool timed_out) {
    {
      std::lock_guard lock(mutex_);
      id_ = 0;
    }
    Result r = compute_();
    if (r.empty() && !timed_out && Clock::now() < deadline_) {
      arm();
    } else {
      complete_(to_response(r));
    }
  }

  notify::Notifier& notifier_;
  std::vector<std::string> keys_;
  Clock::time_point deadline_;
  std::function<Result()> compute_;
  std::function<void(http::Response)> complete_;
  std::mutex mutex_;
  std::uint64_t id_ = 0;
  bool cancelled_ = false;
};

/// A complete() that records its calls.
struct Completion {
  std::mutex m;
  std::condition_variable cv;
  std::vector<std::string> bodies;
  std::function<void(http::Response)> fn() {
    return [this](http::Response r) {
      std::lock_guard lock(m);
      bodies.push_back(r.body);
      cv.notify_all();
    };
  }
  bool wait_for(std::size_t n, std::chrono::milliseconds timeout = 5s) {
    std::unique_lock lock(m);
    return cv.wait_for(lock, timeout, [&] { return bodies.size() >= n; });
  }
};

}  // namespace

TEST_CASE("notifier and Deferred: re-wait on irrelevant wake-ups, answer on events", "[notify]") {
  metrics::Registry registry;
  notify::Notifier n(registry, 100);
  std::mutex data_mutex;
  Result events;
  auto compute = [&] {
    std::lock_guard lock(data_mutex);
    return events;
  };
  Completion done;
  auto d = std::make_shared<SyncWait>(n, std::vector<std::string>{notify::room_key("!r")},
                                      Clock::now() + 30s, compute);
  d->start(done.fn());
  CHECK(n.waiting() == 1);
  n.notify({notify::room_key("!r")});  // nothing new for this request: waits again
  for (int i = 0; i < 1000 && n.waiting() != 1; ++i) std::this_thread::sleep_for(1ms);
  std::this_thread::sleep_for(20ms);
  CHECK(n.waiting() == 1);
  CHECK(done.bodies.empty());
  {
    std::lock_guard lock(data_mutex);
    events.push_back("$e1");
  }
  n.notify({notify::room_key("!r")});
  REQUIRE(done.wait_for(1));
  CHECK(done.bodies[0] == R"({"events":["$e1"]})");
  CHECK(n.waiting() == 0);
}

TEST_CASE("notifier and Deferred: timeout, cancel and a full notifier each answer once",
          "[notify]") {
  metrics::Registry registry;
  notify::Notifier n(registry, 1);
  auto nothing = [] { return Result{}; };

  Completion timed;
  auto a = std::make_shared<SyncWait>(n, std::vector<std::string>{"room:!a"}, Clock::now() + 50ms,
                                      nothing);
  a->start(timed.fn());
  // The notifier is full (max 1): the next one answers at once.
  Completion full;
  auto b = std::make_shared<SyncWait>(n, std::vector<std::string>{"room:!b"}, Clock::now() + 30s,
                                      nothing);
  b->start(full.fn());
  CHECK(full.bodies.size() == 1);
  REQUIRE(timed.wait_for(1));
  CHECK(timed.bodies[0] == R"({"events":[]})");

  for (int i = 0; i < 200; ++i) {
    Completion cancelled;
    auto c = std::make_shared<SyncWait>(n, std::vector<std::string>{"room:!c"}, Clock::now() + 30s,
                                        nothing);
    c->start(cancelled.fn());
    std::thread racer([&] { n.notify({"room:!c"}); });
    c->cancel();
    racer.join();
    REQUIRE(cancelled.wait_for(1));
    std::this_thread::sleep_for(1ms);
    std::lock_guard lock(cancelled.m);
    REQUIRE(cancelled.bodies.size() == 1);
  }
  for (int i = 0; i < 100 && n.waiting() != 0; ++i) std::this_thread::sleep_for(1ms);
  CHECK(n.waiting() == 0);
}

TEST_CASE("beyond max_per_owner the owner's oldest waiter is woken first", "[notify]") {
  metrics::Registry registry;
  Calls calls;
  notify::Notifier n(registry, 100, 2, 2);
  const auto later = Clock::now() + 60s;
  CHECK(n.wait({"k"}, later, calls.make(1), 0, "@a:x") != 0);
  CHECK(n.wait({"k"}, later, calls.make(2), 0, "@a:x") != 0);
  CHECK(n.wait({"k"}, later, calls.make(9), 0, "@b:x") != 0);  // another owner
  CHECK(n.wait({"k"}, later, calls.make(3), 0, "@a:x") != 0);
  REQUIRE(calls.wait_for(1));
  std::this_thread::sleep_for(50ms);
  {
    std::lock_guard lock(calls.m);
    CHECK(calls.seen == std::vector<std::pair<int, bool>>{{1, true}});
  }
  CHECK(n.waiting() == 3);
  CHECK(registry.render().find("\neltrix_sync_waits_evicted_total 1\n") != std::string::npos);
  // Without an owner nothing is counted per owner.
  CHECK(n.wait({"k"}, later, calls.make(4)) != 0);
  CHECK(n.wait({"k"}, later, calls.make(5)) != 0);
  CHECK(n.wait({"k"}, later, calls.make(6)) != 0);
  CHECK(n.waiting() == 6);
  n.notify({"k"});
  REQUIRE(calls.wait_for(7));
}
