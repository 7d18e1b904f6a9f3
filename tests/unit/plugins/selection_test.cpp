// Which plugins a configuration selects, aliases included.
#include "plugins/selection.h"
#include "config/config.h"
#include "config/core_keys.h"

#include <catch2/catch.hpp>

#include <map>

using namespace eltrix;

namespace {

std::vector<plugins::Selection> select_with(std::map<std::string, std::string> env) {
  config::Schema schema;
  config::add_core_keys(schema);
  auto config = config::Config::resolve(
      schema, {}, [&env](const std::string& name) -> std::optional<std::string> {
        auto it = env.find(name);
        return it == env.end() ? std::nullopt : std::optional(it->second);
      });
  return plugins::select_plugins(config);
}

std::string selected(const std::vector<plugins::Selection>& selections, plugin::Kind kind) {
  for (const auto& s : selections) {
    if (s.kind == kind) return s.name;
  }
  return "<none>";
}

}  // namespace

TEST_CASE("defaults select the local backends and no cluster", "[plugins]") {
  auto s = select_with({});
  CHECK(selected(s, plugin::Kind::cache) == "local");
  CHECK(selected(s, plugin::Kind::media_store) == "fs");  // 'local' is the fs plugin
  CHECK(selected(s, plugin::Kind::db_routing) == "primary");
  CHECK(selected(s, plugin::Kind::cluster_strategy) == "<none>");
}

TEST_CASE("aliases: epmd is the static strategy, replicas switch routing", "[plugins]") {
  auto s = select_with({{"ELTRIX_CLUSTER_ENABLED", "true"},
                        {"ELTRIX_CLUSTER_STRATEGY", "epmd"},
                        {"DATABASE_REPLICA_URL", "postgresql://r1/db"},
                        {"ELTRIX_MEDIA_STORE", "s3"}});
  CHECK(selected(s, plugin::Kind::cluster_strategy) == "static");
  CHECK(selected(s, plugin::Kind::db_routing) == "replicas");
  CHECK(selected(s, plugin::Kind::media_store) == "s3");
  s = select_with({{"ELTRIX_CLUSTER_ENABLED", "yes"},
                   {"ELTRIX_CLUSTER_STRATEGY", "dns"},
                   {"ELTRIX_DATABASE_ROUTING", "primary"},
                   {"DATABASE_REPLICA_URL", "x=y"}});
  CHECK(selected(s, plugin::Kind::cluster_strategy) == "dns");
  CHECK(selected(s, plugin::Kind::db_routing) == "primary");  // explicit beats auto
}
