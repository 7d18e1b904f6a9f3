// media-store-s3 configuration: the declared keys' names, and the parsed,
// checked settings the store runs with.
//
// parse_settings() and check_settings() share one set of rules, so
// `eltrix --config=check` (the plugin's validate hook, no side effects) and the
// constructor refuse exactly the same values.
#pragma once

#include <eltrix/plugin/config.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace eltrix::media_s3 {

namespace keys {
inline constexpr const char* kBucket = "s3.bucket";
inline constexpr const char* kRegion = "s3.region";
inline constexpr const char* kAccessKey = "s3.access_key";
inline constexpr const char* kSecretKey = "s3.secret_key";
inline constexpr const char* kEndpoint = "s3.endpoint";
inline constexpr const char* kPrefix = "s3.prefix";
inline constexpr const char* kPartSize = "s3.part_size_mb";
inline constexpr const char* kConnectTimeout = "s3.connect_timeout";
inline constexpr const char* kRequestTimeout = "s3.request_timeout";
inline constexpr const char* kRetries = "s3.retries";
inline constexpr const char* kPoolSize = "s3.pool_size";
}  // namespace keys

/// S3's smallest part (all but the last part of a multipart upload).
inline constexpr std::uint64_t kMinPartSize = 5ULL * 1024 * 1024;

struct Endpoint {
  bool https = true;
  std::string host;  ///< name or address, without brackets
  std::uint16_t port = 443;
  /// The Host header: "host" or "host:port" when the port is not the scheme's
  /// default ("[v6]:port" for IPv6).
  std::string host_header;
  /// Path-style ("/<bucket>/<key>") when an endpoint was configured, else
  /// virtual-host style on <bucket>.s3.<region>.amazonaws.com.
  bool path_style = false;
  [[nodiscard]] std::string url() const;  ///< "https://host[:port]", for messages
};

struct Settings {
  std::string bucket;
  std::string region = "us-east-1";
  std::string access_key;
  std::string secret_key;
  Endpoint endpoint;
  std::string prefix;  ///< "" or segments ending in '/', put before every object key
  std::uint64_t part_size = 8ULL * 1024 * 1024;
  std::chrono::seconds connect_timeout{5};
  std::chrono::seconds request_timeout{30};
  int retries = 3;
  std::size_t pool_size = 32;
};

/// Appends one problem per bad value (naming the key, the value found unless
/// secret, and what was expected). No side effects.
void check_settings(const plugin::Config& config, std::vector<plugin::ConfigProblem>& problems);

/// The settings, or throws plugin::Error(permanent) listing every problem.
Settings parse_settings(const plugin::Config& config);

/// "https://example.com:9000" -> Endpoint (path-style); nullopt-like failure is
/// reported through `error` (what was expected).
bool parse_endpoint(std::string_view url, Endpoint& out, std::string& error);

/// The AWS endpoint for a region, virtual-host style: <bucket>.s3.<region>.amazonaws.com.
Endpoint aws_endpoint(const std::string& bucket, const std::string& region);

/// S3 bucket naming rules: 3-63 characters of a-z 0-9 . -, starting and
/// ending with a letter or digit.
bool is_valid_bucket_name(std::string_view name);

}  // namespace eltrix::media_s3
