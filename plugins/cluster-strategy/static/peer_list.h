// Parsing of static peer entries: "host", "host:port", "[ipv6]" or "[ipv6]:port".
#pragma once

#include <eltrix/plugin/cluster_strategy.h>

#include <string>
#include <string_view>
#include <vector>

namespace eltrix::cluster_static {

/// Parses one entry. Throws plugin::Error(permanent) naming the entry and
/// what was expected. The peer's name is the entry as written; its port is 0
/// when none was given.
plugin::Peer parse_peer(std::string_view entry);

/// Parses every entry of the list; duplicates (same address and port) are
/// dropped, keeping the first.
std::vector<plugin::Peer> parse_peers(const std::vector<std::string>& entries);

}  // namespace eltrix::cluster_static
