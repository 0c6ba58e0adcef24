// The whole detector on CUDA against the CPU: a small ResNet-18 RetinaNet with trainable batch
// norm, the same seeded weights on both devices, then one training step (forward in training
// mode, the loss with anchor matching on the device, backward, SGD with momentum) and a forward
// in eval mode, compared op-chain against op-chain. This is what the per-kernel tests cannot
// show: that the CUDA kernels compose into the model's real graph (views, broadcasts, the
// backward's accumulations). Float32 without TF32.
//
// It needs a build that dispatches CUDA tensors to the CUDA kernels (-DMASKDET_CUDA_KERNELS=ON,
// scripts/gpu-pack.sh); other builds skip it and say so.
//
// Tolerances, relative to the largest magnitude of each CPU tensor (gpu_near): 1e-4 for
// activations, head outputs, losses, batch-norm statistics and updated weights, 1e-3 for
// gradients, as the torchvision parity test (tests/parity) allows the CPU against PyTorch: the
// convolutions sum in other orders on the two devices, and a deep backward adds up those
// differences.
#include <string>
#include <vector>

#include "autograd/grad_mode.h"
#include "gpu_nn_test_util.h"
#include "layers/optim/sgd.h"
#include "retinanet/retinanet.h"
#include "tensor/generator.h"

namespace maskdet::test {
namespace {

constexpr double kForward = 1e-4;
constexpr double kGradient = 1e-3;

RetinaNetConfig small_config() {
  RetinaNetConfig config;
  config.backbone.depth = 18;
  config.backbone.norm = NormLayer::BatchNorm;  // cuDNN's training-mode batch norm and its backward
  config.num_classes = 2;
  config.fpn_channels = 32;
  return config;
}

// Two images' ground truth on the host: faces of several sizes, and one box no anchor matches
// well (a low-quality match).
std::vector<DetectionTarget> targets() {
  const auto target = [](const std::vector<float>& boxes, const std::vector<int64_t>& labels) {
    const int64_t m = static_cast<int64_t>(labels.size());
    return DetectionTarget{from_vector(boxes, {m, 4}), from_vector(labels, {m}, {DType::Int64})};
  };
  return {target({10, 12, 60, 70, 80, 20, 150, 110, 100, 100, 106, 104}, {0, 1, 1}), target({30, 40, 90, 120}, {0})};
}

class RetinaNetCuda : public GpuNnTest {};

TEST_F(RetinaNetCuda, TrainingStepAndEvalForwardMatchCpu) {
  MASKDET_REQUIRE_GPU();
#ifndef MASKDET_WITH_CUDA_KERNELS
  GTEST_SKIP() << "this build keeps CUDA tensors off the CUDA kernels; -DMASKDET_CUDA_KERNELS=ON runs this test";
#else
  manual_seed(21);
  RetinaNet cpu_model(small_config());
  manual_seed(21);
  RetinaNet gpu_model(small_config());
  gpu_model.to(Device::cuda());
  cpu_model.train();
  gpu_model.train();

  const Tensor images = randn_as({2, 3, 128, 160}, DType::Float32, 22);
  const RetinaNetOutputs cpu_out = cpu_model.forward(images);
  const RetinaNetOutputs gpu_out = gpu_model.forward(on_gpu(images));
  for (size_t level = 0; level < cpu_out.features.size(); ++level)
    EXPECT_TRUE(gpu_near(gpu_out.features[level], cpu_out.features[level], kForward)) << "P" << level + 3;
  EXPECT_TRUE(gpu_near(gpu_out.cls_logits, cpu_out.cls_logits, kForward));
  EXPECT_TRUE(gpu_near(gpu_out.bbox_regression, cpu_out.bbox_regression, kForward));
  EXPECT_TRUE(gpu_equal(gpu_out.anchors, cpu_out.anchors));

  const RetinaNetLosses cpu_losses = cpu_model.compute_loss(cpu_out, targets());
  const RetinaNetLosses gpu_losses = gpu_model.compute_loss(gpu_out, targets());
  EXPECT_TRUE(gpu_near(gpu_losses.classification, cpu_losses.classification, kForward));
  EXPECT_TRUE(gpu_near(gpu_losses.bbox_regression, cpu_losses.bbox_regression, kForward));
  EXPECT_GT(cpu_losses.bbox_regression.item(), 0) << "no foreground anchor: the box term was not exercised";

  cpu_losses.total().backward();
  gpu_losses.total().backward();
  const nn::NamedTensors cpu_params = cpu_model.named_parameters(), gpu_params = gpu_model.named_parameters();
  ASSERT_EQ(cpu_params.size(), gpu_params.size());
  for (size_t i = 0; i < cpu_params.size(); ++i) {
    ASSERT_TRUE(cpu_params[i].second.grad().defined() && gpu_params[i].second.grad().defined()) << cpu_params[i].first;
    EXPECT_TRUE(gpu_near(gpu_params[i].second.grad(), cpu_params[i].second.grad(), kGradient)) << cpu_params[i].first;
  }
  const nn::NamedTensors cpu_buffers = cpu_model.named_buffers(), gpu_buffers = gpu_model.named_buffers();
  ASSERT_EQ(cpu_buffers.size(), gpu_buffers.size());
  for (size_t i = 0; i < cpu_buffers.size(); ++i)
    EXPECT_TRUE(gpu_near(gpu_buffers[i].second, cpu_buffers[i].second, kForward)) << cpu_buffers[i].first;

  // SGD, not AdamW: its update is proportional to the gradient, so it carries the gradients'
  // agreement over to the weights (AdamW's normalised step turns the sign of a near-zero
  // gradient into a full lr).
  const optim::SGDOptions sgd{.lr = 0.01, .momentum = 0.9};
  std::vector<Tensor> cpu_weights, gpu_weights;
  for (const auto& [name, p] : cpu_params) cpu_weights.push_back(p);
  for (const auto& [name, p] : gpu_params) gpu_weights.push_back(p);
  optim::SGD cpu_sgd(cpu_weights, sgd), gpu_sgd(gpu_weights, sgd);
  cpu_sgd.step();
  gpu_sgd.step();
  for (size_t i = 0; i < cpu_params.size(); ++i)
    EXPECT_TRUE(gpu_near(gpu_params[i].second, cpu_params[i].second, kForward)) << cpu_params[i].first;

  // Eval mode: inference batch norm with the updated running statistics.
  cpu_model.eval();
  gpu_model.eval();
  NoGradGuard no_grad;
  const RetinaNetOutputs cpu_eval = cpu_model.forward(images);
  const RetinaNetOutputs gpu_eval = gpu_model.forward(on_gpu(images));
  EXPECT_TRUE(gpu_near(gpu_eval.cls_logits, cpu_eval.cls_logits, kForward));
  EXPECT_TRUE(gpu_near(gpu_eval.bbox_regression, cpu_eval.bbox_regression, kForward));
#endif
}

}  // namespace
}  // namespace maskdet::test
