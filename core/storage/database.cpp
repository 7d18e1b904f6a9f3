#include "storage/database.h"

#include "log/log.h"
#include "metrics/registry.h"
#include "storage/connstring.h"
#include "storage/pool.h"
#include "storage/prepared.h"
#include "storage/stream.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <deque>
#include <limits>
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

/// Each parameter as a literal quoted by `conn` (NULL for nullopt).
std::vector<std::string> quote_all(pqxx::connection_base& conn,
                                   const std::vector<std::optional<std::string>>& params) {
  std::vector<std::string> out;
  out.reserve(params.size());
  for (const auto& param : params) {
    if (!param) {
      out.emplace_back("NULL");
      continue;
    }
    detail::check_text_param(*param);
    out.push_back(conn.quote(*param));
  }
  return out;
}

/// `sql` with each $n replaced by literals[n-1]. The SQL is the caller's
/// constant text; only the parameters come from outside, quoted already.
std::string bind_literals(std::string_view sql, const std::vector<std::string>& literals) {
  std::string out;
  out.reserve(sql.size() + 64);
  for (std::size_t i = 0; i < sql.size(); ++i) {
    const char c = sql[i];
    if (c != '$' || i + 1 >= sql.size() ||
        std::isdigit(static_cast<unsigned char>(sql[i + 1])) == 0) {
      out += c;
      continue;
    }
    std::size_t n = 0;
    while (i + 1 < sql.size() && std::isdigit(static_cast<unsigned char>(sql[i + 1]))) {
      n = n * 10 + static_cast<std::size_t>(sql[++i] - '0');
    }
    if (n == 0 || n > literals.size()) {
      throw StorageError(ErrorKind::query,
                         "statement names $" + std::to_string(n) + " but has " +
                             std::to_string(literals.size()) + " parameters",
                         false);
    }
    out += literals[n - 1];
  }
  return out;
}

/// "EXECUTE name(a, b, ...)".
std::string execute_text(const std::string& name, const std::vector<std::string>& literals) {
  std::string out = "EXECUTE " + name;
  if (literals.empty()) return out;
  out += '(';
  for (std::size_t i = 0; i < literals.size(); ++i) {
    if (i != 0) out += ", ";
    out += literals[i];
  }
  out += ')';
  return out;
}

constexpr std::string_view kQueryDurationHelp =
    "Duration of database statements, by target and access";
constexpr std::string_view kErrorsHelp = "Database errors, by target and kind";
constexpr std::chrono::seconds kProbeConnectTimeout{2};
constexpr int kProbeStatementTimeoutMs = 2000;

// One round trip that works on primaries and replicas: whether it is in
// recovery and its WAL position (the primary's insert position, a replica's
// replay position). Replica lag is derived from positions, not timestamps
// (Database::replica_lag).
constexpr const char* kProbeSql =
    "SELECT pg_is_in_recovery(),"
    " (CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE "
    "pg_current_wal_insert_lsn() "
    "END)::text";

// Run after a write commits, on the same connection. The insert position is
// at or past the end of the commit record just written (the commit returned,
// so its record was inserted, whatever synchronous_commit says); a replica
// that has replayed this far has replayed the commit. Behind PgBouncer in
// transaction mode this statement may reach another server connection, but
// of the same primary, whose insert position is only further on.
constexpr const char* kCommitPositionExpr = "pg_current_wal_insert_lsn()::text";
constexpr const char* kCommitPositionSql = "SELECT pg_current_wal_insert_lsn()::text";

// The first statement of a read on a replica (with SET LOCAL
// statement_timeout, in the same round trip). A read-committed transaction
// takes a new snapshot per statement, so every later statement sees at least
// what was replayed when this one ran. NULL: the server is not in recovery
// (a promoted replica, or a test pointing "replica" at the primary) and is
// as current as it gets.
constexpr const char* kReplayPositionSql = "SELECT pg_last_wal_replay_lsn()::text";

/// How many primary positions the lag estimate remembers (one per health
/// round, every 2 s by default: about 8 minutes).
constexpr std::size_t kPositionHistory = 256;

