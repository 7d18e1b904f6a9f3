// One connection to Redis: hiredis's blocking redisContext, opened with the
// connect timeout, given the command timeout (SO_RCVTIMEO/SO_SNDTIMEO),
// authenticated, switched to the configured database and loaded with the
// increment script.
//
// hiredis writes with write(2), so a peer that has gone away raises SIGPIPE:
// the host process must ignore SIGPIPE (the eltrix server does, at start-up).
#pragma once

#include "settings.h"

#include <hiredis/hiredis.h>

#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace eltrix::cache_redis {

struct ReplyDeleter {
  void operator()(redisReply* reply) const { freeReplyObject(reply); }
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

/// How a connection failed; a failed connection is never used again.
enum class Failure {
  none,
  timeout,  ///< no answer within the command timeout: the server may be hung or unreachable
  closed,   ///< reset or closed by the server (restart, idle timeout, kill)
  other,    ///< protocol error, out of memory
};

/// The Lua script behind increment(): INCRBY, plus EXPIRE only when the key
/// did not exist. Scripts run atomically and keys do not expire while one
/// runs, so "ttl only on creation" is exact.
extern const std::string_view kIncrementScript;

class Connection {
 public:
  /// Connects, authenticates, selects the database and loads the increment
  /// script. Throws plugin::Error(transient) naming the server (never the
  /// password) and what failed.
  static std::unique_ptr<Connection> open(const Settings& settings);

  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  Connection(Connection&&) = delete;
  Connection& operator=(Connection&&) = delete;

  /// Sends one command (arguments are binary-safe) and returns the reply,
  /// which may be an error reply. When no reply arrives the connection is
  /// marked failed and plugin::Error(transient) is thrown.
  Reply command(std::initializer_list<std::string_view> args) {
    return command(std::span<const std::string_view>(args.begin(), args.size()));
  }
  Reply command(std::span<const std::string_view> args);

  [[nodiscard]] Failure failure() const { return failure_; }
  /// What failed, when failure() is not none.
  [[nodiscard]] const std::string& error() const { return error_; }
  /// SHA1 of kIncrementScript, as SCRIPT LOAD returned it.
  [[nodiscard]] const std::string& increment_sha() const { return increment_sha_; }

 private:
  Connection(redisContext* context, std::string server, std::chrono::milliseconds command_timeout)
      : context_(context), server_(std::move(server)), command_timeout_(command_timeout) {}

  redisContext* context_;
  std::string server_;  ///< RedisUrl::describe(), for messages
  std::chrono::milliseconds command_timeout_;
  Failure failure_ = Failure::none;
  std::string error_;
  std::string increment_sha_;
};

}  // namespace eltrix::cache_redis
