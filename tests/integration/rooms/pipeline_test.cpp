// The event pipeline (core/rooms/room_service.h) through the room service's
// interface, without HTTP, against a real PostgreSQL: rejections store
// nothing, the state before and after every event (also one arriving out of
// order from another server), forward extremities merging, soft failure,
// the topological order /messages pages in, history visibility judged by
// the state before each event rather than by when it arrived, and senders in
// one room at once (RoomLock: messages share the room, state events have it
// alone).
#include "matrix/canonical_json.h"
#include "matrix/event_hash.h"
#include "matrix/room_version.h"
#include "matrix/signing.h"
#include "notify/notifier.h"
#include "rooms/event_store.h"
#include "rooms/room_scan.h"
#include "rooms/room_service_impl.h"
#include "rooms/server_keys.h"
#include "rooms/topological.h"
#include "storage/stream.h"
#include "support.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <future>
#include <map>
#include <set>
#include <thread>

using namespace eltrix;
using eltrix::test::FixedRouting;
using eltrix::test::options_for;
using eltrix::test::ScratchDatabase;

namespace {

const std::string kAlice = "@alice:here.test";
const std::string kBob = "@bob:here.test";
const std::string kCarol = "@carol:remote.test";

struct Node {
  ScratchDatabase scratch;
  metrics::Registry registry;
  FixedRouting routing;
  storage::Database db;
  notify::Notifier notifier;
  rooms::ServerKeys keys;
  rooms::RoomServiceImpl rooms;
  /// The other server's key, known to this one's key ring.
  matrix::SigningKey remote_key = matrix::SigningKey::generate("r1");

  /// `schema_before`: apply only the migrations older than that version.
  explicit Node(int schema_before = 0)
      : db(options_for(scratch.url), routing, registry),
        notifier(registry, 16, 1),
        keys(db),
        rooms(db, keys, notifier, "here.test") {
    if (schema_before == 0) {
      storage::apply_migrations(db);
    } else {
      std::vector<storage::Migration> older;
      for (const auto& m : storage::embedded_migrations()) {
        if (m.version < schema_before) older.push_back(m);
      }
      storage::apply_migrations(db, older);
    }
    rooms.key_ring().add("remote.test", remote_key.key_id(), remote_key.public_key_base64());
  }

  std::string create_public_room() {
    const std::string room_id = "!room" + std::to_string(++rooms_made) + ":here.test";
    auto made = rooms.create_room({.creator = kAlice,
                                   .room_id = room_id,
                                   .version = "10",
                                   .is_public = true,
                                   .preset = "public_chat"});
    REQUIRE(made.outcome.is_accepted());
    return room_id;
  }

  rooms::SendResult say(const std::string& room_id, const std::string& sender,
                        const std::string& body) {
    return rooms.send(room_id, {.type = "m.room.message",
                                .sender = sender,
                                .content = {{"msgtype", "m.text"}, {"body", body}}});
  }

  std::string event_id_of(const std::string& room_id, const std::string& type,
                          const std::string& state_key) {
    auto event = rooms.current_state_event(room_id, type, state_key);
    REQUIRE(event.has_value());
    return (*event)["event_id"].get<std::string>();
  }

  /// A PDU built and signed by remote.test, on top of `prev`.
  nlohmann::json remote_pdu(const std::string& room_id, const std::string& type,
                            std::optional<std::string> state_key, const nlohmann::json& content,
                            const std::vector<std::string>& prev,
                            const std::vector<std::string>& auth) {
    std::int64_t depth = 0;
    for (const auto& id : prev) depth = std::max(depth, depth_of(id));
    nlohmann::json pdu = {
        {"type", type},       {"room_id", room_id},      {"sender", kCarol},
        {"content", content}, {"origin", "remote.test"}, {"origin_server_ts", rooms::now_ms()},
        {"depth", depth + 1}, {"prev_events", prev},     {"auth_events", auth}};
    if (state_key) pdu["state_key"] = *state_key;
    matrix::add_content_hash(pdu);
    matrix::sign_event(pdu, remote_key, "remote.test", matrix::kRoomVersion10);
    return pdu;
  }

  std::int64_t depth_of(const std::string& event_id) {
    return db.read([&](storage::Transaction& tx) {
      return tx.exec1("SELECT depth FROM events WHERE event_id = $1", event_id)[0]
          .as<std::int64_t>();
    });
  }

  std::vector<std::string> extremities(const std::string& room_id) {
    return db.read([&](storage::Transaction& tx) {
      std::vector<std::string> out;
      for (const auto& row :
           tx.exec("SELECT event_id FROM room_forward_extremities WHERE room_id = $1 ORDER BY 1",
                   room_id)) {
        out.push_back(row[0].as<std::string>());
      }
      return out;
    });
  }

  std::int64_t count(const std::string& sql, const std::string& room_id) {
    return db.read(
        [&](storage::Transaction& tx) { return tx.exec1(sql, room_id)[0].as<std::int64_t>(); });
  }

  /// (type, state_key) -> event_id of a state, for comparisons.
  using State = std::map<std::pair<std::string, std::string>, std::string>;
  static State as_map(const std::vector<rooms::StoredEvent>& events) {
    State out;
    for (const auto& e : events) out[{e.type(), e.state_key()}] = e.event_id;
    return out;
  }
  State before(const std::string& event_id) {
    return db.read(
        [&](storage::Transaction& tx) { return as_map(rooms::state_before_event(tx, event_id)); });
  }
  State after(const std::string& event_id) {
    return db.read(
        [&](storage::Transaction& tx) { return as_map(rooms::state_after_event(tx, event_id)); });
  }
  State current(const std::string& room_id) {
    return db.read(
        [&](storage::Transaction& tx) { return as_map(rooms::current_state(tx, room_id)); });
  }

