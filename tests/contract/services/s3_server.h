// The S3-compatible server scripts/test starts (scripts/lib/s3.sh: s3rver
// behind a SigV4-checking proxy), as the ELTRIX_TEST_S3_* variables describe it.
#pragma once

#include "contract/harness.h"

#include <optional>
#include <string>

namespace eltrix::contract {

struct S3Server {
  std::string endpoint;
  std::string bucket;
  std::string region;
  std::string access_key;
  std::string secret_key;
  std::string data_dir;  ///< s3rver's data directory (pending uploads live there)
};

/// The server, or nullopt when ELTRIX_TEST_S3_ENDPOINT is unset.
std::optional<S3Server> test_s3_server();

/// Without a server: a failure under CI=true (the suite must run there), else
/// a warning naming what was skipped and how to run it.
void skip_without_s3_server(const std::string& what);

/// The plugin configuration for `server`, plus `extra`.
ConfigValues s3_config(const S3Server& server, const ConfigValues& extra = {});

/// A fresh random s3.prefix per subject, so each starts from an empty store.
Factory<plugin::MediaStore> with_s3_prefix(Factory<plugin::MediaStore> make, const S3Server& server,
                                           ConfigValues extra = {});

/// The keys of pending multipart uploads, read from s3rver's data directory.
std::vector<std::string> pending_uploads(const S3Server& server);

}  // namespace eltrix::contract
