// PostgreSQL access for the whole server: connection pools per target,
// read/write transactions, routing of reads, health probing and migrations.
//
// Everything here is safe behind PgBouncer in transaction mode (DESIGN.md §4):
// queries go through exec_params (unnamed statements), per-transaction
// settings use SET LOCAL, and locks are transaction-scoped.
//
//   auto name = db.read([&](storage::Transaction& tx) {
//     auto row = tx.exec_optional("SELECT value FROM server_settings WHERE key = $1", key);
//     return row ? std::optional(row->at(0).as<std::string>()) : std::nullopt;
//   });
//   db.write([&](storage::Transaction& tx) { tx.exec("INSERT INTO t(a) VALUES ($1)", 42); });
#pragma once

#include "storage/error.h"
#include "storage/read_scope.h"

#include <eltrix/plugin/component.h>
#include <eltrix/plugin/db_routing.h>
#include <eltrix/plugin/host.h>

#include <pqxx/pqxx>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace eltrix::metrics {
class Registry;
}

namespace eltrix::storage {

struct TargetOptions {
  std::string name;  ///< "primary", "replica1", ... (metric label)
  std::string url;   ///< postgresql:// URL or libpq keyword/value string
};

struct DatabaseOptions {
  TargetOptions primary;
  std::vector<TargetOptions> replicas;
  std::size_t pool_size = 10;  ///< per target
  std::chrono::milliseconds acquire_timeout{5000};
  std::chrono::seconds connect_timeout{5};
  std::chrono::milliseconds statement_timeout{30000};  ///< 0 disables
  /// Attempts for a transaction that fails with 40001/40P01 (both read and write).
  int max_attempts = 5;
  /// Prepare statements on the server (storage/prepared.h). Off behind a
  /// pooler in transaction mode (found out by itself, at the price of one
  /// transaction run twice).
  bool prepared_statements = true;
};

class Database;

namespace detail {
struct TargetRuntime;
struct LagHistory;
class PreparedNames;

/// Throws InvalidTextParameter when a text parameter holds a NUL byte.
/// libpq passes text parameters as C strings, so it would silently cut the
/// value at the first NUL (and PostgreSQL's text cannot hold one anyway):
/// the row would then disagree with the JSON it was read from. Refusing here
/// covers every statement, whatever the caller validated.
template <typename T>
void check_text_param(const T& value) {
  using V = std::decay_t<T>;
  if constexpr (std::is_same_v<V, std::string> || std::is_same_v<V, std::string_view>) {
    if (value.find('\0') != V::npos) throw InvalidTextParameter();
  } else if constexpr (std::is_same_v<V, std::optional<std::string>> ||
                       std::is_same_v<V, std::optional<std::string_view>>) {
    if (value) check_text_param(*value);
  }
}

// pqxx 6 cannot bind std::string_view; pass it as a std::string.
// (std::optional works as is: an empty one binds NULL.)
template <typename T>
decltype(auto) adapt_param(T&& value) {
  if constexpr (std::is_same_v<std::decay_t<T>, std::string_view>) {
    return std::string(value);
  } else {
    return std::forward<T>(value);
  }
}
}  // namespace detail

namespace detail {
template <typename T>
struct is_optional : std::false_type {};
template <typename T>
struct is_optional<std::optional<T>> : std::true_type {};

/// A parameter of Transaction::defer() as the text of a literal, before
/// quoting: nullopt for NULL. Text is checked as exec() checks it.
template <typename T>
std::optional<std::string> literal_value(const T& value) {
  using V = std::decay_t<T>;
  if constexpr (std::is_same_v<V, std::nullopt_t>) {
    return std::nullopt;
  } else if constexpr (is_optional<V>::value) {
    if (!value) return std::nullopt;
    return literal_value(*value);
  } else if constexpr (std::is_same_v<V, bool>) {
    return std::string(value ? "true" : "false");
  } else if constexpr (std::is_integral_v<V>) {
    return std::to_string(value);
  } else {
    std::string text{std::string_view(value)};
    check_text_param(text);
    return text;
  }
}
}  // namespace detail

/// A nullable column as std::optional (Debian's pqxx 6 lacks field::get<T>()).
template <typename T>
std::optional<T> nullable(const pqxx::field& field) {
  if (field.is_null()) return std::nullopt;
  return field.as<T>();
}

/// A statement a write sends with its BEGIN, in the same round trip (one
/// fewer per write): one SELECT, typically the row lock the write starts
/// with, or a lock (`prelude`) and then the reads that need it. The simple
/// query protocol that carries BEGIN has no parameters, so each $n is given
/// as a literal quoted by the connection (text containing NUL is refused,
/// as for exec(); nullopt is NULL). With prepared statements on, `sql` is
/// prepared (it must then name every parameter) and run with EXECUTE, so
/// PostgreSQL plans it once per connection, not once per write.
struct FirstStatement {
  std::string sql;
  std::vector<std::optional<std::string>> params;
  /// Runs before `sql`, in the same round trip, in a statement of its own
  /// (so that `sql` reads with a snapshot taken after it: after the lock it
  /// takes was granted); its rows are dropped. Always sent as text.
  std::string prelude;
};

/// One database transaction (a pqxx::work, or a read-only transaction for
/// reads). The only way handlers touch SQL. Errors are thrown as StorageError;
/// after one, the transaction is aborted and Database will not commit it.
class Transaction {
 public:
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  Transaction(Transaction&&) = delete;
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction() = default;

