// The cluster_nodes table (migration 0006): each running node's heartbeat,
// and the presence rows tied to a node, so that a dead node's users go
// offline (cluster/node_registry.h).
#pragma once

#include "storage/database.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace eltrix::storage {

/// Inserts or refreshes this node's row.
void heartbeat_node(Transaction& tx, std::string_view node_id, std::string_view address,
                    std::int64_t started_ts, std::int64_t now_ts);
/// Ids of nodes whose heartbeat is at or after `seen_since_ts`.
std::vector<std::string> live_nodes(Transaction& tx, std::int64_t seen_since_ts);
/// Forgets nodes silent since before `seen_before_ts` and holding no
/// present user.
void prune_nodes(Transaction& tx, std::int64_t seen_before_ts);
/// Ties the user's presence row (if any) to `node_id`.
void claim_presence(Transaction& tx, std::string_view user_id, std::string_view node_id);
/// Marks offline (one stream position for the batch) up to `limit` users
/// whose presence is tied to a node that has not heartbeated since
/// `dead_before_ts` (or is unknown); returns them.
std::vector<std::string> expire_presence_of_dead_nodes(Transaction& tx, std::int64_t dead_before_ts,
                                                       std::size_t limit);

}  // namespace eltrix::storage
