-- What several nodes sharing this database need (core/cluster).

-- A waiting sync rechecks the stream every few seconds in case a cluster
-- wake-up was lost (storage/stream_changes.cpp asks which rooms and users
-- changed between two positions); these make that a range scan.
CREATE INDEX receipts_stream ON receipts (stream_position);
CREATE INDEX account_data_stream ON account_data (stream_position);

-- Every running node, heartbeating. A node id is random per process start.
-- Nodes whose heartbeat is older than cluster.node_timeout are dead: their
-- users' presence is taken offline (client/presence.cpp).
CREATE TABLE cluster_nodes (
  node_id text PRIMARY KEY,
  address text NOT NULL,
  started_ts bigint NOT NULL,
  last_seen_ts bigint NOT NULL
);

-- The node whose client last refreshed the user's presence (NULL: a node
-- without the cluster, or before it). When that node dies, its users go
-- offline unless another node takes them over first.
ALTER TABLE presence ADD COLUMN node_id text;
CREATE INDEX presence_node ON presence (node_id) WHERE state <> 'offline';
