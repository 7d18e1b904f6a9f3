#include "http/address_limit.h"

#include <Poco/Net/StreamSocketImpl.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>
#include <cstring>

namespace eltrix::http {
namespace {

std::array<std::uint8_t, 16> mapped_v4(const in_addr& a) {
  std::array<std::uint8_t, 16> out{};
  out[10] = 0xff;
  out[11] = 0xff;
  std::memcpy(out.data() + 12, &a, 4);
  return out;
}

bool is_mapped_v4(const std::array<std::uint8_t, 16>& a) {
  static constexpr std::uint8_t kPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return std::memcmp(a.data(), kPrefix, 12) == 0;
}

/// The socket of an accepted connection; its count is released with it.
class TrackedSocketImpl final : public Poco::Net::StreamSocketImpl {
 public:
  TrackedSocketImpl(int fd, std::shared_ptr<AddressLimiter> limiter, std::string key)
      : Poco::Net::StreamSocketImpl(fd), limiter_(std::move(limiter)), key_(std::move(key)) {}

 protected:
  ~TrackedSocketImpl() override {
    close();  // before the count goes: the limit is on open descriptors
    limiter_->release(key_);
  }

 private:
  std::shared_ptr<AddressLimiter> limiter_;
  std::string key_;
};

}  // namespace

std::optional<AddressBlock> AddressBlock::parse(std::string_view text) {
  AddressBlock block;
  std::string_view address = text;
  std::optional<int> bits;
  if (const auto slash = text.find('/'); slash != std::string_view::npos) {
    address = text.substr(0, slash);
    const std::string_view digits = text.substr(slash + 1);
    int n = -1;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
    if (ec != std::errc() || end != digits.data() + digits.size() || digits.empty()) {
      return std::nullopt;
    }
    bits = n;
  }
  const std::string copy(address);
  in_addr v4{};
  in6_addr v6{};
  if (inet_pton(AF_INET, copy.c_str(), &v4) == 1) {
    if (bits && (*bits < 0 || *bits > 32)) return std::nullopt;
    block.bytes = mapped_v4(v4);
    block.prefix = 96 + bits.value_or(32);
  } else if (inet_pton(AF_INET6, copy.c_str(), &v6) == 1) {
    if (bits && (*bits < 0 || *bits > 128)) return std::nullopt;
    std::memcpy(block.bytes.data(), &v6, 16);
    block.prefix = bits.value_or(128);
  } else {
    return std::nullopt;
  }
  return block;
}

bool AddressBlock::contains(const std::array<std::uint8_t, 16>& address) const {
  int left = prefix;
  for (std::size_t i = 0; i < 16 && left > 0; ++i, left -= 8) {
    const std::uint8_t mask = left >= 8 ? 0xff : static_cast<std::uint8_t>(0xff << (8 - left));
    if ((bytes[i] & mask) != (address[i] & mask)) return false;
  }
  return true;
}

AddressLimiter::AddressLimiter(std::size_t max_per_address, std::vector<AddressBlock> exempt)
    : max_(max_per_address), exempt_(std::move(exempt)) {}

bool AddressLimiter::acquire(const sockaddr_storage& peer, std::string& key) {
  std::array<std::uint8_t, 16> address{};
  if (peer.ss_family == AF_INET) {
    address = mapped_v4(reinterpret_cast<const sockaddr_in&>(peer).sin_addr);
  } else if (peer.ss_family == AF_INET6) {
    std::memcpy(address.data(), &reinterpret_cast<const sockaddr_in6&>(peer).sin6_addr, 16);
  }
  // IPv4 (mapped or not) per address; IPv6 per /64.
  const std::size_t significant = is_mapped_v4(address) ? 16 : 8;
  key.assign(reinterpret_cast<const char*>(address.data()), significant);
  bool exempt = max_ == 0;
  for (const auto& block : exempt_) {
    if (exempt) break;
    exempt = block.contains(address);
  }
  std::lock_guard lock(mutex_);
  auto& count = counts_[key];
  if (!exempt && count >= max_) {
    if (count == 0) counts_.erase(key);
    return false;
  }
  ++count;
  ++open_;
  return true;
}

void AddressLimiter::release(const std::string& key) {
  std::lock_guard lock(mutex_);
  auto it = counts_.find(key);
  if (it == counts_.end()) return;
  --open_;
  if (--it->second == 0) counts_.erase(it);
}

std::size_t AddressLimiter::open() const {
  std::lock_guard lock(mutex_);
  return open_;
}

Poco::Net::StreamSocket tracked_socket(int fd, std::shared_ptr<AddressLimiter> limiter,
                                       std::string key) {
  return Poco::Net::StreamSocket(new TrackedSocketImpl(fd, std::move(limiter), std::move(key)));
}

}  // namespace eltrix::http
