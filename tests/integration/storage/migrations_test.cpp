// Schema migrations against a real PostgreSQL, including two processes
// migrating the same database at once.
#include "storage/migrations.h"
#include "support.h"

#include <catch2/catch.hpp>

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <filesystem>

extern char** environ;

using namespace eltrix;
using namespace eltrix::storage;
using eltrix::test::FixedRouting;
using eltrix::test::options_for;
using eltrix::test::ScratchDatabase;

namespace {

int count(Database& db, const std::string& sql) {
  return db.read([&](Transaction& tx) { return tx.exec1(sql)[0].as<int>(); });
}

bool table_exists(Database& db, const std::string& name) {
  return db.read(
      [&](Transaction& tx) { return !tx.exec1("SELECT to_regclass($1)", name)[0].is_null(); });
}

std::string migration_error(Database& db, const std::vector<Migration>& migrations) {
  try {
    apply_migrations(db, migrations);
  } catch (const StorageError& e) {
    CHECK(e.kind() == ErrorKind::migration);
    CHECK_FALSE(e.transient());
    return e.what();
  }
  FAIL("expected a migration error");
  return {};
}

std::string helper_path() {
  if (const char* env = std::getenv("ELTRIX_MIGRATE_HELPER"); env != nullptr && *env != '\0')
    return env;
  // Run by hand: the helper is built next to this executable.
  return (std::filesystem::read_symlink("/proc/self/exe").parent_path() / "eltrix-migrate-helper")
      .string();
}

pid_t spawn(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ);
  REQUIRE(rc == 0);
  return pid;
}

int wait_exit_code(pid_t pid) {
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  return WEXITSTATUS(status);
}

}  // namespace

TEST_CASE("migrations apply once and are idempotent", "[storage][integration]") {
  ScratchDatabase scratch;
  metrics::Registry registry;
  FixedRouting routing;
  Database db(options_for(scratch.url), routing, registry);
  const auto& embedded = embedded_migrations();

  apply_migrations(db);
  CHECK(count(db, "SELECT count(*) FROM schema_migrations") == static_cast<int>(embedded.size()));
  CHECK(table_exists(db, "server_settings"));
  const auto first = db.read([](Transaction& tx) {
    return tx
        .exec1(
            "SELECT string_agg(version || ':' || name || ':' || checksum || ':' || applied_at, ','"
            " ORDER BY version) FROM schema_migrations")[0]
        .as<std::string>();
  });
  CHECK_THAT(first, Catch::Contains("1:server_settings:" + migration_checksum(embedded[0].sql)));

  apply_migrations(db);
  apply_migrations(db);
  const auto again = db.read([](Transaction& tx) {
    return tx
        .exec1(
            "SELECT string_agg(version || ':' || name || ':' || checksum || ':' || applied_at, ','"
            " ORDER BY version) FROM schema_migrations")[0]
        .as<std::string>();
  });
  CHECK(again == first);  // nothing re-applied, applied_at untouched

  SECTION("server_settings helpers") {
    CHECK_FALSE(get_setting(db, "server_name"));
    CHECK(put_setting_if_absent(db, "server_name", "example.org"));
    CHECK_FALSE(put_setting_if_absent(db, "server_name", "other.example"));
    CHECK(get_setting(db, "server_name") == "example.org");
    CHECK(count(db, "SELECT count(*) FROM server_settings WHERE updated_at <= now()") == 1);
  }

  SECTION("an edited applied migration is detected, naming the version") {
    db.write([](Transaction& tx) {
      tx.exec("UPDATE schema_migrations SET checksum = 'deadbeef' WHERE version = 1");
    });
    try {
      apply_migrations(db);
      FAIL("expected a checksum error");
    } catch (const StorageError& e) {
      CHECK(e.kind() == ErrorKind::migration);
      CHECK_THAT(e.what(), Catch::Contains("migration 1 (server_settings)"));
      CHECK_THAT(e.what(), Catch::Contains("deadbeef"));
    }
  }

  SECTION("a database newer than the binary is refused, naming both versions") {
    db.write([](Transaction& tx) {
      tx.exec(
          "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (9999, "
          "'future', 'x', now())");
    });
    const std::string what = migration_error(db, embedded);
    CHECK_THAT(what, Catch::Contains("9999"));
    CHECK_THAT(what, Catch::Contains("up to " + std::to_string(embedded.back().version)));
  }
}

TEST_CASE("a changed migration text is detected by checksum", "[storage][integration]") {
  ScratchDatabase scratch;
  metrics::Registry registry;
  FixedRouting routing;
  Database db(options_for(scratch.url), routing, registry);

  apply_migrations(db, {{1, "things", "CREATE TABLE things (id int);"}});
  CHECK(table_exists(db, "things"));
  apply_migrations(db, {{1, "things", "CREATE TABLE things (id int);"},
                        {2, "more", "CREATE TABLE more (id int);"}});
  CHECK(table_exists(db, "more"));

  const std::string what = migration_error(db, {{1, "things", "CREATE TABLE things (id bigint);"},
                                                {2, "more", "CREATE TABLE more (id int);"}});
  CHECK_THAT(what, Catch::Contains("migration 1 (things)"));
  CHECK_THAT(what, Catch::Contains("changed after it was applied"));
  CHECK(count(db, "SELECT count(*) FROM schema_migrations") == 2);
}

TEST_CASE("a failing migration leaves nothing behind", "[storage][integration]") {
  ScratchDatabase scratch;
  metrics::Registry registry;
  FixedRouting routing;
  Database db(options_for(scratch.url), routing, registry);

  try {
    apply_migrations(
        db, {{1, "good", "CREATE TABLE good (id int);"}, {2, "bad", "CREATE TABLE bad ((;"}});
    FAIL("expected a syntax error");
  } catch (const StorageError& e) {
    CHECK(e.kind() == ErrorKind::query);
    CHECK(e.sqlstate() == "42601");
  }
  CHECK_FALSE(table_exists(db, "good"));
  CHECK_FALSE(table_exists(db, "schema_migrations"));  // one transaction: all or nothing
}

TEST_CASE("migrations run concurrently from two processes", "[storage][integration]") {
  const std::string helper = helper_path();
  REQUIRE(access(helper.c_str(), X_OK) == 0);

  for (const bool slow : {false, true, false}) {
    CAPTURE(slow);
    ScratchDatabase scratch;
    const auto start_at =
        std::chrono::duration_cast<std::chrono::milliseconds>(
            std::chrono::system_clock::now().time_since_epoch() + std::chrono::milliseconds(700))
            .count();
    std::vector<std::string> args{helper, scratch.url, "--start-at", std::to_string(start_at)};
    if (slow) args.emplace_back("--slow");
    const pid_t a = spawn(args);
    const pid_t b = spawn(args);
    CHECK(wait_exit_code(a) == 0);
    CHECK(wait_exit_code(b) == 0);

    metrics::Registry registry;
    FixedRouting routing;
    Database db(options_for(scratch.url), routing, registry);
    const int expected = static_cast<int>(embedded_migrations().size()) + (slow ? 1 : 0);
    CHECK(count(db, "SELECT count(*) FROM schema_migrations") == expected);
    CHECK(count(db, "SELECT count(DISTINCT version) FROM schema_migrations") == expected);
    if (slow) CHECK(count(db, "SELECT count(*) FROM test_slow_marker") == 1);
  }
}
