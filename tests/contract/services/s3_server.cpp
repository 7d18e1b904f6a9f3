#include "contract/services/s3_server.h"

#include <cstdlib>
#include <fstream>
#include <random>

namespace eltrix::contract {
namespace {

std::string env(const char* name, const char* fallback = "") {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? std::string(value) : std::string(fallback);
}

std::string random_prefix() {
  std::random_device device;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "contract-";
  for (int i = 0; i < 12; ++i) out += kHex[device() % 16];
  return out + "/";
}

}  // namespace

std::optional<S3Server> test_s3_server() {
  S3Server server;
  server.endpoint = env("ELTRIX_TEST_S3_ENDPOINT");
  if (server.endpoint.empty()) return std::nullopt;
  server.bucket = env("ELTRIX_TEST_S3_BUCKET", "eltrix-test");
  server.region = env("ELTRIX_TEST_S3_REGION", "us-east-1");
  server.access_key = env("ELTRIX_TEST_S3_ACCESS_KEY", "S3RVER");
  server.secret_key = env("ELTRIX_TEST_S3_SECRET_KEY", "S3RVER");
  server.data_dir = env("ELTRIX_TEST_S3_DATA");
  return server;
}

void skip_without_s3_server(const std::string& what) {
  if (env("CI") == "true") {
    FAIL(what << ": ELTRIX_TEST_S3_ENDPOINT is not set under CI=true; scripts/test starts "
                 "s3rver (scripts/lib/s3.sh) and sets it");
  }
  WARN(what << " skipped: ELTRIX_TEST_S3_ENDPOINT is not set (run scripts/test, or start "
               "scripts/lib/s3.sh start DIR PORT and export its `env` output)");
}

ConfigValues s3_config(const S3Server& server, const ConfigValues& extra) {
  ConfigValues values = {
      {"s3.endpoint", server.endpoint},     {"s3.bucket", server.bucket},
      {"s3.region", server.region},         {"s3.access_key", server.access_key},
      {"s3.secret_key", server.secret_key}, {"s3.retries", "1"},
  };
  for (const auto& [key, value] : extra) values[key] = value;
  return values;
}

Factory<plugin::MediaStore> with_s3_prefix(Factory<plugin::MediaStore> make, const S3Server& server,
                                           ConfigValues extra) {
  return [make = std::move(make), server, extra = std::move(extra)](ConfigValues values) {
    auto config = s3_config(server, extra);
    config["s3.prefix"] = random_prefix();
    for (auto& [key, value] : values) config[key] = value;
    return make(std::move(config));
  };
}

std::vector<std::string> pending_uploads(const S3Server& server) {
  std::vector<std::string> out;
  std::filesystem::path dir =
      std::filesystem::path(server.data_dir) / server.bucket / "._S3rver_uploads";
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    std::ifstream key_file(entry.path() / "key");
    std::string key((std::istreambuf_iterator<char>(key_file)), std::istreambuf_iterator<char>());
    out.push_back(key.empty() ? entry.path().filename().string() : key);
  }
  return out;
}

}  // namespace eltrix::contract
