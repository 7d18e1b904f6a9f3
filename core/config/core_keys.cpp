#include "config/core_keys.h"

#include "config/client_keys.h"
#include "config/cluster_keys.h"
#include "config/media_keys.h"
#include "matrix/ids.h"

#include <arpa/inet.h>

#include <charconv>

namespace eltrix::config {
namespace {

using plugin::ConfigKeySpec;
using plugin::ConfigType;
using plugin::kConfigRequired;
using plugin::kConfigSecret;

// inet_pton rather than Poco::Net::IPAddress: Poco 1.11 rejects "::".
bool is_ipv4(const std::string& text) {
  in_addr out{};
  return inet_pton(AF_INET, text.c_str(), &out) == 1;
}
bool is_ipv6(const std::string& text) {
  in6_addr out{};
  return inet_pton(AF_INET6, text.c_str(), &out) == 1;
}

bool parse_int(std::string_view v, std::int64_t& out) {
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  return ec == std::errc() && ptr == v.data() + v.size();
}

}  // namespace

std::optional<std::string> check_server_name(std::string_view value) {
  // Matrix spec, "Server name": hostname / IPv4 / [IPv6], optional :port.
  const std::string expected =
      "expected a DNS name, IPv4 address or [IPv6] address with an optional :port, e.g. "
      "example.org";
  if (value.empty() || value.size() > 255) return expected;
  std::string_view host = value;
  std::string_view port;
  if (host.front() == '[') {
    auto close = host.find(']');
    if (close == std::string_view::npos) return expected;
    port = host.substr(close + 1);
    host = host.substr(1, close - 1);
    if (!is_ipv6(std::string(host))) {
      return expected;
    }
  } else {
    auto colon = host.rfind(':');
    if (colon != std::string_view::npos) {
      port = host.substr(colon);
      host = host.substr(0, colon);
    }
    if (host.empty()) return expected;
    for (char c : host) {
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '-' || c == '.';
      if (!ok) return expected;
    }
  }
  if (!port.empty()) {
    std::int64_t n = 0;
    if (port.front() != ':' || !parse_int(port.substr(1), n) || n < 1 || n > 65535) {
      return expected;
    }
  }
  // The grammar the server checks every user ID, room ID and alias against:
  // a name it accepted here but not there ("a..b", "0", "..") would make the
  // server's own IDs invalid, and ".." would be a path segment in media keys.
  if (!matrix::is_valid_server_name(value)) return expected;
  return std::nullopt;
}

std::optional<std::string> check_ip_address(std::string_view value) {
  if (!is_ipv4(std::string(value)) && !is_ipv6(std::string(value))) {
    return "expected an IPv4 or IPv6 address such as 0.0.0.0, 127.0.0.1 or ::";
  }
  return std::nullopt;
}

std::optional<std::string> check_workers(std::string_view value) {
  std::int64_t n = 0;
  if (value == "auto" || (parse_int(value, n) && n >= 1 && n <= 1024)) return std::nullopt;
  return "expected 'auto' or a number of threads from 1 to 1024";
}

std::optional<std::string> check_database_url(std::string_view value) {
  if (value.starts_with("postgres://") || value.starts_with("postgresql://") ||
      value.find('=') != std::string_view::npos) {
    return std::nullopt;
  }
  return "expected a PostgreSQL URL (postgresql://user:password@host:5432/dbname) or a libpq "
         "keyword/value string (host=... dbname=...)";
}

std::optional<std::string> check_address_blocks(std::string_view value) {
  for (const auto& item : plugin::Config::split_list(value)) {
    std::string_view text = item;
    std::string_view bits;
    if (const auto slash = text.find('/'); slash != std::string_view::npos) {
      bits = text.substr(slash + 1);
      text = text.substr(0, slash);
    }
    std::int64_t n = 0;
    const bool v4 = is_ipv4(std::string(text));
    const bool v6 = !v4 && is_ipv6(std::string(text));
    const bool bits_ok = item.find('/') == std::string::npos ||
                         (parse_int(bits, n) && n >= 0 && n <= (v4 ? 32 : 128));
    if ((!v4 && !v6) || !bits_ok) {
      return "expected IP addresses or CIDR blocks separated by commas, e.g. "
             "10.0.0.0/8, 192.0.2.10, fd00::/8 ('" +
             item + "' is not one)";
    }
  }
  return std::nullopt;
}

void add_core_keys(Schema& schema) {
  auto check_each_url = [](std::string_view value) -> std::optional<std::string> {
    for (const auto& url : plugin::Config::split_list(value)) {
      if (auto problem = check_database_url(url)) return problem;
    }
    return std::nullopt;
  };
  const std::pair<ConfigKeySpec, Check> keys[] = {
      {{.name = keys::kServerName,
        .help = "The Matrix server name: the part after ':' in user IDs (@alice:example.org). "
                "It cannot change once users exist; the first start pins it in the database.",
        .flags = kConfigRequired,
        .env = "ELTRIX_SERVER_NAME"},
       check_server_name},
      {{.name = keys::kSecretKey,
        .help = "Secret shared by every node of one deployment; keys for tokens and cluster "
                "traffic are derived from it. At least 32 characters; keep it private.",
        .flags = kConfigRequired | kConfigSecret,
        .env = "ELTRIX_SECRET_KEY"},
       [](std::string_view v) -> std::optional<std::string> {
         if (v.size() >= 32) return std::nullopt;
         return "expected at least 32 characters (try: openssl rand -hex 32)";
       }},
      {{.name = keys::kSigningKeyRefresh,
        .type = ConfigType::integer,
        .default_value = "60",
        .help = "Seconds a node signs with the signing key it loaded before it looks again. "
                "`eltrix keys rotate` and `import` reach every node within this; the key they "
                "replace stays valid for twice this by default (their --grace).",
        .env = "ELTRIX_SIGNING_KEY_REFRESH",
        .min_value = 1,
        .max_value = 3600},
       {}},
      {{.name = keys::kDatabaseUrl,
        .help = "PostgreSQL connection URL of the primary (or of PgBouncer in transaction "
                "mode in front of it).",
        .flags = kConfigRequired | kConfigSecret,
        .env = "DATABASE_URL"},
       check_database_url},
      {{.name = keys::kDatabaseReplicaUrls,
        .type = ConfigType::list,
        .default_value = "",
        .help = "Comma-separated URLs of read replicas. When set, reads are routed to replicas "
                "that have replayed the reader's own writes.",
        .flags = kConfigSecret,
        .env = "DATABASE_REPLICA_URL"},
       check_each_url},
      {{.name = keys::kDatabasePoolSize,
        .type = ConfigType::integer,
        .default_value = "10",
        .help = "Connections per database server, per node. Keep nodes x pool size below "
                "PostgreSQL's max_connections (or PgBouncer's max_client_conn).",
        .env = "ELTRIX_POOL_SIZE",
        .min_value = 1,
        .max_value = 1000},
       {}},
      {{.name = keys::kDatabaseRouting,
        .default_value = "auto",
        .help = "The db-routing plugin: 'auto' picks 'replicas' when database.replica_urls is "
                "set and 'primary' otherwise, or name a plugin."},
       {}},
      {{.name = keys::kDatabaseConnectTimeout,
        .type = ConfigType::integer,
        .default_value = "5",
        .help = "Seconds to wait for a new database connection.",
        .min_value = 1,
        .max_value = 300},
       {}},
      {{.name = keys::kDatabaseAcquireTimeout,
        .type = ConfigType::integer,
        .default_value = "5000",
        .help = "Milliseconds a request waits for a free pooled connection before failing.",
        .min_value = 1,
        .max_value = 600000},
       {}},
      {{.name = keys::kDatabaseStatementTimeout,
        .type = ConfigType::integer,
        .default_value = "30000",
        .help = "Milliseconds before a statement is cancelled (set per transaction, so it is "
                "safe behind PgBouncer). 0 disables it.",
        .min_value = 0,
        .max_value = 3600000},
       {}},
      {{.name = keys::kDatabasePreparedStatements,
        .type = ConfigType::boolean,
        .default_value = "true",
        .help = "Prepare statements on the server, so PostgreSQL parses and plans each one "
                "once per connection. Set false behind PgBouncer in transaction mode (found "
                "out by itself otherwise, at the price of one transaction run twice).",
        .env = "ELTRIX_DATABASE_PREPARED_STATEMENTS"},
       {}},
      {{.name = keys::kHttpBindAddress,
        .default_value = "0.0.0.0",
        .help = "Address the client API, health and metrics listen on.",
        .env = "ELTRIX_BIND_ADDRESS"},
       check_ip_address},
      {{.name = keys::kHttpPort,
        .type = ConfigType::integer,
        .default_value = "8008",
        .help = "Port of the client API, health and metrics endpoints.",
        .env = "ELTRIX_PORT",
        .min_value = 1,
        .max_value = 65535},
       {}},
      {{.name = keys::kHttpWorkers,
        .default_value = "auto",
        .help = "Request worker threads of this process ('auto': 16 per CPU core, at least 32). "
                "A connection holds one only while a request of it is being handled: "
                "connections waiting for a request head, idle keep-alive ones and parked "
                "requests (waiting syncs) hold none. Unlike the original system, this is "
                "threads, not processes.",
        .env = "ELTRIX_WORKERS"},
       check_workers},
      {{.name = keys::kHttpMaxQueued,
        .type = ConfigType::integer,
        .default_value = "256",
        .help = "Requests (complete heads) that may wait in the queue for a worker. Beyond it "
                "they wait in the connection poller, without a thread, and are closed if no "
                "worker takes them within http.keep_alive_timeout.",
        .min_value = 1,
        .max_value = 100000},
       {}},
      {{.name = keys::kHttpMaxBodySize,
        .type = ConfigType::integer,
        .default_value = "1048576",
        .help = "Largest request body, in bytes, for API requests other than media uploads.",
        .min_value = 1024,
        .max_value = 1073741824},
       {}},
      {{.name = keys::kHttpKeepAliveTimeout,
        .type = ConfigType::integer,
        .default_value = "15",
        .help = "Seconds an idle keep-alive connection stays open (it holds a socket, not a "
                "thread, meanwhile).",
        .min_value = 1,
        .max_value = 3600},
       {}},
      {{.name = keys::kHttpHeaderTimeout,
        .type = ConfigType::integer,
        .default_value = "10",
        .help = "Seconds a client has to send a request's line and headers (and a body of up "
                "to 16 KiB), from its first byte; slower connections are closed. Heads are "
                "read without a worker thread, so slow clients cost a socket, not a thread.",
        .min_value = 1,
        .max_value = 300},
       {}},
      {{.name = keys::kHttpMaxConnectionsPerAddress,
        .type = ConfigType::integer,
        .default_value = "256",
        .help = "Open connections per client address (IPv6: per /64); beyond it new "
                "connections from that address are closed at once. 0: no limit. Behind a "
                "load balancer or reverse proxy every connection comes from its address: "
                "list it in http.connection_limit_exempt (or set 0) and limit per client "
                "there.",
        .min_value = 0,
        .max_value = 1000000},
       {}},
      {{.name = keys::kHttpConnectionLimitExempt,
        .type = ConfigType::list,
        .default_value = "",
        .help = "IP addresses or CIDR blocks (e.g. 10.0.0.0/8) of load balancers and reverse "
                "proxies, not limited by http.max_connections_per_address."},
       check_address_blocks},
      {{.name = keys::kHttpMaxParked,
        .type = ConfigType::integer,
        .default_value = "20000",
        .help = "Requests parked without a thread at once (waiting syncs and media "
                "downloads), each holding a connection; beyond it they answer 503. "
                "sync.max_waiting must not exceed it.",
        .min_value = 1,
        .max_value = 1000000},
       {}},
      {{.name = keys::kMediaStore,
        .default_value = "local",
        .help = "The media-store plugin: 'local' (alias of 'fs') or 's3'."},
       {}},
      {{.name = keys::kMediaMaxUploadSize,
        .type = ConfigType::integer,
        .default_value = "50",
        .help = "Largest media upload, in megabytes.",
        .env = "ELTRIX_MAX_UPLOAD_SIZE",
        .min_value = 1,
        .max_value = 102400},
       {}},
      {{.name = keys::kCacheBackend,
        .default_value = "local",
        .help = "The cache plugin: 'local' (in-process) or 'redis' (shared by all nodes)."},
       {}},
      {{.name = keys::kCacheTtl,
        .type = ConfigType::integer,
        .default_value = "3600",
        .help = "Default time-to-live of cache entries, in seconds.",
        .min_value = 1,
        .max_value = 31536000},
       {}},
      {{.name = keys::kClusterEnabled,
        .type = ConfigType::boolean,
        .default_value = "false",
        .help = "Join other nodes for presence, typing and cross-node event delivery."},
       {}},
      {{.name = keys::kClusterStrategy,
        .default_value = "static",
        .help = "How peers are found: 'static' (alias 'epmd', a configured list), 'dns' or "
                "'kubernetes'."},
       {}},
      {{.name = keys::kClusterPort,
        .type = ConfigType::integer,
        .default_value = "8009",
        .help = "Port of the internal cluster mesh, and the default port of discovered peers.",
        .min_value = 1,
        .max_value = 65535},
       {}},
      {{.name = keys::kLogLevel,
        .type = ConfigType::choice,
        .default_value = "info",
        .help = "Least severe level logged.",
        .choices = "debug|info|warn|error"},
       {}},
      {{.name = keys::kLogFormat,
        .type = ConfigType::choice,
        .default_value = "text",
        .help = "'text' for people, 'json' for log collectors (one object per line).",
        .choices = "text|json"},
       {}},
      {{.name = keys::kPluginDirectory,
        .type = ConfigType::list,
        .default_value = "",
        .help = "Directories searched for <kind>-<name>.so plugins. Empty: the build tree's "
                "plugins when run from it, else the installed plugin directory.",
        .env = "ELTRIX_PLUGIN_DIR"},
       {}},
      {{.name = keys::kDrainTimeout,
        .type = ConfigType::integer,
        .default_value = "30",
        .help = "Seconds SIGTERM waits for requests in flight before exiting.",
        .env = "ELTRIX_DRAIN_TIMEOUT",
        .min_value = 0,
        .max_value = 3600},
       {}},
  };
  for (const auto& [spec, check] : keys) schema.add(spec, "core", check);
  add_client_keys(schema);
  add_cluster_keys(schema);
  add_media_keys(schema);
}

}  // namespace eltrix::config
