#include "connection_pool.h"

#include <eltrix/plugin/error.h>

#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/SSLManager.h>

namespace eltrix::media_s3 {

ConnectionPool::Lease& ConnectionPool::Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    discard();
    pool_ = other.pool_;
    session_ = std::move(other.session_);
    reused_ = other.reused_;
    other.pool_ = nullptr;
  }
  return *this;
}

void ConnectionPool::Lease::release() {
  if (pool_ != nullptr && session_) pool_->give_back(std::move(session_), true);
  pool_ = nullptr;
}

void ConnectionPool::Lease::discard() {
  if (pool_ != nullptr) pool_->give_back(std::move(session_), false);
  pool_ = nullptr;
  session_.reset();
}

ConnectionPool::ConnectionPool(const Settings& settings, plugin::Host& host)
    : endpoint_(settings.endpoint),
      connect_timeout_(settings.connect_timeout),
      request_timeout_(settings.request_timeout),
      size_(settings.pool_size),
      in_use_gauge_(host.gauge("eltrix_media_s3_connections_in_use",
                               "Connections to S3 leased by a request right now.")) {
  host.gauge("eltrix_media_s3_connections_max",
             "Most connections to S3 open at once (s3.pool_size).")
      .set(static_cast<double>(size_));
  if (endpoint_.https) {
    Poco::Net::initializeSSL();
    // Certificates are checked against the system's CA store (ca-certificates).
    tls_ = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, "", "", "",
                                  Poco::Net::Context::VERIFY_RELAXED, 9, true);
  }
}

ConnectionPool::~ConnectionPool() {
  idle_.clear();
  if (endpoint_.https) {
    tls_.reset();
    Poco::Net::uninitializeSSL();
  }
}

std::unique_ptr<Poco::Net::HTTPClientSession> ConnectionPool::connect() const {
  std::unique_ptr<Poco::Net::HTTPClientSession> session;
  if (endpoint_.https) {
    session = std::make_unique<Poco::Net::HTTPSClientSession>(endpoint_.host, endpoint_.port, tls_);
  } else {
    session = std::make_unique<Poco::Net::HTTPClientSession>(endpoint_.host, endpoint_.port);
  }
  session->setKeepAlive(true);
  session->setKeepAliveTimeout(Poco::Timespan(std::chrono::seconds(kIdleReconnect).count(), 0));
  session->setTimeout(Poco::Timespan(connect_timeout_.count(), 0),
                      Poco::Timespan(request_timeout_.count(), 0),
                      Poco::Timespan(request_timeout_.count(), 0));
  return session;
}

ConnectionPool::Lease ConnectionPool::acquire(std::chrono::milliseconds wait) {
  std::unique_ptr<Poco::Net::HTTPClientSession> session;
  {
    std::unique_lock lock(mutex_);
    if (!freed_.wait_for(lock, wait, [this] { return leased_ < size_; })) {
      throw plugin::Error(plugin::ErrorKind::transient,
                          "media-store-s3: all " + std::to_string(size_) + " connections to " +
                              endpoint_.url() + " stayed busy for " + std::to_string(wait.count()) +
                              " ms (s3.pool_size)");
    }
    ++leased_;
    in_use_gauge_.set(static_cast<double>(leased_));
    if (!idle_.empty()) {
      session = std::move(idle_.back());
      idle_.pop_back();
    }
  }
  if (session) return {this, std::move(session), true};
  try {
    return {this, connect(), false};
  } catch (...) {
    give_back(nullptr, false);
    throw;
  }
}

void ConnectionPool::give_back(std::unique_ptr<Poco::Net::HTTPClientSession> session,
                               bool reusable) {
  std::unique_ptr<Poco::Net::HTTPClientSession> closing;
  {
    std::lock_guard lock(mutex_);
    --leased_;
    in_use_gauge_.set(static_cast<double>(leased_));
    if (reusable && session && idle_.size() < size_) {
      idle_.push_back(std::move(session));
    } else {
      closing = std::move(session);
    }
  }
  freed_.notify_one();
  // `closing` closes its socket here, outside the lock.
}

}  // namespace eltrix::media_s3
