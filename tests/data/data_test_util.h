// Helpers for the data-layer tests: a fresh folder per test, small files written into it, an
// assertion that a call throws maskdet::Error whose message holds given pieces (the file, the
// line or element, the fault), and the comparison of whole epochs of batches.
#pragma once
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <string>

#include "apps/data/data_loader.h"
#include "tensor/error.h"
#include "test_util.h"

namespace maskdet::data::test {

class TempDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("maskdet_data_" + std::string(info->test_suite_name()) + "_" + info->name() + "_" + std::to_string(getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  // Writes `text` to dir/name (creating folders) and returns the full path.
  std::string write(const std::string& name, const std::string& text) const {
    const auto p = dir_ / name;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
    return p.string();
  }

  std::filesystem::path dir_;
};

// Passes when f() throws maskdet::Error and its message contains every piece.
template <class F>
::testing::AssertionResult throws_error_with(F&& f, std::initializer_list<std::string> pieces) {
  try {
    f();
  } catch (const Error& e) {
    const std::string message = e.what();
    for (const auto& piece : pieces)
      if (message.find(piece) == std::string::npos)
        return ::testing::AssertionFailure() << "message lacks '" << piece << "': " << message;
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "no maskdet::Error thrown";
}

// An image whose pixel (y, x) is (x * 7 + y, y * 5 + x, (x + y) * 3) mod 256: every pixel
// tells where it came from, so flips and crops can be checked exactly.
inline RgbImage coordinate_image(int height, int width) {
  RgbImage im(height, width);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) {
      uint8_t* p = im.at(y, x);
      p[0] = static_cast<uint8_t>((x * 7 + y) % 256);
      p[1] = static_cast<uint8_t>((y * 5 + x) % 256);
      p[2] = static_cast<uint8_t>(((x + y) * 3) % 256);
    }
  return im;
}

// A loader with augmentation on, small images and a fixed seed.
inline LoaderOptions augmenting_loader(int64_t batch_size, int workers, double min_side, double max_side) {
  LoaderOptions o;
  o.batch_size = batch_size;
  o.workers = workers;
  o.prefetch_batches = 2;
  o.seed = 42;
  o.pipeline.min_side = min_side;
  o.pipeline.max_side = max_side;
  o.pipeline.random_transform = true;
  return o;
}

inline std::vector<Batch> whole_epoch(DataLoader& loader, int64_t epoch) {
  loader.start_epoch(epoch);
  std::vector<Batch> batches;
  while (auto b = loader.next()) batches.push_back(std::move(*b));
  return batches;
}

// The same samples, pixels, boxes, labels and sizes, to the bit.
inline ::testing::AssertionResult same_batches(const std::vector<Batch>& a, const std::vector<Batch>& b) {
  if (a.size() != b.size()) return ::testing::AssertionFailure() << a.size() << " vs " << b.size() << " batches";
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].indices != b[i].indices) return ::testing::AssertionFailure() << "batch " << i << ": other samples";
    if (a[i].original_sizes != b[i].original_sizes || a[i].scales_x != b[i].scales_x)
      return ::testing::AssertionFailure() << "batch " << i << ": other sizes";
    auto images = maskdet::test::tensors_near(a[i].images, b[i].images, 0);
    if (!images) return images << " (batch " << i << " images)";
    for (size_t k = 0; k < a[i].size(); ++k)
      if (a[i].boxes[k].to_vector<float>() != b[i].boxes[k].to_vector<float>() ||
          a[i].labels[k].to_vector<int64_t>() != b[i].labels[k].to_vector<int64_t>())
        return ::testing::AssertionFailure() << "batch " << i << " image " << k << ": other boxes";
  }
  return ::testing::AssertionSuccess();
}

}  // namespace maskdet::data::test
