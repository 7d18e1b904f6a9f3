// s3-store-cli: drives the media-store-s3 plugin from the command line, loaded
// through the core's plugins::Registry exactly as the server loads it, for the
// cross-check against the official AWS SDK (tests/s3/crosscheck.test.js).
//
//   s3-store-cli PLUGIN_FILE put KEY [CONTENT_TYPE]   stdin -> object, prints the size
//   s3-store-cli PLUGIN_FILE put-failing KEY BYTES    streams BYTES, then the source throws
//   s3-store-cli PLUGIN_FILE get KEY [OFFSET [LENGTH]] object -> stdout (exit 3: no such object)
//   s3-store-cli PLUGIN_FILE stat KEY                 prints "size content-type"
//   s3-store-cli PLUGIN_FILE health                   prints "ok|degraded|failed: detail"
//
// The plugin's settings come from the same environment variables an operator
// uses (ELTRIX_S3_BUCKET, _REGION, _ACCESS_KEY, _SECRET_KEY, _ENDPOINT,
// _PREFIX, _PART_SIZE_MB, _RETRIES). Errors go to stderr, exit code 1.
#include "config/static_config.h"
#include "metrics/registry.h"
#include "plugins/registry.h"

#include <eltrix/plugin/media_store.h>

#include <unistd.h>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using eltrix::plugin::ByteSource;

class StdinSource final : public ByteSource {
 public:
  std::size_t read(char* buffer, std::size_t capacity) override {
    while (true) {
      ssize_t got = ::read(STDIN_FILENO, buffer, capacity);
      if (got >= 0) return static_cast<std::size_t>(got);
      if (errno != EINTR) throw std::runtime_error("reading stdin failed");
    }
  }
};

class FailingSource final : public ByteSource {
 public:
  explicit FailingSource(std::uint64_t bytes) : remaining_(bytes) {}
  std::size_t read(char* buffer, std::size_t capacity) override {
    if (remaining_ == 0) throw std::runtime_error("the source failed on purpose");
    auto count = static_cast<std::size_t>(std::min<std::uint64_t>(capacity, remaining_));
    std::memset(buffer, 'f', count);
    remaining_ -= count;
    return count;
  }

 private:
  std::uint64_t remaining_;
};

eltrix::config::StaticConfig config_from_env() {
  eltrix::config::StaticConfig config;
  for (const char* name : {"bucket", "region", "access_key", "secret_key", "endpoint", "prefix",
                           "part_size_mb", "retries"}) {
    std::string env = "ELTRIX_S3_";
    for (const char* c = name; *c != '\0'; ++c) env += static_cast<char>(std::toupper(*c));
    if (const char* value = std::getenv(env.c_str())) config.set(std::string("s3.") + name, value);
  }
  return config;
}

int run_command(eltrix::plugin::MediaStore& store, const std::vector<std::string>& args);

int run(const std::vector<std::string>& args) {
  if (args.size() < 2) throw std::invalid_argument("usage: s3-store-cli PLUGIN_FILE COMMAND ...");
  eltrix::metrics::Registry metrics;
  eltrix::plugins::Registry registry(metrics);
  const auto& info = registry.load_file(args[0]);
  auto config = config_from_env();
  auto store = registry.create<eltrix::plugin::MediaStore>(info.name, config);
  // Errors are reported while the plugin is still loaded: an exception thrown
  // in it must not outlive its library.
  try {
    return run_command(*store, args);
  } catch (const std::exception& e) {
    std::cerr << "s3-store-cli: " << e.what() << "\n";
    return 1;
  }
}

int run_command(eltrix::plugin::MediaStore& store, const std::vector<std::string>& args) {
  const std::string& command = args[1];

  if (command == "health") {
    auto health = store.health();
    static constexpr const char* kNames[] = {"ok", "degraded", "failed"};
    std::cout << kNames[static_cast<int>(health.status)] << ": " << health.detail << "\n";
    return health.status == eltrix::plugin::HealthStatus::ok ? 0 : 4;
  }
  if (args.size() < 3) throw std::invalid_argument(command + ": a KEY is needed");
  const std::string& key = args[2];
  if (command == "put") {
    StdinSource source;
    std::string content_type = args.size() > 3 ? args[3] : "";
    std::cout << store.put(key, source, {.content_type = content_type, .expected_size = {}})
              << "\n";
    return 0;
  }
  if (command == "put-failing") {
    FailingSource source(std::stoull(args.at(3)));
    store.put(key, source, {});
    return 0;
  }
  if (command == "stat") {
    auto object = store.stat(key);
    if (!object) return 3;
    std::cout << object->size << " " << object->content_type << "\n";
    return 0;
  }
  if (command == "get") {
    std::uint64_t offset = args.size() > 3 ? std::stoull(args[3]) : 0;
    std::optional<std::uint64_t> length;
    if (args.size() > 4) length = std::stoull(args[4]);
    auto source = store.get(key, offset, length);
    if (!source) return 3;
    std::vector<char> buffer(256 * 1024);
    while (std::size_t got = source->read(buffer.data(), buffer.size())) {
      std::cout.write(buffer.data(), static_cast<std::streamsize>(got));
    }
    std::cout.flush();
    return std::cout ? 0 : 1;
  }
  throw std::invalid_argument("unknown command " + command);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const std::exception& e) {
    std::cerr << "s3-store-cli: " << e.what() << "\n";
    return 1;
  }
}
