// One DNS round for the dns cluster strategy: the A and AAAA records of a
// name, through glibc's resolver on a private res_state (thread-safe, and the
// only glibc interface that can ask a given server on a given port; see
// docs/decisions.md).
#pragma once

#include <eltrix/plugin/cluster_strategy.h>

#include <netinet/in.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace eltrix::cluster_dns {

struct LookupOptions {
  std::string name;
  /// Ask only this server; nullopt: the servers of /etc/resolv.conf.
  std::optional<sockaddr_in> server;
  int timeout_seconds = 2;  ///< per attempt and server
  int attempts = 2;
};

/// Parses cluster.dns.server: an IPv4 address with an optional port
/// ("127.0.0.1:5353", "10.0.0.10"); empty means nullopt. Throws
/// plugin::Error(permanent) naming the key, the value and what was expected.
std::optional<sockaddr_in> parse_server(std::string_view text);

/// Whether `name` is a syntactically valid DNS name (letters, digits, '-'
/// and '_' in dot-separated labels of 1-63 characters, at most 253 in all).
bool valid_dns_name(std::string_view name);

/// "127.0.0.1:5353", or "the system resolver" for nullopt.
std::string describe_server(const std::optional<sockaddr_in>& server);

/// Queries A then AAAA for options.name. Every address found becomes a peer
/// named after its address, with port 0 (the cluster port). A name that
/// exists with no address records gives an empty set. Throws
/// cluster_common::FetchFailure on NXDOMAIN, a timeout, SERVFAIL, a refusal
/// or an unreachable server: then nothing is known about the peers.
std::vector<plugin::Peer> lookup_peers(const LookupOptions& options);

}  // namespace eltrix::cluster_dns
