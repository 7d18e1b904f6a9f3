#include "connection_pool.h"

#include <eltrix/plugin/error.h>

#include <algorithm>

namespace eltrix::cache_redis {

std::chrono::milliseconds retry_delay(std::uint32_t failures) {
  if (failures == 0) return std::chrono::milliseconds(0);
  auto delay = kFirstRetryDelay;
  for (std::uint32_t i = 1; i < failures && delay < kMaxRetryDelay; ++i) delay *= 2;
  return std::min(delay, kMaxRetryDelay);
}

ConnectionPool::Lease::~Lease() {
  if (connection_) pool_->release(std::move(connection_));
}

ConnectionPool::ConnectionPool(const Settings& settings, plugin::Host& host)
    : settings_(settings),
      host_(host),
      size_gauge_(host.gauge("eltrix_cache_redis_pool_size",
                             "Most connections this node opens to Redis (cache.redis.pool_size).")),
      open_gauge_(host.gauge("eltrix_cache_redis_pool_connections_open",
                             "Connections to Redis open now, idle or in use.")),
      in_use_gauge_(host.gauge("eltrix_cache_redis_pool_connections_in_use",
                               "Connections to Redis lent to a request now (or being opened).")),
      waiting_gauge_(host.gauge("eltrix_cache_redis_pool_waiting",
                                "Requests waiting for a free Redis connection (all "
                                "cache.redis.pool_size in use); they give up after "
                                "cache.redis.command_timeout.")),
      connects_ok_(host.counter("eltrix_cache_redis_connects_total",
                                "Connections opened to Redis (every one after the first few "
                                "replaced a failed one).",
                                {{"result", "ok"}})),
      connects_failed_(host.counter("eltrix_cache_redis_connects_total",
                                    "Connections opened to Redis (every one after the first few "
                                    "replaced a failed one).",
                                    {{"result", "failed"}})),
      fast_failures_(host.counter("eltrix_cache_redis_fast_failures_total",
                                  "Cache calls refused without trying while the pool backs off "
                                  "after a failure (a subset of eltrix_cache_errors_total).")),
      dropped_(host.counter("eltrix_cache_redis_connections_dropped_total",
                            "Connections closed because they, or another one, failed.")) {
  size_gauge_.set(static_cast<double>(settings_.pool_size));
  waiting_gauge_.set(0);
  publish();
}

ConnectionPool::~ConnectionPool() {
  std::lock_guard lock(mutex_);
  idle_.clear();
  open_gauge_.set(0);
  in_use_gauge_.set(0);
  waiting_gauge_.set(0);
}

void ConnectionPool::publish() {
  open_gauge_.set(static_cast<double>(open_));
  in_use_gauge_.set(static_cast<double>(in_use_));
}

ConnectionPool::Lease ConnectionPool::acquire() {
  std::unique_lock lock(mutex_);
  const auto give_up = std::chrono::steady_clock::now() + settings_.command_timeout;
  while (idle_.empty() && open_ >= settings_.pool_size) {
    waiting_gauge_.add(1);
    const auto woke = returned_.wait_until(lock, give_up);
    waiting_gauge_.add(-1);
    if (woke == std::cv_status::timeout && idle_.empty() && open_ >= settings_.pool_size) {
      throw plugin::Error(
          plugin::ErrorKind::transient,
          "redis " + settings_.url.describe() + ": all " + std::to_string(settings_.pool_size) +
              " connections stayed busy for " + std::to_string(settings_.command_timeout.count()) +
              " ms (cache.redis.pool_size)");
    }
  }
  if (!idle_.empty()) {
    // Most recently returned first: it is the likeliest to be alive, and the
    // others may be closed by Redis's idle timeout without harm.
    auto connection = std::move(idle_.back());
    idle_.pop_back();
    ++in_use_;
    publish();
    return Lease(*this, std::move(connection), true);
  }

  const auto now = host_.steady_now();
  if (failures_ > 0) {
    if (now < retry_at_) {
      fast_failures_.inc();
      const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(retry_at_ - now);
      throw plugin::Error(plugin::ErrorKind::transient, last_error_ + " (not retried for another " +
                                                            std::to_string(wait.count()) + " ms)");
    }
    // This caller tries; the others keep failing fast until it is done.
    retry_at_ = now + retry_delay(failures_ + 1);
  }
  ++open_;
  ++in_use_;
  publish();
  lock.unlock();

  std::unique_ptr<Connection> connection;
  try {
    connection = Connection::open(settings_);
  } catch (const plugin::Error& e) {
    lock.lock();
    --open_;
    --in_use_;
    connects_failed_.inc();
    record_failure(e.what());
    publish();
    returned_.notify_one();
    throw;
  }
  lock.lock();
  connects_ok_.inc();
  record_success();
  return Lease(*this, std::move(connection), false);
}

void ConnectionPool::release(std::unique_ptr<Connection> connection) {
  std::vector<std::unique_ptr<Connection>> closing;
  std::size_t freed = 1;
  {
    std::lock_guard lock(mutex_);
    --in_use_;
    const Failure failure = connection->failure();
    if (failure == Failure::none) {
      idle_.push_back(std::move(connection));
    } else {
      --open_;
      closing.push_back(std::move(connection));
      if (failure == Failure::closed || failure == Failure::timeout) {
        // The server restarted or stopped answering: the idle connections
        // went with it. Closing them now spares the next callers a failure each.
        open_ -= idle_.size();
        for (auto& idle : idle_) closing.push_back(std::move(idle));
        idle_.clear();
      }
      if (failure == Failure::timeout) record_failure(closing.front()->error());
      dropped_.inc(static_cast<double>(closing.size()));
      freed = closing.size();
    }
    publish();
  }
  // One slot per returned or closed connection: waking every waiter for one
  // connection would make them all contend for it (a thundering herd when the
  // pool is smaller than the number of request threads).
  if (freed == 1) {
    returned_.notify_one();
  } else {
    returned_.notify_all();
  }
  // `closing` is destroyed here, outside the lock (close(2) on each socket).
}

void ConnectionPool::record_failure(const std::string& error) {
  if (failures_ == 0) {
    host_.warn("redis unavailable; the cache falls back to PostgreSQL until it answers",
               {{"server", settings_.url.describe()}, {"error", error}});
  }
  ++failures_;
  last_error_ = error;
  retry_at_ = host_.steady_now() + retry_delay(failures_);
}

void ConnectionPool::record_success() {
  if (failures_ > 0) {
    host_.info("redis answers again", {{"server", settings_.url.describe()},
                                       {"failed_attempts", std::to_string(failures_)}});
  }
  failures_ = 0;
  retry_at_ = {};
}

void ConnectionPool::report_connect_failure(const std::string& error) {
  std::lock_guard lock(mutex_);
  connects_failed_.inc();
  record_failure(error);
}

void ConnectionPool::report_healthy() {
  std::lock_guard lock(mutex_);
  record_success();
}

ConnectionPool::Stats ConnectionPool::stats() const {
  std::lock_guard lock(mutex_);
  return Stats{.open = open_,
               .in_use = in_use_,
               .size = settings_.pool_size,
               .backing_off = failures_ > 0,
               .last_error = last_error_};
}

}  // namespace eltrix::cache_redis
