#include "services/typing_state.h"

#include <catch2/catch.hpp>

#include <set>

using eltrix::services::TypingOptions;
using eltrix::services::TypingStateImpl;
using namespace std::chrono_literals;

namespace {

/// A TypingStateImpl on a hand-driven clock, without the sweep thread,
/// counting wake-ups per room.
struct Fixture {
  TypingStateImpl::Clock::time_point now{};
  std::multiset<std::string> woken;
  TypingStateImpl typing;

  explicit Fixture(TypingOptions options = test_options())
      : typing([this](const std::string& room) { woken.insert(room); }, options,
               [this] { return now; }) {}

  static TypingOptions test_options() {
    TypingOptions options;
    options.sweep_interval = 0ms;
    return options;
  }

  std::vector<std::string> users(const std::string& room, std::uint64_t since = 0) {
    auto content = typing.typing_since(room, since);
    REQUIRE(content);
    return (*content)["user_ids"].get<std::vector<std::string>>();
  }
};

}  // namespace

TEST_CASE("typing: start, list, serial and wake-ups", "[client][typing]") {
  Fixture f;
  std::uint64_t start = f.typing.serial();
  CHECK(start > 1'000'000'000'000'000ULL);  // seeded from the wall clock (µs)
  CHECK(f.users("!r:x").empty());           // since 0: always an answer

  f.typing.set_typing("!r:x", "@a:x", true, 10s);
  // A hybrid clock: past the previous serial (and the wall clock).
  const std::uint64_t first = f.typing.serial();
  CHECK(first > start);
  CHECK(f.woken.count("!r:x") == 1);
  CHECK(f.users("!r:x") == std::vector<std::string>{"@a:x"});
  CHECK(f.users("!r:x", start) == std::vector<std::string>{"@a:x"});
  CHECK_FALSE(f.typing.typing_since("!r:x", first));
  CHECK_FALSE(f.typing.typing_since("!other:x", first));

  // Re-sending extends the timeout: no change anyone must be told about.
  f.now += 5s;
  f.typing.set_typing("!r:x", "@a:x", true, 10s);
  CHECK(f.typing.serial() == first);
  CHECK(f.woken.count("!r:x") == 1);
  f.now += 8s;  // 13 s after the first request, 8 s after the second
  CHECK(f.typing.sweep().empty());

  f.typing.set_typing("!r:x", "@b:x", true, 10s);
  CHECK(f.users("!r:x") == std::vector<std::string>{"@a:x", "@b:x"});
  CHECK(f.woken.count("!r:x") == 2);

  // Stopping is a change; stopping again is not.
  f.typing.set_typing("!r:x", "@a:x", false, 0ms);
  CHECK(f.users("!r:x") == std::vector<std::string>{"@b:x"});
  CHECK(f.woken.count("!r:x") == 3);
  std::uint64_t after_stop = f.typing.serial();
  f.typing.set_typing("!r:x", "@a:x", false, 0ms);
  f.typing.set_typing("!never:x", "@a:x", false, 0ms);
  CHECK(f.typing.serial() == after_stop);
  CHECK(f.woken.count("!r:x") == 3);
  CHECK(f.woken.count("!never:x") == 0);
}

TEST_CASE("typing: expiry by sweep bumps the serial and wakes the room", "[client][typing]") {
  Fixture f;
  f.typing.set_typing("!r:x", "@a:x", true, 5s);
  f.typing.set_typing("!s:x", "@b:x", true, 20s);
  std::uint64_t before = f.typing.serial();
  f.woken.clear();

  f.now += 4999ms;
  CHECK(f.typing.sweep().empty());
  f.now += 1ms;
  CHECK(f.typing.sweep() == std::vector<std::string>{"!r:x"});
  CHECK(f.woken.count("!r:x") == 1);
  CHECK(f.woken.count("!s:x") == 0);
  CHECK(f.typing.serial() > before);
  // A sync that saw "@a:x typing" learns the list is empty now.
  CHECK(f.users("!r:x", before).empty());
  CHECK_FALSE(f.typing.typing_since("!r:x", before + 1));
  CHECK(f.users("!s:x") == std::vector<std::string>{"@b:x"});
}

TEST_CASE("typing: expired entries vanish lazily between sweeps", "[client][typing]") {
  Fixture f;
  f.typing.set_typing("!r:x", "@a:x", true, 2s);
  std::uint64_t seen = f.typing.serial();
  f.woken.clear();
  f.now += 3s;
  // No sweep ran, but the expired typist is not reported, and the change
  // is counted and announced.
  CHECK(f.users("!r:x", seen).empty());
  CHECK(f.typing.serial() > seen);
  CHECK(f.woken.count("!r:x") == 1);
  CHECK(f.typing.sweep().empty());  // nothing left to expire
}

TEST_CASE("typing: timeouts are clamped and defaulted", "[client][typing]") {
  TypingOptions options = Fixture::test_options();
  options.min_timeout = 1s;
  options.max_timeout = 120s;
  options.default_timeout = 30s;
  Fixture f(options);

  f.typing.set_typing("!r:x", "@long:x", true, 3600s);  // capped at 120 s
  f.typing.set_typing("!r:x", "@short:x", true, 1ms);   // raised to 1 s
  f.typing.set_typing("!r:x", "@none:x", true, 0ms);    // default 30 s
  f.now += 999ms;
  CHECK(f.users("!r:x").size() == 3);
  f.now += 1ms;
  CHECK(f.users("!r:x") == std::vector<std::string>{"@long:x", "@none:x"});
  f.now = TypingStateImpl::Clock::time_point{} + 30s;
  CHECK(f.users("!r:x") == std::vector<std::string>{"@long:x"});
  f.now = TypingStateImpl::Clock::time_point{} + 119s;
  CHECK(f.users("!r:x") == std::vector<std::string>{"@long:x"});
  f.now = TypingStateImpl::Clock::time_point{} + 120s;
  CHECK(f.users("!r:x").empty());
}

TEST_CASE("typing: bounded rooms and typists; idle rooms are forgotten", "[client][typing]") {
  TypingOptions options = Fixture::test_options();
  options.max_rooms = 2;
  options.max_users_per_room = 2;
  options.forget_after = 60s;
  Fixture f(options);

  f.typing.set_typing("!a:x", "@1:x", true, 10s);
  f.typing.set_typing("!a:x", "@2:x", true, 10s);
  f.typing.set_typing("!a:x", "@3:x", true, 10s);  // over the per-room bound: ignored
  CHECK(f.users("!a:x") == std::vector<std::string>{"@1:x", "@2:x"});
  f.typing.set_typing("!b:x", "@1:x", true, 10s);
  std::uint64_t serial = f.typing.serial();
  f.typing.set_typing("!c:x", "@1:x", true, 10s);  // over the room bound: ignored
  CHECK(f.typing.serial() == serial);
  CHECK(f.typing.room_count() == 2);
  CHECK(f.users("!c:x").empty());

  // Everyone stops; the rooms stay known for forget_after, then go.
  f.now += 10s;
  CHECK(f.typing.sweep().size() == 2);
  CHECK(f.typing.room_count() == 2);
  f.now += 59s;
  f.typing.sweep();
  CHECK(f.typing.room_count() == 2);
  f.now += 1s;
  f.typing.sweep();
  CHECK(f.typing.room_count() == 0);
  // Room for new typing again.
  f.typing.set_typing("!c:x", "@1:x", true, 10s);
  CHECK(f.users("!c:x") == std::vector<std::string>{"@1:x"});
}

TEST_CASE("typing: the sweep thread expires typists on its own", "[client][typing]") {
  std::mutex mutex;
  std::condition_variable cv;
  std::vector<std::string> woken;
  TypingOptions options;
  options.sweep_interval = 10ms;
  options.min_timeout = 1ms;
  TypingStateImpl typing(
      [&](const std::string& room) {
        std::lock_guard lock(mutex);
        woken.push_back(room);
        cv.notify_all();
      },
      options);
  typing.set_typing("!r:x", "@a:x", true, 30ms);
  std::unique_lock lock(mutex);
  // The start and the expiry: two wake-ups, the second from the thread.
  CHECK(cv.wait_for(lock, 5s, [&] { return woken.size() >= 2; }));
  lock.unlock();
  auto content = typing.typing_since("!r:x", 0);
  REQUIRE(content);
  CHECK((*content)["user_ids"].empty());
  typing.stop();
  typing.stop();  // idempotent
}

TEST_CASE("typing: a peer's change applies here without being published again",
          "[client][typing]") {
  Fixture f;
  std::vector<std::string> published;
  f.typing.set_publisher([&](const std::string& room, const std::string& user, bool typing,
                             std::chrono::milliseconds) {
    published.push_back(room + " " + user + (typing ? " on" : " off"));
  });
  const std::uint64_t token_from_elsewhere = f.typing.serial();
  f.typing.apply_peer("!r:x", "@b:x", true, 10s);
  CHECK(published.empty());
  CHECK(f.woken.count("!r:x") == 1);
  // A token issued before the change (by any node) shows it.
  CHECK(f.users("!r:x", token_from_elsewhere) == std::vector<std::string>{"@b:x"});
  f.typing.set_typing("!r:x", "@a:x", true, 10s);
  f.typing.set_typing("!r:x", "@a:x", true, 10s);  // a re-send: published too
  CHECK(published == std::vector<std::string>{"!r:x @a:x on", "!r:x @a:x on"});
  // Serials follow the wall clock, so another node's later token compares later.
  const auto wall_now =
      static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count());
  CHECK(f.typing.serial() <= wall_now + 10);
}
