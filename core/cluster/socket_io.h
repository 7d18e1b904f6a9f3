// Blocking socket helpers shared by the dialling and accepting sides. Every
// wait is bounded, so a silent or hostile peer never holds a thread for long.
#pragma once

#include "cluster/frame.h"

#include <Poco/Net/StreamSocket.h>

#include <atomic>
#include <chrono>
#include <string>
#include <string_view>

namespace eltrix::cluster {

/// The peer closed the connection, a deadline passed or the mesh is stopping.
class ConnectionClosed : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Writes all of `bytes` (the socket has a send timeout). Throws on failure.
void send_all(Poco::Net::StreamSocket& socket, std::string_view bytes);

/// The next frame body, reading into `reader` as needed. The socket must have
/// a short receive timeout (it is how `stopping` is noticed). Throws
/// ConnectionClosed at end of stream, at `deadline` or when `stopping` turns
/// true; FrameError on a bad length.
std::string read_frame(Poco::Net::StreamSocket& socket, FrameReader& reader,
                       std::chrono::steady_clock::time_point deadline,
                       const std::atomic<bool>& stopping);

}  // namespace eltrix::cluster
