// safetensors: round trips of every dtype and layout, metadata, half-precision reading,
// the JSON subset reader, and one hand-corrupted file per error the reader must name.
#include <unistd.h>

#include "tensor/safetensors.h"

#include <cstring>
#include <filesystem>
#include <fstream>

#include "test_util.h"

namespace maskdet {
namespace {
using test::tensors_near;
namespace fs = std::filesystem;

class Safetensors : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ("maskdet_safetensors_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) +
            "_" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string file(const std::string& name) const { return (dir_ / name).string(); }

  // A file with this header text (length field `declared_length`, default its true size) and data.
  std::string write_raw(const std::string& name, const std::string& header, const std::string& data,
                        int64_t declared_length = -1) {
    const std::string path = file(name);
    std::ofstream out(path, std::ios::binary);
    const uint64_t n = declared_length < 0 ? header.size() : static_cast<uint64_t>(declared_length);
    char len[8];
    std::memcpy(len, &n, 8);
    out.write(len, 8);
    out << header << data;
    return path;
  }

  // The message of the maskdet::Error that loading `path` throws ("" when none).
  static std::string load_error(const std::string& path) {
    try {
      load_safetensors(path);
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  }

  fs::path dir_;
};

#define EXPECT_CONTAINS(haystack, needle) \
  EXPECT_NE(std::string(haystack).find(needle), std::string::npos) << "message: " << (haystack)

TEST_F(Safetensors, RoundTripAllDtypesAndLayouts) {
  Generator g(7);
  const Tensor f32 = randn({2, 3}, {DType::Float32}, &g);
  const Tensor f64 = randn({4}, {DType::Float64}, &g);
  const Tensor i64 = from_vector<int64_t>({-5, 0, 1LL << 40, 7}, {2, 2}, {DType::Int64});
  const Tensor u8 = from_vector<uint8_t>({0, 1, 200, 255, 3}, {5}, {DType::UInt8});
  const Tensor transposed = randn({3, 4}, {DType::Float32}, &g).transpose(0, 1);  // non-contiguous
  const Tensor sliced = randn({6, 5}, {DType::Float64}, &g).slice(1, 1, 5, 2);    // non-contiguous
  const Tensor nothing = empty({0, 3}, {DType::Float32});
  const Tensor scalar = full({}, 2.5, {DType::Float64});
  ASSERT_FALSE(transposed.is_contiguous());
  const std::string path = file("all.safetensors");
  save_safetensors(path, {{"f32", f32}, {"f64", f64}, {"i64", i64}, {"u8", u8}, {"transposed", transposed},
                          {"sliced", sliced}, {"empty", nothing}, {"scalar", scalar}});
  const auto loaded = load_safetensors(path);
  ASSERT_EQ(loaded.size(), 8u);
  for (const auto& [name, original] :
       std::vector<std::pair<std::string, Tensor>>{{"f32", f32}, {"f64", f64}, {"i64", i64}, {"u8", u8},
                                                   {"transposed", transposed}, {"sliced", sliced},
                                                   {"empty", nothing}, {"scalar", scalar}}) {
    const Tensor& t = loaded.at(name);
    EXPECT_EQ(t.dtype(), original.dtype()) << name;
    EXPECT_EQ(t.shape(), original.shape()) << name;
    EXPECT_TRUE(t.is_contiguous()) << name;
    EXPECT_TRUE(tensors_near(t, original, 0)) << name;
  }
  EXPECT_EQ(loaded.at("i64").to_vector<int64_t>(), i64.to_vector<int64_t>());  // exact beyond 2^53
  // Data section 8-byte aligned, as the reference writer does.
  std::ifstream in(path, std::ios::binary);
  uint64_t n = 0;
  in.read(reinterpret_cast<char*>(&n), 8);
  EXPECT_EQ(n % 8, 0u);
}

TEST_F(Safetensors, HeaderIsCompactJsonInTheOrderGiven) {
  // The bytes earlier maskdet versions wrote, and the layout of Python's safetensors: no spaces,
  // __metadata__ first, the tensors in the order given, spaces after to align the data.
  const std::string path = file("layout.safetensors");
  save_safetensors(path, {{"w", ones({2, 3}, {})}, {"b", full({}, 1, {DType::Int64})}}, {{"format", "pt"}});
  std::ifstream in(path, std::ios::binary);
  uint64_t n = 0;
  in.read(reinterpret_cast<char*>(&n), 8);
  std::string header(n, '\0');
  in.read(header.data(), static_cast<std::streamsize>(n));
  const std::string expected = R"({"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},)"
                               R"("b":{"dtype":"I64","shape":[],"data_offsets":[24,32]}})";
  EXPECT_EQ(header, expected + std::string((8 - expected.size() % 8) % 8, ' '));
}

TEST_F(Safetensors, ErrorTensorNamedTwiceOrHeaderNotUtf8) {
  std::string msg = load_error(write_raw("twice.safetensors",
                                         R"({"x":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
                                         R"("x":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})",
                                         "ab"));
  EXPECT_CONTAINS(msg, "twice.safetensors");
  EXPECT_CONTAINS(msg, "duplicate key \"x\"");
  msg = load_error(write_raw("latin1.safetensors", "{\"m\xe4sk\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", "a"));
  EXPECT_CONTAINS(msg, "latin1.safetensors");
  EXPECT_CONTAINS(msg, "header byte 4");  // where the sequence \xe4 starts turns out ill-formed
  EXPECT_CONTAINS(msg, "UTF-8");
}

TEST_F(Safetensors, MetadataAndAwkwardNames) {
  const std::string path = file("meta.safetensors");
  const std::map<std::string, std::string> meta{{"format", "pt"}, {"note", "line1\nline2 \"quoted\" \\ tab\t"}};
  const std::string odd_name = "head.\"weird\"/name\\\x01 \xC3\xA9";
  save_safetensors(path, {{odd_name, ones({2}, {})}}, meta);
  const auto c = load_safetensors_with_metadata(path);
  EXPECT_EQ(c.metadata, meta);
  ASSERT_EQ(c.tensors.count(odd_name), 1u);
  // No metadata written means none read.
  save_safetensors(path, {{"x", ones({1}, {})}});
  EXPECT_TRUE(load_safetensors_with_metadata(path).metadata.empty());
}

TEST_F(Safetensors, OverwritesAtomicallyAndLeavesNoTemporaryFiles) {
  const std::string path = file("w.safetensors");
  save_safetensors(path, {{"a", ones({3}, {})}});
  save_safetensors(path, {{"b", zeros({2}, {DType::Float64})}});
  const auto loaded = load_safetensors(path);
  EXPECT_EQ(loaded.count("a"), 0u);
  EXPECT_EQ(loaded.at("b").dtype(), DType::Float64);
  int files = 0;
  for (const auto& entry : fs::directory_iterator(dir_)) {
    (void)entry;
    ++files;
  }
  EXPECT_EQ(files, 1);
}

TEST_F(Safetensors, WriterRejectsBadNames) {
  const std::string path = file("bad.safetensors");
  std::string msg;
  try {
    save_safetensors(path, {{"x", ones({1}, {})}, {"x", ones({1}, {})}});
  } catch (const Error& e) {
    msg = e.what();
  }
  EXPECT_CONTAINS(msg, "'x' appears twice");
  EXPECT_FALSE(fs::exists(path));
}

TEST_F(Safetensors, ReadsHalfAndBfloat16AsFloat32) {
  // 1, -2, 65504 (max half), 2^-24 (smallest subnormal), +inf.
  const uint16_t halves[] = {0x3C00, 0xC000, 0x7BFF, 0x0001, 0x7C00};
  // 1, -0.5 in bfloat16.
  const uint16_t bf16[] = {0x3F80, 0xBF00};
  std::string data(reinterpret_cast<const char*>(halves), sizeof halves);
  data.append(reinterpret_cast<const char*>(bf16), sizeof bf16);
  const std::string path = write_raw("half.safetensors",
                                     R"({"h":{"dtype":"F16","shape":[5],"data_offsets":[0,10]},)"
                                     R"("b":{"dtype":"BF16","shape":[2],"data_offsets":[10,14]}})",
                                     data);
  const auto t = load_safetensors(path);
  EXPECT_EQ(t.at("h").dtype(), DType::Float32);
  const auto h = t.at("h").to_vector<float>();
  EXPECT_EQ(h[0], 1.0f);
  EXPECT_EQ(h[1], -2.0f);
  EXPECT_EQ(h[2], 65504.0f);
  EXPECT_EQ(h[3], std::ldexp(1.0f, -24));
  EXPECT_TRUE(std::isinf(h[4]) && h[4] > 0);
  EXPECT_EQ(t.at("b").to_vector<float>(), (std::vector<float>{1.0f, -0.5f}));
}

TEST_F(Safetensors, ErrorTruncatedFile) {
  const std::string short_path = file("short.safetensors");
  std::ofstream(short_path, std::ios::binary) << "abc";
  std::string msg = load_error(short_path);
  EXPECT_CONTAINS(msg, short_path);
  EXPECT_CONTAINS(msg, "truncated");

  const std::string header = R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";
  msg = load_error(write_raw("cut_header.safetensors", header, "", 4096));
  EXPECT_CONTAINS(msg, "cut_header.safetensors");
  EXPECT_CONTAINS(msg, "truncated");
  EXPECT_CONTAINS(msg, "4096");

  // Header intact, tensor bytes missing: the offsets run past the data section.
  msg = load_error(write_raw("cut_data.safetensors", header, "ab"));
  EXPECT_CONTAINS(msg, "'x'");
  EXPECT_CONTAINS(msg, "out of range");

  msg = load_error(file("missing.safetensors"));
  EXPECT_CONTAINS(msg, "missing.safetensors");
}

TEST_F(Safetensors, ErrorBadJsonGivesPosition) {
  // The colon after "x" is missing: header byte 5.
  std::string msg = load_error(write_raw("json.safetensors", R"({"x" {"dtype":"F32"}})", ""));
  EXPECT_CONTAINS(msg, "json.safetensors");
  EXPECT_CONTAINS(msg, "header byte 5");
  EXPECT_CONTAINS(msg, "expected ':'");
  msg = load_error(write_raw("json2.safetensors", R"({"x":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}})", "abcd"));
  EXPECT_CONTAINS(msg, "non-negative integers, found 1.5");
  msg = load_error(write_raw("json3.safetensors", "[1,2]", ""));
  EXPECT_CONTAINS(msg, "must be a JSON object");
  msg = load_error(write_raw("json4.safetensors", R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]})", "abcd"));
  EXPECT_CONTAINS(msg, "header byte 53");
  EXPECT_CONTAINS(msg, "expected '}'");
}

