// Replica consistency and gradient buckets (data_parallel.h).
#include "apps/dist/data_parallel.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <mutex>

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

GradientBuckets::GradientBuckets(std::vector<Tensor> params, size_t bucket_bytes)
    : params_(std::move(params)), bucket_of_(params_.size()), ready_(params_.size()) {
  size_t in_bucket = 0;
  // Backward reaches the last layers' parameters first.
  for (size_t k = params_.size(); k-- > 0;) {
    MASKDET_CHECK(params_[k].dtype() == DType::Float32, "GradientBuckets: parameter ", k, " is ",
                  dtype_name(params_[k].dtype()), ", not float32");
    const size_t bytes = byte_size(params_[k]);
    if (buckets_.empty() || (in_bucket > 0 && in_bucket + bytes > bucket_bytes)) {
      buckets_.emplace_back();
      in_bucket = 0;
    }
    Bucket& bucket = buckets_.back();
    bucket.params.push_back(k);
    bucket.offsets.push_back(bucket.values.size());
    bucket.values.resize(bucket.values.size() + static_cast<size_t>(params_[k].numel()));
    bucket_of_[k] = buckets_.size() - 1;
    index_of_[params_[k].impl().get()] = k;
    in_bucket += bytes;
  }
  thread_ = std::thread([this] { communicate(); });
}

GradientBuckets::~GradientBuckets() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

std::unique_ptr<autograd::GradientReadyScope> GradientBuckets::begin(ProcessGroup& group, float weight) {
  group_ = &group;
  weight_ = weight;
  next_to_start_ = 0;
  std::fill(ready_.begin(), ready_.end(), false);
  for (Bucket& b : buckets_) b.waiting = b.params.size();
  {
    std::lock_guard lock(mutex_);
    started_ = done_ = 0;
    error_ = nullptr;
    all_reduce_seconds_ = 0;
  }
  return std::make_unique<autograd::GradientReadyScope>([this](const TensorImpl& leaf) {
    if (const auto it = index_of_.find(&leaf); it != index_of_.end()) gradient_ready(it->second);
  });
}

void GradientBuckets::gradient_ready(size_t param) {
  if (ready_[param]) return;
  ready_[param] = true;
  Bucket& bucket = buckets_[bucket_of_[param]];
  const size_t slot = static_cast<size_t>(
      std::find(bucket.params.begin(), bucket.params.end(), param) - bucket.params.begin());
  float* out = bucket.values.data() + bucket.offsets[slot];
  const auto n = static_cast<size_t>(params_[param].numel());
  const Tensor grad = params_[param].grad();
  if (!grad.defined()) {
    std::fill_n(out, n, 0.0f);
  } else {
    const Tensor host = is_host_contiguous(grad) ? grad : grad.to(Device::cpu()).contiguous();
    const float* g = host.data_ptr<float>();
    for (size_t k = 0; k < n; ++k) out[k] = weight_ * g[k];
  }
  --bucket.waiting;
  // Later buckets wait for earlier ones: the ranks must all-reduce them in one order.
  size_t startable = next_to_start_;
  while (startable < buckets_.size() && buckets_[startable].waiting == 0) ++startable;
  if (startable != next_to_start_) {
    next_to_start_ = startable;
    {
      std::lock_guard lock(mutex_);
      started_ = startable;
    }
    changed_.notify_all();
  }
}

void GradientBuckets::communicate() {
  std::unique_lock lock(mutex_);
  for (;;) {
    changed_.wait(lock, [&] { return stopping_ || done_ < started_; });
    if (stopping_) return;
    const size_t b = done_;
    // After a failure the step is lost: the other buckets would only wait out their own timeouts.
    if (error_) {
      ++done_;
      changed_.notify_all();
      continue;
    }
    lock.unlock();
    const auto start = std::chrono::steady_clock::now();
    std::exception_ptr error;
    try {
      group_->all_reduce_sum(buckets_[b].values.data(), buckets_[b].values.size(),
                             "gradient bucket " + std::to_string(b + 1) + " of " + std::to_string(buckets_.size()) +
                                 " (" + std::to_string(buckets_[b].values.size()) + " floats)");
    } catch (...) {
      error = std::current_exception();
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    lock.lock();
    all_reduce_seconds_ += seconds;
    if (error && !error_) error_ = error;
    ++done_;
    changed_.notify_all();
  }
}

void GradientBuckets::finish() {
  const auto start = std::chrono::steady_clock::now();
  // Parameters backward gave no gradient (or that were not reported) count as zeros.
  for (size_t k = params_.size(); k-- > 0;)
    if (!ready_[k]) gradient_ready(k);
  {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return done_ == buckets_.size(); });
    if (error_) std::rethrow_exception(error_);
  }
  for (const Bucket& bucket : buckets_)
    for (size_t slot = 0; slot < bucket.params.size(); ++slot) {
      Tensor p = params_[bucket.params[slot]];
      const auto n = static_cast<size_t>(p.numel());
      // A new tensor on the parameter's device: the sums were made on the host.
      const Tensor summed = empty(p.shape());
      std::memcpy(summed.data_ptr<float>(), bucket.values.data() + bucket.offsets[slot], n * sizeof(float));
      p.set_grad(p.device().is_cpu() ? summed : summed.to(p.device()));
    }
  exposed_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void GradientBuckets::reduce(ProcessGroup& group, float weight) {
  const auto scope = begin(group, weight);
  finish();
}

}  // namespace maskdet::dist
