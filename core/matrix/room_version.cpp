#include "matrix/room_version.h"

#include <array>

namespace eltrix::matrix {

namespace {
constexpr std::array kVersions{kRoomVersion10, kRoomVersion11};
}

std::span<const RoomVersion> supported_room_versions() {
  return kVersions;
}

const RoomVersion* find_room_version(std::string_view id) {
  for (const auto& version : kVersions) {
    if (version.id == id) return &version;
  }
  return nullptr;
}

}  // namespace eltrix::matrix
