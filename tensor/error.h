// Errors: one exception type for the whole framework and the check macro that
// raises it with the failing condition, a message and file:line. The source position is for
// programmers; what a program shows its user goes through without_source_locations.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace maskdet {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

namespace detail {
template <class... Args>
[[noreturn]] void throw_error(const char* file, int line, const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  os << " (" << file << ":" << line << ")";
  throw Error(os.str());
}
}  // namespace detail

// `message` without the " (<file>.cpp:<line>)" positions the check macros append: every one of
// them, since a message may carry another error's message inside it (a report of skipped
// samples, a loader naming the sample that failed). Only positions in source files (.cpp, .h,
// .hpp, .cc, .cu, .cuh) are removed, so "(see a.xml:3)" stays.
std::string without_source_locations(std::string message);

}  // namespace maskdet

// MASKDET_CHECK(cond, "message parts", value, ...): throws maskdet::Error when cond is false.
#define MASKDET_CHECK(cond, ...)                                                          \
  do {                                                                                    \
    if (!(cond)) ::maskdet::detail::throw_error(__FILE__, __LINE__, __VA_ARGS__);         \
  } while (0)

// MASKDET_FAIL("message parts", ...): throws unconditionally.
#define MASKDET_FAIL(...) ::maskdet::detail::throw_error(__FILE__, __LINE__, __VA_ARGS__)
