// An in-memory MediaStore for the contract suite: objects are strings in a
// map, stored only once the source has been read to its end.
#pragma once

#include <eltrix/plugin/plugin.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>

namespace eltrix::contract {

class FakeMediaStore final : public plugin::MediaStore {
 public:
  static constexpr const char* kDescription = "in-memory media store for contract tests";
  static constexpr bool kThreadSafe = true;

  FakeMediaStore(plugin::Host& host, const plugin::Config& /*config*/) : host_(host) {}

  plugin::Health health() override { return {}; }

  std::uint64_t put(std::string_view key, plugin::ByteSource& source,
                    const plugin::PutOptions& /*options*/) override {
    check(key);
    auto data = std::make_shared<std::string>();
    char buffer[4096];
    while (std::size_t got = source.read(buffer, sizeof buffer)) data->append(buffer, got);
    std::lock_guard lock(mutex_);
    objects_.insert_or_assign(std::string(key), data);
    modified_.insert_or_assign(std::string(key), now_ms());
    return data->size();
  }

  std::unique_ptr<plugin::ByteSource> get(std::string_view key, std::uint64_t offset,
                                          std::optional<std::uint64_t> length) override {
    check(key);
    std::lock_guard lock(mutex_);
    auto it = objects_.find(key);
    if (it == objects_.end()) return nullptr;
    std::uint64_t size = it->second->size();
    std::uint64_t start = std::min(offset, size);
    std::uint64_t count = std::min(length.value_or(size), size - start);
    return std::make_unique<Range>(it->second, start, count);
  }

  std::optional<plugin::ObjectInfo> stat(std::string_view key) override {
    check(key);
    std::lock_guard lock(mutex_);
    auto it = objects_.find(key);
    if (it == objects_.end()) return std::nullopt;
    return plugin::ObjectInfo{.size = it->second->size(), .content_type = {}};
  }

  bool exists(std::string_view key) override { return stat(key).has_value(); }

  bool erase(std::string_view key) override {
    check(key);
    std::lock_guard lock(mutex_);
    auto it = objects_.find(key);
    if (it == objects_.end()) return false;
    objects_.erase(it);
    modified_.erase(std::string(key));
    return true;
  }

  /// In key order; the cursor is the last key listed.
  plugin::ObjectPage list(std::string_view cursor, std::size_t limit) override {
    std::lock_guard lock(mutex_);
    plugin::ObjectPage page;
    auto it = cursor.empty() ? objects_.begin() : objects_.upper_bound(cursor);
    for (; it != objects_.end(); ++it) {
      if (page.objects.size() >= std::max<std::size_t>(limit, 1)) {
        page.next_cursor = page.objects.back().key;
        break;
      }
      page.objects.push_back({.key = it->first,
                              .modified_ms = modified_.find(it->first)->second,
                              .size = it->second->size()});
    }
    return page;
  }

  /// Nothing is ever left half-written here.
  std::size_t remove_abandoned_uploads(std::chrono::seconds /*older_than*/) override { return 0; }

 private:
  using Data = std::shared_ptr<const std::string>;

  class Range final : public plugin::ByteSource {
   public:
    Range(Data data, std::uint64_t offset, std::uint64_t count)
        : data_(std::move(data)), position_(offset), remaining_(count) {}
    std::size_t read(char* buffer, std::size_t capacity) override {
      auto count = static_cast<std::size_t>(std::min<std::uint64_t>(capacity, remaining_));
      std::memcpy(buffer, data_->data() + position_, count);
      position_ += count;
      remaining_ -= count;
      return count;
    }

   private:
    Data data_;
    std::uint64_t position_;
    std::uint64_t remaining_;
  };

  static void check(std::string_view key) {
    if (!plugin::is_valid_object_key(key)) {
      throw plugin::Error(plugin::ErrorKind::invalid_argument, "fake media store: invalid key");
    }
  }

  [[nodiscard]] std::int64_t now_ms() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               host_.wall_now().time_since_epoch())
        .count();
  }

  plugin::Host& host_;
  std::mutex mutex_;
  std::map<std::string, Data, std::less<>> objects_;
  std::map<std::string, std::int64_t, std::less<>> modified_;
};

inline constexpr plugin::Descriptor kFakeMediaStoreDescriptor =
    plugin::detail::make_descriptor<plugin::Kind::media_store, FakeMediaStore>("fake", "1.0", {});

}  // namespace eltrix::contract
