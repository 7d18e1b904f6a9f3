// cluster-strategy-dns against a real dnsmasq (scripts/lib/dnsmasq.sh):
// answers, changes delivered through watch, failures that keep the last set,
// and AAAA records.
#include "contract/harness.h"
#include "contract/impl/test_host.h"
#include "contract/services/dnsmasq.h"
#include "contract/services/peer_recorder.h"

#include "../../../plugins/cluster-strategy/dns/dns_lookup.h"
#include "../../../plugins/cluster-strategy/dns/dns_strategy.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>

namespace eltrix::contract {
namespace {

using cluster_dns::DnsStrategy;
using Addresses = std::vector<std::string>;

const std::string kName = "peers.eltrix.test";

config::StaticConfig dns_config(const Dnsmasq& dns, const std::string& name = kName) {
  return config::StaticConfig({{"cluster.dns.name", name},
                               {"cluster.dns.server", dns.server()},
                               {"cluster.dns.poll_interval", "1"},
                               {"cluster.dns.timeout", "1"}});
}

double failures(const TestHost& host, const std::string& reason) {
  return host.value("eltrix_cluster_discovery_failures_total",
                    "{strategy=\"dns\",reason=\"" + reason + "\"}");
}

}  // namespace

TEST_CASE("cluster-strategy-dns finds the A records, sorted, named by address",
          "[plugin][cluster-dns]") {
  Dnsmasq dns(kName, {"127.0.0.4", "127.0.0.2", "127.0.0.3", "127.0.0.2"});
  TestHost host;
  auto config = dns_config(dns);
  DnsStrategy strategy(host, config);

  auto peers = strategy.discover();
  CHECK(PeerRecorder::addresses_of(peers) == Addresses{"127.0.0.2", "127.0.0.3", "127.0.0.4"});
  for (const auto& peer : peers) {
    CHECK(peer.name == peer.address);
    CHECK(peer.port == 0);
  }
  auto health = strategy.health();
  CHECK(health.status == plugin::HealthStatus::ok);
  CHECK_THAT(health.detail, Catch::Contains("3 peers") && Catch::Contains(kName));
  CHECK(host.value("eltrix_cluster_discovery_peers", "{strategy=\"dns\"}") == 3);
  CHECK(host.value("eltrix_cluster_discovery_polls_total", "{strategy=\"dns\"}") >= 1);
}

TEST_CASE("cluster-strategy-dns delivers the set, then each change, through watch",
          "[plugin][cluster-dns]") {
  Dnsmasq dns(kName, {"127.0.0.2", "127.0.0.3", "127.0.0.4"});
  TestHost host;
  auto config = dns_config(dns);
  DnsStrategy strategy(host, config);
  PeerRecorder recorder;
  strategy.watch(&recorder);
  // The first answer is known at construction, so it is delivered at once.
  REQUIRE(recorder.calls().size() == 1);
  CHECK(PeerRecorder::addresses_of(recorder.calls()[0]) ==
        Addresses{"127.0.0.2", "127.0.0.3", "127.0.0.4"});

  dns.set(kName, {"127.0.0.2", "127.0.0.4", "127.0.0.5"});  // one removed, one added
  CHECK(recorder.wait_for({"127.0.0.2", "127.0.0.4", "127.0.0.5"}));
  dns.set(kName, {"127.0.0.5"});
  CHECK(recorder.wait_for({"127.0.0.5"}));

  // An unchanged answer is not delivered again.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  CHECK(recorder.calls().size() == 3);

  // After watch(nullptr) returns, changes are no longer delivered.
  strategy.watch(nullptr);
  dns.set(kName, {"127.0.0.2"});
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  CHECK(recorder.calls().size() == 3);
}

TEST_CASE("cluster-strategy-dns keeps the last set on NXDOMAIN and reports degraded",
          "[plugin][cluster-dns]") {
  Dnsmasq dns(kName, {"127.0.0.2", "127.0.0.3"});
  TestHost host;
  auto config = dns_config(dns);
  DnsStrategy strategy(host, config);
  PeerRecorder recorder;
  strategy.watch(&recorder);

  dns.set(kName, {});  // the name is gone: NXDOMAIN
  REQUIRE(eventually([&] { return strategy.health().status == plugin::HealthStatus::degraded; }));
  auto health = strategy.health();
  CHECK_THAT(health.detail, Catch::Contains("NXDOMAIN") && Catch::Contains(kName) &&
                                Catch::Contains("keeping the 2 peers"));
  CHECK(failures(host, "nxdomain") >= 1);
  // The listener never heard of an empty set, and the gauge still counts the kept peers.
  for (const auto& call : recorder.calls()) CHECK(call.size() == 2);
  CHECK(host.value("eltrix_cluster_discovery_peers", "{strategy=\"dns\"}") == 2);
  require_error(plugin::ErrorKind::transient, [&] { (void)strategy.discover(); });

  // The failure is logged once when it starts, not on every poll.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  CHECK(failures(host, "nxdomain") >= 2);
  int warnings = 0;
  for (const auto& line : host.log_lines()) {
    if (line.find("peer discovery failed") != std::string::npos) ++warnings;
  }
  CHECK(warnings == 1);

  dns.set(kName, {"127.0.0.3"});
  CHECK(recorder.wait_for({"127.0.0.3"}));
  CHECK(eventually([&] { return strategy.health().status == plugin::HealthStatus::ok; }));
}

TEST_CASE("cluster-strategy-dns clears the set on an authoritative empty answer",
          "[plugin][cluster-dns]") {
  // The TXT record keeps the name in existence once its addresses are gone,
  // so A and AAAA get an empty NOERROR answer instead of NXDOMAIN.
  ::setenv("ELTRIX_DNSMASQ_EXTRA_ARGS", ("--txt-record=" + kName + ",eltrix").c_str(), 1);
  Dnsmasq dns(kName, {"127.0.0.2", "127.0.0.3"});
  ::unsetenv("ELTRIX_DNSMASQ_EXTRA_ARGS");
  TestHost host;
  auto config = dns_config(dns);
  DnsStrategy strategy(host, config);
  PeerRecorder recorder;
  strategy.watch(&recorder);
  REQUIRE(recorder.wait_for({"127.0.0.2", "127.0.0.3"}));

  dns.set(kName, {});
  CHECK(recorder.wait_for({}));
  CHECK(strategy.health().status == plugin::HealthStatus::ok);
  CHECK(strategy.discover().empty());
  CHECK(host.value("eltrix_cluster_discovery_peers", "{strategy=\"dns\"}") == 0);
}

TEST_CASE("cluster-strategy-dns reads AAAA records too", "[plugin][cluster-dns]") {
  Dnsmasq dns(kName, {"::1", "127.0.0.3", "127.0.0.2"});
  TestHost host;
  {
    auto config = dns_config(dns);
    DnsStrategy strategy(host, config);
    // IPv4 first, then IPv6.
    CHECK(PeerRecorder::addresses_of(strategy.discover()) ==
          Addresses{"127.0.0.2", "127.0.0.3", "::1"});
  }
  dns.set("v6.eltrix.test", {"::1"});
  auto config = dns_config(dns, "v6.eltrix.test");
  DnsStrategy strategy(host, config);
  CHECK(PeerRecorder::addresses_of(strategy.discover()) == Addresses{"::1"});
  CHECK(strategy.health().status == plugin::HealthStatus::ok);
}

TEST_CASE("cluster-strategy-dns starts degraded, without throwing, when no server answers",
          "[plugin][cluster-dns]") {
  TestHost host;
  // Nothing listens there: the lookup is refused at once.
  const std::string server = "127.0.0.1:" + std::to_string(free_loopback_port());
  config::StaticConfig config({{"cluster.dns.name", kName},
                               {"cluster.dns.server", server},
                               {"cluster.dns.poll_interval", "1"},
                               {"cluster.dns.timeout", "1"}});
  DnsStrategy strategy(host, config);
  auto health = strategy.health();
  CHECK(health.status == plugin::HealthStatus::degraded);
  CHECK_THAT(health.detail, Catch::Contains(server) && Catch::Contains("no peers known yet"));
  CHECK(failures(host, "unreachable") == 1);
  PeerRecorder recorder;
  strategy.watch(&recorder);  // nothing known: nothing delivered
  CHECK(recorder.calls().empty());
  require_error(plugin::ErrorKind::transient, [&] { (void)strategy.discover(); });
  strategy.watch(nullptr);
}

TEST_CASE("cluster-strategy-dns reports a timeout when the server never answers",
          "[plugin][cluster-dns]") {
  // A bound UDP socket nobody reads: queries vanish, as with a dead resolver.
  const int silent = ::socket(AF_INET, SOCK_DGRAM, 0);
  REQUIRE(silent >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof address;
  REQUIRE(::bind(silent, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  REQUIRE(::getsockname(silent, reinterpret_cast<sockaddr*>(&address), &size) == 0);
  const std::string server = "127.0.0.1:" + std::to_string(ntohs(address.sin_port));

  TestHost host;
  config::StaticConfig config({{"cluster.dns.name", kName},
                               {"cluster.dns.server", server},
                               {"cluster.dns.poll_interval", "60"},
                               {"cluster.dns.timeout", "1"}});
  const auto started = std::chrono::steady_clock::now();
  {
    DnsStrategy strategy(host, config);
    // Two tries of one second each, then the strategy gives up for this poll.
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(5));
    auto health = strategy.health();
    CHECK(health.status == plugin::HealthStatus::degraded);
    CHECK_THAT(health.detail, Catch::Contains("timeout") && Catch::Contains(server));
    CHECK(failures(host, "timeout") == 1);
  }
  ::close(silent);
}

TEST_CASE("cluster-strategy-dns refuses a bad name or server, naming the key",
          "[plugin][cluster-dns]") {
  TestHost host;
  struct Case {
    const char* key;
    const char* name;
    const char* server;
  };
  for (const Case& c : {Case{"cluster.dns.name", "", ""}, Case{"cluster.dns.name", "bad name", ""},
                        Case{"cluster.dns.name", "-x.example", ""},
                        Case{"cluster.dns.server", "ok.example", "localhost:53"},
                        Case{"cluster.dns.server", "ok.example", "127.0.0.1:"},
                        Case{"cluster.dns.server", "ok.example", "127.0.0.1:70000"},
                        Case{"cluster.dns.server", "ok.example", "[::1]:53"}}) {
    INFO(c.key << " name='" << c.name << "' server='" << c.server << "'");
    config::StaticConfig config({{"cluster.dns.name", c.name}, {"cluster.dns.server", c.server}});
    std::vector<plugin::ConfigProblem> problems;
    DnsStrategy::validate(config, problems);
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].key == c.key);
    const std::string value = std::string(c.key) == "cluster.dns.name" ? c.name : c.server;
    CHECK_THAT(problems[0].message,
               Catch::Contains("'" + value + "'") && Catch::Contains("expected"));
    require_error(plugin::ErrorKind::permanent, [&] { DnsStrategy strategy(host, config); });
  }
  config::StaticConfig good({{"cluster.dns.name", "eltrix.default.svc.cluster.local."},
                             {"cluster.dns.server", "10.0.0.10"}});
  std::vector<plugin::ConfigProblem> problems;
  DnsStrategy::validate(good, problems);
  CHECK(problems.empty());
}

}  // namespace eltrix::contract
