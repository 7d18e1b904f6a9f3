// Where the mesh listens when the operator does not say (cluster.bind_address
// empty): never every interface implicitly. The mesh port answers anyone who
// can reach it, so by default it stays on a loopback or private address:
//   1. http.bind_address, when that is a loopback or private address;
//   2. else the node's first private interface address (IPv4 before IPv6);
//   3. else 127.0.0.1 (a single-node install needs no peers).
// An explicit 0.0.0.0 or :: is honoured, with a warning.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace eltrix::cluster {

struct BindChoice {
  std::string address;
  std::string reason;  ///< why this address, for the startup log
  bool warn = false;   ///< listening on every interface: worth a warning
};

/// 0.0.0.0 or :: (every interface).
bool is_wildcard_address(std::string_view ip);
/// 127/8, ::1, 10/8, 172.16/12, 192.168/16, 100.64/10 (carrier-grade NAT,
/// common for pod networks) or fc00::/7. False for anything unparsable.
bool is_private_address(std::string_view ip);

/// The address to bind: `configured` (cluster.bind_address) when set, else as
/// described above from `http_bind` and the node's `interfaces`.
BindChoice choose_bind_address(std::string_view configured, std::string_view http_bind,
                               const std::vector<std::string>& interfaces);

/// The addresses of the node's interfaces that are up (getifaddrs), IPv4 ones first.
std::vector<std::string> interface_addresses();

}  // namespace eltrix::cluster
