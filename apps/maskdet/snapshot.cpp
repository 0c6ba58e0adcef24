// Writing and reading training snapshots (snapshot.h).
#include "apps/maskdet/snapshot.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "tensor/json_text.h"
#include "tensor/shape.h"
#include "tensor/safetensors.h"

namespace maskdet::app {

namespace {

namespace fs = std::filesystem;

constexpr const char* kFormat = "maskdet-snapshot";
constexpr const char* kVersion = "1";
constexpr const char* kModelPrefix = "model.";
constexpr const char* kOptimizerPrefix = "optimizer.";
constexpr const char* kAveragePrefix = "average.";

// Every bit of the state, the spare normal's double included, so the restored stream is the same.
std::string rng_to_hex(const Generator::State& state) {
  uint64_t spare_bits = 0;
  std::memcpy(&spare_bits, &state.spare, sizeof spare_bits);
  char buffer[5 * 17 + 2];
  std::snprintf(buffer, sizeof buffer, "%016" PRIx64 "%016" PRIx64 "%016" PRIx64 "%016" PRIx64 "%d%016" PRIx64,
                state.s[0], state.s[1], state.s[2], state.s[3], state.has_spare ? 1 : 0, spare_bits);
  return buffer;
}

Generator::State rng_from_hex(const std::string& text, const std::string& path) {
  MASKDET_CHECK(text.size() == 4 * 16 + 1 + 16, "snapshot ", path, ": malformed rng_state");
  Generator::State state{};
  auto word = [&](size_t at) { return std::stoull(text.substr(at, 16), nullptr, 16); };
  for (int i = 0; i < 4; ++i) state.s[i] = word(16 * i);
  state.has_spare = text[64] == '1';
  const uint64_t spare_bits = word(65);
  std::memcpy(&state.spare, &spare_bits, sizeof spare_bits);
  return state;
}

const std::string& metadata_field(const std::map<std::string, std::string>& metadata, const std::string& key,
                                  const std::string& path) {
  const auto it = metadata.find(key);
  MASKDET_CHECK(it != metadata.end(), "snapshot ", path, ": metadata '", key, "' is missing");
  return it->second;
}

}  // namespace

int64_t epoch_of(const fs::path& file) {
  const std::string name = file.filename().string();
  int64_t epoch = -1;
  char tail = 0;
  if (std::sscanf(name.c_str(), "epoch_%" SCNd64 ".safetensor%c", &epoch, &tail) == 2 && tail == 's' &&
      name.size() == name.find(".safetensors") + 12)
    return epoch;
  return -1;
}

namespace {

std::vector<std::pair<int64_t, fs::path>> epoch_snapshots(const std::string& dir) {
  std::vector<std::pair<int64_t, fs::path>> found;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec))
    if (entry.is_regular_file() && epoch_of(entry.path()) >= 0) found.emplace_back(epoch_of(entry.path()), entry.path());
  std::sort(found.begin(), found.end());
  return found;
}

}  // namespace

void save_snapshot(const std::string& path, const nn::Module& model, const optim::Optimizer* optimizer,
                   const SnapshotInfo& info, const optim::WeightAverage* average) {
  std::vector<std::pair<std::string, Tensor>> tensors;
  for (auto& [name, tensor] : model.state_dict()) tensors.emplace_back(kModelPrefix + name, tensor);
  if (optimizer)
    for (auto& [name, tensor] : optimizer->state_dict()) tensors.emplace_back(kOptimizerPrefix + name, tensor);
  if (average)
    for (auto& [name, tensor] : average->averages()) tensors.emplace_back(kAveragePrefix + name, tensor);
  std::map<std::string, std::string> metadata = {
      {"format", kFormat},
      {"version", kVersion},
      {"epoch", std::to_string(info.epoch)},
      {"step", std::to_string(info.step)},
      {"config", json::dump(nlohmann::ordered_json(info.config))},
      {"classes", json::dump(nlohmann::ordered_json(info.classes))},
      {"rng_state", rng_to_hex(info.rng_state)},
  };
  if (average) metadata["average_updates"] = std::to_string(average->updates());
  save_safetensors(path, tensors, metadata);
}

