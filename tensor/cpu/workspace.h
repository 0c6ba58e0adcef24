// Scratch memory for CPU kernels, kept from one call to the next.
//
// A fresh large allocation comes straight from mmap, and the first touch of each of its 4 KiB
// pages is a page fault: about 20 ms for the 33 MB that one Winograd pass of a 256-channel 64x64
// convolution needs, as much as the pass's arithmetic. Kernels therefore borrow scratch buffers
// from here; each thread keeps the largest buffer it was asked for in each slot.
#pragma once
#include <cstddef>
#include <cstdint>

namespace maskdet::cpu {

// Independent buffers a kernel may hold at once.
constexpr int kWorkspaceSlots = 4;

// Uninitialised room for `bytes` bytes (64-byte aligned) in the calling thread's buffer number
// `slot`, valid until the next request for the same slot on the same thread.
void* workspace_bytes(int slot, size_t bytes);

template <class T>
T* workspace(int slot, int64_t count) {
  return static_cast<T*>(workspace_bytes(slot, static_cast<size_t>(count) * sizeof(T)));
}

}  // namespace maskdet::cpu
