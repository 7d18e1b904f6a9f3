#include "sync/sync_builder.h"

#include "notify/notifier.h"
#include "storage/database.h"
#include "sync/providers.h"

namespace eltrix::sync {

SyncBuilder::SyncBuilder(SyncDeps deps) : SyncBuilder(deps, standard_providers()) {}

SyncBuilder::SyncBuilder(SyncDeps deps, std::vector<std::unique_ptr<StreamProvider>> providers)
    : deps_(deps), providers_(std::move(providers)) {}

SyncResult SyncBuilder::build(const SyncRequest& request) const {
  return deps_.db.read([&](storage::Transaction& tx) { return build(request, tx); });
}

SyncResult SyncBuilder::build(const SyncRequest& request, storage::Transaction& tx) const {
  SyncState sync(deps_, request, tx);
  SyncResult result;
  for (const auto& provider : providers_) provider->current_position(sync, result.next);
  result.wake_keys.push_back(notify::user_key(request.who.user_id));
  for (const auto& provider : providers_) provider->wake_keys(sync, result.wake_keys);

  SyncResponse response;
  response.body["next_batch"] = format_sync_token(result.next);
  for (const auto& provider : providers_) provider->init(sync, response);
  // An initial or full-state sync is answered at once and writes every
  // section; an incremental one asks each provider first, so an idle
  // client's sync reads little more than the positions.
  const bool everything = sync.initial() || request.full_state;
  bool wrote = false;
  for (const auto& provider : providers_) {
    if (!everything && !provider->has_updates(sync)) continue;
    if (provider->write(sync, response)) wrote = true;
  }
  for (const auto& provider : providers_) provider->finish(sync, response);
  result.empty = !wrote;
  result.body = std::move(response.body);
  return result;
}

}  // namespace eltrix::sync