  /// Carol (remote.test) joins the public room.
  std::string remote_join(const std::string& room_id) {
    auto join = remote_pdu(
        room_id, "m.room.member", kCarol, {{"membership", "join"}}, extremities(room_id),
        {event_id_of(room_id, "m.room.create", ""), event_id_of(room_id, "m.room.power_levels", ""),
         event_id_of(room_id, "m.room.join_rules", "")});
    auto joined = rooms.receive(join);
    REQUIRE(joined.outcome.is_accepted());
    return joined.event.event_id;
  }

  int rooms_made = 0;
};

}  // namespace

TEST_CASE("an event that fails auth is rejected with a reason, and nothing is stored",
          "[rooms][pipeline]") {
  Node node;
  const auto room = node.create_public_room();
  const auto events_before = node.count("SELECT count(*) FROM events WHERE room_id = $1", room);
  const auto groups_before =
      node.count("SELECT count(*) FROM state_groups WHERE room_id = $1", room);
  const auto extremities_before = node.extremities(room);
  const auto stream_before =
      node.db.read([](storage::Transaction& tx) { return storage::current_stream(tx); });

  // Bob never joined: neither a message nor a state event gets in.
  auto message = node.say(room, kBob, "hello?");
  CHECK(message.outcome.verdict == rooms::Verdict::rejected);
  CHECK(message.outcome.rejection == rooms::Rejection::forbidden);
  CHECK_FALSE(message.outcome.reason.empty());
  CHECK(message.event.event_id.empty());
  auto topic = node.rooms.send(
      room,
      {.type = "m.room.topic", .sender = kBob, .content = {{"topic", "mine"}}, .state_key = ""});
  CHECK(topic.outcome.rejection == rooms::Rejection::forbidden);

  // A remote event whose signature does not verify.
  auto forged =
      node.remote_pdu(room, "m.room.message", std::nullopt, {{"body", "x"}}, node.extremities(room),
                      {node.event_id_of(room, "m.room.create", "")});
  forged["content"]["body"] = "changed after signing";
  forged["signatures"]["remote.test"][node.remote_key.key_id()] = "AAAA";
  auto received = node.rooms.receive(forged);
  CHECK(received.outcome.rejection == rooms::Rejection::bad_signature);

  CHECK(node.count("SELECT count(*) FROM events WHERE room_id = $1", room) == events_before);
  CHECK(node.count("SELECT count(*) FROM state_groups WHERE room_id = $1", room) == groups_before);
  CHECK(node.extremities(room) == extremities_before);
  // Nothing stamped on the stream either. (The stream bound itself may move:
  // any write transaction on the PostgreSQL server advances it, D31.)
  CHECK(node.count("SELECT count(*) FROM events WHERE room_id = $1 AND stream_ordering > " +
                       std::to_string(stream_before),
                   room) == 0);
  CHECK_FALSE(node.rooms.current_state_event(room, "m.room.topic", "").has_value());
}

TEST_CASE("the state before and after each event", "[rooms][pipeline]") {
  Node node;
  const auto room = node.create_public_room();
  const auto create = node.event_id_of(room, "m.room.create", "");
  CHECK(node.before(create).empty());
  CHECK(node.after(create) == Node::State{{{"m.room.create", ""}, create}});

  auto topic1 = node.rooms.send(
      room,
      {.type = "m.room.topic", .sender = kAlice, .content = {{"topic", "one"}}, .state_key = ""});
  REQUIRE(topic1.outcome.is_accepted());
  auto message = node.say(room, kAlice, "between");
  REQUIRE(message.outcome.is_accepted());
  auto topic2 = node.rooms.send(
      room,
      {.type = "m.room.topic", .sender = kAlice, .content = {{"topic", "two"}}, .state_key = ""});
  REQUIRE(topic2.outcome.is_accepted());

  const auto t1 = topic1.event.event_id;
  const auto m = message.event.event_id;
  const auto t2 = topic2.event.event_id;
  CHECK_FALSE(node.before(t1).contains({"m.room.topic", ""}));
  CHECK(node.after(t1).at({"m.room.topic", ""}) == t1);
  // A message changes nothing: the same state on both sides.
  CHECK(node.before(m) == node.after(t1));
  CHECK(node.after(m) == node.before(m));
  CHECK(node.before(t2).at({"m.room.topic", ""}) == t1);
  CHECK(node.after(t2).at({"m.room.topic", ""}) == t2);
  // Everything else is carried along, and the current state is the last one.
  auto without_topic = [](Node::State s) {
    s.erase({"m.room.topic", ""});
    return s;
  };
  CHECK(without_topic(node.after(t2)) == without_topic(node.before(t1)));
  CHECK(node.current(room) == node.after(t2));
  // The state at a stream position (sync) agrees.
  node.db.read([&](storage::Transaction& tx) {
    CHECK(Node::as_map(rooms::state_at(tx, room, topic1.event.stream_ordering)) == node.after(t1));
    CHECK(Node::as_map(rooms::state_at(tx, room, message.event.stream_ordering)) == node.after(t1));
    return 0;
  });
}

