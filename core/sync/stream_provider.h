// A sync response is the sum of its sections, each one a stream provider:
// rooms, typing, receipts, account data, presence (sync/*_provider.cpp, in
// the order standard_providers() registers them). The builder
// (sync/sync_builder.h) knows none of them: it asks each for its position,
// whether it has anything for the user in the window, and to write its part.
// A new section (to-device messages, device lists, one-time key counts) is a
// new provider registered in sync/providers.cpp.
//
// Providers are created once and shared by every request and thread: all
// per-request data lives in SyncState.
#pragma once

#include "sync/sync_state.h"
#include "sync/token.h"

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace eltrix::sync {

/// The response being built: the body of a 200 /sync.
struct SyncResponse {
  nlohmann::json body = nlohmann::json::object();

  /// rooms.join[room_id], created on first use. A room present there is
  /// sent; the rooms provider completes rooms only other sections wrote to.
  nlohmann::json& joined_room(const std::string& room_id) { return body["rooms"]["join"][room_id]; }
};

class StreamProvider {
 public:
  virtual ~StreamProvider() = default;

  [[nodiscard]] virtual std::string_view name() const = 0;

  /// Sets this provider's part of `to`, the token the response reaches (its
  /// next_batch). Called first, once per build, for every provider.
  virtual void current_position(SyncState& sync, SyncToken& to) const = 0;

  /// Lays out the part of the response that is present even when empty.
  virtual void init(SyncState& /*sync*/, SyncResponse& /*response*/) const {}

  /// Whether the window (since, to] may hold something for this user. Never
  /// false when write() would write something: an incremental sync skips
  /// write() on false, and the next token moves past the window anyway. May
  /// be true when write() then finds nothing (e.g. all of it filtered out).
  [[nodiscard]] virtual bool has_updates(SyncState& sync) const = 0;

  /// Writes this provider's part. True when it wrote something the client
  /// must be sent: a waiting sync answers at once only then.
  virtual bool write(SyncState& sync, SyncResponse& response) const = 0;

  /// After every provider wrote (whether or not it had updates): completes
  /// what depends on the others' parts.
  virtual void finish(SyncState& /*sync*/, SyncResponse& /*response*/) const {}

  /// Notifier keys (notify/notifier.h) besides the user's own on which a
  /// change for this provider is announced; a waiting sync listens on them.
  virtual void wake_keys(SyncState& /*sync*/, std::vector<std::string>& /*keys*/) const {}
};

/// A provider whose rows are stamped on the shared stream (storage/stream.h),
/// the token's `stream` part, read once per sync (SyncState::stream_to()).
class SharedStreamProvider : public StreamProvider {
 public:
  void current_position(SyncState& sync, SyncToken& to) const override {
    to.stream = sync.stream_to();
  }
};

}  // namespace eltrix::sync