  /// Runs one statement with $1, $2, ... parameters (an unnamed statement via
  /// PQexecParams: no server-side prepared statement is left behind).
  template <typename... Args>
  pqxx::result exec(std::string_view sql, Args&&... args) {
    (detail::check_text_param(args), ...);
    const auto start = std::chrono::steady_clock::now();
    try {
      if (!deferred_.empty()) flush_deferred();
      std::optional<std::string> name = prepared_name(sql);
      pqxx::result result =
          name
              ? tx_.exec_prepared(*name, detail::adapt_param(std::forward<Args>(args))...)
              : tx_.exec_params(std::string(sql), detail::adapt_param(std::forward<Args>(args))...);
      observe(start);
      return result;
    } catch (...) {
      observe(start);
      rethrow_translated(sql);
    }
  }

  /// exec() that must return exactly one row (else StorageError(unexpected_rows)).
  template <typename... Args>
  pqxx::row exec1(std::string_view sql, Args&&... args) {
    pqxx::result result = exec(sql, std::forward<Args>(args)...);
    if (result.size() != 1) unexpected_rows(sql, "exactly one row", result.size());
    return result[0];
  }

  /// exec() that returns zero or one row.
  template <typename... Args>
  std::optional<pqxx::row> exec_optional(std::string_view sql, Args&&... args) {
    pqxx::result result = exec(sql, std::forward<Args>(args)...);
    if (result.size() > 1) unexpected_rows(sql, "at most one row", result.size());
    if (result.empty()) return std::nullopt;
    return result[0];
  }

  /// Runs a statement whose result nobody reads (no rows, an error only)
  /// with the next round trip instead of one of its own: before the next
  /// exec(), or with COMMIT. An error it raises surfaces there, and aborts
  /// the transaction as any other would. Parameters are sent as literals
  /// quoted by the connection; with prepared statements on, the statement is
  /// prepared and run with EXECUTE.
  template <typename... Args>
  void defer(std::string_view sql, const Args&... args) {
    std::vector<std::optional<std::string>> values;
    values.reserve(sizeof...(Args));
    (values.push_back(detail::literal_value(args)), ...);
    defer_bound(sql, values);
  }

  /// exec() that must return no rows; returns the number of rows affected.
  template <typename... Args>
  std::size_t exec0(std::string_view sql, Args&&... args) {
    pqxx::result result = exec(sql, std::forward<Args>(args)...);
    if (!result.empty()) unexpected_rows(sql, "no rows", result.size());
    return static_cast<std::size_t>(result.affected_rows());
  }

  /// Runs SQL text that may hold several statements, without parameters
  /// (simple query protocol). Meant for migrations, not for request handling.
  void exec_script(std::string_view sql);

  [[nodiscard]] std::string_view target() const;
  /// True on the primary (every write, and reads no replica could serve).
  [[nodiscard]] bool on_primary() const;
  [[nodiscard]] plugin::Access access() const { return access_; }

  /// For a read that found less than the caller knows exists (an event the
  /// client was just shown, a sync token ahead of the data): on a replica,
  /// abandons this transaction and re-runs the read on the primary; on the
  /// primary, does nothing and the caller reports what it found.
  void need_primary() const;
  [[nodiscard]] bool read_only() const { return access_ == plugin::Access::read; }

  /// What this transaction claimed of the stream (storage/stream.h; D31):
  /// its transaction ID once it claimed a position, and how many it claimed.
  struct StreamClaim {
    std::uint64_t xid = 0;  ///< 0: nothing claimed
    std::int64_t count = 0;
  };
  StreamClaim& stream_claim() { return stream_claim_; }

