// Batching and the background loader: padding to multiples of 32 with zeros, per-image boxes and
// sizes; the same batches for 0, 1, 2 and 4 workers (with augmentation on), a fresh shuffle
// each epoch, a worker's exception reaching the caller with the sample named, and a loader
// destroyed mid-epoch shutting down cleanly.
#include <atomic>
#include <set>

#include "apps/data/data_loader.h"
#include "apps/data/synthetic_faces.h"
#include "data/data_test_util.h"

namespace maskdet::data {
namespace {

using test::coordinate_image;
using test::same_batches;
using test::throws_error_with;
using test::whole_epoch;

PreparedSample prepared(int h, int w, float value, std::vector<BoxAnnotation> boxes) {
  PreparedSample p;
  p.size = {h, w};
  p.pixels.assign(3 * static_cast<size_t>(h) * w, value);
  p.boxes = std::move(boxes);
  p.original_size = {h * 2, w * 2};
  p.scale_x = p.scale_y = 0.5f;
  return p;
}

TEST(Collate, PadsToMultiplesOf32WithZeros) {
  std::vector<PreparedSample> samples{prepared(40, 70, 1.f, {{1, 2, 3, 4, 1, true}}), prepared(65, 20, 2.f, {})};
  samples[1].index = 7;
  const Batch b = collate(samples);
  EXPECT_EQ(b.images.shape(), (Shape{2, 3, 96, 96}));
  EXPECT_EQ(b.images.at({0, 2, 39, 69}), 1.0);
  EXPECT_EQ(b.images.at({0, 2, 40, 69}), 0.0);
  EXPECT_EQ(b.images.at({0, 0, 39, 70}), 0.0);
  EXPECT_EQ(b.images.at({1, 1, 64, 19}), 2.0);
  EXPECT_EQ(b.images.at({1, 1, 64, 20}), 0.0);
  EXPECT_EQ(b.images.sum().item(), 3.0 * 40 * 70 + 2.0 * 3 * 65 * 20);
  EXPECT_EQ(b.boxes[0].shape(), (Shape{1, 4}));
  EXPECT_EQ(b.boxes[0].to_vector<float>(), (std::vector<float>{1, 2, 3, 4}));
  EXPECT_EQ(b.labels[0].dtype(), DType::Int64);
  EXPECT_EQ(b.labels[0].to_vector<int64_t>(), (std::vector<int64_t>{1}));
  EXPECT_EQ(b.boxes[1].shape(), (Shape{0, 4}));
  EXPECT_EQ(b.labels[1].shape(), (Shape{0}));
  EXPECT_EQ(b.difficult[0], (std::vector<bool>{true}));
  EXPECT_EQ(b.image_sizes[1], (PixelSize{65, 20}));
  EXPECT_EQ(b.original_sizes[1], (PixelSize{130, 40}));
  EXPECT_EQ(b.scales_x[0], 0.5f);
  EXPECT_EQ(b.indices[1], 7u);
  EXPECT_EQ(collate({prepared(64, 32, 0.f, {})}).images.shape(), (Shape{1, 3, 64, 32}));
  EXPECT_THROW(collate({}), Error);
}

LoaderOptions small_loader(int workers) { return test::augmenting_loader(3, workers, 64, 96); }

TEST(DataLoader, SameBatchesWhateverTheNumberOfWorkers) {
  auto source = std::make_shared<SyntheticSource>(10, 5, SyntheticOptions{.width = 80, .height = 64});
  DataLoader reference(source, small_loader(0));
  EXPECT_EQ(reference.steps_per_epoch(), 4);
  const auto expected = whole_epoch(reference, 3);
  ASSERT_EQ(expected.size(), 4u);
  EXPECT_EQ(expected.back().size(), 1u);  // 10 = 3 + 3 + 3 + 1
  for (int workers : {1, 2, 4}) {
    DataLoader loader(source, small_loader(workers));
    EXPECT_TRUE(same_batches(whole_epoch(loader, 3), expected)) << workers << " workers";
    EXPECT_TRUE(same_batches({loader.batch_at(3, 2)}, {expected[2]}));
  }
}

TEST(DataLoader, ShufflesEachEpochFromTheSeed) {
  auto source = std::make_shared<SyntheticSource>(20, 1, SyntheticOptions{.width = 64, .height = 64});
  LoaderOptions o = small_loader(2);
  DataLoader loader(source, o);
  const auto e0 = loader.epoch_order(0), e1 = loader.epoch_order(1);
  EXPECT_NE(e0, e1);
  EXPECT_EQ(std::set<size_t>(e0.begin(), e0.end()).size(), 20u);
  EXPECT_EQ(DataLoader(source, o).epoch_order(1), e1);
  o.seed = 43;
  EXPECT_NE(DataLoader(source, o).epoch_order(1), e1);
  o.shuffle = false;
  EXPECT_EQ(DataLoader(source, o).epoch_order(1)[5], 5u);
  o.drop_last = true;
  o.batch_size = 6;
  EXPECT_EQ(DataLoader(source, o).steps_per_epoch(), 3);
  // The same sample is augmented differently in another epoch.
  o = small_loader(0);
  o.shuffle = false;
  DataLoader fixed(source, o);
  EXPECT_FALSE(maskdet::test::tensors_near(fixed.batch_at(0, 0).images, fixed.batch_at(1, 0).images, 0));
}

// A source whose sample 4 cannot be read, and which counts loads in flight.
class FaultySource : public SampleSource {
 public:
  size_t size() const override { return 12; }
  const std::vector<std::string>& classes() const override { return classes_; }
  Sample load(size_t index) const override {
    if (index == 4) throw Error("cannot decode");
    Sample s;
    s.image = coordinate_image(32, 32);
    s.original_size = s.image.size();
    s.image_path = describe(index);
    ++loads;
    return s;
  }
  std::string describe(size_t index) const override { return "img" + std::to_string(index) + ".jpg"; }
  mutable std::atomic<int> loads{0};

