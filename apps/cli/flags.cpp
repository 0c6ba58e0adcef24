// Flag binding, parsing and the usage text (flags.h).
#include "apps/cli/flags.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <limits>
#include <sstream>

#include "apps/cli/error_message.h"
#include "apps/data/text_fields.h"

namespace maskdet::cli {

namespace {

std::string strip_dashes(const std::string& flag) { return flag.rfind("--", 0) == 0 ? flag.substr(2) : flag; }

template <class Int>
Int parse_whole(const std::string& text) {
  const auto value = data::parse_integer(text);
  MASKDET_CHECK(value.has_value(), "wants a whole number, got '", text, "'");
  MASKDET_CHECK(*value >= static_cast<int64_t>(std::numeric_limits<Int>::min()) &&
                    (*value < 0 || static_cast<uint64_t>(*value) <= std::numeric_limits<Int>::max()),
                "value ", text, " is out of range");
  return static_cast<Int>(*value);
}

}  // namespace

std::string format_double(double value) {
  char buffer[32];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  return ec == std::errc() ? std::string(buffer, end) : std::to_string(value);
}

Flags::Flags(std::string program, std::string summary, std::string positional_name)
    : program_(std::move(program)), summary_(std::move(summary)), positional_name_(std::move(positional_name)) {}

void Flags::bind(Binding binding) {
  binding.name = strip_dashes(binding.name);
  MASKDET_CHECK(find(binding.name) == nullptr, "Flags: --", binding.name, " is bound twice");
  binding.default_text = binding.format();
  bindings_.push_back(std::move(binding));
}

void Flags::add(const std::string& name, std::string& target, const std::string& value_name, const std::string& help) {
  bind({name, value_name, help, "", [&target](const std::string& v) { target = v; }, [&target] { return target; }});
}

void Flags::add(const std::string& name, double& target, const std::string& value_name, const std::string& help) {
  bind({name, value_name, help, "",
        [&target](const std::string& v) {
          const auto value = data::parse_number(v);
          MASKDET_CHECK(value.has_value(), "wants a number, got '", v, "'");
          target = *value;
        },
        [&target] { return format_double(target); }});
}

void Flags::add(const std::string& name, int& target, const std::string& value_name, const std::string& help) {
  bind({name, value_name, help, "", [&target](const std::string& v) { target = parse_whole<int>(v); },
        [&target] { return std::to_string(target); }});
}

void Flags::add(const std::string& name, int64_t& target, const std::string& value_name, const std::string& help) {
  bind({name, value_name, help, "", [&target](const std::string& v) { target = parse_whole<int64_t>(v); },
        [&target] { return std::to_string(target); }});
}

void Flags::add(const std::string& name, uint64_t& target, const std::string& value_name, const std::string& help) {
  bind({name, value_name, help, "",
        [&target](const std::string& v) {
          const auto value = data::parse_integer(v);
          MASKDET_CHECK(value.has_value() && *value >= 0, "wants a whole number >= 0, got '", v, "'");
          target = static_cast<uint64_t>(*value);
        },
        [&target] { return std::to_string(target); }});
}

void Flags::add_choice(const std::string& name, std::string& target, const std::vector<std::string>& choices,
                       const std::string& help) {
  std::string joined;
  for (const auto& c : choices) joined += (joined.empty() ? "" : "|") + c;
  bind({name, joined, help, "",
        [&target, choices, joined](const std::string& v) {
          MASKDET_CHECK(std::find(choices.begin(), choices.end(), v) != choices.end(), "wants one of ", joined,
                        ", got '", v, "'");
          target = v;
        },
        [&target] { return target; }});
}

void Flags::add_switch(const std::string& name, bool& target, const std::string& help) {
  bind({name, "", help, "",
        [&target](const std::string& v) {
          MASKDET_CHECK(v == "true" || v == "false", "is a switch (true or false), got '", v, "'");
          target = v == "true";
        },
        [&target] { return std::string(target ? "true" : "false"); }});
}

void Flags::add_custom(const std::string& name, const std::string& value_name, const std::string& help,
                       std::function<void(const std::string&)> parse, std::function<std::string()> format) {
  bind({name, value_name, help, "", std::move(parse), std::move(format)});
}

const Flags::Binding* Flags::find(const std::string& name) const {
  for (const auto& b : bindings_)
    if (b.name == name) return &b;
  return nullptr;
}

void Flags::apply(const Binding& binding, const std::string& value) const {
  try {
    binding.parse(value);
  } catch (const std::exception& e) {
    throw UsageError(program_ + ": --" + binding.name + " " + without_source_location(e.what()));
  }
}

void Flags::set(const std::string& name, const std::string& value) {
  const Binding* binding = find(name);
  if (!binding) throw UsageError(program_ + ": unknown setting '" + name + "'");
  apply(*binding, value);
}

std::vector<std::string> Flags::parse(const std::vector<std::string>& args) {
  given_.clear();
  positional_.clear();
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg.rfind("--", 0) != 0 || arg == "--") {
      if (positional_name_.empty())
        throw UsageError(program_ + ": unexpected argument '" + arg + "' (flags start with --; see --help)");
      positional_.push_back(arg);
      continue;
    }
    const size_t equals = arg.find('=');
    const std::string name = arg.substr(2, equals == std::string::npos ? std::string::npos : equals - 2);
    const Binding* binding = find(name);
    if (!binding) throw UsageError(program_ + ": unknown flag --" + name + " (see --help)");
    if (binding->value_name.empty()) {
      apply(*binding, equals == std::string::npos ? "true" : arg.substr(equals + 1));
    } else if (equals != std::string::npos) {
      apply(*binding, arg.substr(equals + 1));
    } else {
      if (i + 1 >= args.size()) throw UsageError(program_ + ": --" + name + " needs a value (" + binding->value_name + ")");
      apply(*binding, args[++i]);
    }
    given_.insert(name);
  }
  return positional_;
}

bool Flags::wants_help(const std::vector<std::string>& args) {
  return std::find(args.begin(), args.end(), "--help") != args.end() ||
         std::find(args.begin(), args.end(), "-h") != args.end();
}

std::optional<int> Flags::parse_or_exit_code(int argc, char** argv, int first) {
  std::vector<std::string> args(argv + std::min(first, argc), argv + argc);
  if (wants_help(args)) {
    std::fputs(usage().c_str(), stdout);
    return 0;
  }
  try {
    parse(args);
  } catch (const UsageError& e) {
    std::fprintf(stderr, "%s\n", without_source_locations(e.what()).c_str());
    return 2;
  }
  return std::nullopt;
}

std::string Flags::usage() const {
  std::ostringstream os;
  os << "usage: " << program_ << " [flags]" << (positional_name_.empty() ? "" : " " + positional_name_) << "\n";
  if (!summary_.empty()) os << summary_ << "\n";
  os << "\n";
  for (const auto& b : bindings_) {
    std::string left = "  --" + b.name + (b.value_name.empty() ? "" : " " + b.value_name);
    if (left.size() < 30) left.resize(30, ' ');
    else left += "\n" + std::string(30, ' ');
    os << left << b.help;
    if (!b.value_name.empty() && !b.default_text.empty()) os << " (default " << b.default_text << ")";
    os << "\n";
  }
  return os.str();
}

std::map<std::string, std::string> Flags::values() const {
  std::map<std::string, std::string> out;
  for (const auto& b : bindings_) out[b.name] = b.format();
  return out;
}

}  // namespace maskdet::cli
