#include "pod_list.h"

#include "../common/peer_poller.h"

#include <nlohmann/json.hpp>

namespace eltrix::cluster_kubernetes {
namespace {

using nlohmann::json;

const json* member(const json& object, const char* name) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(name);
  return it == object.end() ? nullptr : &*it;
}

std::string string_member(const json& object, const char* name) {
  const json* value = member(object, name);
  return value != nullptr && value->is_string() ? value->get<std::string>() : std::string();
}

bool ready_condition(const json& status) {
  const json* conditions = member(status, "conditions");
  if (conditions == nullptr || !conditions->is_array()) return false;
  for (const auto& condition : *conditions) {
    if (string_member(condition, "type") == "Ready") {
      return string_member(condition, "status") == "True";
    }
  }
  return false;
}

}  // namespace

PodListAnswer parse_pod_list(std::string_view body) {
  json list = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (list.is_discarded()) {
    throw cluster_common::FetchFailure("bad_json", "the pod list from the API server is not JSON");
  }
  const json* items = member(list, "items");
  if (string_member(list, "kind") != "PodList" || items == nullptr ||
      !(items->is_array() || items->is_null())) {
    throw cluster_common::FetchFailure(
        "bad_json", "the API server's answer is not a PodList (kind '" +
                        string_member(list, "kind") + "', expected 'PodList' with items)");
  }
  PodListAnswer answer;
  if (const json* metadata = member(list, "metadata")) {
    answer.resource_version = string_member(*metadata, "resourceVersion");
  }
  if (items->is_null()) return answer;  // Kubernetes may send "items": null for none
  for (const auto& pod : *items) {
    const json* metadata = member(pod, "metadata");
    const json* status = member(pod, "status");
    if (metadata == nullptr || status == nullptr) continue;
    const json* deletion = member(*metadata, "deletionTimestamp");
    if (deletion != nullptr && !deletion->is_null()) continue;  // terminating
    std::string name = string_member(*metadata, "name");
    std::string ip = string_member(*status, "podIP");
    if (name.empty() || ip.empty()) continue;
    if (string_member(*status, "phase") != "Running" || !ready_condition(*status)) continue;
    answer.peers.push_back(plugin::Peer{.name = std::move(name), .address = std::move(ip)});
  }
  return answer;
}

std::string status_message(std::string_view body) {
  json status = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (status.is_discarded() || string_member(status, "kind") != "Status") return {};
  std::string message = string_member(status, "message");
  if (message.size() > 200) message.resize(200);
  return message;
}

}  // namespace eltrix::cluster_kubernetes
