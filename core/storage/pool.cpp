#include "storage/pool.h"

#include "storage/error.h"

#include <eltrix/plugin/host.h>

#include <pqxx/connection_base>

namespace eltrix::storage::detail {

ConnectionPool::ConnectionPool(std::string target, std::size_t max_size,
                               std::chrono::milliseconds acquire_timeout, Connector connect,
                               PoolMetrics metrics)
    : target_(std::move(target)),
      max_size_(max_size),
      acquire_timeout_(acquire_timeout),
      connect_(std::move(connect)),
      metrics_(metrics) {
  if (metrics_.size != nullptr) metrics_.size->set(static_cast<double>(max_size_));
  std::lock_guard lock(mutex_);
  publish_locked();
}

ConnectionPool::~ConnectionPool() = default;

ConnectionPool::Lease::Lease(Lease&& other) noexcept
    : pool_(other.pool_), conn_(std::move(other.conn_)), discard_(other.discard_) {
  other.pool_ = nullptr;
}

ConnectionPool::Lease& ConnectionPool::Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    release();
    pool_ = other.pool_;
    conn_ = std::move(other.conn_);
    discard_ = other.discard_;
    other.pool_ = nullptr;
  }
  return *this;
}

ConnectionPool::Lease::~Lease() {
  release();
}

void ConnectionPool::Lease::release() {
  if (pool_ == nullptr) return;
  ConnectionPool* pool = pool_;
  pool_ = nullptr;
  const bool reuse = !discard_ && conn_ != nullptr && conn_->is_open();
  pool->give_back(std::move(conn_), reuse);
}

ConnectionPool::Lease ConnectionPool::acquire() {
  std::unique_lock lock(mutex_);
  if (idle_.empty() && in_use_ >= max_size_) {
    const auto deadline = std::chrono::steady_clock::now() + acquire_timeout_;
    ++waiting_;
    publish_locked();
    const bool got_slot = available_.wait_until(
        lock, deadline, [this] { return !idle_.empty() || in_use_ < max_size_; });
    --waiting_;
    publish_locked();
    if (!got_slot) {
      if (metrics_.acquire_timeouts != nullptr) metrics_.acquire_timeouts->inc();
      throw StorageError(ErrorKind::pool_exhausted,
                         "database pool exhausted: no connection to '" + target_ +
                             "' became free within " + std::to_string(acquire_timeout_.count()) +
                             " ms (pool size " + std::to_string(max_size_) + ")",
                         true);
    }
  }
  ++in_use_;
  if (!idle_.empty()) {
    Connection conn = std::move(idle_.back());
    idle_.pop_back();
    publish_locked();
    return Lease(this, std::move(conn));
  }
  publish_locked();
  lock.unlock();

  // The slot is reserved; connect without holding the lock.
  try {
    Connection conn = connect_();
    return Lease(this, std::move(conn));
  } catch (...) {
    give_back(nullptr, false);
    throw;
  }
}

void ConnectionPool::give_back(Connection conn, bool reuse) {
  Connection to_close;
  {
    std::lock_guard lock(mutex_);
    --in_use_;
    if (reuse) {
      idle_.push_back(std::move(conn));
    } else {
      to_close = std::move(conn);
    }
    publish_locked();
  }
  available_.notify_one();
  // to_close is destroyed (the socket closed) outside the lock.
}

void ConnectionPool::drain_idle() {
  std::vector<Connection> drained;
  {
    std::lock_guard lock(mutex_);
    drained.swap(idle_);
  }
}

std::size_t ConnectionPool::in_use() const {
  std::lock_guard lock(mutex_);
  return in_use_;
}

std::size_t ConnectionPool::idle() const {
  std::lock_guard lock(mutex_);
  return idle_.size();
}

std::size_t ConnectionPool::waiting() const {
  std::lock_guard lock(mutex_);
  return waiting_;
}

void ConnectionPool::publish_locked() {
  if (metrics_.in_use != nullptr) metrics_.in_use->set(static_cast<double>(in_use_));
  if (metrics_.waiting != nullptr) metrics_.waiting->set(static_cast<double>(waiting_));
}

}  // namespace eltrix::storage::detail
