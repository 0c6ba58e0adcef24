// What a program tells its user when something fails: maskdet::Error messages end with the
// source position " (tensor/foo.cpp:42)", which helps a programmer but reads as noise to
// someone running a command, so the programs print the message without it.
#pragma once
#include <string>

namespace maskdet::cli {

// `message` without a trailing " (<file>.<ext>:<line>)".
std::string without_source_location(std::string message);

}  // namespace maskdet::cli
