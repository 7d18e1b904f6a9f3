#include "connection.h"

#include <eltrix/plugin/error.h>

#include <sys/time.h>
#include <array>
#include <cerrno>
#include <vector>

namespace eltrix::cache_redis {

const std::string_view kIncrementScript =
    "local created = redis.call('EXISTS', KEYS[1]) == 0\n"
    "local value = redis.call('INCRBY', KEYS[1], ARGV[1])\n"
    "if created and tonumber(ARGV[2]) > 0 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end\n"
    "return value\n";

namespace {

constexpr std::size_t kMaxArgs = 8;

timeval to_timeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

[[noreturn]] void fail(const std::string& server, const std::string& what) {
  throw plugin::Error(plugin::ErrorKind::transient, "redis " + server + ": " + what);
}

// Runs a set-up command on a fresh context; a missing or error reply is a
// connect failure. Error replies from Redis never echo the password.
Reply setup_command(redisContext* context, const std::string& server, const char* what,
                    std::initializer_list<std::string_view> args) {
  std::array<const char*, kMaxArgs> argv{};
  std::array<std::size_t, kMaxArgs> lengths{};
  std::size_t argc = 0;
  for (auto arg : args) {
    argv[argc] = arg.data();
    lengths[argc] = arg.size();
    ++argc;
  }
  Reply reply(static_cast<redisReply*>(
      redisCommandArgv(context, static_cast<int>(argc), argv.data(), lengths.data())));
  if (!reply) fail(server, std::string(what) + " failed: " + context->errstr);
  if (reply->type == REDIS_REPLY_ERROR) {
    fail(server, std::string(what) + " failed: " + std::string(reply->str, reply->len));
  }
  return reply;
}

}  // namespace

std::unique_ptr<Connection> Connection::open(const Settings& settings) {
  const std::string server = settings.url.describe();
  redisContext* context = redisConnectWithTimeout(settings.url.host.c_str(), settings.url.port,
                                                  to_timeval(settings.connect_timeout));
  if (context == nullptr) fail(server, "cannot connect: out of memory");
  // From here the context is owned by the Connection, which frees it.
  std::unique_ptr<Connection> connection(new Connection(context, server, settings.command_timeout));
  if (context->err != 0) {
    fail(server, "cannot connect (connect timeout " +
                     std::to_string(settings.connect_timeout.count()) + " ms): " + context->errstr);
  }
  if (redisSetTimeout(context, to_timeval(settings.command_timeout)) != REDIS_OK) {
    fail(server, std::string("cannot set the command timeout: ") + context->errstr);
  }
  (void)redisEnableKeepAlive(context);  // best effort: a dead peer is also caught by timeouts

  if (settings.url.password) {
    if (settings.url.user.empty()) {
      setup_command(context, server, "AUTH", {"AUTH", *settings.url.password});
    } else {
      setup_command(context, server, "AUTH", {"AUTH", settings.url.user, *settings.url.password});
    }
  }
  if (settings.url.db != 0) {
    setup_command(context, server, "SELECT", {"SELECT", std::to_string(settings.url.db)});
  }
  Reply sha = setup_command(context, server, "SCRIPT LOAD", {"SCRIPT", "LOAD", kIncrementScript});
  if (sha->type != REDIS_REPLY_STRING) fail(server, "SCRIPT LOAD returned no SHA1");
  connection->increment_sha_.assign(sha->str, sha->len);
  return connection;
}

Connection::~Connection() {
  redisFree(context_);
}

Reply Connection::command(std::span<const std::string_view> args) {
  // Requests use at most kMaxArgs arguments, on the stack; only the bulk
  // deletes of StaleKeys need the heap.
  std::array<const char*, kMaxArgs> small_argv{};
  std::array<std::size_t, kMaxArgs> small_lengths{};
  std::vector<const char*> large_argv;
  std::vector<std::size_t> large_lengths;
  const char** argv = small_argv.data();
  std::size_t* lengths = small_lengths.data();
  if (args.size() > kMaxArgs) {
    large_argv.resize(args.size());
    large_lengths.resize(args.size());
    argv = large_argv.data();
    lengths = large_lengths.data();
  }
  for (std::size_t i = 0; i < args.size(); ++i) {
    argv[i] = args[i].data();
    lengths[i] = args[i].size();
  }
  errno = 0;
  Reply reply(static_cast<redisReply*>(
      redisCommandArgv(context_, static_cast<int>(args.size()), argv, lengths)));
  if (reply) return reply;

  const int saved_errno = errno;
  std::string why;
  if (context_->err == REDIS_ERR_IO && (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK)) {
    failure_ = Failure::timeout;
    why = "no reply within " + std::to_string(command_timeout_.count()) + " ms";
  } else if (context_->err == REDIS_ERR_EOF ||
             (context_->err == REDIS_ERR_IO &&
              (saved_errno == ECONNRESET || saved_errno == EPIPE))) {
    failure_ = Failure::closed;
    why = std::string("connection closed (") + context_->errstr + ")";
  } else {
    failure_ = Failure::other;
    why = context_->errstr;
  }
  error_ = "redis " + server_ + ": " + why;
  throw plugin::Error(plugin::ErrorKind::transient, error_);
}

}  // namespace eltrix::cache_redis