  /// The FirstStatement's rows (Database::write(first, fn)); empty without
  /// one. A SELECT that found nothing gives one row of NULLs.
  [[nodiscard]] const pqxx::result& first_result() const { return first_result_; }

 private:
  friend class Database;
  Transaction(pqxx::transaction_base& tx, detail::TargetRuntime& target, plugin::Access access);

  void observe(std::chrono::steady_clock::time_point start) const;
  /// The prepared statement to run `sql` as (prepared on this connection
  /// when it is first run), or nullopt: unnamed.
  std::optional<std::string> prepared_name(std::string_view sql);
  [[noreturn]] void rethrow_translated(std::string_view sql);
  void defer_bound(std::string_view sql, const std::vector<std::optional<std::string>>& values);
  /// Sends the deferred statements now, in one round trip.
  void flush_deferred();
  /// The deferred statements as one text ("" if none), and forgets them:
  /// Database sends it with COMMIT.
  std::string take_deferred();
  [[noreturn]] static void unexpected_rows(std::string_view sql, std::string_view expected,
                                           std::size_t got);

  pqxx::transaction_base& tx_;
  detail::TargetRuntime& target_;
  plugin::Access access_;
  plugin::Histogram* histogram_;
  std::optional<StorageError> failure_;  ///< first error seen; the transaction is aborted
  StreamClaim stream_claim_;
  pqxx::result first_result_;
  detail::PreparedNames* prepared_ = nullptr;  ///< null: statements run unnamed
  std::vector<std::string> deferred_;          ///< statements as text, in order
};

class Database {
 public:
  /// Validates the options (throws StorageError(config) naming the target) but
  /// does not connect: connections are opened on first use.
  Database(DatabaseOptions options, plugin::DbRouting& routing, metrics::Registry& metrics);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  Database(Database&&) = delete;
  Database& operator=(Database&&) = delete;

  /// Runs fn(Transaction&) in a read-only transaction on the target the
  /// routing plugin picks and returns fn's result. The target must have
  /// replayed min_position and whatever the thread's ReadScope needs (the
  /// requester's own last write). Falls back to the primary when a replica
  /// cannot be reached, turns out to be behind, or lacks the schema. fn may
  /// run more than once (retries).
  template <typename F>
  auto read(F&& fn, std::uint64_t min_position = 0) {
    return run_returning(plugin::Access::read, min_position, std::forward<F>(fn));
  }

  /// Runs fn(Transaction&) in a read-only transaction on the primary: for
  /// reads that must see every acknowledged write whoever made it (an access
  /// token created a moment ago through another node, a user ID about to be
  /// registered).
  template <typename F>
  auto read_latest(F&& fn) {
    return run_returning(plugin::Access::read, kLatest, std::forward<F>(fn));
  }

  /// Runs fn(Transaction&) on the primary and commits; returns fn's result.
  /// Serialization failures and deadlocks (40001/40P01) re-run fn, up to
  /// options.max_attempts times in all. With replicas configured, the WAL
  /// position the commit reached is then read and reported to the thread's
  /// ReadScope, so the requester's later reads wait for it.
  template <typename F>
  auto write(F&& fn) {
    return run_returning(plugin::Access::write, 0, std::forward<F>(fn));
  }

  /// write() whose transaction starts with `first`, sent with its BEGIN;
  /// fn reads its rows from Transaction::first_result().
  template <typename F>
  auto write(const FirstStatement& first, F&& fn) {
    return run_returning(plugin::Access::write, 0, std::forward<F>(fn), &first);
  }

  /// Probes every target with a short timeout on a dedicated connection
  /// (reconnecting it when broken) and refreshes health and replay positions.
  /// failed: the primary is unreachable; degraded: a replica is. Never throws.
  plugin::Health ping() noexcept;

  /// What the routing plugin is shown: targets[0] is the primary.
  [[nodiscard]] std::vector<plugin::TargetState> target_states() const;

  /// Where positions of users' writes are kept between requests (may be
  /// null: then only the current request's own writes count). Set once at
  /// start-up, before requests are served.
  void set_position_book(PositionBook* book) { book_ = book; }
  [[nodiscard]] bool has_replicas() const { return targets_.size() > 1; }
  /// The highest WAL position this node has seen a commit reach (0 without
  /// replicas): a read that needs it sees every write made through this node.
  [[nodiscard]] std::uint64_t latest_position() const { return latest_position_.load(); }
  /// `user_id` has been shown everything up to `position`: their later reads,
  /// on any node, need it (a no-op without a position book).
  void advance_user(const std::string& user_id, std::uint64_t position) {
    if (book_ != nullptr && position != 0) book_->advance(user_id, position);
  }
  /// The primary's current WAL insert position (a round trip to it).
  std::uint64_t primary_position();
  /// Each replica's state as of its last health probe: ok, degraded (behind
  /// by more than `max_lag`) or failed (unreachable). Unknown names: failed.
  [[nodiscard]] plugin::Health replica_health(const std::string& name,
                                              std::chrono::milliseconds max_lag) const;
  /// The names of the replicas ("replica1", ...).
  [[nodiscard]] std::vector<std::string> replica_names() const;

