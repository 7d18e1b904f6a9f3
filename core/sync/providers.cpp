#include "sync/providers.h"

namespace eltrix::sync {

std::vector<std::unique_ptr<StreamProvider>> standard_providers() {
  std::vector<std::unique_ptr<StreamProvider>> out;
  // The rooms provider first: the others add to the rooms it writes, and its
  // finish() completes the rooms only they wrote to.
  out.push_back(rooms_provider());
  out.push_back(typing_provider());
  out.push_back(receipts_provider());
  out.push_back(account_data_provider());
  out.push_back(presence_provider());
  return out;
}

}  // namespace eltrix::sync
