// The detection kernels (boxes, NMS, anchor matching, losses) on tensors of cuda:1 while cuda:0
// is current: each must make its tensors' device current for its work (a DeviceGuard), or it
// queues on cuda:0's stream with cuda:1's memory, and must leave the caller's device current
// after. Results are compared with the CPU exactly (only l1, whose rounding is exact, among the
// losses). Needs two GPUs; skips, saying why, with fewer.
#include <vector>

#include "cuda/runtime.h"
#include "detection_gpu_util.h"
#include "tensor/kernels/anchor_matching.h"
#include "tensor/kernels/boxes.h"
#include "tensor/kernels/loss.h"

namespace maskdet::test {
namespace {

#define MASKDET_REQUIRE_TWO_GPUS()                                                                   \
  do {                                                                                               \
    MASKDET_REQUIRE_GPU();                                                                           \
    if (cuda::device_count() < 2) GTEST_SKIP() << "needs two GPUs, found " << cuda::device_count(); \
  } while (0)

const Device kSecond = Device::cuda(1);

Tensor on_second(const Tensor& t) { return t.detach().to(kSecond); }
Tensor second_empty(const Shape& shape, DType dtype) { return empty(shape, {dtype, kSecond}); }

Tensor iou_on_cpu(const Tensor& a, const Tensor& b) {
  Tensor iou = empty({a.size(0), b.size(0)}, {a.dtype()});
  cpu::box_iou(a, b, iou);
  return iou;
}

int current_device() {
  int device = -1;
  CUDA_CHECK(cudaGetDevice(&device));
  return device;
}

// cuda:0 current, as for a caller that never picks a device.
class SecondDeviceCuda : public ::testing::Test {
 protected:
  void SetUp() override {
    if (cuda::device_count() >= 2) CUDA_CHECK(cudaSetDevice(0));
  }
};

TEST_F(SecondDeviceCuda, BoxKernelsAndNmsRunOnTheTensorsDevice) {
  MASKDET_REQUIRE_TWO_GPUS();
  Generator gen(31);
  const Tensor a = boxes_tensor(random_boxes(70, gen, 200, 4, 60), DType::Float32);
  const Tensor b = boxes_tensor(random_boxes(9, gen, 200, 4, 60), DType::Float32);

  const Tensor iou = iou_on_cpu(a, b);
  const Tensor iou_gpu = second_empty({70, 9}, DType::Float32);
  cuda::box_iou(on_second(a), on_second(b), iou_gpu);
  EXPECT_EQ(current_device(), 0);
  EXPECT_TRUE(tensors_near(on_cpu(iou_gpu), iou, 0, 0)) << "box_iou";

  const Tensor clipped = a.clone(), clipped_gpu = on_second(a);
  cpu::clip_boxes(clipped, 100, 120);
  cuda::clip_boxes(clipped_gpu, 100, 120);
  EXPECT_EQ(current_device(), 0);
  EXPECT_TRUE(tensors_near(on_cpu(clipped_gpu), clipped, 0, 0)) << "clip_boxes";

  const Tensor scores = rand({70}, {}, &gen);
  std::vector<int64_t> label_values(70);
  for (int64_t& l : label_values) l = static_cast<int64_t>(gen.next_u64() % 2);
  const Tensor labels = from_vector(label_values, {70}, {DType::Int64});
  for (bool batched : {false, true}) {
    SCOPED_TRACE(batched ? "batched_nms" : "nms");
    Tensor keep = empty({70}, {DType::Int64});
    const Tensor keep_gpu = second_empty({70}, DType::Int64);
    int64_t kept = -1, kept_gpu = -1;
    if (batched) {
      cpu::batched_nms(a, scores, labels, 0.3, keep, kept);
      cuda::batched_nms(on_second(a), on_second(scores), on_second(labels), 0.3, keep_gpu, kept_gpu);
    } else {
      cpu::nms(a, scores, 0.3, keep, kept);
      cuda::nms(on_second(a), on_second(scores), 0.3, keep_gpu, kept_gpu);
    }
    EXPECT_EQ(current_device(), 0);
    ASSERT_EQ(kept_gpu, kept);
    EXPECT_EQ(on_cpu(keep_gpu).slice(0, 0, kept).to_vector<int64_t>(), keep.slice(0, 0, kept).to_vector<int64_t>());
  }
}

TEST_F(SecondDeviceCuda, AnchorMatchingAndLossRunOnTheTensorsDevice) {
  MASKDET_REQUIRE_TWO_GPUS();
  Generator gen(32);
  const Tensor anchors = boxes_tensor(random_boxes(300, gen, 200, 8, 60), DType::Float64);
  const Tensor boxes = boxes_tensor(random_boxes(4, gen, 200, 8, 60), DType::Float64);
  const Tensor iou = iou_on_cpu(boxes, anchors);

  Tensor matches = empty({300}, {DType::Int64});
  cpu::match_anchors(iou, 0.5, 0.4, true, matches);
  const Tensor matches_gpu = second_empty({300}, DType::Int64);
  cuda::match_anchors(on_second(iou), 0.5, 0.4, true, matches_gpu);
  EXPECT_EQ(current_device(), 0);
  EXPECT_EQ(on_cpu(matches_gpu).to_vector<int64_t>(), matches.to_vector<int64_t>());

  const Tensor labels = from_vector<int64_t>({0, 1, 1, 0}, {4}, {DType::Int64});
  const Shape shapes[] = {{300, 2}, {300}, {300}, {300, 4}};
  std::vector<Tensor> cpu_out, gpu_out;
  for (const Shape& shape : shapes) {
    cpu_out.push_back(empty(shape, {DType::Float64}));
    gpu_out.push_back(second_empty(shape, DType::Float64));
  }
  cpu::anchor_targets(matches, labels, boxes, anchors, cpu_out[0], cpu_out[1], cpu_out[2], cpu_out[3]);
  cuda::anchor_targets(on_second(matches), on_second(labels), on_second(boxes), on_second(anchors), gpu_out[0],
                       gpu_out[1], gpu_out[2], gpu_out[3]);
  EXPECT_EQ(current_device(), 0);
  for (size_t i = 0; i < cpu_out.size(); ++i)
    EXPECT_TRUE(tensors_near(on_cpu(gpu_out[i]), cpu_out[i], 0, 0)) << "anchor_targets output " << i;

  const Tensor pred = randn({5, 7}, {}, &gen), target = randn({5, 7}, {}, &gen);
  Tensor loss = empty({5, 7}, {}), grad = empty({5, 7}, {});
  cpu::l1(pred, target, loss, grad);
  const Tensor loss_gpu = second_empty({5, 7}, DType::Float32), grad_gpu = second_empty({5, 7}, DType::Float32);
  cuda::l1(on_second(pred), on_second(target), loss_gpu, grad_gpu);
  EXPECT_EQ(current_device(), 0);
  EXPECT_TRUE(tensors_near(on_cpu(loss_gpu), loss, 0, 0)) << "l1 loss";
  EXPECT_TRUE(tensors_near(on_cpu(grad_gpu), grad, 0, 0)) << "l1 grad";
}

}  // namespace
}  // namespace maskdet::test
