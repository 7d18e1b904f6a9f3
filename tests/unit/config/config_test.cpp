// Configuration: sources and precedence, validation, secrets, generated files.
#include "config/config.h"
#include "config/config_file.h"
#include "config/core_keys.h"
#include "config/render.h"
#include "config/schema.h"
#include "config/validate.h"

#include <catch2/catch.hpp>

#include <map>

using namespace eltrix::config;
using Catch::Matchers::Contains;

namespace {

EnvLookup env_of(std::map<std::string, std::string> values) {
  return [values = std::move(values)](const std::string& name) -> std::optional<std::string> {
    auto it = values.find(name);
    return it == values.end() ? std::nullopt : std::optional(it->second);
  };
}

Schema core_schema() {
  Schema schema;
  add_core_keys(schema);
  return schema;
}

std::string all_messages(const std::vector<Problem>& problems) {
  std::string out;
  for (const auto& p : problems) out += p.message + "\n";
  return out;
}

const std::map<std::string, std::string> kValidEnv = {
    {"ELTRIX_SERVER_NAME", "example.org"},
    {"ELTRIX_SECRET_KEY", std::string(40, 'k')},
    {"DATABASE_URL", "postgresql://eltrix:hunter2@db/eltrix"},
};

}  // namespace

TEST_CASE("env names derive from keys unless declared", "[config]") {
  CHECK(derived_env_name("cache.ttl") == "ELTRIX_CACHE_TTL");
  CHECK(derived_env_name("cache.local.max_entries") == "ELTRIX_CACHE_LOCAL_MAX_ENTRIES");
  auto schema = core_schema();
  CHECK(schema.find("database.url")->env == "DATABASE_URL");
  CHECK(schema.find("http.port")->env == "ELTRIX_PORT");
  CHECK(schema.find_env("ELTRIX_POOL_SIZE")->name == "database.pool_size");
}

TEST_CASE("a key declared twice is refused naming both owners", "[config]") {
  auto schema = core_schema();
  eltrix::plugin::ConfigKeySpec spec{.name = "cache.ttl"};
  try {
    schema.add(spec, "cache-evil");
    FAIL("expected a conflict");
  } catch (const std::invalid_argument& e) {
    CHECK_THAT(std::string(e.what()), Contains("core"));
    CHECK_THAT(std::string(e.what()), Contains("cache-evil"));
  }
}

TEST_CASE("the config file format", "[config]") {
  auto parsed = parse_config_text(
      "# comment\n\n server.name = example.org \npassword = \"  a#b  \"\nbroken line\nBad Key = "
      "1\n",
      "test.conf");
  REQUIRE(parsed.settings.size() == 2);
  CHECK(parsed.settings[0].key == "server.name");
  CHECK(parsed.settings[0].value == "example.org");
  CHECK(parsed.settings[0].origin == "test.conf:3");
  CHECK(parsed.settings[1].value == "  a#b  ");
  REQUIRE(parsed.errors.size() == 2);
  CHECK_THAT(parsed.errors[0], Contains("test.conf:5"));
  CHECK_THAT(parsed.errors[0], Contains("expected 'key = value'"));
  CHECK_THAT(parsed.errors[1], Contains("test.conf:6"));
}

TEST_CASE("later sources win: default, file, later file, environment", "[config]") {
  auto schema = core_schema();
  std::vector<Setting> files = {
      {"http.port", "9000", "a.conf:1"},
      {"cache.ttl", "60", "a.conf:2"},
      {"http.port", "9001", "conf.d/b.conf:1"},
  };
  auto config = Config::resolve(schema, files, env_of({{"ELTRIX_CACHE_TTL", "120"}}));
  CHECK(config.get("http.port") == "9001");
  CHECK(config.origin("http.port") == "conf.d/b.conf:1");
  CHECK(config.get("cache.ttl") == "120");
  CHECK(config.origin("cache.ttl") == "env ELTRIX_CACHE_TTL");
  CHECK(config.get("database.pool_size") == "10");
  CHECK(config.origin("database.pool_size") == "default");
  CHECK_FALSE(config.get("server.name").has_value());
}

TEST_CASE("validation reports every problem at once", "[config]") {
  auto schema = core_schema();
  auto config = Config::resolve(schema, {{"database.pool_size", "lots", "x.conf:3"}},
                                env_of({{"ELTRIX_LOG_LEVEL", "loud"}, {"ELTRIX_PORT", "70000"}}));
  auto problems = validate(schema, config);
  auto text = all_messages(problems);
  CHECK_THAT(text, Contains("server.name is required"));
  CHECK_THAT(text, Contains("ELTRIX_SERVER_NAME"));
  CHECK_THAT(text, Contains("database.url is required"));
  CHECK_THAT(
      text,
      Contains("database.pool_size = 'lots' (from x.conf:3): expected an integer from 1 to 1000"));
  CHECK_THAT(text, Contains("log.level = 'loud' (from env ELTRIX_LOG_LEVEL): expected 'debug', "
                            "'info', 'warn' or 'error'"));
  CHECK_THAT(text, Contains("http.port = '70000'"));
  CHECK(problems.size() == 6);  // the three above, port, secret key, database url
}

