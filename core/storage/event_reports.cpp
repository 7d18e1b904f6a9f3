#include "storage/event_reports.h"

#include <fmt/format.h>

namespace eltrix::storage {
namespace {

/// A field of a current state event's content (sql_content holds a state
/// event's whole content).
std::string state_field(std::string_view type, std::string_view field) {
  return fmt::format(
      "(SELECT e.sql_content ->> '{}' FROM current_state cs JOIN events e "
      "ON e.event_id = cs.event_id WHERE cs.room_id = r.room_id AND cs.type = '{}' "
      "AND cs.state_key = '')",
      field, type);
}

std::string select_reports() {
  return fmt::format(
      "SELECT r.id, r.received_ts, r.room_id, r.event_id, r.user_id, r.reason, r.score, "
      "r.content, (SELECT sender FROM events ev WHERE ev.event_id = r.event_id) AS sender, "
      "{} AS room_name, {} AS canonical_alias, "
      "(SELECT pdu FROM events ev WHERE ev.event_id = r.event_id) AS pdu "
      "FROM event_reports r",
      state_field("m.room.name", "name"), state_field("m.room.canonical_alias", "alias"));
}

EventReport report_from(const pqxx::row& row) {
  return EventReport{.id = row[0].as<std::int64_t>(),
                     .received_ts = row[1].as<std::int64_t>(),
                     .room_id = row[2].as<std::string>(),
                     .event_id = row[3].as<std::string>(),
                     .user_id = row[4].as<std::string>(),
                     .reason = nullable<std::string>(row[5]),
                     .score = nullable<std::int64_t>(row[6]),
                     .content_json = row[7].as<std::string>(),
                     .sender = nullable<std::string>(row[8]),
                     .room_name = nullable<std::string>(row[9]),
                     .canonical_alias = nullable<std::string>(row[10]),
                     .event_pdu = nullable<std::string>(row[11])};
}

}  // namespace

bool event_in_room(Transaction& tx, std::string_view room_id, std::string_view event_id) {
  return tx
      .exec_optional("SELECT 1 FROM events WHERE event_id = $1 AND room_id = $2", event_id, room_id)
      .has_value();
}

std::int64_t insert_event_report(Transaction& tx, const NewEventReport& report) {
  return tx
      .exec1(
          "INSERT INTO event_reports (received_ts, room_id, event_id, user_id, reason, score, "
          "content) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
          report.received_ts, report.room_id, report.event_id, report.user_id, report.reason,
          report.score, report.content_json)[0]
      .as<std::int64_t>();
}

EventReportPage list_event_reports(Transaction& tx, const EventReportQuery& query) {
  const std::string where =
      " WHERE ($1::text IS NULL OR r.room_id = $1) AND ($2::text IS NULL OR r.user_id = $2)";
  const char* dir = query.oldest_first ? "ASC" : "DESC";
  EventReportPage page;
  for (const auto& row :
       tx.exec(select_reports() + where +
                   fmt::format(" ORDER BY r.received_ts {0}, r.id {0} OFFSET $3 LIMIT $4", dir),
               query.room_id, query.user_id, query.from, query.limit)) {
    page.reports.push_back(report_from(row));
  }
  page.total =
      tx.exec1("SELECT count(*) FROM event_reports r" + where, query.room_id, query.user_id)[0]
          .as<std::int64_t>();
  return page;
}

std::optional<EventReport> find_event_report(Transaction& tx, std::int64_t id) {
  auto row = tx.exec_optional(select_reports() + " WHERE r.id = $1", id);
  if (!row) return std::nullopt;
  return report_from(*row);
}

bool delete_event_report(Transaction& tx, std::int64_t id) {
  return tx.exec0("DELETE FROM event_reports WHERE id = $1", id) == 1;
}

}  // namespace eltrix::storage
