// White-box tests of media-store-fs: the on-disk layout, atomic writes,
// start-up housekeeping and errors.
#include "contract/harness.h"
#include "contract/impl/test_host.h"

#include "../../../plugins/media-store/fs/fs_media_store.h"
#include "../../../plugins/media-store/fs/object_layout.h"

#include <sys/stat.h>
#include <sys/time.h>
#include <fstream>

namespace eltrix::contract {
namespace {

namespace fs = std::filesystem;
using media_fs::FsMediaStore;

std::uint64_t put_string(plugin::MediaStore& store, std::string_view key, std::string data) {
  StringSource source(std::move(data));
  return store.put(key, source, {});
}

void touch(const fs::path& path, std::chrono::system_clock::time_point mtime) {
  std::ofstream(path) << "partial";
  auto seconds = std::chrono::system_clock::to_time_t(mtime);
  struct timeval times[2] = {{.tv_sec = seconds, .tv_usec = 0}, {.tv_sec = seconds, .tv_usec = 0}};
  REQUIRE(::utimes(path.c_str(), times) == 0);
}

/// A source that returns more than it was asked for: a broken caller.
class OverflowingSource final : public plugin::ByteSource {
 public:
  std::size_t read(char* /*buffer*/, std::size_t capacity) override { return capacity + 1; }
};

}  // namespace

TEST_CASE("media-store-fs layout: FNV-1a 64 shards and reversible names", "[plugin][media-fs]") {
  CHECK(media_fs::fnv1a64("") == 0xcbf29ce484222325ULL);
  CHECK(media_fs::fnv1a64("a") == 0xaf63dc4c8601ec8cULL);
  CHECK(media_fs::fnv1a64("foobar") == 0x85944171f73967e8ULL);

  const std::string path = media_fs::object_relative_path("example.org/abc");
  CHECK(path.size() == 6 + std::string("example.org%2Fabc").size());
  CHECK(path.substr(6) == "example.org%2Fabc");
  char hash[17];
  std::snprintf(hash, sizeof hash, "%016llx",
                static_cast<unsigned long long>(media_fs::fnv1a64("example.org/abc")));
  CHECK(path.substr(0, 6) == std::string(hash, 2) + "/" + std::string(hash + 2, 2) + "/");

  std::string many;
  while (many.size() + 2 <= plugin::kMaxObjectKeySize) many += many.empty() ? "s" : "/s";
  for (const std::string& key :
       {std::string("a"), std::string("thumbnails/example.org/x/96-96-scale"),
        std::string(plugin::kMaxObjectKeySize, 'x'), std::string(200, 'y') + "..",
        std::string(200, 'y') + ".", std::string(199, 'q') + "/" + std::string(50, 'r'), many}) {
    INFO("key of " << key.size() << " bytes");
    REQUIRE(plugin::is_valid_object_key(key));
    const std::string relative = media_fs::object_relative_path(key);
    CHECK(media_fs::key_from_relative_path(relative) == key);
    for (const auto& part : fs::path(relative)) {
      CHECK(part.string().size() <= media_fs::kMaxNameChunk + 1);
      CHECK(part != ".");
      CHECK(part != "..");
    }
  }
  CHECK(media_fs::key_from_relative_path("ab/cd/x") == "");  // wrong hash
}

TEST_CASE("media-store-fs creates its root and stores objects where the layout says",
          "[plugin][media-fs]") {
  TempDir dir;
  TestHost host;
  const fs::path root = dir.path() / "a" / "b" / "media";
  config::StaticConfig config({{"media.path", root.string()}});
  FsMediaStore store(host, config);
  CHECK(fs::is_directory(root / ".tmp"));

  CHECK(put_string(store, "example.org/abc", "hello") == 5);
  CHECK(store.object_path("example.org/abc") ==
        (root / media_fs::object_relative_path("example.org/abc")).string());
  CHECK(files_under(root) ==
        std::vector<std::string>{media_fs::object_relative_path("example.org/abc")});
  CHECK(fs::file_size(store.object_path("example.org/abc")) == 5);
  CHECK(host.value("eltrix_media_fs_bytes_written_total") == 5);

  auto reader = store.get("example.org/abc", 1, 3);
  REQUIRE(reader);
  CHECK(drain(*reader) == "ell");
  CHECK(host.value("eltrix_media_fs_bytes_read_total") == 3);

  // erase removes the file and nothing else.
  CHECK(store.erase("example.org/abc"));
  CHECK(files_under(root).empty());
  CHECK(fs::is_directory(fs::path(store.object_path("example.org/abc")).parent_path()));
}

TEST_CASE("media-store-fs: a failed put leaves no file anywhere under the root",
          "[plugin][media-fs]") {
  TempDir dir;
  TestHost host;
  config::StaticConfig config({{"media.path", dir.path().string()}});
  FsMediaStore store(host, config);
  put_string(store, "example.org/existing", "old bytes");
  const auto before = files_under(dir.path());
  REQUIRE(before.size() == 1);

  SECTION("the source throws after a few buffers") {
    ThrowingSource source(3 * media_fs::kCopyBufferSize + 17);
    CHECK_THROWS_WITH(store.put("example.org/new", source, {}), "source failed");
  }
  SECTION("the source throws at once") {
    ThrowingSource source(0);
    CHECK_THROWS_AS(store.put("example.org/new", source, {}), std::runtime_error);
  }
  SECTION("the source misbehaves") {
    OverflowingSource source;
    require_error(plugin::ErrorKind::permanent, [&] { store.put("example.org/new", source, {}); });
  }
  SECTION("replacing an existing object fails") {
    ThrowingSource source(1000);
    CHECK_THROWS(store.put("example.org/existing", source, {}));
  }
  CHECK(files_under(dir.path()) == before);
  CHECK_FALSE(store.exists("example.org/new"));
  auto reader = store.get("example.org/existing", 0, std::nullopt);
  REQUIRE(reader);
  CHECK(drain(*reader) == "old bytes");
}

TEST_CASE("media-store-fs (the plugin file): a throwing source leaves nothing under the root",
          "[plugin][media-fs][registry]") {
  auto dir = std::make_shared<TempDir>();
  auto store =
      file_factory<plugin::MediaStore>("media-store-fs")({{"media.path", dir->path().string()}});
  store.keep_alive(dir);
  ThrowingSource source(200 * 1024);
  CHECK_THROWS_WITH(store->put("example.org/partial", source, {}), "source failed");
  CHECK(files_under(dir->path()).empty());
  CHECK_FALSE(store->exists("example.org/partial"));
  CHECK(fs::is_directory(dir->path() / ".tmp"));
}

TEST_CASE("media-store-fs removes temporary files older than an hour at start",
          "[plugin][media-fs]") {
  TempDir dir;
  TestHost host;
  fs::create_directories(dir.path() / ".tmp");
  touch(dir.path() / ".tmp" / "old.part", host.wall_now() - std::chrono::hours(2));
  touch(dir.path() / ".tmp" / "recent.part", host.wall_now() - std::chrono::minutes(10));
  config::StaticConfig config({{"media.path", dir.path().string()}});
  FsMediaStore store(host, config);
  CHECK_FALSE(fs::exists(dir.path() / ".tmp" / "old.part"));
  CHECK(fs::exists(dir.path() / ".tmp" / "recent.part"));
}

TEST_CASE("media-store-fs: health() also removes stale temporary files, every ten minutes",
          "[plugin][media-fs]") {
  TempDir dir;
  TestHost host;
  config::StaticConfig config({{"media.path", dir.path().string()}});
  FsMediaStore store(host, config);
  // Left behind after the start-up sweep (a crash elsewhere on a shared root).
  const auto old_part = dir.path() / ".tmp" / "old.part";
  const auto recent_part = dir.path() / ".tmp" / "recent.part";
  touch(old_part, host.wall_now() - std::chrono::hours(2));
  touch(recent_part, host.wall_now() - std::chrono::minutes(10));

  // Not before the interval has passed since the last sweep.
  host.advance(media_fs::kTempSweepInterval - std::chrono::seconds(1));
  CHECK(store.health().status != plugin::HealthStatus::failed);
  CHECK(fs::exists(old_part));

  host.advance(std::chrono::seconds(1));
  CHECK(store.health().status != plugin::HealthStatus::failed);
  CHECK_FALSE(fs::exists(old_part));
  CHECK(fs::exists(recent_part));  // twenty minutes old by the Host clock

  // The next sweep is another interval later.
  touch(old_part, host.wall_now() - std::chrono::hours(2));
  host.advance(std::chrono::minutes(1));
  CHECK(store.health().status != plugin::HealthStatus::failed);
  CHECK(fs::exists(old_part));
  host.advance(media_fs::kTempSweepInterval);
  CHECK(store.health().status != plugin::HealthStatus::failed);
  CHECK_FALSE(fs::exists(old_part));
  CHECK(fs::exists(recent_part));
}

TEST_CASE("media-store-fs: an unusable media.path is a permanent error naming it",
          "[plugin][media-fs]") {
  TempDir dir;
  TestHost host;
  std::ofstream(dir.path() / "file") << "not a directory";
  const std::string bad = (dir.path() / "file" / "media").string();
  config::StaticConfig config({{"media.path", bad}});
  try {
    FsMediaStore store(host, config);
    FAIL("no error");
  } catch (const plugin::Error& error) {
    CHECK(error.kind() == plugin::ErrorKind::permanent);
    CHECK_THAT(error.what(), Catch::Contains(bad));
    CHECK_THAT(error.what(), Catch::Contains("media.path"));
  }
  config::StaticConfig empty({{"media.path", ""}});
  require_error(plugin::ErrorKind::permanent, [&] { FsMediaStore store(host, empty); });
}

TEST_CASE("media-store-fs: an open reader keeps its bytes when the object changes",
          "[plugin][media-fs]") {
  TempDir dir;
  TestHost host;
  config::StaticConfig config({{"media.path", dir.path().string()}});
  FsMediaStore store(host, config);
  put_string(store, "example.org/x", "version one");
  auto first = store.get("example.org/x", 0, std::nullopt);
  REQUIRE(first);
  put_string(store, "example.org/x", "version two, longer");
  auto second = store.get("example.org/x", 0, std::nullopt);
  REQUIRE(store.erase("example.org/x"));
  CHECK(drain(*first) == "version one");
  CHECK(drain(*second) == "version two, longer");
}

TEST_CASE("media-store-fs: I/O errors carry the path and errno text", "[plugin][media-fs]") {
  CHECK(media_fs::errno_is_transient(ENOSPC));
  CHECK(media_fs::errno_is_transient(EIO));
  CHECK_FALSE(media_fs::errno_is_transient(EACCES));
  CHECK_FALSE(media_fs::errno_is_transient(EROFS));
  auto error = media_fs::errno_error(ENOSPC, "cannot write", "/srv/media/.tmp/x.part");
  CHECK(error.kind() == plugin::ErrorKind::transient);
  CHECK_THAT(error.what(), Catch::Contains("/srv/media/.tmp/x.part"));
  CHECK_THAT(error.what(), Catch::Contains("No space left on device"));
  CHECK(media_fs::errno_error(EROFS, "cannot write", "/x").kind() == plugin::ErrorKind::permanent);
}

}  // namespace eltrix::contract
