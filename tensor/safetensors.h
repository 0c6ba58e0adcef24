// Reading and writing the safetensors format (Hugging Face, https://huggingface.co/docs/safetensors),
// so weights move between maskdet and PyTorch tools:
//   8 bytes    N, the header length, unsigned little-endian
//   N bytes    JSON: {"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...,
//              optionally "__metadata__": {"key": "value", ...}}
//   the rest   the tensors' raw little-endian bytes, row-major; offsets count from here.
// Supported dtypes: F32, F64, I64, U8 both ways; F16 and BF16 are read and converted to float32.
#pragma once
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "tensor/tensor.h"

namespace maskdet {

struct SafetensorsContents {
  std::map<std::string, Tensor> tensors;
  std::map<std::string, std::string> metadata;  // the "__metadata__" entry, empty when absent
};

// Writes `tensors` (unique names, any device and strides: each is copied to contiguous host
// memory) in the given order. The file is written next to `path` under a temporary name,
// flushed to disk and renamed over `path`, so a crash leaves the old file or the new one,
// never half of one. The header is padded with spaces so the data starts 8-byte aligned.
void save_safetensors(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

// Reads every tensor into CPU memory. Throws maskdet::Error naming the file and the fault:
// truncated file, malformed header JSON (with its byte position), unknown dtype, a shape
// that does not match its byte count, offsets out of the data section or overlapping.
std::map<std::string, Tensor> load_safetensors(const std::string& path);
SafetensorsContents load_safetensors_with_metadata(const std::string& path);

}  // namespace maskdet
