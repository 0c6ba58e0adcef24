// The C maths the kernels' shared element formulas (tensor/kernels/*_math.h) are written in,
// for both backends: float and double overloads, so one template serves both dtypes and a float
// never goes through the double function (expf, not exp, on the GPU), and arithmetic rounded
// operation by operation. Plain C maths only: it has to compile as device code under nvcc.
#pragma once
#include <math.h>

// Marks a function of the shared formulas as callable from host and device code.
#if defined(__CUDACC__)
#define MASKDET_SCALAR_HD __host__ __device__
#else
#define MASKDET_SCALAR_HD
#endif

namespace maskdet::kernels::scalar_math {

// Qualified with :: because maskdet's Tensor functions of the same names (autograd/ops.h)
// would hide the C functions from inside namespace maskdet.
MASKDET_SCALAR_HD inline float exponential(float v) { return ::expf(v); }
MASKDET_SCALAR_HD inline double exponential(double v) { return ::exp(v); }
MASKDET_SCALAR_HD inline float logarithm(float v) { return ::logf(v); }
MASKDET_SCALAR_HD inline double logarithm(double v) { return ::log(v); }
MASKDET_SCALAR_HD inline float log_one_plus(float v) { return ::log1pf(v); }
MASKDET_SCALAR_HD inline double log_one_plus(double v) { return ::log1p(v); }
MASKDET_SCALAR_HD inline float power(float v, float e) { return ::powf(v, e); }
MASKDET_SCALAR_HD inline double power(double v, double e) { return ::pow(v, e); }
MASKDET_SCALAR_HD inline float square_root(float v) { return ::sqrtf(v); }
MASKDET_SCALAR_HD inline double square_root(double v) { return ::sqrt(v); }
MASKDET_SCALAR_HD inline float absolute(float v) { return ::fabsf(v); }
MASKDET_SCALAR_HD inline double absolute(double v) { return ::fabs(v); }

// a + b, a - b, a * b and a / b, each rounded on its own. nvcc contracts a * b + c into one FMA
// by default (CUDA C++ Best Practices Guide, "Floating Point Math Is not Associative" / -fmad),
// which rounds once where the CPU (x86-64 without -march=native) rounds twice; the __*_rn
// intrinsics are never contracted (CUDA Math API, "Single / Double Precision Intrinsics"). Code
// that must give the CPU's result to the bit on the GPU is written with these.
#if defined(__CUDA_ARCH__)
__device__ inline float add_rn(float a, float b) { return __fadd_rn(a, b); }
__device__ inline double add_rn(double a, double b) { return __dadd_rn(a, b); }
__device__ inline float sub_rn(float a, float b) { return __fsub_rn(a, b); }
__device__ inline double sub_rn(double a, double b) { return __dsub_rn(a, b); }
__device__ inline float mul_rn(float a, float b) { return __fmul_rn(a, b); }
__device__ inline double mul_rn(double a, double b) { return __dmul_rn(a, b); }
__device__ inline float div_rn(float a, float b) { return __fdiv_rn(a, b); }
__device__ inline double div_rn(double a, double b) { return __ddiv_rn(a, b); }
#else
template <class T>
inline T add_rn(T a, T b) {
  return a + b;
}
template <class T>
inline T sub_rn(T a, T b) {
  return a - b;
}
template <class T>
inline T mul_rn(T a, T b) {
  return a * b;
}
template <class T>
inline T div_rn(T a, T b) {
  return a / b;
}
#endif

}  // namespace maskdet::kernels::scalar_math
