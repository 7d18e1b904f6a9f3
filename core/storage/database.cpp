#include "storage/database.h"

#include "log/log.h"
#include "metrics/registry.h"
#include "storage/connstring.h"
#include "storage/pool.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <random>
#include <set>
#include <thread>

namespace eltrix::storage {

namespace {

const log::Logger& logger() {
  static const log::Logger instance("storage");
  return instance;
}

constexpr std::string_view kQueryDurationHelp =
    "Duration of database statements, by target and access";
constexpr std::string_view kErrorsHelp = "Database errors, by target and kind";
constexpr std::chrono::seconds kProbeConnectTimeout{2};
constexpr int kProbeStatementTimeoutMs = 2000;

// One round trip that works on primaries and replicas: the WAL position (the
// primary's write position, a replica's replay position) and the replay lag.
constexpr const char* kProbeSql =
    "SELECT pg_is_in_recovery(),"
    " (CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() "
    "END)::text,"
    " CASE WHEN pg_is_in_recovery() AND pg_last_wal_receive_lsn() IS DISTINCT FROM "
    "pg_last_wal_replay_lsn()"
    "   THEN COALESCE((EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()) * "
    "1000)::bigint, 0)"
    "   ELSE 0 END";

/// libpq messages span lines ("...failed: Connection refused\n\tIs the server
/// running..."); logs and errors want one line.
std::string one_line(std::string_view text) {
  std::string out;
  bool space = false;
  for (char c : text) {
    if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

bool loses_connection(ErrorKind kind) {
  return kind == ErrorKind::connection || kind == ErrorKind::in_doubt;
}

StorageError from_sqlstate(const std::string& target, const std::string& message,
                           const std::string& sqlstate) {
  const std::string text = "database error on '" + target + "'" +
                           (sqlstate.empty() ? "" : " [" + sqlstate + "]") + ": " +
                           one_line(message);
  const std::string_view cls =
      std::string_view(sqlstate).substr(0, std::min<std::size_t>(2, sqlstate.size()));
  if (cls == "08" || sqlstate == "57P01" || sqlstate == "57P02" || sqlstate == "57P03" ||
      sqlstate == "53300") {
    return StorageError(ErrorKind::connection, text, true, sqlstate);
  }
  if (sqlstate == "57014" || sqlstate == "55P03")
    return StorageError(ErrorKind::timeout, text, true, sqlstate);
  if (cls == "40") return StorageError(ErrorKind::serialization, text, true, sqlstate);
  if (cls == "23") return StorageError(ErrorKind::constraint, text, false, sqlstate);
  return StorageError(ErrorKind::query, text, false, sqlstate);
}

/// Translates the exception being handled. Exceptions that do not come from
/// the database (a handler's own) are rethrown unchanged.
StorageError translate_current(const std::string& target) {
  try {
    throw;
  } catch (const StorageError& e) {
    return e;
  } catch (const pqxx::in_doubt_error& e) {
    return StorageError(ErrorKind::in_doubt,
                        "connection to '" + target +
                            "' lost during COMMIT; the outcome is unknown: " + one_line(e.what()),
                        true);
  } catch (const pqxx::broken_connection& e) {
    return StorageError(ErrorKind::connection,
                        "connection to '" + target + "' lost: " + one_line(e.what()), true);
  } catch (const pqxx::serialization_failure& e) {
    return from_sqlstate(target, e.what(), "40001");
  } catch (const pqxx::deadlock_detected& e) {
    return from_sqlstate(target, e.what(), "40P01");
  } catch (const pqxx::statement_completion_unknown& e) {
    return StorageError(
        ErrorKind::in_doubt,
        "connection to '" + target + "' lost; statement outcome unknown: " + one_line(e.what()),
        true);
  } catch (const pqxx::transaction_rollback& e) {
    return from_sqlstate(target, e.what(), "40000");
  } catch (const pqxx::sql_error& e) {
    return from_sqlstate(target, e.what(), e.sqlstate());
  } catch (const pqxx::pqxx_exception& e) {
    return StorageError(ErrorKind::query,
                        "database error on '" + target + "': " + one_line(e.base().what()), false);
  }
}

std::chrono::milliseconds retry_backoff(int attempt) {
  thread_local std::minstd_rand rng{std::random_device{}()};
  const int cap = std::min(200, 5 << std::min(attempt, 6));
  return std::chrono::milliseconds(std::uniform_int_distribution<int>(cap / 2, cap)(rng));
}

}  // namespace

namespace detail {

struct TargetRuntime {
  std::string name;
  bool primary = false;
  std::string conninfo;        ///< handed to libpq (contains the password, never logged)
  std::string probe_conninfo;  ///< same, with a short connect_timeout
  std::string redacted;        ///< for logs and errors
  metrics::Registry* registry = nullptr;
  plugin::Histogram* read_histogram = nullptr;
  plugin::Histogram* write_histogram = nullptr;
  std::unique_ptr<ConnectionPool> pool;

  // Health knowledge shown to the routing plugin.
  std::atomic<bool> healthy{true};
  std::atomic<std::uint64_t> replay_position{0};
  std::atomic<std::int64_t> lag_ms{0};

  // The health probe's own connection (never taken from the pool, so a busy
  // pool does not look like an outage).
  std::mutex probe_mutex;
  std::unique_ptr<pqxx::connection> probe_conn;

  void count_error(ErrorKind kind) const {
    registry
        ->counter("eltrix_db_errors_total", kErrorsHelp,
                  {{"target", name}, {"kind", std::string(to_string(kind))}})
        .inc();
  }

  void set_healthy(bool value, std::string_view reason) {
    const bool was = healthy.exchange(value);
    if (was == value) return;
    if (value) {
      logger().info("database target reachable", {{"target", name}, {"url", redacted}});
    } else {
      logger().warn("database target unreachable",
                    {{"target", name}, {"url", redacted}, {"error", reason}});
    }
  }

  std::unique_ptr<pqxx::connection> connect(const std::string& info) {
    try {
      auto conn = std::make_unique<pqxx::connection>(info);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
      // The pool replaces broken connections itself; pqxx must not silently
      // reconnect one behind our back.
      conn->inhibit_reactivation(true);
#pragma GCC diagnostic pop
      set_healthy(true, {});
      return conn;
    } catch (const std::exception& e) {
      const std::string reason = one_line(e.what());
      count_error(ErrorKind::connection);
      set_healthy(false, reason);
      throw StorageError(ErrorKind::connection,
                         "cannot connect to database '" + name + "' (" + redacted + "): " + reason,
                         true);
    }
  }
};

}  // namespace detail

// ---- Transaction ---------------------------------------------------------------

Transaction::Transaction(pqxx::transaction_base& tx, detail::TargetRuntime& target,
                         plugin::Access access)
    : tx_(tx),
      target_(target),
      access_(access),
      histogram_(access == plugin::Access::read ? target.read_histogram : target.write_histogram) {}

std::string_view Transaction::target() const {
  return target_.name;
}

void Transaction::observe(std::chrono::steady_clock::time_point start) const {
  histogram_->observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
}

void Transaction::rethrow_translated(std::string_view sql) {
  StorageError error = translate_current(target_.name);
  target_.count_error(error.kind());
  if (!failure_) failure_ = error;
  if (logger().enabled(log::Level::debug)) {
    const std::string statement(sql.substr(0, 200));
    logger().debug("statement failed", {{"target", target_.name},
                                        {"sql", statement},
                                        {"error", error.what()},
                                        {"sqlstate", error.sqlstate()}});
  }
  throw error;
}

void Transaction::unexpected_rows(std::string_view sql, std::string_view expected,
                                  std::size_t got) {
  throw StorageError(ErrorKind::unexpected_rows,
                     "expected " + std::string(expected) + ", got " + std::to_string(got) +
                         " rows from: " + std::string(sql.substr(0, 200)),
                     false);
}

void Transaction::exec_script(std::string_view sql) {
  const auto start = std::chrono::steady_clock::now();
  try {
    tx_.exec(std::string(sql));
    observe(start);
  } catch (...) {
    observe(start);
    rethrow_translated(sql);
  }
}

// ---- Database ------------------------------------------------------------------

Database::Database(DatabaseOptions options, plugin::DbRouting& routing, metrics::Registry& metrics)
    : options_(std::move(options)), routing_(routing), metrics_(metrics) {
  if (options_.pool_size == 0)
    throw StorageError(ErrorKind::config, "database pool_size must be at least 1", false);
  if (options_.max_attempts < 1) options_.max_attempts = 1;
  if (options_.primary.name.empty()) options_.primary.name = "primary";

  std::vector<const TargetOptions*> all{&options_.primary};
  for (std::size_t i = 0; i < options_.replicas.size(); ++i) {
    if (options_.replicas[i].name.empty())
      options_.replicas[i].name = "replica" + std::to_string(i + 1);
    all.push_back(&options_.replicas[i]);
  }
  std::set<std::string> names;
  for (const TargetOptions* t : all) {
    if (!names.insert(t->name).second) {
      throw StorageError(ErrorKind::config, "duplicate database target name '" + t->name + "'",
                         false);
    }
  }

  for (std::size_t i = 0; i < all.size(); ++i) {
    const TargetOptions& t = *all[i];
    auto rt = std::make_unique<detail::TargetRuntime>();
    rt->name = t.name;
    rt->primary = i == 0;
    rt->redacted = redact_conninfo(t.url);
    try {
      rt->conninfo = build_connection_string(t.url, options_.connect_timeout);
      rt->probe_conninfo = build_connection_string(
          t.url, std::min(options_.connect_timeout, kProbeConnectTimeout), true);
    } catch (const StorageError& e) {
      throw StorageError(ErrorKind::config, "database target '" + t.name + "': " + e.what(), false);
    }
    rt->registry = &metrics_;
    const metrics::Labels target_label{{"target", t.name}};
    rt->read_histogram = &metrics_.histogram("eltrix_db_query_duration_seconds", kQueryDurationHelp,
                                             {{"target", t.name}, {"access", "read"}});
    rt->write_histogram =
        &metrics_.histogram("eltrix_db_query_duration_seconds", kQueryDurationHelp,
                            {{"target", t.name}, {"access", "write"}});
    detail::PoolMetrics pm;
    pm.in_use = &metrics_.gauge("eltrix_db_pool_connections_in_use",
                                "Pooled database connections checked out", target_label);
    pm.size =
        &metrics_.gauge("eltrix_db_pool_size", "Maximum pooled database connections", target_label);
    pm.waiting = &metrics_.gauge("eltrix_db_pool_waiting",
                                 "Callers waiting for a pooled database connection", target_label);
    pm.acquire_timeouts =
        &metrics_.counter("eltrix_db_pool_acquire_timeouts_total",
                          "Waits for a pooled database connection that timed out", target_label);
    // Declare the error family so it is rendered before the first error.
    metrics_.describe("eltrix_db_errors_total", kErrorsHelp, metrics::Type::counter);
    detail::TargetRuntime* raw = rt.get();
    rt->pool = std::make_unique<detail::ConnectionPool>(
        t.name, options_.pool_size, options_.acquire_timeout,
        [raw]() -> detail::ConnectionPool::Connection { return raw->connect(raw->conninfo); }, pm);
    targets_.push_back(std::move(rt));
  }
  logger().info("database configured", {{"primary", targets_[0]->redacted},
                                        {"replicas", std::to_string(targets_.size() - 1)},
                                        {"pool_size", std::to_string(options_.pool_size)}});
}

Database::~Database() = default;

std::size_t Database::pool_size() const {
  return options_.pool_size;
}

std::size_t Database::in_use(const std::string& target) const {
  for (const auto& t : targets_) {
    if (t->name == target) return t->pool->in_use();
  }
  return 0;
}

std::vector<plugin::TargetState> Database::target_states() const {
  std::vector<plugin::TargetState> states;
  states.reserve(targets_.size());
  for (const auto& t : targets_) {
    plugin::TargetState s;
    s.name = t->name;
    s.primary = t->primary;
    s.healthy = t->healthy.load();
    s.replay_position = t->replay_position.load();
    s.lag = std::chrono::milliseconds(t->primary ? 0 : t->lag_ms.load());
    states.push_back(s);
  }
  return states;
}

std::size_t Database::choose_read_target(std::uint64_t min_position) {
  if (targets_.size() == 1) return 0;
  const std::vector<plugin::TargetState> states = target_states();
  plugin::RouteRequest request;
  request.access = plugin::Access::read;
  request.min_position = min_position;
  try {
    const std::size_t index = routing_.route(request, states);
    return index < states.size() ? index : 0;
  } catch (const std::exception& e) {
    logger().warn("db routing plugin failed; reading from the primary", {{"error", e.what()}});
    return 0;
  }
}

void Database::run(plugin::Access access, std::uint64_t min_position,
                   const std::function<void(Transaction&)>& body) {
  detail::TargetRuntime* target = targets_[0].get();
  if (access == plugin::Access::read) target = targets_[choose_read_target(min_position)].get();

  for (int attempt = 1;; ++attempt) {
    try {
      run_once(*target, access, body);
      return;
    } catch (const StorageError& e) {
      if (!target->primary && e.kind() == ErrorKind::connection) {
        logger().info("replica unavailable; reading from the primary",
                      {{"target", target->name}, {"error", e.what()}});
        target = targets_[0].get();
        continue;
      }
      if (e.kind() == ErrorKind::serialization && attempt < options_.max_attempts) {
        logger().debug("retrying transaction", {{"target", target->name},
                                                {"attempt", std::to_string(attempt)},
                                                {"sqlstate", e.sqlstate()}});
        std::this_thread::sleep_for(retry_backoff(attempt));
        continue;
      }
      throw;
    }
  }
}

void Database::run_once(detail::TargetRuntime& target, plugin::Access access,
                        const std::function<void(Transaction&)>& body) {
  detail::ConnectionPool::Lease lease;
  std::unique_ptr<pqxx::transaction_base> tx;
  // A pooled connection may have died while idle (server restart, idle
  // timeout, pg_terminate_backend); BEGIN finds out. Nothing has run yet, so
  // replace it and try again, at most once per pooled connection plus one.
  const std::size_t begin_attempts = target.pool->max_size() + 1;
  for (std::size_t attempt = 1;; ++attempt) {
    lease = target.pool->acquire();
    try {
      if (access == plugin::Access::read) {
        tx = std::make_unique<pqxx::read_transaction>(lease.conn());
      } else {
        tx = std::make_unique<pqxx::work>(lease.conn());
      }
      if (options_.statement_timeout.count() > 0) {
        // Transaction-scoped, so it cannot leak to another client behind PgBouncer.
        tx->exec("SET LOCAL statement_timeout = " +
                 std::to_string(options_.statement_timeout.count()));
      }
      break;
    } catch (...) {
      tx.reset();
      StorageError error = translate_current(target.name);
      target.count_error(error.kind());
      if (!loses_connection(error.kind()) && lease.conn().is_open()) throw error;
      lease.discard();
      lease.release();
      if (attempt >= begin_attempts) throw error;
      logger().debug("replacing a broken pooled connection",
                     {{"target", target.name}, {"error", error.what()}});
    }
  }

  Transaction txn(*tx, target, access);
  try {
    body(txn);
  } catch (...) {
    tx.reset();  // rolls back
    if ((txn.failure_ && loses_connection(txn.failure_->kind())) || !lease.conn().is_open())
      lease.discard();
    throw;
  }
  if (txn.failure_) {
    // The handler caught a database error and carried on; PostgreSQL has
    // already aborted the transaction, so report it rather than "commit".
    tx.reset();
    if (loses_connection(txn.failure_->kind()) || !lease.conn().is_open()) lease.discard();
    const StorageError& f = *txn.failure_;
    throw StorageError(f.kind(), std::string("transaction rolled back after an error: ") + f.what(),
                       f.transient(), f.sqlstate());
  }
  try {
    tx->commit();
  } catch (...) {
    tx.reset();
    StorageError error = translate_current(target.name);
    target.count_error(error.kind());
    if (loses_connection(error.kind()) || !lease.conn().is_open()) lease.discard();
    throw error;
  }
}

std::optional<std::string> Database::probe(detail::TargetRuntime& target) noexcept {
  try {
    std::lock_guard lock(target.probe_mutex);
    try {
      if (!target.probe_conn || !target.probe_conn->is_open()) {
        target.probe_conn.reset();
        target.probe_conn = target.connect(target.probe_conninfo);
      }
      pqxx::read_transaction tx(*target.probe_conn);
      tx.exec("SET LOCAL statement_timeout = " + std::to_string(kProbeStatementTimeoutMs));
      const pqxx::result r = tx.exec(kProbeSql);
      tx.commit();
      const bool in_recovery = r[0][0].as<bool>();
      if (!r[0][1].is_null()) {
        if (auto lsn = parse_lsn(r[0][1].as<std::string>())) target.replay_position = *lsn;
      }
      target.lag_ms = r[0][2].is_null() ? 0 : r[0][2].as<std::int64_t>();
      if (target.primary && in_recovery) {
        logger().warn("the primary database is in recovery (a standby?); writes will fail",
                      {{"target", target.name}, {"url", target.redacted}});
      }
      target.set_healthy(true, {});
      return std::nullopt;
    } catch (const std::exception& e) {
      target.probe_conn.reset();
      std::string reason = one_line(e.what());
      if (dynamic_cast<const StorageError*>(&e) == nullptr) {
        // connect() already counted its own failures.
        target.count_error(ErrorKind::connection);
        reason = "'" + target.name + "' (" + target.redacted + "): " + reason;
      }
      target.set_healthy(false, reason);
      // The pooled connections most likely died too; reconnect them on next use.
      target.pool->drain_idle();
      return reason;
    }
  } catch (...) {
    return std::string("health probe of '") + target.name + "' failed";
  }
}

plugin::Health Database::ping() noexcept {
  try {
    const std::optional<std::string> primary_error = probe(*targets_[0]);
    std::string replica_errors;
    for (std::size_t i = 1; i < targets_.size(); ++i) {
      if (auto error = probe(*targets_[i])) {
        if (!replica_errors.empty()) replica_errors += "; ";
        replica_errors += *error;
      }
    }
    if (primary_error)
      return {plugin::HealthStatus::failed, "primary database unreachable: " + *primary_error};
    if (!replica_errors.empty()) {
      return {plugin::HealthStatus::degraded,
              "replica unreachable, reads use the primary: " + replica_errors};
    }
    return {plugin::HealthStatus::ok, {}};
  } catch (...) {
    return {plugin::HealthStatus::failed, "database health probe failed"};
  }
}

}  // namespace eltrix::storage
