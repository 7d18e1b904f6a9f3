// Presence (spec: "Presence"): GET/PUT /presence/{userId}/status, the
// /sync set_presence parameter, and the sweep that marks users offline once
// their syncs stop. State of record is the presence table (migration 0004);
// every change others must see is stamped on the shared stream.
#pragma once

#include "http/router.h"
#include "storage/user_data.h"
#include "sync/presence_content.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace eltrix::client {

struct Context;

/// Longest status message accepted, in bytes.
inline constexpr std::size_t kMaxStatusMsgBytes = 1024;
// The m.presence content is sync's (the presence section): one definition.
using sync::kCurrentlyActiveMs;
using sync::presence_content;
/// A sync refreshes an unchanged presence row at most this often.
inline constexpr std::int64_t kPresenceTouchMs = 60000;

/// online, unavailable or offline.
bool is_presence_state(std::string_view state);

/// For /sync's set_presence (absent means "online"): "offline" leaves the
/// presence alone (spec); "online" or "unavailable" sets it. Writes only when
/// the state changes, or to refresh the activity timestamps when they are
/// older than kPresenceTouchMs, so a sync loop does not write every time.
/// Wakes the syncs of everyone sharing a room when the state changes. Never
/// throws: a failure is logged and the sync goes on. An unknown value is
/// treated as absent; the sync handler should refuse it first (400
/// M_INVALID_PARAM).
void set_presence_from_sync(Context& ctx, const std::string& user_id,
                            const std::optional<std::string>& set_presence);

/// Wakes the syncs that show these users' presence (theirs and everyone's
/// sharing a room with them), e.g. after a dead node's users went offline.
void presence_changed(Context& ctx, const std::vector<std::string>& user_ids);

struct PresenceSweepOptions {
  /// Users whose last sync (or PUT) is older than this go offline.
  std::chrono::milliseconds offline_after{300000};
  std::chrono::milliseconds interval{30000};
  /// Users handled per transaction.
  std::size_t batch = 500;
};

/// Marks users offline once they stop syncing, on a thread of its own. Every
/// node may run one: the rows are claimed with SKIP LOCKED.
class PresenceSweeper {
 public:
  explicit PresenceSweeper(Context& ctx, PresenceSweepOptions options = {});
  ~PresenceSweeper();
  PresenceSweeper(const PresenceSweeper&) = delete;
  PresenceSweeper& operator=(const PresenceSweeper&) = delete;
  PresenceSweeper(PresenceSweeper&&) = delete;
  PresenceSweeper& operator=(PresenceSweeper&&) = delete;

  void start();
  /// Idempotent; the destructor calls it.
  void stop();
  /// One sweep now; returns the users marked offline. Throws on database errors.
  std::size_t sweep_once();

 private:
  void loop();

  Context& ctx_;
  PresenceSweepOptions options_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

void add_presence_routes(http::Router& router, Context& ctx);

}  // namespace eltrix::client
