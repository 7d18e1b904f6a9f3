#include "storage/connstring.h"
#include "storage/error.h"

#include <catch2/catch.hpp>

using namespace eltrix::storage;

TEST_CASE("redact_conninfo hides passwords in URLs", "[storage]") {
  CHECK(redact_conninfo("postgresql://eltrix:s3cret@db.example:5432/eltrix") ==
        "postgresql://eltrix:***@db.example:5432/eltrix");
  CHECK(redact_conninfo("postgres://u:p@h/d?sslmode=require") ==
        "postgres://u:***@h/d?sslmode=require");
  // No password: unchanged.
  CHECK(redact_conninfo("postgresql://postgres@127.0.0.1:54329/eltrix") ==
        "postgresql://postgres@127.0.0.1:54329/eltrix");
  CHECK(redact_conninfo("postgresql:///eltrix") == "postgresql:///eltrix");
  // A password containing '@' and '/' (unencoded) is still hidden completely.
  CHECK(redact_conninfo("postgresql://u:a@b/c@host/db") == "postgresql://u:***@host/db");
  // Password given as a query parameter, any case.
  CHECK(redact_conninfo("postgresql://u@h/d?sslmode=disable&password=hunter2&application_name=x") ==
        "postgresql://u@h/d?sslmode=disable&password=***&application_name=x");
  // libpq reads only lower-case schemes: anything else is not shown at all.
  CHECK(redact_conninfo("POSTGRESQL://u:pw@h/d?PASSWORD=pw2") == "<unparseable connection string>");
  CHECK(redact_conninfo("postgresql://u:pw@h1:5432,h2:5433/d").find("pw") == std::string::npos);
}

TEST_CASE("redact_conninfo hides passwords in keyword/value strings", "[storage]") {
  CHECK(redact_conninfo("host=db user=eltrix password=s3cret dbname=eltrix") ==
        "host=db user=eltrix password=*** dbname=eltrix");
  CHECK(redact_conninfo("host=db password = 's3 cr\\'et' dbname=x") ==
        "host=db password = *** dbname=x");
  CHECK(redact_conninfo("password='' host=db") == "password=*** host=db");
  CHECK(redact_conninfo("host=db port=5432") == "host=db port=5432");
  // Malformed input still never leaks the value.
  const std::string broken = redact_conninfo("host=db password='unterminated secret");
  CHECK(broken.find("secret") == std::string::npos);
  CHECK(broken.find("unterminated") == std::string::npos);
  CHECK(redact_conninfo("host=db password secret") == "<unparseable connection string>");
  CHECK(redact_conninfo("host=db sslpassword=k3y") == "host=db sslpassword=***");
}

TEST_CASE("redact_conninfo hides passwords that contain URL delimiters", "[storage]") {
  CHECK(redact_conninfo("postgresql://alice:s3cr?et@db/eltrix") ==
        "postgresql://alice:***@db/eltrix");
  CHECK(redact_conninfo("postgresql://u:ab%zzcd@h/db").find("zz") == std::string::npos);
  CHECK(redact_conninfo("postgresql://u:p%3Fw@h/db?sslmode=disable") ==
        "postgresql://u:***@h/db?sslmode=disable");
}

TEST_CASE("parse_conninfo understands URLs and keyword/value", "[storage]") {
  const ConnParams url =
      parse_conninfo("postgresql://eltrix:pw@db.example:6432/matrix?sslmode=disable");
  CHECK(find_param(url, "host") == "db.example");
  CHECK(find_param(url, "port") == "6432");
  CHECK(find_param(url, "user") == "eltrix");
  CHECK(find_param(url, "password") == "pw");
  CHECK(find_param(url, "dbname") == "matrix");
  CHECK(find_param(url, "sslmode") == "disable");
  CHECK_FALSE(find_param(url, "connect_timeout"));

  const ConnParams kv = parse_conninfo("host=/run/postgresql dbname='my db' user=x");
  CHECK(find_param(kv, "host") == "/run/postgresql");
  CHECK(find_param(kv, "dbname") == "my db");
}

