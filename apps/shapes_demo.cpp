// shapes_demo: trains the little CNN of apps/demo/shapes_cnn.h on generated shapes and prints
// the loss falling and the final accuracy. Exit status 1 if the accuracy is below --min-accuracy.
//   shapes_demo [--steps 300] [--batch-size 32] [--lr 0.05] [--seed 1] [--min-accuracy 0]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "apps/demo/shapes_cnn.h"

int main(int argc, char** argv) {
  maskdet::demo::ShapesTrainConfig config;
  double min_accuracy = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      std::printf("usage: %s [--steps N] [--batch-size N] [--lr X] [--seed N] [--min-accuracy X]\n", argv[0]);
      return 0;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "%s: %s needs a value\n", argv[0], flag.c_str());
      return 2;
    }
    const char* value = argv[++i];
    if (flag == "--steps") config.steps = std::atoll(value);
    else if (flag == "--batch-size") config.batch_size = std::atoll(value);
    else if (flag == "--lr") config.lr = std::atof(value);
    else if (flag == "--seed") config.seed = std::strtoull(value, nullptr, 10);
    else if (flag == "--min-accuracy") min_accuracy = std::atof(value);
    else {
      std::fprintf(stderr, "%s: unknown flag %s (see --help)\n", argv[0], flag.c_str());
      return 2;
    }
  }
  std::printf("training a little CNN on generated squares vs disks: %lld steps of %lld images\n",
              static_cast<long long>(config.steps), static_cast<long long>(config.batch_size));
  const auto start = std::chrono::steady_clock::now();
  double window = 0;
  const int64_t every = std::max<int64_t>(1, config.steps / 10);
  try {
    auto result = maskdet::demo::train_shapes_cnn(config, [&](int64_t step, double loss) {
      window += loss;
      if ((step + 1) % every == 0) {
        std::printf("step %5lld  loss %.4f\n", static_cast<long long>(step + 1), window / every);
        window = 0;
      }
    });
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("accuracy on %lld fresh images: %.1f%%  (%.1f s)\n", static_cast<long long>(config.eval_images),
                100 * result.accuracy, seconds);
    return result.accuracy >= min_accuracy ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
