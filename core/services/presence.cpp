#include "services/presence.h"

#include "cluster/node_registry.h"
#include "log/log.h"
#include "notify/notifier.h"
#include "rooms/event_store.h"
#include "rooms/room_service.h"
#include "storage/cluster_nodes.h"

namespace eltrix::services {

namespace {

const log::Logger& logger() {
  static const log::Logger instance("presence");
  return instance;
}

}  // namespace

bool is_presence_state(std::string_view state) {
  return state == "online" || state == "unavailable" || state == "offline";
}

Presence::Presence(storage::Database& db, rooms::RoomService& rooms, notify::Notifier& notifier,
                   cluster::NodeRegistry* nodes, PresenceSweepOptions options)
    : db_(db), rooms_(rooms), notifier_(notifier), nodes_(nodes), options_(options) {}

Presence::~Presence() {
  stop();
}

/// Wakes the syncs that show `user_id`'s presence: the user's own and those
/// of everyone in a room with them.
void Presence::wake(const std::string& user_id) {
  std::vector<std::string> keys{notify::user_key(user_id)};
  try {
    for (const auto& room : rooms_.joined_rooms(user_id)) keys.push_back(notify::room_key(room));
  } catch (const std::exception& e) {
    logger().warn("presence wake-up limited to the user",
                  {{"user_id", user_id}, {"error", e.what()}});
  }
  try {
    notifier_.notify(keys);
  } catch (const std::exception& e) {
    logger().warn("sync wake-up failed", {{"error", e.what()}});
  }
}

/// With a cluster, whether `presence` is tied to this node or a live one; a
/// row tied to a dead (or no) node must be claimed by this one, or the dead
/// node's sweep would take a user offline who is still syncing here.
bool Presence::owner_alive(const storage::Presence& presence) const {
  if (nodes_ == nullptr) return true;
  return presence.node_id && nodes_->alive(*presence.node_id);
}

/// Ties the user's presence to this node (in the writing transaction).
void Presence::claim(storage::Transaction& tx, const std::string& user_id) const {
  if (nodes_ != nullptr) storage::claim_presence(tx, user_id, nodes_->node_id());
}

void Presence::changed(const std::vector<std::string>& user_ids) {
  for (const auto& user : user_ids) wake(user);
}

void Presence::set_from_sync(const std::string& user_id,
                             const std::optional<std::string>& set_presence) {
  std::string wanted = set_presence.value_or("online");
  if (!is_presence_state(wanted)) wanted = "online";
  if (wanted == "offline") return;  // spec: "not marked as being online"
  try {
    const std::int64_t now = rooms::now_ms();
    auto current =
        db_.read([&](storage::Transaction& tx) { return storage::get_presence(tx, user_id); });
    // The common case, decided on a replica without a write: nothing changed
    // and the timestamps are fresh. A lagging replica can only delay a
    // refresh by its lag.
    if (current && current->state == wanted && current->last_sync_ts &&
        now - *current->last_sync_ts < kPresenceTouchMs && owner_alive(*current)) {
      return;
    }
    const bool changed = db_.write([&](storage::Transaction& tx) {
      auto stored = storage::get_presence(tx, user_id);
      const std::int64_t last_active =
          wanted == "online" ? now : (stored ? stored->last_active_ts : now);
      if (stored && stored->state == wanted) {
        storage::touch_presence(tx, user_id, last_active, now);
        claim(tx, user_id);
        return false;
      }
      storage::put_presence(tx, user_id, wanted,
                            stored ? stored->status_msg : std::optional<std::string>(), last_active,
                            now);
      claim(tx, user_id);
      return true;
    });
    if (changed) wake(user_id);
  } catch (const std::exception& e) {
    logger().warn("presence not updated by sync", {{"user_id", user_id}, {"error", e.what()}});
  }
}

void Presence::set(const std::string& user_id, const std::string& state,
                   const std::optional<std::string>& status_msg) {
  const std::int64_t now = rooms::now_ms();
  const bool changed = db_.write([&](storage::Transaction& tx) {
    auto stored = storage::get_presence(tx, user_id);
    // Setting the state is activity (spec: "the activity time is updated"),
    // and counts as a sign of life for the offline sweep.
    if (stored && stored->state == state && stored->status_msg == status_msg) {
      storage::touch_presence(tx, user_id, now, now);
      claim(tx, user_id);
      return false;
    }
    storage::put_presence(tx, user_id, state, status_msg, now, now);
    claim(tx, user_id);
    return true;
  });
  if (changed) wake(user_id);
}

// ---- the offline sweep -----------------------------------------------------------

void Presence::start() {
  std::lock_guard lock(mutex_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { loop(); });
}

void Presence::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Presence::loop() {
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

std::size_t Presence::sweep_once() {
  std::size_t total = 0;
  // A few batches per round at most, so one round stays short; whatever is
  // left waits for the next round.
  for (int round = 0; round < 10; ++round) {
    const std::int64_t cutoff = rooms::now_ms() - options_.offline_after.count();
    auto users = db_.write([&](storage::Transaction& tx) {
      return storage::expire_presence(tx, cutoff, options_.batch);
    });
    for (const auto& user : users) wake(user);
    total += users.size();
    if (users.size() < options_.batch) break;
  }
  return total;
}

}  // namespace eltrix::services
