// `maskdet` restarts itself with OpenBLAS's AVX-512 kernels where the CPU has AVX-512 and
// OpenBLAS chose others (apps/maskdet/blas_kernels.h). OPENBLAS_VERBOSE=2 makes OpenBLAS name
// the kernels it loaded ("Core: SkylakeX") on stdout.
#include <gtest/gtest.h>

#include <string>

#include "cli/cli_test_util.h"

namespace maskdet::cli_test {
namespace {

bool cpu_has_avx512() {
#if defined(__x86_64__)
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
#else
  return false;
#endif
}

TEST(BlasKernels, AvxFiveTwelveKernelsWhereTheCpuHasIt) {
  if (!cpu_has_avx512()) GTEST_SKIP() << "this CPU has no AVX-512: OpenBLAS's own choice stands";
  const CommandResult run = run_maskdet("--help", "env -u OPENBLAS_CORETYPE OPENBLAS_VERBOSE=2");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const bool avx512_core = run.output.find("Core: SkylakeX") != std::string::npos ||
                           run.output.find("Core: Cooperlake") != std::string::npos ||
                           run.output.find("Core: SapphireRapids") != std::string::npos;
  EXPECT_TRUE(avx512_core) << run.output;
}

TEST(BlasKernels, AUsersChoiceIsLeftAlone) {
  if (!cpu_has_avx512()) GTEST_SKIP() << "this CPU has no AVX-512: nothing is restarted";
  const CommandResult run = run_maskdet("--help", "OPENBLAS_CORETYPE=Haswell OPENBLAS_VERBOSE=2");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("Core: Haswell"), std::string::npos) << run.output;
  EXPECT_EQ(run.output.find("Core: SkylakeX"), std::string::npos) << run.output;
}

}  // namespace
}  // namespace maskdet::cli_test
