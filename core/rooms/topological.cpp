#include "rooms/topological.h"

#include <charconv>

namespace eltrix::rooms {

namespace {
bool parse_number(std::string_view text, std::int64_t& out) {
  if (text.empty() || text.size() > 19) return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size() && out >= 0;
}
}  // namespace

std::string format_topological_token(const TopologicalKey& key) {
  return "t" + std::to_string(key.depth) + "_" + std::to_string(key.stream);
}

std::optional<TopologicalKey> parse_topological_token(std::string_view text) {
  if (text.size() < 4 || text.front() != 't') return std::nullopt;
  text.remove_prefix(1);
  const auto sep = text.find('_');
  if (sep == std::string_view::npos) return std::nullopt;
  TopologicalKey key;
  if (!parse_number(text.substr(0, sep), key.depth) ||
      !parse_number(text.substr(sep + 1), key.stream)) {
    return std::nullopt;
  }
  return key;
}

TopologicalKey topological_at_stream(storage::Transaction& tx, std::string_view room_id,
                                     std::int64_t stream) {
  // The latest event learned by then is normally the deepest too; a late,
  // shallow event learned since does not move the point back.
  auto row = tx.exec1(
      "SELECT coalesce(max(depth), 0) FROM events WHERE room_id = $1 AND stream_ordering <= $2 "
      "AND depth >= coalesce((SELECT depth FROM events WHERE room_id = $1 "
      "  AND stream_ordering <= $2 ORDER BY stream_ordering DESC LIMIT 1), 0)",
      room_id, stream);
  return {row[0].as<std::int64_t>(), stream};
}

std::optional<TopologicalPoint> last_event_at_or_before(storage::Transaction& tx,
                                                        std::string_view room_id,
                                                        const TopologicalKey& key) {
  // events_room_topological (room_id, depth, stream_ordering): one index probe.
  auto row = tx.exec_optional(
      "SELECT event_id, stream_ordering FROM events WHERE room_id = $1 "
      "AND (depth, stream_ordering) <= ($2, $3) ORDER BY depth DESC, stream_ordering DESC LIMIT 1",
      room_id, key.depth, key.stream);
  if (!row) return std::nullopt;
  return TopologicalPoint{(*row)[0].as<std::string>(), (*row)[1].as<std::int64_t>()};
}

}  // namespace eltrix::rooms
