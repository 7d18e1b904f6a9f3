// A bounded pool of libpq connections to one server (internal to core/storage).
//
// Connections are opened lazily, never while the pool lock is held. A
// connection marked broken is closed on release and a new one is opened by a
// later acquire.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace pqxx {
class connection_base;
}
namespace eltrix::plugin {
class Counter;
class Gauge;
}  // namespace eltrix::plugin

namespace eltrix::storage::detail {

struct PoolMetrics {
  plugin::Gauge* in_use = nullptr;
  plugin::Gauge* size = nullptr;
  plugin::Gauge* waiting = nullptr;
  plugin::Counter* acquire_timeouts = nullptr;
};

class ConnectionPool {
 public:
  using Connection = std::unique_ptr<pqxx::connection_base>;
  /// Opens a new connection; throws StorageError on failure.
  using Connector = std::function<Connection()>;

  ConnectionPool(std::string target, std::size_t max_size,
                 std::chrono::milliseconds acquire_timeout, Connector connect, PoolMetrics metrics);
  ~ConnectionPool();
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  /// A checked-out connection; returns it to the pool when destroyed.
  class Lease {
   public:
    Lease() = default;
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&& other) noexcept;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease();

    [[nodiscard]] pqxx::connection_base& conn() const { return *conn_; }
    [[nodiscard]] explicit operator bool() const { return conn_ != nullptr; }
    /// The connection is broken (or in an unknown state): close it on release.
    void discard() { discard_ = true; }
    /// Returns (or closes) the connection now.
    void release();

   private:
    friend class ConnectionPool;
    Lease(ConnectionPool* pool, Connection conn) : pool_(pool), conn_(std::move(conn)) {}
    ConnectionPool* pool_ = nullptr;
    Connection conn_;
    bool discard_ = false;
  };

  /// Waits up to acquire_timeout for a free slot; throws a transient
  /// StorageError(pool_exhausted) "database pool exhausted" after that, or
  /// whatever the connector throws when a new connection cannot be opened.
  Lease acquire();

  /// Closes every idle connection (e.g. after a failed health probe, when
  /// they are likely all dead); connections in use are unaffected.
  void drain_idle();

  [[nodiscard]] std::size_t max_size() const { return max_size_; }
  [[nodiscard]] std::size_t in_use() const;
  [[nodiscard]] std::size_t idle() const;
  [[nodiscard]] std::size_t waiting() const;

 private:
  void give_back(Connection conn, bool reuse);
  void publish_locked();

  const std::string target_;
  const std::size_t max_size_;
  const std::chrono::milliseconds acquire_timeout_;
  const Connector connect_;
  const PoolMetrics metrics_;

  mutable std::mutex mutex_;
  std::condition_variable available_;
  std::vector<Connection> idle_;
  std::size_t in_use_ = 0;  ///< leased out, including slots whose connection is being opened
  std::size_t waiting_ = 0;
};

}  // namespace eltrix::storage::detail