  [[nodiscard]] std::size_t pool_size() const;
  /// Connections of `target` currently checked out (0 for an unknown target).
  [[nodiscard]] std::size_t in_use(const std::string& target = "primary") const;

 private:
  /// min_position meaning "the primary, whatever the replicas have replayed".
  static constexpr std::uint64_t kLatest = ~std::uint64_t{0};

  template <typename F>
  auto run_returning(plugin::Access access, std::uint64_t min_position, F&& fn,
                     const FirstStatement* first = nullptr) {
    using Result = std::decay_t<std::invoke_result_t<F&, Transaction&>>;
    if constexpr (std::is_void_v<Result>) {
      run(
          access, min_position, [&fn](Transaction& tx) { fn(tx); }, first);
    } else {
      std::optional<Result> out;
      run(
          access, min_position, [&fn, &out](Transaction& tx) { out.emplace(fn(tx)); }, first);
      return std::move(*out);
    }
  }

  void run(plugin::Access access, std::uint64_t min_position,
           const std::function<void(Transaction&)>& body, const FirstStatement* first);
  void run_once(detail::TargetRuntime& target, plugin::Access access, std::uint64_t min_position,
                const std::function<void(Transaction&)>& body, const FirstStatement* first);
  std::size_t choose_read_target(std::uint64_t min_position);
  std::uint64_t read_requirement(std::uint64_t min_position);
  void note_commit(detail::TargetRuntime& primary, pqxx::connection_base& conn);
  void await_stream(pqxx::connection_base& conn, std::uint64_t xid);
  void raise_latest(std::uint64_t position);
  std::optional<std::string> probe(detail::TargetRuntime& target,
                                   std::uint64_t primary_position) noexcept;

  DatabaseOptions options_;
  plugin::DbRouting& routing_;
  metrics::Registry& metrics_;
  std::vector<std::unique_ptr<detail::TargetRuntime>> targets_;  ///< [0] is the primary
  PositionBook* book_ = nullptr;
  std::unique_ptr<detail::PreparedNames> prepared_names_;
  /// Cleared for good when a pooler loses a prepared statement.
  std::atomic<bool> prepare_{false};
  std::unique_ptr<detail::LagHistory> history_;
  std::atomic<std::uint64_t> latest_position_{0};
  /// The newest "oldest running transaction" any commit or poll of this
  /// Database has seen (stream.h): writers waiting in await_stream() are
  /// released by one another's observations, not each by its own polls.
  std::atomic<std::uint64_t> xmin_seen_{0};
  std::mutex xmin_mutex_;
  std::condition_variable xmin_moved_;
  /// A writer in await_stream is polling the bound: the others wait for
  /// what it (or any commit) finds instead of each sending a poll.
  std::atomic<bool> xmin_polling_{false};
  void note_xmin(std::uint64_t xmin);
};

// ---- Migrations --------------------------------------------------------------

struct Migration {
  int version = 0;
  std::string name;
  std::string sql;
};

/// Migrations compiled into the binary from core/storage/migrations/NNNN_name.sql,
/// in version order.
const std::vector<Migration>& embedded_migrations();

/// Applies the embedded migrations (see apply_migrations(Database&, const
/// std::vector<Migration>&)).
void apply_migrations(Database& db);

/// Applies `migrations` in one transaction on the primary: takes a
/// transaction-scoped advisory lock (so concurrent callers queue), creates
/// schema_migrations if needed, verifies the checksums of applied migrations
/// and applies the missing ones in order. Throws StorageError(migration) when
/// an applied migration was edited or the database is newer than `migrations`.
void apply_migrations(Database& db, const std::vector<Migration>& migrations);

// ---- server_settings ---------------------------------------------------------

/// The value of `key` in server_settings, if set.
std::optional<std::string> get_setting(Database& db, std::string_view key);
/// Stores key=value unless the key exists; true when it was stored.
bool put_setting_if_absent(Database& db, std::string_view key, std::string_view value);

}  // namespace eltrix::storage
