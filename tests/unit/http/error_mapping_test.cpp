// Domain errors (errors/error.h) become Matrix errors in one place
// (http/error_mapping.h): the status and errcode of each kind, the statuses
// the spec ties to an errcode, and transient failures as 503 + Retry-After.
#include "http/error_mapping.h"
#include "errors/error.h"
#include "http/router.h"
#include "http/server.h"
#include "metrics/registry.h"
#include "storage/error.h"
#include "unit/http/test_client.h"

#include <catch2/catch.hpp>

#include <string>

using namespace eltrix;

namespace {

std::string retry_after(const http::Response& r) {
  for (const auto& [name, value] : r.headers) {
    if (name == "Retry-After") return value;
  }
  return "";
}

nlohmann::json body(const http::Response& r) {
  return nlohmann::json::parse(r.body);
}

}  // namespace

TEST_CASE("each kind of domain error has its status, and keeps its errcode", "[http][errors]") {
  struct Case {
    errors::Error error;
    int status;
    std::string errcode;
  };
  const Case cases[] = {
      {errors::invalid("M_BAD_JSON", "bad"), 400, "M_BAD_JSON"},
      {errors::invalid("M_INVALID_PARAM", "bad"), 400, "M_INVALID_PARAM"},
      {errors::not_found("Unknown event $x"), 404, "M_NOT_FOUND"},
      {errors::forbidden("You are not in room !r:x"), 403, "M_FORBIDDEN"},
      {errors::conflict("M_CANNOT_OVERWRITE_MEDIA", "uploaded"), 409, "M_CANNOT_OVERWRITE_MEDIA"},
      // The spec answers a taken alias with 400, whatever the kind says.
      {errors::conflict("M_ROOM_IN_USE", "taken"), 400, "M_ROOM_IN_USE"},
      {errors::too_large("big"), 413, "M_TOO_LARGE"},
      {errors::Error(errors::Kind::limit_exceeded, "M_LIMIT_EXCEEDED", "slow"), 429,
       "M_LIMIT_EXCEEDED"},
      {errors::Error(errors::Kind::not_ready, "M_NOT_YET_UPLOADED", "later"), 504,
       "M_NOT_YET_UPLOADED"},
      {errors::transient("store down"), 503, "M_UNKNOWN"},
      // Server-side failures read M_UNKNOWN whatever errcode was given.
      {errors::Error(errors::Kind::internal, "M_FORBIDDEN", "bug"), 500, "M_UNKNOWN"},
  };
  for (const auto& c : cases) {
    INFO(errors::to_string(c.error.kind()) << " " << c.error.errcode());
    CHECK(http::status_of(c.error) == c.status);
    const auto response = http::Response::error(c.error);
    CHECK(response.status == c.status);
    CHECK(body(response)["errcode"] == c.errcode);
    CHECK(body(response)["error"] == c.error.what());
    // Only a transient failure says when to come back.
    CHECK(retry_after(response).empty() == (c.status != 503));
  }
}

TEST_CASE("a transient failure is 503 M_UNKNOWN with Retry-After", "[http][errors]") {
  const auto response = http::Response::error(errors::transient("The media store is down"));
  CHECK(response.status == 503);
  CHECK(body(response)["errcode"] == "M_UNKNOWN");
  CHECK(retry_after(response) == std::to_string(http::kTransientRetryAfterSeconds));

  // One that knows better says so, in the body and the header (rounded up).
  const auto later = http::Response::error(
      errors::transient("The media store is down").with("retry_after_ms", 4500));
  CHECK(later.status == 503);
  CHECK(body(later)["retry_after_ms"] == 4500);
  CHECK(retry_after(later) == "5");
}

TEST_CASE("storage errors: transient ones are 503, others 500, and neither shows SQL",
          "[http][errors]") {
  using storage::ErrorKind;
  using storage::StorageError;
  const std::string detail = "database error on 'primary' [57P01]: terminating connection";
  for (const auto& [error, status] :
       {std::pair{StorageError(ErrorKind::connection, detail, true, "57P01"), 503},
        std::pair{StorageError(ErrorKind::serialization, detail, true, "40001"), 503},
        std::pair{StorageError(ErrorKind::pool_exhausted, detail, true), 503},
        std::pair{StorageError(ErrorKind::timeout, detail, true, "57014"), 503},
        std::pair{StorageError(ErrorKind::constraint, detail, false, "23505"), 500},
        std::pair{StorageError(ErrorKind::query, detail, false, "42601"), 500}}) {
    INFO(storage::to_string(error.kind()));
    const auto response = http::Response::error(error);
    CHECK(response.status == status);
    CHECK(body(response)["errcode"] == "M_UNKNOWN");
    CHECK(response.body.find("57P01") == std::string::npos);
    CHECK(response.body.find("primary") == std::string::npos);
    CHECK(retry_after(response).empty() == (status != 503));
  }
  // A NUL in a text parameter is the request's fault.
  const auto nul = http::Response::error(storage::InvalidTextParameter());
  CHECK(nul.status == 400);
  CHECK(body(nul)["errcode"] == "M_INVALID_PARAM");
}

TEST_CASE("the server maps a domain error thrown by a handler", "[http][errors]") {
  http::Router router;
  router.add("GET", "/gone", [](http::Request&) -> http::Response {
    throw storage::StorageError(storage::ErrorKind::connection,
                                "connection to 'primary' lost: server closed the connection", true);
  });
  router.add("GET", "/missing",
             [](http::Request&) -> http::Response { throw errors::not_found("Unknown event $e"); });
  http::ServerOptions options;
  options.bind_address = "127.0.0.1";
  options.port = 0;
  options.workers = 2;
  metrics::Registry registry;
  http::Server server(options, router, registry);
  server.start();

  auto r = test::get(server.port(), "/gone");
  CHECK(r.status == 503);
  CHECK(r.header("retry-after") == std::to_string(http::kTransientRetryAfterSeconds));
  CHECK(nlohmann::json::parse(r.body)["errcode"] == "M_UNKNOWN");
  CHECK(r.body.find("primary") == std::string::npos);

  r = test::get(server.port(), "/missing");
  CHECK(r.status == 404);
  CHECK(nlohmann::json::parse(r.body)["errcode"] == "M_NOT_FOUND");
  CHECK(nlohmann::json::parse(r.body)["error"] == "Unknown event $e");
  CHECK_FALSE(r.has_header("retry-after"));
}
