// Tensor basics: creation, views share storage, strides, copies, printing, errors.
#include "test_util.h"

namespace maskdet {
namespace {

TEST(Tensor, CreationShapesAndValues) {
  Tensor z = zeros({2, 3});
  EXPECT_EQ(z.shape(), (Shape{2, 3}));
  EXPECT_EQ(z.strides(), (Shape{3, 1}));
  EXPECT_EQ(z.numel(), 6);
  EXPECT_EQ(z.sum().item(), 0.0);
  EXPECT_EQ(ones({4}, {DType::Float64}).sum().item(), 4.0);
  EXPECT_EQ(full({2, 2}, 2.5).sum().item(), 10.0);
  Tensor r = arange(0, 5);
  EXPECT_EQ(r.to_vector<float>(), (std::vector<float>{0, 1, 2, 3, 4}));
  EXPECT_EQ(arange(1, 2, 0.25, {DType::Float64}).numel(), 4);
  Tensor i = arange(0, 3, 1, {DType::Int64});
  EXPECT_EQ(i.to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 2}));
}

TEST(Tensor, SeededRandomIsRepeatable) {
  Generator a(7), b(7), c(8);
  Tensor x = randn({100}, {}, &a), y = randn({100}, {}, &b), z = randn({100}, {}, &c);
  EXPECT_EQ(x.to_vector<float>(), y.to_vector<float>());
  EXPECT_NE(x.to_vector<float>(), z.to_vector<float>());
  // Roughly standard normal.
  EXPECT_NEAR(randn({20000}, {DType::Float64}, &a).mean().item(), 0.0, 0.05);
  Tensor u = rand({20000}, {DType::Float64}, &a, 2.0, 3.0);
  EXPECT_GE(u.to_vector<double>()[0], 2.0);
  EXPECT_NEAR(u.mean().item(), 2.5, 0.02);
}

TEST(Tensor, ViewsShareStorage) {
  Tensor x = arange(0, 24).reshape({2, 3, 4});
  Tensor p = x.permute({2, 0, 1});
  EXPECT_EQ(p.shape(), (Shape{4, 2, 3}));
  EXPECT_EQ(p.storage().get(), x.storage().get());
  EXPECT_FALSE(p.is_contiguous());
  EXPECT_EQ(p.at({1, 1, 2}), x.at({1, 2, 1}));
  Tensor s = x.slice(2, 1, 4, 2);  // columns 1 and 3
  EXPECT_EQ(s.shape(), (Shape{2, 3, 2}));
  EXPECT_EQ(s.at({1, 2, 1}), 23.0);
  EXPECT_EQ(s.storage().get(), x.storage().get());
  Tensor t = x.transpose(0, 1);
  EXPECT_EQ(t.at({2, 1, 3}), x.at({1, 2, 3}));
  Tensor e = arange(0, 3).reshape({3, 1}).expand({3, 4});
  EXPECT_EQ(e.strides(), (Shape{1, 0}));
  EXPECT_EQ(e.sum().item(), 12.0);
  EXPECT_EQ(x.select(1, 2).shape(), (Shape{2, 4}));
  EXPECT_EQ(x.select(1, -1).at({1, 0}), 20.0);
  EXPECT_EQ(x.unsqueeze(0).shape(), (Shape{1, 2, 3, 4}));
  EXPECT_EQ(x.unsqueeze(-1).shape(), (Shape{2, 3, 4, 1}));
  EXPECT_EQ(x.unsqueeze(0).squeeze(0).shape(), x.shape());
  EXPECT_EQ(x.flatten(1).shape(), (Shape{2, 12}));
  EXPECT_EQ(x.view({-1, 4}).shape(), (Shape{6, 4}));
}

