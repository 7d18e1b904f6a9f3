// Read receipts and the fully read marker (spec: "Receipts", "Fully read
// markers"). The marker is the m.fully_read room account data
// {"event_id": ...}; receipts are m.read (seen by the room) and
// m.read.private (seen by the user only). Storing one wakes the syncs that
// must see it, after the commit. Shared by every API
// (services/services.h); failures are errors::Error.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace eltrix::receipts {

struct ReadMarkers {
  std::optional<std::string> fully_read = std::nullopt;    ///< m.fully_read
  std::optional<std::string> read = std::nullopt;          ///< m.read receipt
  std::optional<std::string> read_private = std::nullopt;  ///< m.read.private receipt
  /// For the receipts: "main" or a thread root's event ID; nullopt: unthreaded.
  std::optional<std::string> thread_id = std::nullopt;
};

/// Throws invalid M_INVALID_PARAM unless `type` is m.read, m.read.private or
/// m.fully_read.
void require_receipt_type(std::string_view type);

class ReceiptService {
 public:
  virtual ~ReceiptService() = default;

  /// Moves the user's markers in the room, in one transaction. The user must
  /// be joined (forbidden) and every event must belong to the room
  /// (not_found; then nothing changes). Markers only move forward: one
  /// pointing at an earlier event than the current one is ignored. After
  /// the commit, wakes the syncs that must see it: the room's for m.read,
  /// the user's for m.fully_read and m.read.private.
  virtual void set_read_markers(const std::string& user_id, const std::string& room_id,
                                const ReadMarkers& markers) = 0;

  /// One receipt of `type` (require_receipt_type) for `event_id`, as
  /// set_read_markers does it. `thread_id` (threaded receipts only, so not
  /// with m.fully_read): "main" or a thread root's event ID; else invalid
  /// M_INVALID_PARAM.
  virtual void send_receipt(const std::string& user_id, const std::string& room_id,
                            std::string_view type, const std::string& event_id,
                            const std::optional<std::string>& thread_id) = 0;
};

}  // namespace eltrix::receipts
