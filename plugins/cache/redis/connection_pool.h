// A bounded pool of Redis connections with a circuit breaker.
//
// - At most pool_size connections are open; a caller that finds them all
//   busy waits up to the command timeout, then fails.
// - Connections are opened lazily, when no idle one is left. A connection
//   that failed is closed; a lost connection (reset, closed by a restart) or
//   a timeout also closes every idle one, which are then presumed dead too.
// - After a failed connect (or a command timeout) the pool is "backing off":
//   callers that need a new connection fail at once with Error(transient)
//   instead of each paying a connect timeout. The first one after the delay
//   tries again (the others keep failing fast meanwhile); the delay doubles
//   from kFirstRetryDelay up to kMaxRetryDelay while Redis stays away.
// - The health thread's probe (RedisCache::health) ends the back-off as soon
//   as Redis answers again.
#pragma once

#include <eltrix/plugin/host.h>

#include "connection.h"
#include "settings.h"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace eltrix::cache_redis {

inline constexpr std::chrono::milliseconds kFirstRetryDelay{100};
inline constexpr std::chrono::milliseconds kMaxRetryDelay{2000};

/// The back-off delay after `failures` consecutive failures (1, 2, ...).
std::chrono::milliseconds retry_delay(std::uint32_t failures);

class ConnectionPool {
 public:
  /// A connection lent to one caller; returned to the pool on destruction
  /// (closed instead when it failed).
  class Lease {
   public:
    Lease(ConnectionPool& pool, std::unique_ptr<Connection> connection, bool reused)
        : pool_(&pool), connection_(std::move(connection)), reused_(reused) {}
    ~Lease();
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Lease(Lease&& other) noexcept = default;
    Lease& operator=(Lease&&) = delete;

    Connection& operator*() const { return *connection_; }
    Connection* operator->() const { return connection_.get(); }
    /// Whether the connection had served earlier calls (and so may have gone
    /// stale while idle), as opposed to being opened for this one.
    [[nodiscard]] bool reused() const { return reused_; }

   private:
    ConnectionPool* pool_;
    std::unique_ptr<Connection> connection_;
    bool reused_;
  };

  ConnectionPool(const Settings& settings, plugin::Host& host);
  ~ConnectionPool();
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;
  ConnectionPool(ConnectionPool&&) = delete;
  ConnectionPool& operator=(ConnectionPool&&) = delete;

  /// An idle connection, or a new one. Throws plugin::Error(transient) while
  /// backing off, when the connect fails, or when every connection stays busy
  /// for the command timeout.
  Lease acquire();

  /// For the health probe, which has a connection of its own: a connect
  /// failure there starts (or extends) the back-off; a success ends it.
  void report_connect_failure(const std::string& error);
  void report_healthy();

  struct Stats {
    std::size_t open = 0;
    std::size_t in_use = 0;
    std::size_t size = 0;
    bool backing_off = false;
    std::string last_error;
  };
  [[nodiscard]] Stats stats() const;

 private:
  void release(std::unique_ptr<Connection> connection);
  // Expect mutex_ held.
  void record_failure(const std::string& error);
  void record_success();
  void publish();

  const Settings& settings_;
  plugin::Host& host_;
  plugin::Gauge& size_gauge_;
  plugin::Gauge& open_gauge_;
  plugin::Gauge& in_use_gauge_;
  plugin::Gauge& waiting_gauge_;
  plugin::Counter& connects_ok_;
  plugin::Counter& connects_failed_;
  plugin::Counter& fast_failures_;
  plugin::Counter& dropped_;

  mutable std::mutex mutex_;
  std::condition_variable returned_;
  std::vector<std::unique_ptr<Connection>> idle_;
  std::size_t open_ = 0;    // idle + lent + being opened
  std::size_t in_use_ = 0;  // lent + being opened
  std::uint32_t failures_ = 0;
  std::chrono::steady_clock::time_point retry_at_{};
  std::string last_error_;
};

}  // namespace eltrix::cache_redis
