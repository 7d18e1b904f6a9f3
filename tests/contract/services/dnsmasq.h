// A real dnsmasq for the dns cluster strategy's tests, started and changed
// through the project's own scripts/lib/dnsmasq.sh on a free loopback port.
#pragma once

#include "contract/harness.h"

#include <string>
#include <vector>

namespace eltrix::contract {

/// The source tree (for scripts/ and tests/cluster/).
std::filesystem::path source_root();

/// Runs a command line through /bin/sh; throws with its output when it fails.
/// Returns its standard output.
std::string run_command(const std::string& command);

/// A free TCP/UDP port on 127.0.0.1 (bound and released, so another process
/// could take it in between; tests accept that small race).
std::uint16_t free_loopback_port();

class Dnsmasq {
 public:
  /// Starts dnsmasq answering `name` with `addresses` (none: NXDOMAIN).
  Dnsmasq(const std::string& name, const std::vector<std::string>& addresses);
  ~Dnsmasq();
  Dnsmasq(const Dnsmasq&) = delete;
  Dnsmasq& operator=(const Dnsmasq&) = delete;

  /// Replaces `name`'s records and makes dnsmasq reload; returns once a
  /// query through the reloaded server would see them (dnsmasq reloads on
  /// SIGHUP asynchronously, so this waits for its log line).
  void set(const std::string& name, const std::vector<std::string>& addresses);

  /// "127.0.0.1:PORT", for cluster.dns.server.
  [[nodiscard]] std::string server() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  TempDir dir_;
  std::uint16_t port_;
};

}  // namespace eltrix::contract
