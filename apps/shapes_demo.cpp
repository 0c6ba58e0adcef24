// shapes_demo: trains the little CNN of apps/demo/shapes_cnn.h on generated shapes and prints
// the loss falling and the final accuracy. Exit status 1 if the accuracy is below --min-accuracy.
//   shapes_demo [--steps 300] [--batch-size 32] [--lr 0.05] [--seed 1] [--min-accuracy 0]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>

#include "apps/cli/flags.h"
#include "apps/demo/shapes_cnn.h"

int main(int argc, char** argv) {
  maskdet::demo::ShapesTrainConfig config;
  double min_accuracy = 0;
  maskdet::cli::Flags flags("shapes_demo", "Trains a little CNN on generated squares vs disks.");
  flags.add("--steps", config.steps, "N", "SGD steps");
  flags.add("--batch-size", config.batch_size, "N", "images per step");
  flags.add("--lr", config.lr, "X", "learning rate");
  flags.add("--seed", config.seed, "N", "seeds the data and the initialisation");
  flags.add("--min-accuracy", min_accuracy, "X", "exit status 1 below this accuracy");
  if (const auto exit_code = flags.parse_or_exit_code(argc, argv)) return *exit_code;
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
    std::fprintf(stderr, "error: %s\n", maskdet::without_source_locations(e.what()).c_str());
    return 1;
  }
}
