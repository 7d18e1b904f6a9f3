#include "client/presence.h"

#include "client/json_body.h"
#include "client/user_data_common.h"
#include "cluster/node_registry.h"
#include "log/log.h"
#include "notify/notifier.h"
#include "rooms/room_service.h"
#include "storage/cluster_nodes.h"
#include "storage/database.h"

#include <fmt/format.h>

namespace eltrix::client {

namespace {

const log::Logger& logger() {
  static const log::Logger instance("presence");
  return instance;
}

/// Wakes the syncs that show `user_id`'s presence: the user's own and those
/// of everyone in a room with them.
void wake_presence(Context& ctx, const std::string& user_id) {
  std::vector<std::string> keys{notify::user_key(user_id)};
  try {
    for (const auto& room : ctx.rooms.joined_rooms(user_id)) keys.push_back(notify::room_key(room));
  } catch (const std::exception& e) {
    logger().warn("presence wake-up limited to the user",
                  {{"user_id", user_id}, {"error", e.what()}});
  }
  wake(ctx, keys);
}

/// With a cluster, whether `presence` is tied to this node or a live one; a
/// row tied to a dead (or no) node must be claimed by this one, or the dead
/// node's sweep would take a user offline who is still syncing here.
bool owner_alive(const Context& ctx, const storage::Presence& presence) {
  if (ctx.nodes == nullptr) return true;
  return presence.node_id && ctx.nodes->alive(*presence.node_id);
}

/// Ties the user's presence to this node (in the writing transaction).
void claim(const Context& ctx, storage::Transaction& tx, const std::string& user_id) {
  if (ctx.nodes != nullptr) storage::claim_presence(tx, user_id, ctx.nodes->node_id());
}

}  // namespace

void presence_changed(Context& ctx, const std::vector<std::string>& user_ids) {
  for (const auto& user : user_ids) wake_presence(ctx, user);
}

bool is_presence_state(std::string_view state) {
  return state == "online" || state == "unavailable" || state == "offline";
}

void set_presence_from_sync(Context& ctx, const std::string& user_id,
                            const std::optional<std::string>& set_presence) {
  std::string wanted = set_presence.value_or("online");
  if (!is_presence_state(wanted)) wanted = "online";
  if (wanted == "offline") return;  // spec: "not marked as being online"
  try {
    std::int64_t now = now_ms();
    auto current =
        ctx.db.read([&](storage::Transaction& tx) { return storage::get_presence(tx, user_id); });
    // The common case, decided on a replica without a write: nothing changed
    // and the timestamps are fresh. A lagging replica can only delay a
    // refresh by its lag.
    if (current && current->state == wanted && current->last_sync_ts &&
        now - *current->last_sync_ts < kPresenceTouchMs && owner_alive(ctx, *current)) {
      return;
    }
    bool changed = ctx.db.write([&](storage::Transaction& tx) {
      auto stored = storage::get_presence(tx, user_id);
      std::int64_t last_active = wanted == "online" ? now : (stored ? stored->last_active_ts : now);
      if (stored && stored->state == wanted) {
        storage::touch_presence(tx, user_id, last_active, now);
        claim(ctx, tx, user_id);
        return false;
      }
      storage::put_presence(tx, user_id, wanted,
                            stored ? stored->status_msg : std::optional<std::string>(), last_active,
                            now);
      claim(ctx, tx, user_id);
      return true;
    });
    if (changed) wake_presence(ctx, user_id);
  } catch (const std::exception& e) {
    logger().warn("presence not updated by sync", {{"user_id", user_id}, {"error", e.what()}});
  }
}

// ---- PresenceSweeper -------------------------------------------------------------

PresenceSweeper::PresenceSweeper(Context& ctx, PresenceSweepOptions options)
    : ctx_(ctx), options_(options) {}

PresenceSweeper::~PresenceSweeper() {
  stop();
}

void PresenceSweeper::start() {
  std::lock_guard lock(mutex_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { loop(); });
}

void PresenceSweeper::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void PresenceSweeper::loop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    wake_.wait_for(lock, options_.interval, [this] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    try {
      sweep_once();
    } catch (const std::exception& e) {
      // The database may be away; the next round tries again.
      logger().warn("presence sweep failed", {{"error", e.what()}});
    }
    lock.lock();
  }
}

std::size_t PresenceSweeper::sweep_once() {
  std::size_t total = 0;
  // A few batches per round at most, so one round stays short; whatever is
  // left waits for the next round.
  for (int round = 0; round < 10; ++round) {
    std::int64_t cutoff = now_ms() - options_.offline_after.count();
    auto users = ctx_.db.write([&](storage::Transaction& tx) {
      return storage::expire_presence(tx, cutoff, options_.batch);
    });
    for (const auto& user : users) wake_presence(ctx_, user);
    total += users.size();
    if (users.size() < options_.batch) break;
  }
  return total;
}

// ---- routes ----------------------------------------------------------------------

void add_presence_routes(http::Router& router, Context& ctx) {
  router.add("GET", "/_matrix/client/v3/presence/{userId}/status", [&ctx](http::Request& req) {
    const Requester& who = req.requester();
    std::string user_id = require_user_id(req.path_param("userId"));
    struct Found {
      bool visible = false;
      bool known = false;
      std::optional<storage::Presence> presence;
    };
    auto found = read_own(ctx, [&](storage::Transaction& tx) {
      Found out;
      out.visible = user_id == who.user_id || share_a_room(tx, who.user_id, user_id);
      if (!out.visible) return out;
      out.presence = storage::get_presence(tx, user_id);
      out.known = out.presence.has_value() || storage::get_profile(tx, user_id).has_value();
      return out;
    });
    // Presence is shared with those who share a room (spec: "Security
    // considerations").
    if (!found.visible) throw forbidden("You are not allowed to see their presence");
    if (!found.known) throw not_found("No presence for this user");
    if (!found.presence) return http::Response::json(200, {{"presence", "offline"}});
    return http::Response::json(200, presence_content(*found.presence, now_ms()));
  });

  router.add("PUT", "/_matrix/client/v3/presence/{userId}/status",
             [&ctx](http::Request& req) {
               const Requester& who = req.requester();
               std::string user_id = require_self(who, req.path_param("userId"),
                                                  "Cannot set the presence of another user");
               std::string state = require_string(req.json(), "presence");
               if (!is_presence_state(state)) {
                 throw invalid_param("'presence' must be online, unavailable or offline");
               }
               auto status_msg = optional_string(req.json(), "status_msg");
               if (status_msg && status_msg->size() > kMaxStatusMsgBytes) {
                 throw invalid_param(
                     fmt::format("'status_msg' is longer than {} bytes", kMaxStatusMsgBytes));
               }
               std::int64_t now = now_ms();
               bool changed = ctx.db.write([&](storage::Transaction& tx) {
                 auto stored = storage::get_presence(tx, user_id);
                 // Setting the state is activity (spec: "the activity time is
                 // updated"), and counts as a sign of life for the offline sweep.
                 if (stored && stored->state == state && stored->status_msg == status_msg) {
                   storage::touch_presence(tx, user_id, now, now);
                   claim(ctx, tx, user_id);
                   return false;
                 }
                 storage::put_presence(tx, user_id, state, status_msg, now, now);
                 claim(ctx, tx, user_id);
                 return true;
               });
               if (changed) wake_presence(ctx, user_id);
               return http::Response::json(200, nlohmann::json::object());
             },
             {.body = http::BodyMode::json});
}

}  // namespace eltrix::client
