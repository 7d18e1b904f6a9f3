#include "s3_settings.h"

#include <eltrix/plugin/error.h>
#include <eltrix/plugin/media_store.h>

#include <charconv>

namespace eltrix::media_s3 {
namespace {

bool is_region(std::string_view region) {
  if (region.empty() || region.size() > 64) return false;
  for (char c : region) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

std::string default_host_header(const Endpoint& e) {
  std::string host = e.host.find(':') != std::string::npos ? "[" + e.host + "]" : e.host;
  bool default_port = (e.https && e.port == 443) || (!e.https && e.port == 80);
  return default_port ? host : host + ":" + std::to_string(e.port);
}

// Integer keys are range-checked by the core from their declarations; this
// reads them again for the constructor (the fallbacks are the declared defaults).
std::int64_t read_int(const plugin::Config& config, const char* key, std::int64_t fallback,
                      std::vector<plugin::ConfigProblem>& problems) {
  try {
    return config.get_int(key, fallback);
  } catch (const plugin::Error& e) {
    problems.push_back({key, e.what()});
    return fallback;
  }
}

Settings parse(const plugin::Config& config, std::vector<plugin::ConfigProblem>& problems) {
  Settings s;
  s.bucket = config.get_string(keys::kBucket);
  if (!is_valid_bucket_name(s.bucket)) {
    problems.push_back({keys::kBucket, "found '" + s.bucket +
                                           "', expected an S3 bucket name: 3-63 characters of "
                                           "a-z, 0-9, '.' and '-', starting and ending with a "
                                           "letter or digit"});
  }
  s.region = config.get_string(keys::kRegion, "us-east-1");
  if (!is_region(s.region)) {
    problems.push_back({keys::kRegion, "found '" + s.region +
                                           "', expected an AWS region name such as us-east-1 "
                                           "(a-z, 0-9 and '-')"});
  }
  s.access_key = config.get_string(keys::kAccessKey);
  if (s.access_key.empty() || s.access_key.find_first_of("/, \t\r\n") != std::string::npos) {
    problems.push_back({keys::kAccessKey, "found '" + s.access_key +
                                              "', expected an access key id (no '/', ',' or "
                                              "blanks)"});
  }
  s.secret_key = config.get_string(keys::kSecretKey);
  if (s.secret_key.empty()) {
    problems.push_back({keys::kSecretKey, "found an empty value, expected the secret access key"});
  }
  auto endpoint = config.get_string(keys::kEndpoint);
  if (!endpoint.empty()) {
    std::string error;
    if (!parse_endpoint(endpoint, s.endpoint, error)) {
      problems.push_back({keys::kEndpoint, "found '" + endpoint + "', expected " + error});
    }
  } else if (!s.bucket.empty()) {
    s.endpoint = aws_endpoint(s.bucket, s.region);
  }
  s.prefix = config.get_string(keys::kPrefix);
  if (!s.prefix.empty() &&
      (s.prefix.back() != '/' ||
       !plugin::is_valid_object_key(std::string_view(s.prefix).substr(0, s.prefix.size() - 1)))) {
    problems.push_back({keys::kPrefix, "found '" + s.prefix +
                                           "', expected nothing or '/'-separated segments of "
                                           "A-Z a-z 0-9 . _ - ending in '/', e.g. eltrix/"});
  }
  auto part_mb = read_int(config, keys::kPartSize, 8, problems);
  if (part_mb < 5 || part_mb > 5120) {
    problems.push_back({keys::kPartSize, "found '" + std::to_string(part_mb) +
                                             "', expected a part size in MiB from 5 (S3's "
                                             "minimum part) to 5120"});
  } else {
    s.part_size = static_cast<std::uint64_t>(part_mb) * 1024 * 1024;
  }
  auto connect = read_int(config, keys::kConnectTimeout, 5, problems);
  auto request = read_int(config, keys::kRequestTimeout, 30, problems);
  if (connect < 1 || connect > 300) {
    problems.push_back({keys::kConnectTimeout,
                        "found '" + std::to_string(connect) + "', expected seconds from 1 to 300"});
  }
  if (request < 1 || request > 3600) {
    problems.push_back({keys::kRequestTimeout, "found '" + std::to_string(request) +
                                                   "', expected seconds from 1 to 3600"});
  }
  s.connect_timeout = std::chrono::seconds(connect);
  s.request_timeout = std::chrono::seconds(request);
  auto retries = read_int(config, keys::kRetries, 3, problems);
  if (retries < 0 || retries > 10) {
    problems.push_back(
        {keys::kRetries, "found '" + std::to_string(retries) + "', expected 0 to 10 retries"});
  }
  s.retries = static_cast<int>(retries);
  auto pool = read_int(config, keys::kPoolSize, 32, problems);
  if (pool < 1 || pool > 1024) {
    problems.push_back(
        {keys::kPoolSize, "found '" + std::to_string(pool) + "', expected 1 to 1024 connections"});
  }
  s.pool_size = static_cast<std::size_t>(pool < 1 ? 1 : pool);
  return s;
}

}  // namespace

std::string Endpoint::url() const {
  return (https ? "https://" : "http://") + host_header;
}

bool is_valid_bucket_name(std::string_view name) {
  if (name.size() < 3 || name.size() > 63) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  for (char c : name) {
    if (!alnum(c) && c != '.' && c != '-') return false;
  }
  return alnum(name.front()) && alnum(name.back()) && name.find("..") == std::string_view::npos;
}

bool parse_endpoint(std::string_view url, Endpoint& out, std::string& error) {
  error =
      "an http:// or https:// URL with a host and an optional port and nothing else, e.g. "
      "http://127.0.0.1:9000";
  Endpoint e;
  if (url.starts_with("https://")) {
    e.https = true;
    e.port = 443;
    url.remove_prefix(8);
  } else if (url.starts_with("http://")) {
    e.https = false;
    e.port = 80;
    url.remove_prefix(7);
  } else {
    return false;
  }
  while (!url.empty() && url.back() == '/') url.remove_suffix(1);
  if (url.empty() || url.find_first_of("/?#@ \t") != std::string_view::npos) return false;
  std::string_view host = url;
  std::string_view port;
  if (host.front() == '[') {
    auto close = host.find(']');
    if (close == std::string_view::npos) return false;
    port = host.substr(close + 1);
    host = host.substr(1, close - 1);
    if (!port.empty() && port.front() != ':') return false;
  } else if (auto colon = host.rfind(':'); colon != std::string_view::npos) {
    port = host.substr(colon);
    host = host.substr(0, colon);
  }
  if (host.empty()) return false;
  if (!port.empty()) {
    port.remove_prefix(1);
    unsigned value = 0;
    auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || ptr != port.data() + port.size() || value == 0 || value > 65535) {
      return false;
    }
    e.port = static_cast<std::uint16_t>(value);
  }
  e.host = std::string(host);
  e.host_header = default_host_header(e);
  e.path_style = true;
  out = e;
  return true;
}

Endpoint aws_endpoint(const std::string& bucket, const std::string& region) {
  Endpoint e;
  e.https = true;
  e.port = 443;
  e.host = bucket + ".s3." + region + ".amazonaws.com";
  e.host_header = e.host;
  e.path_style = false;
  return e;
}

void check_settings(const plugin::Config& config, std::vector<plugin::ConfigProblem>& problems) {
  (void)parse(config, problems);
}

Settings parse_settings(const plugin::Config& config) {
  std::vector<plugin::ConfigProblem> problems;
  Settings settings = parse(config, problems);
  if (!problems.empty()) {
    std::string message;
    for (const auto& problem : problems) {
      if (!message.empty()) message += "; ";
      message += problem.key + ": " + problem.message;
    }
    throw plugin::Error(plugin::ErrorKind::permanent, message);
  }
  return settings;
}

}  // namespace eltrix::media_s3
