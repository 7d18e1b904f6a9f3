#include "stale_keys.h"

#include <eltrix/plugin/error.h>

#include <vector>

namespace eltrix::cache_redis {
namespace {

/// Keys per DEL/UNLINK command.
constexpr std::size_t kBatch = 500;

void expect_integer(const Reply& reply, const char* command) {
  if (reply->type != REDIS_REPLY_INTEGER) {
    throw plugin::Error(plugin::ErrorKind::transient,
                        std::string("redis: ") + command + " failed: " +
                            (reply->type == REDIS_REPLY_ERROR ? std::string(reply->str, reply->len)
                                                              : std::string("unexpected reply")));
  }
}

}  // namespace

std::string match_pattern(std::string_view prefix) {
  std::string out;
  for (char c : prefix) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') out += '\\';
    out += c;
  }
  return out + "*";
}

StaleKeys::StaleKeys(plugin::Host& host, std::string key_prefix, std::size_t max_keys)
    : host_(host),
      prefix_(std::move(key_prefix)),
      max_keys_(max_keys),
      pending_gauge_(host.gauge("eltrix_cache_redis_stale_keys",
                                "Keys whose write failed while Redis was unreachable, to delete "
                                "once it answers (bounded; beyond the bound the whole prefix is "
                                "cleared instead).")),
      removed_(host.counter("eltrix_cache_redis_stale_keys_removed_total",
                            "Entries deleted after Redis came back because their update had "
                            "failed.")) {
  pending_gauge_.set(0);
}

void StaleKeys::publish() {
  pending_gauge_.set(static_cast<double>(overflow_ ? max_keys_ + 1 : keys_.size()));
}

void StaleKeys::add(const std::string& full_key) {
  std::lock_guard lock(mutex_);
  if (!overflow_) {
    if (keys_.size() < max_keys_) {
      keys_.insert(full_key);
    } else {
      overflow_ = true;
      keys_.clear();
      host_.warn(
          "too many cache updates failed while Redis was unreachable; every key under "
          "the prefix will be deleted when it answers",
          {{"limit", std::to_string(max_keys_)}});
    }
  }
  pending_.store(true, std::memory_order_release);
  publish();
}

void StaleKeys::repair(Connection& connection) {
  std::lock_guard lock(mutex_);
  if (!pending_.load(std::memory_order_acquire)) return;  // another caller did it
  if (overflow_) {
    delete_prefix(connection);
    overflow_ = false;
  } else {
    delete_keys(connection);
  }
  pending_.store(false, std::memory_order_release);
  publish();
}

void StaleKeys::delete_keys(Connection& connection) {
  const std::size_t before = keys_.size();
  while (!keys_.empty()) {
    std::vector<std::string_view> args{"DEL"};
    for (auto it = keys_.begin(); it != keys_.end() && args.size() <= kBatch; ++it) {
      args.emplace_back(*it);
    }
    Reply reply = connection.command(args);
    expect_integer(reply, "DEL");
    for (std::size_t i = 1; i < args.size(); ++i) keys_.erase(std::string(args[i]));
    removed_.inc(static_cast<double>(reply->integer));
    publish();
  }
  host_.info("deleted the cache entries whose update failed while Redis was unreachable",
             {{"keys", std::to_string(before)}});
}

void StaleKeys::delete_prefix(Connection& connection) {
  const std::string pattern = match_pattern(prefix_);
  std::string cursor = "0";
  std::size_t deleted = 0;
  do {
    Reply page = connection.command({"SCAN", cursor, "MATCH", pattern, "COUNT", "1000"});
    if (page->type != REDIS_REPLY_ARRAY || page->elements != 2 ||
        page->element[0]->type != REDIS_REPLY_STRING ||
        page->element[1]->type != REDIS_REPLY_ARRAY) {
      throw plugin::Error(plugin::ErrorKind::transient, "redis: SCAN returned an unexpected reply");
    }
    cursor.assign(page->element[0]->str, page->element[0]->len);
    const redisReply& keys = *page->element[1];
    for (std::size_t start = 0; start < keys.elements; start += kBatch) {
      std::vector<std::string_view> args{"UNLINK"};
      for (std::size_t i = start; i < keys.elements && i < start + kBatch; ++i) {
        args.emplace_back(keys.element[i]->str, keys.element[i]->len);
      }
      Reply reply = connection.command(args);
      expect_integer(reply, "UNLINK");
      deleted += static_cast<std::size_t>(reply->integer);
      removed_.inc(static_cast<double>(reply->integer));
    }
  } while (cursor != "0");
  host_.warn(
      "deleted every cache entry under the prefix: too many updates had failed while "
      "Redis was unreachable",
      {{"keys", std::to_string(deleted)}});
}

}  // namespace eltrix::cache_redis
