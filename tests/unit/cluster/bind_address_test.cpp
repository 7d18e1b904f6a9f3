#include "cluster/bind_address.h"

#include <catch2/catch.hpp>

using namespace eltrix::cluster;

TEST_CASE("mesh bind address: private and wildcard addresses are told apart", "[cluster][bind]") {
  for (const char* ip :
       {"127.0.0.1", "127.0.0.3", "10.1.2.3", "172.16.0.1", "172.31.255.254", "192.168.1.1",
        "100.64.0.1", "100.127.255.1", "::1", "fd00::1", "fc12::5"}) {
    INFO(ip);
    CHECK(is_private_address(ip));
  }
  for (const char* ip : {"0.0.0.0", "8.8.8.8", "172.32.0.1", "172.15.0.1", "192.0.2.2",
                         "100.128.0.1", "169.254.1.1", "2001:db8::1", "::", "fe80::1", "", "x"}) {
    INFO(ip);
    CHECK_FALSE(is_private_address(ip));
  }
  CHECK(is_wildcard_address("0.0.0.0"));
  CHECK(is_wildcard_address("::"));
  CHECK_FALSE(is_wildcard_address("127.0.0.1"));
  CHECK_FALSE(is_wildcard_address(""));
}

TEST_CASE("mesh bind address: never every interface unless configured so", "[cluster][bind]") {
  const std::vector<std::string> interfaces{"127.0.0.1", "203.0.113.7", "10.0.0.5", "fd00::5"};
  SECTION("configured: honoured, a wildcard with a warning") {
    auto choice = choose_bind_address("192.0.2.9", "0.0.0.0", interfaces);
    CHECK(choice.address == "192.0.2.9");
    CHECK_FALSE(choice.warn);
    choice = choose_bind_address("0.0.0.0", "127.0.0.1", interfaces);
    CHECK(choice.address == "0.0.0.0");
    CHECK(choice.warn);
  }
  SECTION("empty: http.bind_address when private or loopback") {
    CHECK(choose_bind_address("", "127.0.0.2", interfaces).address == "127.0.0.2");
    CHECK(choose_bind_address("", "10.9.9.9", interfaces).address == "10.9.9.9");
  }
  SECTION("empty, http on every interface or a public address: the first private interface") {
    CHECK(choose_bind_address("", "0.0.0.0", interfaces).address == "10.0.0.5");
    CHECK(choose_bind_address("", "203.0.113.7", interfaces).address == "10.0.0.5");
    CHECK(choose_bind_address("", "::", {"::1", "fd00::5"}).address == "fd00::5");
  }
  SECTION("empty, no private interface: loopback") {
    auto choice = choose_bind_address("", "0.0.0.0", {"127.0.0.1", "192.0.2.2"});
    CHECK(choice.address == "127.0.0.1");
    CHECK_FALSE(choice.warn);
    CHECK(choice.reason.find("cluster.bind_address") != std::string::npos);
  }
  CHECK_FALSE(interface_addresses().empty());  // at least loopback
}
