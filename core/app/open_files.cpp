#include "app/open_files.h"

#include "log/log.h"

#include <sys/resource.h>

#include <cerrno>
#include <string>
#include <system_error>

namespace eltrix::app {
namespace {

std::string limit_text(rlim_t value) {
  return value == RLIM_INFINITY ? std::string("unlimited") : std::to_string(value);
}

}  // namespace

std::uint64_t raise_open_file_limit(std::uint64_t wanted) {
  const log::Logger logger("node");
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    logger.warn("cannot read the open-file limit",
                {{"error", std::error_code(errno, std::generic_category()).message()}});
    return 0;
  }
  const rlim_t before = limit.rlim_cur;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) {
      logger.warn("cannot raise the open-file limit",
                  {{"soft", limit_text(before)},
                   {"hard", limit_text(limit.rlim_max)},
                   {"error", std::error_code(errno, std::generic_category()).message()}});
      limit.rlim_cur = before;
    } else {
      logger.info("raised the open-file limit",
                  {{"from", limit_text(before)}, {"to", limit_text(limit.rlim_cur)}});
    }
  } else {
    logger.info("open-file limit", {{"soft", limit_text(limit.rlim_cur)}});
  }
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < wanted) {
    logger.warn(
        "the open-file limit is below what the configured limits need; connections beyond it "
        "will be refused. Raise the hard limit (LimitNOFILE= in the systemd unit, ulimit -Hn) "
        "or lower http.max_parked / sync.max_waiting",
        {{"limit", limit_text(limit.rlim_cur)}, {"wanted", std::to_string(wanted)}});
  }
  return limit.rlim_cur == RLIM_INFINITY ? UINT64_MAX : static_cast<std::uint64_t>(limit.rlim_cur);
}

}  // namespace eltrix::app
