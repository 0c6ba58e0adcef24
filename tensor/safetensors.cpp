// safetensors reader and writer (format in tensor/safetensors.h). The reader trusts nothing
// in the file: every length and offset is checked against the file's real size before a
// byte is read, and each tensor's bytes go straight from the file into its storage.
#include "tensor/safetensors.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include "tensor/atomic_file.h"
#include "tensor/creation.h"
#include "tensor/json_text.h"
#include "tensor/kernels/copy.h"

namespace maskdet {

static_assert(std::endian::native == std::endian::little,
              "safetensors data is little-endian and is copied without byte swapping");

namespace {

constexpr uint64_t kMaxHeaderBytes = 100u << 20;  // a header this large is corruption, not a model
constexpr const char* kMetadataKey = "__metadata__";

// How a safetensors dtype maps onto a maskdet one.
struct FileDType {
  const char* name;
  size_t bytes;   // per element in the file
  DType loaded;   // dtype of the tensor it becomes
};

constexpr FileDType kFileDTypes[] = {
    {"F32", 4, DType::Float32}, {"F64", 8, DType::Float64}, {"I64", 8, DType::Int64},
    {"U8", 1, DType::UInt8},    {"F16", 2, DType::Float32}, {"BF16", 2, DType::Float32},
};

const char* file_dtype_name(DType t) {
  switch (t) {
    case DType::Float32: return "F32";
    case DType::Float64: return "F64";
    case DType::Int64: return "I64";
    case DType::UInt8: return "U8";
  }
  return "?";
}

// IEEE binary16 to binary32; every half value is exact in float.
float half_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h >> 15) << 31;
  const uint32_t exponent = (h >> 10) & 0x1F, mantissa = h & 0x3FF;
  if (exponent == 0) {  // zero or subnormal: mantissa * 2^-24
    const float magnitude = std::ldexp(static_cast<float>(mantissa), -24);
    return sign ? -magnitude : magnitude;
  }
  const uint32_t bits = exponent == 0x1F ? (sign | 0x7F800000u | (mantissa << 13))            // inf, nan
                                         : (sign | ((exponent + 112) << 23) | (mantissa << 13));  // rebias 15 -> 127
  return std::bit_cast<float>(bits);
}

// bfloat16 is the top half of a float32.
float bf16_to_float(uint16_t h) { return std::bit_cast<float>(static_cast<uint32_t>(h) << 16); }

std::string offsets_str(uint64_t begin, uint64_t end) {
  std::ostringstream os;
  os << '[' << begin << ", " << end << ']';
  return os.str();
}

}  // namespace

void save_safetensors(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  // Dense host copies (or the tensors themselves when already dense on the host).
  std::vector<Tensor> hosts;
  std::set<std::string> names;
  for (const auto& [name, t] : tensors) {
    MASKDET_CHECK(name != kMetadataKey, "save_safetensors ", path, ": '", kMetadataKey,
                  "' is reserved and cannot name a tensor");
    MASKDET_CHECK(names.insert(name).second, "save_safetensors ", path, ": tensor name '", name, "' appears twice");
    MASKDET_CHECK(t.defined(), "save_safetensors ", path, ": tensor '", name, "' is undefined");
    if (t.device().is_cpu() && t.is_contiguous()) {
      hosts.push_back(t);
    } else {
      Tensor h = empty(t.shape(), {t.dtype()});
      kernels::copy(t, h);
      hosts.push_back(h);
    }
  }

  // Members in the order given, __metadata__ first: the layout Python's safetensors writes.
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) {
    nlohmann::ordered_json& entries = header[kMetadataKey] = nlohmann::ordered_json::object();
    for (const auto& [k, v] : metadata) entries[k] = v;
  }
  uint64_t offset = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& h = hosts[i];
    const uint64_t nbytes = static_cast<uint64_t>(h.numel()) * dtype_size(h.dtype());
    header[tensors[i].first] = {{"dtype", file_dtype_name(h.dtype())},
                                {"shape", h.shape()},
                                {"data_offsets", {offset, offset + nbytes}}};
    offset += nbytes;
  }
  std::string header_text = json::dump(header);
  header_text.append((8 - header_text.size() % 8) % 8, ' ');

  char length[8];
  const uint64_t header_len = header_text.size();
  std::memcpy(length, &header_len, 8);

  AtomicFileWriter file(path);
  file.write(length, 8);
  file.write(header_text);
  for (const Tensor& h : hosts) file.write(h.raw_data(), static_cast<size_t>(h.numel()) * dtype_size(h.dtype()));
  file.commit();
}

