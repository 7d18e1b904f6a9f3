#include "storage/read_scope.h"

#include <algorithm>

namespace eltrix::storage {

namespace {
thread_local ReadScope* current_scope = nullptr;
}  // namespace

ReadScope::ReadScope(std::string user_id, std::uint64_t floor)
    : user_id_(std::move(user_id)), floor_(floor), outer_(current_scope) {
  current_scope = this;
}

ReadScope::~ReadScope() {
  current_scope = outer_;
}

ReadScope* ReadScope::current() {
  return current_scope;
}

void ReadScope::identify(const std::string& user_id) {
  ReadScope* scope = current_scope;
  if (scope == nullptr || scope->user_id_ == user_id) return;
  scope->user_id_ = user_id;
  scope->looked_up_ = false;  // another user: look it up again
  scope->required_.reset();
}

std::optional<std::uint64_t> ReadScope::required(PositionBook* book) {
  if (!looked_up_) {
    looked_up_ = true;
    required_ = std::uint64_t{0};
    if (book != nullptr && !user_id_.empty()) required_ = book->required(user_id_);
  }
  if (!required_) return std::nullopt;
  return std::max(*required_, floor_);
}

void ReadScope::set_required(std::uint64_t position) {
  looked_up_ = true;
  required_ = std::max(required_.value_or(0), position);
}

void ReadScope::wrote(PositionBook* book, std::uint64_t position) {
  // Known for the rest of this request even when the book was never asked.
  if (looked_up_ && required_) required_ = std::max(*required_, position);
  if (book != nullptr && !user_id_.empty()) book->advance(user_id_, position);
}

}  // namespace eltrix::storage