Snapshot load_snapshot(const std::string& path) {
  SafetensorsContents contents = load_safetensors_with_metadata(path);
  const auto& metadata = contents.metadata;
  const auto format = metadata.find("format");
  MASKDET_CHECK(format != metadata.end() && format->second == kFormat, "snapshot ", path,
                ": not a maskdet training snapshot (no format \"", kFormat,
                "\" in its metadata); to start from torchvision weights use `maskdet train --weights`");
  const std::string& version = metadata_field(metadata, "version", path);
  MASKDET_CHECK(version == kVersion, "snapshot ", path, ": version ", version, ", this maskdet reads version ", kVersion);

  Snapshot snapshot;
  snapshot.path = path;
  snapshot.info.epoch = std::stoll(metadata_field(metadata, "epoch", path));
  snapshot.info.step = std::stoll(metadata_field(metadata, "step", path));
  snapshot.info.rng_state = rng_from_hex(metadata_field(metadata, "rng_state", path), path);
  try {
    const nlohmann::ordered_json config = json::parse(metadata_field(metadata, "config", path));
    MASKDET_CHECK(config.is_object(), "config is not a JSON object");
    for (const auto& [name, value] : config.items()) {
      MASKDET_CHECK(value.is_string(), "config '", name, "' is not a string");
      snapshot.info.config[name] = value.get<std::string>();
    }
    const nlohmann::ordered_json classes = json::parse(metadata_field(metadata, "classes", path));
    MASKDET_CHECK(classes.is_array(), "classes is not a JSON array");
    for (const auto& name : classes) {
      MASKDET_CHECK(name.is_string(), "a class name is not a string");
      snapshot.info.classes.push_back(name.get<std::string>());
    }
  } catch (const Error& e) {
    MASKDET_FAIL("snapshot ", path, ": malformed config or classes: ", e.what());
  }
  const std::string model_prefix = kModelPrefix, optimizer_prefix = kOptimizerPrefix, average_prefix = kAveragePrefix;
  // The file keeps entries by name, not in state_dict order; both loads look them up by name.
  for (auto& [name, tensor] : contents.tensors) {
    if (name.rfind(model_prefix, 0) == 0) snapshot.model[name.substr(model_prefix.size())] = tensor;
    else if (name.rfind(optimizer_prefix, 0) == 0) snapshot.optimizer.emplace_back(name.substr(optimizer_prefix.size()), tensor);
    else if (name.rfind(average_prefix, 0) == 0) snapshot.average[name.substr(average_prefix.size())] = tensor;
    else MASKDET_FAIL("snapshot ", path, ": unexpected tensor '", name, "'");
  }
  MASKDET_CHECK(!snapshot.model.empty(), "snapshot ", path, ": holds no model weights");
  if (!snapshot.average.empty()) {
    const std::string& updates = metadata_field(metadata, "average_updates", path);
    try {
      snapshot.average_updates = std::stoll(updates);
    } catch (const std::exception&) {
      MASKDET_FAIL("snapshot ", path, ": metadata 'average_updates' is '", updates, "', not a whole number");
    }
  }
  return snapshot;
}

void load_snapshot_model(nn::Module& model, const Snapshot& snapshot, SnapshotWeights weights) {
  const bool averaged = weights == SnapshotWeights::AverageIfAny && !snapshot.average.empty();
  const std::map<std::string, Tensor>& entries = averaged ? snapshot.average : snapshot.model;
  std::map<std::string, Tensor> own;
  for (auto& [name, tensor] : model.state_dict()) own[name] = tensor;
  std::map<std::string, Tensor> loadable;
  std::vector<std::string> other_shape;
  for (const auto& [name, tensor] : entries) {
    const auto it = own.find(name);
    if (it != own.end() && (it->second.shape() != tensor.shape() || it->second.dtype() != tensor.dtype()))
      other_shape.push_back(name + " (the model's " + shape_str(it->second.shape()) + " " + dtype_name(it->second.dtype()) +
                            ", the snapshot's " + shape_str(tensor.shape()) + " " + dtype_name(tensor.dtype()) + ")");
    else
      loadable[name] = tensor;
  }
  const nn::LoadResult result = model.load_state_dict(loadable, /*strict=*/false);
  std::vector<std::string> missing;
  for (const auto& name : result.missing_keys)
    if (!entries.count(name)) missing.push_back(name);
  if (missing.empty() && result.unexpected_keys.empty() && other_shape.empty()) return;
  std::string counts, lists;
  const auto add = [&](const std::vector<std::string>& names, const char* what) {
    if (names.empty()) return;
    counts += (counts.empty() ? "" : ", ") + std::to_string(names.size()) + " " + what;
    lists += std::string("\n  ") + what + ":";
    for (size_t i = 0; i < names.size() && i < 20; ++i) lists += " " + names[i];
    if (names.size() > 20) lists += " ... (" + std::to_string(names.size() - 20) + " more)";
  };
  add(missing, "missing");
  add(result.unexpected_keys, "unexpected");
  add(other_shape, "of another shape");
  MASKDET_FAIL("snapshot ", snapshot.path, averaged ? "'s weight average" : "",
               " does not fit the model its settings describe (", counts, ", of the model's ",
               own.size(), " entries): a damaged file, or one from another version of maskdet", lists);
}

std::string resolve_snapshot(const std::string& path) {
  std::error_code ec;
  MASKDET_CHECK(fs::exists(path, ec), "snapshot ", path, " not found");
  if (!fs::is_directory(path, ec)) return path;
  const auto found = epoch_snapshots(path);
  MASKDET_CHECK(!found.empty(), "snapshot folder ", path, " holds no epoch_<N>.safetensors");
  return found.back().second.string();
}

std::string snapshot_file(const std::string& dir, int64_t epoch) {
  char name[64];
  std::snprintf(name, sizeof name, "epoch_%03" PRId64 ".safetensors", epoch);
  return (fs::path(dir) / name).string();
}

void prune_snapshots(const std::string& dir, int keep) {
  if (keep <= 0) return;
  const auto found = epoch_snapshots(dir);
  for (size_t i = 0; i + static_cast<size_t>(keep) < found.size(); ++i) {
    std::error_code ec;
    fs::remove(found[i].second, ec);
  }
}

int remove_snapshots_after(const std::string& dir, int64_t epoch) {
  int removed = 0;
  for (const auto& [number, file] : epoch_snapshots(dir)) {
    std::error_code ec;
    if (number > epoch && fs::remove(file, ec)) ++removed;
  }
  return removed;
}

}  // namespace maskdet::app
