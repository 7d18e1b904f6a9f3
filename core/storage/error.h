// StorageError: every failure that leaves core/storage.
#pragma once

#include "errors/error.h"

#include <stdexcept>
#include <string>
#include <string_view>

namespace eltrix::storage {

/// What went wrong; also the `kind` label of eltrix_db_errors_total.
enum class ErrorKind {
  connection,       ///< could not connect, or the connection broke
  timeout,          ///< statement_timeout, lock timeout or a query cancelled
  pool_exhausted,   ///< no pooled connection became free within acquire_timeout
  serialization,    ///< 40001 / 40P01, still failing after the retries
  constraint,       ///< an integrity constraint (23xxx): unique, foreign key, ...
  query,            ///< any other SQL error (syntax, missing table, bad data, ...)
  unexpected_rows,  ///< exec1()/exec0()/exec_optional() saw the wrong row count
  in_doubt,         ///< the connection broke during COMMIT: outcome unknown
  migration,        ///< schema migrations could not be applied
  config,           ///< invalid connection string or options
  /// a replica had not replayed what the read needs; the read is re-run on
  /// the primary (Transaction::need_primary) and this never leaves Database
  stale_replica,
};

std::string_view to_string(ErrorKind kind);

/// A domain error (errors::Error) of kind transient when retrying later may
/// succeed, internal otherwise; the HTTP layer answers 503 M_UNKNOWN with
/// Retry-After or 500. Its message names targets and SQL, so clients never
/// read it (only the log does).
class StorageError : public errors::Error {
 public:
  StorageError(ErrorKind kind, const std::string& message, bool transient,
               std::string sqlstate = {})
      : errors::Error(transient ? errors::Kind::transient : errors::Kind::internal, "M_UNKNOWN",
                      message, false),
        kind_(kind),
        transient_(transient),
        sqlstate_(std::move(sqlstate)) {}

  /// True for failures that may succeed when retried later (connection
  /// failures, timeouts, pool exhaustion); false for permanent ones.
  [[nodiscard]] bool transient() const noexcept { return transient_; }
  /// What went wrong in storage terms (errors::Error::kind() is the
  /// domain's: transient or internal).
  [[nodiscard]] ErrorKind kind() const noexcept { return kind_; }
  /// The PostgreSQL SQLSTATE when the server reported one, else empty.
  [[nodiscard]] const std::string& sqlstate() const noexcept { return sqlstate_; }
  /// 23505: an INSERT/UPDATE hit a unique constraint.
  [[nodiscard]] bool unique_violation() const noexcept { return sqlstate_ == "23505"; }

 private:
  ErrorKind kind_;
  bool transient_;
  std::string sqlstate_;
};

/// A text parameter of a statement held a NUL byte (see
/// detail::check_text_param). It is the request's fault, not the database's,
/// so it is an invalid-input error: the HTTP layer answers 400
/// M_INVALID_PARAM and the transaction rolls back with nothing written.
class InvalidTextParameter : public errors::Error {
 public:
  InvalidTextParameter()
      : errors::Error(errors::Kind::invalid, "M_INVALID_PARAM",
                      "Text values may not contain NUL (\\u0000)") {}
};

}  // namespace eltrix::storage
