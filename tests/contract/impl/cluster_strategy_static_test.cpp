// White-box tests of cluster-strategy-static's entry parser.
#include "contract/harness.h"
#include "contract/impl/test_host.h"

#include "../../../plugins/cluster-strategy/static/peer_list.h"
#include "../../../plugins/cluster-strategy/static/static_strategy.h"

namespace eltrix::contract {

using cluster_static::parse_peer;
using cluster_static::parse_peers;

TEST_CASE("cluster-strategy-static parses host[:port] entries", "[plugin][cluster-static]") {
  struct Case {
    const char* entry;
    const char* address;
    std::uint16_t port;
  };
  for (const Case& c :
       {Case{"node1", "node1", 0}, Case{"node1:4369", "node1", 4369},
        Case{"node-1.example.org:1", "node-1.example.org", 1},
        Case{"eltrix_2.svc.local.:65535", "eltrix_2.svc.local.", 65535},
        Case{"10.1.2.3:8448", "10.1.2.3", 8448}, Case{"[::1]", "::1", 0},
        Case{"[fd00::1]:4369", "fd00::1", 4369}, Case{"[fe80::1%eth0]:9", "fe80::1%eth0", 9},
        Case{"[::ffff:10.0.0.1]:80", "::ffff:10.0.0.1", 80},
        Case{"[1:2:3:4:5:6:7:8]:1", "1:2:3:4:5:6:7:8", 1}, Case{"[::]", "::", 0},
        Case{"[FD00::A]", "FD00::A", 0}, Case{"0.0.0.0:7", "0.0.0.0", 7},
        Case{"255.255.255.255", "255.255.255.255", 0}, Case{"1node.example", "1node.example", 0},
        Case{"[fe80::1%2]", "fe80::1%2", 0}}) {
    INFO(c.entry);
    auto peer = parse_peer(c.entry);
    CHECK(peer.address == c.address);
    CHECK(peer.port == c.port);
    CHECK(peer.name == c.entry);
  }
}

TEST_CASE("cluster-strategy-static rejects bad entries, naming them", "[plugin][cluster-static]") {
  for (const char* entry : {"node1:",        ":4369",         "node1:0",    "node1:65536",
                            "node1:http",    "node1:43 69",   "fd00::1",    "[fd00::1",
                            "[fd00::1]4369", "[]:80",         "[node1]:80", "bad host",
                            "-node",         "node..org",     "[fd00::1]:", "node1:4369:1",
                            "a/b",           "[12345::1]",    "[1:2]",      "[::1.2]",
                            "[1.2.3.4:5]",   "[:.]",          "[1.2.3.4]",  "[1:2:3:4:5:6:7:8:9]",
                            "[fe80::1%]",    "[fe80::1%e/0]", "1.2.3.256",  "1.2.3",
                            "1.2.3.4.5",     "01.2.3.4:80",   "...",        "1.2.3.4.:80"}) {
    INFO(entry);
    try {
      (void)parse_peer(entry);
      FAIL("accepted");
    } catch (const plugin::Error& error) {
      CHECK(error.kind() == plugin::ErrorKind::permanent);
      CHECK_THAT(error.what(), Catch::Contains(std::string("'") + entry + "'"));
      CHECK_THAT(error.what(), Catch::Contains("cluster.peers"));
      CHECK_THAT(error.what(), Catch::Contains("expected host[:port]"));
    }
  }
}

TEST_CASE("cluster-strategy-static drops duplicates and fails at construction on a bad entry",
          "[plugin][cluster-static]") {
  auto peers = parse_peers({"a:1", "b", "a:1", "a:2", "b"});
  REQUIRE(peers.size() == 3);
  CHECK(peers[0].address == "a");
  CHECK(peers[1].address == "b");
  CHECK(peers[2].port == 2);

  TestHost host;
  config::StaticConfig bad({{"cluster.peers", "good:1, bad:port"}});
  try {
    cluster_static::StaticStrategy strategy(host, bad);
    FAIL("constructed");
  } catch (const plugin::Error& error) {
    CHECK(error.kind() == plugin::ErrorKind::permanent);
    CHECK_THAT(error.what(), Catch::Contains("'bad:port'"));
  }
  config::StaticConfig none;
  cluster_static::StaticStrategy strategy(host, none);
  CHECK(strategy.discover().empty());
  strategy.watch(nullptr);
}

}  // namespace eltrix::contract
