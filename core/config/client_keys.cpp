#include "config/client_keys.h"

namespace eltrix::config {

using plugin::ConfigKeySpec;
using plugin::ConfigType;
using plugin::kConfigSecret;

void add_client_keys(Schema& schema) {
  const ConfigKeySpec specs[] = {
      {.name = keys::kPublicBaseUrl,
       .default_value = "",
       .help = "Base URL clients use to reach this server, served in "
               "/.well-known/matrix/client. Empty: https://<server.name>.",
       .env = "ELTRIX_PUBLIC_BASEURL"},
      {.name = keys::kRegistrationEnabled,
       .type = ConfigType::boolean,
       .default_value = "false",
       .help = "Let anyone create an account with /register. Operators can always create "
               "accounts with 'eltrix user create' or the shared-secret admin API.",
       .env = "ELTRIX_REGISTRATION_ENABLED"},
      {.name = keys::kRegistrationRequiresToken,
       .type = ConfigType::boolean,
       .default_value = "false",
       .help = "Open registration also needs the m.login.registration_token stage.",
       .env = "ELTRIX_REGISTRATION_REQUIRES_TOKEN"},
      {.name = keys::kRegistrationToken,
       .default_value = "",
       .help = "The registration token accepted by m.login.registration_token.",
       .flags = kConfigSecret,
       .env = "ELTRIX_REGISTRATION_TOKEN"},
      {.name = keys::kRegistrationSharedSecret,
       .default_value = "",
       .help = "Secret of the shared-secret admin registration API "
               "(/_synapse/admin/v1/register, as used by register_new_matrix_user). "
               "Empty disables the API.",
       .flags = kConfigSecret,
       .env = "ELTRIX_REGISTRATION_SHARED_SECRET"},
      {.name = keys::kPasswordMinLength,
       .type = ConfigType::integer,
       .default_value = "8",
       .help = "Shortest password accepted (M_WEAK_PASSWORD otherwise).",
       .env = "ELTRIX_PASSWORD_MIN_LENGTH",
       .min_value = 1,
       .max_value = 512},
      {.name = keys::kPasswordRequireSpecial,
       .type = ConfigType::boolean,
       .default_value = "false",
       .help = "Passwords must contain a character that is neither a letter nor a digit.",
       .env = "ELTRIX_PASSWORD_REQUIRE_SPECIAL"},
      {.name = keys::kSessionLifetime,
       .type = ConfigType::integer,
       .default_value = "604800",
       .help = "Seconds an access token stays valid after login; 0 means until logout.",
       .env = "ELTRIX_SESSION_LIFETIME",
       .min_value = 0},
      {.name = keys::kRateLimitEnabled,
       .type = ConfigType::boolean,
       .default_value = "true",
       .help = "Rate-limit login, registration and message sending per client. The counters "
               "live in the cache backend, so with Redis they hold across nodes.",
       .env = "ELTRIX_RATELIMIT_ENABLED"},
      {.name = keys::kRateLimitLoginPerMinute,
       .type = ConfigType::integer,
       .default_value = "10",
       .help = "Login attempts per minute per client address (sustained rate).",
       .env = "ELTRIX_RATELIMIT_LOGIN_PER_MINUTE",
       .min_value = 1},
      {.name = keys::kRateLimitLoginBurst,
       .type = ConfigType::integer,
       .default_value = "5",
       .help = "Login attempts allowed at once before the per-minute rate applies.",
       .env = "ELTRIX_RATELIMIT_LOGIN_BURST",
       .min_value = 1},
      {.name = keys::kRateLimitRegisterPerMinute,
       .type = ConfigType::integer,
       .default_value = "10",
       .help = "Registration requests per minute per client address.",
       .env = "ELTRIX_RATELIMIT_REGISTER_PER_MINUTE",
       .min_value = 1},
      {.name = keys::kRateLimitRegisterBurst,
       .type = ConfigType::integer,
       .default_value = "5",
       .help = "Registration requests allowed at once.",
       .env = "ELTRIX_RATELIMIT_REGISTER_BURST",
       .min_value = 1},
      {.name = keys::kRateLimitSendPerMinute,
       .type = ConfigType::integer,
       .default_value = "300",
       .help = "Events sent per minute per user.",
       .env = "ELTRIX_RATELIMIT_SEND_PER_MINUTE",
       .min_value = 1},
      {.name = keys::kRateLimitSendBurst,
       .type = ConfigType::integer,
       .default_value = "50",
       .help = "Events a user may send at once before the per-minute rate applies.",
       .env = "ELTRIX_RATELIMIT_SEND_BURST",
       .min_value = 1},
      {.name = keys::kSyncMaxWaiting,
       .type = ConfigType::integer,
       .default_value = "20000",
       .help = "Most /sync requests waiting for events at once on this node; beyond it a "
               "sync answers at once instead of waiting. Waiting syncs hold no thread. At most "
               "http.max_parked.",
       .env = "ELTRIX_SYNC_MAX_WAITING",
       .min_value = 0},
      {.name = keys::kSyncMaxWaitingPerUser,
       .type = ConfigType::integer,
       .default_value = "64",
       .help = "Most /sync requests one user may have waiting at once on this node (all their "
               "devices together). A new one beyond it makes the user's oldest waiting sync "
               "answer at once (with what it has, usually nothing new), as a client that "
               "reconnected leaves its old request behind. 0: no limit.",
       .min_value = 0,
       .max_value = 1000000},
      {.name = keys::kSyncMaxTimeout,
       .type = ConfigType::integer,
       .default_value = "60000",
       .help = "Longest /sync timeout honoured, in milliseconds (larger requests are capped).",
       .env = "ELTRIX_SYNC_MAX_TIMEOUT",
       .min_value = 0,
       .max_value = 600000},
      {.name = keys::kRoomsMaxEventsScanned,
       .type = ConfigType::integer,
       .default_value = "2000",
       .help = "Most room events one /messages, /context or /sync room timeline reads while "
               "looking for events its filter matches and the user may see. When reached, "
               "the response carries what was found and a token to continue from.",
       .env = "ELTRIX_ROOMS_MAX_EVENTS_SCANNED",
       .min_value = 10,
       .max_value = 1000000},
  };
  for (const auto& spec : specs) schema.add(spec, "core");
}

}  // namespace eltrix::config
