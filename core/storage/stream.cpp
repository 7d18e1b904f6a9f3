#include "storage/stream.h"

namespace eltrix::storage {

std::int64_t advance_stream(Transaction& tx) {
  return tx.exec1("UPDATE stream_head SET position = position + 1 RETURNING position")[0]
      .as<std::int64_t>();
}

std::int64_t current_stream(Transaction& tx) {
  return tx.exec1("SELECT position FROM stream_head")[0].as<std::int64_t>();
}

}  // namespace eltrix::storage
