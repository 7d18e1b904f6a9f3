// The server's signing keys (core/rooms/server_keys.h) against a real
// PostgreSQL: one key for every node however many start at once, a rotation
// that each node picks up within its refresh while events signed before and
// after both verify against the published keys, and the rules a replacement
// must follow.
#include "rooms/server_keys.h"
#include "errors/error.h"
#include "matrix/base64.h"
#include "matrix/redaction.h"
#include "matrix/room_version.h"
#include "matrix/signing.h"
#include "notify/notifier.h"
#include "rooms/room_service_impl.h"
#include "storage/migrations.h"
#include "support.h"

#include <catch2/catch.hpp>

#include <future>
#include <set>
#include <thread>

using namespace eltrix;
using eltrix::test::FixedRouting;
using eltrix::test::options_for;
using eltrix::test::ScratchDatabase;

namespace {

const std::string kAlice = "@alice:here.test";

struct Deployment {
  ScratchDatabase scratch;
  metrics::Registry registry;
  FixedRouting routing;
  storage::Database db{options_for(scratch.url), routing, registry};
  Deployment() { storage::apply_migrations(db); }
};

/// One node of the deployment: its own ServerKeys over the shared database.
struct Node {
  Node(Deployment& d, std::chrono::milliseconds refresh)
      : notifier(d.registry, 16, 1),
        keys(d.db, refresh),
        rooms(d.db, keys, notifier, "here.test") {}
  notify::Notifier notifier;
  rooms::ServerKeys keys;
  rooms::RoomServiceImpl rooms;
};

nlohmann::json stored_pdu(storage::Database& db, const std::string& event_id) {
  return db.read([&](storage::Transaction& tx) {
    return nlohmann::json::parse(
        tx.exec1("SELECT pdu FROM events WHERE event_id = $1", event_id)[0].as<std::string>());
  });
}

std::vector<rooms::VerifyKey> published(storage::Database& db) {
  return db.read([](storage::Transaction& tx) { return rooms::ServerKeys::read_verify_keys(tx); });
}

/// The key ID that signed `pdu`, after checking the signature against the
/// published public key of that ID.
std::string verified_signer(storage::Database& db, const nlohmann::json& pdu) {
  const auto& signatures = pdu.at("signatures").at("here.test");
  REQUIRE(signatures.size() == 1);
  const std::string key_id = signatures.begin().key();
  for (const auto& key : published(db)) {
    if (key.key_id != key_id) continue;
    // Events are signed over their redacted form.
    CHECK(matrix::verify_json(matrix::redact_event(pdu, matrix::kRoomVersion10), "here.test",
                              key_id, key.public_key_base64));
    return key_id;
  }
  FAIL("no published key " << key_id);
  return {};
}

std::string message(Node& node, const std::string& room, const std::string& body) {
  auto sent = node.rooms.send(room, {.type = "m.room.message",
                                     .sender = kAlice,
                                     .content = {{"msgtype", "m.text"}, {"body", body}}});
  REQUIRE(sent.outcome.is_accepted());
  return sent.event.event_id;
}

}  // namespace

TEST_CASE("nodes starting at once end up with one signing key", "[rooms][keys]") {
  Deployment d;
  std::vector<std::future<std::string>> starts;
  for (int i = 0; i < 4; ++i) {
    starts.push_back(std::async(std::launch::async, [&d] {
      d.db.write([](storage::Transaction& tx) { rooms::ServerKeys::ensure_key(tx); });
      rooms::ServerKeys keys(d.db);
      return keys.load()->key_id();
    }));
  }
  std::set<std::string> ids;
  for (auto& s : starts) ids.insert(s.get());
  CHECK(ids.size() == 1);
  const auto keys = published(d.db);
  REQUIRE(keys.size() == 1);
  CHECK_FALSE(keys[0].expired_ts.has_value());
  CHECK(keys[0].key_id == *ids.begin());
}

