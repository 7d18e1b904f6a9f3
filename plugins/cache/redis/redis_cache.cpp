#include "redis_cache.h"

#include <eltrix/plugin/error.h>

#include <chrono>

namespace eltrix::cache_redis {
namespace {

using plugin::Error;
using plugin::ErrorKind;

void check_key(std::string_view key) {
  if (key.size() > plugin::kMaxCacheKeySize) {
    throw Error(ErrorKind::invalid_argument, "cache-redis: key of " + std::to_string(key.size()) +
                                                 " bytes exceeds the limit of " +
                                                 std::to_string(plugin::kMaxCacheKeySize));
  }
}

void check_ttl(std::chrono::seconds ttl) {
  if (ttl.count() < 0) {
    throw Error(ErrorKind::invalid_argument,
                "cache-redis: negative ttl " + std::to_string(ttl.count()));
  }
}

std::string_view text_of(const redisReply& reply) {
  return {reply.str, reply.len};
}

[[noreturn]] void unexpected(const Settings& settings, const char* command,
                             const redisReply& reply) {
  std::string what = reply.type == REDIS_REPLY_ERROR
                         ? std::string(text_of(reply))
                         : "reply of type " + std::to_string(reply.type);
  throw Error(ErrorKind::transient,
              "redis " + settings.url.describe() + ": " + command + " failed: " + what);
}

}  // namespace

RedisCache::RedisCache(plugin::Host& host, const plugin::Config& config)
    : RedisCache(host, read_settings(config), kMaxStaleKeys) {}

RedisCache::RedisCache(plugin::Host& host, Settings settings, std::size_t max_stale_keys)
    : host_(host),
      settings_(std::move(settings)),
      pool_(settings_, host),
      stale_(host, settings_.key_prefix, max_stale_keys) {
  host_.info("redis cache configured",
             {{"server", settings_.url.describe()},
              {"pool_size", std::to_string(settings_.pool_size)},
              {"key_prefix", settings_.key_prefix},
              {"connect_timeout_ms", std::to_string(settings_.connect_timeout.count())},
              {"command_timeout_ms", std::to_string(settings_.command_timeout.count())},
              {"default_ttl_s", std::to_string(settings_.default_ttl.count())}});
  // Open one connection now so that a wrong address or password shows in the
  // log at start-up. Failing is not fatal: the node serves from PostgreSQL
  // (health says degraded) and the pool retries.
  try {
    auto lease = pool_.acquire();
  } catch (const Error& e) {
    host_.warn("redis is not reachable at start-up; continuing without the cache",
               {{"error", e.what()}});
  }
}

RedisCache::~RedisCache() = default;

std::string RedisCache::full_key(std::string_view key) const {
  std::string out;
  out.reserve(settings_.key_prefix.size() + key.size());
  out += settings_.key_prefix;
  out += key;
  return out;
}

std::chrono::seconds RedisCache::effective_ttl(std::chrono::seconds ttl) const {
  return ttl.count() == 0 ? settings_.default_ttl : ttl;
}

template <typename Call>
auto RedisCache::with_connection(bool idempotent, Call&& call) {
  for (int attempt = 0;; ++attempt) {
    auto lease = pool_.acquire();
    try {
      if (stale_.pending()) stale_.repair(*lease);
      return call(*lease);
    } catch (const Error&) {
      if (idempotent && attempt == 0 && lease.reused() && lease->failure() == Failure::closed) {
        continue;  // the lease closes the stale connection (and the other idle ones)
      }
      throw;
    }
  }
}

template <typename Call>
void RedisCache::write(const std::string& full_key, Call&& call) {
  try {
    with_connection(true, std::forward<Call>(call));
  } catch (const Error& e) {
    // Not applied, or not known to be: the old value may still be in Redis.
    if (e.kind() == ErrorKind::transient) stale_.add(full_key);
    throw;
  }
}

plugin::Health RedisCache::health() {
  std::lock_guard lock(health_mutex_);
  const auto started = std::chrono::steady_clock::now();
  std::string error;
  for (int attempt = 0; attempt < 2; ++attempt) {
    try {
      if (!health_connection_) {
        try {
          health_connection_ = Connection::open(settings_);
        } catch (const Error& e) {
          pool_.report_connect_failure(e.what());
          throw;
        }
      }
      Reply reply = health_connection_->command({"PING"});
      if (reply->type == REDIS_REPLY_STATUS && text_of(*reply) == "PONG") {
        // Repair before the pool's back-off ends, so that no request reads
        // an entry whose update failed.
        if (stale_.pending()) stale_.repair(*health_connection_);
        pool_.report_healthy();
        const auto took =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started);
        auto stats = pool_.stats();
        char ms[32];
        std::snprintf(ms, sizeof ms, "%.1f", took.count());
        return {plugin::HealthStatus::ok, "redis " + settings_.url.describe() + ": PONG in " + ms +
                                              " ms; " + std::to_string(stats.in_use) + " of " +
                                              std::to_string(stats.size) + " connections in use"};
      }
      error = "redis " + settings_.url.describe() + ": PING answered " +
              (reply->type == REDIS_REPLY_ERROR || reply->type == REDIS_REPLY_STATUS
                   ? std::string(text_of(*reply))
                   : "a reply of type " + std::to_string(reply->type));
      break;  // an answer, but not the right one (NOAUTH, LOADING, ...): no retry
    } catch (const Error& e) {
      error = e.what();
      const bool was_open = health_connection_ != nullptr;
      const bool closed = was_open && health_connection_->failure() == Failure::closed;
      if (was_open && health_connection_->failure() != Failure::none) health_connection_.reset();
      // A connection closed by a restart is retried at once with a new one.
      if (!closed) break;
    }
  }
  return {plugin::HealthStatus::degraded, error + " (serving from PostgreSQL)"};
}

