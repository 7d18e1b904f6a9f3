#include "dns_lookup.h"

#include "../common/peer_poller.h"

#include <eltrix/plugin/error.h>

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <resolv.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>

namespace eltrix::cluster_dns {
namespace {

using cluster_common::FetchFailure;

constexpr std::string_view kServerExpected =
    "expected an IPv4 address with an optional port, as 127.0.0.1:5353 or 10.0.0.10 (port 53); "
    "put IPv6 servers in /etc/resolv.conf and leave cluster.dns.server empty";

[[noreturn]] void bad_server(std::string_view text, std::string_view problem) {
  throw plugin::Error(plugin::ErrorKind::permanent, "cluster.dns.server: '" + std::string(text) +
                                                        "' " + std::string(problem) + "; " +
                                                        std::string(kServerExpected));
}

// A private resolver state: res_ninit reads /etc/resolv.conf afresh, so each
// poll follows changes to it (containers rewrite it), and nothing is shared
// with other threads or with the process-wide _res.
class Resolver {
 public:
  explicit Resolver(const LookupOptions& options) {
    if (::res_ninit(&state_) != 0) {
      throw FetchFailure("resolver", "could not initialise the resolver from /etc/resolv.conf");
    }
    initialised_ = true;
    state_.retrans = options.timeout_seconds;
    state_.retry = options.attempts;
    // Larger answers over UDP (many peers), with TCP fallback when truncated.
    state_.options |= RES_USE_EDNS0;
    if (options.server) {
      state_.nscount = 1;
      state_.nsaddr_list[0] = *options.server;
    }
  }
  ~Resolver() {
    if (initialised_) ::res_nclose(&state_);
  }
  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;
  Resolver(Resolver&&) = delete;
  Resolver& operator=(Resolver&&) = delete;

  res_state get() { return &state_; }

 private:
  struct ::__res_state state_ {};
  bool initialised_ = false;
};

// Appends the addresses of `type` records in the answer section.
void collect(const unsigned char* answer, int length, int type, std::vector<plugin::Peer>& out) {
  ns_msg message{};
  if (::ns_initparse(answer, length, &message) != 0) {
    throw FetchFailure("bad_answer", "the DNS answer could not be parsed");
  }
  const int count = ns_msg_count(message, ns_s_an);
  for (int i = 0; i < count; ++i) {
    ns_rr record{};
    if (::ns_parserr(&message, ns_s_an, i, &record) != 0) {
      throw FetchFailure("bad_answer", "a record in the DNS answer could not be parsed");
    }
    // CNAMEs on the way to the addresses are skipped; only the addresses count.
    if (ns_rr_type(record) != type || ns_rr_class(record) != ns_c_in) continue;
    std::array<char, INET6_ADDRSTRLEN> text{};
    const int family = type == ns_t_a ? AF_INET : AF_INET6;
    const std::size_t size = type == ns_t_a ? sizeof(in_addr) : sizeof(in6_addr);
    if (ns_rr_rdlen(record) != size ||
        ::inet_ntop(family, ns_rr_rdata(record), text.data(), text.size()) == nullptr) {
      throw FetchFailure("bad_answer", "an address record in the DNS answer is malformed");
    }
    out.push_back(plugin::Peer{.name = text.data(), .address = text.data(), .port = 0});
  }
}

void query(Resolver& resolver, const LookupOptions& options, int type,
           std::vector<plugin::Peer>& out) {
  // 64 KiB: the largest DNS message, so a long answer over TCP fits.
  std::vector<unsigned char> answer(65536);
  errno = 0;
  const int length = ::res_nquery(resolver.get(), options.name.c_str(), ns_c_in, type,
                                  answer.data(), static_cast<int>(answer.size()));
  const int saved_errno = errno;
  if (length >= 0) {
    collect(answer.data(), length, type, out);
    return;
  }
  const std::string what = std::string(type == ns_t_a ? "A" : "AAAA") + " lookup of " +
                           options.name + " at " + describe_server(options.server);
  switch (resolver.get()->res_h_errno) {
    case NO_DATA: return;  // the name exists and has no records of this type: an answer
    case HOST_NOT_FOUND:
      throw FetchFailure("nxdomain", what + " failed: the name does not exist (NXDOMAIN)");
    case NO_RECOVERY:
      throw FetchFailure("refused", what +
                                        " failed: the server refused it (REFUSED, NOTIMP or "
                                        "FORMERR)");
    case TRY_AGAIN:
    default:
      if (saved_errno == ECONNREFUSED) {
        throw FetchFailure("unreachable",
                           what + " failed: no DNS server is listening (connection refused)");
      }
      throw FetchFailure("timeout", what + " failed: no usable answer (timeout or SERVFAIL)");
  }
}

}  // namespace

std::optional<sockaddr_in> parse_server(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::string_view host = text;
  unsigned port = 53;
  if (auto colon = text.find(':'); colon != std::string_view::npos) {
    if (text.find(':', colon + 1) != std::string_view::npos) bad_server(text, "is IPv6");
    host = text.substr(0, colon);
    auto digits = text.substr(colon + 1);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || port < 1 ||
        port > 65535) {
      bad_server(text, "has no port from 1 to 65535 after ':'");
    }
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  if (host.size() >= INET_ADDRSTRLEN ||
      ::inet_pton(AF_INET, std::string(host).c_str(), &address.sin_addr) != 1) {
    bad_server(text, "is not an IPv4 address");
  }
  return address;
}

bool valid_dns_name(std::string_view name) {
  if (name.empty() || name.size() > 254) return false;
  if (name.back() == '.') name.remove_suffix(1);
  if (name.empty() || name.size() > 253) return false;
  std::size_t start = 0;
  while (start <= name.size()) {
    auto dot = name.find('.', start);
    if (dot == std::string_view::npos) dot = name.size();
    auto label = name.substr(start, dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (char c : label) {
      const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '_';
      if (!ok) return false;
    }
    start = dot + 1;
  }
  return true;
}

std::string describe_server(const std::optional<sockaddr_in>& server) {
  if (!server) return "the system resolver";
  std::array<char, INET_ADDRSTRLEN> text{};
  ::inet_ntop(AF_INET, &server->sin_addr, text.data(), text.size());
  return std::string(text.data()) + ":" + std::to_string(ntohs(server->sin_port));
}

std::vector<plugin::Peer> lookup_peers(const LookupOptions& options) {
  Resolver resolver(options);
  std::vector<plugin::Peer> peers;
  // Both must answer: a set built from one family alone would drop the
  // other family's peers on a transient failure.
  query(resolver, options, ns_t_a, peers);
  query(resolver, options, ns_t_aaaa, peers);
  return peers;
}

}  // namespace eltrix::cluster_dns
