// Builds a /sync response (spec: "Syncing") for one window (since, now] of
// the shared stream. Pure reads: one read transaction, no side effects, so a
// waiting sync can rebuild it whenever it is woken.
#pragma once

#include "client/auth.h"
#include "client/context.h"
#include "sync/filter.h"
#include "sync/token.h"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace eltrix::sync {

struct SyncRequest {
  client::Requester who;
  std::optional<SyncToken> since = std::nullopt;  ///< none: an initial sync
  bool full_state = false;
  Filter filter = {};
};

struct SyncResult {
  nlohmann::json body;
  /// Nothing for the client in the window: a waiting sync keeps waiting.
  bool empty = true;
  SyncToken next;
  /// Notifier keys a waiting sync listens on (the user and their rooms).
  std::vector<std::string> wake_keys;
};

SyncResult build_sync(client::Context& ctx, const SyncRequest& request);

}  // namespace eltrix::sync