 private:
  std::vector<std::string> classes_{"mask"};
};

TEST(DataLoader, AWorkersExceptionReachesTheCallerWithTheSampleNamed) {
  auto source = std::make_shared<FaultySource>();
  for (int workers : {0, 3}) {
    LoaderOptions o = small_loader(workers);
    o.shuffle = false;
    o.batch_size = 2;
    DataLoader loader(source, o);
    loader.start_epoch(0);
    EXPECT_TRUE(loader.next().has_value());
    EXPECT_TRUE(loader.next().has_value());
    EXPECT_TRUE(throws_error_with([&] { loader.next(); },
                                  {"epoch 0 step 2", "sample 4 (img4.jpg)", "cannot decode"}))
        << workers << " workers";
    // Going on returns what was built before the failure, then throws instead of hanging.
    for (int k = 0; k < 10; ++k) {
      try {
        if (!loader.next()) break;
      } catch (const Error&) {
        break;
      }
    }
    loader.start_epoch(1);  // a new epoch starts cleanly
    EXPECT_TRUE(loader.next().has_value());
  }
}

TEST(DataLoader, PrefetchIsBoundedAndShutdownMidEpochIsClean) {
  auto source = std::make_shared<FaultySource>();
  LoaderOptions o = small_loader(2);
  o.batch_size = 1;
  o.prefetch_batches = 2;
  o.shuffle = false;
  {
    DataLoader loader(source, o);
    loader.start_epoch(0);
    ASSERT_TRUE(loader.next().has_value());
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    // One returned, at most two ahead of the consumer (steps 1 and 2).
    EXPECT_LE(source->loads.load(), 3);
  }  // destroyed with work pending: joins without hanging
  SUCCEED();
}

}  // namespace
}  // namespace maskdet::data
