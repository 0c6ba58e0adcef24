// Re-running the program with OpenBLAS's AVX-512 kernels where it chose older ones; see
// blas_kernels.h.
#include "apps/maskdet/blas_kernels.h"

#include <cblas.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

namespace maskdet::app {
namespace {

bool has_avx512() {
#if defined(__x86_64__) || defined(__i386__)
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
#else
  return false;
#endif
}

// OpenBLAS's names of the x86 cores whose kernels use AVX-512.
bool uses_avx512(const std::string& core) {
  return core == "SkylakeX" || core == "Cooperlake" || core == "SapphireRapids";
}

}  // namespace

void reexec_with_fastest_blas_kernels(char** argv) {
  if (std::getenv("OPENBLAS_CORETYPE") != nullptr || !has_avx512()) return;
  const char* core = openblas_get_corename();
  if (core == nullptr || uses_avx512(core)) return;
  if (setenv("OPENBLAS_CORETYPE", "SKYLAKEX", 1) != 0) return;
  execv("/proc/self/exe", argv);
  unsetenv("OPENBLAS_CORETYPE");  // exec failed: go on as we are
}

}  // namespace maskdet::app
