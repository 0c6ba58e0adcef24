// From files to batches: the synthetic set written as VOC reads back with the boxes drawn; the
// prepared cache built from those files gives the same batches as decoding them directly; a
// cache with a smaller max_side holds exactly the shrunk decoded images; a missing image stops
// the cache build with its name.
#include "apps/data/data_loader.h"
#include "apps/data/prepared_cache.h"
#include "apps/data/resize.h"
#include "apps/data_io/cache_builder.h"
#include "apps/data_io/image_decode.h"
#include "apps/data_io/image_file_source.h"
#include "apps/data_io/load_dataset.h"
#include "apps/data_io/synthetic_voc.h"
#include "data/data_test_util.h"

namespace maskdet::data {
namespace {

using test::throws_error_with;

class FilesToBatches : public test::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    boxes_written_ = write_synthetic_voc(path("synth"), 6, 11, options_);
    LoadOptions o;
    o.check_images = ImageCheck::Decodes;
    dataset_ = load_dataset(path("synth"), "", o);
  }
  SyntheticOptions options_{.width = 96, .height = 72};
  size_t boxes_written_ = 0;
  Dataset dataset_;
};

TEST_F(FilesToBatches, SyntheticVocReadsBackAsDrawn) {
  EXPECT_EQ(dataset_.classes, synthetic_classes());
  ASSERT_EQ(dataset_.images.size(), 6u);
  size_t boxes = 0;
  for (size_t i = 0; i < 6; ++i) {
    const auto& image = dataset_.images[i];
    EXPECT_EQ(image.image_path, path("synth/images/" + std::to_string(i) + ".jpg"));
    EXPECT_EQ(image.width, 96);
    EXPECT_EQ(image.boxes, synthetic_image(options_, 11, i).boxes);
    boxes += image.boxes.size();
  }
  EXPECT_EQ(boxes, boxes_written_);
}

TEST_F(FilesToBatches, CacheGivesTheSameBatchesAsDecoding) {
  build_prepared_cache(dataset_, path("cache.safetensors"), 128, 2);
  const LoaderOptions o = test::augmenting_loader(4, 2, 64, 128);
  DataLoader direct(std::make_shared<ImageFileSource>(dataset_), o);
  DataLoader cached(std::make_shared<PreparedCache>(path("cache.safetensors")), o);
  for (int64_t epoch : {0, 1}) {
    const auto expected = test::whole_epoch(direct, epoch);
    EXPECT_EQ(expected.size(), 2u);
    EXPECT_TRUE(test::same_batches(test::whole_epoch(cached, epoch), expected)) << "epoch " << epoch;
  }
}

TEST_F(FilesToBatches, ASmallerCacheHoldsTheShrunkDecodedImages) {
  build_prepared_cache(dataset_, path("small.safetensors"), 48, 1);
  const PreparedCache cache(path("small.safetensors"));
  for (size_t i = 0; i < cache.size(); ++i) {
    const RgbImage decoded = decode_image_file(dataset_.images[i].image_path);
    const Sample s = cache.load(i);
    EXPECT_EQ(s.image, resize_bilinear(decoded, size_within(decoded.size(), 48)));
    EXPECT_EQ(s.original_size, (PixelSize{72, 96}));
    ASSERT_EQ(s.boxes.size(), dataset_.images[i].boxes.size());
    if (!s.boxes.empty()) {
      EXPECT_FLOAT_EQ(s.boxes[0].x2, dataset_.images[i].boxes[0].x2 * 0.5f);
    }
  }
}

TEST_F(FilesToBatches, AMissingImageStopsTheCacheBuildWithItsName) {
  std::filesystem::remove(path("synth/images/3.jpg"));
  EXPECT_TRUE(throws_error_with([&] { build_prepared_cache(dataset_, path("c.safetensors"), 64, 2); },
                                {"sample 3", "3.jpg", "not found"}));
  EXPECT_FALSE(std::filesystem::exists(path("c.safetensors")));
  LoadOptions o;
  o.skip_bad = true;
  LoadReport report;
  EXPECT_EQ(load_dataset(path("synth"), "", o, &report).images.size(), 5u);
  EXPECT_EQ(report.skipped(), 1u);
}

}  // namespace
}  // namespace maskdet::data
