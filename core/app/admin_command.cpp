#include "app/admin_command.h"

#include "admin/context.h"
#include "admin/room_deletions.h"
#include "admin/routes.h"
#include "app/command_setup.h"
#include "config/core_keys.h"
#include "http/router.h"
#include "log/log.h"
#include "matrix/ids.h"
#include "matrix/json_text.h"
#include "metrics/registry.h"
#include "plugins/registry.h"
#include "services/services.h"
#include "storage/admin_rooms.h"
#include "storage/database.h"
#include "storage/migrations.h"

#include <fmt/format.h>

#include <chrono>
#include <iostream>
#include <iterator>
#include <optional>
#include <thread>

namespace eltrix::app {
namespace {

namespace keys = config::keys;

const log::Logger& logger() {
  static const log::Logger instance("admin");
  return instance;
}

/// Longest a command waits for a room deletion it started.
constexpr std::chrono::hours kMaxDeletionWait{1};

struct AdminArgs {
  std::optional<std::string> config_file;
  std::optional<std::string> as;
  std::string method;
  std::string path;
  std::optional<std::string> body;
};

int usage_error(const std::string& message) {
  fmt::print(stderr, "eltrix admin: {}\n\n{}", message, admin_command_usage());
  return kExitUsage;
}

int fail(const std::string& message, int code = 1) {
  fmt::print(stderr, "eltrix admin: {}\n", message);
  return code;
}

std::optional<AdminArgs> parse(const std::vector<std::string>& args, std::string& error) {
  AdminArgs out;
  std::vector<std::string> positional;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if ((arg == "--config" || arg == "-c" || arg == "--as") && i + 1 < args.size()) {
      (arg == "--as" ? out.as : out.config_file) = args[++i];
    } else if (arg.rfind("--config=", 0) == 0) {
      out.config_file = arg.substr(9);
    } else if (arg.rfind("--as=", 0) == 0) {
      out.as = arg.substr(5);
    } else if (arg.size() > 1 && arg[0] == '-' && arg != "-") {
      error = "unknown option '" + arg + "'";
      return std::nullopt;
    } else {
      positional.push_back(arg);
    }
  }
  if (positional.size() < 2 || positional.size() > 3) {
    error = "expected METHOD PATH [BODY]";
    return std::nullopt;
  }
  out.method = positional[0];
  for (auto& c : out.method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  out.path = positional[1];
  if (out.path.empty() || out.path[0] != '/') out.path = "/_synapse/admin/" + out.path;
  if (positional.size() == 3) out.body = positional[2];
  return out;
}

/// Runs the request through the admin routes as `as`; the response.
http::Response dispatch(const http::Router& router, const AdminArgs& args, const std::string& as) {
  const auto q = args.path.find('?');
  const std::string raw_path = args.path.substr(0, q);
  std::vector<std::string> segments;
  std::string decoded;
  http::Request::Pairs query;
  if (!http::split_path(raw_path, segments, decoded) ||
      (q != std::string::npos && !http::parse_query(args.path.substr(q + 1), query))) {
    return http::Response::error(
        http::MatrixError(400, "M_UNRECOGNIZED", "Invalid percent-encoding in the path"));
  }
  auto match = router.match(args.method, segments);
  if (match.route == nullptr) {
    return http::Response::error(
        http::MatrixError(match.path_known ? 405 : 404, "M_UNRECOGNIZED", "Unrecognized request"));
  }
  http::Request req(args.method, decoded, match.params, query, "cli");
  std::string body = args.body.value_or("");
  if (body == "-") body.assign(std::istreambuf_iterator<char>(std::cin), {});
  if (match.route->options.body == http::BodyMode::json) {
    nlohmann::json parsed = nlohmann::json::object();
    if (!body.empty() && !matrix::parse_json(body, parsed)) {
      return http::Response::error(http::MatrixError(400, "M_NOT_JSON", "Content not JSON."));
    }
    if (!parsed.is_object()) {
      return http::Response::error(
          http::MatrixError(400, "M_BAD_JSON", "Request body must be a JSON object"));
    }
    req.set_json(std::move(parsed));
  }
  req.set_body(std::move(body));
  req.set_requester({.user_id = as, .device_id = "", .admin = true});
  try {
    return match.route->handler(req);
  } catch (const http::MatrixError& e) {
    return http::Response::error(e);
  } catch (const errors::Error& e) {
    return http::Response::error(e);
  }
}

/// Waits for a v2 room deletion started by this command: its worker is a
/// thread of this process, which must not exit before it is done.
nlohmann::json wait_for_deletion(storage::Database& db, const std::string& delete_id) {
  const auto deadline = std::chrono::steady_clock::now() + kMaxDeletionWait;
  for (;;) {
    auto row = db.write(
        [&](storage::Transaction& tx) { return storage::find_room_deletion(tx, delete_id); });
    if (row && (row->status == "complete" || row->status == "failed")) {
      nlohmann::json out = {{"delete_id", delete_id}, {"status", row->status}};
      if (row->error) out["error"] = *row->error;
      if (row->result_json) out["shutdown_room"] = nlohmann::json::parse(*row->result_json);
      return out;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      return {{"delete_id", delete_id}, {"status", row ? row->status : "unknown"}};
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace

std::string admin_command_usage() {
  return "Usage: eltrix admin [--config FILE] [--as USER_ID] METHOD PATH [BODY | -]\n"
         "\n"
         "Runs one admin API request (docs/admin-api.md) on this node's database, as a\n"
         "server admin, and prints the JSON answer. PATH may be relative to\n"
         "/_synapse/admin/ (v2/users, v1/rooms?search_term=x, ...). BODY is JSON, or -\n"
         "to read it from standard input.\n"
         "\n"
         "  eltrix admin GET 'v2/users?name=ali'\n"
         "  eltrix admin POST v1/deactivate/@bob:example.org '{\"erase\": true}'\n"
         "  eltrix admin POST v1/registration_tokens/new '{\"uses_allowed\": 5}'\n"
         "  eltrix admin DELETE 'v2/rooms/!abc:example.org' '{\"block\": true}'\n"
         "\n"
         "Exit codes: 0 on a 2xx answer, 1 otherwise, 64 usage, 78 configuration.\n";
}

int run_admin_command(const std::vector<std::string>& args, const config::EnvLookup& env) {
  if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
    fmt::print("{}", admin_command_usage());
    return 0;
  }
  std::string error;
  auto parsed = parse(args, error);
  if (!parsed) return usage_error(error);

  CommandSetup setup("eltrix admin");
  if (int code = setup.load(parsed->config_file, env); code != 0) return code;
  const config::Config& config = setup.config();
  const std::string server_name = setup.server_name();
  const std::string as = parsed->as.value_or("@eltrix-cli:" + server_name);
  if (!matrix::parse_user_id(as)) return usage_error("--as must be a user ID");

  auto find = [&](plugin::Kind kind) -> std::string {
    for (const auto& s : setup.loaded().selections) {
      if (s.kind == kind) return s.name;
    }
    return {};
  };
  plugins::Instance<plugin::Cache> cache;
  plugins::Instance<plugin::MediaStore> media;
  plugins::Instance<plugin::ClusterStrategy> no_cluster;
  try {
    cache = setup.registry().create<plugin::Cache>(find(plugin::Kind::cache), config);
    media = setup.registry().create<plugin::MediaStore>(find(plugin::Kind::media_store), config);
  } catch (const std::exception& e) {
    return fail(fmt::format("configuration error: {}", e.what()), kExitConfig);
  }
  // The request, and a room deletion's worker beside it.
  if (int code = setup.open_database(3); code != 0) return code;
  storage::Database& db = setup.db();
  try {
    services::Services services(config, db, cache, no_cluster, media, setup.metrics());
    admin::Context ctx{.config = config,
                       .db = db,
                       .cache = services.cache,
                       .server_name = server_name,
                       .accounts = services.accounts,
                       .devices = services.devices,
                       .rooms = services.rooms,
                       .media = services.media};
    admin::RoomDeletions deletions(ctx);
    ctx.deletions = &deletions;
    http::Router router;
    admin::add_admin_routes(router, ctx);

    http::Response response = dispatch(router, *parsed, as);
    logger().info("admin CLI call", {{"as", as},
                                     {"method", parsed->method},
                                     {"path", parsed->path},
                                     {"status", std::to_string(response.status)}});
    nlohmann::json out = nlohmann::json::parse(response.body, nullptr, false);
    if (response.status == 200 && out.is_object() && out.contains("delete_id") &&
        parsed->method == "DELETE") {
      out = wait_for_deletion(db, out["delete_id"].get<std::string>());
    }
    const std::string text = out.is_discarded() ? response.body : out.dump(2);
    const bool ok = response.status >= 200 && response.status < 300;
    // The answer goes to standard output whatever it is (scripts parse the
    // errcode); the exit code tells success, and logs go to standard error.
    fmt::print("{}\n", text);
    return ok ? 0 : 1;
  } catch (const std::exception& e) {
    return fail(fmt::format("error: {}", e.what()));
  }
}

}  // namespace eltrix::app
