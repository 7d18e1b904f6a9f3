#include "admin/room_deletions.h"

#include "accounts/account_service.h"
#include "admin/params.h"
#include "crypto/tokens.h"
#include "log/log.h"
#include "matrix/ids.h"
#include "matrix/room_version.h"
#include "rooms/room_service.h"
#include "storage/accounts.h"
#include "storage/admin_rooms.h"
#include "storage/directory.h"

namespace eltrix::admin {
namespace {

const log::Logger& logger() {
  static const log::Logger instance("admin");
  return instance;
}

/// A running deletion refreshes its row at each step; one not refreshed
/// for this long was left by a node that stopped, and another may start.
constexpr std::int64_t kStaleAfterMs = 10 * 60 * 1000;

void set_status(Context& ctx, const std::string& delete_id, const char* status,
                const std::optional<nlohmann::json>& result = std::nullopt,
                const std::optional<std::string>& error = std::nullopt) {
  if (delete_id.empty()) return;
  ctx.db.write([&](storage::Transaction& tx) {
    storage::update_room_deletion(tx, delete_id, status,
                                  result ? std::optional(result->dump()) : std::nullopt, error,
                                  storage::now_ms());
  });
}

}  // namespace

RoomDeletions::RoomDeletions(Context& ctx) : ctx_(ctx), worker_([this] { work(); }) {}

RoomDeletions::~RoomDeletions() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  worker_.join();
}

std::string RoomDeletions::schedule(const RoomDeletionRequest& request) {
  std::string delete_id =
      crypto::random_string(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");
  {
    std::lock_guard lock(mutex_);
    if (queue_.size() >= kMaxQueued) {
      throw http::MatrixError(429, "M_LIMIT_EXCEEDED", "Too many room deletions queued")
          .with("retry_after_ms", 10000);
    }
  }
  const std::int64_t now = storage::now_ms();
  ctx_.db.write([&](storage::Transaction& tx) {
    if (storage::room_deletion_running(tx, request.room_id, now - kStaleAfterMs)) {
      throw http::MatrixError(400, "M_UNKNOWN",
                              "History purge already in progress for " + request.room_id);
    }
    storage::insert_room_deletion(
        tx, {.delete_id = delete_id,
             .room_id = request.room_id,
             .requester = request.requester,
             .status = "shutting_down",
             .params_json = nlohmann::json{{"block", request.block},
                                           {"purge", request.purge},
                                           {"force_purge", request.force_purge}}
                                .dump(),
             .result_json = std::nullopt,
             .error = std::nullopt,
             .created_ts = now});
  });
  {
    std::lock_guard lock(mutex_);
    queue_.push_back({delete_id, request});
  }
  wake_.notify_one();
  return delete_id;
}

nlohmann::json RoomDeletions::run_now(const RoomDeletionRequest& request) {
  return run("", request);
}

void RoomDeletions::work() {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    try {
      run(job.delete_id, job.request);
    } catch (const std::exception& e) {
      logger().error(
          "room deletion failed",
          {{"delete_id", job.delete_id}, {"room_id", job.request.room_id}, {"error", e.what()}});
      try {
        set_status(ctx_, job.delete_id, "failed", std::nullopt, std::string(e.what()));
      } catch (...) {
        // The row stays "shutting_down"/"purging" and turns stale; a new
        // DELETE of the room may then start over.
      }
    }
  }
}