TEST_CASE("an event arriving out of order: its own state, two extremities, then a merge",
          "[rooms][pipeline]") {
  Node node;
  const auto room = node.create_public_room();
  const auto join = node.remote_join(room);

  // Here, after Carol's join: a topic and two messages.
  auto topic = node.rooms.send(
      room,
      {.type = "m.room.topic", .sender = kAlice, .content = {{"topic", "later"}}, .state_key = ""});
  REQUIRE(topic.outcome.is_accepted());
  REQUIRE(node.say(room, kAlice, "one").outcome.is_accepted());
  auto last_local = node.say(room, kAlice, "two");
  REQUIRE(last_local.outcome.is_accepted());
  REQUIRE(node.extremities(room) == std::vector<std::string>{last_local.event.event_id});

  // Carol's server had not seen them: her display name change names her
  // join as its parent, and arrives now.
  auto rename = node.remote_pdu(room, "m.room.member", kCarol,
                                {{"membership", "join"}, {"displayname", "Carol"}}, {join},
                                {node.event_id_of(room, "m.room.create", ""),
                                 node.event_id_of(room, "m.room.power_levels", ""), join});
  auto received = node.rooms.receive(rename);
  REQUIRE(received.outcome.is_accepted());
  const auto late = received.event.event_id;
  CHECK(node.depth_of(late) == node.depth_of(join) + 1);
  CHECK(node.depth_of(late) < node.depth_of(last_local.event.event_id));

  // Its state is the one its parent left, without the topic set since.
  CHECK(node.before(late) == node.after(join));
  CHECK_FALSE(node.after(late).contains({"m.room.topic", ""}));
  CHECK(node.after(late).at({"m.room.member", kCarol}) == late);

  // Two forward extremities now; the current state is their merge.
  auto two = std::vector<std::string>{last_local.event.event_id, late};
  std::sort(two.begin(), two.end());
  CHECK(node.extremities(room) == two);
  auto current = node.current(room);
  CHECK(current.at({"m.room.topic", ""}) == topic.event.event_id);
  CHECK(current.at({"m.room.member", kCarol}) == late);
  CHECK(node.db.read([&](storage::Transaction& tx) {
    return rooms::membership_of(tx, room, kCarol)->event_id;
  }) == late);

  // The next local event names both and merges them.
  auto merge = node.say(room, kAlice, "merged");
  REQUIRE(merge.outcome.is_accepted());
  CHECK(node.extremities(room) == std::vector<std::string>{merge.event.event_id});
  auto parents = node.db.read([&](storage::Transaction& tx) {
    std::vector<std::string> out;
    for (const auto& row :
         tx.exec("SELECT prev_event_id FROM event_edges WHERE event_id = $1 ORDER BY 1",
                 merge.event.event_id)) {
      out.push_back(row[0].as<std::string>());
    }
    return out;
  });
  CHECK(parents == two);
  CHECK(node.before(merge.event.event_id) == current);
  CHECK(node.depth_of(merge.event.event_id) == node.depth_of(last_local.event.event_id) + 1);

  // Received again: the first one stands, nothing new is stored.
  const auto events = node.count("SELECT count(*) FROM events WHERE room_id = $1", room);
  auto again = node.rooms.receive(rename);
  CHECK(again.outcome.is_accepted());
  CHECK(again.event.event_id == late);
  CHECK(node.count("SELECT count(*) FROM events WHERE room_id = $1", room) == events);
}

TEST_CASE("a remote event allowed by the state before it but not the current state soft-fails",
          "[rooms][pipeline]") {
  Node node;
  const auto room = node.create_public_room();
  const auto join = node.remote_join(room);
  auto ban = node.rooms.change_membership(
      {.room_id = room, .sender = kAlice, .target = kCarol, .membership = "ban"});
  REQUIRE(ban.outcome.is_accepted());

  // Carol's server had not seen the ban.
  auto message =
      node.remote_pdu(room, "m.room.message", std::nullopt, {{"body", "still here"}}, {join},
                      {node.event_id_of(room, "m.room.create", ""),
                       node.event_id_of(room, "m.room.power_levels", ""), join});
  auto received = node.rooms.receive(message);
  CHECK(received.outcome.verdict == rooms::Verdict::soft_failed);
  CHECK_FALSE(received.outcome.reason.empty());
  // Stored, but the DAG and the current state move on without it.
  CHECK(node.count("SELECT count(*) FROM events WHERE room_id = $1 AND type = 'm.room.message'",
                   room) == 1);
  CHECK(node.extremities(room) == std::vector<std::string>{ban.event.event_id});
  CHECK(node.current(room).at({"m.room.member", kCarol}) == ban.event.event_id);
}

