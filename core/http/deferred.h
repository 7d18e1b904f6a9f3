// Deferred responses: a handler that has nothing to answer yet (a /sync
// long-poll with no new events) returns Response::deferred(d) instead of
// blocking its worker thread. The server detaches the connection from the
// thread, parks the socket with one watcher thread, and writes the response
// when `d` completes it. See core/notify/notifier.h for the usual pairing with
// the notifier, and docs/decisions.md (D10) for why.
#pragma once

#include <functional>

namespace eltrix::http {

struct Response;

class Deferred {
 public:
  virtual ~Deferred() = default;

  /// Runs once, on a server thread, after the handler returned and the
  /// connection was detached from its worker thread. `complete` may be called
  /// from any thread, exactly once, with the final response; calls after the
  /// connection is gone are ignored. `complete` may be called before start()
  /// returns, and may be copied and stored (it holds no reference that keeps
  /// the server alive).
  virtual void start(std::function<void(Response)> complete) = 0;

  /// The client disconnected, or the server is draining: stop waiting and (if
  /// still possible) complete soon with the current result. May run
  /// concurrently with complete(). Called at most once, only after start()
  /// returned, and on the server's watcher thread: it must not block (do heavy
  /// work elsewhere and call complete() from there).
  virtual void cancel() = 0;
};

}  // namespace eltrix::http
