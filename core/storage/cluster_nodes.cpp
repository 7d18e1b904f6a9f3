#include "storage/cluster_nodes.h"

#include "storage/stream.h"
#include "storage/user_data.h"

namespace eltrix::storage {

void heartbeat_node(Transaction& tx, std::string_view node_id, std::string_view address,
                    std::int64_t started_ts, std::int64_t now_ts) {
  tx.exec0(
      "INSERT INTO cluster_nodes (node_id, address, started_ts, last_seen_ts) "
      "VALUES ($1, $2, $3, $4) ON CONFLICT (node_id) DO UPDATE "
      "SET last_seen_ts = EXCLUDED.last_seen_ts, address = EXCLUDED.address",
      node_id, address, started_ts, now_ts);
}

std::vector<std::string> live_nodes(Transaction& tx, std::int64_t seen_since_ts) {
  std::vector<std::string> out;
  for (const auto& row :
       tx.exec("SELECT node_id FROM cluster_nodes WHERE last_seen_ts >= $1", seen_since_ts)) {
    out.push_back(row[0].as<std::string>());
  }
  return out;
}

void prune_nodes(Transaction& tx, std::int64_t seen_before_ts) {
  tx.exec0(
      "DELETE FROM cluster_nodes n WHERE n.last_seen_ts < $1 AND NOT EXISTS "
      "(SELECT 1 FROM presence p WHERE p.node_id = n.node_id AND p.state <> 'offline')",
      seen_before_ts);
}

void claim_presence(Transaction& tx, std::string_view user_id, std::string_view node_id) {
  tx.exec0("UPDATE presence SET node_id = $2 WHERE user_id = $1 AND node_id IS DISTINCT FROM $2",
           user_id, node_id);
}

std::vector<std::string> expire_presence_of_dead_nodes(Transaction& tx, std::int64_t dead_before_ts,
                                                       std::size_t limit) {
  // SKIP LOCKED lets every node sweep without queueing behind another.
  auto stale = tx.exec(
      "SELECT p.user_id FROM presence p LEFT JOIN cluster_nodes n ON n.node_id = p.node_id "
      "WHERE p.state <> 'offline' AND p.node_id IS NOT NULL "
      "AND (n.node_id IS NULL OR n.last_seen_ts < $1) "
      "LIMIT $2 FOR UPDATE OF p SKIP LOCKED",
      dead_before_ts, static_cast<std::int64_t>(limit));
  std::vector<std::string> users;
  users.reserve(stale.size());
  for (const auto& row : stale) users.push_back(row[0].as<std::string>());
  if (users.empty()) return users;
  const std::int64_t position = advance_stream(tx);
  tx.exec0(
      "UPDATE presence SET state = 'offline', stream_position = $2 "
      "WHERE user_id = ANY($1::text[])",
      text_array(users), position);
  return users;
}

}  // namespace eltrix::storage
