// The stream position shared by every persistent stream a sync reads
// (events, receipts, account data, presence). docs/decisions.md D31.
//
// Positions come from PostgreSQL's own transaction order, so writers never
// wait for one another, in any room, on any node:
// - a writer's positions are its transaction ID (pg_current_xact_id) times
//   kPositionsPerTransaction, plus 0, 1, 2... for the rows it stamps;
// - a reader's bound is the oldest transaction still running in its snapshot
//   (pg_snapshot_xmin) times kPositionsPerTransaction, minus one. Every
//   transaction below that ID has finished, and every one still running or
//   yet to start has an ID at or above it, so every row stamped at or below
//   the bound is visible and no row at or below it can appear later. That is
//   the promise a sync token s<P> needs: "everything <= P is seen".
// It holds on replicas (a standby's snapshot knows the primary's running
// transactions), across nodes and behind PgBouncer (no locks, no session
// state). The price: a long write transaction anywhere in the PostgreSQL
// cluster holds the bound back until it ends (statement_timeout bounds ours).
#pragma once

#include "storage/database.h"

#include <cstdint>

namespace eltrix::storage {

/// Positions one transaction can claim (xid * this + 0, 1, ...).
inline constexpr std::int64_t kPositionsPerTransaction = std::int64_t{1} << 16;

/// Claims the next position of this transaction, to stamp the rows it writes
/// with. Costs no round trip (Database::write learns the transaction ID with
/// its BEGIN) and takes no lock.
std::int64_t advance_stream(Transaction& tx);

/// The bound visible to `tx`: every row stamped <= it is visible too, and no
/// row stamped <= it will commit later.
std::int64_t current_stream(Transaction& tx);

/// The bound a snapshot whose oldest running transaction is `xmin` gives.
constexpr std::int64_t stream_bound(std::uint64_t xmin) {
  return static_cast<std::int64_t>(xmin) * kPositionsPerTransaction - 1;
}

/// SQL assigning the transaction its ID and returning it (as bigint).
inline constexpr const char* kTransactionIdExpr = "pg_current_xact_id()::text::bigint";
inline constexpr const char* kTransactionIdSql = "SELECT pg_current_xact_id()::text::bigint";

/// SQL giving the oldest transaction ID still running in the current
/// snapshot (as bigint): readers' bounds, and writers waiting until theirs
/// covers what they just committed (Database::write).
inline constexpr const char* kSnapshotXminSql =
    "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint";

}  // namespace eltrix::storage
