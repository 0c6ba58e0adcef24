// libFuzzer target: any bytes given to the keras-retinanet CSV readers (annotations, with and
// without skip_bad, then the shared box checks; and the classes file) either parse or raise
// maskdet::Error. With skip_bad nothing may throw at all.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "apps/data/keras_csv.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace maskdet::data;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  LoadOptions options;
  options.check_images = ImageCheck::None;
  try {
    LoadReport report;
    assemble_dataset(parse_keras_csv(text, "fuzz.csv", "base", false, report), {}, options, report);
  } catch (const maskdet::Error&) {
  }
  options.skip_bad = true;
  LoadReport report;
  assemble_dataset(parse_keras_csv(text, "fuzz.csv", "base", true, report), {}, options, report);
  try {
    parse_classes_csv(text, "fuzz_classes.csv");
  } catch (const maskdet::Error&) {
  }
  return 0;
}