TEST_CASE("parse_conninfo rejects bad strings without leaking the password", "[storage]") {
  try {
    parse_conninfo("postgresql://u:topsecret@h/d?nosuchoption=1");
    FAIL("expected StorageError");
  } catch (const StorageError& e) {
    CHECK(e.kind() == ErrorKind::config);
    CHECK_FALSE(e.transient());
    const std::string what = e.what();
    CHECK(what.find("topsecret") == std::string::npos);
    CHECK(what.find("nosuchoption") != std::string::npos);
  }
  CHECK_THROWS_AS(parse_conninfo("host=db password='unterminated"), StorageError);
}

TEST_CASE("to_keyword_value quotes values so libpq reads them back", "[storage]") {
  const ConnParams params{
      {"host", "db"}, {"password", "it's a \\ test"}, {"dbname", ""}, {"user", "plain"}};
  const std::string text = to_keyword_value(params);
  CHECK(text == "host=db password='it\\'s a \\\\ test' dbname='' user=plain");
  const ConnParams back = parse_conninfo(text);
  CHECK(find_param(back, "password") == "it's a \\ test");
  CHECK(find_param(back, "dbname") == "");
  CHECK(find_param(back, "user") == "plain");
}

TEST_CASE("build_connection_string adds connect_timeout only when absent", "[storage]") {
  using std::chrono::seconds;
  const std::string built =
      build_connection_string("postgresql://postgres@127.0.0.1:54329/eltrix", seconds(5));
  const ConnParams p = parse_conninfo(built);
  CHECK(find_param(p, "connect_timeout") == "5");
  CHECK(find_param(p, "host") == "127.0.0.1");
  CHECK(find_param(p, "port") == "54329");
  CHECK(find_param(p, "dbname") == "eltrix");

  // The user's own value wins...
  CHECK(find_param(parse_conninfo(build_connection_string("host=h connect_timeout=17", seconds(5))),
                   "connect_timeout") == "17");
  CHECK(find_param(parse_conninfo(
                       build_connection_string("postgresql://h/d?connect_timeout=9", seconds(5))),
                   "connect_timeout") == "9");
  // ...unless forced (the health probe's short timeout).
  CHECK(find_param(
            parse_conninfo(build_connection_string("host=h connect_timeout=17", seconds(2), true)),
            "connect_timeout") == "2");
  // libpq's minimum is 2 s (0 would mean "forever").
  CHECK(find_param(parse_conninfo(build_connection_string("host=h", seconds(0))),
                   "connect_timeout") == "2");
  // No startup options are added (PgBouncer rejects unknown ones).
  CHECK_FALSE(find_param(p, "options"));
}

TEST_CASE("with_database switches the database and keeps the rest", "[storage]") {
  const ConnParams p =
      parse_conninfo(with_database("postgresql://u:pw@h:1234/eltrix", "scratch_1"));
  CHECK(find_param(p, "dbname") == "scratch_1");
  CHECK(find_param(p, "host") == "h");
  CHECK(find_param(p, "port") == "1234");
  CHECK(find_param(p, "password") == "pw");
}

TEST_CASE("parse_lsn", "[storage]") {
  CHECK(parse_lsn("0/0") == 0U);
  CHECK(parse_lsn("0/16B3748") == 0x16B3748U);
  CHECK(parse_lsn("16/B374D848") == ((0x16ULL << 32U) | 0xB374D848ULL));
  CHECK(parse_lsn("FFFFFFFF/FFFFFFFF") == ~0ULL);
  CHECK_FALSE(parse_lsn(""));
  CHECK_FALSE(parse_lsn("16"));
  CHECK_FALSE(parse_lsn("/1"));
  CHECK_FALSE(parse_lsn("1/"));
  CHECK_FALSE(parse_lsn("x/1"));
  CHECK_FALSE(parse_lsn("1/123456789"));
}

TEST_CASE("error kinds have stable metric labels", "[storage]") {
  CHECK(to_string(ErrorKind::connection) == "connection");
  CHECK(to_string(ErrorKind::pool_exhausted) == "pool_exhausted");
  CHECK(to_string(ErrorKind::serialization) == "serialization");
  const StorageError e(ErrorKind::constraint, "dup", false, "23505");
  CHECK(e.unique_violation());
  CHECK_FALSE(e.transient());
  CHECK(e.sqlstate() == "23505");
}
