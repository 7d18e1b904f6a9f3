#include "app/node.h"

#include "app/client_api.h"
#include "app/open_files.h"
#include "app/systemd.h"
#include "build_info.h"
#include "config/core_keys.h"
#include "health/monitor.h"
#include "http/router.h"
#include "http/server.h"
#include "log/log.h"
#include "metrics/registry.h"
#include "rooms/server_keys.h"
#include "services/services.h"
#include "storage/database.h"

#include <fmt/format.h>

#include <unistd.h>
#include <atomic>
#include <csignal>
#include <thread>

namespace eltrix::app {

namespace keys = config::keys;
using plugin::Health;
using plugin::HealthStatus;

namespace {

const log::Logger& logger() {
  static const log::Logger instance("node");
  return instance;
}

std::size_t worker_count(const config::Config& config) {
  std::string value = config.get_string(keys::kHttpWorkers, "auto");
  if (value != "auto") return static_cast<std::size_t>(std::stoul(value));
  // Poco serves a connection on one worker thread for its whole life, idle
  // keep-alive time included, so size well beyond the core count.
  std::size_t cores = std::max(1U, std::thread::hardware_concurrency());
  return std::max<std::size_t>(32, 16 * cores);
}

storage::DatabaseOptions database_options(const config::Config& config) {
  storage::DatabaseOptions options;
  options.primary = {"primary", config.get_string(keys::kDatabaseUrl)};
  int index = 0;
  for (const auto& url : config.get_list(keys::kDatabaseReplicaUrls)) {
    options.replicas.push_back({fmt::format("replica{}", ++index), url});
  }
  options.pool_size = static_cast<std::size_t>(config.get_int(keys::kDatabasePoolSize, 10));
  options.connect_timeout = std::chrono::seconds(config.get_int(keys::kDatabaseConnectTimeout, 5));
  options.acquire_timeout =
      std::chrono::milliseconds(config.get_int(keys::kDatabaseAcquireTimeout, 5000));
  options.statement_timeout =
      std::chrono::milliseconds(config.get_int(keys::kDatabaseStatementTimeout, 30000));
  options.prepared_statements = config.get_bool(keys::kDatabasePreparedStatements, true);
  return options;
}

/// Runs a plugin's health() with the exception guard every plugin call gets.
template <typename Interface>
std::function<Health()> plugin_health(const plugins::Instance<Interface>& instance) {
  return [&instance]() -> Health {
    auto guard = instance.serialize();
    try {
      return instance->health();
    } catch (const std::exception& e) {
      return {HealthStatus::failed, e.what()};
    } catch (...) {
      return {HealthStatus::failed, "health() threw a non-standard exception"};
    }
  };
}

/// The routing plugin as the database sees it: every call serialised when the
/// plugin is not thread-safe, and guarded so that a throwing plugin sends the
/// query to the primary instead of failing the request.
class GuardedRouting final : public plugin::DbRouting {
 public:
  GuardedRouting(const plugins::Instance<plugin::DbRouting>& routing, metrics::Registry& metrics)
      : routing_(routing),
        failures_(
            metrics.counter("eltrix_db_routing_errors_total",
                            "Routing-plugin calls that threw; the query went to the primary.")) {}

  Health health() override { return plugin_health(routing_)(); }

  std::size_t route(const plugin::RouteRequest& request,
                    std::span<const plugin::TargetState> targets) override {
    auto guard = routing_.serialize();
    try {
      return routing_->route(request, targets);
    } catch (...) {
      failures_.inc();
      return 0;
    }
  }

 private:
  const plugins::Instance<plugin::DbRouting>& routing_;
  metrics::Counter& failures_;
};

/// Applies migrations and pins the server name, retrying while the database
/// is unreachable. The node serves /health meanwhile and reports not-ready.
class SchemaSetup {
 public:
  /// `on_ready` runs once the schema is usable (the node then re-checks its
  /// health at once instead of waiting for the next round).
  SchemaSetup(storage::Database& db, std::string server_name, std::function<void()> on_ready)
      : db_(db), server_name_(std::move(server_name)), on_ready_(std::move(on_ready)) {}

  void start() {
    thread_ = std::thread([this] { loop(); });
  }
  void stop() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  ~SchemaSetup() { stop(); }
  SchemaSetup(const SchemaSetup&) = delete;
  SchemaSetup& operator=(const SchemaSetup&) = delete;
  SchemaSetup(SchemaSetup&&) = delete;
  SchemaSetup& operator=(SchemaSetup&&) = delete;

  [[nodiscard]] Health health() const {
    std::lock_guard lock(mutex_);
    if (done_) return {HealthStatus::ok, "schema up to date"};
    return {HealthStatus::failed, last_error_.empty() ? "not applied yet" : last_error_};
  }

