// kernels::copy: the one kernel that may cross devices, so it dispatches on both tensors.
#include "tensor/creation.h"
#include "tensor/kernels/copy.h"
#ifdef MASKDET_WITH_CUDA
#include "cuda/runtime.h"
#endif

namespace maskdet {

void no_cuda_kernel(const char* kernel) {
  MASKDET_FAIL("kernel '", kernel, "' has no CUDA implementation in this build; move the tensor to the CPU with .to(Device::cpu())");
}

namespace kernels {

void copy(const Tensor& src, const Tensor& dst) {
  MASKDET_CHECK(src.shape() == dst.shape(), "copy: src has shape ", shape_str(src.shape()), ", dst has shape ",
                shape_str(dst.shape()));
  if (src.device().is_cpu() && dst.device().is_cpu()) return cpu::copy(src, dst);
#ifdef MASKDET_WITH_CUDA
  if (src.is_cuda() && dst.is_cuda() && src.device() == dst.device()) return cuda::copy(src, dst);
  // Between host and device: stage a contiguous host buffer in dst's dtype, then one memcpy, on
  // the stream of the GPU side's device (made current), so the copy is ordered with its kernels.
  if (src.device().is_cpu()) {
    cuda::DeviceGuard guard(dst.device().index);
    Tensor staged = (src.is_contiguous() && src.dtype() == dst.dtype()) ? src : empty(src.shape(), {dst.dtype()});
    if (staged.impl() != src.impl()) cpu::copy(src, staged);
    Tensor target = dst.is_contiguous() ? dst : empty(dst.shape(), dst.options());
    cuda::memcpy(target.raw_data(), staged.raw_data(), staged.numel() * dtype_size(staged.dtype()),
                 cuda::CopyKind::HostToDevice);
    if (target.impl() != dst.impl()) copy(target, dst);
    return;
  }
  if (dst.device().is_cpu()) {
    cuda::DeviceGuard guard(src.device().index);
    Tensor source = src.is_contiguous() ? src : empty(src.shape(), src.options());
    if (source.impl() != src.impl()) copy(src, source);
    Tensor staged = empty(src.shape(), {src.dtype()});
    cuda::memcpy(staged.raw_data(), source.raw_data(), source.numel() * dtype_size(source.dtype()),
                 cuda::CopyKind::DeviceToHost);
    cpu::copy(staged, dst);
    return;
  }
  // Two different GPUs: through the host.
  Tensor host = empty(src.shape(), {src.dtype()});
  copy(src, host);
  copy(host, dst);
#else
  no_cuda_kernel("copy");
#endif
}

}  // namespace kernels
}  // namespace maskdet
