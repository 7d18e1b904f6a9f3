#include "sync/providers.h"

#include "notify/notifier.h"
#include "rooms/event_store.h"
#include "rooms/room_scan.h"
#include "rooms/visibility.h"
#include "storage/database.h"
#include "sync/sections.h"

#include <algorithm>
#include <set>

namespace eltrix::sync {

namespace {

using rooms::StoredEvent;

constexpr std::size_t kDefaultTimelineLimit = 10;
constexpr std::size_t kMaxTimelineLimit = 500;
constexpr std::size_t kMaxHeroes = 5;

/// The state types shown to invitees (spec: "Stripped state").
const std::set<std::string> kInviteStateTypes = {
    "m.room.create",          "m.room.join_rules", "m.room.name", "m.room.avatar",
    "m.room.canonical_alias", "m.room.encryption", "m.room.topic"};

struct Timeline {
  std::vector<StoredEvent> events;  ///< oldest first
  bool limited = false;
  std::int64_t prev_batch = 0;
};

/// Whether a membership in the window changes what the client is shown:
/// joined, invited, or gone (left, kicked, banned). Knocks are not sent yet.
bool sent_membership(const std::string& membership) {
  return membership == "join" || membership == "invite" || membership == "leave" ||
         membership == "ban";
}

/// Joined rooms with an event in (from, to]; with `any`, stops at the first.
std::set<std::string> rooms_with_events(storage::Transaction& tx,
                                        const std::vector<std::string>& joined, std::int64_t from,
                                        std::int64_t to, bool any) {
  std::set<std::string> out;
  if (joined.empty() || from >= to) return out;
  static const std::string sql =
      "SELECT DISTINCT room_id FROM events WHERE stream_ordering > $1 AND "
      "stream_ordering <= $2 AND room_id = ANY($3::text[])";
  static const std::string sql_any = sql + " LIMIT 1";
  for (const auto& row : tx.exec(any ? sql_any : sql, from, to, rooms::pg_text_array(joined))) {
    out.insert(row[0].as<std::string>());
  }
  return out;
}

/// Writes the rooms of one request.
class RoomsWriter {
 public:
  explicit RoomsWriter(SyncState& sync)
      : sync_(sync),
        from_(sync.stream_from()),
        to_(sync.stream_to()),
        limit_(
            sync.request.filter.room.timeline.limit_or(kDefaultTimelineLimit, kMaxTimelineLimit)) {}

  bool write(SyncResponse& response) {
    const bool initial = sync_.initial();
    const auto active = rooms_with_events(sync_.tx, sync_.joined_rooms(), from_, to_, false);
    nlohmann::json& rooms_json = response.body["rooms"];
    bool wrote = false;
    for (const auto& m : sync_.memberships()) {
      const bool changed = m.stream > from_;
      if (m.membership == "join") {
        const bool full = initial || changed || sync_.request.full_state;
        // Rooms with nothing new here may still be sent for their ephemeral
        // events or account data; finish() completes those.
        if (!full && active.count(m.room_id) == 0) continue;
        rooms_json["join"][m.room_id] = joined_room(m, full);
      } else if (m.membership == "invite") {
        if (!initial && !changed) continue;
        rooms_json["invite"][m.room_id] = {{"invite_state", {{"events", invite_state(m)}}}};
      } else if (m.membership == "leave" || m.membership == "ban") {
        // A room left before the window is old news; an initial sync shows
        // left rooms only when the filter asks (include_leave).
        if (initial ? !sync_.request.filter.room.include_leave : !changed) continue;
        rooms_json["leave"][m.room_id] = left_room(m);
      } else {
        continue;
      }
      wrote = true;
    }
    return wrote;
  }

  void finish(SyncResponse& response) {
    auto rooms_it = response.body.find("rooms");
    if (rooms_it == response.body.end()) return;
    auto join_it = rooms_it->find("join");
    if (join_it == rooms_it->end() || join_it->empty()) return;
    std::vector<std::string> included;
    included.reserve(join_it->size());
    for (auto& [room_id, room] : join_it->items()) {
      included.push_back(room_id);
      // Sent for other sections only: an empty timeline at the window's end.
      if (!room.contains("timeline")) {
        room["timeline"] = {{"events", nlohmann::json::array()},
                            {"limited", false},
                            {"prev_batch", format_stream_token(to_)}};
        room["state"] = {{"events", nlohmann::json::array()}};
      }
    }
    // One query counts the unread events of every room in the response.
    auto unread = sync::unread_notifications(sync_.tx, sync_.user_id(), included, to_);
    for (auto& [room_id, counts] : unread)
      (*join_it)[room_id]["unread_notifications"] = std::move(counts);
  }

