#include "storage/migrations.h"

#include "log/log.h"

#include <Poco/DigestEngine.h>
#include <Poco/SHA2Engine.h>

#include <map>

namespace eltrix::storage {

namespace {

const log::Logger& logger() {
  static const log::Logger instance("storage.migrations");
  return instance;
}

[[noreturn]] void fail(const std::string& message) {
  throw StorageError(ErrorKind::migration, message, false);
}

std::string label(const Migration& m) {
  return std::to_string(m.version) + " (" + m.name + ")";
}

}  // namespace

std::string migration_checksum(std::string_view sql) {
  Poco::SHA2Engine engine(Poco::SHA2Engine::SHA_256);
  engine.update(sql.data(), static_cast<unsigned>(sql.size()));
  return Poco::DigestEngine::digestToHex(engine.digest());
}

void validate_migrations(const std::vector<Migration>& migrations) {
  int previous = 0;
  for (const Migration& m : migrations) {
    if (m.version <= 0) fail("migration version " + std::to_string(m.version) + " is not positive");
    if (m.version <= previous) {
      fail("migration versions out of order: " + std::to_string(m.version) + " follows " +
           std::to_string(previous));
    }
    if (m.name.empty()) fail("migration " + std::to_string(m.version) + " has no name");
    if (m.sql.find_first_not_of(" \t\r\n") == std::string::npos)
      fail("migration " + label(m) + " is empty");
    previous = m.version;
  }
}

std::vector<Migration> plan_migrations(const std::vector<Migration>& embedded,
                                       const std::vector<AppliedMigration>& applied) {
  validate_migrations(embedded);
  const int newest_known = embedded.empty() ? 0 : embedded.back().version;
  std::map<int, const Migration*> by_version;
  for (const Migration& m : embedded) by_version.emplace(m.version, &m);

  std::map<int, std::string> done;
  for (const AppliedMigration& a : applied) {
    if (a.version > newest_known) {
      fail("the database schema is at version " + std::to_string(a.version) +
           " but this binary only knows up to " + std::to_string(newest_known) +
           "; upgrade Eltrix (a newer version has migrated this database)");
    }
    const auto it = by_version.find(a.version);
    if (it == by_version.end()) {
      fail("the database has migration " + std::to_string(a.version) +
           " applied, which this binary does not know");
    }
    const std::string expected = migration_checksum(it->second->sql);
    if (a.checksum != expected) {
      fail("migration " + label(*it->second) +
           " was changed after it was applied: checksum in schema_migrations is " + a.checksum +
           ", the embedded migration's is " + expected +
           " (never edit an applied migration; add a new one)");
    }
    done.emplace(a.version, a.checksum);
  }

  std::vector<Migration> todo;
  for (const Migration& m : embedded) {
    if (!done.contains(m.version)) todo.push_back(m);
  }
  return todo;
}

void apply_migrations(Database& db) {
  apply_migrations(db, embedded_migrations());
}

void apply_migrations(Database& db, const std::vector<Migration>& migrations) {
  validate_migrations(migrations);
  const std::vector<Migration> applied_now = db.write([&](Transaction& tx) {
    // Long migrations must not hit the request statement_timeout. Waiting for
    // a lock (another node's migration, or a table busy with requests) is
    // bounded instead: the attempt fails, the caller retries with backoff, and
    // a node being stopped is never stuck behind another's migration. Queries
    // also never pile up behind a DDL statement that waits forever.
    tx.exec("SET LOCAL statement_timeout = 0");
    tx.exec("SET LOCAL lock_timeout = '15s'");
    // Transaction-scoped: released by COMMIT/ROLLBACK, PgBouncer-safe.
    tx.exec("SELECT pg_advisory_xact_lock($1::bigint)", kMigrationLockKey);
    tx.exec(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version integer PRIMARY KEY,"
        " name text NOT NULL,"
        " checksum text NOT NULL,"
        " applied_at timestamptz NOT NULL DEFAULT now())");
    std::vector<AppliedMigration> applied;
    for (const auto& row :
         tx.exec("SELECT version, checksum FROM schema_migrations ORDER BY version")) {
      applied.push_back({row[0].as<int>(), row[1].as<std::string>()});
    }
    std::vector<Migration> todo = plan_migrations(migrations, applied);
    for (const Migration& m : todo) {
      logger().info("applying migration",
                    {{"version", std::to_string(m.version)}, {"name", m.name}});
      tx.exec_script(m.sql);
      tx.exec(
          "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES ($1, $2, $3, "
          "now())",
          m.version, m.name, migration_checksum(m.sql));
    }
    return todo;
  });
  if (applied_now.empty()) {
    logger().info(
        "database schema up to date",
        {{"version", std::to_string(migrations.empty() ? 0 : migrations.back().version)}});
  } else {
    logger().info("database schema migrated",
                  {{"applied", std::to_string(applied_now.size())},
                   {"version", std::to_string(applied_now.back().version)}});
  }
}

}  // namespace eltrix::storage