std::optional<std::string> RedisCache::get(std::string_view key) {
  check_key(key);
  const std::string full = full_key(key);
  return with_connection(true, [&](Connection& connection) -> std::optional<std::string> {
    Reply reply = connection.command({"GET", full});
    if (reply->type == REDIS_REPLY_NIL) return std::nullopt;
    if (reply->type == REDIS_REPLY_STRING) return std::string(text_of(*reply));
    unexpected(settings_, "GET", *reply);
  });
}

void RedisCache::set(std::string_view key, std::string_view value, std::chrono::seconds ttl) {
  check_key(key);
  check_ttl(ttl);
  if (value.size() > plugin::kMaxCacheValueSize) {
    throw Error(ErrorKind::invalid_argument,
                "cache-redis: value of " + std::to_string(value.size()) +
                    " bytes exceeds the limit of " + std::to_string(plugin::kMaxCacheValueSize));
  }
  const std::string full = full_key(key);
  const std::string seconds = std::to_string(effective_ttl(ttl).count());
  write(full, [&](Connection& connection) {
    Reply reply = connection.command({"SET", full, value, "EX", seconds});
    if (reply->type != REDIS_REPLY_STATUS) unexpected(settings_, "SET", *reply);
  });
}

bool RedisCache::erase(std::string_view key) {
  check_key(key);
  const std::string full = full_key(key);
  bool existed = false;
  write(full, [&](Connection& connection) {
    Reply reply = connection.command({"DEL", full});
    if (reply->type != REDIS_REPLY_INTEGER) unexpected(settings_, "DEL", *reply);
    existed = reply->integer > 0;
  });
  return existed;
}

std::int64_t RedisCache::increment(std::string_view key, std::int64_t delta,
                                   std::chrono::seconds ttl) {
  check_key(key);
  check_ttl(ttl);
  const std::string full = full_key(key);
  const std::string amount = std::to_string(delta);
  const std::string seconds = std::to_string(effective_ttl(ttl).count());
  return with_connection(false, [&](Connection& connection) -> std::int64_t {
    Reply reply =
        connection.command({"EVALSHA", connection.increment_sha(), "1", full, amount, seconds});
    if (reply->type == REDIS_REPLY_ERROR && text_of(*reply).starts_with("NOSCRIPT")) {
      // Someone ran SCRIPT FLUSH: EVAL loads it again.
      reply = connection.command({"EVAL", kIncrementScript, "1", full, amount, seconds});
    }
    if (reply->type == REDIS_REPLY_INTEGER) return reply->integer;
    if (reply->type == REDIS_REPLY_ERROR) {
      auto text = text_of(*reply);
      if (text.find("not an integer") != std::string_view::npos ||
          text.find("overflow") != std::string_view::npos ||
          text.find("WRONGTYPE") != std::string_view::npos) {
        throw Error(ErrorKind::invalid_argument,
                    "cache-redis: increment: the value at the key is not a 64-bit integer, or "
                    "the result would overflow (" +
                        std::string(text) + ")");
      }
    }
    unexpected(settings_, "increment (EVALSHA)", *reply);
  });
}

}  // namespace eltrix::cache_redis