TEST_CASE("a valid configuration has no problems", "[config]") {
  auto schema = core_schema();
  auto config = Config::resolve(schema, {}, env_of(kValidEnv));
  CHECK(validate(schema, config).empty());
}

TEST_CASE("secret values are never shown", "[config]") {
  auto schema = core_schema();
  auto env = kValidEnv;
  env["ELTRIX_SECRET_KEY"] = "short-secret";
  env["DATABASE_URL"] = "mysql://root:hunter2@db";
  auto config = Config::resolve(schema, {}, env_of(env));
  auto text = all_messages(validate(schema, config));
  CHECK_THAT(text, Contains("server.secret_key = '<redacted>'"));
  CHECK_THAT(text, Contains("database.url = '<redacted>'"));
  CHECK_FALSE(text.find("short-secret") != std::string::npos);
  CHECK_FALSE(text.find("hunter2") != std::string::npos);
}

TEST_CASE("core key checks", "[config]") {
  CHECK_FALSE(check_server_name("example.org"));
  CHECK_FALSE(check_server_name("localhost:8448"));
  CHECK_FALSE(check_server_name("[::1]:8448"));
  CHECK_FALSE(check_server_name("127.0.0.1"));
  CHECK(check_server_name(""));
  CHECK(check_server_name("exa mple.org"));
  CHECK(check_server_name("example.org:0"));
  CHECK(check_server_name("example.org:99999"));
  CHECK(check_server_name("[not-ipv6]"));
  CHECK_FALSE(check_ip_address("0.0.0.0"));
  CHECK_FALSE(check_ip_address("::"));
  CHECK(check_ip_address("localhost"));
  CHECK_FALSE(check_workers("auto"));
  CHECK_FALSE(check_workers("16"));
  CHECK(check_workers("0"));
  CHECK(check_workers("many"));
  CHECK_FALSE(check_database_url("postgresql://u@h/db"));
  CHECK_FALSE(check_database_url("host=/tmp dbname=eltrix"));
  CHECK(check_database_url("sqlite:///x"));
}

TEST_CASE("unknown keys in files are reported with their origin", "[config]") {
  auto schema = core_schema();
  auto warnings = unknown_keys(schema, {{"cache.bakend", "redis", "/etc/eltrix/eltrix.conf:7"}});
  REQUIRE(warnings.size() == 1);
  CHECK_THAT(warnings[0], Contains("/etc/eltrix/eltrix.conf:7"));
  CHECK_THAT(warnings[0], Contains("cache.bakend"));
}

TEST_CASE("the generated config file declares every key with its default", "[config]") {
  auto schema = core_schema();
  auto text = render_conf_file(schema);
  for (const auto& key : schema.keys()) {
    INFO(key.name);
    const auto def = key.default_value.value_or("");
    CHECK_THAT(text, Contains("#" + key.name + (def.empty() ? " =\n" : " = " + def + "\n")));
    CHECK_THAT(text, Contains("# Environment: " + key.env + "\n"));
  }
  // Parsing it back (uncommented) yields only declared keys.
  std::string uncommented;
  for (std::size_t pos = 0; pos < text.size();) {
    auto end = text.find('\n', pos);
    auto line = text.substr(pos, end - pos);
    pos = end + 1;
    for (const auto& key : schema.keys()) {
      if (line == "#" + key.name + " =" || line.rfind("#" + key.name + " = ", 0) == 0) {
        uncommented += line.substr(1) + "\n";
      }
    }
  }
  auto parsed = parse_config_text(uncommented, "generated");
  CHECK(parsed.errors.empty());
  CHECK(parsed.settings.size() == schema.keys().size());
  CHECK(unknown_keys(schema, parsed.settings).empty());

  auto markdown = render_markdown(schema);
  CHECK_THAT(markdown, Contains("| `cache.backend` | `ELTRIX_CACHE_BACKEND` |"));
}

// Found by fuzz/identifiers.cpp: server.name accepted names that the Matrix ID
// grammar (matrix::is_valid_server_name) refuses, so the server's own user IDs
// would not parse, and ".." became a path segment of media store keys.
TEST_CASE("server.name follows the Matrix ID grammar", "[config]") {
  for (const char* name : {"0", "1234", "999.1.1.1", "1.2.3", "..", ".", "a..b", ".example.org",
                           "example.org.", "..:8448"}) {
    INFO(name);
    CHECK(check_server_name(name));
  }
  for (const char* name :
       {"example.org", "matrix-1.example.org:8448", "1.2.3.4:80", "[::1]", "localhost", "a-b"}) {
    INFO(name);
    CHECK_FALSE(check_server_name(name));
  }
}
