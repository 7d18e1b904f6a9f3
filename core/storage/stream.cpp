#include "storage/stream.h"

namespace eltrix::storage {

std::int64_t advance_stream(Transaction& tx) {
  Transaction::StreamClaim& claim = tx.stream_claim();
  if (claim.xid == 0) {
    claim.xid = tx.exec1(kTransactionIdSql)[0].as<std::uint64_t>();  // not from Database::write
  }
  if (claim.count >= kPositionsPerTransaction) {
    throw StorageError(ErrorKind::query, "too many stream positions in one transaction", false);
  }
  return static_cast<std::int64_t>(claim.xid) * kPositionsPerTransaction + claim.count++;
}

std::int64_t current_stream(Transaction& tx) {
  return stream_bound(tx.exec1(kSnapshotXminSql)[0].as<std::uint64_t>());
}

}  // namespace eltrix::storage