TEST_F(Safetensors, ErrorOffsetsOutOfRangeOrOverlapping) {
  std::string msg = load_error(
      write_raw("range.safetensors", R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", "12345678"));
  EXPECT_CONTAINS(msg, "range.safetensors");
  EXPECT_CONTAINS(msg, "'x'");
  EXPECT_CONTAINS(msg, "[4, 12]");
  EXPECT_CONTAINS(msg, "out of range");
  msg = load_error(write_raw("backwards.safetensors", R"({"x":{"dtype":"U8","shape":[0],"data_offsets":[4,2]}})",
                             "12345678"));
  EXPECT_CONTAINS(msg, "out of range");
  msg = load_error(write_raw("overlap.safetensors",
                             R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                             R"("b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                             "12345678"));
  EXPECT_CONTAINS(msg, "overlap");
  EXPECT_CONTAINS(msg, "'a'");
  EXPECT_CONTAINS(msg, "'b'");
}

TEST_F(Safetensors, ErrorUnknownDtype) {
  const std::string msg = load_error(
      write_raw("dtype.safetensors", R"({"w":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}})", "12345678"));
  EXPECT_CONTAINS(msg, "dtype.safetensors");
  EXPECT_CONTAINS(msg, "'w'");
  EXPECT_CONTAINS(msg, "unsupported dtype 'C64'");
}

TEST_F(Safetensors, ErrorShapeByteCountMismatch) {
  std::string msg = load_error(
      write_raw("count.safetensors", R"({"conv.weight":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}})",
                std::string(24, '\0')));
  EXPECT_CONTAINS(msg, "count.safetensors");
  EXPECT_CONTAINS(msg, "'conv.weight'");
  EXPECT_CONTAINS(msg, "(2, 3)");
  EXPECT_CONTAINS(msg, "needs 24 bytes");
  EXPECT_CONTAINS(msg, "hold 20");
  // A shape whose byte count overflows 64 bits must not wrap around to a small number.
  msg = load_error(write_raw("huge.safetensors",
                             R"({"x":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,0]}})", ""));
  EXPECT_CONTAINS(msg, "more than 2^64");
  msg = load_error(write_raw("neg.safetensors", R"({"x":{"dtype":"F32","shape":[-1],"data_offsets":[0,0]}})", ""));
  EXPECT_CONTAINS(msg, "non-negative");
  msg = load_error(write_raw("fields.safetensors", R"({"x":{"dtype":"F32","shape":[1]}})", "1234"));
  EXPECT_CONTAINS(msg, "data_offsets");
}

}  // namespace
}  // namespace maskdet
