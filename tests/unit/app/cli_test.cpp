// The command line: --config as both file and mode, conflicts, usage errors.
#include "app/cli.h"

#include <catch2/catch.hpp>

using eltrix::app::Mode;
using eltrix::app::parse_cli;

TEST_CASE("no arguments runs the server with the default config file", "[app]") {
  auto r = parse_cli({});
  REQUIRE(r.options);
  CHECK(r.options->mode == Mode::run);
  CHECK_FALSE(r.options->config_file);
}

TEST_CASE("--config is a file, or a mode for check/default/markdown", "[app]") {
  auto r = parse_cli({"--config", "/etc/eltrix/node1.conf", "--config=check"});
  REQUIRE(r.options);
  CHECK(r.options->mode == Mode::check);
  CHECK(r.options->config_file == "/etc/eltrix/node1.conf");

  r = parse_cli({"--config=/srv/e.conf"});
  REQUIRE(r.options);
  CHECK(r.options->mode == Mode::run);
  CHECK(r.options->config_file == "/srv/e.conf");

  CHECK(parse_cli({"--config=default"}).options->mode == Mode::print_default);
  CHECK(parse_cli({"--config=markdown"}).options->mode == Mode::print_markdown);
  CHECK(parse_cli({"--list-plugins"}).options->mode == Mode::list_plugins);
  CHECK(parse_cli({"-V"}).options->mode == Mode::version);
}

TEST_CASE("usage errors say what was wrong", "[app]") {
  auto r = parse_cli({"--frobnicate"});
  CHECK_FALSE(r.options);
  CHECK(r.error.find("unknown argument '--frobnicate'") != std::string::npos);

  r = parse_cli({"--config"});
  CHECK_FALSE(r.options);
  CHECK(r.error.find("--config needs a value") != std::string::npos);

  r = parse_cli({"--config=check", "--list-plugins"});
  CHECK_FALSE(r.options);
  CHECK(r.error.find("conflicts") != std::string::npos);

  r = parse_cli({"--config", "a.conf", "--config", "b.conf"});
  CHECK_FALSE(r.options);
  CHECK(r.error.find("given twice") != std::string::npos);
}
