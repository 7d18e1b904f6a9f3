#include "admin/audit_log.h"

#include "log/log.h"

#include <exception>
#include <utility>

namespace eltrix::admin {
namespace {

const log::Logger& logger() {
  static const log::Logger instance("admin");
  return instance;
}

void record(const http::Request& req, int status, std::string_view errcode) {
  const http::Requester* who = req.requester_if_any();
  logger().info("admin API call", {{"user_id", who ? who->user_id : std::string("-")},
                                   {"method", req.method()},
                                   {"path", req.path()},
                                   {"status", std::to_string(status)},
                                   {"errcode", errcode.empty() ? "-" : errcode},
                                   {"request_id", req.request_id()}});
}

}  // namespace

http::Handler with_audit_log(http::Handler handler) {
  return [handler = std::move(handler)](http::Request& req) {
    try {
      http::Response response = handler(req);
      record(req, response.status, "");
      return response;
    } catch (const http::MatrixError& e) {
      record(req, e.status(), e.errcode());
      throw;
    } catch (const errors::Error& e) {
      // Mapped as the server will map it (http/error_mapping.cpp).
      const http::Response answer = http::Response::error(e);
      record(req, answer.status, e.errcode());
      throw;
    } catch (...) {
      record(req, 500, "M_UNKNOWN");
      throw;
    }
  };
}

}  // namespace eltrix::admin