bool schema_missing(const std::string& sqlstate) {
  // undefined table, column, function: a migration the replica has not
  // replayed yet.
  return sqlstate == "42P01" || sqlstate == "42703" || sqlstate == "42883";
}

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
  mutable std::mutex error_mutex;
  std::string last_error;  ///< of the last failed probe (redacted)

  // Replicas only.
  metrics::Gauge* lag_gauge = nullptr;
  metrics::Counter* fallback_unreachable = nullptr;
  metrics::Counter* fallback_behind = nullptr;
  metrics::Counter* fallback_schema = nullptr;

  /// Raises the known position (it only moves forward; a stale probe answer
  /// must not undo what a read just saw).
  void raise_position(std::uint64_t position) {
    std::uint64_t known = replay_position.load();
    while (known < position && !replay_position.compare_exchange_weak(known, position)) {
    }
  }

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

/// The primary's positions over the last health rounds, to tell how long ago
/// the primary had written what a replica has not replayed yet. Measuring lag
/// this way needs no clock agreement between servers and notices a replica
/// whose WAL receiver is disconnected (it receives nothing, so "received but
/// not replayed" would call it current).
struct LagHistory {
  struct Sample {
    std::chrono::steady_clock::time_point at;
    std::uint64_t position = 0;
  };
  std::mutex mutex;
  std::deque<Sample> samples;  ///< oldest first; positions never decrease

  void add(std::chrono::steady_clock::time_point at, std::uint64_t position) {
    std::lock_guard lock(mutex);
    if (!samples.empty() && samples.back().position > position) samples.clear();  // a new primary
    samples.push_back({at, position});
    if (samples.size() > kPositionHistory) samples.pop_front();
  }

