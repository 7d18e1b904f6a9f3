#include "dns_strategy.h"

#include <eltrix/plugin/error.h>

#include <chrono>

namespace eltrix::cluster_dns {
namespace {

std::string checked_name(const plugin::Config& config) {
  std::string name = config.get_string("cluster.dns.name");
  if (!valid_dns_name(name)) {
    throw plugin::Error(plugin::ErrorKind::permanent,
                        "cluster.dns.name: '" + name +
                            "' is not a DNS name; expected a name such as "
                            "eltrix-headless.default.svc.cluster.local");
  }
  return name;
}

LookupOptions read_options(const plugin::Config& config) {
  LookupOptions options;
  options.name = checked_name(config);
  options.server = parse_server(config.get_string("cluster.dns.server"));
  options.timeout_seconds = static_cast<int>(config.get_int("cluster.dns.timeout", 2));
  options.attempts = 2;
  return options;
}

}  // namespace

DnsStrategy::DnsStrategy(plugin::Host& host, const plugin::Config& config)
    : options_(read_options(config)),
      poller_(host, "dns", options_.name + " at " + describe_server(options_.server),
              std::chrono::seconds(config.get_int("cluster.dns.poll_interval", 5)),
              [this] { return lookup_peers(options_); }) {
  host.info("dns cluster strategy",
            {{"name", options_.name},
             {"server", describe_server(options_.server)},
             {"poll_interval_s", config.get_string("cluster.dns.poll_interval", "5")}});
  poller_.start();
}

DnsStrategy::~DnsStrategy() {
  poller_.stop();
}

void DnsStrategy::validate(const plugin::Config& config,
                           std::vector<plugin::ConfigProblem>& problems) {
  // The core prefixes each problem with its key and value, so the key the
  // constructor's message starts with is dropped here.
  auto add = [&](const std::string& key, std::string message) {
    if (message.starts_with(key + ": ")) message.erase(0, key.size() + 2);
    problems.push_back({key, std::move(message)});
  };
  try {
    (void)checked_name(config);
  } catch (const plugin::Error& e) {
    add("cluster.dns.name", e.what());
  }
  try {
    (void)parse_server(config.get_string("cluster.dns.server"));
  } catch (const plugin::Error& e) {
    add("cluster.dns.server", e.what());
  }
}

plugin::Health DnsStrategy::health() {
  return poller_.health();
}

std::vector<plugin::Peer> DnsStrategy::discover() {
  return poller_.discover();
}

void DnsStrategy::watch(plugin::PeerListener* listener) {
  poller_.watch(listener);
}

}  // namespace eltrix::cluster_dns
