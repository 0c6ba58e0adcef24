// Element types a tensor can hold, and the switch that turns a runtime dtype into a
// compile-time C++ type for kernels.
#pragma once
#include <cstddef>
#include <cstdint>

#include "tensor/error.h"

namespace maskdet {

enum class DType : uint8_t { Float32, Float64, Int64, UInt8 };

constexpr size_t dtype_size(DType t) {
  switch (t) {
    case DType::Float32: return 4;
    case DType::Float64: return 8;
    case DType::Int64: return 8;
    case DType::UInt8: return 1;
  }
  return 0;
}

constexpr const char* dtype_name(DType t) {
  switch (t) {
    case DType::Float32: return "float32";
    case DType::Float64: return "float64";
    case DType::Int64: return "int64";
    case DType::UInt8: return "uint8";
  }
  return "?";
}

constexpr bool is_floating(DType t) { return t == DType::Float32 || t == DType::Float64; }

template <class T> constexpr DType dtype_of();
template <> constexpr DType dtype_of<float>() { return DType::Float32; }
template <> constexpr DType dtype_of<double>() { return DType::Float64; }
template <> constexpr DType dtype_of<int64_t>() { return DType::Int64; }
template <> constexpr DType dtype_of<uint8_t>() { return DType::UInt8; }

// Calls f(T{}) with T the C++ type of a floating dtype; `op` names the caller in the error.
//   dispatch_floating(x.dtype(), "relu", [&](auto zero) { using T = decltype(zero); ... });
template <class F>
decltype(auto) dispatch_floating(DType t, const char* op, F&& f) {
  switch (t) {
    case DType::Float32: return f(float{});
    case DType::Float64: return f(double{});
    default: MASKDET_FAIL(op, ": expected a float32 or float64 tensor, got ", dtype_name(t));
  }
}

// Same for every dtype.
template <class F>
decltype(auto) dispatch_all(DType t, const char* /*op*/, F&& f) {
  switch (t) {
    case DType::Float32: return f(float{});
    case DType::Float64: return f(double{});
    case DType::Int64: return f(int64_t{});
    case DType::UInt8: return f(uint8_t{});
  }
  MASKDET_FAIL("unknown dtype");
}

}  // namespace maskdet
