// MaxPool2d: torch.nn.MaxPool2d over square windows (ResNet's stem uses kernel 3, stride 2,
// padding 1).
#pragma once
#include <cstdint>

#include "layers/module.h"

namespace maskdet::nn {

struct MaxPool2dOptions {
  int64_t kernel_size = 2;
  int64_t stride = 0;  // 0: the kernel size, PyTorch's default
  int64_t padding = 0;
  bool ceil_mode = false;
};

class MaxPool2d : public UnaryModule {
 public:
  // e.g. MaxPool2d({.kernel_size = 3, .stride = 2, .padding = 1})
  explicit MaxPool2d(const MaxPool2dOptions& options);

  // x: (N, C, H, W) -> (N, C, OH, OW)
  Tensor forward(const Tensor& x) override;
  const MaxPool2dOptions& options() const { return options_; }

 protected:
  std::string extra_repr() const override;

 private:
  MaxPool2dOptions options_;
};

}  // namespace maskdet::nn
