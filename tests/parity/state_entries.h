// A model's state-dict entries (parameter or buffer, name, shape) against a list torchvision
// wrote (tests/parity/data/*_keys.txt, made by tools/make_parity_fixtures.py): one line per entry,
// "<variant> <parameter|buffer> <name> <d0,d1,...>", in torchvision's order.
#pragma once
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "layers/module.h"
#include "test_util.h"

namespace maskdet::test {

struct StateEntry {
  std::string kind;  // "parameter" or "buffer"
  std::string name;
  Shape shape;
  bool operator==(const StateEntry&) const = default;
};

inline std::ostream& operator<<(std::ostream& os, const StateEntry& e) {
  return os << e.kind << " " << e.name << " " << shape_str(e.shape);
}

// The entries of one variant of a keys file under tests/parity/data.
inline std::vector<StateEntry> torchvision_entries(const std::string& file, const std::string& variant) {
  std::ifstream in(fixture_file("tests/parity/data/" + file));
  EXPECT_TRUE(in.good()) << "missing fixture " << file << "; see tests/parity/README.md";
  std::vector<StateEntry> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string v, dims;
    StateEntry e;
    fields >> v >> e.kind >> e.name >> dims;
    if (v != variant) continue;
    std::istringstream dim_list(dims);
    for (std::string d; std::getline(dim_list, d, ',');) e.shape.push_back(std::stoll(d));
    out.push_back(e);
  }
  return out;
}

inline std::vector<StateEntry> module_entries(const nn::Module& model) {
  std::set<std::string> parameters;
  for (const auto& [name, t] : model.named_parameters()) parameters.insert(name);
  std::vector<StateEntry> out;
  for (const auto& [name, t] : model.state_dict())
    out.push_back({parameters.count(name) ? "parameter" : "buffer", name, t.shape()});
  return out;
}

inline void expect_same_entries(const std::vector<StateEntry>& ours, const std::vector<StateEntry>& theirs) {
  ASSERT_FALSE(theirs.empty());
  EXPECT_EQ(ours.size(), theirs.size());
  for (size_t i = 0; i < std::min(ours.size(), theirs.size()); ++i)
    ASSERT_EQ(ours[i], theirs[i]) << "first difference at entry " << i;
}

inline int64_t parameter_count(const std::vector<StateEntry>& entries) {
  int64_t count = 0;
  for (const StateEntry& e : entries)
    if (e.kind == "parameter") count += shape_numel(e.shape);
  return count;
}

}  // namespace maskdet::test
