// cluster-strategy-kubernetes against tests/cluster/fake_kube_apiserver.py
// (real PodList JSON over HTTPS): which pods count, changes over time, a bad
// token, a CA mismatch and the namespace file.
#include "contract/harness.h"
#include "contract/impl/test_host.h"
#include "contract/services/dnsmasq.h"
#include "contract/services/fake_kube_apiserver.h"
#include "contract/services/peer_recorder.h"

#include "../../../plugins/cluster-strategy/kubernetes/api_client.h"
#include "../../../plugins/cluster-strategy/kubernetes/kubernetes_strategy.h"
#include "../../../plugins/cluster-strategy/kubernetes/pod_list.h"

namespace eltrix::contract {
namespace {

using cluster_kubernetes::KubernetesStrategy;
using Addresses = std::vector<std::string>;

double failures(const TestHost& host, const std::string& reason) {
  return host.value("eltrix_cluster_discovery_failures_total",
                    "{strategy=\"kubernetes\",reason=\"" + reason + "\"}");
}

std::vector<std::string> names_of(const std::vector<plugin::Peer>& peers) {
  std::vector<std::string> out;
  for (const auto& peer : peers) out.push_back(peer.name);
  return out;
}

// Every pod state the filter must handle, and two pods the selector or the
// namespace leave out.
std::vector<PodSpec> mixed_pods() {
  return {
      {.name = "eltrix-1", .ip = "127.0.0.3"},
      {.name = "eltrix-0", .ip = "127.0.0.2"},
      {.name = "eltrix-not-ready", .ip = "127.0.0.4", .ready = false},
      {.name = "eltrix-pending", .ip = "", .phase = "Pending", .ready = false},
      {.name = "eltrix-no-ip", .ip = "", .phase = "Running"},
      {.name = "eltrix-terminating", .ip = "127.0.0.5", .terminating = true},
      {.name = "eltrix-done", .ip = "127.0.0.6", .phase = "Succeeded", .ready = false},
      {.name = "eltrix-failed", .ip = "127.0.0.7", .phase = "Failed"},
      {.name = "web-0", .ip = "127.0.0.8", .app = "web"},
      {.name = "eltrix-elsewhere", .ip = "127.0.0.9", .pod_namespace = "other"},
  };
}

}  // namespace

TEST_CASE("cluster-strategy-kubernetes lists only ready, running, non-terminating pods",
          "[plugin][cluster-kubernetes]") {
  FakeKubeApiServer api;
  api.set_pods(mixed_pods(), "100");
  TestHost host;
  config::StaticConfig config(api.config());
  KubernetesStrategy strategy(host, config);

  auto peers = strategy.discover();
  CHECK(PeerRecorder::addresses_of(peers) == Addresses{"127.0.0.2", "127.0.0.3"});
  CHECK(names_of(peers) == std::vector<std::string>{"eltrix-0", "eltrix-1"});
  for (const auto& peer : peers) CHECK(peer.port == 0);
  auto health = strategy.health();
  CHECK(health.status == plugin::HealthStatus::ok);
  CHECK_THAT(health.detail, Catch::Contains("2 peers") && Catch::Contains("app=eltrix") &&
                                Catch::Contains("eltrix-test"));
  CHECK(host.value("eltrix_cluster_discovery_peers", "{strategy=\"kubernetes\"}") == 2);

  auto requests = api.requests();
  REQUIRE_FALSE(requests.empty());
  CHECK(requests[0]["path"] == "/api/v1/namespaces/eltrix-test/pods");
  CHECK(requests[0]["query"]["labelSelector"][0] == "app=eltrix");
  CHECK(requests[0]["authorised"] == true);
  // Later lists ask for data no older than the last one seen.
  CHECK(requests.back()["query"]["resourceVersion"][0] == "100");
  CHECK(requests.back()["query"]["resourceVersionMatch"][0] == "NotOlderThan");
}

TEST_CASE("cluster-strategy-kubernetes sends a multi-part selector intact",
          "[plugin][cluster-kubernetes]") {
  FakeKubeApiServer api;
  api.set_pods(mixed_pods(), "5");
  TestHost host;
  config::StaticConfig config(api.config("app!=web,app==eltrix"));
  KubernetesStrategy strategy(host, config);
  CHECK(names_of(strategy.discover()) == std::vector<std::string>{"eltrix-0", "eltrix-1"});
  CHECK(api.requests().front()["query"]["labelSelector"][0] == "app!=web,app==eltrix");
}

TEST_CASE("cluster-strategy-kubernetes delivers pod changes over time through watch",
          "[plugin][cluster-kubernetes]") {
  FakeKubeApiServer api;
  api.set_pods({{.name = "eltrix-0", .ip = "127.0.0.2"},
                {.name = "eltrix-1", .ip = "127.0.0.3"},
                {.name = "eltrix-2", .ip = "", .phase = "Pending", .ready = false}},
               "10");
  TestHost host;
  config::StaticConfig config(api.config());
  KubernetesStrategy strategy(host, config);
  PeerRecorder recorder;
  strategy.watch(&recorder);
  REQUIRE(recorder.calls().size() == 1);
  CHECK(PeerRecorder::addresses_of(recorder.calls()[0]) == Addresses{"127.0.0.2", "127.0.0.3"});

  // eltrix-2 starts but is not ready yet: no change.
  api.set_pods({{.name = "eltrix-0", .ip = "127.0.0.2"},
                {.name = "eltrix-1", .ip = "127.0.0.3"},
                {.name = "eltrix-2", .ip = "127.0.0.4", .ready = false}},
               "11");
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  CHECK(recorder.calls().size() == 1);

  // eltrix-2 becomes ready while eltrix-0 is being deleted.
  api.set_pods({{.name = "eltrix-0", .ip = "127.0.0.2", .terminating = true},
                {.name = "eltrix-1", .ip = "127.0.0.3"},
                {.name = "eltrix-2", .ip = "127.0.0.4"}},
               "12");
  REQUIRE(recorder.wait_for({"127.0.0.3", "127.0.0.4"}));
  CHECK(names_of(recorder.calls().back()) == std::vector<std::string>{"eltrix-1", "eltrix-2"});

  // eltrix-0 is gone; a new pod takes its address later.
  api.set_pods({{.name = "eltrix-1", .ip = "127.0.0.3"},
                {.name = "eltrix-2", .ip = "127.0.0.4"},
                {.name = "eltrix-3", .ip = "127.0.0.2"}},
               "13");
  REQUIRE(recorder.wait_for({"127.0.0.2", "127.0.0.3", "127.0.0.4"}));
  CHECK(names_of(recorder.calls().back()) ==
        std::vector<std::string>{"eltrix-3", "eltrix-1", "eltrix-2"});

  // No pods at all (a successful, empty list) clears the set.
  api.set_pods({}, "14");
  CHECK(recorder.wait_for({}));
  CHECK(strategy.health().status == plugin::HealthStatus::ok);
}

TEST_CASE("cluster-strategy-kubernetes keeps the last set and reports 401 for a wrong token",
          "[plugin][cluster-kubernetes]") {
  FakeKubeApiServer api;
  api.set_pods({{.name = "eltrix-0", .ip = "127.0.0.2"}}, "1");
  TestHost host;
  config::StaticConfig config(api.config());
  KubernetesStrategy strategy(host, config);
  PeerRecorder recorder;
  strategy.watch(&recorder);
  REQUIRE(recorder.calls().size() == 1);

  api.set_client_token("wrong-secret-token");
  REQUIRE(eventually([&] { return strategy.health().status == plugin::HealthStatus::degraded; }));
  auto health = strategy.health();
  CHECK_THAT(health.detail, Catch::Contains("401") && Catch::Contains("keeping the 1 peers"));
  CHECK(failures(host, "http_401") >= 1);
  require_error(plugin::ErrorKind::transient, [&] { (void)strategy.discover(); });
  CHECK(recorder.calls().size() == 1);  // nothing delivered: the set is kept
  // The token never shows, neither in health nor in a log line.
  CHECK_THAT(health.detail, !Catch::Contains("wrong-secret-token") && !Catch::Contains("token-1"));
  for (const auto& line : host.log_lines()) {
    CHECK_THAT(line, !Catch::Contains("wrong-secret-token") && !Catch::Contains("token-1"));
  }

  // A rotated token is picked up from the file without a restart.
  api.set_server_token("token-2");
  api.set_client_token("token-2");
  api.set_pods({{.name = "eltrix-0", .ip = "127.0.0.2"}, {.name = "eltrix-1", .ip = "127.0.0.3"}},
               "2");
  CHECK(recorder.wait_for({"127.0.0.2", "127.0.0.3"}));
  CHECK(eventually([&] { return strategy.health().status == plugin::HealthStatus::ok; }));
}

TEST_CASE("cluster-strategy-kubernetes reports 403 as missing RBAC",
          "[plugin][cluster-kubernetes]") {
  FakeKubeApiServer api;
  TestHost host;
  auto values = api.config();
  values["cluster.kubernetes.namespace"] = "kube-system";  // no grant there
  config::StaticConfig config(values);
  KubernetesStrategy strategy(host, config);
  auto health = strategy.health();
  CHECK(health.status == plugin::HealthStatus::degraded);
  CHECK_THAT(health.detail, Catch::Contains("HTTP 403") && Catch::Contains("cannot list") &&
                                Catch::Contains("get and list on pods"));
  CHECK(failures(host, "http_403") == 1);
}

TEST_CASE("cluster-strategy-kubernetes refuses a server certificate from another CA",
          "[plugin][cluster-kubernetes]") {
  FakeKubeApiServer api;
  api.set_pods({{.name = "eltrix-0", .ip = "127.0.0.2"}}, "1");
  TestHost host;
  auto values = api.config();
  values["cluster.kubernetes.ca_file"] = api.file("other-ca.crt").string();
  config::StaticConfig config(values);
  KubernetesStrategy strategy(host, config);

  auto health = strategy.health();
  CHECK(health.status == plugin::HealthStatus::degraded);
  CHECK_THAT(health.detail, Catch::Contains("TLS") && Catch::Contains("no peers known yet"));
  CHECK(failures(host, "tls") == 1);
  require_error(plugin::ErrorKind::transient, [&] { (void)strategy.discover(); });
  PeerRecorder recorder;
  strategy.watch(&recorder);
  CHECK(recorder.calls().empty());
  // The token was never sent: the handshake failed first.
  for (const auto& request : api.requests()) CHECK(request["authorised"] == false);
  strategy.watch(nullptr);
}

TEST_CASE("cluster-strategy-kubernetes reads the namespace from the file, or the key",
          "[plugin][cluster-kubernetes]") {
  FakeKubeApiServer api;
  api.set_pods({{.name = "a-0", .ip = "127.0.0.2", .pod_namespace = "team-a"},
                {.name = "b-0", .ip = "127.0.0.3", .pod_namespace = "team-b"}},
               "1");
  api.set_namespace_file("team-a\n");
  TestHost host;
  {
    config::StaticConfig config(api.config());
    KubernetesStrategy strategy(host, config);
    CHECK(names_of(strategy.discover()) == std::vector<std::string>{"a-0"});
    CHECK(api.requests().front()["path"] == "/api/v1/namespaces/team-a/pods");
  }
  {
    auto values = api.config();
    values["cluster.kubernetes.namespace"] = "team-b";
    config::StaticConfig config(values);
    KubernetesStrategy strategy(host, config);
    CHECK(names_of(strategy.discover()) == std::vector<std::string>{"b-0"});
  }
  {
    auto values = api.config();
    values["cluster.kubernetes.namespace_file"] = api.file("missing").string();
    config::StaticConfig config(values);
    try {
      KubernetesStrategy strategy(host, config);
      FAIL("constructed without a namespace");
    } catch (const plugin::Error& e) {
      CHECK(e.kind() == plugin::ErrorKind::permanent);
      CHECK_THAT(e.what(), Catch::Contains("cluster.kubernetes.namespace_file") &&
                               Catch::Contains(api.file("missing").string()));
    }
  }
}

TEST_CASE("cluster-strategy-kubernetes degrades when the API server is unreachable",
          "[plugin][cluster-kubernetes]") {
  FakeKubeApiServer api;
  TestHost host;
  auto values = api.config();
  values["cluster.kubernetes.api_port"] = std::to_string(free_loopback_port());
  config::StaticConfig config(values);
  KubernetesStrategy strategy(host, config);
  CHECK(strategy.health().status == plugin::HealthStatus::degraded);
  CHECK(failures(host, "unreachable") == 1);
}

TEST_CASE("cluster-strategy-kubernetes refuses bad keys, naming them",
          "[plugin][cluster-kubernetes]") {
  TestHost host;
  struct Case {
    const char* key;
    const char* value;
  };
  for (const Case& c :
       {Case{"cluster.kubernetes.selector", ""}, Case{"cluster.kubernetes.api_host", ""},
        Case{"cluster.kubernetes.api_host", "https://10.0.0.1"},
        Case{"cluster.kubernetes.namespace", "Team_A"}}) {
    INFO(c.key << " = '" << c.value << "'");
    config::StaticConfig config({{"cluster.kubernetes.selector", "app=eltrix"},
                                 {"cluster.kubernetes.api_host", "10.0.0.1"},
                                 {"cluster.kubernetes.namespace", "default"}});
    config.set(c.key, c.value);
    std::vector<plugin::ConfigProblem> problems;
    KubernetesStrategy::validate(config, problems);
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].key == c.key);
    CHECK_THAT(problems[0].message, Catch::Contains("expected") || Catch::Contains("is not"));
    require_error(plugin::ErrorKind::permanent, [&] { KubernetesStrategy strategy(host, config); });
  }
}

TEST_CASE("cluster-strategy-kubernetes parses PodList edge cases", "[plugin][cluster-kubernetes]") {
  using cluster_kubernetes::parse_pod_list;
  auto empty = parse_pod_list(R"({"kind":"PodList","apiVersion":"v1",
                                  "metadata":{"resourceVersion":"9"},"items":null})");
  CHECK(empty.peers.empty());
  CHECK(empty.resource_version == "9");
  for (const char* bad : {"", "not json", "[]", R"({"kind":"Status","code":500})",
                          R"({"kind":"PodList","items":{}})"}) {
    INFO(bad);
    try {
      (void)parse_pod_list(bad);
      FAIL("parsed");
    } catch (const cluster_common::FetchFailure& e) {
      CHECK(e.reason() == "bad_json");
    }
  }
  CHECK(cluster_kubernetes::percent_encode("app=eltrix,tier!=a b") ==
        "app%3Deltrix%2Ctier%21%3Da%20b");
}

}  // namespace eltrix::contract
