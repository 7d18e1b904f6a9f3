#include "fixture.h"

#include "config/core_keys.h"
#include "errors/error.h"
#include "rooms/room_service.h"
#include "storage/stream.h"

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>

namespace eltrix::test {
namespace {

config::Schema& with_core_keys(config::Schema& schema) {
  config::add_core_keys(schema);
  return schema;
}

/// Readers (replica reads) see writes up to a bound that any open write
/// transaction on the server holds back (D31): wait until they see this one.
void await_visible(storage::Database& db, std::int64_t position) {
  for (int i = 0; i < 500; ++i) {
    if (db.read([](storage::Transaction& tx) { return storage::current_stream(tx); }) >= position) {
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  throw std::runtime_error("the write never became visible to readers");
}

}  // namespace

ServicesFixture::ServicesFixture()
    : db(options_for(scratch.url), routing, registry),
      config(
          config::Config::resolve(with_core_keys(schema),
                                  {{config::keys::kServerName, "here.test", "test"},
                                   // Short, so the tests' passwords need no special characters.
                                   {"auth.password_min_length", "8", "test"}},
                                  [](const std::string&) { return std::optional<std::string>(); })),
      notifier(registry, 16, 1),
      keys(db),
      rooms(db, keys, notifier, "here.test"),
      accounts(config, db, cache),
      devices(config, db, cache),
      receipts(db, notifier) {
  storage::apply_migrations(db);
}

std::string ServicesFixture::create_room(const std::string& creator) {
  static std::atomic<int> counter{0};
  const std::string room_id = "!room" + std::to_string(++counter) + ":here.test";
  auto made = rooms.create_room({.creator = creator,
                                 .room_id = room_id,
                                 .version = "10",
                                 .is_public = true,
                                 .preset = "public_chat"});
  if (made.outcome.is_rejected()) throw std::runtime_error(made.outcome.reason);
  await_visible(db, made.event.stream_ordering);
  return room_id;
}

std::string ServicesFixture::say(const std::string& room_id, const std::string& sender,
                                 const std::string& body) {
  auto sent = rooms.send(room_id, {.type = "m.room.message",
                                   .sender = sender,
                                   .content = {{"msgtype", "m.text"}, {"body", body}}});
  if (sent.outcome.is_rejected()) throw std::runtime_error(sent.outcome.reason);
  await_visible(db, sent.event.stream_ordering);
  return sent.event.event_id;
}

void ServicesFixture::join(const std::string& room_id, const std::string& user_id) {
  auto joined = rooms.change_membership(
      {.room_id = room_id, .sender = user_id, .target = user_id, .membership = "join"});
  if (joined.outcome.is_rejected()) throw std::runtime_error(joined.outcome.reason);
  await_visible(db, joined.event.stream_ordering);
}

std::string ServicesFixture::scalar(const std::string& sql, const std::string& param) {
  return db.write([&](storage::Transaction& tx) {
    auto row = tx.exec_optional(sql, param);
    if (!row || (*row)[0].is_null()) return std::string();
    return (*row)[0].as<std::string>();
  });
}

std::string domain_error(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const errors::Error& e) {
    return std::string(errors::to_string(e.kind())) + " " + e.errcode();
  }
  return "none";
}

}  // namespace eltrix::test
