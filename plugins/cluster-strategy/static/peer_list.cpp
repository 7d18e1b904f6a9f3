#include "peer_list.h"

#include <eltrix/plugin/error.h>

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>

#include <algorithm>
#include <charconv>

namespace eltrix::cluster_static {
namespace {

constexpr std::string_view kExpected =
    "expected host[:port] or [ipv6-address][:port] with a port from 1 to 65535";

[[noreturn]] void fail(std::string_view entry, std::string_view problem) {
  throw plugin::Error(plugin::ErrorKind::permanent,
                      "cluster.peers: invalid entry '" + std::string(entry) +
                          "': " + std::string(problem) + "; " + std::string(kExpected));
}

bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// A DNS name: labels of letters, digits, '-' and '_'
// (not starting or ending with '-'), separated by single dots.
bool valid_host_name(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  if (host.back() == '.') host.remove_suffix(1);  // fully qualified
  std::size_t start = 0;
  while (start <= host.size()) {
    auto dot = host.find('.', start);
    if (dot == std::string_view::npos) dot = host.size();
    auto label = host.substr(start, dot - start);
    if (label.empty() || label.size() > 63) return false;
    if (label.front() == '-' || label.back() == '-') return false;
    for (char c : label) {
      if (!is_alnum(c) && c != '-' && c != '_') return false;
    }
    start = dot + 1;
  }
  return true;
}

// An IPv6 address as inet_pton reads it, with an optional %zone (an
// interface name or number).
bool valid_ipv6(std::string_view address) {
  auto percent = address.find('%');
  if (percent != std::string_view::npos) {
    auto zone = address.substr(percent + 1);
    if (zone.empty() || zone.size() >= IF_NAMESIZE) return false;
    for (char c : zone) {
      if (!is_alnum(c) && c != '-' && c != '_' && c != '.') return false;
    }
    address = address.substr(0, percent);
  }
  if (address.size() >= INET6_ADDRSTRLEN || address.find('\0') != std::string_view::npos) {
    return false;
  }
  in6_addr parsed{};
  return ::inet_pton(AF_INET6, std::string(address).c_str(), &parsed) == 1;
}

// Digits and dots only: meant as an IPv4 address, not a host name (no
// top-level domain is all digits).
bool looks_like_ipv4(std::string_view host) {
  return !host.empty() && std::all_of(host.begin(), host.end(),
                                      [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
}

// A dotted-quad IPv4 address as inet_pton reads it (four decimal parts).
bool valid_ipv4(std::string_view host) {
  if (host.size() >= INET_ADDRSTRLEN) return false;
  in_addr parsed{};
  return ::inet_pton(AF_INET, std::string(host).c_str(), &parsed) == 1;
}

std::uint16_t parse_port(std::string_view entry, std::string_view text) {
  if (text.empty()) fail(entry, "the port after ':' is empty");
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size()) {
    fail(entry, "the port '" + std::string(text) + "' is not a number");
  }
  if (value < 1 || value > 65535) {
    fail(entry, "the port " + std::string(text) + " is out of range");
  }
  return static_cast<std::uint16_t>(value);
}

}  // namespace

plugin::Peer parse_peer(std::string_view entry) {
  if (entry.empty()) fail(entry, "the entry is empty");
  plugin::Peer peer;
  peer.name = std::string(entry);
  if (entry.front() == '[') {
    auto close = entry.find(']');
    if (close == std::string_view::npos) fail(entry, "missing ']' after the IPv6 address");
    auto address = entry.substr(1, close - 1);
    if (!valid_ipv6(address)) fail(entry, "'" + std::string(address) + "' is not an IPv6 address");
    auto rest = entry.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') fail(entry, "unexpected text after ']'");
      peer.port = parse_port(entry, rest.substr(1));
    }
    peer.address = std::string(address);
    return peer;
  }
  auto colon = entry.find(':');
  if (colon != std::string_view::npos && entry.find(':', colon + 1) != std::string_view::npos) {
    fail(entry, "IPv6 addresses must be written in brackets, as in [fd00::1]:4369");
  }
  auto host = entry.substr(0, colon);
  if (looks_like_ipv4(host)) {
    if (!valid_ipv4(host)) fail(entry, "'" + std::string(host) + "' is not an IPv4 address");
  } else if (!valid_host_name(host)) {
    fail(entry, host.empty() ? std::string("the host is empty")
                             : "'" + std::string(host) + "' is not a valid host name or address");
  }
  if (colon != std::string_view::npos) peer.port = parse_port(entry, entry.substr(colon + 1));
  peer.address = std::string(host);
  return peer;
}

std::vector<plugin::Peer> parse_peers(const std::vector<std::string>& entries) {
  std::vector<plugin::Peer> peers;
  peers.reserve(entries.size());
  for (const auto& entry : entries) {
    auto peer = parse_peer(entry);
    bool duplicate = std::any_of(peers.begin(), peers.end(), [&](const plugin::Peer& known) {
      return known.address == peer.address && known.port == peer.port;
    });
    if (!duplicate) peers.push_back(std::move(peer));
  }
  return peers;
}

}  // namespace eltrix::cluster_static
