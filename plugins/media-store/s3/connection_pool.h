// A small bounded pool of keep-alive HTTP(S) connections to one S3 endpoint.
//
// At most `size` connections exist at once (idle or leased); a caller waits
// for a free one up to a deadline and then gets a transient error, so a slow
// S3 cannot make every request thread open yet another socket. Idle
// connections are kept for reuse; Poco reconnects by itself when one has been
// idle longer than kIdleReconnect (servers close idle keep-alive connections,
// e.g. Node's after 5 s).
#pragma once

#include "s3_settings.h"

#include <eltrix/plugin/host.h>

#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPClientSession.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

namespace eltrix::media_s3 {

inline constexpr std::chrono::seconds kIdleReconnect{4};

class ConnectionPool {
 public:
  ConnectionPool(const Settings& settings, plugin::Host& host);
  ~ConnectionPool();
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;
  ConnectionPool(ConnectionPool&&) = delete;
  ConnectionPool& operator=(ConnectionPool&&) = delete;

  /// One leased connection. Give it back with release() once its last
  /// response was read to the end; otherwise it is closed on destruction.
  class Lease {
   public:
    Lease() = default;
    Lease(ConnectionPool* pool, std::unique_ptr<Poco::Net::HTTPClientSession> session, bool reused)
        : pool_(pool), session_(std::move(session)), reused_(reused) {}
    Lease(Lease&& other) noexcept { *this = std::move(other); }
    Lease& operator=(Lease&& other) noexcept;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() { discard(); }

    Poco::Net::HTTPClientSession& session() { return *session_; }
    /// Whether the connection served an earlier request (a failure on it may
    /// just mean the server closed it meanwhile).
    [[nodiscard]] bool reused() const { return reused_; }
    [[nodiscard]] bool valid() const { return session_ != nullptr; }
    void release();
    void discard();

   private:
    ConnectionPool* pool_ = nullptr;
    std::unique_ptr<Poco::Net::HTTPClientSession> session_;
    bool reused_ = false;
  };

  /// A connection, waiting up to `wait` for a free slot (transient Error after).
  Lease acquire(std::chrono::milliseconds wait);

  [[nodiscard]] std::size_t size() const { return size_; }

 private:
  std::unique_ptr<Poco::Net::HTTPClientSession> connect() const;
  void give_back(std::unique_ptr<Poco::Net::HTTPClientSession> session, bool reusable);

  Endpoint endpoint_;
  std::chrono::seconds connect_timeout_;
  std::chrono::seconds request_timeout_;
  std::size_t size_;
  Poco::Net::Context::Ptr tls_;  // for https endpoints
  plugin::Gauge& in_use_gauge_;

  std::mutex mutex_;
  std::condition_variable freed_;
  std::size_t leased_ = 0;
  std::vector<std::unique_ptr<Poco::Net::HTTPClientSession>> idle_;
};

}  // namespace eltrix::media_s3
