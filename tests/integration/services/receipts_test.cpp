// The receipt service (core/receipts/receipt_service.h) through its
// interface, without HTTP, against a real PostgreSQL: receipts and the fully
// read marker are stored, only move forward, are refused outside the room,
// and wake the syncs that must see them once committed.
#include "fixture.h"
#include "storage/user_data.h"

#include <catch2/catch.hpp>

#include <chrono>
#include <future>

using namespace eltrix;
using eltrix::test::domain_error;
using eltrix::test::ServicesFixture;

namespace {

/// A sync waiting on `key`; woken() says whether a wake-up (not the
/// deadline) ended the wait.
class Waiter {
 public:
  Waiter(notify::Notifier& notifier, const std::string& key, std::chrono::milliseconds wait)
      : future_(promise_.get_future()) {
    notifier.wait({key}, std::chrono::steady_clock::now() + wait,
                  [this](bool timed_out) { promise_.set_value(!timed_out); });
  }
  bool woken() { return future_.get(); }

 private:
  std::promise<bool> promise_;
  std::future<bool> future_;
};

std::string read_receipt(ServicesFixture& f, const std::string& room_id, const std::string& user_id,
                         const std::string& type) {
  return f.db.write([&](storage::Transaction& tx) {
    auto row = tx.exec_optional(
        "SELECT event_id FROM receipts WHERE room_id = $1 AND user_id = $2 AND receipt_type = $3",
        room_id, user_id, type);
    return row ? (*row)[0].as<std::string>() : std::string();
  });
}

std::string fully_read(ServicesFixture& f, const std::string& room_id, const std::string& user_id) {
  return f.db.write([&](storage::Transaction& tx) {
    auto stored = storage::get_account_data(tx, user_id, room_id, "m.fully_read");
    if (!stored) return std::string();
    return nlohmann::json::parse(*stored).at("event_id").get<std::string>();
  });
}

}  // namespace

TEST_CASE("receipts: m.read is stored and wakes the room's syncs") {
  ServicesFixture f;
  const std::string alice = ServicesFixture::user("alice");
  const std::string room = f.create_room(alice);
  const std::string event = f.say(room, alice, "hello");

  Waiter room_sync(f.notifier, notify::room_key(room), std::chrono::seconds(20));
  f.receipts.send_receipt(alice, room, "m.read", event, std::nullopt);
  CHECK(room_sync.woken());
  CHECK(read_receipt(f, room, alice, "m.read") == event);
}

TEST_CASE("receipts: m.read.private and m.fully_read wake the user's syncs") {
  ServicesFixture f;
  const std::string alice = ServicesFixture::user("alice");
  const std::string room = f.create_room(alice);
  const std::string event = f.say(room, alice, "hello");

  Waiter private_sync(f.notifier, notify::user_key(alice), std::chrono::seconds(20));
  f.receipts.send_receipt(alice, room, "m.read.private", event, std::string("main"));
  CHECK(private_sync.woken());
  CHECK(read_receipt(f, room, alice, "m.read.private") == event);

  Waiter marker_sync(f.notifier, notify::user_key(alice), std::chrono::seconds(20));
  f.receipts.set_read_markers(alice, room, {.fully_read = event});
  CHECK(marker_sync.woken());
  CHECK(fully_read(f, room, alice) == event);
}

TEST_CASE("receipts: markers only move forward, and nothing moves wakes no one") {
  ServicesFixture f;
  const std::string alice = ServicesFixture::user("alice");
  const std::string room = f.create_room(alice);
  const std::string first = f.say(room, alice, "one");
  const std::string second = f.say(room, alice, "two");

  f.receipts.set_read_markers(alice, room, {.fully_read = second, .read = second});
  Waiter room_sync(f.notifier, notify::room_key(room), std::chrono::milliseconds(300));
  Waiter user_sync(f.notifier, notify::user_key(alice), std::chrono::milliseconds(300));
  f.receipts.set_read_markers(alice, room, {.fully_read = first, .read = first});
  CHECK_FALSE(room_sync.woken());
  CHECK_FALSE(user_sync.woken());
  CHECK(read_receipt(f, room, alice, "m.read") == second);
  CHECK(fully_read(f, room, alice) == second);
}

TEST_CASE("receipts: refused outside the room, for other rooms' events, and malformed") {
  ServicesFixture f;
  const std::string alice = ServicesFixture::user("alice");
  const std::string bob = ServicesFixture::user("bob");
  const std::string room = f.create_room(alice);
  const std::string other_room = f.create_room(alice);
  const std::string event = f.say(room, alice, "hello");
  const std::string elsewhere = f.say(other_room, alice, "elsewhere");

  CHECK(domain_error([&] { f.receipts.send_receipt(bob, room, "m.read", event, std::nullopt); }) ==
        "forbidden M_FORBIDDEN");
  f.join(room, bob);
  f.receipts.send_receipt(bob, room, "m.read", event, std::nullopt);
  CHECK(read_receipt(f, room, bob, "m.read") == event);

  // One unknown event and nothing of the request is stored.
  CHECK(domain_error([&] {
          f.receipts.set_read_markers(alice, room, {.fully_read = event, .read = elsewhere});
        }) == "not_found M_NOT_FOUND");
  CHECK(fully_read(f, room, alice).empty());
  CHECK(read_receipt(f, room, alice, "m.read").empty());

  CHECK(domain_error([&] {
          f.receipts.send_receipt(alice, room, "m.seen", event, std::nullopt);
        }) == "invalid M_INVALID_PARAM");
  CHECK(domain_error([&] {
          f.receipts.send_receipt(alice, room, "m.fully_read", event, std::string("main"));
        }) == "invalid M_INVALID_PARAM");
  CHECK(domain_error([&] {
          f.receipts.send_receipt(alice, room, "m.read", event, std::string("thread"));
        }) == "invalid M_INVALID_PARAM");
  CHECK(read_receipt(f, room, alice, "m.read").empty());
}
