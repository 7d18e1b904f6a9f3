// The receipt service (receipts/receipt_service.h) over PostgreSQL and the
// node's notifier.
#pragma once

#include "receipts/receipt_service.h"

namespace eltrix::notify {
class Notifier;
}
namespace eltrix::storage {
class Database;
}

namespace eltrix::receipts {

class ReceiptServiceImpl final : public ReceiptService {
 public:
  /// Both references must outlive the service.
  ReceiptServiceImpl(storage::Database& db, notify::Notifier& notifier);

  void set_read_markers(const std::string& user_id, const std::string& room_id,
                        const ReadMarkers& markers) override;
  void send_receipt(const std::string& user_id, const std::string& room_id, std::string_view type,
                    const std::string& event_id,
                    const std::optional<std::string>& thread_id) override;

 private:
  /// Whether the user is joined now: a replica first, a "no" confirmed on
  /// the primary, so a user who just joined is not refused because the
  /// replica lags.
  bool is_joined(const std::string& room_id, const std::string& user_id);

  storage::Database& db_;
  notify::Notifier& notifier_;
};

}  // namespace eltrix::receipts
