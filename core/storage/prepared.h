// Server-side prepared statements, named after their SQL text (internal to
// core/storage). PostgreSQL parsing and planning each statement again was
// the largest part of its CPU per message sent (docs/benchmarks.md, issue
// 11); a prepared statement is parsed and planned once per connection.
//
// Names come from the text alone (two 64-bit hashes), so every process gives
// one text the same name: behind a pooler that hands a client another
// server connection per transaction (PgBouncer in transaction mode), a name
// some other client prepared there still means the same statement. Such a
// pooler loses statements between transactions, though: the first error
// saying so turns them off for the Database (Database::run).
#pragma once

#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>

namespace eltrix::storage::detail {

/// "e" and 32 hex digits, from `sql`.
std::string statement_name(std::string_view sql);

/// 26000 (no such prepared statement) or 42P05 (one of that name exists):
/// the server connection is not the one pqxx prepared on.
bool prepared_statement_lost(std::string_view sqlstate);

/// The statement texts a Database prepares, at most `limit` of them: text
/// built with values in it (it should not be, but) would otherwise leave a
/// plan per value in every connection.
class PreparedNames {
 public:
  explicit PreparedNames(std::size_t limit) : limit_(limit) {}
  /// The name to prepare `sql` under; nullopt once the limit is reached
  /// (then it runs unnamed, as without preparing).
  std::optional<std::string> name_for(std::string_view sql);

 private:
  const std::size_t limit_;
  std::mutex mutex_;
  std::unordered_set<std::string> names_;
};

}  // namespace eltrix::storage::detail
