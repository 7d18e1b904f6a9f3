// The media-store contract (eltrix/plugin/media_store.h).
#include "contract/suites.h"

#include <atomic>
#include <chrono>
#include <map>
#include <stdexcept>
#include <thread>
#include <vector>

namespace eltrix::contract {

using plugin::ErrorKind;

namespace {

std::uint64_t put_string(plugin::MediaStore& store, std::string_view key, std::string data) {
  StringSource source(std::move(data), 3001);
  return store.put(key, source, {});
}

std::optional<std::string> read_range(plugin::MediaStore& store, std::string_view key,
                                      std::uint64_t offset, std::optional<std::uint64_t> length) {
  auto source = store.get(key, offset, length);
  if (!source) return std::nullopt;
  return drain(*source);
}

std::string invalid_key_name(const std::string& key) {
  std::string shown;
  for (char c : key.substr(0, 24)) shown += (c == '\0') ? std::string("\\0") : std::string(1, c);
  return shown + (key.size() > 24 ? "... (" + std::to_string(key.size()) + " bytes)" : "");
}

}  // namespace

void run_media_store_contract(const Factory<plugin::MediaStore>& make) {
  SECTION("the descriptor describes a media store") {
    auto store = make({});
    CHECK(store.info().kind == plugin::Kind::media_store);
    CHECK_FALSE(store.info().description.empty());
    CHECK(store->health().status == plugin::HealthStatus::ok);
  }

  SECTION("a missing object is absent everywhere") {
    auto store = make({});
    CHECK(store->get("example.org/missing", 0, std::nullopt) == nullptr);
    CHECK_FALSE(store->stat("example.org/missing").has_value());
    CHECK_FALSE(store->exists("example.org/missing"));
    CHECK_FALSE(store->erase("example.org/missing"));
  }

  SECTION("a multi-megabyte object streams in and out unchanged") {
    auto store = make({});
    constexpr std::uint64_t kSize = 5ULL * 1024 * 1024 + 123;
    PseudoRandomSource source(42, kSize);
    plugin::PutOptions options{.content_type = "application/octet-stream", .expected_size = kSize};
    CHECK(store->put("example.org/AbCdEf0123456789", source, options) == kSize);

    auto info = store->stat("example.org/AbCdEf0123456789");
    REQUIRE(info.has_value());
    CHECK(info->size == kSize);
    CHECK(store->exists("example.org/AbCdEf0123456789"));

    auto reader = store->get("example.org/AbCdEf0123456789", 0, std::nullopt);
    REQUIRE(reader != nullptr);
    std::string back = drain(*reader);
    REQUIRE(back.size() == kSize);
    CHECK((back == pseudo_random_bytes(42, kSize)));
  }

  SECTION("ranges: offset and length, clipped at the end, empty past it") {
    auto store = make({});
    const std::string data = pseudo_random_bytes(7, 1000);
    REQUIRE(put_string(*store, "example.org/range", data) == 1000);
    CHECK(read_range(*store, "example.org/range", 0, 10) == data.substr(0, 10));
    CHECK(read_range(*store, "example.org/range", 100, 50) == data.substr(100, 50));
    CHECK(read_range(*store, "example.org/range", 990, std::nullopt) == data.substr(990));
    CHECK(read_range(*store, "example.org/range", 990, 100) == data.substr(990));
    CHECK(read_range(*store, "example.org/range", 0, 0) == std::string());
    CHECK(read_range(*store, "example.org/range", 1000, std::nullopt) == std::string());
    CHECK(read_range(*store, "example.org/range", 5000, 10) == std::string());
  }

  SECTION("an empty object exists with size 0") {
    auto store = make({});
    CHECK(put_string(*store, "example.org/empty", "") == 0);
    CHECK(store->exists("example.org/empty"));
    auto info = store->stat("example.org/empty");
    REQUIRE(info.has_value());
    CHECK(info->size == 0);
    CHECK(read_range(*store, "example.org/empty", 0, std::nullopt) == std::string());
  }

  SECTION("put replaces an object; erase removes it") {
    auto store = make({});
    put_string(*store, "example.org/doc", "first version, longer");
    put_string(*store, "example.org/doc", "second");
    CHECK(read_range(*store, "example.org/doc", 0, std::nullopt) == std::string("second"));
    CHECK(store->stat("example.org/doc")->size == 6);

    put_string(*store, "example.org/other", "stays");
    CHECK(store->erase("example.org/doc"));
    CHECK_FALSE(store->exists("example.org/doc"));
    CHECK(store->get("example.org/doc", 0, std::nullopt) == nullptr);
    CHECK_FALSE(store->erase("example.org/doc"));
    CHECK(read_range(*store, "example.org/other", 0, std::nullopt) == std::string("stays"));
  }

  SECTION("distinct keys are distinct objects, including long and nested ones") {
    auto store = make({});
    std::vector<std::string> keys = {
        "a/b",
        "a-b",
        "a_b",
        "ab",
        "thumbnails/example.org/abc/32-32-crop",
        "example.org/..a",
        std::string(plugin::kMaxObjectKeySize, 'x'),
        std::string(plugin::kMaxObjectKeySize - 1, 'x'),
    };
    // Near the limit with many segments: "s/s/s/.../s" and a long segment ending in "..".
    std::string many;
    while (many.size() + 2 <= plugin::kMaxObjectKeySize) many += many.empty() ? "s" : "/s";
    keys.push_back(many);
    keys.push_back(std::string(200, 'y') + "..");
    keys.push_back(std::string(200, 'y') + ".");
    keys.push_back(std::string(250, 'y') + "..");
    keys.push_back(std::string(200, 'z') + "/" + std::string(199, 'z') + ".");
    for (std::size_t i = 0; i < keys.size(); ++i) {
      INFO("key " << invalid_key_name(keys[i]));
      REQUIRE(plugin::is_valid_object_key(keys[i]));
      put_string(*store, keys[i], "object " + std::to_string(i));
    }
    for (std::size_t i = 0; i < keys.size(); ++i) {
      INFO("key " << invalid_key_name(keys[i]));
      CHECK(read_range(*store, keys[i], 0, std::nullopt) == "object " + std::to_string(i));
    }
    for (const auto& key : keys) CHECK(store->erase(key));
    for (const auto& key : keys) CHECK_FALSE(store->exists(key));
  }

  SECTION("invalid keys are rejected by every method with invalid_argument") {
    auto store = make({});
    const std::vector<std::string> invalid = {
        "",
        "../x",
        "a/../b",
        "..",
        "a//b",
        "/abs",
        "a/",
        "a/./b",
        ".",
        std::string("a\0b", 3),
        "a b",
        "a\\b",
        "%2F",
        "a%2Fb",
        "\xc3\xa9",
        std::string(600, 'a'),
        std::string(plugin::kMaxObjectKeySize + 1, 'a'),
    };
    for (const auto& key : invalid) {
      INFO("key " << invalid_key_name(key));
      StringSource source("data");
      require_error(ErrorKind::invalid_argument, [&] { store->put(key, source, {}); });
      require_error(ErrorKind::invalid_argument, [&] { (void)store->get(key, 0, std::nullopt); });
      require_error(ErrorKind::invalid_argument, [&] { (void)store->stat(key); });
      require_error(ErrorKind::invalid_argument, [&] { (void)store->exists(key); });
      require_error(ErrorKind::invalid_argument, [&] { (void)store->erase(key); });
    }
    CHECK_FALSE(store->exists("x"));
    CHECK_FALSE(store->exists("b"));
  }

  SECTION("a source that throws leaves nothing behind and the old object intact") {
    auto store = make({});
    {
      ThrowingSource source(300 * 1024);
      CHECK_THROWS_WITH(store->put("example.org/partial", source, {}), "source failed");
    }
    CHECK_FALSE(store->exists("example.org/partial"));
    CHECK(store->get("example.org/partial", 0, std::nullopt) == nullptr);

    put_string(*store, "example.org/kept", "the original");
    {
      ThrowingSource source(100);
      CHECK_THROWS_AS(store->put("example.org/kept", source, {}), std::runtime_error);
    }
    CHECK(read_range(*store, "example.org/kept", 0, std::nullopt) == std::string("the original"));
  }

  SECTION("list pages through every object once, with its size and time (ABI 1.1)") {
    auto store = make({});
    REQUIRE(store.info().abi_minor >= plugin::kMediaStoreListingSince);
    const auto before = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    std::map<std::string, std::uint64_t> expected;
    for (int i = 0; i < 23; ++i) {
      const std::string key = "example.org/list" + std::to_string(i);
      expected[key] = put_string(*store, key, std::string(static_cast<std::size_t>(i + 1), 'x'));
    }
    const std::string long_key = "thumbnails/example.org/" + std::string(300, 'q') + "/32x32-crop";
    expected[long_key] = put_string(*store, long_key, "thumb");
    {
      ThrowingSource failing(300 * 1024);  // an upload in progress is never listed
      CHECK_THROWS(store->put("example.org/failed", failing, {}));
    }
    std::map<std::string, std::uint64_t> seen;
    std::string cursor;
    int pages = 0;
    do {
      auto page = store->list(cursor, 5);
      for (const auto& object : page.objects) {
        INFO("key " << invalid_key_name(object.key));
        CHECK(plugin::is_valid_object_key(object.key));
        CHECK(seen.emplace(object.key, object.size).second);  // once only
        // Stores keep seconds (S3) or better; allow a clock step of a second.
        CHECK(object.modified_ms >= before - 2000);
        CHECK(object.modified_ms <= before + 120'000);
      }
      cursor = page.next_cursor;
      REQUIRE(++pages < 1000);
    } while (!cursor.empty());
    CHECK(seen == expected);

    // Erased objects are gone from the next listing.
    CHECK(store->erase("example.org/list0"));
    std::size_t count = 0;
    cursor.clear();
    do {
      auto page = store->list(cursor, 1000);
      for (const auto& object : page.objects) {
        CHECK(object.key != "example.org/list0");
        ++count;
      }
      cursor = page.next_cursor;
    } while (!cursor.empty());
    CHECK(count == expected.size() - 1);
  }

  SECTION("remove_abandoned_uploads keeps complete objects (ABI 1.1)") {
    auto store = make({});
    put_string(*store, "example.org/complete", "stays");
    CHECK_NOTHROW(store->remove_abandoned_uploads(std::chrono::seconds(0)));
    CHECK(read_range(*store, "example.org/complete", 0, std::nullopt) == std::string("stays"));
  }

  SECTION("concurrent puts and reads of different keys") {
    auto store = make({});
    if (!store.info().thread_safe()) return;
    constexpr int kThreads = 4;
    constexpr int kObjects = 10;
    std::atomic<int> mismatches{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        try {
          for (int i = 0; i < kObjects; ++i) {
            std::string key = "example.org/t" + std::to_string(t) + "-" + std::to_string(i);
            auto seed = static_cast<std::uint64_t>(t * 100 + i);
            PseudoRandomSource source(seed, 70000 + static_cast<std::uint64_t>(i));
            store->put(key, source, {});
            auto reader = store->get(key, 0, std::nullopt);
            if (!reader || drain(*reader) != pseudo_random_bytes(seed, 70000 + i)) ++mismatches;
          }
        } catch (...) {
          ++mismatches;
        }
      });
    }
    for (auto& thread : threads) thread.join();
    CHECK(mismatches.load() == 0);
  }
}

}  // namespace eltrix::contract
