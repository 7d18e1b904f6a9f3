// Per-client-address connection limits for the HTTP server.
//
// Every accepted connection counts against its client's address until its
// socket is closed (the count lives in the socket, see tracked_socket()), so
// connections waiting for a head, served on a worker, parked or idle between
// requests all count alike. IPv6 clients count per /64, the block a single
// host usually gets: a host holding a /64 could otherwise use a new address
// per connection. Load balancers and reverse proxies (every connection from
// a handful of addresses) are listed in `exempt` so that they are not capped.
#pragma once

#include <Poco/Net/StreamSocket.h>

#include <sys/socket.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace eltrix::http {

/// An address block: "192.0.2.7", "10.0.0.0/8", "2001:db8::/32".
struct AddressBlock {
  std::array<std::uint8_t, 16> bytes{};  ///< IPv4 as IPv4-mapped IPv6
  int prefix = 128;                      ///< bits, on the 16-byte form
  /// nullopt if `text` is not an address or block.
  static std::optional<AddressBlock> parse(std::string_view text);
  [[nodiscard]] bool contains(const std::array<std::uint8_t, 16>& address) const;
};

class AddressLimiter {
 public:
  /// `max_per_address` 0: no limit.
  AddressLimiter(std::size_t max_per_address, std::vector<AddressBlock> exempt);

  /// Counts a new connection from `peer`; false (nothing counted) when its
  /// address already has max_per_address connections open.
  /// On true, `key` is what release() needs.
  bool acquire(const sockaddr_storage& peer, std::string& key);
  void release(const std::string& key);
  /// Connections counted now (exempt ones are counted too, under their address).
  [[nodiscard]] std::size_t open() const;

 private:
  const std::size_t max_;
  const std::vector<AddressBlock> exempt_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::size_t> counts_;
  std::size_t open_ = 0;
};

/// A stream socket over an accepted `fd` that releases its count in
/// `limiter` when its last copy is gone (and the descriptor closed).
Poco::Net::StreamSocket tracked_socket(int fd, std::shared_ptr<AddressLimiter> limiter,
                                       std::string key);

}  // namespace eltrix::http
