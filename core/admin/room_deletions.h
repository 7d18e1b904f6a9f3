// Room deletions (DELETE /_synapse/admin/v2/rooms/{id}) run in the
// background, one at a time per node, on a thread of their own: taking every
// local member out goes through the room service event by event, which for
// a big room takes longer than a request should. The state of each deletion
// is a row in room_deletions, so any node answers delete_status.
//
// Steps: block the room (if asked, first, so nobody rejoins meanwhile),
// make the new room if asked, take every local member out (a leave through
// the room service; an invite is rejected the same way) and into the new
// room, remove the room's local aliases, then purge it (if asked; the
// default) through the room service.
#pragma once

#include "admin/context.h"

#include <nlohmann/json.hpp>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace eltrix::admin {

struct RoomDeletionRequest {
  std::string room_id;
  std::string requester;
  bool block = false;
  bool purge = true;
  /// Purge even if a local member could not be taken out.
  bool force_purge = false;
  /// When set: a new room made by this local user (an account is made for
  /// it if needed, with no usable password), which the members taken out
  /// of the old room are moved into, with `message` as its first message.
  std::optional<std::string> new_room_user_id;
  std::string room_name = "Content Violation Notification";
  std::string message =
      "Sharing illegal content on this server is not permitted and rooms in violation will be "
      "blocked.";
};

class RoomDeletions {
 public:
  /// Most deletions waiting on one node; more are refused (a busy admin
  /// retries), so the queue stays bounded.
  static constexpr std::size_t kMaxQueued = 100;

  explicit RoomDeletions(Context& ctx);
  ~RoomDeletions();
  RoomDeletions(const RoomDeletions&) = delete;
  RoomDeletions& operator=(const RoomDeletions&) = delete;
  RoomDeletions(RoomDeletions&&) = delete;
  RoomDeletions& operator=(RoomDeletions&&) = delete;

  /// Records the deletion and queues it; returns its delete_id. Throws
  /// http::MatrixError 400 when one is already running for the room, 429
  /// when the queue is full.
  std::string schedule(const RoomDeletionRequest& request);

  /// Runs a deletion now, on the calling thread (DELETE /v1/rooms/{id});
  /// returns Synapse's shutdown result.
  nlohmann::json run_now(const RoomDeletionRequest& request);

 private:
  struct Job {
    std::string delete_id;
    RoomDeletionRequest request;
  };
  void work();
  /// The new room of `request.new_room_user_id`, with its first message.
  std::string make_new_room(const RoomDeletionRequest& request);
  void move_into(const std::string& room_id, const std::string& owner, const std::string& user);
  /// The steps; `delete_id` (may be empty) gets status updates.
  nlohmann::json run(const std::string& delete_id, const RoomDeletionRequest& request);

  Context& ctx_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Job> queue_;
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace eltrix::admin
