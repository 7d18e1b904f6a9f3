// Reports of events (POST /rooms/{roomId}/report/{eventId}), read and
// deleted through the admin API's /_synapse/admin/v1/event_reports
// (migrations/0011_admin_api.sql). Every function runs in a caller's
// Transaction.
#pragma once

#include "storage/database.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace eltrix::storage {

struct NewEventReport {
  std::string room_id;
  std::string event_id;
  std::string user_id;
  std::optional<std::string> reason;
  std::optional<std::int64_t> score;
  std::string content_json;
  std::int64_t received_ts = 0;
};

/// Whether `event_id` is an event of `room_id` stored here.
bool event_in_room(Transaction& tx, std::string_view room_id, std::string_view event_id);

std::int64_t insert_event_report(Transaction& tx, const NewEventReport& report);

/// A report as the admin API lists it, with what it names resolved: the
/// room's name and canonical alias and the reported event's sender (null
/// when the event or room was purged since).
struct EventReport {
  std::int64_t id = 0;
  std::int64_t received_ts = 0;
  std::string room_id;
  std::string event_id;
  std::string user_id;
  std::optional<std::string> reason;
  std::optional<std::int64_t> score;
  std::string content_json;
  std::optional<std::string> sender;
  std::optional<std::string> room_name;
  std::optional<std::string> canonical_alias;
  std::optional<std::string> event_pdu;
};

struct EventReportQuery {
  std::int64_t from = 0;
  std::int64_t limit = 100;
  bool oldest_first = false;
  std::optional<std::string> room_id;
  std::optional<std::string> user_id;
};

struct EventReportPage {
  std::vector<EventReport> reports;
  std::int64_t total = 0;
};

EventReportPage list_event_reports(Transaction& tx, const EventReportQuery& query);
std::optional<EventReport> find_event_report(Transaction& tx, std::int64_t id);
bool delete_event_report(Transaction& tx, std::int64_t id);

}  // namespace eltrix::storage
