#include "notify/stream_recheck.h"

#include "metrics/registry.h"
#include "notify/notifier.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <future>

using namespace eltrix;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

/// A stream whose head and changes the test sets; counts what was asked.
struct FakeStream {
  std::int64_t head = 10;
  std::vector<std::pair<std::string, std::int64_t>> changes;
  int polls = 0;
  int change_queries = 0;

  notify::StreamRecheck::Poll poll() {
    return [this](std::int64_t last, bool with_changes) {
      ++polls;
      notify::StreamObservation seen{head, {}};
      if (with_changes && head > last) {
        ++change_queries;
        for (const auto& c : changes) {
          if (c.second > last && c.second <= head) seen.changes.push_back(c);
        }
      }
      return seen;
    };
  }
};

}  // namespace

TEST_CASE("stream recheck: wakes only waiters built before a change to their keys",
          "[notify][recheck]") {
  metrics::Registry metrics;
  notify::Notifier notifier(metrics, 100, 1);
  FakeStream stream;
  notify::StreamRecheck recheck(notifier, stream.poll(), 1h, metrics);

  CHECK(recheck.tick() == 0);  // the baseline: head 10
  CHECK(stream.change_queries == 0);

  std::promise<bool> stale_woken;
  std::promise<bool> other_woken;
  const auto deadline = Clock::now() + 10s;
  // Built at 10, waits on room:a; another built at 12 (it saw the change).
  notifier.wait(
      {"room:a"}, deadline, [&](bool t) { stale_woken.set_value(t); }, 10);
  const auto fresh = notifier.wait(
      {"room:a"}, deadline, [](bool) {}, 12);
  notifier.wait(
      {"room:b"}, deadline, [&](bool t) { other_woken.set_value(t); }, 10);

  CHECK(recheck.tick() == 0);  // nothing moved: no change query
  CHECK(stream.change_queries == 0);

  stream.head = 12;
  stream.changes = {{"room:a", 12}};
  CHECK(recheck.tick() == 1);
  CHECK(stream.change_queries == 1);
  auto stale = stale_woken.get_future();
  REQUIRE(stale.wait_for(5s) == std::future_status::ready);
  CHECK_FALSE(stale.get());       // woken, not timed out
  CHECK(notifier.cancel(fresh));  // still waiting: it already had the change
  CHECK(metrics.render().find("eltrix_sync_recheck_wakeups_total 1") != std::string::npos);

  // The same window is never scanned twice.
  CHECK(recheck.tick() == 0);
  CHECK(stream.change_queries == 1);
  notifier.wake_all();
  (void)other_woken;
}

TEST_CASE("stream recheck: without waiters only the head is read", "[notify][recheck]") {
  metrics::Registry metrics;
  notify::Notifier notifier(metrics, 100, 1);
  FakeStream stream;
  notify::StreamRecheck recheck(notifier, stream.poll(), 1h, metrics);
  recheck.tick();
  stream.head = 50;
  stream.changes = {{"room:a", 40}};
  CHECK(recheck.tick() == 0);
  CHECK(stream.change_queries == 0);
  // A head going backwards (a lagging source) keeps the newest baseline.
  stream.head = 30;
  recheck.tick();
  std::atomic<bool> woken{false};
  notifier.wait(
      {"room:a"}, Clock::now() + 10s, [&](bool) { woken = true; }, 45);
  stream.head = 50;
  CHECK(recheck.tick() == 0);  // 50 is not past the baseline 50
  stream.head = 60;
  stream.changes = {{"room:a", 55}};
  CHECK(recheck.tick() == 1);
}

TEST_CASE("stream recheck: a failing poll is retried by the thread", "[notify][recheck]") {
  metrics::Registry metrics;
  notify::Notifier notifier(metrics, 100, 1);
  std::atomic<int> calls{0};
  notify::StreamRecheck recheck(
      notifier,
      [&](std::int64_t, bool) -> notify::StreamObservation {
        ++calls;
        throw std::runtime_error("database away");
      },
      10ms, metrics);
  recheck.start();
  const auto until = Clock::now() + 5s;
  while (calls < 3 && Clock::now() < until) std::this_thread::sleep_for(5ms);
  recheck.stop();
  CHECK(calls >= 3);
}

TEST_CASE("stream recheck: the first round starts from the oldest waiter", "[notify][recheck]") {
  metrics::Registry metrics;
  notify::Notifier notifier(metrics, 100, 1);
  FakeStream stream;
  notify::StreamRecheck recheck(notifier, stream.poll(), 1h, metrics);
  // A sync parked before the first round, built at 5; the change at 7
  // committed after its own registration check.
  std::promise<bool> woken;
  notifier.wait(
      {"user:@u:x"}, Clock::now() + 10s, [&](bool t) { woken.set_value(t); }, 5);
  stream.head = 8;
  stream.changes = {{"user:@u:x", 7}};
  CHECK(recheck.tick() == 1);
  REQUIRE(woken.get_future().wait_for(5s) == std::future_status::ready);
}
