// The keys the core itself declares (plugins declare their own).
#pragma once

#include "config/schema.h"

namespace eltrix::config {

/// Adds every core key, with its extra checks, to `schema`.
void add_core_keys(Schema& schema);

// Names used by the code, so a typo is a compile error rather than a silent default.
namespace keys {
inline constexpr const char* kServerName = "server.name";
inline constexpr const char* kSecretKey = "server.secret_key";
inline constexpr const char* kSigningKeyRefresh = "server.signing_key_refresh";
inline constexpr const char* kDatabaseUrl = "database.url";
inline constexpr const char* kDatabaseReplicaUrls = "database.replica_urls";
inline constexpr const char* kDatabasePoolSize = "database.pool_size";
inline constexpr const char* kDatabaseRouting = "database.routing";
inline constexpr const char* kDatabaseConnectTimeout = "database.connect_timeout";
inline constexpr const char* kDatabaseAcquireTimeout = "database.acquire_timeout";
inline constexpr const char* kDatabaseStatementTimeout = "database.statement_timeout";
inline constexpr const char* kDatabasePreparedStatements = "database.prepared_statements";
inline constexpr const char* kHttpBindAddress = "http.bind_address";
inline constexpr const char* kHttpPort = "http.port";
inline constexpr const char* kHttpWorkers = "http.workers";
inline constexpr const char* kHttpMaxQueued = "http.max_queued";
inline constexpr const char* kHttpMaxBodySize = "http.max_body_size";
inline constexpr const char* kHttpKeepAliveTimeout = "http.keep_alive_timeout";
inline constexpr const char* kHttpHeaderTimeout = "http.header_timeout";
inline constexpr const char* kHttpMaxConnectionsPerAddress = "http.max_connections_per_address";
inline constexpr const char* kHttpConnectionLimitExempt = "http.connection_limit_exempt";
inline constexpr const char* kHttpMaxParked = "http.max_parked";
inline constexpr const char* kMediaStore = "media.store";
inline constexpr const char* kMediaMaxUploadSize = "media.max_upload_size";
inline constexpr const char* kCacheBackend = "cache.backend";
inline constexpr const char* kCacheTtl = "cache.ttl";
inline constexpr const char* kClusterEnabled = "cluster.enabled";
inline constexpr const char* kClusterStrategy = "cluster.strategy";
inline constexpr const char* kClusterPort = "cluster.port";
inline constexpr const char* kLogLevel = "log.level";
inline constexpr const char* kLogFormat = "log.format";
inline constexpr const char* kPluginDirectory = "plugins.directory";
inline constexpr const char* kDrainTimeout = "lifecycle.drain_timeout";
}  // namespace keys

/// Checks used by core keys, exposed for tests.
std::optional<std::string> check_server_name(std::string_view value);
std::optional<std::string> check_ip_address(std::string_view value);
std::optional<std::string> check_workers(std::string_view value);
std::optional<std::string> check_database_url(std::string_view value);
/// A comma-separated list of IP addresses or CIDR blocks ("10.0.0.0/8").
std::optional<std::string> check_address_blocks(std::string_view value);

}  // namespace eltrix::config
