// The account service (core/accounts/account_service.h) through its
// interface, without HTTP, against a real PostgreSQL: creating accounts,
// checking and changing passwords, and the errors registration and login
// turn into Matrix errors.
#include "storage/accounts.h"
#include "crypto/tokens.h"
#include "fixture.h"

#include <catch2/catch.hpp>

using namespace eltrix;
using eltrix::test::domain_error;
using eltrix::test::ServicesFixture;

TEST_CASE("accounts: create, then only the right password verifies") {
  ServicesFixture f;
  const std::string alice = f.accounts.create(
      {.localpart = f.accounts.localpart_for("Alice"), .password = "correct horse"});
  CHECK(alice == "@alice:here.test");
  // The display name defaults to the localpart.
  CHECK(f.scalar("SELECT displayname FROM users WHERE user_id = $1", alice) == "alice");

  auto verified = f.accounts.verify_password(alice, "correct horse");
  REQUIRE(verified.has_value());
  CHECK(verified->user_id == alice);
  CHECK_FALSE(verified->admin);
  CHECK_FALSE(f.accounts.verify_password(alice, "wrong horse").has_value());
  CHECK_FALSE(f.accounts.verify_password("@nobody:here.test", "correct horse").has_value());

  CHECK(f.accounts.check_login(alice, "correct horse") == alice);
  // Unknown users and wrong passwords read alike.
  CHECK(domain_error([&] { f.accounts.check_login(alice, "wrong horse"); }) ==
        "forbidden M_FORBIDDEN");
  CHECK(domain_error([&] { f.accounts.check_login("@nobody:here.test", "correct horse"); }) ==
        "forbidden M_FORBIDDEN");
  CHECK(domain_error([&] { f.accounts.check_login(std::nullopt, "correct horse"); }) ==
        "forbidden M_FORBIDDEN");
}

TEST_CASE("accounts: taken, invalid and weak are refused before anything is stored") {
  ServicesFixture f;
  const std::string alice = f.accounts.create({.localpart = "alice", .password = "password1"});
  CHECK(domain_error([&] { f.accounts.require_available(alice); }) == "invalid M_USER_IN_USE");
  CHECK(domain_error([&] { f.accounts.require_available("@bob:here.test"); }) == "none");
  CHECK(domain_error([&] { f.accounts.create({.localpart = "alice", .password = "password2"}); }) ==
        "invalid M_USER_IN_USE");
  // The first account keeps its password.
  CHECK(f.accounts.verify_password(alice, "password1").has_value());

  CHECK(domain_error([&] { (void)f.accounts.localpart_for("_bridge"); }) ==
        "invalid M_INVALID_USERNAME");
  CHECK(domain_error([&] { (void)f.accounts.localpart_for("al ice"); }) ==
        "invalid M_INVALID_USERNAME");
  CHECK(domain_error([&] { f.accounts.create({.localpart = "bob", .password = "short"}); }) ==
        "invalid M_WEAK_PASSWORD");
  CHECK(f.scalar("SELECT count(*) FROM users WHERE user_id = $1", "@bob:here.test") == "0");
}

TEST_CASE("accounts: without a localpart one is generated; admin and display name are kept") {
  ServicesFixture f;
  const std::string generated = f.accounts.create({.password = "password1"});
  CHECK(generated.starts_with("@u"));
  CHECK(generated.ends_with(":here.test"));
  const std::string admin = f.accounts.create(
      {.localpart = "root", .password = "password1", .admin = true, .displayname = "The Root"});
  auto user = f.accounts.verify_password(admin, "password1");
  REQUIRE(user.has_value());
  CHECK(user->admin);
  CHECK(user->displayname == std::optional<std::string>("The Root"));
}

TEST_CASE("accounts: a deactivated account says so only to the right password") {
  ServicesFixture f;
  const std::string alice = f.accounts.create({.localpart = "alice", .password = "password1"});
  f.db.write([&](storage::Transaction& tx) {
    tx.exec0("UPDATE users SET deactivated = true WHERE user_id = $1", alice);
  });
  CHECK(domain_error([&] { f.accounts.check_login(alice, "password1"); }) ==
        "forbidden M_USER_DEACTIVATED");
  CHECK(domain_error([&] { f.accounts.check_login(alice, "password2"); }) ==
        "forbidden M_FORBIDDEN");
}

TEST_CASE("accounts: changing the password logs the other devices out, unless asked not to") {
  ServicesFixture f;
  const std::string alice = f.accounts.create({.localpart = "alice", .password = "password1"});
  auto here = f.devices.log_in({.user_id = alice, .device_id = "HERE"});
  auto there = f.devices.log_in({.user_id = alice, .device_id = "THERE"});

  CHECK(domain_error([&] {
          f.accounts.change_password(
              {.user_id = alice, .new_password = "short", .requesting_device = "HERE"});
        }) == "invalid M_WEAK_PASSWORD");
  CHECK(f.accounts.verify_password(alice, "password1").has_value());

  CHECK(f.accounts.change_password({.user_id = alice,
                                    .new_password = "password2",
                                    .log_out_other_devices = false,
                                    .requesting_device = "HERE"}) == 0);
  CHECK(f.devices.list(alice).size() == 2);

  CHECK(f.accounts.change_password(
            {.user_id = alice, .new_password = "password3", .requesting_device = "HERE"}) == 1);
  CHECK_FALSE(f.accounts.verify_password(alice, "password2").has_value());
  CHECK(f.accounts.verify_password(alice, "password3").has_value());
  auto left = f.devices.list(alice);
  REQUIRE(left.size() == 1);
  CHECK(left[0].device_id == "HERE");
  const std::string gone = crypto::token_hash(there.access_token);
  CHECK(f.scalar("SELECT count(*) FROM access_tokens WHERE token_hash = $1", gone) == "0");
  CHECK(f.cache.get("tok:" + gone) == std::optional<std::string>("revoked"));
  CHECK(f.scalar("SELECT count(*) FROM access_tokens WHERE token_hash = $1",
                 crypto::token_hash(here.access_token)) == "1");
}

TEST_CASE("accounts: a registration nonce buys one attempt") {
  ServicesFixture f;
  const std::string nonce = f.accounts.new_registration_nonce();
  CHECK(f.accounts.new_registration_nonce() != nonce);
  CHECK(f.accounts.consume_registration_nonce(nonce));
  CHECK_FALSE(f.accounts.consume_registration_nonce(nonce));
  CHECK_FALSE(f.accounts.consume_registration_nonce("never-issued"));
}
