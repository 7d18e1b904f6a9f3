// The contract suites: one per plugin kind, run against every implementation
// (the real plugin files and the in-memory fakes) through plugins::Registry.
//
// Each suite is a function over a factory and uses Catch2 SECTIONs, so call it
// directly from a TEST_CASE; every section gets a fresh subject.
#pragma once

#include "contract/harness.h"

#include <vector>

namespace eltrix::contract {

void run_cache_contract(const Factory<plugin::Cache>& make);

/// `make` must give each subject an empty store of its own.
void run_media_store_contract(const Factory<plugin::MediaStore>& make);

/// A configuration and the peers a strategy must find with it.
struct ClusterScenario {
  ConfigValues config;
  std::vector<plugin::Peer> expected;  ///< compared on address and port, in order
};
/// The scenarios run_cluster_strategy_contract uses for cluster.peers-based strategies.
std::vector<ClusterScenario> static_peer_scenarios();
void run_cluster_strategy_contract(const Factory<plugin::ClusterStrategy>& make,
                                   const std::vector<ClusterScenario>& scenarios);

void run_db_routing_contract(const Factory<plugin::DbRouting>& make);

}  // namespace eltrix::contract
