#include "cluster/bind_address.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include <array>
#include <cstdint>

namespace eltrix::cluster {

namespace {

bool is_loopback(std::string_view ip) {
  const std::string s(ip);
  in_addr v4{};
  if (inet_pton(AF_INET, s.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24U) == 127U;
  in6_addr v6{};
  return inet_pton(AF_INET6, s.c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
}

}  // namespace

bool is_wildcard_address(std::string_view ip) {
  const std::string s(ip);
  in_addr v4{};
  if (inet_pton(AF_INET, s.c_str(), &v4) == 1) return v4.s_addr == INADDR_ANY;
  in6_addr v6{};
  return inet_pton(AF_INET6, s.c_str(), &v6) == 1 && IN6_IS_ADDR_UNSPECIFIED(&v6);
}

bool is_private_address(std::string_view ip) {
  const std::string s(ip);
  in_addr v4{};
  if (inet_pton(AF_INET, s.c_str(), &v4) == 1) {
    const std::uint32_t a = ntohl(v4.s_addr);
    return (a >> 24U) == 127U || (a >> 24U) == 10U || (a >> 20U) == ((172U << 4U) | 1U) ||
           (a >> 16U) == ((192U << 8U) | 168U) || (a >> 22U) == ((100U << 2U) | 1U);
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, s.c_str(), &v6) != 1) return false;
  return IN6_IS_ADDR_LOOPBACK(&v6) || (v6.s6_addr[0] & 0xFEU) == 0xFCU;
}

BindChoice choose_bind_address(std::string_view configured, std::string_view http_bind,
                               const std::vector<std::string>& interfaces) {
  if (!configured.empty()) {
    if (is_wildcard_address(configured)) {
      return {std::string(configured),
              "cluster.bind_address (every interface: firewall the port from untrusted "
              "networks)",
              true};
    }
    return {std::string(configured), "cluster.bind_address"};
  }
  if (!http_bind.empty() && !is_wildcard_address(http_bind) && is_private_address(http_bind)) {
    return {std::string(http_bind), "http.bind_address (a private or loopback address)"};
  }
  for (const auto& address : interfaces) {
    if (is_private_address(address) && !is_loopback(address)) {
      return {address,
              "the node's first private interface address (cluster.bind_address is empty)"};
    }
  }
  return {"127.0.0.1",
          "loopback: cluster.bind_address is empty and the node has no private address; set "
          "cluster.bind_address for peers to reach it"};
}

std::vector<std::string> interface_addresses() {
  std::vector<std::string> v4;
  std::vector<std::string> v6;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return {};
  for (const ifaddrs* it = list; it != nullptr; it = it->ifa_next) {
    if (it->ifa_addr == nullptr || (it->ifa_flags & IFF_UP) == 0U) continue;
    std::array<char, INET6_ADDRSTRLEN> text{};
    if (it->ifa_addr->sa_family == AF_INET) {
      const auto* in = reinterpret_cast<const sockaddr_in*>(it->ifa_addr);
      if (inet_ntop(AF_INET, &in->sin_addr, text.data(), text.size()) != nullptr) {
        v4.emplace_back(text.data());
      }
    } else if (it->ifa_addr->sa_family == AF_INET6) {
      const auto* in = reinterpret_cast<const sockaddr_in6*>(it->ifa_addr);
      if (inet_ntop(AF_INET6, &in->sin6_addr, text.data(), text.size()) != nullptr) {
        v6.emplace_back(text.data());
      }
    }
  }
  freeifaddrs(list);
  v4.insert(v4.end(), v6.begin(), v6.end());
  return v4;
}

}  // namespace eltrix::cluster
