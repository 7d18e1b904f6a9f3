#include "storage/migrations.h"
#include "storage/database.h"

#include <catch2/catch.hpp>

#include <set>

using namespace eltrix::storage;

namespace {

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const StorageError& e) {
    CHECK(e.kind() == ErrorKind::migration);
    return e.what();
  }
  FAIL("expected StorageError");
  return {};
}

const std::vector<Migration> kThree{
    {1, "one", "CREATE TABLE a (x int);"},
    {2, "two", "CREATE TABLE b (x int);"},
    {5, "five", "CREATE TABLE c (x int);"},
};

}  // namespace

TEST_CASE("migration_checksum is SHA-256 hex of the SQL", "[storage]") {
  CHECK(migration_checksum("") ==
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(migration_checksum("abc") ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(migration_checksum("CREATE TABLE a (x int);") !=
        migration_checksum("CREATE TABLE a (x int); "));
}

TEST_CASE("embedded migrations are ordered and start with server_settings", "[storage]") {
  const auto& migrations = embedded_migrations();
  REQUIRE_FALSE(migrations.empty());
  CHECK_NOTHROW(validate_migrations(migrations));
  CHECK(migrations[0].version == 1);
  CHECK(migrations[0].name == "server_settings");
  CHECK(migrations[0].sql.find("CREATE TABLE server_settings") != std::string::npos);
  std::set<int> versions;
  for (const auto& m : migrations) CHECK(versions.insert(m.version).second);
}

TEST_CASE("validate_migrations rejects bad lists", "[storage]") {
  CHECK_NOTHROW(validate_migrations(kThree));
  CHECK_NOTHROW(validate_migrations({}));
  CHECK_THAT(error_of([] {
               validate_migrations({{2, "b", "x"}, {1, "a", "y"}});
             }),
             Catch::Contains("out of order"));
  CHECK_THAT(error_of([] {
               validate_migrations({{1, "a", "x"}, {1, "b", "y"}});
             }),
             Catch::Contains("out of order"));
  CHECK_THAT(error_of([] {
               validate_migrations({{0, "a", "x"}});
             }),
             Catch::Contains("not positive"));
  CHECK_THAT(error_of([] { validate_migrations({{1, "", "x"}}); }), Catch::Contains("no name"));
  CHECK_THAT(error_of([] { validate_migrations({{1, "a", " \n"}}); }), Catch::Contains("empty"));
}

TEST_CASE("plan_migrations returns the missing migrations in order", "[storage]") {
  auto names = [](const std::vector<Migration>& ms) {
    std::vector<std::string> out;
    for (const auto& m : ms) out.push_back(m.name);
    return out;
  };
  CHECK(names(plan_migrations(kThree, {})) == std::vector<std::string>{"one", "two", "five"});
  CHECK(names(plan_migrations(kThree, {{1, migration_checksum(kThree[0].sql)}})) ==
        std::vector<std::string>{"two", "five"});
  CHECK(plan_migrations(kThree, {{1, migration_checksum(kThree[0].sql)},
                                 {2, migration_checksum(kThree[1].sql)},
                                 {5, migration_checksum(kThree[2].sql)}})
            .empty());
  // A gap (2 applied, 1 not) is filled.
  CHECK(names(plan_migrations(kThree, {{2, migration_checksum(kThree[1].sql)}})) ==
        std::vector<std::string>{"one", "five"});
}

TEST_CASE("plan_migrations detects an edited migration", "[storage]") {
  const std::string what = error_of([] {
    plan_migrations(kThree, {{1, migration_checksum(kThree[0].sql)},
                             {2, migration_checksum("something else")}});
  });
  CHECK_THAT(what, Catch::Contains("migration 2 (two)"));
  CHECK_THAT(what, Catch::Contains("changed after it was applied"));
}

TEST_CASE("plan_migrations refuses a database newer than the binary", "[storage]") {
  const std::string what = error_of([] { plan_migrations(kThree, {{7, "whatever"}}); });
  CHECK_THAT(what, Catch::Contains("version 7"));
  CHECK_THAT(what, Catch::Contains("up to 5"));
  CHECK_THAT(error_of([] {
               plan_migrations(kThree, {{3, "x"}});
             }),
             Catch::Contains("does not know"));
}
