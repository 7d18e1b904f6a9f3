// The sync sections, one stream provider each (sync/stream_provider.h), one
// file each: sync/<name>_provider.cpp.
#pragma once

#include "sync/stream_provider.h"

#include <memory>
#include <vector>

namespace eltrix::sync {

/// rooms.join, rooms.invite and rooms.leave: timelines, state, invite state,
/// room summaries and unread counts (the events stream).
std::unique_ptr<StreamProvider> rooms_provider();
/// m.typing in each joined room's ephemeral events (the typing serial).
std::unique_ptr<StreamProvider> typing_provider();
/// m.receipt in each joined room's ephemeral events.
std::unique_ptr<StreamProvider> receipts_provider();
/// The top-level account_data and each joined room's account_data.
std::unique_ptr<StreamProvider> account_data_provider();
/// The top-level presence.
std::unique_ptr<StreamProvider> presence_provider();

/// Every section of a /sync response, in the order they write (typing
/// before receipts in a room's ephemeral events).
std::vector<std::unique_ptr<StreamProvider>> standard_providers();

}  // namespace eltrix::sync