 private:
  void loop() {
    auto delay = std::chrono::milliseconds(500);
    while (true) {
      std::string error;
      try {
        storage::apply_migrations(db_);
        storage::put_setting_if_absent(db_, "server_name", server_name_);
        auto pinned = storage::get_setting(db_, "server_name");
        if (pinned && *pinned != server_name_) {
          // Users, rooms and events carry the server name: serving this
          // database under another name would corrupt it.
          logger().error("configuration error",
                         {{"key", keys::kServerName},
                          {"found", server_name_},
                          {"expected", *pinned},
                          {"reason", "this database belongs to another server name"}});
          fatal_exit_code_.store(kExitConfig);
          kill(getpid(), SIGTERM);  // process-directed, so the main thread's sigwait sees it
          return;
        }
        // The signing key exists before the first send, which then only reads it.
        db_.write([](storage::Transaction& tx) { rooms::ServerKeys::ensure_key(tx); });
        {
          std::lock_guard lock(mutex_);
          done_ = true;
          last_error_.clear();
        }
        logger().info("database schema ready", {{"server_name", server_name_}});
        if (on_ready_) on_ready_();
        return;
      } catch (const std::exception& e) {
        error = e.what();
      }
      std::unique_lock lock(mutex_);
      last_error_ = error;
      logger().warn("database not ready; retrying",
                    {{"error", error}, {"retry_ms", std::to_string(delay.count())}});
      if (wake_.wait_for(lock, delay, [this] { return stop_; })) return;
      delay = std::min(delay * 2, std::chrono::milliseconds(30000));
    }
  }

 public:
  /// Non-zero once the setup found an error that must end the process.
  [[nodiscard]] int fatal_exit_code() const { return fatal_exit_code_.load(); }

 private:
  std::atomic<int> fatal_exit_code_{0};
  storage::Database& db_;
  std::string server_name_;
  std::function<void()> on_ready_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  bool done_ = false;
  std::string last_error_;
  std::thread thread_;
};

int wait_for_termination() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  while (true) {
    int signal = 0;
    if (sigwait(&set, &signal) == 0) return signal;
  }
}

void register_static_metrics(metrics::Registry& metrics,
                             const std::vector<plugins::Selection>& selections,
                             plugins::Registry& registry) {
  metrics.gauge("eltrix_build_info", "Version of this Eltrix build.", {{"version", ELTRIX_VERSION}})
      .set(1);
  for (const auto& selection : selections) {
    if (const auto* info = registry.find(selection.kind, selection.name)) {
      metrics
          .gauge("eltrix_plugin_info", "Loaded plugins.",
                 {{"kind", std::string(plugin::kind_name(info->kind))},
                  {"name", info->name},
                  {"version", info->version},
                  {"abi", fmt::format("{}.{}", info->abi_major, info->abi_minor)}})
          .set(1);
    }
  }
  // Served by the sync and federation layers as they land; the families are
  // declared now so dashboards and alerts can be written against them.
  metrics.gauge("eltrix_sync_connections", "Sync requests currently waiting for events.").set(0);
  metrics.describe("eltrix_federation_requests_total",
                   "Federation requests served, by method and outcome.", metrics::Type::counter);
  metrics::register_process_metrics(metrics);
}

}  // namespace

void block_termination_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::signal(SIGPIPE, SIG_IGN);  // a client hanging up must not kill the process
}

