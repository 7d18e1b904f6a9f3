// Builds a /sync response (spec: "Syncing") for one window (since, now] of
// every stream, from the registered stream providers (sync/stream_provider.h).
// Pure reads: one read transaction, no side effects, so a waiting sync can
// rebuild it whenever it is woken.
#pragma once

#include "sync/stream_provider.h"
#include "sync/sync_deps.h"
#include "sync/sync_state.h"
#include "sync/token.h"

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

namespace eltrix::storage {
class Transaction;
}

namespace eltrix::sync {

struct SyncResult {
  nlohmann::json body;
  /// Nothing for the client in the window: a waiting sync keeps waiting.
  bool empty = true;
  SyncToken next;
  /// Notifier keys a waiting sync listens on (the user and their rooms).
  std::vector<std::string> wake_keys;
};

class SyncBuilder {
 public:
  /// With the standard providers (sync/providers.h).
  explicit SyncBuilder(SyncDeps deps);
  SyncBuilder(SyncDeps deps, std::vector<std::unique_ptr<StreamProvider>> providers);

  /// Builds in a read transaction of its own.
  [[nodiscard]] SyncResult build(const SyncRequest& request) const;
  /// Builds inside `tx`.
  [[nodiscard]] SyncResult build(const SyncRequest& request, storage::Transaction& tx) const;

  [[nodiscard]] const SyncDeps& deps() const { return deps_; }

 private:
  SyncDeps deps_;
  std::vector<std::unique_ptr<StreamProvider>> providers_;
};

}  // namespace eltrix::sync
