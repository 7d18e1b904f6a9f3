#include "support.h"

#include "storage/connstring.h"

#include <cstdlib>
#include <random>
#include <sstream>

namespace eltrix::test {

std::string database_url() {
  const char* url = std::getenv("ELTRIX_TEST_DATABASE_URL");
  return url != nullptr ? url : "";
}

std::size_t FixedRouting::route(const plugin::RouteRequest& request,
                                std::span<const plugin::TargetState> targets) {
  ++calls;
  last_min_position = request.min_position;
  last_target_count = targets.size();
  return request.access == plugin::Access::write ? 0 : index.load();
}

ScratchDatabase::ScratchDatabase() {
  std::random_device rd;
  std::ostringstream n;
  n << "eltrix_test_" << std::hex << rd() << rd();
  name = n.str();
  admin_exec(database_url(), "CREATE DATABASE " + name);
  url = storage::with_database(database_url(), name);
}

ScratchDatabase::~ScratchDatabase() {
  try {
    admin_exec(database_url(), "DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
  } catch (...) {
    // Best effort: a leftover scratch database only costs disk space.
  }
}

storage::DatabaseOptions options_for(const std::string& url, std::size_t pool_size) {
  storage::DatabaseOptions options;
  options.primary = {"primary", url};
  options.pool_size = pool_size;
  options.acquire_timeout = std::chrono::milliseconds(3000);
  options.connect_timeout = std::chrono::seconds(3);
  return options;
}

pqxx::result admin_exec(const std::string& url, const std::string& sql) {
  pqxx::connection conn(storage::build_connection_string(url, std::chrono::seconds(5)));
  pqxx::nontransaction tx(conn);
  return tx.exec(sql);
}

double metric_value(const std::string& rendered, const std::string& series) {
  std::istringstream in(rendered);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return -1;
}

}  // namespace eltrix::test
