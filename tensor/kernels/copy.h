// Copy and fill: the kernels under contiguous(), clone(), to(device), to(dtype), cat and slicing backward.
#pragma once
#include "tensor/kernels/dispatch.h"

namespace maskdet {

// dst = src, element by element. Same shape; any strides, any dtypes (converted), and any
// pair of devices (host<->device copies go through a contiguous staging buffer). Overwrites dst.
namespace kernels {
void copy(const Tensor& src, const Tensor& dst);
}
namespace cpu {
void copy(const Tensor& src, const Tensor& dst);  // both on the CPU
}
namespace cuda {
void copy(const Tensor& src, const Tensor& dst);  // both on the same GPU (cuda/kernels/copy.cu)
}

// out[...] = value. Any strides. Overwrites out.
MASKDET_KERNEL(fill, (const Tensor& out, double value), out.device(), out, value)

}  // namespace maskdet
