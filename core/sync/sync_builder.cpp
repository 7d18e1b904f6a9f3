#include "sync/sync_builder.h"

#include "client/typing.h"
#include "notify/notifier.h"
#include "rooms/event_store.h"
#include "rooms/room_scan.h"
#include "rooms/visibility.h"
#include "storage/stream.h"
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

struct RoomMembership {
  std::string room_id;
  std::string membership;
  std::int64_t stream = 0;
  std::string event_id;
};

struct Timeline {
  std::vector<StoredEvent> events;  ///< oldest first
  bool limited = false;
  std::int64_t prev_batch = 0;
};

class Builder {
 public:
  Builder(client::Context& ctx, const SyncRequest& request, storage::Transaction& tx)
      : ctx_(ctx), request_(request), tx_(tx), now_(rooms::now_ms()) {}

  SyncResult build() {
    const auto& who = request_.who;
    to_ = storage::current_stream(tx_);
    // A token from a newer snapshot than this one (a replica behind what the
    // client has already been shown): answering from here would move the
    // client backwards and repeat events on its next sync.
    if (request_.since && request_.since->stream > to_) tx_.need_primary();
    from_ = request_.since ? std::min(request_.since->stream, to_) : 0;
    typing_serial_ = ctx_.typing.serial();
    // Typing serials are hybrid clocks comparable across nodes and restarts
    // (client/typing_impl.h), so a token from another node is taken as it is:
    // what changed here after it was issued shows, nothing earlier repeats.
    const std::uint64_t since_typing = request_.since ? request_.since->typing : 0;
    limit_ = request_.filter.room.timeline.limit_or(kDefaultTimelineLimit, kMaxTimelineLimit);

    SyncResult result;
    // Never behind the token we were given (another node's clock may lead).
    result.next = {to_, std::max(typing_serial_, since_typing)};
    result.wake_keys.push_back(notify::user_key(who.user_id));

    std::vector<RoomMembership> memberships;
    for (const auto& row :
         tx_.exec("SELECT room_id, membership, stream_ordering, event_id FROM room_memberships "
                  "WHERE user_id = $1 AND NOT forgotten AND stream_ordering <= $2",
                  who.user_id, to_)) {
      RoomMembership m{row[0].as<std::string>(), row[1].as<std::string>(),
                       row[2].as<std::int64_t>(), row[3].as<std::string>()};
      if (!request_.filter.room.matches_room(m.room_id)) continue;
      memberships.push_back(std::move(m));
    }

    std::vector<std::string> joined;
    for (const auto& m : memberships) {
      if (m.membership == "join") joined.push_back(m.room_id);
      if (m.membership == "join" || m.membership == "invite") {
        result.wake_keys.push_back(notify::room_key(m.room_id));
      }
    }
    const auto active = rooms_with_events(joined);

    auto room_account_data =
        sync::room_account_data(tx_, who.user_id, joined, from_, to_, request_.filter);
    auto receipts = sync::room_receipts(tx_, who.user_id, joined, from_, to_);

    nlohmann::json join = nlohmann::json::object();
    nlohmann::json invite = nlohmann::json::object();
    nlohmann::json leave = nlohmann::json::object();
    const bool initial = !request_.since;
    for (const auto& m : memberships) {
      const bool changed = m.stream > from_;
      if (m.membership == "join") {
        const bool full = initial || changed || request_.full_state;
        nlohmann::json room = nlohmann::json::object();
        bool has_content = full || active.count(m.room_id) != 0;
        if (has_content) room = joined_room(m, full);
        nlohmann::json ephemeral = nlohmann::json::array();
        if (auto typing = sync::room_typing(ctx_.typing, m.room_id, since_typing)) {
          // An initial sync only needs typing when someone is typing.
          if (!initial || !(*typing)["content"]["user_ids"].empty()) ephemeral.push_back(*typing);
        }
        if (auto it = receipts.find(m.room_id); it != receipts.end())
          ephemeral.push_back(it->second);
        if (!ephemeral.empty()) {
          room["ephemeral"] = {{"events", ephemeral}};
          has_content = true;
        }
        if (auto it = room_account_data.find(m.room_id);
            it != room_account_data.end() && !it->second["events"].empty()) {
          room["account_data"] = it->second;
          has_content = true;
        }
        if (!has_content) continue;
        if (!room.contains("timeline")) {
          room["timeline"] = {{"events", nlohmann::json::array()},
                              {"limited", false},
                              {"prev_batch", format_stream_token(to_)}};
          room["state"] = {{"events", nlohmann::json::array()}};
        }
        join[m.room_id] = std::move(room);
      } else if (m.membership == "invite") {
        if (!initial && !changed) continue;
        invite[m.room_id] = {{"invite_state", {{"events", invite_state(m)}}}};
      } else if (m.membership == "leave" || m.membership == "ban") {
        // A room left before the window is old news; an initial sync shows
        // left rooms only when the filter asks (include_leave).
        if (initial ? !request_.filter.room.include_leave : !changed) continue;
        leave[m.room_id] = left_room(m);
      }
    }

    // One query counts the unread events of every room in the response.
    if (!join.empty()) {
      std::vector<std::string> included;
      included.reserve(join.size());
      for (const auto& [room_id, room] : join.items()) included.push_back(room_id);
      auto unread = sync::unread_notifications(tx_, who.user_id, included, to_);
      for (auto& [room_id, counts] : unread)
        join[room_id]["unread_notifications"] = std::move(counts);
    }

    nlohmann::json body = nlohmann::json::object();
    body["next_batch"] = format_sync_token(result.next);
    nlohmann::json rooms_json = nlohmann::json::object();
    if (!join.empty()) rooms_json["join"] = join;
    if (!invite.empty()) rooms_json["invite"] = invite;
    if (!leave.empty()) rooms_json["leave"] = leave;
    body["rooms"] = rooms_json;
    auto account_data = sync::global_account_data(tx_, who.user_id, from_, to_, request_.filter);
    auto presence = sync::presence(tx_, who.user_id, joined, from_, to_, request_.filter);
    const bool quiet = join.empty() && invite.empty() && leave.empty() &&
                       account_data["events"].empty() && presence["events"].empty();
    body["account_data"] = std::move(account_data);
    body["presence"] = std::move(presence);
    result.empty = quiet;
    result.body = std::move(body);
    return result;
  }

