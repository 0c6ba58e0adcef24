// Appending and trimming the training logs (training_log.h).
#include "apps/maskdet/training_log.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "apps/data/text_fields.h"
#include "tensor/atomic_file.h"
#include "tensor/json_text.h"

namespace maskdet::app {

namespace {

namespace fs = std::filesystem;

std::string number(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.9g", v);
  return buffer;
}

std::string optional_number(const std::optional<double>& v) { return v ? number(*v) : ""; }

// The epoch a log row belongs to: the first CSV field, or the "epoch" of a JSON line (however it
// is spaced: earlier versions wrote "epoch": 1).
std::optional<int64_t> row_epoch(const std::string& row) {
  if (row.starts_with('{')) {
    try {
      const nlohmann::ordered_json line = json::parse(row);
      const auto epoch = line.find("epoch");
      if (epoch != line.end() && epoch->is_number_integer()) return epoch->get<int64_t>();
    } catch (const json::ParseError&) {
      // a line cut short by a crash: no epoch, dropped
    }
    return std::nullopt;
  }
  return data::parse_integer(row.substr(0, row.find(',')));
}

// Rewrites `path` without the rows of epochs after `keep_through_epoch` (headers stay).
void trim_log(const std::string& path, int64_t keep_through_epoch) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return;
  std::string kept;
  data::for_each_line(data::read_text_file(path, "training log"), [&](size_t line_number, std::string_view line) {
    const auto epoch = row_epoch(std::string(line));
    const bool header = line_number == 1 && !epoch && !line.starts_with('{');  // the CSV logs' first row
    if (header || (epoch && *epoch <= keep_through_epoch)) kept.append(line).append("\n");
  });
  write_file_atomically(path, kept);
}

std::ofstream open_log(const std::string& path, bool append, const std::string& header) {
  const bool existed = append && fs::exists(path);
  std::ofstream out(path, append ? std::ios::app : std::ios::trunc);
  MASKDET_CHECK(out.good(), "cannot write the training log ", path);
  if (!existed && !header.empty()) out << header << "\n" << std::flush;
  return out;
}

std::vector<std::vector<std::string>> read_csv(const std::string& path) {
  std::vector<std::vector<std::string>> rows;
  std::error_code ec;
  if (!fs::exists(path, ec)) return rows;
  data::for_each_line(data::read_text_file(path, "training log"), [&](size_t, std::string_view line) {
    if (auto fields = data::split_csv_line(line)) rows.push_back(std::move(*fields));
  });
  return rows;
}

int column(const std::vector<std::string>& header, const std::string& name) {
  for (size_t i = 0; i < header.size(); ++i)
    if (header[i] == name) return static_cast<int>(i);
  return -1;
}

}  // namespace

TrainingLog::TrainingLog(const std::string& dir, std::vector<std::string> classes, int64_t keep_through_epoch)
    : dir_(dir), classes_(std::move(classes)) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  MASKDET_CHECK(!ec, "cannot create the snapshot folder ", dir, ": ", ec.message());
  const bool resume = keep_through_epoch >= 0;
  if (resume)
    for (const char* file : {kStepsFile, kEpochsFile, kEpochsJsonFile}) trim_log(path(file), keep_through_epoch);
  std::string epochs_header =
      "epoch,step,loss,classification,regression,lr,seconds,images_per_second,val_map50,val_map,val_precision,"
      "val_recall";
  for (const auto& name : classes_) epochs_header += ",ap50_" + name;
  steps_ = open_log(path(kStepsFile), resume, "epoch,step,loss,classification,regression,lr");
  epochs_ = open_log(path(kEpochsFile), resume, epochs_header);
  epochs_json_ = open_log(path(kEpochsJsonFile), resume, "");
}

std::string TrainingLog::path(const char* file) const { return (fs::path(dir_) / file).string(); }

void TrainingLog::log_step(int64_t epoch, int64_t step, const LossValues& loss, double lr) {
  steps_ << epoch << "," << step << "," << number(loss.total) << "," << number(loss.classification) << ","
         << number(loss.regression) << "," << number(lr) << "\n"
         << std::flush;
}

void TrainingLog::log_epoch(const EpochRecord& r) {
  const eval::EvalResult* v = r.validation ? &*r.validation : nullptr;
  epochs_ << r.epoch << "," << r.step << "," << number(r.mean_loss.total) << "," << number(r.mean_loss.classification)
          << "," << number(r.mean_loss.regression) << "," << number(r.lr) << "," << number(r.seconds) << ","
          << number(r.images_per_second) << "," << (v ? optional_number(v->map50) : "") << ","
          << (v ? optional_number(v->map) : "") << "," << (v ? optional_number(v->precision) : "") << ","
          << (v ? optional_number(v->recall) : "");
  for (size_t c = 0; c < classes_.size(); ++c)
    epochs_ << "," << (v && c < v->per_class.size() ? optional_number(v->per_class[c].ap50) : "");
  epochs_ << "\n" << std::flush;

  const nlohmann::ordered_json line = {{"epoch", r.epoch},
                                       {"step", r.step},
                                       {"loss", r.mean_loss.total},
                                       {"classification", r.mean_loss.classification},
                                       {"regression", r.mean_loss.regression},
                                       {"lr", r.lr},
                                       {"seconds", r.seconds},
                                       {"images_per_second", r.images_per_second},
                                       {"validation", v ? nlohmann::ordered_json(*v) : nlohmann::ordered_json(nullptr)}};
  epochs_json_ << json::dump(line) << "\n" << std::flush;
}

eval::TrainingCurves TrainingLog::read_curves(const std::string& dir) {
  eval::TrainingCurves curves;
  const auto steps = read_csv((fs::path(dir) / kStepsFile).string());
  if (!steps.empty()) {
    const int step = column(steps[0], "step"), loss = column(steps[0], "loss");
    for (size_t i = 1; i < steps.size() && step >= 0 && loss >= 0; ++i) {
      const auto s = data::parse_number(steps[i][step]);
      const auto l = data::parse_number(steps[i][loss]);
      if (s && l) {
        curves.step.push_back(*s);
        curves.loss.push_back(*l);
      }
    }
  }
  const auto epochs = read_csv((fs::path(dir) / kEpochsFile).string());
  if (!epochs.empty()) {
    const int epoch = column(epochs[0], "epoch"), map50 = column(epochs[0], "val_map50"),
              map = column(epochs[0], "val_map");
    for (size_t i = 1; i < epochs.size() && epoch >= 0 && map50 >= 0 && map >= 0; ++i) {
      const auto e = data::parse_number(epochs[i][epoch]);
      const auto m50 = data::parse_number(epochs[i][map50]);
      const auto m = data::parse_number(epochs[i][map]);
      if (e && m50) {
        curves.epoch.push_back(*e);
        curves.map50.push_back(*m50);
        curves.map.push_back(m ? *m : std::nan(""));
      }
    }
  }
  return curves;
}

}  // namespace maskdet::app