int run_node(LoadedConfiguration& loaded, plugins::Registry& registry, metrics::Registry& metrics) {
  const config::Config& config = loaded.config;
  auto find = [&](plugin::Kind kind) -> std::string {
    for (const auto& s : loaded.selections) {
      if (s.kind == kind) return s.name;
    }
    return {};
  };

  plugins::Instance<plugin::Cache> cache;
  plugins::Instance<plugin::MediaStore> media;
  plugins::Instance<plugin::DbRouting> routing;
  plugins::Instance<plugin::ClusterStrategy> cluster;
  try {
    cache = registry.create<plugin::Cache>(find(plugin::Kind::cache), config);
    media = registry.create<plugin::MediaStore>(find(plugin::Kind::media_store), config);
    routing = registry.create<plugin::DbRouting>(find(plugin::Kind::db_routing), config);
    if (auto name = find(plugin::Kind::cluster_strategy); !name.empty()) {
      cluster = registry.create<plugin::ClusterStrategy>(name, config);
    }
  } catch (const plugins::LoadError& e) {
    logger().error("configuration error", {{"error", e.what()}});
    return kExitConfig;
  }

  GuardedRouting guarded_routing(routing, metrics);
  std::unique_ptr<storage::Database> db;
  try {
    db = std::make_unique<storage::Database>(database_options(config), guarded_routing, metrics);
  } catch (const std::exception& e) {
    logger().error("configuration error", {{"key", keys::kDatabaseUrl}, {"error", e.what()}});
    return kExitConfig;
  }

  health::Monitor monitor(metrics);
  SchemaSetup schema(*db, config.get_string(keys::kServerName),
                     [&monitor] { monitor.check_now(); });
  monitor.add(
      "database", [&db] { return db->ping(); }, true);
  // Each replica on its own and non-critical: a dead or lagging one only
  // sends its reads to the primary. (The "database" check probes them all.)
  const std::chrono::milliseconds max_lag(config.get_int("database.replica_max_lag_ms", 5000));
  for (const auto& name : db->replica_names()) {
    monitor.add(
        "database_" + name, [&db, name, max_lag] { return db->replica_health(name, max_lag); },
        false);
  }
  monitor.add(
      "schema", [&schema] { return schema.health(); }, true);
  // A failing cache degrades the node (requests fall back to PostgreSQL); the
  // other backends are needed to serve.
  monitor.add("cache", plugin_health(cache), false);
  monitor.add("media_store", plugin_health(media), true);
  monitor.add("db_routing", plugin_health(routing), true);

  register_static_metrics(metrics, loaded.selections, registry);

  services::Services services(config, *db, cache, cluster, media, metrics);
  ClientApi client_api(services);
  if (cluster) {
    // Non-critical: without peers the node still serves, and waiting syncs
    // still see other nodes' events through the database recheck.
    monitor.add(
        "cluster",
        [strategy = plugin_health(cluster), &services]() -> Health {
          Health found = strategy();
          const auto mesh = services.mesh_health();
          if (!mesh) return found;
          return {std::max(found.status, mesh->status),
                  mesh->detail + "; strategy: " + found.detail};
        },
        false);
  }
  http::Router router;
  health::add_routes(router, monitor, metrics, ELTRIX_VERSION);
  client_api.add_routes(router);

  http::ServerOptions http_options;
  http_options.bind_address = config.get_string(keys::kHttpBindAddress, "0.0.0.0");
  http_options.port = static_cast<std::uint16_t>(config.get_int(keys::kHttpPort, 8008));
  http_options.workers = worker_count(config);
  http_options.max_queued = static_cast<std::size_t>(config.get_int(keys::kHttpMaxQueued, 256));
  http_options.max_body_bytes =
      static_cast<std::size_t>(config.get_int(keys::kHttpMaxBodySize, 1 << 20));
  http_options.keep_alive_timeout =
      std::chrono::seconds(config.get_int(keys::kHttpKeepAliveTimeout, 15));
  http_options.header_timeout = std::chrono::seconds(config.get_int(keys::kHttpHeaderTimeout, 10));
  http_options.max_connections_per_address =
      static_cast<std::size_t>(config.get_int(keys::kHttpMaxConnectionsPerAddress, 256));
  http_options.connection_limit_exempt = config.get_list(keys::kHttpConnectionLimitExempt);
  http_options.max_parked = static_cast<std::size_t>(config.get_int(keys::kHttpMaxParked, 20000));
  // Parked requests, those served and queued, the database pools, the mesh
  // and files: a rough need, for the warning only.
  raise_open_file_limit(http_options.max_parked + http_options.max_queued + http_options.workers +
                        1024);

  http::Server server(http_options, router, metrics);
  try {
    server.start();
  } catch (const std::exception& e) {
    logger().error("cannot listen", {{"address", http_options.bind_address},
                                     {"port", std::to_string(http_options.port)},
                                     {"error", e.what()}});
    return 1;
  }
  schema.start();
  monitor.start();
  try {
    services.start();
  } catch (const std::exception& e) {
    logger().error("cannot start the cluster mesh",
                   {{"key", keys::kClusterPort}, {"error", e.what()}});
    // The schema thread's on_ready and the monitor's cluster check call into
    // the services: both stop before they are destroyed.
    schema.stop();
    monitor.stop();
    services.stop();
    return 1;
  }
  Watchdog watchdog([&monitor] { return monitor.alive(); });

  const std::string listening = fmt::format("{}:{}", http_options.bind_address, server.port());
  logger().info("listening", {{"address", listening},
                              {"workers", std::to_string(http_options.workers)},
                              {"version", ELTRIX_VERSION}});
  notify_ready("listening on " + listening);

  const int signal = wait_for_termination();
  const int exit_code = schema.fatal_exit_code();
  logger().info("draining", {{"signal", signal == SIGINT ? "SIGINT" : "SIGTERM"}});
  notify_stopping();
  monitor.set_draining(true);
  server.stop_accepting();
  const auto timeout = std::chrono::seconds(config.get_int(keys::kDrainTimeout, 30));
  const bool drained = server.drain(timeout);
  services.stop();
  // After the drain: the schema thread may be waiting for another node's
  // migration lock, which must not delay finishing the requests in flight.
  schema.stop();
  monitor.stop();
  if (!drained) {
    logger().warn("drain timed out; exiting with requests in flight",
                  {{"in_flight", std::to_string(server.in_flight())}});
  }
  logger().info("stopped", {{"exit_code", std::to_string(exit_code)}});
  return exit_code;
}

}  // namespace eltrix::app