namespace {

// One tensor entry of the header, checked against the data section.
struct Entry {
  std::string name;
  const FileDType* dtype;
  Shape shape;
  uint64_t begin, end;
};

// JSON's name for a value's type, for messages.
const char* kind_name(const nlohmann::ordered_json& v) {
  return v.is_number_unsigned() || v.is_number_integer() ? "integer" : v.type_name();
}

Entry parse_entry(const std::string& path, const std::string& name, const nlohmann::ordered_json& v,
                  uint64_t data_bytes) {
  const std::string where = "load_safetensors " + path + ": tensor '" + name + "'";
  MASKDET_CHECK(v.is_object(), where, ": expected an object, got ", kind_name(v));
  const auto dtype = v.find("dtype"), shape = v.find("shape"), offsets = v.find("data_offsets");
  MASKDET_CHECK(dtype != v.end() && shape != v.end() && offsets != v.end(), where,
                ": needs \"dtype\", \"shape\" and \"data_offsets\"");
  MASKDET_CHECK(dtype->is_string(), where, ": \"dtype\" must be a string, got ", kind_name(*dtype));
  Entry e{name, nullptr, {}, 0, 0};
  const std::string& dtype_name = dtype->get_ref<const std::string&>();
  for (const auto& d : kFileDTypes)
    if (dtype_name == d.name) e.dtype = &d;
  MASKDET_CHECK(e.dtype, where, ": unsupported dtype '", dtype_name,
                "' (supported: F32, F64, I64, U8, and F16/BF16 read as float32)");

  MASKDET_CHECK(shape->is_array(), where, ": \"shape\" must be an array, got ", kind_name(*shape));
  // numel * element size, refusing overflow: the count is compared with the file's bytes.
  uint64_t nbytes = e.dtype->bytes;
  bool overflow = false;
  for (const auto& s : *shape) {
    // nlohmann reads a non-negative integer as unsigned, a negative one as signed, and one past
    // 2^64 - 1, a fraction or an exponent as a double.
    MASKDET_CHECK(s.is_number_unsigned() && s.get<uint64_t>() <= static_cast<uint64_t>(INT64_MAX), where,
                  ": \"shape\" entries must be non-negative integers, found ", json::dump(s));
    const uint64_t dim = s.get<uint64_t>();
    if (dim != 0 && nbytes > std::numeric_limits<uint64_t>::max() / dim) overflow = true;
    else nbytes *= dim;
    e.shape.push_back(static_cast<int64_t>(dim));
  }

  MASKDET_CHECK(offsets->is_array() && offsets->size() == 2 && (*offsets)[0].is_number_unsigned() &&
                    (*offsets)[1].is_number_unsigned(),
                where, ": \"data_offsets\" must be an array of two non-negative integers, found ", json::dump(*offsets));
  const uint64_t begin = (*offsets)[0].get<uint64_t>(), end = (*offsets)[1].get<uint64_t>();
  MASKDET_CHECK(begin <= end && end <= data_bytes, where, ": data_offsets ", offsets_str(begin, end),
                " out of range: the data section holds ", data_bytes, " bytes");
  e.begin = begin;
  e.end = end;
  MASKDET_CHECK(!overflow && nbytes == e.end - e.begin, where, ": shape ", shape_str(e.shape), " of ",
                e.dtype->name, " needs ", overflow ? std::string("more than 2^64") : std::to_string(nbytes),
                " bytes but data_offsets ", offsets_str(e.begin, e.end), " hold ", e.end - e.begin);
  return e;
}

void read_exact(std::ifstream& in, const std::string& path, uint64_t file_offset, char* dst, uint64_t n,
                const std::string& what) {
  if (n == 0) return;
  in.seekg(static_cast<std::streamoff>(file_offset));
  in.read(dst, static_cast<std::streamsize>(n));
  MASKDET_CHECK(in && static_cast<uint64_t>(in.gcount()) == n, "load_safetensors ", path, ": reading ", what,
                " failed (", n, " bytes at offset ", file_offset, ")");
}

}  // namespace

