// Replica consistency and gradient buckets (data_parallel.h).
#include "apps/dist/data_parallel.h"

#include <algorithm>
#include <chrono>
#include <cstring>

#include "tensor/creation.h"

namespace maskdet::dist {

namespace {

bool is_host_contiguous(const Tensor& t) { return t.device().is_cpu() && t.is_contiguous(); }

size_t byte_size(const Tensor& t) { return static_cast<size_t>(t.numel()) * dtype_size(t.dtype()); }

}  // namespace

void broadcast_tensors(ProcessGroup& group, const std::vector<Tensor>& tensors, const std::string& what) {
  if (group.world_size() == 1) return;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    const std::string name = what + " tensor " + std::to_string(i);
    if (is_host_contiguous(t)) {
      group.broadcast(t.raw_data(), byte_size(t), 0, name);
      continue;
    }
    const Tensor host = t.to(Device::cpu()).contiguous().clone();
    group.broadcast(host.raw_data(), byte_size(host), 0, name);
    t.set_data(host.to(t.device()));
  }
}

uint64_t replica_checksum(const std::vector<Tensor>& tensors) {
  // FNV-1a: no cryptographic strength needed, only that a changed byte changes the value.
  uint64_t hash = 1469598103934665603ull;
  auto mix = [&](const void* data, size_t size) {
    const auto* bytes = static_cast<const unsigned char*>(data);
    for (size_t i = 0; i < size; ++i) hash = (hash ^ bytes[i]) * 1099511628211ull;
  };
  for (const Tensor& t : tensors) {
    for (const int64_t d : t.shape()) mix(&d, sizeof d);
    const Tensor host = is_host_contiguous(t) ? t : t.to(Device::cpu()).contiguous();
    mix(host.raw_data(), byte_size(host));
  }
  return hash;
}

void check_replicas_agree(ProcessGroup& group, const std::vector<Tensor>& tensors, const std::string& what) {
  if (group.world_size() == 1) return;
  const std::vector<uint64_t> sums = group.all_gather(replica_checksum(tensors), what + " checksum");
  std::string differing;
  for (size_t r = 1; r < sums.size(); ++r)
    if (sums[r] != sums[0]) differing += (differing.empty() ? "" : ", ") + std::to_string(r);
  if (!differing.empty())
    throw DistError("rank " + std::to_string(group.rank()) + ": the replicas' " + what + " differ from rank 0's on rank(s) " +
                    differing + ": the ranks no longer train one model");
}

GradientBuckets::GradientBuckets(std::vector<Tensor> params, size_t bucket_bytes) : params_(std::move(params)) {
  size_t in_bucket = 0, largest = 0;
  for (size_t i = 0; i < params_.size(); ++i) {
    MASKDET_CHECK(params_[i].dtype() == DType::Float32, "GradientBuckets: parameter ", i, " is ",
                  dtype_name(params_[i].dtype()), ", not float32");
    const size_t bytes = byte_size(params_[i]);
    if (buckets_.empty() || (in_bucket > 0 && in_bucket + bytes > bucket_bytes)) {
      buckets_.emplace_back();
      in_bucket = 0;
    }
    buckets_.back().push_back(i);
    in_bucket += bytes;
    largest = std::max(largest, in_bucket);
  }
  buffer_.resize(largest / sizeof(float));
}

double GradientBuckets::reduce(ProcessGroup& group, float weight) {
  const auto start = std::chrono::steady_clock::now();
  for (size_t b = 0; b < buckets_.size(); ++b) {
    size_t at = 0;
    for (const size_t i : buckets_[b]) {
      const Tensor& p = params_[i];
      const auto n = static_cast<size_t>(p.numel());
      const Tensor grad = p.grad();
      if (!grad.defined()) {
        std::fill_n(buffer_.data() + at, n, 0.0f);
      } else {
        const Tensor host = is_host_contiguous(grad) ? grad : grad.to(Device::cpu()).contiguous();
        const float* g = host.data_ptr<float>();
        for (size_t k = 0; k < n; ++k) buffer_[at + k] = weight * g[k];
      }
      at += n;
    }
    group.all_reduce_sum(buffer_.data(), at, "gradient bucket " + std::to_string(b + 1) + " of " +
                                                 std::to_string(buckets_.size()) + " (" + std::to_string(at) + " floats)");
    at = 0;
    for (const size_t i : buckets_[b]) {
      Tensor p = params_[i];
      const auto n = static_cast<size_t>(p.numel());
      // Always a fresh tensor: one gradient tensor may be shared by several parameters (an
      // addition hands its output's gradient to both inputs), so writing in place could
      // overwrite another parameter's sum.
      const Tensor summed = empty(p.shape());
      std::memcpy(summed.data_ptr<float>(), buffer_.data() + at, n * sizeof(float));
      p.set_grad(p.device().is_cpu() ? summed : summed.to(p.device()));
      at += n;
    }
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace maskdet::dist
