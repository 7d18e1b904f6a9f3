// Fully read markers (spec: "Fully read markers"): POST
// /rooms/{roomId}/read_markers, and the code receipts share with it. The
// marker is the m.fully_read room account data {"event_id": ...}; the
// receipts are those of receipts.h.
#pragma once

#include "http/router.h"

#include <optional>
#include <string>

namespace eltrix::client {

struct Context;

struct ReadMarkers {
  std::optional<std::string> fully_read;    ///< m.fully_read
  std::optional<std::string> read;          ///< m.read receipt
  std::optional<std::string> read_private;  ///< m.read.private receipt
  /// For the receipts: "main" or a thread root's event ID; nullopt: unthreaded.
  std::optional<std::string> thread_id;
};

/// Moves the user's markers in the room, in one transaction. The user must
/// be joined (403 M_FORBIDDEN) and every event must belong to the room (404
/// M_NOT_FOUND). Markers only move forward: one pointing at an earlier event
/// than the current one is ignored. Wakes the syncs that must see it: the
/// room's for m.read, the user's for m.fully_read and m.read.private.
void set_read_markers(Context& ctx, const std::string& user_id, const std::string& room_id,
                      const ReadMarkers& markers);

void add_read_marker_routes(http::Router& router, Context& ctx);

}  // namespace eltrix::client
