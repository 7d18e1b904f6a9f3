#include "services/push_evaluation.h"

#include "crypto/tokens.h"
#include "log/log.h"
#include "matrix/power_levels.h"
#include "matrix/push_evaluator.h"
#include "matrix/push_rules.h"
#include "metrics/registry.h"
#include "rooms/event_store.h"
#include "storage/push_notifications.h"
#include "storage/stream.h"
#include "storage/user_data.h"

#include <algorithm>
#include <map>
#include <optional>
#include <vector>

namespace eltrix::services {

namespace {

using json = nlohmann::json;

const log::Logger& logger() {
  static const log::Logger instance("push");
  return instance;
}

/// What every evaluation in one room needs, loaded once per batch. It is the
/// room's current state when the batch runs, not the state at each event:
/// the evaluator runs within moments of the send, and Synapse, too, counts
/// the members of the room as it is when it evaluates.
struct RoomFacts {
  std::vector<std::string> local_members;  ///< joined, on this server
  std::map<std::string, std::string> display_names;
  std::int64_t member_count = 0;
  matrix::PowerLevels power;
  json notification_levels = nullptr;
};

RoomFacts load_room_facts(storage::Transaction& tx, const std::string& room_id,
                          const std::string& local_suffix) {
  RoomFacts facts;
  for (const auto& row :
       tx.exec("SELECT m.user_id, e.pdu FROM room_memberships m JOIN events e "
               "ON e.event_id = m.event_id WHERE m.room_id = $1 AND m.membership = 'join'",
               room_id)) {
    ++facts.member_count;
    auto user = row[0].as<std::string>();
    if (!user.ends_with(local_suffix)) continue;
    const json pdu = json::parse(row[1].as<std::string>(), nullptr, false);
    if (pdu.is_object()) {
      const json content = pdu.value("content", json::object());
      if (auto name = content.find("displayname"); name != content.end() && name->is_string()) {
        facts.display_names[user] = name->get<std::string>();
      }
    }
    facts.local_members.push_back(std::move(user));
  }
  const auto create = rooms::current_state_event(tx, room_id, "m.room.create", "");
  const std::string creator = create ? create->sender() : "";
  const auto levels = rooms::current_state_event(tx, room_id, "m.room.power_levels", "");
  const json* content = levels ? &levels->pdu["content"] : nullptr;
  if (auto parsed = matrix::PowerLevels::parse(content, creator)) facts.power = *parsed;
  if (content != nullptr && content->contains("notifications")) {
    facts.notification_levels = (*content)["notifications"];
  }
  return facts;
}

/// Names this process in the lease: random, so a restarted node is a new
/// holder and waits for its predecessor's lease like any other.
std::string random_token() {
  return crypto::to_hex(crypto::random_bytes(12));
}

json ruleset_of(storage::Transaction& tx, const std::string& user_id) {
  auto stored = storage::get_account_data(tx, user_id, "", "m.push_rules");
  json parsed = stored ? json::parse(*stored, nullptr, false) : json(nullptr);
  if (parsed.is_discarded()) parsed = nullptr;  // the defaults then, as GET /pushrules does
  return matrix::merge_push_rules(parsed, user_id);
}

}  // namespace

PushEvaluation::PushEvaluation(storage::Database& db, std::string server_name,
                               metrics::Registry& metrics, PushEvaluationOptions options)
    : db_(db),
      server_name_(std::move(server_name)),
      node_token_(random_token()),
      notifications_(metrics.counter("eltrix_push_notifications_total",
                                     "Notifications recorded for local users (push rules)")),
      options_(options),
      // A full batch means more is waiting: go on at once. A failed one
      // (the database away) did not move the position, so the next round
      // reads the same events again.
      task_("push evaluation", options.interval,
            [this] { return run_batch() >= options_.batch_events; }) {}

std::size_t PushEvaluation::run_batch() {
  const std::string local_suffix = ":" + server_name_;
  struct Plan {
    storage::PushProgress from;
    std::int64_t position = 0;
    std::size_t read = 0;  ///< events read; batch_events when cut short
    std::vector<storage::NewNotification> notifications;
  };
  // Phase 1, read-only on the primary: a read-only transaction takes no
  // transaction ID, so however long the evaluations take, it holds back no
  // one's stream bound (storage/stream.h), as a write transaction would.
  auto plan = db_.read_latest([&](storage::Transaction& tx) -> std::optional<Plan> {
    Plan plan;
    plan.from = storage::get_push_progress(tx);
    const std::int64_t now = rooms::now_ms();
    // Another node's lease: it runs the batches.
    if (plan.from.owner != node_token_ && plan.from.lease_until_ms > now) return std::nullopt;
    // Never past the bound: a position at or below it cannot appear later,
    // so saving it skips nothing.
    const std::int64_t bound = storage::current_stream(tx);
    if (bound <= plan.from.position) return std::nullopt;
    auto events = rooms::read_events(
        tx.exec(rooms::select_events("WHERE e.stream_ordering > $1 AND e.stream_ordering <= $2 "
                                     "ORDER BY e.stream_ordering LIMIT $3"),
                plan.from.position, bound, static_cast<std::int64_t>(options_.batch_events)));
    // Nothing new: nothing to save either (the range stays empty).
    if (events.empty()) return std::nullopt;
    plan.position = events.size() < options_.batch_events ? bound : plan.from.position;
    std::map<std::string, RoomFacts> rooms;
    std::map<std::string, json> rulesets;
    std::size_t evaluations = 0;
    std::size_t done = 0;
    for (const auto& event : events) {
      const std::string room_id = event.pdu.value("room_id", "");
      auto room = rooms.find(room_id);
      if (room == rooms.end()) {
        room = rooms.emplace(room_id, load_room_facts(tx, room_id, local_suffix)).first;
      }
      const RoomFacts& facts = room->second;
      const json client = rooms::client_event(event, "", "", now);
      std::vector<std::string> targets = facts.local_members;
      // A local user invited is no member yet, but the invite is for them
      // (the default rule .m.rule.invite_for_me).
      if (event.type() == "m.room.member" && event.membership() == "invite" &&
          event.state_key().ends_with(local_suffix) &&
          std::find(targets.begin(), targets.end(), event.state_key()) == targets.end()) {
        targets.push_back(event.state_key());
      }
      for (const auto& user : targets) {
        if (user == event.sender()) continue;  // one's own events never notify
        auto rules = rulesets.find(user);
        if (rules == rulesets.end()) rules = rulesets.emplace(user, ruleset_of(tx, user)).first;
        matrix::PushContext context{
            .user_id = user,
            .display_name = facts.display_names.contains(user) ? facts.display_names.at(user) : "",
            .member_count = facts.member_count,
            .sender_power_level = facts.power.user_level(event.sender()),
            .notification_levels = facts.notification_levels};
        ++evaluations;
        matrix::PushDecision decision;
        try {
          decision = matrix::evaluate_push_rules(rules->second, client, context);
        } catch (const std::exception& e) {
          // One odd event or ruleset must not stop every later push: this
          // member is skipped for this event. (Database errors are not
          // caught here: the batch is then retried.)
          logger().warn("push rules not evaluated",
                        {{"event_id", event.event_id}, {"user_id", user}, {"error", e.what()}});
          continue;
        }
        if (!decision.notify) continue;
        plan.notifications.push_back({.notification = {.user_id = user,
                                                       .stream = event.stream,
                                                       .event_id = event.event_id,
                                                       .room_id = room_id,
                                                       .actions = decision.actions.dump(),
                                                       .highlight = decision.highlight,
                                                       .ts = now},
                                      .tweaks = decision.tweaks.dump()});
      }
      ++done;
      if (events.size() == options_.batch_events || evaluations >= options_.batch_evaluations) {
        plan.position = event.stream;
      }
      if (evaluations >= options_.batch_evaluations) break;
    }
    // A batch cut short by the evaluation bound reads as full: the loop goes on.
    plan.read = done < events.size() ? options_.batch_events : events.size();
    return plan;
  });
  if (!plan) return 0;
  // Phase 2, a short write: moves the position only from where phase 1
  // started (compare and set), so of two nodes that evaluated the same
  // events one records them; the other's work is dropped. The lease makes
  // that rare: the node that moved the position keeps the batches while it
  // renews the lease.
  const bool saved = db_.write([&](storage::Transaction& tx) {
    const std::int64_t now = rooms::now_ms();
    if (!storage::advance_push_progress(tx, plan->from, plan->position, node_token_,
                                        now + options_.lease.count(), now)) {
      return false;
    }
    storage::add_notifications(tx, plan->notifications);
    // Old notifications go a few at a time, only while events come in: an
    // idle server has nothing new to make room for.
    storage::prune_notifications(tx, now - options_.retention.count(), options_.prune_batch);
    return true;
  });
  if (!saved) return 0;
  if (!plan->notifications.empty()) {
    notifications_.inc(static_cast<double>(plan->notifications.size()));
  }
  return plan->read;
}

}  // namespace eltrix::services
