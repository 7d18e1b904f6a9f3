#include "rooms/room_scan.h"

#include <algorithm>

namespace eltrix::rooms {

namespace {
/// Rows read per query.
constexpr std::size_t kBatch = 200;
}  // namespace

ScanResult scan_room(storage::Transaction& tx, const ScanRequest& request,
                     const std::function<bool(const StoredEvent&)>& wanted,
                     Visibility& visibility) {
  static const std::string back_sql = select_events(
      "WHERE e.room_id = $1 AND e.stream_ordering <= $2 AND e.stream_ordering > $3 "
      "ORDER BY e.stream_ordering DESC LIMIT $4");
  static const std::string forward_sql = select_events(
      "WHERE e.room_id = $1 AND e.stream_ordering > $2 AND e.stream_ordering <= $3 "
      "ORDER BY e.stream_ordering ASC LIMIT $4");
  static const std::string topo_back_sql = select_events(
      "WHERE e.room_id = $1 AND (e.depth, e.stream_ordering) <= ($2, $3) "
      "AND (e.depth, e.stream_ordering) > ($4, $5) "
      "ORDER BY e.depth DESC, e.stream_ordering DESC LIMIT $6");
  static const std::string topo_forward_sql = select_events(
      "WHERE e.room_id = $1 AND (e.depth, e.stream_ordering) > ($2, $3) "
      "AND (e.depth, e.stream_ordering) <= ($4, $5) "
      "ORDER BY e.depth ASC, e.stream_ordering ASC LIMIT $6");
  ScanResult out;
  // Tokens name the gap after an event: going back from P reads events <= P
  // and continues from (oldest read - 1); going forward from P reads > P.
  // In topological order "- 1" applies to the stream part, the tie-break.
  out.cursor = request.from;
  out.topo_cursor = request.topo_from;
  auto read_batch = [&](std::size_t batch) {
    const auto limit = static_cast<std::int64_t>(batch);
    if (!request.topological) {
      return read_events(tx.exec(request.backwards ? back_sql : forward_sql, request.room_id,
                                 out.cursor, request.bound, limit));
    }
    return read_events(tx.exec(request.backwards ? topo_back_sql : topo_forward_sql,
                               request.room_id, out.topo_cursor.depth, out.topo_cursor.stream,
                               request.topo_bound.depth, request.topo_bound.stream, limit));
  };
  auto move_past = [&](const StoredEvent& event) {
    out.cursor = request.backwards ? event.stream - 1 : event.stream;
    out.topo_cursor = {event.depth, out.cursor};
  };
  if (request.limit == 0 && !request.probe_one_more) return out;
  std::size_t rows_read = 0;
  while (true) {
    const std::size_t budget = request.max_rows - std::min(rows_read, request.max_rows);
    if (budget == 0) {
      out.budget_spent = true;
      break;
    }
    const std::size_t batch = std::min(kBatch, budget);
    auto events = read_batch(batch);
    rows_read += events.size();
    // One visibility query per batch, not per event.
    visibility.prepare(events);
    bool done = false;
    for (auto& event : events) {
      if (request.stop_at_hidden && !visibility.can_see(event)) {
        out.hidden = true;
        done = true;
        break;
      }
      if (wanted(event) && visibility.can_see(event)) {
        if (out.events.size() == request.limit) {
          out.more = true;  // only probing: the cursor stays after the last one returned
          done = true;
          break;
        }
        move_past(event);
        out.events.push_back(std::move(event));
        if (out.events.size() == request.limit && !request.probe_one_more) {
          done = true;
          break;
        }
        continue;
      }
      move_past(event);
    }
    // A full page may end exactly at the last event; the client then gets one
    // more, empty page, which is what the spec allows.
    if (done) break;
    if (events.size() < batch) {
      out.exhausted = true;
      break;
    }
  }
  return out;
}

}  // namespace eltrix::rooms