TEST(Tensor, ContiguousCopiesOnlyWhenNeeded) {
  Tensor x = arange(0, 6).reshape({2, 3});
  EXPECT_EQ(x.contiguous().storage().get(), x.storage().get());
  Tensor t = x.transpose(0, 1).contiguous();
  EXPECT_NE(t.storage().get(), x.storage().get());
  EXPECT_TRUE(t.is_contiguous());
  EXPECT_EQ(t.to_vector<float>(), (std::vector<float>{0, 3, 1, 4, 2, 5}));
  // reshape of a non-contiguous tensor copies; view refuses with a clear error.
  EXPECT_EQ(x.transpose(0, 1).reshape({6}).to_vector<float>(), (std::vector<float>{0, 3, 1, 4, 2, 5}));
  EXPECT_THROW(x.transpose(0, 1).view({6}), Error);
  Tensor c = x.clone();
  EXPECT_NE(c.storage().get(), x.storage().get());
}

TEST(Tensor, EmptyTensorsAreContiguous) {
  EXPECT_TRUE(empty({3, 0}).is_contiguous());
  EXPECT_TRUE(empty({0, 0}).is_contiguous());
  EXPECT_TRUE(zeros({0, 4}).transpose(0, 1).is_contiguous());
}

TEST(Tensor, DtypeConversionAndFromVector) {
  Tensor x = from_vector<double>({1.5, -2.5, 3.0}, {3});
  EXPECT_EQ(x.dtype(), DType::Float32);
  EXPECT_EQ(x.to(DType::Int64).to_vector<int64_t>(), (std::vector<int64_t>{1, -2, 3}));
  EXPECT_EQ(x.to(DType::Float64).to_vector<double>(), (std::vector<double>{1.5, -2.5, 3.0}));
  EXPECT_THROW(from_vector<double>({1, 2}, {3}), Error);
  float buf[4] = {1, 2, 3, 4};
  Tensor b = from_blob(buf, {2, 2}, DType::Float32);
  buf[3] = 10;
  EXPECT_EQ(b.at({1, 1}), 10.0);
}

TEST(Tensor, ShapeErrorsNameBothShapes) {
  Tensor a = zeros({2, 3}), b = zeros({4, 3});
  try {
    add(a, b);
    FAIL() << "no error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("(2, 3)"), std::string::npos) << msg;
    EXPECT_NE(msg.find("(4, 3)"), std::string::npos) << msg;
  }
  EXPECT_THROW(a.view({5}), Error);
  EXPECT_THROW(a.permute({0, 0}), Error);
  EXPECT_THROW(a.size(2), Error);
  EXPECT_THROW(a.item(), Error);
  EXPECT_THROW(add(a, zeros({2, 3}, {DType::Float64})), Error);
}

TEST(Tensor, PrintingIsReadable) {
  Tensor x = from_vector<float>({1, 2, 3, 4}, {2, 2});
  const std::string s = x.str();
  EXPECT_NE(s.find("shape=(2, 2)"), std::string::npos) << s;
  EXPECT_NE(s.find("float32"), std::string::npos) << s;
  EXPECT_NE(s.find("4"), std::string::npos) << s;
  const std::string big = zeros({100, 100}).str();
  EXPECT_NE(big.find("..."), std::string::npos);
  EXPECT_LT(big.size(), 2000u);
}

TEST(Tensor, CudaDeviceWithoutGpuIsAClearError) {
  if (cuda_available()) GTEST_SKIP() << "a GPU is present; this test covers machines without one";
  std::cout << "no CUDA: " << cuda_unavailable_reason() << "\n";
  EXPECT_FALSE(cuda_unavailable_reason().empty());
  EXPECT_THROW(zeros({2}).to(Device::cuda()), Error);
}

TEST(Tensor, CudaRoundTrip) {
  if (!cuda_available()) GTEST_SKIP() << "no GPU: " << cuda_unavailable_reason();
  Tensor x = arange(0, 12).reshape({3, 4}).transpose(0, 1);
  Tensor back = x.to(Device::cuda()).to(Device::cpu());
  EXPECT_EQ(back.to_vector<float>(), x.to_vector<float>());
}

TEST(Tensor, ParseDevice) {
  EXPECT_TRUE(parse_device("cpu").is_cpu());
  EXPECT_EQ(parse_device("cuda:1").index, 1);
  EXPECT_THROW(parse_device("tpu"), Error);
}

}  // namespace
}  // namespace maskdet
