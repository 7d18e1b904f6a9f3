#include "media/thumbnail_metrics.h"

#include <catch2/catch.hpp>

#include <thread>

#include "media/thumbnailer.h"
#include "metrics/registry.h"

using namespace eltrix;

TEST_CASE("thumbnail decode slot gauges follow thumbnail_activity()") {
  metrics::Registry registry;
  media::register_thumbnail_metrics(registry);
  const std::string text = registry.render();
  const media::ThumbnailActivity now = media::thumbnail_activity();
  CHECK_THAT(text, Catch::Contains("# TYPE eltrix_media_thumbnail_decodes_running gauge"));
  CHECK_THAT(text, Catch::Contains("eltrix_media_thumbnail_decodes_running 0\n"));
  CHECK_THAT(text, Catch::Contains("eltrix_media_thumbnail_decodes_waiting 0\n"));
  const int expected_limit = std::max(2, static_cast<int>(std::thread::hardware_concurrency()));
  CHECK(now.limit == expected_limit);
  CHECK_THAT(text, Catch::Contains("eltrix_media_thumbnail_decodes_limit " +
                                   std::to_string(expected_limit) + "\n"));
}