  /// How long ago the primary was first seen at a position `replayed` has
  /// not reached (0: it has reached every position seen).
  std::chrono::milliseconds lag(std::uint64_t replayed, std::chrono::steady_clock::time_point now) {
    std::lock_guard lock(mutex);
    for (const Sample& s : samples) {
      if (s.position > replayed) {
        return std::chrono::duration_cast<std::chrono::milliseconds>(now - s.at);
      }
    }
    return std::chrono::milliseconds(0);
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

bool Transaction::on_primary() const {
  return target_.primary;
}

void Transaction::need_primary() const {
  if (target_.primary) return;
  throw StorageError(ErrorKind::stale_replica,
                     "'" + target_.name + "' had not replayed what this read needs", true);
}

std::optional<std::string> Transaction::prepared_name(std::string_view sql) {
  if (prepared_ == nullptr) return std::nullopt;
  std::optional<std::string> name = prepared_->name_for(sql);
  // pqxx prepares it on this connection when first executed; registering it
  // again is a lookup.
  if (name) tx_.conn().prepare(*name, std::string(sql));
  return name;
}

void Transaction::defer_bound(std::string_view sql,
                              const std::vector<std::optional<std::string>>& values) {
  const std::vector<std::string> literals = quote_all(tx_.conn(), values);
  std::optional<std::string> name = prepared_name(sql);
  if (!name) {
    deferred_.push_back(bind_literals(sql, literals));
    return;
  }
  // EXECUTE needs the statement on the server already: prepared once per
  // connection, in a round trip of its own that first time only.
  try {
    tx_.conn().prepare_now(*name);
  } catch (...) {
    rethrow_translated(sql);
  }
  deferred_.push_back(execute_text(*name, literals));
}

std::string Transaction::take_deferred() {
  std::string text;
  for (auto& statement : deferred_) {
    if (!text.empty()) text += "; ";
    text += statement;
  }
  deferred_.clear();
  return text;
}

void Transaction::flush_deferred() {
  const std::string text = take_deferred();
  const auto start = std::chrono::steady_clock::now();
  try {
    tx_.exec(text);
    observe(start);
  } catch (...) {
    observe(start);
    rethrow_translated(text);
  }
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
  // Generous: the program's statement texts number a few hundred.
  constexpr std::size_t kPreparedLimit = 2000;
  prepared_names_ = std::make_unique<detail::PreparedNames>(kPreparedLimit);
  prepare_ = options_.prepared_statements;

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
    if (i > 0) {
      rt->lag_gauge = &metrics_.gauge("eltrix_db_replica_lag_seconds",
                                      "How long ago the primary had written what this replica "
                                      "has not replayed yet (0: caught up), as of the last probe.",
                                      target_label);
      constexpr std::string_view kFallbackHelp =
          "Reads routed to a replica that ran on the primary instead, by reason "
          "(unreachable, behind: had not replayed what the read needs, schema: lacks a "
          "migration).";
      rt->fallback_unreachable =
          &metrics_.counter("eltrix_db_replica_fallbacks_total", kFallbackHelp,
                            {{"target", t.name}, {"reason", "unreachable"}});
      rt->fallback_behind = &metrics_.counter("eltrix_db_replica_fallbacks_total", kFallbackHelp,
                                              {{"target", t.name}, {"reason", "behind"}});
      rt->fallback_schema = &metrics_.counter("eltrix_db_replica_fallbacks_total", kFallbackHelp,
                                              {{"target", t.name}, {"reason", "schema"}});
    }
    detail::TargetRuntime* raw = rt.get();
    rt->pool = std::make_unique<detail::ConnectionPool>(
        t.name, options_.pool_size, options_.acquire_timeout,
        [raw]() -> detail::ConnectionPool::Connection { return raw->connect(raw->conninfo); }, pm);
    targets_.push_back(std::move(rt));
  }
  history_ = std::make_unique<detail::LagHistory>();
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

std::uint64_t Database::read_requirement(std::uint64_t min_position) {
  ReadScope* scope = ReadScope::current();
  if (scope == nullptr) return min_position;
  std::optional<std::uint64_t> required = scope->required(book_);
  if (!required) {
    // Nobody here knows the requester's last write: every acknowledged write
    // is at or before the primary's current position. Asked once per request,
    // and only when a replica could serve the read at all.
    bool replica_up = false;
    for (std::size_t i = 1; i < targets_.size(); ++i) replica_up |= targets_[i]->healthy.load();
    if (!replica_up) return min_position;
    scope->set_required(primary_position());
    required = scope->required(book_);
  }
  return std::max(min_position, required.value_or(0));
}

std::uint64_t Database::primary_position() {
  std::uint64_t position = 0;
  run_once(
      *targets_[0], plugin::Access::read, 0,
      [&position](Transaction& tx) {
        const pqxx::row row = tx.exec1(kCommitPositionSql);
        if (!row[0].is_null()) position = parse_lsn(row[0].as<std::string>()).value_or(0);
      },
      nullptr);
  raise_latest(position);
  return position;
}

void Database::raise_latest(std::uint64_t position) {
  std::uint64_t known = latest_position_.load();
  while (known < position && !latest_position_.compare_exchange_weak(known, position)) {
  }
}

void Database::note_commit(detail::TargetRuntime& primary, pqxx::connection_base& conn) {
  std::uint64_t position = 0;
  try {
    pqxx::nontransaction tx(conn);
    const pqxx::result r = tx.exec(kCommitPositionSql);
    if (!r.empty() && !r[0][0].is_null())
      position = parse_lsn(r[0][0].as<std::string>()).value_or(0);
  } catch (const std::exception& e) {
    // The write is committed; only its position is unknown. Any later
    // position of the primary covers it.
    primary.count_error(ErrorKind::connection);
    logger().debug("commit position unreadable on this connection; asking the primary again",
                   {{"error", one_line(e.what())}});
    try {
      position = primary_position();
    } catch (const std::exception& again) {
      logger().warn(
          "write committed but its WAL position is unknown; the writer's next reads "
          "may miss it on a lagging replica",
          {{"error", one_line(again.what())}});
      return;
    }
  }
  raise_latest(position);
  if (ReadScope* scope = ReadScope::current()) scope->wrote(book_, position);
}

void Database::run(plugin::Access access, std::uint64_t min_position,
                   const std::function<void(Transaction&)>& body, const FirstStatement* first) {
  detail::TargetRuntime* target = targets_[0].get();
  std::uint64_t need = 0;
  if (access == plugin::Access::read && targets_.size() > 1 && min_position != kLatest) {
    need = read_requirement(min_position);
    target = targets_[choose_read_target(need)].get();
  }

  bool lost_prepared = false;
  for (int attempt = 1;; ++attempt) {
    try {
      run_once(*target, access, need, body, first);
      return;
    } catch (const StorageError& e) {
      // Rolled back: run it again unprepared (every concurrent transaction
      // that hit it too does the same; one of them says so).
      if (detail::prepared_statement_lost(e.sqlstate()) && !lost_prepared) {
        lost_prepared = true;
        if (prepare_.exchange(false)) {
          logger().warn(
              "a prepared statement was lost between transactions (a pooler in transaction "
              "mode?): statements run unprepared from now on; set "
              "database.prepared_statements = false to skip this",
              {{"target", target->name}, {"sqlstate", e.sqlstate()}});
        }
        continue;
      }
      if (!target->primary) {
        metrics::Counter* reason = nullptr;
        if (e.kind() == ErrorKind::connection) {
          reason = target->fallback_unreachable;
          logger().info("replica unavailable; reading from the primary",
                        {{"target", target->name}, {"error", e.what()}});
        } else if (e.kind() == ErrorKind::stale_replica) {
          reason = target->fallback_behind;
        } else if (schema_missing(e.sqlstate())) {
          reason = target->fallback_schema;
          logger().debug("replica lacks part of the schema; reading from the primary",
                         {{"target", target->name}, {"error", e.what()}});
        }
        if (reason != nullptr) {
          reason->inc();
          target = targets_[0].get();
          continue;
        }
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
                        std::uint64_t min_position, const std::function<void(Transaction&)>& body,
                        const FirstStatement* first_statement) {
  detail::ConnectionPool::Lease lease;
  // BEGIN and COMMIT are sent by hand on a nontransaction, so that each
  // shares its round trip with what must come with it (SET LOCAL before;
  // the stream bound and the WAL position after): two to four round trips
  // fewer per write than pqxx::work with separate statements.
  std::unique_ptr<pqxx::nontransaction> tx;
  const bool check_replay = !target.primary && access == plugin::Access::read;
  std::optional<std::uint64_t> replayed;  // nullopt: not in recovery, fully current
  std::uint64_t xid = 0;                  // a write's transaction ID
  pqxx::result first_result;              // first_statement's rows
  // Ends a transaction that will not commit. A connection that cannot even
  // roll back is dropped, never pooled in the middle of a transaction.
  auto roll_back = [&] {
    try {
      if (tx && lease.conn().is_open()) {
        tx->exec("ROLLBACK");
      } else {
        lease.discard();
      }
    } catch (...) {
      lease.discard();
    }
    tx.reset();
  };
  // A pooled connection may have died while idle (server restart, idle
  // timeout, pg_terminate_backend); BEGIN finds out. Nothing has run yet, so
  // replace it and try again, at most once per pooled connection plus one.
  const std::size_t begin_attempts = target.pool->max_size() + 1;
  for (std::size_t attempt = 1;; ++attempt) {
    lease = target.pool->acquire();
    // Outside the try below: a bad parameter is the caller's error, not a
    // broken connection. pqxx's quoting can throw its own errors (bytes
    // that are no text in the connection's encoding): the caller's too.
    // A write learns its transaction ID up front, in this round trip: the
    // base of any stream position it claims (stream.h). Only the last
    // statement's rows come back, so a first statement's columns follow the
    // ID in one SELECT (the outer join keeps the ID when it finds nothing).
    std::string first_prelude;
    std::string first_text;
    std::optional<std::string> first_name;
    if (access == plugin::Access::write && first_statement != nullptr) {
      const std::string wrapped = std::string("SELECT ") + kTransactionIdExpr +
                                  ", f.* FROM (SELECT 1) one LEFT JOIN (" + first_statement->sql +
                                  ") f ON true";
      try {
        const std::vector<std::string> literals = quote_all(lease.conn(), first_statement->params);
        if (!first_statement->prelude.empty())
          first_prelude = bind_literals(first_statement->prelude, literals);
        if (prepare_.load(std::memory_order_relaxed))
          first_name = prepared_names_->name_for(wrapped);
        first_text =
            first_name ? execute_text(*first_name, literals) : bind_literals(wrapped, literals);
        if (first_name) lease.conn().prepare(*first_name, wrapped);
      } catch (const errors::Error&) {
        throw;  // StorageError, InvalidTextParameter: already typed
      } catch (const std::exception& e) {
        throw StorageError(ErrorKind::query,
                           std::string("first statement's parameter: ") + e.what(), false);
      }
    }
    try {
      // EXECUTE needs the statement on the server: prepared once per
      // connection, in a round trip of its own that first time only.
      if (first_name) lease.conn().prepare_now(*first_name);
      tx = std::make_unique<pqxx::nontransaction>(lease.conn());
      std::string first = access == plugin::Access::read ? "BEGIN READ ONLY" : "BEGIN";
      // Transaction-scoped, so it cannot leak to another client behind PgBouncer.
      if (options_.statement_timeout.count() > 0)
        first +=
            "; SET LOCAL statement_timeout = " + std::to_string(options_.statement_timeout.count());
      if (check_replay) first += "; " + std::string(kReplayPositionSql);
      if (access == plugin::Access::write && first_statement != nullptr) {
        if (!first_prelude.empty()) first += "; " + first_prelude;
        first += "; " + first_text;
      } else if (access == plugin::Access::write) {
        first += "; " + std::string(kTransactionIdSql);
      }
      const pqxx::result r = tx->exec(first);
      if (check_replay && !r.empty() && !r[0][0].is_null())
        replayed = parse_lsn(r[0][0].as<std::string>());
      if (access == plugin::Access::write) xid = r.at(0).at(0).as<std::uint64_t>();
      if (first_statement != nullptr) first_result = r;
      break;
    } catch (...) {
      StorageError error = translate_current(target.name);
      target.count_error(error.kind());
      if (!loses_connection(error.kind()) && lease.conn().is_open()) {
        roll_back();
        throw error;
      }
      tx.reset();
      lease.discard();
      lease.release();
      if (attempt >= begin_attempts) throw error;
      logger().debug("replacing a broken pooled connection",
                     {{"target", target.name}, {"error", error.what()}});
    }
  }
  if (replayed) {
    // Fresher than the last probe: routing sees it at once.
    target.raise_position(*replayed);
    if (*replayed < min_position) {
      roll_back();
      throw StorageError(ErrorKind::stale_replica,
                         "'" + target.name + "' has not replayed the position this read needs",
                         true);
    }
  }

  Transaction txn(*tx, target, access);
  txn.stream_claim().xid = xid;
  if (prepare_.load(std::memory_order_relaxed)) txn.prepared_ = prepared_names_.get();
  if (first_statement != nullptr) txn.first_result_ = first_result;
  try {
    body(txn);
  } catch (...) {
    if ((txn.failure_ && loses_connection(txn.failure_->kind())) || !lease.conn().is_open())
      lease.discard();
    roll_back();
    throw;
  }
  if (txn.failure_) {
    // The handler caught a database error and carried on; PostgreSQL has
    // already aborted the transaction, so report it rather than "commit".
    if (loses_connection(txn.failure_->kind()) || !lease.conn().is_open()) lease.discard();
    roll_back();
    const StorageError& f = *txn.failure_;
    throw StorageError(f.kind(), std::string("transaction rolled back after an error: ") + f.what(),
                       f.transient(), f.sqlstate());
  }
  // After COMMIT, in the same round trip: the stream bound (has it passed
  // this transaction's positions yet? see await_stream) and, with replicas,
  // the WAL position the commit reached (see note_commit).
  const std::uint64_t stream_xid = txn.stream_claim().count > 0 ? txn.stream_claim().xid : 0;
  const bool want_position = access == plugin::Access::write && targets_.size() > 1;
  // Statements deferred by the body (Transaction::defer) go first.
  std::string commit = txn.take_deferred();
  commit += commit.empty() ? "COMMIT" : "; COMMIT";
  if (stream_xid != 0 || want_position) {
    commit += std::string("; ") + kSnapshotXminSql +
              (want_position ? std::string(", ") + kCommitPositionExpr : std::string(", NULL"));
  }
  pqxx::result after;
  try {
    after = tx->exec(commit);
  } catch (...) {
    StorageError error = translate_current(target.name);
    if (error.kind() == ErrorKind::connection && access == plugin::Access::write) {
      error = StorageError(ErrorKind::in_doubt,
                           "connection to '" + target.name +
                               "' lost during COMMIT; the outcome is unknown: " + error.what(),
                           true);
    }
    target.count_error(error.kind());
    if (loses_connection(error.kind()) || !lease.conn().is_open()) lease.discard();
    roll_back();  // a failed COMMIT has ended the transaction; this only tidies up
    throw error;
  }
  tx.reset();
  if (stream_xid == 0 && !want_position) return;
  bool waited = false;
  if (stream_xid != 0) note_xmin(after[0][0].as<std::uint64_t>());
  if (stream_xid != 0 && after[0][0].as<std::uint64_t>() <= stream_xid) {
    await_stream(lease.conn(), stream_xid);
    waited = true;
  }
  if (!want_position) return;
  if (waited || after[0][1].is_null()) {
    note_commit(target, lease.conn());  // read again: after the wait
  } else {
    const std::uint64_t position = parse_lsn(after[0][1].as<std::string>()).value_or(0);
    raise_latest(position);
    if (ReadScope* scope = ReadScope::current()) scope->wrote(book_, position);
  }
}

void Database::note_xmin(std::uint64_t xmin) {
  std::uint64_t seen = xmin_seen_.load();
  do {
    if (xmin <= seen) return;  // someone saw as far already, and said so
  } while (!xmin_seen_.compare_exchange_weak(seen, xmin));
  std::lock_guard lock(xmin_mutex_);  // no waiter misses the notification
  xmin_moved_.notify_all();
}

// The commit is visible now, but readers' bounds (stream.h) pass its
// positions only once every older transaction has ended too. Waiting for that
// here makes what the writer acknowledges and wakes readable at once: the
// writer's next /sync or /messages shows it, and a sync woken by it finds it
// (else it would find nothing and wait for the next change). No hole depends
// on this wait; readers are bounded either way. Older writes in flight end
// within milliseconds, and usually another writer's commit reports it before
// a poll of this one's is needed.
void Database::await_stream(pqxx::connection_base& conn, std::uint64_t xid) {
  // Short: while a long transaction runs elsewhere, every write would
  // otherwise wait this long before answering.
  constexpr auto kGiveUp = std::chrono::milliseconds(250);
  const auto start = std::chrono::steady_clock::now();
  // Other writers' commits report the bound too: under load one of them
  // usually passes this transaction within a commit's time, and a poll of
  // our own is needed only when none does.
  auto pause = std::chrono::microseconds(300);
  try {
    pqxx::nontransaction tx(conn);
    for (;;) {
      {
        std::unique_lock lock(xmin_mutex_);
        if (xmin_moved_.wait_for(lock, pause, [&] { return xmin_seen_.load() > xid; })) return;
      }
      // One writer of the node polls at a time; what it finds reaches every
      // waiter through note_xmin (with ten senders, each polling for itself
      // sent 1.3 extra statements per message).
      bool polling = false;
      if (xmin_polling_.compare_exchange_strong(polling, true)) {
        std::uint64_t xmin = 0;
        try {
          const pqxx::result r = tx.exec(kSnapshotXminSql);
          xmin = r[0][0].as<std::uint64_t>();
        } catch (...) {
          xmin_polling_.store(false);
          throw;
        }
        xmin_polling_.store(false);
        note_xmin(xmin);
        if (xmin > xid) return;
      }
      const auto now = std::chrono::steady_clock::now();
      if (now - start > kGiveUp) {
        // Once per 10 s at most: while the transaction runs, every write gets here.
        static std::atomic<std::int64_t> last_warned{0};
        const std::int64_t seconds =
            std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
        std::int64_t previous = last_warned.load();
        if (seconds - previous >= 10 && last_warned.compare_exchange_strong(previous, seconds)) {
          logger().warn(
              "a long transaction holds the stream back; writes show in syncs once it ends",
              {{"oldest_running_xid", std::to_string(xmin_seen_.load())}});
        }
        return;
      }
      pause = std::min(pause * 2, std::chrono::microseconds(4000));
    }
  } catch (const std::exception& e) {
    // Committed; only the wait failed. Readers see the write a little later.
    logger().debug("could not wait for the stream to pass a write",
                   {{"error", one_line(e.what())}});
  }
}

std::optional<std::string> Database::probe(detail::TargetRuntime& target,
                                           std::uint64_t primary_position) noexcept {
  auto fail = [&target](std::string reason) {
    target.set_healthy(false, reason);
    std::lock_guard lock(target.error_mutex);
    target.last_error = reason;
    return reason;
  };
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
      const auto now = std::chrono::steady_clock::now();
      std::optional<std::uint64_t> position;
      if (!r[0][1].is_null()) position = parse_lsn(r[0][1].as<std::string>());
      if (position) target.replay_position = *position;
      if (target.primary) {
        if (position) {
          history_->add(now, *position);
          raise_latest(*position);
        }
        if (in_recovery) {
          logger().warn("the primary database is in recovery (a standby?); writes will fail",
                        {{"target", target.name}, {"url", target.redacted}});
        }
      } else {
        // Not in recovery (promoted, or the primary itself): as current as it gets.
        const std::uint64_t replayed = in_recovery
                                           ? target.replay_position.load()
                                           : std::max(primary_position, position.value_or(0));
        target.lag_ms = history_->lag(replayed, now).count();
        if (target.lag_gauge != nullptr)
          target.lag_gauge->set(static_cast<double>(target.lag_ms.load()) / 1000.0);
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
      // The pooled connections most likely died too; reconnect them on next use.
      target.pool->drain_idle();
      return fail(reason);
    }
  } catch (...) {
    return std::string("health probe of '") + target.name + "' failed";
  }
}

plugin::Health Database::ping() noexcept {
  try {
    const std::optional<std::string> primary_error = probe(*targets_[0], 0);
    const std::uint64_t primary_position = targets_[0]->replay_position.load();
    std::string replica_errors;
    for (std::size_t i = 1; i < targets_.size(); ++i) {
      if (auto error = probe(*targets_[i], primary_position)) {
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

std::vector<std::string> Database::replica_names() const {
  std::vector<std::string> names;
  for (std::size_t i = 1; i < targets_.size(); ++i) names.push_back(targets_[i]->name);
  return names;
}

plugin::Health Database::replica_health(const std::string& name,
                                        std::chrono::milliseconds max_lag) const {
  for (std::size_t i = 1; i < targets_.size(); ++i) {
    const detail::TargetRuntime& t = *targets_[i];
    if (t.name != name) continue;
    if (!t.healthy.load()) {
      std::lock_guard lock(t.error_mutex);
      return {plugin::HealthStatus::failed,
              "unreachable, its reads go to the primary: " +
                  (t.last_error.empty() ? std::string("not probed yet") : t.last_error)};
    }
    const std::string lag = std::to_string(t.lag_ms.load()) + " ms behind the primary";
    if (std::chrono::milliseconds(t.lag_ms.load()) > max_lag) {
      return {plugin::HealthStatus::degraded, lag + " (more than " +
                                                  std::to_string(max_lag.count()) +
                                                  " ms): reads go elsewhere until it catches up"};
    }
    return {plugin::HealthStatus::ok, lag};
  }
  return {plugin::HealthStatus::failed, "no such replica"};
}

}  // namespace eltrix::storage
