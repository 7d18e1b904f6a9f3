// The one API-server request the kubernetes strategy makes: list the pods
// matching a label selector in one namespace, over HTTPS verified against the
// service-account CA, with the service-account bearer token.
#pragma once

#include "pod_list.h"

#include <Poco/Net/Context.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string>

namespace eltrix::cluster_kubernetes {

struct ApiOptions {
  std::string host;  ///< API server address (KUBERNETES_SERVICE_HOST)
  std::uint16_t port = 443;
  std::string pod_namespace;
  std::string selector;  ///< labelSelector, as written
  std::filesystem::path token_file;
  std::filesystem::path ca_file;
  std::chrono::seconds timeout{5};
};

class ApiClient {
 public:
  explicit ApiClient(ApiOptions options);

  /// GET /api/v1/namespaces/{ns}/pods?labelSelector=... Safe to call from
  /// several threads. Throws cluster_common::FetchFailure with reason
  /// "token", "tls", "timeout", "unreachable", "http_<status>" or
  /// "bad_json"; its message names the status or error, never the token.
  PodListAnswer list_pods();

  [[nodiscard]] const std::string& pods_namespace() const { return options_.pod_namespace; }
  /// "https://HOST:PORT", for messages.
  [[nodiscard]] std::string server() const;
  /// The request path for `resource_version` (empty: none), exposed for tests.
  [[nodiscard]] std::string pods_path(const std::string& resource_version) const;

 private:
  Poco::Net::Context::Ptr context();
  [[nodiscard]] std::string read_token() const;

  const ApiOptions options_;

  std::mutex mutex_;
  // The TLS context holds the parsed CA; rebuilt only when ca.crt changes
  // (its modification time), not on every poll.
  Poco::Net::Context::Ptr context_;
  std::filesystem::file_time_type ca_time_{};
  // Newest list seen: later lists ask for data not older than it, which the
  // API server can answer from its watch cache instead of etcd.
  std::string resource_version_;
};

/// Percent-encodes everything but RFC 3986 unreserved characters.
std::string percent_encode(std::string_view text);

}  // namespace eltrix::cluster_kubernetes