std::string RoomDeletions::make_new_room(const RoomDeletionRequest& request) {
  const std::string& owner = *request.new_room_user_id;
  const bool exists =
      ctx_.db.write([&](storage::Transaction& tx) { return storage::user_exists(tx, owner); });
  if (!exists) {
    // An account nobody can log in to: a random password of the maximum
    // strength, never shown (Synapse registers such a user too).
    ctx_.accounts.create(
        {.localpart = matrix::parse_user_id(owner)->localpart,
         .password =
             crypto::random_string(48,
                                   "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
                                   "!#%&*+-.:=?@^_~") +
             "!",  // whatever the policy asks of symbols
         .displayname = std::nullopt});
  }
  rooms::CreateRoom create;
  create.creator = owner;
  create.room_id = matrix::make_room_id(ctx_.server_name);
  create.version = std::string(matrix::kDefaultRoomVersion);
  create.preset = "public_chat";
  create.name = request.room_name;
  // Members may read but not speak: only the owner's message matters.
  const nlohmann::json levels = {{"users_default", -10}};
  create.power_level_override = &levels;
  auto made = ctx_.rooms.create_room(create);
  if (made.outcome.is_rejected()) {
    throw std::runtime_error("could not make the new room: " + made.outcome.reason);
  }
  ctx_.rooms.send(create.room_id, {.type = "m.room.message",
                                   .sender = owner,
                                   .content = {{"msgtype", "m.text"}, {"body", request.message}}});
  return create.room_id;
}

void RoomDeletions::move_into(const std::string& room_id, const std::string& owner,
                              const std::string& user) {
  // Invited by the owner, then joined on the member's behalf (the room is
  // public_chat, so the invite is for the member's clients to show).
  auto invite = ctx_.rooms.change_membership(
      {.room_id = room_id, .sender = owner, .target = user, .membership = "invite"});
  if (invite.outcome.is_rejected()) return;
  ctx_.rooms.change_membership(
      {.room_id = room_id, .sender = user, .target = user, .membership = "join"});
}

nlohmann::json RoomDeletions::run(const std::string& delete_id,
                                  const RoomDeletionRequest& request) {
  const std::string& room_id = request.room_id;
  logger().info("deleting a room", {{"room_id", room_id},
                                    {"delete_id", delete_id.empty() ? "-" : delete_id},
                                    {"requester", request.requester}});
  if (request.block) {
    ctx_.db.write([&](storage::Transaction& tx) {
      storage::block_room(tx, room_id, request.requester, storage::now_ms());
    });
  }
  const auto fetched = ctx_.db.write([&](storage::Transaction& tx) {
    return std::pair(storage::local_members(tx, room_id, ctx_.server_name),
                     storage::room_aliases(tx, room_id));
  });
  const std::vector<std::string>& members = fetched.first;
  const std::vector<std::string>& aliases = fetched.second;
  std::optional<std::string> new_room;
  if (request.new_room_user_id) new_room = make_new_room(request);
  nlohmann::json kicked = nlohmann::json::array();
  nlohmann::json failed = nlohmann::json::array();
  for (const auto& user : members) {
    // The member leaves (or rejects the invite) themself: that needs no
    // power in the room, so it works whoever the room's admins are.
    rooms::SendResult left;
    try {
      left = ctx_.rooms.change_membership(
          {.room_id = room_id, .sender = user, .target = user, .membership = "leave"});
    } catch (const std::exception& e) {
      left.outcome = rooms::Outcome::rejected(rooms::Rejection::invalid, e.what());
    }
    (left.outcome.is_rejected() ? failed : kicked).push_back(user);
    if (new_room && !left.outcome.is_rejected() && user != *request.new_room_user_id) {
      move_into(*new_room, *request.new_room_user_id, user);
    }
  }
  ctx_.db.write([&](storage::Transaction& tx) {
    for (const auto& alias : aliases) storage::delete_alias(tx, alias);
  });
  nlohmann::json result = {
      {"kicked_users", kicked},
      {"failed_to_kick_users", failed},
      {"local_aliases", aliases},
      {"new_room_id", new_room ? nlohmann::json(*new_room) : nlohmann::json(nullptr)}};
  if (request.purge) {
    if (!failed.empty() && !request.force_purge) {
      set_status(ctx_, delete_id, "failed", result,
                 std::string("Some local users could not be taken out of the room; "
                             "use force_purge to purge anyway"));
      return result;
    }
    set_status(ctx_, delete_id, "purging", result);
    ctx_.rooms.purge_room(room_id);
  }
  set_status(ctx_, delete_id, "complete", result);
  logger().info("room deleted", {{"room_id", room_id},
                                 {"kicked", std::to_string(kicked.size())},
                                 {"purged", request.purge ? "true" : "false"}});
  return result;
}

}  // namespace eltrix::admin
