// OpenBLAS chooses its GEMM kernels by CPU model when the library loads, and on a model it does
// not know (a virtual machine's "Intel Xeon Processor", a CPU newer than the library) it falls
// back to old ones: 0.3.21 takes Prescott's SSE3 kernels on such an AVX-512 VM, and the
// MobileNetV2 RetinaNet then trains at 4.0 images/s where SkylakeX's kernels give 7.2
// (docs/BENCHMARKS.md). The choice can only be changed before the library loads, through
// OPENBLAS_CORETYPE, so the program starts itself again with it set.
#pragma once

namespace maskdet::app {

// When OPENBLAS_CORETYPE is unset, the CPU has AVX-512 (F, BW, DQ, VL) and OpenBLAS chose
// kernels without it, sets OPENBLAS_CORETYPE=SKYLAKEX and re-executes this program with the
// same arguments (same process id); otherwise, or when that fails, returns and changes nothing.
// A user's own OPENBLAS_CORETYPE, even an empty one, is left alone.
void reexec_with_fastest_blas_kernels(char** argv);

}  // namespace maskdet::app
