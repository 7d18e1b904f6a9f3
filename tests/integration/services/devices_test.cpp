// The device service (core/accounts/device_service.h) through its
// interface, without HTTP, against a real PostgreSQL: logging devices in,
// listing, renaming, and deleting them with their access tokens, from the
// database and from the token cache.
#include "crypto/tokens.h"
#include "fixture.h"
#include "storage/accounts.h"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace eltrix;
using eltrix::test::domain_error;
using eltrix::test::ServicesFixture;

namespace {

std::vector<std::string> device_ids(ServicesFixture& f, const std::string& user_id) {
  std::vector<std::string> out;
  for (const auto& device : f.devices.list(user_id)) out.push_back(device.device_id);
  std::sort(out.begin(), out.end());
  return out;
}

/// Whether the token is still stored (what the authenticator finds on a
/// cache miss).
bool token_stored(ServicesFixture& f, const accounts::IssuedToken& issued) {
  return f.db.write([&](storage::Transaction& tx) {
    return storage::find_access_token(tx, crypto::token_hash(issued.access_token)).has_value();
  });
}

std::optional<std::string> cached(ServicesFixture& f, const accounts::IssuedToken& issued) {
  return f.cache.get("tok:" + crypto::token_hash(issued.access_token));
}

}  // namespace

TEST_CASE("devices: log in, list, get, rename") {
  ServicesFixture f;
  const std::string alice = ServicesFixture::user("alice");
  f.accounts.create({.localpart = "alice", .password = "password1"});

  auto phone = f.devices.log_in(
      {.user_id = alice, .device_id = "PHONE", .display_name = "Phone", .ip = "192.0.2.1"});
  CHECK(phone.device_id == "PHONE");
  CHECK_FALSE(phone.access_token.empty());
  REQUIRE(phone.expires_in_ms.has_value());  // auth.session_lifetime defaults to a week
  CHECK(*phone.expires_in_ms == 604800LL * 1000);
  auto other = f.devices.log_in({.user_id = alice});
  CHECK_FALSE(other.device_id.empty());
  CHECK(other.device_id != "PHONE");
  CHECK(token_stored(f, phone));
  CHECK(token_stored(f, other));

  auto ids = device_ids(f, alice);
  CHECK(ids.size() == 2);
  CHECK(std::count(ids.begin(), ids.end(), "PHONE") == 1);

  auto device = f.devices.get(alice, "PHONE");
  CHECK(device.display_name == std::optional<std::string>("Phone"));
  CHECK(domain_error([&] { f.devices.get(alice, "NOPE"); }) == "not_found M_NOT_FOUND");
  // Another user's device is no one's to read.
  CHECK(domain_error([&] { f.devices.get(ServicesFixture::user("bob"), "PHONE"); }) ==
        "not_found M_NOT_FOUND");

  f.devices.rename(alice, "PHONE", "Old phone");
  CHECK(f.devices.get(alice, "PHONE").display_name == std::optional<std::string>("Old phone"));
  // No name: unchanged, but the device must exist.
  f.devices.rename(alice, "PHONE", std::nullopt);
  CHECK(f.devices.get(alice, "PHONE").display_name == std::optional<std::string>("Old phone"));
  CHECK(domain_error([&] { f.devices.rename(alice, "NOPE", std::nullopt); }) ==
        "not_found M_NOT_FOUND");
  CHECK(domain_error([&] { f.devices.rename(alice, "NOPE", "x"); }) == "not_found M_NOT_FOUND");
  CHECK(domain_error([&] { f.devices.rename(alice, "PHONE", std::string(513, 'n')); }) ==
        "invalid M_INVALID_PARAM");
  CHECK(f.devices.get(alice, "PHONE").display_name == std::optional<std::string>("Old phone"));
}

TEST_CASE("devices: deleting a device removes its tokens, stored and cached") {
  ServicesFixture f;
  const std::string alice = ServicesFixture::user("alice");
  f.accounts.create({.localpart = "alice", .password = "password1"});
  auto phone = f.devices.log_in({.user_id = alice, .device_id = "PHONE"});
  auto laptop = f.devices.log_in({.user_id = alice, .device_id = "LAPTOP"});
  // A lookup the authenticator cached before the deletion.
  f.cache.set("tok:" + crypto::token_hash(phone.access_token), "{}", std::chrono::seconds(60));

  // Unknown IDs are skipped, not an error.
  CHECK(f.devices.remove(alice, {"PHONE", "NEVER"}) == 1);
  CHECK(device_ids(f, alice) == std::vector<std::string>{"LAPTOP"});
  CHECK_FALSE(token_stored(f, phone));
  CHECK(cached(f, phone) == std::optional<std::string>("revoked"));
  CHECK(f.cache.get("tokrev:" + crypto::token_hash(phone.access_token)).has_value());
  CHECK(token_stored(f, laptop));
  CHECK_FALSE(cached(f, laptop).has_value());

  CHECK(f.devices.remove(alice, {"PHONE"}) == 0);
}

TEST_CASE("devices: logging a device in again revokes its earlier token") {
  ServicesFixture f;
  const std::string alice = ServicesFixture::user("alice");
  f.accounts.create({.localpart = "alice", .password = "password1"});
  auto first = f.devices.log_in({.user_id = alice, .device_id = "PHONE", .display_name = "A"});
  auto second = f.devices.log_in({.user_id = alice, .device_id = "PHONE", .display_name = "B"});
  CHECK_FALSE(token_stored(f, first));
  CHECK(cached(f, first) == std::optional<std::string>("revoked"));
  CHECK(token_stored(f, second));
  CHECK(device_ids(f, alice) == std::vector<std::string>{"PHONE"});
  // The name is the one the device was created with.
  CHECK(f.devices.get(alice, "PHONE").display_name == std::optional<std::string>("A"));
}

TEST_CASE("devices: removing all but one, and all") {
  ServicesFixture f;
  const std::string alice = ServicesFixture::user("alice");
  const std::string bob = ServicesFixture::user("bob");
  f.accounts.create({.localpart = "alice", .password = "password1"});
  f.accounts.create({.localpart = "bob", .password = "password1"});
  auto a1 = f.devices.log_in({.user_id = alice, .device_id = "A1"});
  auto a2 = f.devices.log_in({.user_id = alice, .device_id = "A2"});
  auto a3 = f.devices.log_in({.user_id = alice, .device_id = "A3"});
  auto b1 = f.devices.log_in({.user_id = bob, .device_id = "B1"});

  CHECK(f.devices.remove_all(alice, std::string("A2")) == 2);
  CHECK(device_ids(f, alice) == std::vector<std::string>{"A2"});
  CHECK_FALSE(token_stored(f, a1));
  CHECK_FALSE(token_stored(f, a3));
  CHECK(token_stored(f, a2));

  CHECK(f.devices.remove_all(alice, std::nullopt) == 1);
  CHECK(device_ids(f, alice).empty());
  CHECK(cached(f, a2) == std::optional<std::string>("revoked"));
  // Nobody else's devices go.
  CHECK(token_stored(f, b1));
  CHECK(device_ids(f, bob) == std::vector<std::string>{"B1"});
}
