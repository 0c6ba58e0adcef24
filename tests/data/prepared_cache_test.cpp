// The prepared cache: a round trip gives back every image, box and size; a loader reading it
// makes the same batches as one reading the same samples from memory; the write leaves no
// temporary file; and files that are not caches, or are damaged, fail with the file named.
#include "apps/data/prepared_cache.h"

#include "apps/data/data_loader.h"
#include "apps/data/synthetic_faces.h"
#include "data/data_test_util.h"
#include "tensor/creation.h"
#include "tensor/safetensors.h"

namespace maskdet::data {
namespace {

using test::throws_error_with;

class PreparedCacheTest : public test::TempDirTest {
 protected:
  // Five synthetic samples; the cache shrinks the 120-wide ones to 100.
  std::vector<Sample> samples() const {
    std::vector<Sample> out;
    for (size_t i = 0; i < 5; ++i) {
      const SyntheticOptions o{.width = i % 2 ? 120 : 90, .height = 80};
      out.push_back(shrink_for_cache(SyntheticSource(5, 9, o).load(i), 100));
    }
    out[2].boxes.clear();  // an image without objects
    return out;
  }
};

TEST_F(PreparedCacheTest, RoundTrip) {
  const auto written = samples();
  EXPECT_EQ(written[1].image.size(), (PixelSize{66, 100}));
  EXPECT_EQ(written[1].original_size, (PixelSize{80, 120}));
  EXPECT_EQ(written[0].image.size(), (PixelSize{80, 90}));
  const std::string file = path("cache.safetensors");
  write_prepared_cache(file, synthetic_classes(), written, 100);
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir_), std::filesystem::directory_iterator()), 1);

  const PreparedCache cache(file);
  EXPECT_EQ(cache.size(), 5u);
  EXPECT_EQ(cache.classes(), synthetic_classes());
  EXPECT_EQ(cache.max_side(), 100);
  for (size_t i = 0; i < 5; ++i) {
    const Sample s = cache.load(i);
    EXPECT_EQ(s.image, written[i].image);
    EXPECT_EQ(s.boxes, written[i].boxes);
    EXPECT_EQ(s.original_size, written[i].original_size);
    EXPECT_EQ(s.image_path, written[i].image_path);
    EXPECT_EQ(s.index, i);
  }
  EXPECT_NE(cache.describe(3).find("synthetic image 3"), std::string::npos);
  EXPECT_THROW(cache.load(5), Error);
}

TEST_F(PreparedCacheTest, LoaderOverTheCacheMatchesTheSamplesInMemory) {
  const auto written = samples();
  write_prepared_cache(path("c.safetensors"), synthetic_classes(), written, 100);
  const LoaderOptions o = test::augmenting_loader(2, 2, 96, 160);
  DataLoader from_cache(std::make_shared<PreparedCache>(path("c.safetensors")), o);
  DataLoader from_memory(std::make_shared<InMemorySource>(synthetic_classes(), written), o);
  EXPECT_TRUE(test::same_batches(test::whole_epoch(from_cache, 1), test::whole_epoch(from_memory, 1)));
}

TEST_F(PreparedCacheTest, RefusesImagesLargerThanMaxSide) {
  std::vector<Sample> big{SyntheticSource(1, 1, {.width = 200, .height = 100}).load(0)};
  EXPECT_TRUE(throws_error_with([&] { write_prepared_cache(path("c.st"), synthetic_classes(), big, 100); },
                                {"larger than max_side 100"}));
}

TEST_F(PreparedCacheTest, BadFilesNameTheFile) {
  const std::string plain = path("weights.safetensors");
  save_safetensors(plain, {{"w", zeros({2})}});
  EXPECT_TRUE(throws_error_with([&] { PreparedCache c(plain); }, {plain, "metadata 'format' is missing"}));

  const std::string truncated = write("truncated.safetensors", "\x10\0\0\0");
  EXPECT_TRUE(throws_error_with([&] { PreparedCache c(truncated); }, {truncated, "truncated"}));

  // A well-formed safetensors file whose box label points past the class list.
  const auto i64 = TensorOptions{}.with_dtype(DType::Int64);
  const std::string bad_label = path("bad_label.safetensors");
  save_safetensors(bad_label,
                   {{"pixels", zeros({12}, TensorOptions{}.with_dtype(DType::UInt8))},
                    {"pixel_offsets", from_vector<int64_t>({0, 12}, {2}, i64)},
                    {"image_sizes", from_vector<int64_t>({2, 2, 2, 2}, {1, 4}, i64)},
                    {"boxes", from_vector<float>({0, 0, 1, 1}, {1, 4})},
                    {"box_labels", from_vector<int64_t>({5}, {1}, i64)},
                    {"box_difficult", zeros({1}, TensorOptions{}.with_dtype(DType::UInt8))},
                    {"box_offsets", from_vector<int64_t>({0, 1}, {2}, i64)}},
                   {{"format", "maskdet-prepared-cache"},
                    {"version", "1"},
                    {"max_side", "2"},
                    {"classes", "[\"mask\"]"},
                    {"image_paths", "[\"a.jpg\"]"}});
  EXPECT_TRUE(throws_error_with([&] { PreparedCache c(bad_label); }, {bad_label, "label 5", "1 classes"}));
}

}  // namespace
}  // namespace maskdet::data