TEST_CASE("a late event with a low depth is not new in topological order (/messages)",
          "[rooms][pipeline]") {
  Node node;
  const auto room = node.create_public_room();
  const auto join = node.remote_join(room);
  std::vector<std::string> local;
  for (int i = 0; i < 5; ++i) {
    auto sent = node.say(room, kAlice, "message " + std::to_string(i));
    REQUIRE(sent.outcome.is_accepted());
    local.push_back(sent.event.event_id);
  }
  // Backfilled, or from a slow server: built right after Carol's join.
  auto old =
      node.remote_pdu(room, "m.room.message", std::nullopt, {{"body", "from long ago"}}, {join},
                      {node.event_id_of(room, "m.room.create", ""),
                       node.event_id_of(room, "m.room.power_levels", ""), join});
  auto received = node.rooms.receive(old);
  REQUIRE(received.outcome.is_accepted());
  const auto late = received.event.event_id;

  node.db.read([&](storage::Transaction& tx) {
    auto visibility = rooms::Visibility(tx, room, kAlice);
    const auto now = storage::current_stream(tx);
    // /messages from the newest point backwards, as a client opening the
    // room: the newest is the last local message, and the late event sits
    // next to Carol's join where it belongs: at the depth of the first local
    // message, after it by the stream tie-break.
    rooms::ScanRequest newest{.room_id = room,
                              .topological = true,
                              .topo_from = rooms::topological_at_stream(tx, room, now),
                              .backwards = true,
                              .limit = 7};
    auto page = rooms::scan_room(
        tx, newest, [](const rooms::StoredEvent&) { return true; }, visibility);
    std::vector<std::string> ids;
    for (const auto& e : page.events) ids.push_back(e.event_id);
    CHECK(ids ==
          std::vector<std::string>{local[4], local[3], local[2], local[1], late, local[0], join});
    // Paging forwards from the last local message finds nothing new.
    rooms::ScanRequest forward{.room_id = room,
                               .topological = true,
                               .topo_from = {node.depth_of(local.back()), page.events.at(0).stream},
                               .topo_bound = {INT64_MAX, INT64_MAX},
                               .backwards = false,
                               .limit = 10};
    auto after = rooms::scan_room(
        tx, forward, [](const rooms::StoredEvent&) { return true; }, visibility);
    CHECK(after.events.empty());
    // The stream order (sync) is when this server learned of it: last.
    rooms::ScanRequest stream{.room_id = room, .from = now, .bound = 0, .limit = 1};
    auto learned = rooms::scan_room(
        tx, stream, [](const rooms::StoredEvent&) { return true; }, visibility);
    REQUIRE(learned.events.size() == 1);
    CHECK(learned.events.front().event_id == late);
    // And the state as of now is not set back by it.
    CHECK(Node::as_map(rooms::state_at(tx, room, now)) == node.current(room));
    return 0;
  });
}

TEST_CASE("migration 0010 backfills the DAG and the state of rooms stored before it",
          "[rooms][pipeline][migration]") {
  Node node(10);
  const std::string room = "!old:here.test";
  // A room as the single-chain code stored it: events in stream order,
  // current_state and one forward extremity, no edges or state groups.
  struct Row {
    std::string id;
    std::string type;
    std::optional<std::string> state_key;
    nlohmann::json content;
  };
  const std::vector<Row> rows = {
      {"$create", "m.room.create", "", {{"creator", kAlice}, {"room_version", "10"}}},
      {"$join", "m.room.member", kAlice, {{"membership", "join"}}},
      {"$levels", "m.room.power_levels", "", {{"users", {{kAlice, 100}}}}},
      {"$m1", "m.room.message", std::nullopt, {{"body", "one"}}},
      {"$topic", "m.room.topic", "", {{"topic", "old"}}},
      {"$m2", "m.room.message", std::nullopt, {{"body", "two"}}},
  };
  std::map<std::string, std::int64_t> stream_of;  // event ID -> its stream position
  node.db.write([&](storage::Transaction& tx) {
    tx.exec(
        "INSERT INTO rooms (room_id, room_version, creator, created_ts) VALUES ($1, '10', $2, 0)",
        room, kAlice);
    std::int64_t depth = 0;
    for (const auto& row : rows) {
      nlohmann::json pdu = {{"type", row.type},   {"room_id", room},
                            {"sender", kAlice},   {"content", row.content},
                            {"depth", depth + 1}, {"origin_server_ts", 0}};
      if (row.state_key) pdu["state_key"] = *row.state_key;
      const auto stream = storage::advance_stream(tx);
      stream_of[row.id] = stream;
      tx.exec(
          "INSERT INTO events (stream_ordering, event_id, room_id, type, state_key, sender, depth, "
          "origin_server_ts, pdu, membership) VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $9)",
          stream, row.id, room, row.type, row.state_key, kAlice, ++depth, pdu.dump(),
          row.type == "m.room.member" ? std::optional<std::string>("join") : std::nullopt);
      if (row.state_key) {
        tx.exec(
            "INSERT INTO current_state (room_id, type, state_key, event_id, stream_ordering) "
            "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (room_id, type, state_key) DO UPDATE "
            "SET event_id = EXCLUDED.event_id",
            room, row.type, *row.state_key, row.id, stream);
      }
    }
    tx.exec(
        "INSERT INTO room_memberships (user_id, room_id, membership, event_id, "
        "stream_ordering) VALUES ($1, $2, 'join', '$join', $3)",
        kAlice, room, stream_of.at("$join"));
    // At version 10 extremities were rows of their own (0011 moves them into slots).
    tx.exec("INSERT INTO room_forward_extremities (room_id, event_id) VALUES ($1, '$m2')", room);
    return 0;
  });
  storage::apply_migrations(node.db);

  const Node::State base = {{{"m.room.create", ""}, "$create"},
                            {{"m.room.member", kAlice}, "$join"},
                            {{"m.room.power_levels", ""}, "$levels"}};
  Node::State with_topic = base;
  with_topic[{"m.room.topic", ""}] = "$topic";
  CHECK(node.before("$create").empty());
  CHECK(node.after("$levels") == base);
  CHECK(node.before("$m1") == base);
  CHECK(node.after("$m1") == base);
  CHECK(node.before("$topic") == base);
  CHECK(node.after("$topic") == with_topic);
  CHECK(node.after("$m2") == with_topic);
  CHECK(node.count("SELECT count(*) FROM event_edges WHERE room_id = $1", room) == 5);
  node.db.read([&](storage::Transaction& tx) {
    // Between $m1 and $topic: the state before the topic.
    CHECK(Node::as_map(rooms::state_at(tx, room, stream_of.at("$m1"))) == base);
    CHECK(Node::as_map(rooms::state_at(tx, room, storage::current_stream(tx))) == with_topic);
    return 0;
  });
  // The pipeline carries on from there.
  auto next = node.say(room, kAlice, "after the upgrade");
  REQUIRE(next.outcome.is_accepted());
  CHECK(node.before(next.event.event_id) == with_topic);
  CHECK(node.extremities(room) == std::vector<std::string>{next.event.event_id});
  CHECK(node.depth_of(next.event.event_id) == 7);
}

