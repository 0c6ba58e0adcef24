// Float arithmetic rounded operation by operation (add_rn, sub_rn, mul_rn, div_rn), for the
// CUDA kernels that must reproduce the CPU's results to the bit: tensor/kernels/scalar_math.h
// says why and defines them; here they are brought into maskdet::cuda. Included by .cu files
// only.
#pragma once
#include "tensor/kernels/scalar_math.h"

namespace maskdet::cuda {

using kernels::scalar_math::add_rn;
using kernels::scalar_math::div_rn;
using kernels::scalar_math::mul_rn;
using kernels::scalar_math::sub_rn;

}  // namespace maskdet::cuda
