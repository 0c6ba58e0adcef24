// keras-retinanet's CSV format through the `maskdet` program: the same synthetic faces written as
// `path,x1,y1,x2,y2,class` rows (an image without faces as `path,,,,,`) and a `class,id` file
// train a detector, and evaluate reads the classes in the file's order. A few seconds.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "apps/data_io/load_dataset.h"
#include "apps/data_io/synthetic_voc.h"
#include "cli/cli_test_util.h"
#include "data/data_test_util.h"

namespace maskdet::cli_test {
namespace {

class CsvData : public data::test::TempDirTest {};

TEST_F(CsvData, TrainsAndEvaluatesFromAnnotationsAndClassesFiles) {
  const std::string voc = path("voc");
  data::write_synthetic_voc(voc, 24, 3);
  data::LoadOptions quiet;
  quiet.log = nullptr;
  const data::Dataset faces = data::load_dataset(voc, "", quiet);
  ASSERT_EQ(faces.images.size(), 24u);

  // Class ids in the file reversed against the sorted names, so a reader that ignores them shows.
  const std::string annotations = path("annotations.csv"), classes = path("classes.csv");
  std::ofstream(classes) << "noMask,0\nmask,1\n";
  std::ofstream rows(annotations);
  rows << path("empty.jpg") << ",,,,,\n";
  std::filesystem::copy_file(faces.images[0].image_path, path("empty.jpg"));
  for (const auto& image : faces.images)
    for (const auto& box : image.boxes)
      rows << image.image_path << "," << box.x1 << "," << box.y1 << "," << box.x2 << "," << box.y2 << ","
           << faces.classes[static_cast<size_t>(box.class_id)] << "\n";
  rows.close();

  const std::string run = path("run");
  const CommandResult train =
      run_maskdet("train --data " + annotations + " --classes " + classes + " --snapshot-path " + run +
                  " --backbone resnet18 --epochs 1 --steps 2 --batch-size 2 --image-min-side 128 --image-max-side 160");
  ASSERT_EQ(train.exit_code, 0) << train.output;
  EXPECT_NE(train.output.find("training on 20 images"), std::string::npos)
      << "25 images (one without faces), 20 % held out\n" << train.output;
  ASSERT_TRUE(std::filesystem::exists(run + "/epoch_001.safetensors"));

  // The first pass only: this test is about the classes' order (the small-face pass: small_faces_test.cpp).
  const CommandResult evaluate = run_maskdet("evaluate --snapshot " + run + " --min-face 0 --out " + path("evaluation"));
  ASSERT_EQ(evaluate.exit_code, 0) << evaluate.output;
  const size_t no_mask = evaluate.output.find("\nnoMask "), mask = evaluate.output.find("\nmask ");
  ASSERT_NE(no_mask, std::string::npos) << evaluate.output;
  ASSERT_NE(mask, std::string::npos) << evaluate.output;
  EXPECT_LT(no_mask, mask) << "rows in the classes file's order (noMask is id 0)\n" << evaluate.output;

  const CommandResult unknown = run_maskdet("train --data " + annotations + " --classes " + path("missing.csv"));
  EXPECT_EQ(unknown.exit_code, 1) << unknown.output;
  EXPECT_NE(unknown.output.find("missing.csv"), std::string::npos) << unknown.output;
}

}  // namespace
}  // namespace maskdet::cli_test
