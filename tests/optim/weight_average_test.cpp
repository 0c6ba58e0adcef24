// The weights' moving average (layers/optim/weight_average.h): the warm-up of its decay, the
// averages of float32 and float64 entries against the recurrence computed in double by hand,
// integer buffers copied, the swap into a model and back, and load's checks.
#include "layers/optim/weight_average.h"

#include <cmath>

#include "tensor/creation.h"
#include "test_util.h"

namespace maskdet {
namespace {

// Parameters of both float dtypes and a float and an integer buffer.
class Averaged : public nn::Module {
 public:
  Averaged() : nn::Module("Averaged") {
    weight = register_parameter("weight", from_vector<double>({1, -2, 3}, {3}, TensorOptions{}.with_dtype(DType::Float64)));
    bias = register_parameter("bias", from_vector<float>({0.5f, 4}, {2}));
    running = register_buffer("running", from_vector<float>({10}, {1}));
    count = register_buffer("count", from_vector<int64_t>({0}, {1}, TensorOptions{}.with_dtype(DType::Int64)));
  }
  Tensor weight, bias, running, count;
};

// Sets every entry of the model to the values of step `step`.
void set_step_values(Averaged& m, int step) {
  const double t = step + 1;
  m.load_state_dict({{"weight", from_vector<double>({t, -t * t, 1 / t}, {3}, TensorOptions{}.with_dtype(DType::Float64))},
                     {"bias", from_vector<float>({static_cast<float>(2 * t), static_cast<float>(-t)}, {2})},
                     {"running", from_vector<float>({static_cast<float>(t * t)}, {1})},
                     {"count", from_vector<int64_t>({step + 1}, {1}, TensorOptions{}.with_dtype(DType::Int64))}});
}

TEST(WeightAverage, DecayWarmsUpToItsLimit) {
  Averaged m;
  const optim::WeightAverage average(m, 0.99);
  EXPECT_DOUBLE_EQ(average.decay_after(0), 0.1);  // (1 + 0) / (10 + 0)
  EXPECT_DOUBLE_EQ(average.decay_after(10), 11.0 / 20.0);
  EXPECT_DOUBLE_EQ(average.decay_after(100000), 0.99);
  EXPECT_EQ(average.updates(), 0);
}

TEST(WeightAverage, FollowsTheRecurrenceAndCopiesIntegers) {
  Averaged m;
  optim::WeightAverage average(m, 0.9);
  // The recurrence in double, from the initial values.
  std::vector<double> expected{1, -2, 3, 0.5, 4, 10};
  for (int step = 0; step < 30; ++step) {
    set_step_values(m, step);
    const double t = step + 1;
    const std::vector<double> value{t, -t * t, 1 / t, 2 * t, -t, t * t};
    const double d = average.decay_after(step);
    for (size_t i = 0; i < expected.size(); ++i) {
      expected[i] = d * expected[i] + (1 - d) * value[i];
      if (i >= 3) expected[i] = static_cast<float>(expected[i]);  // stored as float32 each step
    }
    average.update(m);
  }
  EXPECT_EQ(average.updates(), 30);
  std::map<std::string, Tensor> got(average.averages().begin(), average.averages().end());
  const std::vector<double> weight = got.at("weight").to_vector<double>();
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(weight[i], expected[i], 1e-12 * std::abs(expected[i])) << "weight " << i;
  const std::vector<float> bias = got.at("bias").to_vector<float>();
  for (int i = 0; i < 2; ++i) EXPECT_FLOAT_EQ(bias[i], static_cast<float>(expected[3 + i])) << "bias " << i;
  EXPECT_FLOAT_EQ(got.at("running").to_vector<float>()[0], static_cast<float>(expected[5]));
  EXPECT_EQ(got.at("count").to_vector<int64_t>()[0], 30) << "integer buffers are copied, not averaged";
  // The average lags the last weights: it is not a copy of them.
  EXPECT_LT(weight[0], 30 - 1);
}

TEST(WeightAverage, SwapsIntoTheModelAndBack) {
  Averaged m;
  optim::WeightAverage average(m, 0.5);
  set_step_values(m, 5);
  average.update(m);
  set_step_values(m, 9);
  const std::vector<double> trained = m.weight.to_vector<double>();
  const std::vector<double> averaged = average.averages()[0].second.to_vector<double>();
  ASSERT_NE(trained, averaged);
  {
    const optim::WeightAverage::Swapped swapped(average, m);
    EXPECT_EQ(m.weight.to_vector<double>(), averaged);
  }
  EXPECT_EQ(m.weight.to_vector<double>(), trained);
  EXPECT_EQ(m.count.to_vector<int64_t>()[0], 10);
}

TEST(WeightAverage, LoadRestoresAndChecks) {
  Averaged m;
  optim::WeightAverage average(m, 0.9);
  set_step_values(m, 3);
  average.update(m);
  std::map<std::string, Tensor> saved;
  for (const auto& [name, tensor] : average.averages()) saved[name] = tensor.clone();

  optim::WeightAverage restored(m, 0.9);
  restored.load(saved, average.updates());
  EXPECT_EQ(restored.updates(), 1);
  EXPECT_EQ(restored.averages()[0].second.to_vector<double>(), saved.at("weight").to_vector<double>());

  std::map<std::string, Tensor> missing = saved;
  missing.erase("bias");
  missing["bias_typo"] = saved.at("bias");
  EXPECT_ERROR_CONTAINS(restored.load(missing, 1), "WeightAverage: no average for 'bias'");
  std::map<std::string, Tensor> reshaped = saved;
  reshaped["bias"] = zeros({3});
  EXPECT_ERROR_CONTAINS(restored.load(reshaped, 1), "WeightAverage: 'bias' is (3,) float32, the model's (2,) float32");
  EXPECT_ERROR_CONTAINS(optim::WeightAverage(m, 1.0), "decay must be in [0, 1), got 1");
}

}  // namespace
}  // namespace maskdet