SafetensorsContents load_safetensors_with_metadata(const std::string& path) {
  std::error_code ec;
  const uint64_t file_bytes = std::filesystem::file_size(path, ec);
  MASKDET_CHECK(!ec, "load_safetensors ", path, ": cannot open: ", ec.message());
  std::ifstream in(path, std::ios::binary);
  MASKDET_CHECK(in, "load_safetensors ", path, ": cannot open for reading");

  MASKDET_CHECK(file_bytes >= 8, "load_safetensors ", path, ": truncated: the file has ", file_bytes,
                " bytes, fewer than the 8-byte header length");
  uint64_t header_bytes = 0;
  read_exact(in, path, 0, reinterpret_cast<char*>(&header_bytes), 8, "the header length");
  MASKDET_CHECK(header_bytes <= kMaxHeaderBytes, "load_safetensors ", path, ": header length ", header_bytes,
                " is implausibly large (not a safetensors file?)");
  MASKDET_CHECK(header_bytes <= file_bytes - 8, "load_safetensors ", path, ": truncated: the header claims ",
                header_bytes, " bytes but only ", file_bytes - 8, " follow the length field");
  std::string header(header_bytes, '\0');
  read_exact(in, path, 8, header.data(), header_bytes, "the header");
  const uint64_t data_start = 8 + header_bytes, data_bytes = file_bytes - data_start;

  nlohmann::ordered_json root;
  try {
    root = json::parse(header);
  } catch (const json::ParseError& e) {
    if (e.byte())
      MASKDET_FAIL("load_safetensors ", path, ": bad header JSON at header byte ", *e.byte(), " (file byte ",
                   *e.byte() + 8, "): ", e.reason());
    MASKDET_FAIL("load_safetensors ", path, ": bad header JSON: ", e.reason());
  }
  MASKDET_CHECK(root.is_object(), "load_safetensors ", path, ": the header must be a JSON object, got ",
                kind_name(root));

  SafetensorsContents out;
  std::vector<Entry> entries;
  for (const auto& [name, value] : root.items()) {
    if (name == kMetadataKey) {
      MASKDET_CHECK(value.is_object(), "load_safetensors ", path, ": \"", kMetadataKey, "\" must be an object");
      for (const auto& [k, v] : value.items()) {
        MASKDET_CHECK(v.is_string(), "load_safetensors ", path, ": metadata value of '", k, "' must be a string");
        out.metadata[k] = v.get<std::string>();
      }
      continue;
    }
    entries.push_back(parse_entry(path, name, value, data_bytes));
  }

  std::vector<const Entry*> by_offset;
  for (const auto& e : entries) by_offset.push_back(&e);
  std::sort(by_offset.begin(), by_offset.end(), [](const Entry* a, const Entry* b) { return a->begin < b->begin; });
  for (size_t i = 1; i < by_offset.size(); ++i) {
    const Entry& a = *by_offset[i - 1];
    const Entry& b = *by_offset[i];
    MASKDET_CHECK(b.begin >= a.end, "load_safetensors ", path, ": tensors '", a.name, "' ",
                  offsets_str(a.begin, a.end), " and '", b.name, "' ", offsets_str(b.begin, b.end), " overlap");
  }

  for (const Entry& e : entries) {
    Tensor t = empty(e.shape, {e.dtype->loaded});
    const std::string what = "tensor '" + e.name + "'";
    if (e.dtype->bytes == dtype_size(e.dtype->loaded)) {
      read_exact(in, path, data_start + e.begin, static_cast<char*>(t.raw_data()), e.end - e.begin, what);
    } else {
      std::vector<uint16_t> halves(static_cast<size_t>(t.numel()));
      read_exact(in, path, data_start + e.begin, reinterpret_cast<char*>(halves.data()), e.end - e.begin, what);
      const bool bf16 = std::strcmp(e.dtype->name, "BF16") == 0;
      float* dst = t.data_ptr<float>();
      for (size_t i = 0; i < halves.size(); ++i) dst[i] = bf16 ? bf16_to_float(halves[i]) : half_to_float(halves[i]);
    }
    out.tensors[e.name] = t;
  }
  return out;
}

std::map<std::string, Tensor> load_safetensors(const std::string& path) {
  return load_safetensors_with_metadata(path).tensors;
}

}  // namespace maskdet
