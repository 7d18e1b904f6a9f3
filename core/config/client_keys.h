// The keys of the Client-Server API: registration, authentication, rate
// limits and sync. Declared once here; read through config::Config.
#pragma once

#include "config/schema.h"

namespace eltrix::config {

/// Adds the Client-Server API keys to `schema` (called by add_core_keys).
void add_client_keys(Schema& schema);

namespace keys {
inline constexpr const char* kPublicBaseUrl = "server.public_baseurl";
inline constexpr const char* kRegistrationEnabled = "registration.enabled";
inline constexpr const char* kRegistrationRequiresToken = "registration.requires_token";
inline constexpr const char* kRegistrationToken = "registration.token";
inline constexpr const char* kRegistrationSharedSecret = "registration.shared_secret";
inline constexpr const char* kPasswordMinLength = "auth.password_min_length";
inline constexpr const char* kPasswordRequireSpecial = "auth.password_require_special";
inline constexpr const char* kSessionLifetime = "auth.session_lifetime";
inline constexpr const char* kRateLimitEnabled = "ratelimit.enabled";
inline constexpr const char* kRateLimitLoginPerMinute = "ratelimit.login_per_minute";
inline constexpr const char* kRateLimitLoginBurst = "ratelimit.login_burst";
inline constexpr const char* kRateLimitRegisterPerMinute = "ratelimit.register_per_minute";
inline constexpr const char* kRateLimitRegisterBurst = "ratelimit.register_burst";
inline constexpr const char* kRateLimitSendPerMinute = "ratelimit.send_per_minute";
inline constexpr const char* kRateLimitSendBurst = "ratelimit.send_burst";
inline constexpr const char* kSyncMaxWaiting = "sync.max_waiting";
inline constexpr const char* kSyncMaxWaitingPerUser = "sync.max_waiting_per_user";
inline constexpr const char* kSyncMaxTimeout = "sync.max_timeout";
inline constexpr const char* kRoomsMaxEventsScanned = "rooms.max_events_scanned";
inline constexpr const char* kRateLimitPasswordPerMinute = "ratelimit.password_per_minute";
inline constexpr const char* kRateLimitPasswordBurst = "ratelimit.password_burst";
inline constexpr const char* kRateLimitCreateRoomPerMinute = "ratelimit.create_room_per_minute";
inline constexpr const char* kRateLimitCreateRoomBurst = "ratelimit.create_room_burst";
inline constexpr const char* kRateLimitJoinPerMinute = "ratelimit.join_per_minute";
inline constexpr const char* kRateLimitJoinBurst = "ratelimit.join_burst";
inline constexpr const char* kRateLimitProfilePerMinute = "ratelimit.profile_per_minute";
inline constexpr const char* kRateLimitProfileBurst = "ratelimit.profile_burst";
inline constexpr const char* kProfileMaxRoomUpdates = "profile.max_room_updates";
inline constexpr const char* kProfileRequireAuth = "profile.require_auth_for_profile_requests";
inline constexpr const char* kProfileLimitToSharedRooms =
    "profile.limit_profile_requests_to_users_who_share_rooms";
inline constexpr const char* kTurnUris = "turn.uris";
inline constexpr const char* kTurnSharedSecret = "turn.shared_secret";
inline constexpr const char* kTurnTtl = "turn.ttl";
}  // namespace keys

}  // namespace eltrix::config
