#include "cluster/socket_io.h"

#include <Poco/Exception.h>

#include <array>

namespace eltrix::cluster {

void send_all(Poco::Net::StreamSocket& socket, std::string_view bytes) {
  while (!bytes.empty()) {
    const int sent = socket.sendBytes(bytes.data(), static_cast<int>(bytes.size()));
    if (sent <= 0) throw ConnectionClosed("connection closed while sending");
    bytes.remove_prefix(static_cast<std::size_t>(sent));
  }
}

std::string read_frame(Poco::Net::StreamSocket& socket, FrameReader& reader,
                       std::chrono::steady_clock::time_point deadline,
                       const std::atomic<bool>& stopping) {
  std::array<char, 16384> buffer{};
  while (true) {
    if (auto body = reader.next()) return std::move(*body);
    if (stopping.load()) throw ConnectionClosed("stopping");
    if (std::chrono::steady_clock::now() >= deadline) throw ConnectionClosed("timed out");
    int received = 0;
    try {
      received = socket.receiveBytes(buffer.data(), static_cast<int>(buffer.size()));
    } catch (const Poco::TimeoutException&) {
      continue;  // the receive timeout only paces the checks above
    }
    if (received <= 0) throw ConnectionClosed("closed by the peer");
    reader.feed(std::string_view(buffer.data(), static_cast<std::size_t>(received)));
  }
}

}  // namespace eltrix::cluster
