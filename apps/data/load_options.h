// How strictly a data set is read: what to do with a box that leaves its image, how far to
// check the image files, whether a bad sample stops the load or is skipped and counted, and
// the LoadReport that collects what was skipped or changed so a run can say so once.
#pragma once
#include <cstddef>
#include <iostream>
#include <string>
#include <vector>

namespace maskdet::data {

enum class OutOfImagePolicy {
  Clip,    // clip the box to the image and note a warning (labelImg can leave boxes a pixel over)
  Reject,  // treat the box as bad input
};

enum class ImageCheck {
  None,     // trust the annotation's path
  Exists,   // the file must exist (a stat per image)
  Decodes,  // the file must decode; its real size is used for the box checks (slow: decodes all)
};

struct LoadOptions {
  bool skip_bad = false;  // leave bad samples out (and count them) instead of throwing
  OutOfImagePolicy out_of_image = OutOfImagePolicy::Clip;
  ImageCheck check_images = ImageCheck::Exists;
  std::string voc_split;           // devkit only: ImageSets/Main/<split>.txt; empty = every XML file
  std::ostream* log = &std::cerr;  // where load_dataset prints its report summary; nullptr = silent
};

class LoadReport {
 public:
  explicit LoadReport(size_t max_kept_messages = 5) : max_kept_(max_kept_messages) {}

  void skip(std::string reason);
  void warn(std::string message);

  size_t skipped() const { return skipped_; }
  size_t warnings() const { return warnings_; }
  // The first few of each, in the order they happened.
  const std::vector<std::string>& skip_reasons() const { return skip_reasons_; }
  const std::vector<std::string>& warning_messages() const { return warning_messages_; }
  // "3 bad samples skipped:" and why, then "1 warning:" and it (the first few of each), or ""
  // when nothing happened.
  std::string summary() const;

 private:
  size_t max_kept_;
  size_t skipped_ = 0, warnings_ = 0;
  std::vector<std::string> skip_reasons_, warning_messages_;
};

}  // namespace maskdet::data
