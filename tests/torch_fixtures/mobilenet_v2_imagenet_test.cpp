// maskdet's MobileNetV2 with torchvision's ImageNet weights, converted without torch by
// scripts/fetch-weights.sh, gives torchvision's logits: the reference is
// tests/torch_fixtures/data/mobilenet_v2_logits.safetensors (tools/make_mobilenet_v2_fixture.py,
// torch.load on the original .pth). The converted weights are not committed: scripts/test.sh
// fetches them into <build>/weights before the tests run (MASKDET_MOBILENET_V2_WEIGHTS names
// another file); without them the test skips, saying why.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <vector>

#include "autograd/grad_mode.h"
#include "retinanet/mobilenet_v2.h"
#include "tensor/creation.h"
#include "tensor/safetensors.h"
#include "test_util.h"

namespace maskdet {
namespace {

std::string weights_file() {
  if (const char* path = std::getenv("MASKDET_MOBILENET_V2_WEIGHTS"); path != nullptr && *path != '\0') return path;
  return MASKDET_TEST_WEIGHTS_DIR "/mobilenet_v2_imagenet.safetensors";
}

// (2, 3, 224, 224) as mobilenet_v2_inputs() of the fixture script: every value a multiple of
// 1/32, exact in float32.
Tensor fixture_inputs() {
  constexpr int64_t kSize = 224;
  const int64_t factors[2][2] = {{1, 1}, {13, 5}};
  std::vector<float> values;
  values.reserve(2 * 3 * kSize * kSize);
  for (const auto& ab : factors)
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t h = 0; h < kSize; ++h)
        for (int64_t w = 0; w < kSize; ++w)
          values.push_back(static_cast<float>((h * ab[0] + w * ab[1] + 37 * c) % 97) / 32.0f - 1.5f);
  return from_vector(values, {2, 3, kSize, kSize});
}

std::vector<int64_t> top_k(const Tensor& row, int64_t k) {
  const Tensor values = row.contiguous();
  const float* v = values.data_ptr<float>();
  std::vector<int64_t> order(static_cast<size_t>(values.numel()));
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int64_t>(i);
  std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int64_t a, int64_t b) { return v[a] > v[b]; });
  order.resize(static_cast<size_t>(k));
  return order;
}

TEST(MobileNetV2ImageNet, GivesTorchvisionsLogitsAndTop5) {
  const std::string path = weights_file();
  if (!std::filesystem::exists(path))
    GTEST_SKIP() << path << " is absent: scripts/fetch-weights.sh --out " << path
                 << " makes it (scripts/test.sh does so before the tests)";
  MobileNetV2 model(BackboneConfig{.norm = NormLayer::BatchNorm, .arch = BackboneArch::MobileNetV2});
  model.load_state_dict(load_safetensors(path));  // strict: every key of the file used, none missing
  model.eval();
  NoGradGuard no_grad;
  const Tensor logits = model.forward(fixture_inputs());

  const auto reference = load_safetensors(test::fixture_file("tests/torch_fixtures/data/mobilenet_v2_logits.safetensors"));
  const Tensor& expected = reference.at("logits");
  ASSERT_EQ(logits.shape(), expected.shape());
  const Tensor a = logits.contiguous(), e = expected.contiguous();
  const float* got = a.data_ptr<float>();
  const float* want = e.data_ptr<float>();
  double worst = 0, scale = 0;
  int64_t worst_at = 0;
  for (int64_t i = 0; i < e.numel(); ++i) scale = std::max(scale, std::abs(static_cast<double>(want[i])));
  for (int64_t i = 0; i < e.numel(); ++i) {
    const double err = std::abs(static_cast<double>(got[i]) - want[i]) / scale;
    if (err > worst) worst = err, worst_at = i;
  }
  // Relative to the largest logit: float32 sums over 17 layers round differently in each library.
  EXPECT_LT(worst, 1e-4) << "worst element " << worst_at << ": " << got[worst_at] << " vs " << want[worst_at]
                         << " (largest |logit| " << scale << ")";
  std::cout << "worst relative difference " << worst << " at element " << worst_at << "\n";
  const Tensor& top5 = reference.at("top5");
  for (int64_t n = 0; n < 2; ++n) {
    const std::vector<int64_t> ours = top_k(logits.select(0, n), 5);
    for (int64_t j = 0; j < 5; ++j)
      EXPECT_EQ(ours[static_cast<size_t>(j)], static_cast<int64_t>(top5.select(0, n).select(0, j).item())) << "image " << n << " rank " << j;
  }
}

}  // namespace
}  // namespace maskdet
