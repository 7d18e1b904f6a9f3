// Read-your-writes bookkeeping: ReadScope (per request) and WritePositions
// (per user, in the node and a shared cache), with an in-memory cache and a
// manual clock.
#include "storage/write_positions.h"
#include "../client/memory_cache.h"
#include "storage/read_scope.h"

#include <catch2/catch.hpp>

#include <thread>

namespace eltrix::storage {
namespace {

using namespace std::chrono_literals;

struct Clock {
  std::chrono::steady_clock::time_point now{std::chrono::hours(1)};
  WritePositions::Clock fn() {
    return [this] { return now; };
  }
};

WritePositions make(test::MemoryCache* cache, WritePositionsOptions options, Clock& clock) {
  return WritePositions(cache, {}, options, clock.fn());
}

}  // namespace

TEST_CASE("write positions: a per-node book on a single node", "[storage][ryw]") {
  Clock clock;
  WritePositions book(nullptr, {}, {.ttl = 60s}, clock.fn());
  CHECK(book.required("@a:x") == 0);
  book.advance("@a:x", 100);
  book.advance("@a:x", 90);  // never moves back
  CHECK(book.required("@a:x") == 100);
  CHECK(book.required("@b:x") == 0);
  clock.now += 61s;
  CHECK(book.required("@a:x") == 0);  // expired: every replica in rotation has it
}

TEST_CASE("write positions: clustered with a per-node cache, unknown users are unknown",
          "[storage][ryw]") {
  Clock clock;
  test::MemoryCache cache;
  auto book = make(&cache, {.cache_shared = false, .clustered = true}, clock);
  book.advance("@a:x", 100);
  // Another node may hold a later write of the same user: ask the primary.
  CHECK_FALSE(book.required("@a:x").has_value());
  CHECK_FALSE(book.required("@b:x").has_value());
  CHECK(cache.size() == 0);  // a per-node cache is not used for positions
}

TEST_CASE("write positions: a shared cache carries positions between nodes", "[storage][ryw]") {
  Clock clock;
  test::MemoryCache cache;
  WritePositionsOptions options{.cache_shared = true, .clustered = true, .ttl = 60s};
  auto node_a = make(&cache, options, clock);
  auto node_b = make(&cache, options, clock);
  node_a.advance("@a:x", 4242);
  CHECK(cache.get(WritePositions::cache_key("@a:x")) == "4242");
  CHECK(node_b.required("@a:x") == 4242);
  CHECK(node_b.required("@b:x") == 0);

  SECTION("a failing cache makes positions unknown for a while") {
    cache.failing = true;
    CHECK_FALSE(node_b.required("@a:x").has_value());
    cache.failing = false;
    // A position stored meanwhile may have been lost: still distrusted.
    CHECK_FALSE(node_b.required("@a:x").has_value());
    clock.now += 61s;
    CHECK(node_b.required("@a:x").has_value());
  }
  SECTION("a failed store is distrusted too") {
    cache.failing = true;
    node_a.advance("@a:x", 5000);
    cache.failing = false;
    CHECK_FALSE(node_a.required("@c:x").has_value());
  }
  SECTION("garbage in the cache is ignored, not trusted") {
    cache.set(WritePositions::cache_key("@d:x"), "not a number", 60s);
    CHECK(node_b.required("@d:x") == 0);
  }
}

TEST_CASE("write positions: a full map raises a floor instead of forgetting a write",
          "[storage][ryw]") {
  Clock clock;
  WritePositions book(nullptr, {}, {.ttl = 60s, .max_local_entries = 3}, clock.fn());
  book.advance("@a:x", 10);
  book.advance("@b:x", 30);
  book.advance("@c:x", 20);
  CHECK(book.local_size() == 3);
  book.advance("@d:x", 5);  // full, nothing expired: everyone now needs 30
  CHECK(book.floor() == 30);
  CHECK(book.required("@a:x") == 30);
  CHECK(book.required("@d:x") == 30);
  CHECK(book.required("@nobody:x") == 30);
  CHECK(book.local_size() == 1);

  clock.now += 61s;  // expired entries go first, without raising the floor
  book.advance("@e:x", 40);
  book.advance("@f:x", 41);
  book.advance("@g:x", 42);
  CHECK(book.floor() == 30);
}

TEST_CASE("read scope: one lookup per request, raised by the request's own writes",
          "[storage][ryw]") {
  struct CountingBook final : PositionBook {
    int lookups = 0;
    std::uint64_t stored = 7;
    std::optional<std::uint64_t> required(const std::string& /*user*/) override {
      ++lookups;
      return stored;
    }
    void advance(const std::string& /*user*/, std::uint64_t position) override {
      stored = std::max(stored, position);
    }
  } book;

  CHECK(ReadScope::current() == nullptr);
  {
    ReadScope scope;
    CHECK(ReadScope::current() == &scope);
    CHECK(scope.required(&book) == 0);  // nobody identified yet
    ReadScope::identify("@a:x");
    CHECK(scope.required(&book) == 7);
    CHECK(scope.required(&book) == 7);
    CHECK(book.lookups == 1);
    scope.wrote(&book, 50);
    CHECK(scope.required(&book) == 50);
    CHECK(book.stored == 50);
    CHECK(book.lookups == 1);
    {
      ReadScope woken("@a:x", 80);  // a floor every read of the scope needs
      CHECK(ReadScope::current() == &woken);
      CHECK(woken.required(&book) == 80);
    }
    CHECK(ReadScope::current() == &scope);
  }
  CHECK(ReadScope::current() == nullptr);
  ReadScope::identify("@b:x");  // without a scope: nothing happens

  std::thread other([] { CHECK(ReadScope::current() == nullptr); });
  ReadScope scope("@c:x");
  other.join();
}

TEST_CASE("read scope: an unknown position is asked for once and then known", "[storage][ryw]") {
  struct UnknownBook final : PositionBook {
    std::optional<std::uint64_t> required(const std::string& /*user*/) override {
      return std::nullopt;
    }
    void advance(const std::string& /*user*/, std::uint64_t /*position*/) override {}
  } book;
  ReadScope scope("@a:x", 5);
  CHECK_FALSE(scope.required(&book).has_value());
  scope.set_required(3);              // the primary's position, asked once
  CHECK(scope.required(&book) == 5);  // the floor still counts
  scope.wrote(&book, 9);
  CHECK(scope.required(&book) == 9);
}

}  // namespace eltrix::storage