 private:
  /// Joined rooms with an event in (from, to].
  std::set<std::string> rooms_with_events(const std::vector<std::string>& joined) {
    std::set<std::string> out;
    if (joined.empty() || from_ >= to_) return out;
    for (const auto& row :
         tx_.exec("SELECT DISTINCT room_id FROM events WHERE stream_ordering > $1 AND "
                  "stream_ordering <= $2 AND room_id = ANY($3::text[])",
                  from_, to_, rooms::pg_text_array(joined))) {
      out.insert(row[0].as<std::string>());
    }
    return out;
  }

  /// The newest `limit_` events of the room in (after, upto] matching the
  /// timeline filter, oldest first, back to the first event the user may not
  /// see (history visibility: what lies before it is for /messages). Reads at most
  /// rooms.max_events_scanned rows: when that runs out first the timeline is
  /// limited and prev_batch is the point reached, so the client pages on
  /// with /messages.
  Timeline timeline(const std::string& room_id, std::int64_t after, std::int64_t upto,
                    rooms::Visibility& visibility) {
    const auto& filter = request_.filter.room.timeline;
    rooms::ScanRequest request{.room_id = room_id,
                               .from = upto,
                               .bound = after,
                               .backwards = true,
                               .limit = limit_,
                               .max_rows = ctx_.max_events_scanned,
                               .probe_one_more = true,
                               .stop_at_hidden = true};
    auto scan = rooms::scan_room(
        tx_, request, [&](const StoredEvent& event) { return filter.matches(event.pdu); },
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
      list.push_back(request_.filter.apply_event_fields(
          rooms::sync_event(event, request_.who.user_id, request_.who.device_id, now_)));
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
      state = rooms::state_at(tx_, room_id, before);
    } else if (timeline.limited) {
      static const std::string sql = rooms::select_events(
          "JOIN (SELECT DISTINCT ON (type, state_key) event_id FROM events "
          "      WHERE room_id = $1 AND state_key IS NOT NULL AND stream_ordering > $2 "
          "        AND stream_ordering <= $3 "
          "      ORDER BY type, state_key, stream_ordering DESC) s ON s.event_id = e.event_id "
          "ORDER BY e.stream_ordering");
      state = rooms::read_events(tx_.exec(sql, room_id, from_, before));
    }
    const auto& filter = request_.filter.room.state;
    std::set<std::string> senders;
    if (filter.lazy_load_members) {
      senders.insert(request_.who.user_id);
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
      for (auto& member : rooms::member_events_at(tx_, room_id, missing, *members_at)) {
        out.push_back(std::move(member));
      }
    }
    return out;
  }

