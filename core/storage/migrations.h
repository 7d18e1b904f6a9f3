// Pure parts of the migration runner (exposed for unit tests).
#pragma once

#include "storage/database.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace eltrix::storage {

/// Key of the transaction-scoped advisory lock apply_migrations() takes
/// ("EltrixMg" in ASCII).
inline constexpr std::int64_t kMigrationLockKey = 0x456c7472'69784d67;

/// Lower-case hex SHA-256 of a migration's SQL text.
std::string migration_checksum(std::string_view sql);

/// Throws StorageError(migration) unless versions are positive, strictly
/// increasing and every migration has a name and SQL.
void validate_migrations(const std::vector<Migration>& migrations);

struct AppliedMigration {
  int version = 0;
  std::string checksum;
};

/// The migrations still to apply, in order, given those recorded in
/// schema_migrations. Throws StorageError(migration) when an applied
/// migration's checksum differs from the embedded one (naming the version),
/// when the database has a version newer than the newest embedded one (naming
/// both), or when an applied version is unknown to this binary.
std::vector<Migration> plan_migrations(const std::vector<Migration>& embedded,
                                       const std::vector<AppliedMigration>& applied);

}  // namespace eltrix::storage
