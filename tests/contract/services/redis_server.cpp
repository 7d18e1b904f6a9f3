#include "contract/services/redis_server.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <random>
#include <stdexcept>

namespace eltrix::contract {
namespace {

bool under_ci() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string_view(ci) == "true";
}

void missing(const std::string& what) {
  if (under_ci()) {
    FAIL(what << " (required under CI=true; scripts/test provides it)");
  }
  WARN("skipped: " << what << " (scripts/test provides it; CI=true makes this a failure)");
}

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket() failed");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    ::close(fd);
    throw std::runtime_error("could not find a free port");
  }
  ::close(fd);
  return ntohs(address.sin_port);
}

}  // namespace

std::optional<std::string> shared_test_redis_url() {
  const char* url = std::getenv("ELTRIX_TEST_REDIS_URL");
  if (url == nullptr || *url == '\0') {
    missing("ELTRIX_TEST_REDIS_URL is not set, so cache-redis was not tested against Redis");
    return std::nullopt;
  }
  return std::string(url);
}

std::string unique_key_prefix(std::string_view what) {
  static std::mt19937_64 random{std::random_device{}()};
  static std::mutex mutex;
  std::lock_guard lock(mutex);
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%016llx",
                static_cast<unsigned long long>(random()));  // NOLINT(google-runtime-int)
  return "test:" + std::string(what) + ":" + buffer + ":";
}

std::unique_ptr<PrivateRedis> PrivateRedis::start(std::string password) {
  const char* helper = std::getenv("ELTRIX_TEST_REDIS_HELPER");
  if (helper == nullptr || *helper == '\0') {
    missing("ELTRIX_TEST_REDIS_HELPER (scripts/lib/redis.sh) is not set");
    return nullptr;
  }
  if (std::system("command -v redis-server >/dev/null 2>&1") != 0) {
    missing("redis-server is not installed");
    return nullptr;
  }
  // hiredis writes with write(2): a server that went away must not kill the
  // test process (the eltrix server ignores SIGPIPE for the same reason).
  std::signal(SIGPIPE, SIG_IGN);
  std::unique_ptr<PrivateRedis> redis(new PrivateRedis(helper, std::move(password), free_port()));
  redis->restart();
  return redis;
}

PrivateRedis::PrivateRedis(std::string helper, std::string password, int port)
    : helper_(std::move(helper)), password_(std::move(password)), port_(port) {}

PrivateRedis::~PrivateRedis() {
  try {
    stop();
  } catch (...) {
    // The helper failed to stop it; nothing more to do from a destructor.
  }
}

void PrivateRedis::run_helper(const std::string& args) {
  const std::string command = "'" + helper_ + "' " + args + " >/dev/null";
  if (std::system(command.c_str()) != 0) {
    throw std::runtime_error("scripts/lib/redis.sh " + args.substr(0, args.find(' ')) + " failed");
  }
}

void PrivateRedis::stop() {
  if (!running_) return;
  try {
    resume();  // a paused server cannot act on SIGTERM
  } catch (const std::exception&) {
    // Not running any more: the helper copes.
  }
  running_ = false;
  run_helper("stop '" + dir_.path().string() + "'");
}

void PrivateRedis::restart() {
  std::string args = "start '" + dir_.path().string() + "' " + std::to_string(port_);
  if (!password_.empty()) args += " '" + password_ + "'";
  run_helper(args);
  running_ = true;
}

void PrivateRedis::signal(int number) {
  std::ifstream pidfile(dir_.path() / "redis.pid");
  pid_t pid = 0;
  if (!(pidfile >> pid) || pid <= 0 || ::kill(pid, number) != 0) {
    throw std::runtime_error("could not signal redis-server (pid file " +
                             (dir_.path() / "redis.pid").string() + ")");
  }
}

void PrivateRedis::pause() {
  signal(SIGSTOP);
}

void PrivateRedis::resume() {
  signal(SIGCONT);
}

std::string PrivateRedis::url(int db) const {
  std::string out = "redis://";
  if (!password_.empty()) out += ":" + password_ + "@";
  return out + "127.0.0.1:" + std::to_string(port_) + "/" + std::to_string(db);
}

}  // namespace eltrix::contract
