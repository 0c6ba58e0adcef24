// Float arithmetic rounded operation by operation, for the CUDA kernels that must reproduce the
// CPU's results to the bit. nvcc contracts a * b + c into one FMA by default (CUDA C++ Best
// Practices Guide, "Floating Point Math Is not Associative" / -fmad), which rounds once where
// the CPU (x86-64 without -march=native) rounds twice; the __f*_rn / __d*_rn intrinsics are
// never contracted (CUDA Math API, "Single / Double Precision Intrinsics"). Included by .cu
// files only.
#pragma once

namespace maskdet::cuda {

__device__ inline float add_rn(float a, float b) { return __fadd_rn(a, b); }
__device__ inline double add_rn(double a, double b) { return __dadd_rn(a, b); }
__device__ inline float sub_rn(float a, float b) { return __fsub_rn(a, b); }
__device__ inline double sub_rn(double a, double b) { return __dsub_rn(a, b); }
__device__ inline float mul_rn(float a, float b) { return __fmul_rn(a, b); }
__device__ inline double mul_rn(double a, double b) { return __dmul_rn(a, b); }
__device__ inline float div_rn(float a, float b) { return __fdiv_rn(a, b); }
__device__ inline double div_rn(double a, double b) { return __ddiv_rn(a, b); }

}  // namespace maskdet::cuda
