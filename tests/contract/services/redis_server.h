// Redis servers for the cache-redis tests: the suite-wide one scripts/test
// starts ($ELTRIX_TEST_REDIS_URL), and private ones a test may stop and
// restart (scripts/lib/redis.sh, $ELTRIX_TEST_REDIS_HELPER).
//
// Without Redis, the tests that need it fail under CI=true and are skipped
// with a warning otherwise.
#pragma once

#include "contract/harness.h"

#include <memory>
#include <optional>
#include <string>

namespace eltrix::contract {

/// $ELTRIX_TEST_REDIS_URL, or nullopt after a WARN (FAIL under CI=true).
std::optional<std::string> shared_test_redis_url();

/// A fresh key prefix, so that tests sharing one Redis never see each other's keys.
std::string unique_key_prefix(std::string_view what);

class PrivateRedis {
 public:
  /// Starts redis-server on a free loopback port, with `password` required
  /// when not empty. nullptr after a WARN (FAIL under CI=true) when
  /// redis-server or the helper is missing.
  static std::unique_ptr<PrivateRedis> start(std::string password = {});
  ~PrivateRedis();
  PrivateRedis(const PrivateRedis&) = delete;
  PrivateRedis& operator=(const PrivateRedis&) = delete;

  /// Stops the server (SIGTERM; nothing is saved) and waits for it to exit.
  void stop();
  /// Starts it again, empty, on the same port and with the same password.
  void restart();
  /// SIGSTOP / SIGCONT: a server that accepts connections but never answers.
  void pause();
  void resume();

  /// redis://[:password@]127.0.0.1:port/<db>
  [[nodiscard]] std::string url(int db = 0) const;
  [[nodiscard]] int port() const { return port_; }

 private:
  PrivateRedis(std::string helper, std::string password, int port);
  void run_helper(const std::string& args);
  void signal(int number);

  std::string helper_;
  std::string password_;
  int port_;
  TempDir dir_;
  bool running_ = false;
};

}  // namespace eltrix::contract
