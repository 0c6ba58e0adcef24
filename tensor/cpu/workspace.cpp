// Per-thread scratch buffers for CPU kernels (see workspace.h).
#include "tensor/cpu/workspace.h"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <memory>
#include <new>

#include "tensor/error.h"

namespace maskdet::cpu {

namespace {

struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};

struct Buffer {
  std::unique_ptr<void, FreeDeleter> data;
  size_t capacity = 0;
};

}  // namespace

void* workspace_bytes(int slot, size_t bytes) {
  MASKDET_CHECK(slot >= 0 && slot < kWorkspaceSlots, "workspace: slot ", slot, " out of range");
  thread_local std::array<Buffer, kWorkspaceSlots> buffers;
  Buffer& b = buffers[slot];
  if (bytes > b.capacity || !b.data) {
    constexpr size_t kAlignment = 64;
    const size_t rounded = (std::max<size_t>(bytes, 1) + kAlignment - 1) / kAlignment * kAlignment;
    b.data.reset();  // free first: the old and new buffers need not coexist
    b.data.reset(std::aligned_alloc(kAlignment, rounded));
    if (!b.data) throw std::bad_alloc();
    b.capacity = rounded;
  }
  return b.data.get();
}

}  // namespace maskdet::cpu