 private:
  /// The newest `limit_` events of the room in (after, upto] matching the
  /// timeline filter, oldest first, back to the first event the user may not
  /// see (history visibility: what lies before it is for /messages). Reads at most
  /// rooms.max_events_scanned rows: when that runs out first the timeline is
  /// limited and prev_batch is the point reached, so the client pages on
  /// with /messages.
  Timeline timeline(const std::string& room_id, std::int64_t after, std::int64_t upto,
                    rooms::Visibility& visibility) {
    const auto& filter = sync_.request.filter.room.timeline;
    rooms::ScanRequest request{.room_id = room_id,
                               .from = upto,
                               .bound = after,
                               .backwards = true,
                               .limit = limit_,
                               .max_rows = sync_.deps.max_events_scanned,
                               .probe_one_more = true,
                               .stop_at_hidden = true};
    auto scan = rooms::scan_room(
        sync_.tx, request, [&](const StoredEvent& event) { return filter.matches(event.pdu); },
        visibility);
    Timeline out;
    out.events = std::move(scan.events);
    std::reverse(out.events.begin(), out.events.end());
    out.limited = scan.more || scan.budget_spent || scan.hidden;
    if (scan.budget_spent || scan.hidden) {
      out.prev_batch = scan.cursor;
    } else {
      out.prev_batch = out.events.empty() ? upto : out.events.front().stream - 1;
    }
    return out;
  }

  /// Whether the state section may be shown (rooms/visibility.h). The state
  /// goes with the timeline's start; when the user may see the first events
  /// but not the room's state there (their own invite or knock before they
  /// joined a "joined" room), those events are left to pagination so the
  /// state shown is the one at their join. When no event qualifies (a room
  /// the user never joined) the timeline stays and no state is shown.
  /// `empty_at` is the point checked when the timeline is empty.
  bool show_state(Timeline& line, std::int64_t empty_at, rooms::Visibility& visibility) {
    if (line.events.empty()) return visibility.can_see_state_at(empty_at);
    for (std::size_t i = 0; i < line.events.size(); ++i) {
      if (!visibility.can_see_state_at(line.events[i].stream - 1)) continue;
      if (i != 0) {
        line.events.erase(line.events.begin(), line.events.begin() + static_cast<long>(i));
        line.limited = true;
        line.prev_batch = line.events.front().stream - 1;
      }
      return true;
    }
    return false;
  }

  nlohmann::json format(const std::vector<StoredEvent>& events) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& event : events) {
      list.push_back(sync_.request.filter.apply_event_fields(rooms::sync_event(
          event, sync_.request.who.user_id, sync_.request.who.device_id, sync_.now_ms)));
    }
    return list;
  }

  /// The state section: `full` gives the whole state at the timeline's start,
  /// otherwise only what changed between `from_` and the timeline's start.
  /// `upto` is where the room ends for this user (now, or their leave);
  /// `members_at` is the state lazy-loaded members come from (none: none).
  std::vector<StoredEvent> state_before(const std::string& room_id, const Timeline& timeline,
                                        bool full, std::int64_t upto,
                                        std::optional<std::int64_t> members_at) {
    const std::int64_t before = timeline.events.empty() ? upto : timeline.events.front().stream - 1;
    std::vector<StoredEvent> state;
    if (full) {
      state = rooms::state_at(sync_.tx, room_id, before);
    } else if (timeline.limited) {
      static const std::string sql = rooms::select_events(
          "JOIN (SELECT DISTINCT ON (type, state_key) event_id FROM events "
          "      WHERE room_id = $1 AND state_key IS NOT NULL AND stream_ordering > $2 "
          "        AND stream_ordering <= $3 "
          "      ORDER BY type, state_key, stream_ordering DESC) s ON s.event_id = e.event_id "
          "ORDER BY e.stream_ordering");
      state = rooms::read_events(sync_.tx.exec(sql, room_id, from_, before));
    }
    const auto& filter = sync_.request.filter.room.state;
    std::set<std::string> senders;
    if (filter.lazy_load_members) {
      senders.insert(sync_.request.who.user_id);
      for (const auto& event : timeline.events) senders.insert(event.sender());
    }
    std::vector<StoredEvent> out;
    for (auto& event : state) {
      if (!filter.matches(event.pdu)) continue;
      if (filter.lazy_load_members && event.type() == "m.room.member" &&
          senders.count(event.state_key()) == 0) {
        continue;
      }
      out.push_back(std::move(event));
    }
    if (filter.lazy_load_members && !full && members_at) {
      // Members of senders the client may not know yet (their member event
      // is neither in this state nor in the timeline), in one query.
      std::set<std::string> known;
      for (const auto& event : out) {
        if (event.type() == "m.room.member") known.insert(event.state_key());
      }
      for (const auto& event : timeline.events) {
        if (event.type() == "m.room.member") known.insert(event.state_key());
      }
      std::vector<std::string> missing;
      for (const auto& sender : senders) {
        if (known.count(sender) == 0) missing.push_back(sender);
      }
      for (auto& member : rooms::member_events_at(sync_.tx, room_id, missing, *members_at)) {
        out.push_back(std::move(member));
      }
    }
    return out;
  }

