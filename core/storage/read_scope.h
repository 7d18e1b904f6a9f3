// Read-your-writes across replicas: the position a request's reads need.
//
// Every write on the primary ends at a WAL position (an LSN). A replica that
// has replayed that far shows the write; one that has not would show older
// data. So the core remembers, per user, the position of the user's last
// write (PositionBook, implemented by storage::WritePositions) and routes the
// user's reads only to replicas at or past it.
//
// A ReadScope says whose request this thread is serving. The HTTP layer opens
// one per Client-Server request (client/routes.cpp) and the authenticator
// names the user in it; a woken /sync opens its own. Database::read() asks the
// current scope for the position it needs and Database::write() reports the
// position its commit reached to it. Without a scope (start-up, background
// jobs) reads need nothing in particular.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace eltrix::storage {

/// Where positions are kept between requests (and between nodes).
class PositionBook {
 public:
  PositionBook() = default;
  PositionBook(const PositionBook&) = delete;
  PositionBook& operator=(const PositionBook&) = delete;
  PositionBook(PositionBook&&) = delete;
  PositionBook& operator=(PositionBook&&) = delete;
  virtual ~PositionBook() = default;

  /// The position `user_id`'s reads must have replayed (0: nothing in
  /// particular). nullopt: this node cannot know (another node may have taken
  /// the user's last write and nothing carried its position here); the
  /// caller then uses the primary's current position, which covers every
  /// write acknowledged so far.
  virtual std::optional<std::uint64_t> required(const std::string& user_id) = 0;
  /// `user_id` wrote, or was shown, everything up to `position`.
  virtual void advance(const std::string& user_id, std::uint64_t position) = 0;
};

/// The read-your-writes state of the request this thread is serving. Scopes
/// nest (the innermost is current) and must be destroyed on the thread that
/// created them, in reverse order.
class ReadScope {
 public:
  /// `floor`: a position every read in the scope needs whoever the user is
  /// (a woken /sync passes the node's latest write, so the rebuild sees what
  /// woke it).
  explicit ReadScope(std::string user_id = {}, std::uint64_t floor = 0);
  ~ReadScope();
  ReadScope(const ReadScope&) = delete;
  ReadScope& operator=(const ReadScope&) = delete;
  ReadScope(ReadScope&&) = delete;
  ReadScope& operator=(ReadScope&&) = delete;

  /// The scope of this thread's current request, or nullptr.
  static ReadScope* current();
  /// Names the requester in the current scope (no-op without one). Called by
  /// the authenticator once the access token is resolved.
  static void identify(const std::string& user_id);

  [[nodiscard]] const std::string& user_id() const { return user_id_; }
  [[nodiscard]] std::uint64_t floor() const { return floor_; }

  /// The position this request's reads need, looked up in `book` at most once
  /// per scope and user (a cache round trip), then raised by the request's
  /// own writes. nullopt: unknown here (see PositionBook::required).
  std::optional<std::uint64_t> required(PositionBook* book);
  /// The request's write committed at `position`: later reads need it, and so
  /// do the user's next requests, on any node.
  void wrote(PositionBook* book, std::uint64_t position);
  /// The primary's position, once asked for in this scope (when the book
  /// could not say), so that the question is asked once per request.
  void set_required(std::uint64_t position);

 private:
  std::string user_id_;
  std::uint64_t floor_ = 0;
  bool looked_up_ = false;
  std::optional<std::uint64_t> required_;
  ReadScope* outer_ = nullptr;
};

}  // namespace eltrix::storage
