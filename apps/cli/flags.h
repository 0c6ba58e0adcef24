// Command-line flags for the programs in apps/: each flag is bound to the variable it sets, so a
// program declares its settings once and gets parsing, strict value checking, a --help text and
// a name -> value table from the same declarations. The table is what `maskdet train` records in
// its snapshots, so a flag's name is also its key in the recorded configuration.
//
// Syntax: "--name value" or "--name=value"; switches ("--freeze-backbone") take no value.
// Anything not starting with "--" is a positional argument, allowed only when the program names
// them. Every mistake is a UsageError whose message names the flag and says what was expected.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "tensor/error.h"

namespace maskdet::cli {

class UsageError : public Error {
 public:
  using Error::Error;
};

class Flags {
 public:
  // program: "maskdet train"; summary: one line under the usage line. positional_name: how the
  // usage names the positional arguments ("INPUT..."), empty when there are none.
  Flags(std::string program, std::string summary, std::string positional_name = "");

  // Bindings. value_name is shown in the usage ("--lr X"); the variable's value at binding time
  // is shown as the default.
  void add(const std::string& name, std::string& target, const std::string& value_name, const std::string& help);
  void add(const std::string& name, double& target, const std::string& value_name, const std::string& help);
  void add(const std::string& name, int& target, const std::string& value_name, const std::string& help);
  void add(const std::string& name, int64_t& target, const std::string& value_name, const std::string& help);
  void add(const std::string& name, uint64_t& target, const std::string& value_name, const std::string& help);
  // A value that must be one of `choices`.
  void add_choice(const std::string& name, std::string& target, const std::vector<std::string>& choices,
                  const std::string& help);
  // A switch: present sets target to true. Recorded as "true" / "false".
  void add_switch(const std::string& name, bool& target, const std::string& help);
  // Anything else: `parse` turns the text into the value (throwing maskdet::Error with the reason
  // when it cannot), `format` spells the current value back.
  void add_custom(const std::string& name, const std::string& value_name, const std::string& help,
                  std::function<void(const std::string&)> parse, std::function<std::string()> format);

  // Parses args (without the program name). Throws UsageError. Returns the positional arguments.
  std::vector<std::string> parse(const std::vector<std::string>& args);

  // For a main(): parses argv from `first`; prints the usage and returns 0 for --help / -h,
  // prints the error and returns 2 for a usage mistake, returns nullopt when the program should
  // go on. Positional arguments end up in positional().
  std::optional<int> parse_or_exit_code(int argc, char** argv, int first = 1);

  // Whether args ask for the usage (--help or -h).
  static bool wants_help(const std::vector<std::string>& args);

  const std::vector<std::string>& positional() const { return positional_; }
  // Whether the last parse saw the flag.
  bool given(const std::string& name) const { return given_.count(name) > 0; }
  std::string usage() const;

  // Every bound flag's current value, formatted, by name without the dashes ("lr" -> "0.01").
  std::map<std::string, std::string> values() const;
  // Sets a flag from recorded text (name without dashes), as parse would. Throws UsageError.
  void set(const std::string& name, const std::string& value);
  bool has(const std::string& name) const { return find(name) != nullptr; }

 private:
  struct Binding {
    std::string name;  // without the dashes
    std::string value_name;  // empty for a switch
    std::string help;
    std::string default_text;
    std::function<void(const std::string&)> parse;
    std::function<std::string()> format;
  };
  const Binding* find(const std::string& name) const;
  void bind(Binding binding);
  void apply(const Binding& binding, const std::string& value) const;

  std::string program_, summary_, positional_name_;
  std::vector<Binding> bindings_;
  std::set<std::string> given_;
  std::vector<std::string> positional_;
};

// Shortest decimal text that reads back to the same double ("0.01", not "0.010000000000000000208").
std::string format_double(double value);

}  // namespace maskdet::cli
