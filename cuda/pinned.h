// Uploads through pinned (page-locked) host memory. A copy from ordinary pageable memory makes
// the driver stage it through its own small pinned buffer and wait on each piece; staging
// through our own larger pinned buffer, in two halves, lets the host fill one half while the
// GPU pulls the other (the double buffering described in the CUDA C++ Best Practices Guide,
// "Pinned Memory" and "Asynchronous and Overlapping Transfers with Computation").
#pragma once
#include <cstddef>

namespace maskdet::cuda {

// Uploads at least this large take the pinned path in cuda::memcpy; smaller ones are cheaper
// as a plain copy.
constexpr size_t kPinnedUploadThreshold = size_t(1) << 20;
// Each of the two halves of the staging buffer.
constexpr size_t kPinnedChunkBytes = size_t(8) << 20;

// Copies nbytes from pageable host memory to device memory on the current device's stream and
// returns when the data has arrived. The staging buffer is allocated on first use and kept;
// concurrent uploads from several threads take turns.
void upload_via_pinned(void* dst_device, const void* src_host, size_t nbytes);
// Frees the staging buffer (the next upload allocates it again); for tests and shutdown.
void release_pinned_staging();
// Bytes of pinned staging memory held now (0 or 2 * kPinnedChunkBytes).
size_t pinned_staging_bytes();

}  // namespace maskdet::cuda