  nlohmann::json summary(const std::string& room_id) {
    auto counts = sync_.tx.exec1(
        "SELECT count(*) FILTER (WHERE membership = 'join'), "
        "count(*) FILTER (WHERE membership = 'invite') FROM room_memberships WHERE room_id = $1",
        room_id);
    nlohmann::json heroes = nlohmann::json::array();
    for (const auto& row :
         sync_.tx.exec("SELECT user_id FROM room_memberships WHERE room_id = $1 AND user_id <> $2 "
                       "AND membership IN ('join', 'invite') ORDER BY user_id LIMIT $3",
                       room_id, sync_.request.who.user_id, static_cast<std::int64_t>(kMaxHeroes))) {
      heroes.push_back(row[0].as<std::string>());
    }
    return {{"m.joined_member_count", counts[0].as<std::int64_t>()},
            {"m.invited_member_count", counts[1].as<std::int64_t>()},
            {"m.heroes", heroes}};
  }

  nlohmann::json joined_room(const RoomMembership& m, bool full) {
    rooms::Visibility visibility(sync_.tx, m.room_id, sync_.request.who.user_id, m.membership,
                                 m.stream, m.depth);
    // A room joined inside the window starts at the join: the client knows
    // nothing of it, so it gets the full state (spec: "Syncing"), and the
    // timeline only what the user may see (a "joined" room hides what came
    // before their join).
    Timeline line = timeline(m.room_id, full && sync_.request.since && m.stream > from_ ? 0 : from_,
                             to_, visibility);
    std::vector<StoredEvent> state;
    if (show_state(line, to_, visibility)) state = state_before(m.room_id, line, full, to_, to_);
    return {{"timeline",
             {{"events", format(line.events)},
              {"limited", line.limited},
              {"prev_batch", format_stream_token(line.prev_batch)}}},
            {"state", {{"events", format(state)}}},
            {"summary", summary(m.room_id)}};
  }

  nlohmann::json invite_state(const RoomMembership& m) {
    const std::string& me = sync_.request.who.user_id;
    const auto state = rooms::state_at(sync_.tx, m.room_id, m.stream);
    // The inviter's own membership goes along (spec: "Stripped state" lets
    // the server add events; Synapse sends it): without it a client has no
    // name or avatar for who invited, and Element shows a DM invite as
    // "Empty room".
    std::string inviter;
    for (const auto& event : state) {
      if (event.type() == "m.room.member" && event.state_key() == me &&
          event.membership() == "invite") {
        inviter = event.sender();
      }
    }
    nlohmann::json events = nlohmann::json::array();
    for (const auto& event : state) {
      const bool member = event.type() == "m.room.member";
      if (kInviteStateTypes.count(event.type()) != 0 ||
          (member &&
           (event.state_key() == me || (!inviter.empty() && event.state_key() == inviter)))) {
        events.push_back(rooms::stripped_event(event));
      }
    }
    return events;
  }

  nlohmann::json left_room(const RoomMembership& m) {
    // Up to and including the leave, nothing after it, and of that only what
    // the user may see: a former member sees the room until they left; a
    // user who never joined (knocked and withdrew, rejected an invite, was
    // banned) sees their own membership events and no state.
    rooms::Visibility visibility(sync_.tx, m.room_id, sync_.request.who.user_id, m.membership,
                                 m.stream, m.depth);
    Timeline line = timeline(m.room_id, sync_.request.since ? from_ : 0, m.stream, visibility);
    std::vector<StoredEvent> state;
    if (show_state(line, m.stream - 1, visibility)) {
      std::optional<std::int64_t> members_at;
      if (visibility.can_see_state_at(m.stream - 1)) members_at = m.stream;
      state = state_before(m.room_id, line, !sync_.request.since || sync_.request.full_state,
                           m.stream, members_at);
    }
    return {{"timeline",
             {{"events", format(line.events)},
              {"limited", line.limited},
              {"prev_batch", format_stream_token(line.prev_batch)}}},
            {"state", {{"events", format(state)}}},
            {"account_data", {{"events", nlohmann::json::array()}}}};
  }

  SyncState& sync_;
  std::int64_t from_;
  std::int64_t to_;
  std::size_t limit_;
};

class RoomsProvider final : public SharedStreamProvider {
 public:
  [[nodiscard]] std::string_view name() const override { return "rooms"; }

  void init(SyncState& /*sync*/, SyncResponse& response) const override {
    response.body["rooms"] = nlohmann::json::object();
  }

  bool has_updates(SyncState& sync) const override {
    const std::int64_t from = sync.stream_from();
    for (const auto& m : sync.memberships()) {
      if (m.stream > from && sent_membership(m.membership)) return true;
    }
    return !rooms_with_events(sync.tx, sync.joined_rooms(), from, sync.stream_to(), true).empty();
  }

  bool write(SyncState& sync, SyncResponse& response) const override {
    return RoomsWriter(sync).write(response);
  }

  void finish(SyncState& sync, SyncResponse& response) const override {
    RoomsWriter(sync).finish(response);
  }

  void wake_keys(SyncState& sync, std::vector<std::string>& keys) const override {
    for (const auto& m : sync.memberships()) {
      if (m.membership == "join" || m.membership == "invite") {
        keys.push_back(notify::room_key(m.room_id));
      }
    }
  }
};

}  // namespace

std::unique_ptr<StreamProvider> rooms_provider() {
  return std::make_unique<RoomsProvider>();
}

}  // namespace eltrix::sync
