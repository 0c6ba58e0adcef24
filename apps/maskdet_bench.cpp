// maskdet_bench: `maskdet bench` as a program of its own, linked without OpenCV, for machines
// that have none (the GPU machine: the `maskdet` program loads OpenCV's video and image libraries,
// hundreds of MB, before it can run any command). Same flags, output and exit statuses;
// `maskdet_bench --help` lists them.
#include <string>
#include <vector>

#include "apps/maskdet/blas_kernels.h"
#include "apps/maskdet/commands.h"

int main(int argc, char** argv) {
  maskdet::app::reexec_with_fastest_blas_kernels(argv);
  return maskdet::app::run_command("bench", maskdet::app::bench_command, std::vector<std::string>(argv + 1, argv + argc));
}
