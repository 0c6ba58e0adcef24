// What a program tells its user when something fails: maskdet::Error messages carry source
// positions " (tensor/foo.cpp:42)", which help a programmer but read as noise to someone
// running a command, so the programs print messages without them (tensor/error.h).
#pragma once
#include <exception>
#include <string>

#include "tensor/error.h"

namespace maskdet::cli {

// `message` without the source positions in it.
inline std::string without_source_location(std::string message) { return without_source_locations(std::move(message)); }

// What a caught exception says to a user.
inline std::string user_message(const std::exception& e) { return without_source_locations(e.what()); }

}  // namespace maskdet::cli
