// Every contract suite against every implementation: the plugin files this
// build produced, and the in-memory fakes, all created through
// plugins::Registry.
#include "contract/fakes/fake_cache.h"
#include "contract/fakes/fake_cluster_strategy.h"
#include "contract/fakes/fake_db_routing.h"
#include "contract/fakes/fake_media_store.h"
#include "contract/services/dnsmasq.h"
#include "contract/services/fake_kube_apiserver.h"
#include "contract/services/redis_server.h"
#include "contract/services/s3_server.h"
#include "contract/suites.h"

namespace eltrix::contract {
namespace {

/// Media stores that keep their objects in a directory get a fresh one.
Factory<plugin::MediaStore> with_media_dir(Factory<plugin::MediaStore> make) {
  return [make = std::move(make)](ConfigValues values) {
    auto dir = std::make_shared<TempDir>();
    values["media.path"] = (dir->path() / "media").string();
    auto subject = make(std::move(values));
    subject.keep_alive(std::move(dir));
    return subject;
  };
}

/// cache-redis on the suite's Redis, each subject under a key prefix of its
/// own so that every section starts from an empty cache.
Factory<plugin::Cache> on_redis(std::string url, Factory<plugin::Cache> make) {
  return [url = std::move(url), make = std::move(make)](ConfigValues values) {
    values["cache.redis.url"] = url;
    values["cache.redis.key_prefix"] = unique_key_prefix("contract");
    return make(std::move(values));
  };
}

}  // namespace

TEST_CASE("cache-local meets the cache contract", "[contract][cache]") {
  run_cache_contract(file_factory<plugin::Cache>("cache-local"));
}

TEST_CASE("cache-redis meets the cache contract on a real redis-server", "[contract][cache]") {
  auto url = shared_test_redis_url();
  if (!url) return;
  run_cache_contract(on_redis(*url, file_factory<plugin::Cache>("cache-redis")));
}

TEST_CASE("the fake cache meets the cache contract", "[contract][cache][fake]") {
  run_cache_contract(descriptor_factory<plugin::Cache>(kFakeCacheDescriptor));
}

TEST_CASE("media-store-fs meets the media-store contract", "[contract][media_store]") {
  run_media_store_contract(with_media_dir(file_factory<plugin::MediaStore>("media-store-fs")));
}

TEST_CASE("media-store-s3 meets the media-store contract on s3rver",
          "[contract][media_store][s3]") {
  auto server = test_s3_server();
  if (!server) {
    skip_without_s3_server("media-store-s3 contract");
    return;
  }
  // 5 MiB parts (S3's minimum), so the multi-megabyte object goes multipart.
  run_media_store_contract(with_s3_prefix(file_factory<plugin::MediaStore>("media-store-s3"),
                                          *server, {{"s3.part_size_mb", "5"}}));
}

TEST_CASE("the fake media store meets the media-store contract", "[contract][media_store][fake]") {
  run_media_store_contract(descriptor_factory<plugin::MediaStore>(kFakeMediaStoreDescriptor));
}

TEST_CASE("cluster-strategy-static meets the cluster-strategy contract",
          "[contract][cluster_strategy]") {
  run_cluster_strategy_contract(file_factory<plugin::ClusterStrategy>("cluster-strategy-static"),
                                static_peer_scenarios());
}

TEST_CASE("cluster-strategy-dns meets the cluster-strategy contract",
          "[contract][cluster_strategy]") {
  Dnsmasq dns("peers.eltrix.test", {"127.0.0.3", "::1", "127.0.0.2"});
  dns.set("one.eltrix.test", {"127.0.0.4"});
  auto config = [&](const std::string& name) {
    return ConfigValues{{"cluster.dns.name", name},
                        {"cluster.dns.server", dns.server()},
                        {"cluster.dns.poll_interval", "1"}};
  };
  auto peer = [](const char* address) {
    return plugin::Peer{.name = {}, .address = address, .port = 0};
  };
  run_cluster_strategy_contract(
      file_factory<plugin::ClusterStrategy>("cluster-strategy-dns"),
      {{config("one.eltrix.test"), {peer("127.0.0.4")}},
       {config("peers.eltrix.test"), {peer("127.0.0.2"), peer("127.0.0.3"), peer("::1")}}});
}

TEST_CASE("cluster-strategy-kubernetes meets the cluster-strategy contract",
          "[contract][cluster_strategy]") {
  FakeKubeApiServer api;
  api.set_pods({{.name = "eltrix-1", .ip = "127.0.0.3"},
                {.name = "eltrix-0", .ip = "127.0.0.2"},
                {.name = "eltrix-2", .ip = "127.0.0.4", .ready = false},
                {.name = "solo-0", .ip = "127.0.0.5", .app = "solo"}},
               "42");
  auto peer = [](const char* address) {
    return plugin::Peer{.name = {}, .address = address, .port = 0};
  };
  run_cluster_strategy_contract(
      file_factory<plugin::ClusterStrategy>("cluster-strategy-kubernetes"),
      {{api.config("app=solo"), {peer("127.0.0.5")}},
       {api.config("app=eltrix"), {peer("127.0.0.2"), peer("127.0.0.3")}}});
}

TEST_CASE("the fake cluster strategy meets the cluster-strategy contract",
          "[contract][cluster_strategy][fake]") {
  run_cluster_strategy_contract(
      descriptor_factory<plugin::ClusterStrategy>(kFakeClusterStrategyDescriptor),
      static_peer_scenarios());
}

TEST_CASE("db-routing-primary meets the db-routing contract", "[contract][db_routing]") {
  run_db_routing_contract(file_factory<plugin::DbRouting>("db-routing-primary"));
}

TEST_CASE("db-routing-replicas meets the db-routing contract", "[contract][db_routing]") {
  run_db_routing_contract(file_factory<plugin::DbRouting>("db-routing-replicas"));
}

TEST_CASE("the fake db router meets the db-routing contract", "[contract][db_routing][fake]") {
  run_db_routing_contract(descriptor_factory<plugin::DbRouting>(kFakeDbRoutingDescriptor));
}

}  // namespace eltrix::contract