  nlohmann::json summary(const std::string& room_id) {
    auto counts = tx_.exec1(
        "SELECT count(*) FILTER (WHERE membership = 'join'), "
        "count(*) FILTER (WHERE membership = 'invite') FROM room_memberships WHERE room_id = $1",
        room_id);
    nlohmann::json heroes = nlohmann::json::array();
    for (const auto& row :
         tx_.exec("SELECT user_id FROM room_memberships WHERE room_id = $1 AND user_id <> $2 "
                  "AND membership IN ('join', 'invite') ORDER BY user_id LIMIT $3",
                  room_id, request_.who.user_id, static_cast<std::int64_t>(kMaxHeroes))) {
      heroes.push_back(row[0].as<std::string>());
    }
    return {{"m.joined_member_count", counts[0].as<std::int64_t>()},
            {"m.invited_member_count", counts[1].as<std::int64_t>()},
            {"m.heroes", heroes}};
  }

  nlohmann::json joined_room(const RoomMembership& m, bool full) {
    rooms::Visibility visibility(tx_, m.room_id, request_.who.user_id, m.membership, m.stream);
    // A room joined inside the window starts at the join: the client knows
    // nothing of it, so it gets the full state (spec: "Syncing"), and the
    // timeline only what the user may see (a "joined" room hides what came
    // before their join).
    Timeline line = timeline(m.room_id, full && request_.since && m.stream > from_ ? 0 : from_, to_,
                             visibility);
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
    nlohmann::json events = nlohmann::json::array();
    for (const auto& event : rooms::state_at(tx_, m.room_id, m.stream)) {
      if (kInviteStateTypes.count(event.type()) != 0 ||
          (event.type() == "m.room.member" && event.state_key() == request_.who.user_id)) {
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
    rooms::Visibility visibility(tx_, m.room_id, request_.who.user_id, m.membership, m.stream);
    Timeline line = timeline(m.room_id, request_.since ? from_ : 0, m.stream, visibility);
    std::vector<StoredEvent> state;
    if (show_state(line, m.stream - 1, visibility)) {
      std::optional<std::int64_t> members_at;
      if (visibility.can_see_state_at(m.stream - 1)) members_at = m.stream;
      state = state_before(m.room_id, line, !request_.since || request_.full_state, m.stream,
                           members_at);
    }
    return {{"timeline",
             {{"events", format(line.events)},
              {"limited", line.limited},
              {"prev_batch", format_stream_token(line.prev_batch)}}},
            {"state", {{"events", format(state)}}},
            {"account_data", {{"events", nlohmann::json::array()}}}};
  }

  client::Context& ctx_;
  const SyncRequest& request_;
  storage::Transaction& tx_;
  std::int64_t now_;
  std::int64_t from_ = 0;
  std::int64_t to_ = 0;
  std::uint64_t typing_serial_ = 0;
  std::size_t limit_ = kDefaultTimelineLimit;
};

}  // namespace

SyncResult build_sync(client::Context& ctx, const SyncRequest& request) {
  return ctx.db.read([&](storage::Transaction& tx) { return Builder(ctx, request, tx).build(); });
}

}  // namespace eltrix::sync
