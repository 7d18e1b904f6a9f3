// Reading a Kubernetes PodList (GET /api/v1/namespaces/{ns}/pods) into peers.
#pragma once

#include <eltrix/plugin/cluster_strategy.h>

#include <string>
#include <string_view>
#include <vector>

namespace eltrix::cluster_kubernetes {

struct PodListAnswer {
  std::vector<plugin::Peer> peers;  ///< ready pods only: name = pod name, address = podIP
  std::string resource_version;     ///< metadata.resourceVersion of the list
};

/// Parses a PodList body. A pod is a peer only when it is Running, has a
/// podIP, its Ready condition is "True" and it has no deletionTimestamp (it
/// is not terminating): only such pods serve and answer the mesh. Throws
/// cluster_common::FetchFailure("bad_json") when the body is not a PodList.
PodListAnswer parse_pod_list(std::string_view body);

/// The "message" of a v1 Status body (what the API server says went wrong),
/// at most 200 characters; empty when the body is not a Status.
std::string status_message(std::string_view body);

}  // namespace eltrix::cluster_kubernetes
