// The ResNet-50 RetinaNet's state dict against torchvision's retinanet_resnet50_fpn, entry by
// entry and in order: name, shape, parameter or buffer, and the parameter count. Two variants:
// BatchNorm2d (what torchvision builds without pretrained weights) and FrozenBatchNorm2d (the
// layout of its COCO checkpoint). The list is tests/parity/data/retinanet_resnet50_fpn_keys.txt,
// made by tools/make_parity_fixtures.py; no weights are involved.
#include <fstream>
#include <sstream>

#include "retinanet/retinanet.h"
#include "test_util.h"

namespace maskdet {
namespace {

struct Entry {
  std::string kind;  // "parameter" or "buffer"
  std::string name;
  Shape shape;
  bool operator==(const Entry&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Entry& e) {
  return os << e.kind << " " << e.name << " " << shape_str(e.shape);
}

std::vector<Entry> torchvision_entries(const std::string& variant) {
  std::ifstream in(test::fixture_file("tests/parity/data/retinanet_resnet50_fpn_keys.txt"));
  EXPECT_TRUE(in.good()) << "missing fixture; see tests/parity/README.md";
  std::vector<Entry> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string v, dims;
    Entry e;
    fields >> v >> e.kind >> e.name >> dims;
    if (v != variant) continue;
    std::istringstream dim_list(dims);
    for (std::string d; std::getline(dim_list, d, ',');) e.shape.push_back(std::stoll(d));
    out.push_back(e);
  }
  return out;
}

std::vector<Entry> maskdet_entries(NormLayer norm) {
  RetinaNetConfig config;
  config.backbone = {.depth = 50, .norm = norm};
  config.num_classes = 91;
  auto model = std::make_shared<RetinaNet>(config);
  std::set<std::string> parameters;
  for (const auto& [name, t] : model->named_parameters()) parameters.insert(name);
  std::vector<Entry> out;
  for (const auto& [name, t] : model->state_dict())
    out.push_back({parameters.count(name) ? "parameter" : "buffer", name, t.shape()});
  return out;
}

void expect_same_entries(const std::vector<Entry>& ours, const std::vector<Entry>& theirs) {
  ASSERT_FALSE(theirs.empty());
  EXPECT_EQ(ours.size(), theirs.size());
  for (size_t i = 0; i < std::min(ours.size(), theirs.size()); ++i)
    ASSERT_EQ(ours[i], theirs[i]) << "first difference at entry " << i;
}

int64_t parameter_count(const std::vector<Entry>& entries) {
  int64_t count = 0;
  for (const Entry& e : entries)
    if (e.kind == "parameter") count += shape_numel(e.shape);
  return count;
}

TEST(RetinaNetResNet50Names, BatchNormVariantMatchesTorchvision) {
  const auto theirs = torchvision_entries("batchnorm");
  const auto ours = maskdet_entries(NormLayer::BatchNorm);
  expect_same_entries(ours, theirs);
  // torchvision's count for retinanet_resnet50_fpn(weights=None, weights_backbone=None).
  EXPECT_EQ(parameter_count(ours), 34068119);
}

TEST(RetinaNetResNet50Names, FrozenBatchNormVariantMatchesTheCocoCheckpointLayout) {
  const auto theirs = torchvision_entries("frozen");
  const auto ours = maskdet_entries(NormLayer::FrozenBatchNorm);
  expect_same_entries(ours, theirs);
  // The "num_params" torchvision publishes for RetinaNet_ResNet50_FPN_Weights.COCO_V1.
  EXPECT_EQ(parameter_count(ours), 34014999);
}

}  // namespace
}  // namespace maskdet
