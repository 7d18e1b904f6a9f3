#include "http/address_limit.h"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

using namespace eltrix::http;

namespace {

sockaddr_storage peer(const char* text) {
  sockaddr_storage out{};
  in_addr v4{};
  in6_addr v6{};
  if (inet_pton(AF_INET, text, &v4) == 1) {
    auto& in = reinterpret_cast<sockaddr_in&>(out);
    in.sin_family = AF_INET;
    in.sin_addr = v4;
  } else {
    REQUIRE(inet_pton(AF_INET6, text, &v6) == 1);
    auto& in = reinterpret_cast<sockaddr_in6&>(out);
    in.sin6_family = AF_INET6;
    in.sin6_addr = v6;
  }
  return out;
}

std::vector<AddressBlock> blocks(std::initializer_list<const char*> texts) {
  std::vector<AddressBlock> out;
  for (const char* t : texts) out.push_back(AddressBlock::parse(t).value());
  return out;
}

}  // namespace

TEST_CASE("address blocks parse and match", "[http]") {
  CHECK_FALSE(AddressBlock::parse("nonsense"));
  CHECK_FALSE(AddressBlock::parse("10.0.0.0/33"));
  CHECK_FALSE(AddressBlock::parse("10.0.0.0/"));
  CHECK_FALSE(AddressBlock::parse("::/129"));
  const auto net = AddressBlock::parse("10.0.0.0/8").value();
  std::string key;
  AddressLimiter exempt_all(1, {net});
  CHECK(exempt_all.acquire(peer("10.1.2.3"), key));
  CHECK(exempt_all.acquire(peer("10.1.2.3"), key));
  CHECK(exempt_all.acquire(peer("11.0.0.1"), key));
  CHECK_FALSE(exempt_all.acquire(peer("11.0.0.1"), key));
}

TEST_CASE("connections are capped per address, IPv6 per /64", "[http]") {
  AddressLimiter limiter(2, blocks({"192.0.2.10", "2001:db8:1::/48"}));
  std::string a1, a2, a3, b1;
  CHECK(limiter.acquire(peer("127.0.0.1"), a1));
  CHECK(limiter.acquire(peer("127.0.0.1"), a2));
  CHECK_FALSE(limiter.acquire(peer("127.0.0.1"), a3));
  CHECK(limiter.acquire(peer("127.0.0.2"), b1));  // another address
  CHECK(limiter.open() == 3);
  limiter.release(a1);
  CHECK(limiter.acquire(peer("127.0.0.1"), a3));  // room again

  // One /64: two addresses of it share the count; another /64 does not.
  std::string k;
  CHECK(limiter.acquire(peer("2001:db8:2:3::1"), k));
  CHECK(limiter.acquire(peer("2001:db8:2:3::ffff"), k));
  CHECK_FALSE(limiter.acquire(peer("2001:db8:2:3:1::"), k));
  CHECK(limiter.acquire(peer("2001:db8:2:4::1"), k));
  // IPv4-mapped IPv6 is the IPv4 address.
  CHECK_FALSE(limiter.acquire(peer("::ffff:127.0.0.1"), k));
  // Exempt: a single address and a block.
  for (int i = 0; i < 5; ++i) {
    CHECK(limiter.acquire(peer("192.0.2.10"), k));
    CHECK(limiter.acquire(peer("2001:db8:1:9::1"), k));
  }
}

TEST_CASE("no limit when the cap is 0", "[http]") {
  AddressLimiter limiter(0, {});
  std::string k;
  for (int i = 0; i < 1000; ++i) CHECK(limiter.acquire(peer("127.0.0.1"), k));
  CHECK(limiter.open() == 1000);
}