namespace {

/// Runs fn on another thread; the future fails the test if it never ends.
template <typename Fn>
auto on_thread(Fn fn) {
  return std::async(std::launch::async, std::move(fn));
}

template <typename T>
T await(std::future<T>& done) {
  REQUIRE(done.wait_for(std::chrono::seconds(30)) == std::future_status::ready);
  return done.get();
}

/// Whether `sessions` sessions of this database wait for a lock (a room's
/// advisory lock, a row), polled until `deadline` passes.
bool sessions_wait_for_a_lock(eltrix::test::ScratchDatabase& scratch, int sessions,
                              std::chrono::seconds deadline) {
  pqxx::connection conn(scratch.url);
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < until) {
    pqxx::nontransaction tx(conn);
    auto row = tx.exec1(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND wait_event_type = 'Lock' AND wait_event IN ('advisory', 'tuple', 'transactionid')");
    if (row[0].as<int>() >= sessions) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

}  // namespace

TEST_CASE("messages into one room do not wait for one another; state events wait for them",
          "[rooms][pipeline][concurrency]") {
  Node node;
  const auto room = node.create_public_room();
  const auto state_before = node.current(room);

  // Stands for a sender whose message is in flight: it holds what sending a
  // message holds (the room's shared lock, the extremity it replaces) until
  // released.
  std::promise<void> holding;
  std::promise<void> release;
  auto in_flight = on_thread([&] {
    node.db.write([&](storage::Transaction& tx) {
      tx.exec("SELECT pg_advisory_xact_lock_shared(hashtextextended($1, 0))", room);
      tx.exec("SELECT 1 FROM room_forward_extremities WHERE room_id = $1 FOR UPDATE", room);
      holding.set_value();
      release.get_future().wait();
    });
    return true;
  });
  holding.get_future().wait();
  const auto extremities_before = node.extremities(room);
  REQUIRE(extremities_before.size() == 1);

  // Another message goes through meanwhile (with the room locked
  // exclusively by every sender, as before D36, it would wait). It names the
  // same extremity: the DAG forks.
  auto message = on_thread([&] { return node.say(room, kAlice, "while another is in flight"); });
  const auto sent = await(message);
  REQUIRE(sent.outcome.is_accepted());
  auto forked = node.extremities(room);
  CHECK(forked.size() == 2);  // the held extremity was skipped, not deleted
  CHECK(std::find(forked.begin(), forked.end(), sent.event.event_id) != forked.end());

  // A state event must wait for the in-flight message: it is checked against,
  // and changes, the state every shared holder was built on.
  auto topic = on_thread([&] {
    return node.rooms.send(room, {.type = "m.room.topic",
                                  .sender = kAlice,
                                  .content = {{"topic", "after the messages"}},
                                  .state_key = ""});
  });
  CHECK(sessions_wait_for_a_lock(node.scratch, 1, std::chrono::seconds(20)));
  CHECK(topic.wait_for(std::chrono::milliseconds(0)) == std::future_status::timeout);
  // A message sent now queues behind the waiting state event rather than
  // joining the holder: a busy room's messages cannot starve its state
  // events (PostgreSQL's row locks would let it in).
  auto queued = on_thread([&] { return node.say(room, kAlice, "behind the topic"); });
  CHECK(sessions_wait_for_a_lock(node.scratch, 2, std::chrono::seconds(20)));
  release.set_value();
  CHECK(await(in_flight));
  const auto topic_sent = await(topic);
  REQUIRE(topic_sent.outcome.is_accepted());
  const auto queued_sent = await(queued);
  REQUIRE(queued_sent.outcome.is_accepted());

  // The topic named both forks and merged them; the queued message was
  // built on the topic.
  CHECK(node.extremities(room) == std::vector<std::string>{queued_sent.event.event_id});
  CHECK(node.depth_of(queued_sent.event.event_id) == node.depth_of(topic_sent.event.event_id) + 1);
  auto expected = state_before;
  expected[{"m.room.topic", ""}] = topic_sent.event.event_id;
  CHECK(node.current(room) == expected);
  CHECK(node.before(sent.event.event_id) == state_before);
  CHECK(node.before(queued_sent.event.event_id) == expected);
}

TEST_CASE("many senders in one room: every message stored once, the forks merge",
          "[rooms][pipeline][concurrency]") {
  Node node;
  const auto room = node.create_public_room();
  const auto state_before = node.current(room);
  constexpr int kSenders = 4;  // the pool's size (options_for)
  constexpr int kEach = 20;
  std::vector<std::future<std::vector<std::string>>> senders;
  for (int s = 0; s < kSenders; ++s) {
    senders.push_back(on_thread([&node, &room, s] {
      std::vector<std::string> ids;
      for (int i = 0; i < kEach; ++i) {
        auto sent = node.say(room, kAlice, std::to_string(s) + "/" + std::to_string(i));
        if (sent.outcome.is_accepted()) ids.push_back(sent.event.event_id);
      }
      return ids;
    }));
  }
  std::set<std::string> ids;
  for (auto& sender : senders) {
    for (auto& id : await(sender)) ids.insert(id);
  }
  CHECK(ids.size() == static_cast<std::size_t>(kSenders * kEach));
  CHECK(node.count("SELECT count(*) FROM events WHERE room_id = $1 AND type = 'm.room.message'",
                   room) == kSenders * kEach);
  // Every message names parents in the room; none is left out of the DAG:
  // each one is an extremity or some event names it.
  CHECK(node.count("SELECT count(*) FROM events e WHERE e.room_id = $1 AND e.type = "
                   "'m.room.message' AND NOT EXISTS (SELECT 1 FROM event_edges x WHERE "
                   "x.event_id = e.event_id)",
                   room) == 0);
  CHECK(node.count("SELECT count(*) FROM events e WHERE e.room_id = $1 AND NOT EXISTS "
                   "(SELECT 1 FROM event_edges x WHERE x.prev_event_id = e.event_id) AND NOT "
                   "EXISTS (SELECT 1 FROM room_forward_extremities f WHERE f.event_id = "
                   "e.event_id)",
                   room) == 0);
  // The next event merges whatever forks are left; the state never moved.
  const auto last = node.say(room, kAlice, "after them all");
  REQUIRE(last.outcome.is_accepted());
  CHECK(node.extremities(room) == std::vector<std::string>{last.event.event_id});
  CHECK(node.current(room) == state_before);
  CHECK(node.after(last.event.event_id) == state_before);
  // The extremities were updated in place (D38): the room has a few slots,
  // however many messages it got. A sender adds one only when every slot is
  // held by another sender in flight or holds an extremity it does not name
  // (one that a sender in flight is emptying is not free yet): at most one
  // per sender for each of those two reasons.
  CHECK(node.count("SELECT count(*) FROM room_extremity_slots WHERE room_id = $1", room) <=
        2 * kSenders);
  CHECK(node.count("SELECT count(*) FROM room_extremity_slots WHERE room_id = $1 AND event_id IS "
                   "NOT NULL",
                   room) == 1);
}

TEST_CASE("a transaction ID sent twice at once stores one event",
          "[rooms][pipeline][concurrency]") {
  Node node;
  const auto room = node.create_public_room();
  for (int round = 0; round < 20; ++round) {
    rooms::NewEvent event{.type = "m.room.message",
                          .sender = kAlice,
                          .content = {{"msgtype", "m.text"}, {"body", "once"}},
                          .txn = rooms::Transaction{"DEV", "txn" + std::to_string(round),
                                                    rooms::send_endpoint(room, "m.room.message")}};
    std::promise<void> go;
    std::shared_future<void> start = go.get_future().share();
    auto first = on_thread([&] {
      start.wait();
      return node.rooms.send(room, event);
    });
    auto second = on_thread([&] {
      start.wait();
      return node.rooms.send(room, event);
    });
    go.set_value();
    const auto a = await(first);
    const auto b = await(second);
    REQUIRE(a.outcome.is_accepted());
    REQUIRE(b.outcome.is_accepted());
    CHECK(a.event.event_id == b.event.event_id);
  }
  CHECK(node.count("SELECT count(*) FROM events WHERE room_id = $1 AND type = 'm.room.message'",
                   room) == 20);
}

TEST_CASE("history visibility at an event follows the state before it, not the stream order",
          "[rooms][pipeline][visibility]") {
  Node node;
  const auto room = node.create_public_room();
  auto hide = node.rooms.send(room, {.type = "m.room.history_visibility",
                                     .sender = kAlice,
                                     .content = {{"history_visibility", "joined"}},
                                     .state_key = ""});
  REQUIRE(hide.outcome.is_accepted());
  const auto carol_join = node.remote_join(room);
  auto before_bob = node.say(room, kAlice, "before Bob");
  REQUIRE(before_bob.outcome.is_accepted());
  auto bob_join = node.rooms.change_membership(
      {.room_id = room, .sender = kBob, .target = kBob, .membership = "join"});
  REQUIRE(bob_join.outcome.is_accepted());
  auto with_bob = node.say(room, kAlice, "with Bob");
  REQUIRE(with_bob.outcome.is_accepted());
  const auto auth =
      std::vector<std::string>{node.event_id_of(room, "m.room.create", ""),
                               node.event_id_of(room, "m.room.power_levels", ""), carol_join};

  // 1. Carol's server sends a message it built right after her join, before
  // Bob joined; it arrives only now. The stream order puts it after Bob's
  // join (he was joined "then", by that order, and would see it); the state
  // before it, where it sits in the DAG, has no Bob in a "joined" room.
  auto early = node.rooms.receive(node.remote_pdu(
      room, "m.room.message", std::nullopt, {{"body", "before Bob, late"}}, {carol_join}, auth));
  REQUIRE(early.outcome.is_accepted());
  CHECK(early.event.stream_ordering > bob_join.event.stream_ordering);
  CHECK(node.depth_of(early.event.event_id) < node.depth_of(bob_join.event.event_id));
  CHECK_FALSE(node.before(early.event.event_id).contains({"m.room.member", kBob}));

  auto visible_to = [&](const std::string& user) {
    return node.db.read([&](storage::Transaction& tx) {
      rooms::Visibility visibility(tx, room, user);
      std::map<std::string, bool> out;
      for (const auto& id : {before_bob.event.event_id, bob_join.event.event_id,
                             with_bob.event.event_id, early.event.event_id}) {
        out[id] = visibility.can_see(*rooms::load_event(tx, id));
      }
      return out;
    });
  };
  auto seen = visible_to(kBob);
  CHECK_FALSE(seen.at(early.event.event_id));  // by the stream order: visible
  CHECK_FALSE(seen.at(before_bob.event.event_id));
  CHECK(seen.at(bob_join.event.event_id));
  CHECK(seen.at(with_bob.event.event_id));
  // Carol was joined there: she sees it.
  CHECK(visible_to(kCarol).at(early.event.event_id));

  // /messages for Bob, from the newest point back (one batch, one visibility
  // query for the states in it): what followed his join, then his join, and
  // never the late event.
  node.db.read([&](storage::Transaction& tx) {
    rooms::Visibility visibility(tx, room, kBob);
    rooms::ScanRequest newest{
        .room_id = room,
        .topological = true,
        .topo_from = rooms::topological_at_stream(tx, room, storage::current_stream(tx)),
        .backwards = true,
        .limit = 10};
    auto page = rooms::scan_room(
        tx, newest, [](const rooms::StoredEvent&) { return true; }, visibility);
    std::vector<std::string> ids;
    for (const auto& e : page.events) ids.push_back(e.event_id);
    // (Further back: the room's creation, from its "shared" era.)
    REQUIRE(ids.size() >= 2);
    CHECK(ids[0] == with_bob.event.event_id);
    CHECK(ids[1] == bob_join.event.event_id);
    for (const auto& hidden : {early.event.event_id, before_bob.event.event_id, carol_join}) {
      CHECK(std::find(ids.begin(), ids.end(), hidden) == ids.end());
    }
    return 0;
  });

  // 2. The other way round: Bob leaves, then another of Carol's messages,
  // built while Bob was still joined, arrives. The stream order puts it
  // after his leave (hidden from a former member); the state before it has
  // him joined: he sees it, and the room's state after it (/context).
  auto bob_leave = node.rooms.change_membership(
      {.room_id = room, .sender = kBob, .target = kBob, .membership = "leave"});
  REQUIRE(bob_leave.outcome.is_accepted());
  auto after_leave = node.say(room, kAlice, "after Bob left");
  REQUIRE(after_leave.outcome.is_accepted());
  auto while_joined = node.rooms.receive(node.remote_pdu(room, "m.room.message", std::nullopt,
                                                         {{"body", "with Bob, late"}},
                                                         {with_bob.event.event_id}, auth));
  REQUIRE(while_joined.outcome.is_accepted());
  CHECK(while_joined.event.stream_ordering > bob_leave.event.stream_ordering);
  CHECK(node.before(while_joined.event.event_id).at({"m.room.member", kBob}) ==
        bob_join.event.event_id);
  node.db.read([&](storage::Transaction& tx) {
    rooms::Visibility visibility(tx, room, kBob);
    const auto late = *rooms::load_event(tx, while_joined.event.event_id);
    CHECK(visibility.can_see(late));  // by the stream order: hidden
    CHECK(visibility.can_see_state_after(late));
    CHECK_FALSE(visibility.can_see(*rooms::load_event(tx, after_leave.event.event_id)));
    CHECK(visibility.can_see(*rooms::load_event(tx, bob_leave.event.event_id)));
    // Still not the first late one.
    CHECK_FALSE(visibility.can_see(*rooms::load_event(tx, early.event.event_id)));
    return 0;
  });
}

TEST_CASE("the state at a topological point follows the DAG, not the arrival order (/members?at=)",
          "[rooms][pipeline]") {
  Node node;
  const auto room = node.create_public_room();
  const auto join = node.remote_join(room);
  std::vector<std::string> local;
  for (int i = 0; i < 3; ++i) {
    auto sent = node.say(room, kAlice, "message " + std::to_string(i));
    REQUIRE(sent.outcome.is_accepted());
    local.push_back(sent.event.event_id);
  }
  // Carol renamed herself right after joining; her server sends it late.
  auto rename = node.remote_pdu(room, "m.room.member", kCarol,
                                {{"membership", "join"}, {"displayname", "Old Carol"}}, {join},
                                {node.event_id_of(room, "m.room.create", ""),
                                 node.event_id_of(room, "m.room.power_levels", ""), join});
  auto received = node.rooms.receive(rename);
  REQUIRE(received.outcome.is_accepted());
  const auto late = received.event.event_id;

  node.db.read([&](storage::Transaction& tx) {
    const rooms::TopologicalKey late_key{node.depth_of(late), received.event.stream_ordering};
    // The late event sits at the depth of the first local message, after it
    // by the stream tie-break; a point just before it is that message.
    auto at_late = rooms::last_event_at_or_before(tx, room, late_key);
    REQUIRE(at_late);
    CHECK(at_late->event_id == late);
    auto before_late =
        rooms::last_event_at_or_before(tx, room, {late_key.depth, late_key.stream - 1});
    REQUIRE(before_late);
    CHECK(before_late->event_id == local[0]);
    CHECK_FALSE(rooms::last_event_at_or_before(tx, room, {0, 0}));

    auto member_of_carol = [&](const std::vector<rooms::StoredEvent>& state) {
      for (const auto& e : state) {
        if (e.type() == "m.room.member" && e.state_key() == kCarol) return e.event_id;
      }
      return std::string();
    };
    // At the late event's point Carol's member event is the rename; just
    // before it, her join. By stream position alone (the old reading of a
    // t-token) the rename would count from where it arrived, after local[2].
    CHECK(member_of_carol(rooms::state_after_event(tx, at_late->event_id)) == late);
    CHECK(member_of_carol(rooms::state_after_event(tx, before_late->event_id)) == join);
    return 0;
  });
}

TEST_CASE(
    "relations are recorded for received events as for local ones, and forgotten on "
    "redaction",
    "[rooms][pipeline][relations]") {
  Node node;
  const auto room = node.create_public_room();
  const auto join = node.remote_join(room);
  auto root = node.say(room, kAlice, "root");
  REQUIRE(root.outcome.is_accepted());
  const nlohmann::json thread = {
      {"msgtype", "m.text"},
      {"body", "from afar"},
      {"m.relates_to", {{"rel_type", "m.thread"}, {"event_id", root.event.event_id}}}};
  auto reply = node.rooms.receive(
      node.remote_pdu(room, "m.room.message", std::nullopt, thread, node.extremities(room),
                      {node.event_id_of(room, "m.room.create", ""),
                       node.event_id_of(room, "m.room.power_levels", ""), join}));
  REQUIRE(reply.outcome.is_accepted());
  // A malformed relation (event_id not a string) is no relation.
  auto odd = node.rooms.send(
      room, {.type = "m.room.message",
             .sender = kAlice,
             .content = {{"body", "odd"},
                         {"m.relates_to", {{"rel_type", "m.thread"}, {"event_id", 42}}}}});
  REQUIRE(odd.outcome.is_accepted());

  CHECK(node.count("SELECT count(*) FROM event_relations WHERE room_id = $1", room) == 1);
  CHECK(node.count("SELECT count(*) FROM event_relations WHERE room_id = $1 AND sender = "
                   "'@carol:remote.test' AND rel_type = 'm.thread'",
                   room) == 1);
  CHECK(node.count("SELECT latest_stream FROM room_threads WHERE room_id = $1", room) ==
        reply.event.stream_ordering);

  auto redaction = node.rooms.send(room, {.type = "m.room.redaction",
                                          .sender = kAlice,
                                          .content = nlohmann::json::object(),
                                          .redacts = reply.event.event_id});
  REQUIRE(redaction.outcome.is_accepted());
  CHECK(node.count("SELECT count(*) FROM event_relations WHERE room_id = $1", room) == 0);
}

TEST_CASE("migration 0017 backfills the relations and threads of events stored before it",
          "[rooms][pipeline][migration][relations]") {
  Node node(17);
  const std::string room = "!rel:here.test";
  node.db.write([&](storage::Transaction& tx) {
    tx.exec(
        "INSERT INTO rooms (room_id, room_version, creator, created_ts) VALUES ($1, '10', $2, 0)",
        room, kAlice);
    auto insert = [&](const std::string& id, const std::string& pdu_text) {
      tx.exec(
          "INSERT INTO events (stream_ordering, event_id, room_id, type, sender, depth, "
          "origin_server_ts, pdu) VALUES ($1, $2, $3, 'm.room.message', $4, $1, 7, $5)",
          storage::advance_stream(tx), id, room, kAlice, pdu_text);
    };
    auto message = [&](const nlohmann::json& content) {
      return nlohmann::json{{"type", "m.room.message"}, {"content", content}}.dump();
    };
    insert("$root", message({{"body", "root"}}));
    insert("$r1", message({{"m.relates_to", {{"rel_type", "m.thread"}, {"event_id", "$root"}}}}));
    insert("$r2", message({{"m.relates_to", {{"rel_type", "m.thread"}, {"event_id", "$root"}}}}));
    insert("$edit", message({{"m.relates_to", {{"rel_type", "m.replace"}, {"event_id", "$r1"}}}}));
    // Not cast by jsonb (an escaped NUL): skipped, not a failed migration.
    insert("$nul", R"({"content":{"body":"\u0000","m.relates_to":{"rel_type":"m.thread",)"
                   R"("event_id":"$root"}}})");
    insert("$bad", message({{"m.relates_to", {{"rel_type", "m.thread"}, {"event_id", 1}}}}));
    insert("$like",
           message({{"m.relates_to",
                     {{"rel_type", "m.annotation"}, {"event_id", "$root"}, {"key", "+1"}}}}));
    return 0;
  });
  storage::apply_migrations(node.db);
  CHECK(node.count("SELECT count(*) FROM event_relations WHERE room_id = $1", room) == 4);
  CHECK(node.count("SELECT count(*) FROM event_relations WHERE room_id = $1 AND event_id = "
                   "'$like' AND aggregation_key = '+1'",
                   room) == 1);
  CHECK(node.count("SELECT count(*) FROM event_relations WHERE room_id = $1 AND rel_type = "
                   "'m.thread' AND relates_to_id = '$root'",
                   room) == 2);
  CHECK(
      node.count("SELECT count(*) FROM room_threads WHERE room_id = $1 AND thread_id = '$root' "
                 "AND latest_stream = (SELECT stream_ordering FROM events WHERE event_id = '$r2')",
                 room) == 1);
}

TEST_CASE("a retired key signs only events sent before it expired", "[rooms][pipeline][keys]") {
  Node node;
  const auto room = node.create_public_room();
  const auto join = node.remote_join(room);
  const auto now = rooms::now_ms();
  const auto current = node.remote_key;
  // Two keys remote.test rotated out (old_verify_keys): one expires in a
  // minute, one expired a second ago.
  const auto expiring = matrix::SigningKey::generate("expiring");
  const auto expired = matrix::SigningKey::generate("expired");
  node.rooms.key_ring().add("remote.test", expiring.key_id(), expiring.public_key_base64(),
                            now + 60'000);
  node.rooms.key_ring().add("remote.test", expired.key_id(), expired.public_key_base64(),
                            now - 1'000);
  auto signed_by = [&](const matrix::SigningKey& key, const std::string& body) {
    node.remote_key = key;
    auto pdu = node.remote_pdu(room, "m.room.message", std::nullopt, {{"body", body}},
                               node.extremities(room),
                               {node.event_id_of(room, "m.room.create", ""),
                                node.event_id_of(room, "m.room.power_levels", ""), join});
    node.remote_key = current;
    return node.rooms.receive(pdu);
  };
  CHECK(signed_by(expiring, "still valid").outcome.is_accepted());
  auto forged = signed_by(expired, "sent after the key expired");
  CHECK(forged.outcome.rejection == rooms::Rejection::bad_signature);
}
