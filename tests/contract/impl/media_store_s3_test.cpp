// White-box tests of media-store-s3: configuration checks, the key mapping,
// S3 error answers, and, against the real S3 server scripts/test starts
// (s3rver behind the SigV4-checking proxy), wrong credentials, a wrong bucket,
// multipart uploads, aborted uploads and an unreachable endpoint.
#include "contract/harness.h"
#include "contract/impl/test_host.h"
#include "contract/services/dnsmasq.h"  // free_loopback_port
#include "contract/services/s3_server.h"

#include "../../../plugins/media-store/s3/object_key.h"
#include "../../../plugins/media-store/s3/s3_error.h"
#include "../../../plugins/media-store/s3/s3_media_store.h"
#include "../../../plugins/media-store/s3/s3_settings.h"

#include <algorithm>
#include <random>

namespace eltrix::contract {
namespace {

using media_s3::S3MediaStore;

using MapConfig = config::StaticConfig;

ConfigValues valid_config() {
  return {{"s3.bucket", "media-bucket"},
          {"s3.access_key", "AKIDEXAMPLE"},
          {"s3.secret_key", "very-secret-value"}};
}

std::vector<plugin::ConfigProblem> problems_of(ConfigValues values) {
  std::vector<plugin::ConfigProblem> problems;
  S3MediaStore::validate(MapConfig(std::move(values)), problems);
  return problems;
}

std::string random_prefix(const std::string& name) {
  std::random_device device;
  return name + "-" + std::to_string(device() % 1000000000U) + "/";
}

std::string error_text(const std::function<void()>& call, plugin::ErrorKind& kind) {
  try {
    call();
  } catch (const plugin::Error& e) {
    kind = e.kind();
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("media-store-s3 settings: every bad value is named with what was expected",
          "[plugin][media-s3]") {
  SECTION("a valid configuration has no problem; no endpoint means AWS virtual-host style") {
    CHECK(problems_of(valid_config()).empty());
    auto settings = media_s3::parse_settings(MapConfig(valid_config()));
    CHECK(settings.endpoint.host == "media-bucket.s3.us-east-1.amazonaws.com");
    CHECK(settings.endpoint.https);
    CHECK_FALSE(settings.endpoint.path_style);
    CHECK(settings.part_size == 8ULL * 1024 * 1024);
  }
  SECTION("an endpoint selects path-style addressing") {
    auto values = valid_config();
    values["s3.endpoint"] = "http://127.0.0.1:9000/";
    auto settings = media_s3::parse_settings(MapConfig(values));
    CHECK(settings.endpoint.path_style);
    CHECK_FALSE(settings.endpoint.https);
    CHECK(settings.endpoint.port == 9000);
    CHECK(settings.endpoint.host_header == "127.0.0.1:9000");
    values["s3.endpoint"] = "https://[::1]:9443";
    CHECK(media_s3::parse_settings(MapConfig(values)).endpoint.host_header == "[::1]:9443");
    values["s3.endpoint"] = "https://minio.example.org";
    CHECK(media_s3::parse_settings(MapConfig(values)).endpoint.host_header == "minio.example.org");
  }
  SECTION("bad values: key, value found and what was expected") {
    auto values = valid_config();
    values["s3.bucket"] = "Bad_Bucket";
    values["s3.endpoint"] = "ftp://example.org";
    values["s3.region"] = "US East";
    values["s3.prefix"] = "no-trailing-slash";
    auto problems = problems_of(values);
    REQUIRE(problems.size() == 4);
    auto find = [&](const std::string& key) {
      auto it = std::find_if(problems.begin(), problems.end(),
                             [&](const auto& p) { return p.key == key; });
      REQUIRE(it != problems.end());
      return it->message;
    };
    CHECK_THAT(find("s3.bucket"), Catch::Contains("'Bad_Bucket'") && Catch::Contains("expected"));
    CHECK_THAT(find("s3.endpoint"),
               Catch::Contains("'ftp://example.org'") && Catch::Contains("http://"));
    CHECK_THAT(find("s3.region"), Catch::Contains("'US East'"));
    CHECK_THAT(find("s3.prefix"), Catch::Contains("ending in '/'"));
    // The constructor refuses the same values, naming the keys.
    TestHost host;
    plugin::ErrorKind kind{};
    auto text = error_text([&] { S3MediaStore store(host, MapConfig(values)); }, kind);
    CHECK(kind == plugin::ErrorKind::permanent);
    CHECK_THAT(text, Catch::Contains("s3.bucket") && Catch::Contains("s3.endpoint"));
  }
  SECTION("the secret key is never echoed") {
    auto values = valid_config();
    values["s3.bucket"] = "x";
    for (const auto& problem : problems_of(values)) {
      CHECK_THAT(problem.message, !Catch::Contains("very-secret-value"));
    }
    values.erase("s3.secret_key");
    auto problems = problems_of(values);
    CHECK(std::any_of(problems.begin(), problems.end(),
                      [](const auto& p) { return p.key == "s3.secret_key"; }));
  }
  SECTION("endpoints that are not a bare http(s)://host[:port]") {
    media_s3::Endpoint endpoint;
    std::string error;
    for (const char* bad : {"127.0.0.1:9000", "http://", "http://host:0", "http://host:70000",
                            "http://host/path", "http://user@host", "http://[::1"}) {
      INFO(bad);
      CHECK_FALSE(media_s3::parse_endpoint(bad, endpoint, error));
    }
  }
}

TEST_CASE("media-store-s3 object keys: long segments are cut reversibly", "[plugin][media-s3]") {
  CHECK(media_s3::s3_object_key("example.org/abc") == "example.org/abc");
  CHECK(media_s3::s3_object_key(std::string(200, 'x')) == std::string(200, 'x'));
  CHECK(media_s3::s3_object_key(std::string(450, 'x')) ==
        std::string(200, 'x') + "~/" + std::string(200, 'x') + "~/" + std::string(50, 'x'));
  // The last piece keeps at least three bytes: never "." or "..".
  CHECK(media_s3::s3_object_key(std::string(200, 'y') + "..") == std::string(199, 'y') + "~/y..");
  CHECK(media_s3::s3_object_key("a/" + std::string(201, 'z')) ==
        "a/" + std::string(198, 'z') + "~/zzz");
}

TEST_CASE("media-store-s3 reads S3 error answers", "[plugin][media-s3]") {
  const std::string body =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchBucket</Code>"
      "<Message>The specified bucket does not exist</Message><BucketName>b</BucketName>"
      "<RequestId>4442587FB7D0A2F9</RequestId></Error>";
  auto info = media_s3::parse_error(404, body, "");
  CHECK(info.code == "NoSuchBucket");
  CHECK(info.request_id == "4442587FB7D0A2F9");
  CHECK_FALSE(info.retryable());
  auto error = media_s3::to_plugin_error(info, "GET", "example.org/abc");
  CHECK(error.kind() == plugin::ErrorKind::permanent);
  CHECK_THAT(std::string(error.what()), Catch::Contains("GET 'example.org/abc'") &&
                                            Catch::Contains("NoSuchBucket (HTTP 404)"));

  CHECK(media_s3::parse_error(503, "<Error><Code>SlowDown</Code></Error>", "").retryable());
  CHECK(media_s3::parse_error(500, "not xml", "").retryable());
  CHECK(media_s3::parse_error(400, "<Error><Code>RequestTimeout</Code></Error>", "").retryable());
  CHECK_FALSE(media_s3::parse_error(403, "", "").retryable());
  CHECK(media_s3::parse_error(403, "", "").describe() == "HTTP 403");
  CHECK(media_s3::xml_text("<a><UploadId>x&amp;y</UploadId></a>", "UploadId") == "x&y");
  CHECK_FALSE(media_s3::xml_text("<a><b/></a>", "UploadId").has_value());
  CHECK_FALSE(media_s3::xml_text("<a><UploadId>unterminated", "UploadId").has_value());
}

TEST_CASE("media-store-s3 against s3rver: credentials, bucket, multipart, aborts",
          "[plugin][media-s3][s3]") {
  auto server = test_s3_server();
  if (!server) {
    skip_without_s3_server("media-store-s3 white-box tests on s3rver");
    return;
  }
  TestHost host;
  const std::string prefix = random_prefix("impl");
  auto config = [&](ConfigValues extra) {
    extra.emplace("s3.prefix", prefix);
    extra.emplace("s3.part_size_mb", "5");
    return MapConfig(s3_config(*server, extra));
  };
  auto pending_here = [&] {
    auto all = pending_uploads(*server);
    return std::count_if(all.begin(), all.end(),
                         [&](const std::string& key) { return key.starts_with(prefix); });
  };

  SECTION("a wrong secret key fails cleanly with SignatureDoesNotMatch and stores nothing") {
    S3MediaStore good(host, config({}));
    S3MediaStore bad(host, config({{"s3.secret_key", "not-the-secret"}, {"s3.retries", "0"}}));
    {
      StringSource source("hello");
      plugin::ErrorKind kind{};
      auto text = error_text([&] { bad.put("example.org/wrong-secret", source, {}); }, kind);
      CHECK(kind == plugin::ErrorKind::permanent);
      CHECK_THAT(text, Catch::Contains("SignatureDoesNotMatch") && Catch::Contains("HTTP 403"));
      CHECK_THAT(text, !Catch::Contains("not-the-secret"));
    }
    {
      PseudoRandomSource source(1, 6ULL * 1024 * 1024);  // multipart: fails at its start
      plugin::ErrorKind kind{};
      auto text = error_text([&] { bad.put("example.org/wrong-secret-big", source, {}); }, kind);
      CHECK_THAT(text, Catch::Contains("SignatureDoesNotMatch"));
    }
    CHECK_FALSE(good.exists("example.org/wrong-secret"));
    CHECK_FALSE(good.exists("example.org/wrong-secret-big"));
    CHECK(pending_here() == 0);

    StringSource original("stored with the right key");
    good.put("example.org/kept", original, {});
    plugin::ErrorKind kind{};
    CHECK_THAT(error_text([&] { (void)bad.get("example.org/kept", 0, std::nullopt); }, kind),
               Catch::Contains("SignatureDoesNotMatch"));
    // HEAD answers carry no XML body: the status says what happened.
    CHECK_THAT(error_text([&] { (void)bad.stat("example.org/kept"); }, kind),
               Catch::Contains("HTTP 403"));
    CHECK_THAT(error_text([&] { (void)bad.erase("example.org/kept"); }, kind),
               Catch::Contains("HTTP 403"));
    CHECK(good.exists("example.org/kept"));

    auto health = bad.health();
    CHECK(health.status == plugin::HealthStatus::failed);
    CHECK_THAT(health.detail,
               Catch::Contains("SignatureDoesNotMatch") && Catch::Contains(server->bucket));
    CHECK(good.health().status == plugin::HealthStatus::ok);
    auto lines = host.log_lines();
    CHECK(std::any_of(lines.begin(), lines.end(), [](const std::string& line) {
      return line.find("s3_error=SignatureDoesNotMatch") != std::string::npos;
    }));
    for (const auto& line : lines) CHECK_THAT(line, !Catch::Contains("not-the-secret"));
  }

  SECTION("a missing bucket: health names NoSuchBucket, reads are errors, not absent objects") {
    S3MediaStore store(host, config({{"s3.bucket", "no-such-bucket"}, {"s3.retries", "0"}}));
    auto health = store.health();
    CHECK(health.status == plugin::HealthStatus::failed);
    CHECK_THAT(health.detail, Catch::Contains("NoSuchBucket"));
    plugin::ErrorKind kind{};
    CHECK_THAT(error_text([&] { (void)store.get("example.org/x", 0, std::nullopt); }, kind),
               Catch::Contains("NoSuchBucket"));
    StringSource source("x");
    CHECK_THAT(error_text([&] { store.put("example.org/x", source, {}); }, kind),
               Catch::Contains("NoSuchBucket"));
  }

  SECTION("health is cached between calls") {
    S3MediaStore store(host, config({}));
    CHECK(store.health().status == plugin::HealthStatus::ok);
    auto before =
        host.value("eltrix_media_s3_requests_total", "{op=\"list_bucket\",status=\"2xx\"}");
    CHECK(store.health().status == plugin::HealthStatus::ok);
    CHECK(host.value("eltrix_media_s3_requests_total", "{op=\"list_bucket\",status=\"2xx\"}") ==
          before);
    host.advance(media_s3::kHealthCacheTtl + std::chrono::seconds(1));
    CHECK(store.health().status == plugin::HealthStatus::ok);
    CHECK(host.value("eltrix_media_s3_requests_total", "{op=\"list_bucket\",status=\"2xx\"}") ==
          before + 1);
  }

  SECTION("a 21 MiB object goes up in 5 MiB parts and comes back byte for byte") {
    S3MediaStore store(host, config({}));
    constexpr std::uint64_t kSize = 21ULL * 1024 * 1024 + 17;
    PseudoRandomSource source(77, kSize, 65536);
    CHECK(store.put("example.org/big", source,
                    {.content_type = "video/mp4", .expected_size = {}}) == kSize);
    CHECK(host.value("eltrix_media_s3_requests_total", "{op=\"upload_part\",status=\"2xx\"}") == 5);
    CHECK(host.value("eltrix_media_s3_requests_total",
                     "{op=\"complete_multipart\",status=\"2xx\"}") == 1);
    auto info = store.stat("example.org/big");
    REQUIRE(info);
    CHECK(info->size == kSize);
    CHECK(info->content_type == "video/mp4");
    auto reader = store.get("example.org/big", 0, std::nullopt);
    REQUIRE(reader);
    std::string back = drain(*reader, 1 << 20);
    CHECK(back.size() == kSize);
    CHECK((back == pseudo_random_bytes(77, kSize)));
    // A range across a part boundary.
    auto range = store.get("example.org/big", 5ULL * 1024 * 1024 - 10, 20);
    REQUIRE(range);
    CHECK((drain(*range) == back.substr(5ULL * 1024 * 1024 - 10, 20)));
    CHECK(pending_here() == 0);
    CHECK(store.erase("example.org/big"));
  }

  SECTION("an object of exactly one part size is stored whole") {
    S3MediaStore store(host, config({}));
    constexpr std::uint64_t kSize = 5ULL * 1024 * 1024;
    PseudoRandomSource source(5, kSize);
    CHECK(store.put("example.org/one-part", source, {}) == kSize);
    CHECK(store.stat("example.org/one-part")->size == kSize);
    CHECK(pending_here() == 0);
  }

  SECTION("a source that throws mid-upload leaves no object and no pending upload") {
    S3MediaStore store(host, config({}));
    {
      ThrowingSource source(12ULL * 1024 * 1024);  // two parts sent, then it fails
      CHECK_THROWS_WITH(store.put("example.org/aborted", source, {}), "source failed");
    }
    CHECK(host.value("eltrix_media_s3_requests_total", "{op=\"upload_part\",status=\"2xx\"}") == 2);
    CHECK(host.value("eltrix_media_s3_requests_total", "{op=\"abort_multipart\",status=\"2xx\"}") ==
          1);
    CHECK_FALSE(store.exists("example.org/aborted"));
    CHECK(pending_here() == 0);
  }

  SECTION("an unreachable endpoint: transient errors after the retries, health failed") {
    auto port = free_loopback_port();
    S3MediaStore store(host, config({{"s3.endpoint", "http://127.0.0.1:" + std::to_string(port)},
                                     {"s3.retries", "2"},
                                     {"s3.connect_timeout", "1"}}));
    plugin::ErrorKind kind{};
    auto text = error_text([&] { (void)store.stat("example.org/x"); }, kind);
    CHECK(kind == plugin::ErrorKind::transient);
    CHECK_THAT(text, Catch::Contains("connection failed"));
    CHECK(host.value("eltrix_media_s3_retries_total", "{op=\"head_object\"}") == 2);
    CHECK(host.value("eltrix_media_s3_requests_total", "{op=\"head_object\",status=\"error\"}") ==
          3);
    CHECK(store.health().status == plugin::HealthStatus::failed);
    CHECK(host.value("eltrix_media_s3_connections_in_use") == 0);
  }
}

}  // namespace eltrix::contract
