#include "cluster/peer_set.h"

#include <catch2/catch.hpp>

#include <memory>

using namespace eltrix;
using namespace eltrix::cluster;

TEST_CASE("peer set: normalised with the default port, deduplicated", "[cluster][peers]") {
  auto wanted = normalise_peers({{"a", "10.0.0.1", 0},
                                 {"b", "10.0.0.2", 9000},
                                 {"a-again", "10.0.0.1", 8009},
                                 {"v6", "[fd00::1]", 0},
                                 {"empty", "", 0}},
                                8009);
  REQUIRE(wanted.size() == 3);
  CHECK(wanted.count("10.0.0.1:8009") == 1);
  CHECK(wanted.count("10.0.0.2:9000") == 1);
  CHECK(wanted.at("[fd00::1]:8009") == Endpoint{"fd00::1", 8009});
}

TEST_CASE("peer set: the diff dials the new and hangs up the gone", "[cluster][peers]") {
  std::map<std::string, std::unique_ptr<int>> links;
  links["10.0.0.1:8009"] = std::make_unique<int>(1);
  links["10.0.0.2:8009"] = std::make_unique<int>(2);
  auto diff = diff_peers(links, normalise_peers({{"", "10.0.0.2", 0}, {"", "10.0.0.3", 0}}, 8009));
  REQUIRE(diff.added.size() == 1);
  CHECK(diff.added[0] == Endpoint{"10.0.0.3", 8009});
  REQUIRE(diff.removed.size() == 1);
  CHECK(diff.removed[0] == "10.0.0.1:8009");

  auto same = diff_peers(links, normalise_peers({{"", "10.0.0.1", 0}, {"", "10.0.0.2", 0}}, 8009));
  CHECK(same.added.empty());
  CHECK(same.removed.empty());
  auto none = diff_peers(links, normalise_peers({}, 8009));
  CHECK(none.removed.size() == 2);
}