TEST_CASE("a rotation reaches every node within its refresh; old and new signatures verify",
          "[rooms][keys]") {
  Deployment d;
  Node fast(d, std::chrono::milliseconds(0));  // looks again on every send
  Node slow(d, std::chrono::hours(1));         // keeps what it loaded
  const std::string first = fast.keys.load()->key_id();
  CHECK(slow.keys.load()->key_id() == first);

  auto made = fast.rooms.create_room(
      {.creator = kAlice, .room_id = "!keys:here.test", .version = "10", .preset = "private_chat"});
  REQUIRE(made.outcome.is_accepted());
  const auto before = message(fast, "!keys:here.test", "signed by the first key");
  CHECK(verified_signer(d.db, stored_pdu(d.db, before)) == first);

  const auto next = matrix::SigningKey::generate("next");
  const auto retired = d.db.write([&](storage::Transaction& tx) {
    return rooms::ServerKeys::replace(tx, next, std::chrono::minutes(2));
  });
  CHECK(retired == first);

  // The retired key keeps its public half and a validity end, never its seed.
  const auto keys = published(d.db);
  REQUIRE(keys.size() == 2);
  CHECK(keys[0].key_id == "ed25519:next");
  CHECK_FALSE(keys[0].expired_ts);
  CHECK(keys[1].key_id == first);
  const auto now = rooms::now_ms();
  CHECK(*keys[1].expired_ts > now + 100'000);
  CHECK(*keys[1].expired_ts <= now + 120'000);
  CHECK(d.db.read([](storage::Transaction& tx) {
    return tx.exec1("SELECT count(*) FROM server_signing_keys WHERE seed IS NOT NULL")[0].as<int>();
  }) == 1);

  const auto after = message(fast, "!keys:here.test", "signed by the next key");
  CHECK(verified_signer(d.db, stored_pdu(d.db, after)) == "ed25519:next");
  // The slow node has not looked again yet: it still signs with the retired
  // key, which is why that key stays valid for a grace period.
  const auto lagging = message(slow, "!keys:here.test", "signed by the retired key");
  CHECK(verified_signer(d.db, stored_pdu(d.db, lagging)) == first);
  // Both nodes verify our own events signed with either key.
  auto verify_keys = d.db.read([&](storage::Transaction& tx) { return slow.keys.verify_keys(tx); });
  CHECK(verify_keys->size() == 1);  // the slow node's view is from before
  verify_keys = d.db.read([&](storage::Transaction& tx) { return fast.keys.verify_keys(tx); });
  CHECK(verify_keys->size() == 2);
}

TEST_CASE("a replacement may not reuse the ID of a key used before", "[rooms][keys]") {
  Deployment d;
  rooms::ServerKeys keys(d.db);
  const std::string first = keys.load()->key_id();
  const auto reuse = matrix::SigningKey::generate(first.substr(8));
  CHECK_THROWS_AS(d.db.write([&](storage::Transaction& tx) {
    return rooms::ServerKeys::replace(tx, reuse, std::chrono::seconds(0));
  }),
                  errors::Error);
  // Nothing changed.
  CHECK(published(d.db).size() == 1);

  // Rotating twice retires both earlier keys, and still exactly one is current.
  for (const char* version : {"two", "three"}) {
    d.db.write([&](storage::Transaction& tx) {
      return rooms::ServerKeys::replace(tx, matrix::SigningKey::generate(version),
                                        std::chrono::seconds(0));
    });
  }
  const auto all = published(d.db);
  REQUIRE(all.size() == 3);
  CHECK(all[0].key_id == "ed25519:three");
  CHECK_FALSE(all[0].expired_ts);
  CHECK(all[1].expired_ts);
  CHECK(all[2].expired_ts);
}

TEST_CASE("migration 0021 keeps the key every node signed with", "[rooms][keys]") {
  ScratchDatabase scratch;
  metrics::Registry registry;
  FixedRouting routing;
  storage::Database db(options_for(scratch.url), routing, registry);
  std::vector<storage::Migration> older;
  for (const auto& m : storage::embedded_migrations()) {
    if (m.version < 21) older.push_back(m);
  }
  storage::apply_migrations(db, older);
  // What two nodes starting at once could leave before 0021: two keys. Every
  // node read the oldest (ORDER BY created_ts), so only it ever signed.
  const auto oldest = matrix::SigningKey::generate("old");
  const auto loser = matrix::SigningKey::generate("lost");
  db.write([&](storage::Transaction& tx) {
    for (const auto* key : {&oldest, &loser}) {
      tx.exec("INSERT INTO server_signing_keys (key_id, seed, created_ts) VALUES ($1, $2, $3)",
              key->key_id(), matrix::encode_base64_unpadded(key->seed()),
              key == &oldest ? 1000 : 1001);
    }
  });
  storage::apply_migrations(db);
  const auto keys = published(db);
  REQUIRE(keys.size() == 1);
  CHECK(keys[0].key_id == oldest.key_id());
  CHECK(keys[0].public_key_base64 == oldest.public_key_base64());
  CHECK_FALSE(keys[0].expired_ts);
  // The schema now refuses a second current key.
  CHECK_THROWS(db.write([&](storage::Transaction& tx) {
    tx.exec(
        "INSERT INTO server_signing_keys (key_id, seed, created_ts) VALUES ('ed25519:x', "
        "'AAAA', 1)");
  }));
}
